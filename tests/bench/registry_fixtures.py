"""Real git repositories for registry and deploy tests: a bare `origin` and a clone of it, under the same
hermetic git environment as the example repository (fixed identity, no user or system git config)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.example_fixtures import hermetic_env, run_in

GTO = str(Path(sys.executable).parent / "gto")


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return run_in(cwd, "git", *args, env=env).strip()


@dataclass
class Repo:
    path: Path

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        return git(self.path, *args, env=env)

    def commit(self, message: str = "change", files: dict[str, str] | None = None) -> str:
        for name, text in (files or {"history.txt": message}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", name)
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def tags(self) -> dict[str, str]:
        """Tag name -> commit it points at."""
        out = self.git("for-each-ref", "--format=%(refname:strip=2) %(*objectname)%(objectname)", "refs/tags/")
        # annotated tags print "<peeled><tag object>", lightweight ones "<commit>": keep the first 40 hex
        return {line.split()[0]: line.split()[1][:40] for line in out.splitlines()}


@dataclass
class Clone(Repo):
    origin: Path

    def origin_tags(self) -> dict[str, str]:
        return Repo(self.origin).tags()

    def push(self) -> None:
        self.git("push", "--quiet", "origin", "HEAD:refs/heads/main")

    def second_clone(self, path: Path) -> Clone:
        git(path.parent, "clone", "--quiet", str(self.origin), str(path))
        return Clone(path, self.origin)


def mlgate(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, without MLGATE_*/GITHUB_* variables of the machine running the tests."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def gto(cwd: Path, *args: str) -> str:
    result = subprocess.run([GTO, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"gto {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


@pytest.fixture
def git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The hermetic git environment for the whole test, so mlgate's own git calls see it too."""
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def clone(tmp_path: Path, git_identity: None) -> Iterator[Clone]:
    """A clone with one commit on main, pushed to its bare `origin`."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(origin), str(work))
    repo = Clone(work, origin)
    repo.git("checkout", "--quiet", "-B", "main")
    repo.commit("initial")
    repo.push()
    repo.git("remote", "set-head", "origin", "main")
    yield repo
