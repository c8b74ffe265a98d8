"""Every read has a time bound as well as a size bound (issue #17).

A user's file that could block (a FIFO, a device) is refused by `stat` before it is opened (the corpus files
beside this one). What is left is what mlgate waits on: git, which may wait on a remote that does not answer or
on a prompt, and the commands it starts (DVC stages, the deploy command), which must never wait on our stdin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.example_fixtures import git

from mlgate.adapters import git as git_adapter
from mlgate.adapters import gittags
from mlgate.errors import InputError


def silent_remote(tmp_path: Path) -> Path:
    """A clone whose origin accepts the connection and then says nothing (its upload-pack sleeps)."""
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    git(tmp_path, "init", "--quiet", str(origin))
    git(origin, "commit", "--quiet", "--allow-empty", "--message", "base")
    git(tmp_path, "clone", "--quiet", str(origin), str(clone))
    git(clone, "config", "remote.origin.uploadpack", "sleep 5 #")
    return clone


def test_a_fetch_from_a_remote_that_never_answers_stops_at_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare fetches a base commit missing from a shallow clone; the registry and the report's assets fetch
    and push refs. A silent remote used to hang the step until the job's timeout: now the bound ends it, named."""
    clone = silent_remote(tmp_path)
    monkeypatch.setattr(git_adapter, "GIT_TIMEOUT_S", 1)
    with pytest.raises(InputError, match=r"^git fetch did not finish within 1 s"):
        git_adapter.fetch_commit(clone, "f" * 40, depth=1)
    with pytest.raises(InputError, match=r"^git fetch did not finish within 1 s"):
        gittags.git_process(clone, "fetch", "--quiet", "origin", "refs/tags/*:refs/tags/*")


def test_git_never_waits_on_our_stdin(tmp_path: Path) -> None:
    """A git command that reads stdin (here `hash-object --stdin`) gets an empty one unless mlgate passes input:
    mlgate's own stdin, a pipe nobody closes here, is never handed on."""
    code = (
        "import sys; from pathlib import Path; from mlgate.adapters import git, gittags\n"
        "print(git.run_git(Path('.'), 'hash-object', '--stdin').decode().strip())\n"
        "print(gittags.git_process(Path('.'), 'hash-object', '--stdin').stdout.strip())\n"
    )
    git(tmp_path, "init", "--quiet")
    given, held_open = os.pipe()  # our end stays open: whoever reads `given` waits for an end that never comes
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, stdin=given, capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail("git waited on the stdin mlgate was given")
    finally:
        os.close(given)
        os.close(held_open)
    out = done.stdout
    empty_blob = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert out.split() == [empty_blob, empty_blob], out
