"""What DVC knows about a project's pipeline that git alone cannot say: which stage produces a file, and
whether data can be pushed anywhere."""

from __future__ import annotations

from pathlib import Path


def producing_stage(root: Path, path: Path) -> str | None:
    """The address (`prepare`, `sub/dvc.yaml:prepare`) of the dvc.yaml stage whose outs hold `path`, for
    `dvc repro`; None when no pipeline stage produces it (a `dvc add`/`dvc import` file, or not DVC's)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    try:
        with Repo(str(root.resolve())) as repo:
            outs = repo.find_outs_by_path(str(path.resolve()))
    except DvcException:
        return None
    stages = [out.stage for out in outs if isinstance(out.stage, PipelineStage)]
    return stages[0].addressing if stages else None


def default_remote(root: Path) -> str | None:
    """The DVC remote `dvc push` uses without `-r`, or None when none is configured."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(root.resolve())) as repo:
            return repo.config["core"].get("remote") or None
    except DvcException:
        return None
