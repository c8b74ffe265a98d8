"""Publishing a retrain commit with real git: a private index, an atomic push under a lease, clean refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.example_fixtures import git, hermetic_env
from bench.retrain_fixtures import reject_pushes, write_hook

from mlgate.adapters import git_publish
from mlgate.adapters.git_publish import PushRejected, RefUpdate

BRANCH = "refs/heads/mlgate/retrain"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone on main with two files, pushed to a bare origin."""
    for name, value in hermetic_env(tmp_path / "work").items():
        monkeypatch.setenv(name, value)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(origin), str(work))
    git(work, "checkout", "--quiet", "-B", "main")
    (work / "dvc.lock").write_text("v1\n")
    (work / "code.py").write_text("print(1)\n")
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "initial")
    git(work, "push", "--quiet", "origin", "main")
    return work


def origin(repo: Path) -> Path:
    return repo.parent / "origin.git"


def test_commit_onto_leaves_head_index_and_worktree_alone(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "dvc.lock").write_text("v2\n")
    (repo / "code.py").write_text("print(2)\n")
    (repo / "new.dvc").write_text("outs: []\n")
    git(repo, "add", "code.py")  # the user's own staged change must stay staged, and out of our commit
    before = git(repo, "status", "--porcelain")

    sha = git_publish.commit_onto(repo, base, ["dvc.lock", "new.dvc"], "retrain\n\nwhy\n", {})

    assert git(repo, "rev-parse", "HEAD") == base and git(repo, "status", "--porcelain") == before
    assert git(repo, "rev-parse", f"{sha}^") == base
    assert git(repo, "show", f"{sha}:dvc.lock") == "v2" and git(repo, "show", f"{sha}:code.py") == "print(1)"
    assert git(repo, "show", f"{sha}:new.dvc") == "outs: []"
    assert git(repo, "log", "-1", "--format=%B", sha) == "retrain\n\nwhy"


def test_a_deleted_path_is_deleted_in_the_commit(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "dvc.lock").unlink()
    sha = git_publish.commit_onto(repo, base, ["dvc.lock"], "drop", {})
    assert git(repo, "ls-tree", "--name-only", sha) == "code.py"


def test_changed_lists_modified_deleted_renamed_and_new_files(repo: Path) -> None:
    (repo / "dvc.lock").write_text("v2\n")
    git(repo, "mv", "code.py", "moved code.py")
    (repo / "data").mkdir()
    (repo / "data" / "fresh.csv").write_text("a\n1\n")
    assert git_publish.changed(repo) == ["code.py", "data/fresh.csv", "dvc.lock", "moved code.py"]
    assert git_publish.modified_tracked(repo) == ["code.py", "dvc.lock", "moved code.py"]
    git_publish.restore(repo, git_publish.modified_tracked(repo))
    assert git_publish.changed(repo) == ["data/fresh.csv"]
    assert (repo / "code.py").read_text() == "print(1)\n"


def test_push_creates_then_moves_the_branch_under_a_lease(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "dvc.lock").write_text("v2\n")
    first = git_publish.commit_onto(repo, base, ["dvc.lock"], "one", {})
    assert git_publish.remote_ref(repo, "origin", BRANCH) is None
    git_publish.push(repo, "origin", [RefUpdate(BRANCH, first, None)])
    assert git_publish.remote_ref(repo, "origin", BRANCH) == first

    (repo / "dvc.lock").write_text("v3\n")
    second = git_publish.commit_onto(repo, base, ["dvc.lock"], "two", {})  # not a fast-forward of `first`
    with pytest.raises(PushRejected, match="stale info"):  # someone else's value: the lease protects it
        git_publish.push(repo, "origin", [RefUpdate(BRANCH, second, base)])
    git_publish.push(repo, "origin", [RefUpdate(BRANCH, second, first)])
    assert git_publish.remote_ref(repo, "origin", BRANCH) == second
    with pytest.raises(PushRejected):  # "must not exist yet" while it does
        git_publish.push(repo, "origin", [RefUpdate(BRANCH, first, None)])
    git_publish.push(repo, "origin", [RefUpdate(BRANCH, None, second)])  # delete, as an undo does
    assert git_publish.remote_ref(repo, "origin", BRANCH) is None


def test_a_rejected_push_says_why_and_changes_nothing(repo: Path) -> None:
    reject_pushes(origin(repo), "retraining is paused until Monday")
    base = git(repo, "rev-parse", "HEAD")
    sha = git_publish.commit_onto(repo, base, [], "empty", {})
    with pytest.raises(PushRejected) as caught:
        git_publish.push(repo, "origin", [RefUpdate(BRANCH, sha, None)])
    message = caught.value.message
    assert "pre-receive hook declined" in message and "retraining is paused until Monday" in message
    assert message.endswith("nothing was changed on origin")
    assert git(origin(repo), "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_the_push_is_atomic_across_refs(repo: Path) -> None:
    # an update hook judges each ref on its own: it lets the branch through and refuses the tag
    write_hook(origin(repo), "update", '#!/bin/sh\ncase "$1" in refs/tags/*) echo "no tags" >&2; exit 1;; esac\n')
    base = git(repo, "rev-parse", "HEAD")
    sha = git_publish.commit_onto(repo, base, [], "empty", {})
    with pytest.raises(PushRejected, match="no tags"):
        git_publish.push(repo, "origin", [RefUpdate(BRANCH, sha, None), RefUpdate("refs/tags/v1", sha, None)])
    assert git(origin(repo), "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_identity_falls_back_to_the_actions_bot_or_mlgate(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git_publish.identity_env(repo, in_actions=True) == {}  # the hermetic test identity is there
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("EMAIL", "")
    monkeypatch.setenv("HOME", str(repo.parent))
    if git_publish.identity_env(repo, in_actions=False) == {}:
        pytest.skip("git derives an identity from this machine's user and host names")
    bot = git_publish.identity_env(repo, in_actions=True)
    assert bot["GIT_AUTHOR_NAME"] == "github-actions[bot]" and bot["GIT_COMMITTER_EMAIL"].endswith("noreply.github.com")
    sha = git_publish.commit_onto(repo, git(repo, "rev-parse", "HEAD"), [], "by the bot", bot)
    assert git(repo, "log", "-1", "--format=%an <%ae>", sha) == f"{bot['GIT_AUTHOR_NAME']} <{bot['GIT_AUTHOR_EMAIL']}>"
    assert os.environ.get("GIT_AUTHOR_NAME") is None
