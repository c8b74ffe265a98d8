"""A rollback deploys the older version's own model, by the hash its commit records: from git when tracked, else
through DVC's cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.example_fixtures import git, make_branch

from mlgate.adapters.dvc_outputs import DvcReadError
from mlgate.adapters.dvc_repo import open_project
from mlgate.adapters.modelfile import approved_model


@pytest.mark.slow
def test_dvc_tracked_model_of_an_older_commit(example_repo: Path, tmp_path: Path) -> None:
    first = git(example_repo, "rev-parse", "HEAD")
    first_model = (example_repo / "model.pkl").read_bytes()
    make_branch(example_repo, "stronger-regularisation", {"train": {"C": 0.01}})
    assert (example_repo / "model.pkl").read_bytes() != first_model  # the checkout now holds the new model
    first_lock = git(example_repo, "show", f"{first}:dvc.lock")
    restored = approved_model(open_project(example_repo), example_repo / "model.pkl", first, tmp_path / "v0.0.1")
    assert restored.path == tmp_path / "v0.0.1" / "model.pkl"
    assert restored.path.read_bytes() == first_model
    assert restored.md5 in first_lock and restored.recorded_in == "dvc.lock stage 'train'"


def test_git_tracked_model_and_a_missing_one(tmp_path: Path, git_identity: None) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    (repo / "models").mkdir()
    (repo / "models" / "model.bin").write_bytes(b"\x00old")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "old")
    old = git(repo, "rev-parse", "HEAD")
    (repo / "models" / "model.bin").write_bytes(b"\x00new")
    git(repo, "commit", "--quiet", "-am", "new")
    # the config may live in a subdirectory: paths are relative to it
    project = open_project(repo / "models")
    restored = approved_model(project, repo / "models" / "model.bin", old, tmp_path / "out")
    assert restored.path.read_bytes() == b"\x00old" and restored.recorded_in == "git"
    with pytest.raises(DvcReadError, match=r"is neither committed to git nor recorded by DVC .* at commit [0-9a-f]{7}"):
        approved_model(project, repo / "models" / "nope.bin", old, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == [restored.path]
