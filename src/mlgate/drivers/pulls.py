"""Pull requests a bot keeps up to date: open one, or update the open one from the same head branch.

The pull request is found by its head branch and a label (`mlgate:retrain`), so a rerun edits the same pull
request instead of opening a second one. On GitHub this goes through the report's driver (same client, same
retry policy); locally it is a `pull` record in the outbox, keyed by the head branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from mlgate.drivers.github import GitHubDriver, client_options
from mlgate.drivers.local import LocalDriver
from mlgate.drivers.outbox import Outbox
from mlgate.drivers.protocol import CommentOutcome, CommentRequest, DriverError, Forbidden

if TYPE_CHECKING:
    from github.PullRequest import PullRequest

    from mlgate.ghcontext import GitHubContext

ALREADY_EXISTS = "a pull request already exists"
# A 403 here is a missing permission, or the repository setting that keeps GITHUB_TOKEN from opening pull
# requests ("GitHub Actions is not permitted to create or approve pull requests.").
PERMISSION_HINT = (
    "the workflow needs `contents: write` and `pull-requests: write`, and the repository must allow it under "
    "Settings → Actions → General → 'Allow GitHub Actions to create and approve pull requests' (or pass a "
    "GitHub App or fine-grained token)"
)


@dataclass(frozen=True)
class PullRequestSpec:
    head: str  # branch in the same repository
    base: str
    title: str
    body: str
    label: str
    head_sha: str | None = None  # the commit just pushed to `head` (recorded by the local driver)


@dataclass(frozen=True)
class PullOutcome:
    action: str  # created | updated | unchanged
    number: int
    url: str | None


class PullDriver(Protocol):
    def upsert_pull(self, spec: PullRequestSpec) -> PullOutcome:
        """Open the pull request, or update the open one from `spec.head` (preferring one with the label)."""
        ...

    def upsert_comment(self, request: CommentRequest) -> CommentOutcome: ...

    def write_summary(self, key: str, markdown: str) -> bool: ...


class GitHubPulls(GitHubDriver):
    def __init__(self, *, repository: str, **options: Any) -> None:
        super().__init__(repository=repository, **options)
        self._owner = repository.split("/")[0]

    def _open_from(self, spec: PullRequestSpec) -> PullRequest | None:
        def fetch() -> list[PullRequest]:
            return list(self._repo.get_pulls(state="open", head=f"{self._owner}:{spec.head}"))

        found = self._call(f"list pull requests from {spec.head}", fetch)
        labelled = [pull for pull in found if any(label.name == spec.label for label in pull.labels)]
        return (labelled or found or [None])[0]

    def _create_pull(self, spec: PullRequestSpec) -> PullRequest:
        from github import GithubException

        def create() -> PullRequest:
            try:
                return self._repo.create_pull(base=spec.base, head=spec.head, title=spec.title, body=spec.body)
            except GithubException as exc:
                # "A pull request already exists" is in the 422's `errors`: a concurrent run opened it just now.
                if exc.status == 422 and ALREADY_EXISTS in str(exc.data).lower():
                    existing = self._open_from(spec)
                    if existing is not None:
                        return existing
                raise

        return self._call(f"open a pull request from {spec.head}", create, lambda: self._open_from(spec))

    def _upsert(self, spec: PullRequestSpec) -> PullOutcome:
        pull = self._open_from(spec)
        action = "unchanged"
        if pull is None:
            pull, action = self._create_pull(spec), "created"
        elif (pull.title, pull.body or "", pull.base.ref) != (spec.title, spec.body, spec.base):
            found = pull
            self._call(
                f"update pull request #{pull.number}",
                lambda: found.edit(title=spec.title, body=spec.body, base=spec.base),
            )
            action = "updated"
        if not any(label.name == spec.label for label in pull.labels):
            unlabelled = pull
            self._call(f"label pull request #{pull.number}", lambda: unlabelled.add_to_labels(spec.label))
            action = "updated" if action == "unchanged" else action
        return PullOutcome(action, pull.number, pull.html_url)

    def upsert_pull(self, spec: PullRequestSpec) -> PullOutcome:
        try:
            return self._upsert(spec)
        except Forbidden as exc:
            raise DriverError(f"{exc.message}; {PERMISSION_HINT}") from exc


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalPulls(LocalDriver):
    """Pull requests as `pull` records in the outbox, one per head branch, numbered in order of creation."""

    def upsert_pull(self, spec: PullRequestSpec) -> PullOutcome:
        previous = self.outbox.get("pull", spec.head)
        fields: dict[str, Any] = {
            "head": spec.head,
            "base": spec.base,
            "title": spec.title,
            "body": spec.body,
            "labels": [spec.label],
            "head_sha": spec.head_sha,
            "state": "open",
        }
        now = _now()
        if previous is None:
            number = max((int(r.get("number", 0)) for r in self.outbox.list("pull")), default=0) + 1
            record = fields | {"number": number, "created_at": now, "updated_at": now, "revision": 1}
            action = "created"
        elif all(previous.get(key) == value for key, value in fields.items()):
            return PullOutcome("unchanged", int(previous["number"]), str(self.outbox.path("pull", spec.head)))
        else:
            record = previous | fields | {"updated_at": now, "revision": int(previous.get("revision", 0)) + 1}
            action = "updated"
        path = self.outbox.put("pull", spec.head, record)
        return PullOutcome(action, int(record["number"]), str(path))


def make_pull_driver(kind: str, ctx: GitHubContext, token: str | None, *, budget: float, timeout: int) -> PullDriver:
    if kind == "local":
        return LocalPulls(Outbox())
    return GitHubPulls(**client_options(ctx, token, budget=budget, timeout=timeout))
