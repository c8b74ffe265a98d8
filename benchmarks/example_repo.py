"""The example ML repository (examples/) as a real git + DVC repository with a history of commits, built the way
tests/bench/example_fixtures.py builds it (same helpers, same hermetic git/dvc environment): the first commit is
examples/ reproduced, each later commit on main changes `train` params and commits the reproduced pipeline, and
the last commit is a pull-request branch `pr` off main, left checked out (with a single commit: main alone, which
is exactly the fixtures' `example_template`).

Building runs `dvc repro` once per commit, so it is done once per history length and examples/ content, in the
cache directory, and each benchmark works on its own copy.

    python -m benchmarks.example_repo DIR --commits 50
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from benchmarks.harness import REPO_ROOT, Context, bench_env, measure

BUILDER_VERSION = 1
PR_BRANCH = "pr"
BASE_BRANCH = "main"


def _examples_digest() -> str:
    digest = hashlib.sha256(f"v{BUILDER_VERSION}".encode())
    for path in sorted((REPO_ROOT / "examples").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _params(commit: int) -> dict[str, dict[str, object]]:
    """Commit number → train params: a regularisation sweep and a feature count that both move the metrics."""
    return {"train": {"C": [1.0, 0.5, 2.0, 0.25, 4.0][commit % 5], "n_features": 30 - commit % 7}}


def build(repo: Path, commits: int) -> None:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import yaml
    from bench.example_fixtures import EXAMPLE_DIR, commit_reproduction, dvc, git, make_branch, merge_params

    shutil.copytree(EXAMPLE_DIR, repo, ignore=shutil.ignore_patterns("__pycache__", ".mlgate"))
    git(repo, "init", "--quiet", "-b", BASE_BRANCH)
    dvc(repo, "init", "--quiet")
    commit_reproduction(repo, "Example ML repository, reproduced")
    params_file = repo / "params.yaml"
    for commit in range(1, commits - 1):
        current = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        params_file.write_text(
            yaml.safe_dump(merge_params(current, _params(commit)), sort_keys=False), encoding="utf-8"
        )
        commit_reproduction(repo, f"Tune the model, step {commit}")
    if commits > 1:
        make_branch(repo, PR_BRANCH, _params(commits), base=BASE_BRANCH)


def cached_path(cache_dir: Path, commits: int) -> Path:
    """Where the repository with `commits` commits is kept; with 1 commit it is the fixtures' example_template."""
    return cache_dir / "example-repo" / f"{commits}-{_examples_digest()}" / "repo"


def repository(ctx: Context, commits: int) -> Path:
    """A private copy (in the run's work directory) of the cached repository with `commits` commits."""
    cached = cached_path(ctx.cache_dir, commits)
    if not (cached / ".git").exists():
        print(f"[bench] building the example repository with {commits} commits in {cached}", file=sys.stderr)
        if cached.parent.exists():
            shutil.rmtree(cached.parent)
        cached.parent.mkdir(parents=True)
        measure(ctx.module("example_repo", str(cached), "--commits", str(commits)), timeout=3600)
    copy = ctx.work_dir / f"example-{commits}" / "repo"
    if not copy.exists():
        shutil.copytree(cached, copy, symlinks=True)
    return copy


def repo_env(repo: Path) -> dict[str, str]:
    """bench_env plus the fixtures' hermetic git/dvc variables for `repo`."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from bench.example_fixtures import hermetic_env

    return bench_env(hermetic_env(repo))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.example_repo")
    parser.add_argument("repo", type=Path)
    parser.add_argument("--commits", type=int, required=True)
    args = parser.parse_args(argv)
    build(args.repo, args.commits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
