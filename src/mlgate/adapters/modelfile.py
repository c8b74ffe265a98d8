"""The model file as it was at an older commit (for a rollback): from git when tracked, else through DVC."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlgate.errors import InputError


def model_at(root: Path, path: str, commit: str, dest_dir: Path) -> Path:
    """Write `path` (relative to `root`) as of `commit` into `dest_dir`; return the written file.

    A DVC-tracked model is not in git: DVC reads it from its cache or remote, as `dvc get --rev` would.
    """
    dest = dest_dir / Path(path).name
    dest_dir.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    with partial.open("wb") as out:
        from_git = subprocess.run(
            ["git", "cat-file", "blob", f"{commit}:./{path}"], cwd=root, stdout=out, stderr=subprocess.DEVNULL
        )
    if from_git.returncode == 0:
        partial.replace(dest)
        return dest
    partial.unlink()
    prefix = subprocess.run(
        ["git", "rev-parse", "--show-toplevel", "--show-prefix"], cwd=root, capture_output=True, text=True
    ).stdout.splitlines()
    top, in_repo = Path(prefix[0]), (prefix[1] if len(prefix) > 1 else "") + path
    try:
        import dvc.api

        with dvc.api.open(in_repo, repo=str(top), rev=commit, mode="rb") as source, partial.open("wb") as out:
            shutil.copyfileobj(source, out)
    except Exception as exc:  # DVC raises many types (no DVC repo, missing cache, no remote): one sentence
        partial.unlink(missing_ok=True)
        raise InputError(
            f"cannot read the model '{path}' as of commit {commit[:7]} from git or DVC "
            f"({type(exc).__name__}: {exc}); fetch that commit's model (dvc pull/fetch) and retry"
        ) from None
    partial.replace(dest)
    return dest
