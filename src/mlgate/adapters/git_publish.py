"""Publish a commit to a branch of a remote without touching the user's checkout, or leave no trace.

- The commit is built in a private index from a parent commit plus the chosen paths (`git commit-tree`), so
  HEAD, the branch, the index and the working tree stay exactly as they were.
- The push is atomic (all refs or none) and guarded by an explicit lease on each ref's current value, so a
  concurrent run is never overwritten and a rejected push changes nothing on the remote.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlgate.adapters.gittags import ACTIONS_IDENTITY, LOCAL_IDENTITY, git_process
from mlgate.errors import MlgateError

_MAX_REMOTE_LINES = 10


class GitCommandError(MlgateError):
    """A git command failed; the message carries git's own words."""


class PushRejected(MlgateError):
    """The remote refused the push; nothing was updated there (the push is atomic)."""


@dataclass(frozen=True)
class RefUpdate:
    ref: str  # refs/heads/x
    new: str | None  # the sha to set; None deletes the ref
    expected: str | None  # the value the push may replace; None: the ref must not exist yet


def run_git(root: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> str:
    """git's stdout, or GitCommandError carrying git's own last words."""
    result = git_process(root, *args, env=env, stdin=stdin)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise GitCommandError(f"git {args[0]} failed: {lines[-1] if lines else f'exit code {result.returncode}'}")
    return result.stdout


def current_branch(root: Path) -> str | None:
    result = git_process(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    return result.stdout.strip() if result.returncode == 0 else None


def _status(root: Path, *options: str) -> list[str]:
    """Paths `git status` reports, relative to the work tree's top; a rename counts as both of its paths."""
    entries = run_git(root, "-c", "core.quotepath=off", "status", "--porcelain=v1", "-z", *options).split("\0")
    paths: list[str] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # with -z the rename's source is the next entry
            paths.append(entries[index])
            index += 1
    return sorted(set(paths))


def modified_tracked(root: Path) -> list[str]:
    """Tracked files that differ from HEAD, staged or not."""
    return _status(root, "--untracked-files=no")


def changed(root: Path) -> list[str]:
    """Every path that differs from HEAD: modified, deleted, and new files git does not ignore."""
    return _status(root, "--untracked-files=all")


def restore(root: Path, paths: Sequence[str]) -> None:
    """Tracked `paths` back to HEAD's content, in the index and the working tree."""
    if paths:
        run_git(root, "restore", "--source=HEAD", "--staged", "--worktree", "--", *paths)


def identity_env(root: Path, in_actions: bool) -> dict[str, str]:
    """Author and committer: the repository's own when git has one, else the Actions bot (a fresh Actions
    checkout has no identity) or mlgate."""
    if all(git_process(root, "var", name).returncode == 0 for name in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")):
        return {}
    name, email = ACTIONS_IDENTITY if in_actions else LOCAL_IDENTITY
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def commit_onto(root: Path, parent: str, paths: Sequence[str], message: str, env: Mapping[str, str]) -> str:
    """A new commit: `parent`'s tree with `paths` as they are in the working tree (deleted ones removed)."""
    with tempfile.TemporaryDirectory(prefix="mlgate-index-") as scratch:
        private = {**env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run_git(root, "read-tree", parent, env=private)
        run_git(root, "add", "--all", "--force", "--", *paths, env=private)
        tree = run_git(root, "write-tree", env=private).strip()
    return run_git(root, "commit-tree", tree, "-p", parent, "-F", "-", env=env, stdin=message).strip()


def has_remote(root: Path, remote: str) -> bool:
    return remote in run_git(root, "remote").split()


def token_env(server_url: str, token: str | None, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """git environment that authenticates to `server_url` with `token` for this one command, as actions/checkout
    does (an Authorization header), without writing it to .git/config where the job's other steps (the PR's own
    code) could read it. The empty first value resets any header a checkout persisted: two are refused. Entries
    `environ` already passes through GIT_CONFIG_COUNT are kept; ours follow them."""
    if not token:
        return {}
    count = environ.get("GIT_CONFIG_COUNT", "")
    first = int(count) if count.isdigit() else 0
    key = f"http.{server_url.rstrip('/')}/.extraheader"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": str(first + 2),
        f"GIT_CONFIG_KEY_{first}": key,
        f"GIT_CONFIG_VALUE_{first}": "",
        f"GIT_CONFIG_KEY_{first + 1}": key,
        f"GIT_CONFIG_VALUE_{first + 1}": f"AUTHORIZATION: basic {basic}",
    }


def remote_ref(root: Path, remote: str, ref: str, env: Mapping[str, str] | None = None) -> str | None:
    """The sha `ref` has on `remote` now, or None when it does not exist there."""
    for line in run_git(root, "ls-remote", "--", remote, ref, env=env).splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None


def _rejection(output: str, remote: str) -> str:
    """git's reasons (`! … [remote rejected] (reason)` lines) and what the remote's hooks printed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    reasons = [line[line.rindex("(") + 1 : line.rindex(")")] for line in lines if line.startswith("!") and ")" in line]
    said = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote:")]
    said = [line for line in said if line][:_MAX_REMOTE_LINES]
    parts = ["; ".join(dict.fromkeys(reasons)) or (lines[-1] if lines else "no reason given")]
    if said:
        parts.append(f"{remote} said: " + " / ".join(said))
    return "; ".join(parts)


def push(root: Path, remote: str, updates: Sequence[RefUpdate], env: Mapping[str, str] | None = None) -> None:
    """Apply every update on `remote`, or none (`--atomic`), each guarded by `--force-with-lease=<ref>:<expected>`."""
    leases = [f"--force-with-lease={u.ref}:{u.expected or ''}" for u in updates]
    refspecs = [f"{u.new}:{u.ref}" if u.new else f":{u.ref}" for u in updates]
    result = git_process(root, "push", "--atomic", "--porcelain", *leases, "--", remote, *refspecs, env=env)
    if result.returncode != 0:
        names = ", ".join(u.ref.removeprefix("refs/heads/") for u in updates)
        raise PushRejected(
            f"git push of {names} to {remote} was rejected: {_rejection(result.stderr + result.stdout, remote)}; "
            f"nothing was changed on {remote}"
        )


def fetch_ref(root: Path, remote: str, ref: str, into: str) -> str | None:
    """`ref` of `remote` fetched into the private ref `into` (the user's branches untouched); its sha, or None
    when the remote has no such ref."""
    sha = remote_ref(root, remote, ref)
    if sha is None:
        return None
    run_git(root, "fetch", "--no-tags", "--quiet", remote, f"+{ref}:{into}")
    return sha


def commit_file_onto(
    root: Path, parent: str | None, path: str, content: str, message: str, env: Mapping[str, str]
) -> str:
    """A new commit: `parent`'s tree (none: an empty one) with the text file `path` set to `content`; nothing of
    the checkout is read or changed."""
    blob = run_git(root, "hash-object", "-w", "--stdin", stdin=content).strip()
    with tempfile.TemporaryDirectory(prefix="mlgate-index-") as scratch:
        private = {**env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run_git(root, "read-tree", *([parent] if parent else ["--empty"]), env=private)
        run_git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=private)
        tree = run_git(root, "write-tree", env=private).strip()
    parents = ["-p", parent] if parent else []
    return run_git(root, "commit-tree", tree, *parents, "-F", "-", env=env, stdin=message).strip()


def update_local_ref(root: Path, ref: str, new: str, expected: str | None) -> None:
    """Set a ref of this repository only if it still has `expected` (None: it must not exist)."""
    result = git_process(root, "update-ref", ref, new, expected or "0" * 40)
    if result.returncode != 0:
        raise PushRejected(f"{ref} changed while this run worked on it: {result.stderr.strip()}; nothing was changed")
