"""The example repository as a user's CI sees it: a git remote to clone, a local-directory DVC remote holding the
pipeline's outputs, and clean checkouts (`git clone`: only what git tracks, an empty DVC cache).

`dvc_origin` (session) is `example_template` with a default DVC remote `store` (a directory beside it, committed in
.dvc/config) that `dvc push` filled; `clean_checkout(origin, dest, remote=False)` clones it and, without a remote,
removes `store` from the clone's .dvc/config, as in a repository that never configured one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.example_fixtures import dvc, git, run_in

DVC_REMOTE = "store"


@pytest.fixture(scope="session")
def dvc_origin(example_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reproduced example repository with its outputs pushed to a local-directory DVC remote."""
    base = tmp_path_factory.mktemp("dvc-origin")
    repo = base / "origin"
    shutil.copytree(example_template, repo, symlinks=True)
    dvc(repo, "remote", "add", "--default", DVC_REMOTE, str(base / "dvc-remote"))
    git(repo, "commit", "--quiet", "--all", "--message", "DVC remote: a local directory")
    dvc(repo, "push", "--quiet")
    return repo


def clean_checkout(origin: Path, dest: Path, *, remote: bool = True) -> Path:
    """`git clone` of `origin` at `dest`: what actions/checkout leaves, nothing DVC-managed present."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    run_in(dest.parent, "git", "clone", "--quiet", str(origin), dest.name)
    if not remote:
        dvc(dest, "remote", "remove", DVC_REMOTE)
    return dest


def cached_objects(repo: Path) -> list[Path]:
    """The objects in `repo`'s DVC cache."""
    cache = repo / ".dvc" / "cache"
    return sorted(p for p in cache.rglob("*") if p.is_file() and "runs" not in p.relative_to(cache).parts)
