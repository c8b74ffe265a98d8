"""Git tags for the model registry: read them, write annotated ones, exchange them with a remote.

`publish` is the only way mlgate writes the registry: plan from the tags, create them, push them atomically;
when the push is rejected because someone else pushed first, drop ours, refetch and plan again. A tag that is
already on the remote is never overwritten (no force anywhere).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from mlgate.adapters.git import git_options, timed_out
from mlgate.errors import InputError
from mlgate.registry.plan import PlannedTag
from mlgate.registry.state import Registry, TagRecord, build_registry

TAG_PREFIX = "refs/tags/"
_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(*objecttype)",
    "%(taggername)",
    "%(taggeremail)",
    "%(taggerdate:raw)",
    "%(contents)",
)
# A record is its fields, each closed by NUL; git ends every record with a newline. No field can hold a NUL.
_FORMAT = "%00".join(_FIELDS) + "%00"
# Who signs the tags when the repository has no identity configured (a fresh Actions checkout has none).
ACTIONS_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
LOCAL_IDENTITY = ("mlgate", "mlgate@users.noreply.github.com")
PUSH_ATTEMPTS = 5


class GitError(Exception):
    """A git command failed; carries git's own message."""


def git_process(
    root: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in `root` and return the finished process (text, git's errors kept); never raises on exit code."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            **git_options(env, stdin is not None),
        )
    except FileNotFoundError:
        raise InputError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise timed_out(args) from None


def _checked(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    result = git_process(root, *args, env=env)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise GitError(lines[-1] if lines else f"git {args[0]} exited {result.returncode}")
    return result.stdout


def is_repository(root: Path) -> bool:
    return git_process(root, "rev-parse", "--git-dir").returncode == 0


def resolve_commit(root: Path, rev: str) -> str | None:
    result = git_process(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    return result.stdout.strip() if result.returncode == 0 else None


def has_remote(root: Path, remote: str) -> bool:
    return remote in _checked(root, "remote").split()


def list_tags(root: Path) -> list[TagRecord]:
    """Every tag pointing at a commit: annotated ones with tagger and message, lightweight ones by name only."""
    out = _checked(root, "for-each-ref", f"--format={_FORMAT}", TAG_PREFIX)
    records = []
    for raw in out.split("\0\n"):
        if not raw:
            continue
        ref, kind, sha, peeled, peeled_kind, tagger, email, date, message = raw.split("\0")
        name = ref.removeprefix(TAG_PREFIX)
        if kind == "commit":
            records.append(TagRecord(name, sha, annotated=False))
        elif kind == "tag" and peeled_kind == "commit":
            timestamp = int(date.split()[0]) if date else 0
            records.append(TagRecord(name, peeled, True, timestamp, tagger, email.strip("<>"), message))
    return records


def read_registry(root: Path) -> Registry:
    return build_registry(list_tags(root))


def _identity(root: Path) -> dict[str, str]:
    """Tagger overrides for a repository without a configured identity; none when git has one."""
    configured = all(
        os.environ.get(f"GIT_COMMITTER_{key.upper()}") or git_process(root, "config", f"user.{key}").stdout.strip()
        for key in ("name", "email")
    )
    if configured:
        return {}
    name, email = ACTIONS_IDENTITY if os.environ.get("GITHUB_ACTIONS") == "true" else LOCAL_IDENTITY
    return {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def create_tags(root: Path, tags: Sequence[PlannedTag]) -> None:
    identity = _identity(root)
    for tag in tags:
        env = {**identity, "GIT_COMMITTER_DATE": f"@{tag.timestamp} +0000"}
        _checked(root, "tag", "--annotate", "--message", tag.message, "--", tag.name, tag.commit, env=env)


def delete_tags(root: Path, names: Sequence[str]) -> None:
    if names:
        _checked(root, "tag", "--delete", *names)


def fetch_tags(root: Path, remote: str) -> None:
    """Bring the remote's tags in without ever replacing a local tag (a differing one is an input error)."""
    result = git_process(root, "fetch", "--no-tags", remote, f"{TAG_PREFIX}*:{TAG_PREFIX}*")
    if result.returncode == 0:
        return
    for line in result.stderr.splitlines():
        if "would clobber existing tag" in line:
            name = line.split("]", 1)[-1].split("->")[0].strip()
            raise InputError(
                f"local tag '{name}' differs from the one on '{remote}'; delete the local one "
                f"(git tag -d '{name}') and run again"
            )
    lines = result.stderr.strip().splitlines()
    raise InputError(f"git fetch of tags from '{remote}' failed: {lines[-1] if lines else 'no message'}")


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    rejected: tuple[str, ...] = ()  # "<tag> <git's reason>"
    remote_said: str = ""  # what the server's hooks printed ("remote: ..." lines)


def push_tags(root: Path, remote: str, names: Sequence[str]) -> PushOutcome:
    """Push tags all-or-nothing (--atomic). Rejected refs are reported; other failures raise InputError."""
    refspecs = [f"{TAG_PREFIX}{n}:{TAG_PREFIX}{n}" for n in names]
    result = git_process(root, "push", "--porcelain", "--atomic", remote, *refspecs)
    if result.returncode == 0:
        return PushOutcome(True)
    rejected = []
    for line in result.stdout.splitlines():
        flag, _, rest = line.partition("\t")
        if flag == "!" and "\t" in rest:
            ref, _, reason = rest.partition("\t")
            rejected.append(f"{ref.split(':')[-1].removeprefix(TAG_PREFIX)} {reason}")
    if not rejected:
        lines = result.stderr.strip().splitlines()
        raise InputError(f"git push of tags to '{remote}' failed: {lines[-1] if lines else 'no message'}")
    said = [line.removeprefix("remote:").strip() for line in result.stderr.splitlines() if line.startswith("remote:")]
    return PushOutcome(False, tuple(rejected), " ".join(filter(None, said)))


class HasTags(Protocol):
    @property
    def tags(self) -> tuple[PlannedTag, ...]: ...


Plan = TypeVar("Plan", bound=HasTags)


@dataclass(frozen=True)
class Published(Generic[Plan]):
    plan: Plan
    races_lost: int  # pushes rejected because another writer pushed first


def publish(root: Path, plan: Callable[[Registry], Plan], *, remote: str | None) -> Published[Plan]:
    """Plan from the current tags, create the planned tags and push them; replan after losing a push race.

    A rejection that replanning does not change (a protected tag, a hook) is not a race: it is reported.
    """
    rejected: tuple[list[tuple[str, str]], PushOutcome] | None = None
    for attempt in range(PUSH_ATTEMPTS):
        result = plan(read_registry(root))
        names = [t.name for t in result.tags]
        wanted = [(t.name, t.commit) for t in result.tags]
        if not names:
            return Published(result, attempt)
        if rejected is not None and rejected[0] == wanted:
            said = f"; it said: {rejected[1].remote_said}" if rejected[1].remote_said else ""
            raise InputError(f"'{remote}' rejected the registry tags: {'; '.join(rejected[1].rejected)}{said}")
        create_tags(root, result.tags)
        if remote is None:
            return Published(result, attempt)
        outcome = push_tags(root, remote, names)
        if outcome.ok:
            return Published(result, attempt)
        delete_tags(root, names)  # never published: nobody else has seen them
        fetch_tags(root, remote)
        rejected = (wanted, outcome)
    raise InputError(f"gave up pushing registry tags to '{remote}': {PUSH_ATTEMPTS} attempts lost to other writers")


def current_branch_ref(root: Path) -> str | None:
    """`refs/heads/<branch>` checked out, or None on a detached HEAD."""
    result = git_process(root, "symbolic-ref", "--quiet", "HEAD")
    return result.stdout.strip() or None if result.returncode == 0 else None


def tags_at(root: Path, sha: str) -> list[str]:
    return _checked(root, "tag", "--points-at", sha).split()


def default_branch(root: Path, remote: str) -> str | None:
    """The remote's default branch as the clone recorded it (refs/remotes/<remote>/HEAD), if it did."""
    result = git_process(root, "symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD")
    return result.stdout.strip().removeprefix(f"refs/remotes/{remote}/") or None if result.returncode == 0 else None


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return git_process(root, "merge-base", "--is-ancestor", ancestor, descendant).returncode == 0
