"""A rollback deploys the older version's own model: read from git when tracked, else through DVC's cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.example_fixtures import git, make_branch

from mlgate.adapters.modelfile import model_at
from mlgate.errors import InputError


@pytest.mark.slow
def test_dvc_tracked_model_of_an_older_commit(example_repo: Path, tmp_path: Path) -> None:
    first = git(example_repo, "rev-parse", "HEAD")
    first_model = (example_repo / "model.pkl").read_bytes()
    make_branch(example_repo, "stronger-regularisation", {"train": {"C": 0.01}})
    assert (example_repo / "model.pkl").read_bytes() != first_model  # the checkout now holds the new model
    restored = model_at(example_repo, "model.pkl", first, tmp_path / "v0.0.1")
    assert restored == tmp_path / "v0.0.1" / "model.pkl"
    assert restored.read_bytes() == first_model


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
    assert model_at(repo / "models", "model.bin", old, tmp_path / "out").read_bytes() == b"\x00old"
    with pytest.raises(InputError, match=r"cannot read the model 'nope\.bin' as of commit [0-9a-f]{7} from git or DVC"):
        model_at(repo, "nope.bin", old, tmp_path / "out")
    assert not list((tmp_path / "out").glob(".*partial"))
