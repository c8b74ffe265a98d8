"""Git through its command line: revisions, merge bases, files at a revision, history, shallow clones.

Every call is one `git` subprocess in the repository; reading many files at once goes through a single
`git cat-file --batch`, so a metric history of N commits costs two processes, not N.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError

FETCH_DEPTH_HINT = "set `fetch-depth: 0` on actions/checkout (or fetch the base commit yourself), or pass --base"
# A git command that runs longer waits on a remote that does not answer (a fetch, a push): it is stopped and the
# step fails naming the bound, instead of hanging until the job's own timeout (6 hours by default).
GIT_TIMEOUT_S = 600


class GitError(Exception):
    """A git command failed; carries git's own message."""


@dataclass(frozen=True)
class Commit:
    sha: str
    timestamp: int  # committer time, seconds since the epoch
    subject: str


def git_options(env: Mapping[str, str] | None, given_input: bool) -> dict[str, object]:
    """subprocess.run's options every git call shares: never a prompt (no terminal, stdin empty unless input is
    given) and GIT_TIMEOUT_S."""
    options: dict[str, object] = {
        "env": {**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0"},
        "timeout": GIT_TIMEOUT_S,
    }
    if not given_input:
        options["stdin"] = subprocess.DEVNULL
    return options


def timed_out(args: Sequence[str]) -> InputError:
    return InputError(f"git {args[0]} did not finish within {GIT_TIMEOUT_S} s (a remote that does not answer?)")


def run_git(root: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            input=input_bytes,
            capture_output=True,
            check=False,
            **git_options(None, input_bytes is not None),
        )
    except FileNotFoundError:
        raise InputError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise timed_out(args) from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {' '.join(args)} exited {result.returncode}")
    return result.stdout


def _text(root: Path, *args: str) -> str:
    return run_git(root, *args).decode("utf-8", "replace").strip()


def toplevel(path: Path) -> Path:
    """The root of the git work tree that holds `path`."""
    try:
        return Path(_text(path, "rev-parse", "--show-toplevel"))
    except GitError:
        raise InputError("is not inside a git repository", file=path) from None


def rev_parse(root: Path, rev: str) -> str | None:
    """The commit sha `rev` names, or None when it names no commit here."""
    try:
        return _text(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except GitError:
        return None


def merge_base(root: Path, a: str, b: str) -> str | None:
    try:
        return _text(root, "merge-base", a, b) or None
    except GitError:
        return None


def is_shallow(root: Path) -> bool:
    return _text(root, "rev-parse", "--is-shallow-repository") == "true"


def has_remote(root: Path, remote: str) -> bool:
    return remote in _text(root, "remote").splitlines()


def fetch_commit(root: Path, sha: str, depth: int, remote: str = "origin") -> bool:
    """Fetch `sha` (a commit or a ref of `remote`) with `depth` commits of its history into a shallow clone, with
    all of it into a full clone (`--depth` would make a full clone shallow); False when the remote cannot serve it.
    """
    shallow = [f"--depth={depth}"] if is_shallow(root) else []
    try:
        run_git(root, "fetch", "--quiet", "--no-tags", *shallow, remote, sha)
    except GitError:
        return False
    return rev_parse(root, sha) is not None or rev_parse(root, "FETCH_HEAD") is not None


def default_branch(root: Path, remote: str = "origin") -> str | None:
    """The remote's default branch as the clone recorded it (refs/remotes/origin/HEAD), if it did."""
    try:
        ref = _text(root, "symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD")
    except GitError:
        return None
    return ref.removeprefix(f"refs/remotes/{remote}/") or None


def tracked_files(root: Path, rev: str, pathspecs: Sequence[str] = ()) -> list[str]:
    """Paths (relative to the repository root) of the files in commit `rev`, optionally limited by pathspecs."""
    out = run_git(root, "ls-tree", "-r", "-z", "--name-only", "--full-tree", rev, "--", *pathspecs)
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def read_blobs(root: Path, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
    """The contents of many (rev, path) files in one `git cat-file --batch`; None where a file does not exist."""
    keys = list(dict.fromkeys(wanted))
    if not keys:
        return {}
    for _, path in keys:
        if "\n" in path:
            raise InputError(f"path {path!r} contains a newline")
    request = "".join(f"{rev}:{path}\n" for rev, path in keys).encode("utf-8", "surrogateescape")
    out = run_git(root, "cat-file", "--batch", input_bytes=request)
    result: dict[tuple[str, str], bytes | None] = {}
    pos = 0
    for key in keys:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if header[-1] in (b"missing", b"ambiguous"):  # "<request> missing": the request may contain spaces
            result[key] = None
            continue
        size = int(header[2])  # "<sha> <type> <size>", then the object and a newline
        result[key] = out[pos : pos + size] if header[1] == b"blob" else None
        pos += size + 1
    return result


def log_touching(root: Path, rev: str, paths: Sequence[str], limit: int) -> list[Commit]:
    """The last `limit` commits reachable from `rev` that changed any of `paths`, newest first."""
    if limit <= 0 or not paths:
        return []
    out = _text(root, "log", f"--max-count={limit}", "--format=%H%x1f%ct%x1f%s", rev, "--", *paths)
    commits = []
    for line in out.splitlines():
        sha, timestamp, subject = line.split("\x1f", 2)
        commits.append(Commit(sha, int(timestamp), subject))
    return commits


@dataclass(frozen=True)
class Base:
    sha: str
    how: str  # where the base came from, for the results: "--base", "pull_request.base.sha", "merge-base …"


def _present_or_fetched(root: Path, rev: str, depth: int) -> str | None:
    """The commit `rev` names, fetching it from origin (with `depth` commits of history) when it is missing."""
    sha = rev_parse(root, rev)
    if sha is None and has_remote(root, "origin") and fetch_commit(root, rev, depth):
        sha = rev_parse(root, rev) or rev_parse(root, "FETCH_HEAD")
    return sha


def resolve_base(root: Path, explicit: str | None, pr_base_sha: str | None, branch: str | None, depth: int) -> Base:
    """The commit to compare with: `explicit` > the pull request's base sha > merge-base with origin/<branch>.

    A shallow clone gets the base fetched with `depth` commits of history (enough for the metric trend); when
    that is impossible the error says how to configure the checkout.
    """
    if explicit:
        sha = _present_or_fetched(root, explicit, depth)
        if sha is None:
            hint = f"; the clone is shallow: {FETCH_DEPTH_HINT}" if is_shallow(root) else ""
            raise InputError(f"--base '{explicit}' does not name a commit in this repository{hint}")
        return Base(sha, "--base")
    if pr_base_sha:
        if _present_or_fetched(root, pr_base_sha, depth) is None:
            raise InputError(
                f"the pull request's base commit {pr_base_sha[:12]} is not in this clone and could not be fetched: "
                f"{FETCH_DEPTH_HINT}"
            )
        return Base(pr_base_sha, "pull_request.base.sha")
    branch = branch or default_branch(root) or "main"
    unrelated: list[str] = []  # branches that exist but share no commit with HEAD
    for ref in (f"origin/{branch}", branch):
        if rev_parse(root, ref) is None:
            continue
        sha = merge_base(root, "HEAD", ref)
        if sha is not None:
            return Base(sha, f"merge-base with {ref}")
        if is_shallow(root):
            raise InputError(f"cannot find the merge-base of HEAD and {ref} in this shallow clone: {FETCH_DEPTH_HINT}")
        unrelated.append(ref)
    if unrelated:
        raise InputError(
            f"HEAD and {' and '.join(unrelated)} have unrelated histories (no merge-base): "
            "pass the commit to compare with as --base"
        )
    hint = f"; the clone is shallow: {FETCH_DEPTH_HINT}" if is_shallow(root) else "; pass --base"
    raise InputError(
        f"cannot tell which commit to compare with: no --base, no pull_request event, and no '{branch}' or "
        f"'origin/{branch}' branch{hint}"
    )
