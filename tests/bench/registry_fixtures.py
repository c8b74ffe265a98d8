"""Real git repositories for registry and deploy tests: a bare `origin` and a clone of it, under the same
hermetic git environment as the example repository (fixed identity, no user or system git config)."""

from __future__ import annotations

import contextlib
import io
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


def mlgate_in_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mlgate.cli.main` in this process (same entry point, without a second interpreter paying the imports
    again): cwd, environment (no MLGATE_*/GITHUB_* of the machine) and std streams are swapped in and restored."""
    from mlgate.cli import main

    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    try:
        for key in [k for k in os.environ if k.startswith(("MLGATE_", "GITHUB_"))]:
            del os.environ[key]
        os.environ.update(env or {})
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exit_:
                code = exit_.code
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["mlgate", *args], int(code or 0), out.getvalue(), err.getvalue())


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


DEPLOY_SCRIPT = """#!/bin/sh
# The user's deploy command in the tests: records what it was given, waits at $BARRIER for a racing twin,
# and exits with $DEPLOY_EXIT.
echo "$MLGATE_ENVIRONMENT $MLGATE_MODEL_NAME $MLGATE_MODEL_VERSION $(cat "$MLGATE_MODEL_PATH") \
$MLGATE_MODEL_COMMIT $MLGATE_DEPLOYMENT_ID" >> "$DEPLOY_LOG"
if [ -n "$BARRIER" ]; then
    touch "$BARRIER/$$"
    i=0
    while [ "$(ls "$BARRIER" | wc -l)" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
fi
exit "${DEPLOY_EXIT:-0}"
"""
DEPLOY_CONFIG = """deploy:
  model: model.pkl
  name: churn
  environments: [staging, production]
  command: ./deploy.sh
  environment_url: https://churn.example.com
"""


@dataclass
class DeployRepo(Clone):
    """A clone holding mlgate.yml, a git-tracked model.pkl and ./deploy.sh; its deploys log to `log`."""

    log: Path

    def new_model(self, content: str) -> str:
        sha = self.commit(f"model {content}", {"model.pkl": content})
        self.push()
        return sha

    def gate(self, verdict: str = "pass", sha: str | None = None) -> None:
        """The results bundle of `mlgate compare` for HEAD (or `sha`)."""
        from mlgate.results import StepResult, write_result

        evidence = {"metrics": [{"metric": "accuracy", "base": 0.9, "head": 0.93}]}
        commits = {"base": None, "head": sha or self.head()}
        write_result(self.path / ".mlgate/results", StepResult("compare", verdict, "gate", commits, evidence))

    def deploy(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return mlgate_in_process("deploy", *args, cwd=self.path, env={"DEPLOY_LOG": str(self.log), **(env or {})})

    def deployed(self) -> list[list[str]]:
        """What the deploy command was given, one list per run: environment, name, version, model, commit, id."""
        return [line.split() for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def twin(self, path: Path) -> DeployRepo:
        other = self.second_clone(path)
        return DeployRepo(other.path, other.origin, path.parent / f"{path.name}.log")


@pytest.fixture
def deploy_repo(clone: Clone) -> DeployRepo:
    repo = DeployRepo(clone.path, clone.origin, clone.path.parent / "deploy.log")
    script = repo.path / "deploy.sh"
    script.write_text(DEPLOY_SCRIPT)
    script.chmod(0o755)
    files = {"mlgate.yml": DEPLOY_CONFIG, ".gitignore": ".mlgate/\n", "model.pkl": "model-1"}
    repo.commit("deployable repository", files)
    repo.git("add", "deploy.sh")
    repo.git("commit", "--quiet", "-m", "deploy script")
    repo.push()
    return repo
