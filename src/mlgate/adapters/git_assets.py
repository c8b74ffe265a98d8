"""The report's images on an orphan branch of the repository itself (default `mlgate-assets`), so a private
repository's charts stay private and nothing leaves GitHub (CML's `--publish` sends them to a third-party host).

- Each publish is ONE parentless commit: the runs still within the retention (listed in the branch's
  index.json) plus this run's images under `pr-<n>/<sha>/`. Parentless, so a pruned run's images really leave
  the repository (unreachable objects are collected); links name the branch, not a commit, and stay valid
  until their run is pruned.
- The push is guarded by a lease on the tip that was read, and retried from a fresh read when another run
  published in between, so concurrent PRs never drop each other's images.
- The user's checkout is not touched: blobs and the tree are written through a private index.
- A branch of that name without mlgate's index.json is someone else's: it is refused, never overwritten.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from mlgate.adapters.git_publish import PushRejected, RefUpdate, push, remote_ref, run_git
from mlgate.adapters.gittags import git_process
from mlgate.errors import MlgateError

INDEX_FILE = "index.json"
INDEX_SCHEMA = 1
ATTEMPTS = 3


class NotAssetsBranch(MlgateError):
    """The branch exists but was not made by mlgate."""


@dataclass(frozen=True)
class Published:
    commit: str
    paths: dict[str, str]  # the image's path in the results folder → its path on the branch
    pruned: tuple[str, ...]  # runs removed because they were older than the retention


def _read_index(root: Path, tip: str, branch: str) -> dict[str, str]:
    shown = git_process(root, "show", f"{tip}:{INDEX_FILE}")
    try:
        index = json.loads(shown.stdout) if shown.returncode == 0 else None
    except ValueError:
        index = None
    if not isinstance(index, dict) or index.get("schema") != INDEX_SCHEMA or not isinstance(index.get("runs"), dict):
        raise NotAssetsBranch(
            f"branch '{branch}' exists and is not mlgate's assets branch (no {INDEX_FILE} of schema {INDEX_SCHEMA}); "
            "set report.assets_branch to another name"
        )
    return {str(run): str(when) for run, when in index["runs"].items()}


def _expired(runs: Mapping[str, str], now: datetime, retention_days: int) -> list[str]:
    cutoff = now - timedelta(days=retention_days)
    expired = []
    for run, when in runs.items():
        try:
            published = datetime.fromisoformat(when)
        except ValueError:
            expired.append(run)  # an unreadable date cannot prove the run is recent
            continue
        if published.tzinfo is None or published < cutoff:
            expired.append(run)
    return sorted(expired)


def _commit(
    root: Path,
    tip: str | None,
    branch: str,
    run: str,
    files: Mapping[str, Path],
    retention_days: int,
    now: datetime,
    env: Mapping[str, str],
) -> tuple[str, dict[str, str], list[str]]:
    runs = _read_index(root, tip, branch) if tip else {}
    pruned = [name for name in _expired(runs, now, retention_days) if name != run]
    runs = {name: when for name, when in runs.items() if name not in pruned} | {run: now.isoformat()}
    paths = {local: f"{run}/{Path(local).name}" for local in files}
    index_text = json.dumps({"schema": INDEX_SCHEMA, "runs": dict(sorted(runs.items()))}, indent=2) + "\n"
    with tempfile.TemporaryDirectory(prefix="mlgate-assets-") as scratch:
        private = {**env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run_git(root, "read-tree", *([tip] if tip else ["--empty"]), env=private)
        for name in [*pruned, run]:
            run_git(root, "rm", "--cached", "-r", "-q", "--ignore-unmatch", "--", name, env=private)
        blobs = [(INDEX_FILE, run_git(root, "hash-object", "-w", "--stdin", stdin=index_text).strip())]
        for local, file in files.items():
            blobs.append((paths[local], run_git(root, "hash-object", "-w", "--", str(file)).strip()))
        for path, blob in blobs:
            run_git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=private)
        tree = run_git(root, "write-tree", env=private).strip()
    message = f"mlgate: report images of {run}" + (f" (pruned {len(pruned)} older runs)" if pruned else "")
    commit = run_git(root, "commit-tree", tree, "-F", "-", env=env, stdin=message).strip()
    return commit, paths, pruned


def publish(
    root: Path,
    remote: str,
    branch: str,
    run: str,
    files: Mapping[str, Path],
    *,
    retention_days: int,
    now: datetime,
    env: Mapping[str, str],
) -> Published:
    """Commit `files` (results-folder path → file) under `run` on `branch` of `remote`; `env` carries the
    committer identity and the remote's credentials (git_publish.token_env). Raises NotAssetsBranch,
    PushRejected (after ATTEMPTS races) or GitCommandError."""
    ref = f"refs/heads/{branch}"
    attempt = 0
    while True:
        attempt += 1
        tip = remote_ref(root, remote, ref, env)
        if tip:
            run_git(root, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, ref, env=env)
        commit, paths, pruned = _commit(root, tip, branch, run, files, retention_days, now, env)
        try:
            push(root, remote, [RefUpdate(ref, commit, tip)], env)
        except PushRejected:
            if attempt == ATTEMPTS:
                raise
            continue  # another run published in between: start again from the new tip
        return Published(commit, paths, tuple(pruned))
