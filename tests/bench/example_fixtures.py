"""The example ML repository (examples/) as a real git + DVC repository in a temp dir.

`example_template` (session) copies examples/, runs `git init -b main`, `dvc init` and `dvc repro` once and
commits the result on main; `example_repo` (per test) is a copy of it, .git and DVC cache included, so every
test gets its own reproduced repository in milliseconds. `make_branch` turns it into a pull request.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlgate tests",
    "GIT_AUTHOR_EMAIL": "tests@mlgate.invalid",
    "GIT_COMMITTER_NAME": "mlgate tests",
    "GIT_COMMITTER_EMAIL": "tests@mlgate.invalid",
}


def hermetic_env(repo: Path) -> dict[str, str]:
    """Variables that make git and dvc behave the same on every machine inside the test repository `repo`.

    No user or system git config (signing, hooks, default branch), a fixed identity, no DVC analytics, DVC's
    per-repository state kept beside the repository instead of in /var/tmp, and this interpreter's directory
    first on PATH because the pipeline's stages run `python`.
    """
    path = os.environ.get("PATH", "")
    python_dir = str(Path(sys.executable).parent)
    if not path.startswith(python_dir + os.pathsep):
        path = python_dir + os.pathsep + path
    return {
        **GIT_IDENTITY,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(repo.parent / "dvc-site-cache"),
        "PATH": path,
    }


def run_in(repo: Path, *command: str, env: Mapping[str, str] | None = None) -> str:
    """Run `command` in `repo` under the hermetic environment; its stdout, or an error carrying all output."""
    result = subprocess.run(
        command,
        cwd=repo,
        env={**os.environ, **hermetic_env(repo), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode} in {repo}\n{result.stdout}{result.stderr}")
    return result.stdout


def git(repo: Path, *args: str) -> str:
    return run_in(repo, "git", *args).strip()


def dvc(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    return run_in(repo, sys.executable, "-m", "dvc", *args, env=env)


def commit_reproduction(repo: Path, message: str) -> str:
    """`dvc repro`, then commit everything it changed (dvc.lock, metrics.json, predictions); the new sha."""
    dvc(repo, "repro", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def merge_params(params: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with `changes` merged in depth: {"train": {"n_features": 3}} keeps train's other keys."""
    merged = dict(params)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge_params(merged[key], value)
        else:
            merged[key] = value
    return merged


def make_branch(repo: Path, branch: str, params: Mapping[str, Any], base: str = "main") -> str:
    """A pull-request branch off `base` that changes params.yaml and commits the reproduced pipeline.

    Leaves `branch` checked out, as CI checks out a pull request's head; returns its sha.
    """
    git(repo, "checkout", "--quiet", "-b", branch, base)
    params_file = repo / "params.yaml"
    current = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    params_file.write_text(yaml.safe_dump(merge_params(current, params), sort_keys=False), encoding="utf-8")
    return commit_reproduction(repo, f"Change params on {branch}")


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/ as a git + DVC repository whose single commit on main holds the reproduced pipeline."""
    repo = tmp_path_factory.mktemp("example-template") / "repo"
    shutil.copytree(EXAMPLE_DIR, repo, ignore=shutil.ignore_patterns("__pycache__", ".mlgate"))
    git(repo, "init", "--quiet", "-b", "main")
    dvc(repo, "init", "--quiet")
    commit_reproduction(repo, "Example ML repository, reproduced")
    return repo


@pytest.fixture
def example_repo(example_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the reproduced example repository (on main, clean), for a test to change freely.

    The hermetic git/dvc environment is also set for the whole test, so whatever the test runs there (mlgate
    included) commits with the test identity and finds the stages' `python`.
    """
    repo = tmp_path / "repo"
    shutil.copytree(example_template, repo, symlinks=True)
    for name, value in hermetic_env(repo).items():
        monkeypatch.setenv(name, value)
    return repo
