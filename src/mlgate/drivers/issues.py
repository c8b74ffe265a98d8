"""The monitor's tracking issue, its alert comments and the retrain dispatch: on GitHub, or in the local outbox.

One open issue per model, found by its label (`mlgate:monitor`) and the hidden marker naming the model in its
body, written by the token's identity (as the sticky comment is): created on the first run, its body replaced
on later runs only when it changed. Alert comments are appended (one per change). `dispatch` starts a
workflow through `workflow_dispatch`, as the Actions tab's "Run workflow" button does.
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
    from github.Issue import Issue

    from mlgate.ghcontext import GitHubContext

PERMISSION_HINT = "the workflow needs `issues: write` (and `actions: write` for monitor.on_alert: retrain)"


@dataclass(frozen=True)
class IssueSpec:
    title: str
    body: str  # holds the marker
    marker: str
    label: str


@dataclass(frozen=True)
class IssueOutcome:
    action: str  # created | updated | unchanged
    number: int
    url: str | None


@dataclass(frozen=True)
class OpenIssue:
    number: int
    body: str


@dataclass(frozen=True)
class Dispatched:
    workflow: str
    ref: str
    url: str | None  # the run's page when GitHub names it


class TrackingDriver(Protocol):
    def open_issue(self, marker: str, label: str) -> OpenIssue | None: ...

    def upsert_issue(self, spec: IssueSpec) -> IssueOutcome: ...

    def upsert_comment(self, request: CommentRequest) -> CommentOutcome: ...

    def dispatch(self, workflow: str, ref: str, inputs: dict[str, str]) -> Dispatched: ...

    def write_summary(self, key: str, markdown: str) -> bool: ...


class GitHubIssues(GitHubDriver):
    def _ours(self, marker: str, label: str) -> Issue | None:
        def fetch() -> list[Issue]:
            return [
                issue
                for issue in self._repo.get_issues(state="open", labels=[label])
                if marker in (issue.body or "")
                and issue.user is not None
                and issue.user.login.lower() in self._authors
                and issue.pull_request is None
            ]

        found = self._call(f"list open issues labelled {label}", fetch)
        return min(found, key=lambda issue: issue.number) if found else None  # the first one stays

    def open_issue(self, marker: str, label: str) -> OpenIssue | None:
        try:
            issue = self._ours(marker, label)
        except Forbidden as exc:
            raise DriverError(f"{exc.message}; {PERMISSION_HINT}") from exc
        return None if issue is None else OpenIssue(issue.number, issue.body or "")

    def _upsert(self, spec: IssueSpec) -> IssueOutcome:
        issue = self._ours(spec.marker, spec.label)
        if issue is None:
            created = self._call(
                f"open the tracking issue {spec.title!r}",
                lambda: self._repo.create_issue(title=spec.title, body=spec.body, labels=[spec.label]),
                lambda: self._ours(spec.marker, spec.label),
            )
            return IssueOutcome("created", created.number, created.html_url)
        if (issue.body or "") == spec.body:
            return IssueOutcome("unchanged", issue.number, issue.html_url)
        found = issue
        self._call(f"update issue #{issue.number}", lambda: found.edit(body=spec.body))
        return IssueOutcome("updated", issue.number, issue.html_url)

    def upsert_issue(self, spec: IssueSpec) -> IssueOutcome:
        try:
            return self._upsert(spec)
        except Forbidden as exc:
            raise DriverError(f"{exc.message}; {PERMISSION_HINT}") from exc

    def dispatch(self, workflow: str, ref: str, inputs: dict[str, str]) -> Dispatched:
        # No retry of an ambiguous failure: a lost response may still have started the run, and a second
        # dispatch would start another.
        def send() -> Any:
            return self._repo.get_workflow(workflow).create_dispatch(ref, inputs, throw=True, return_run_details=True)

        try:
            run = self._call(f"dispatch workflow {workflow} on {ref}", send)
        except Forbidden as exc:
            raise DriverError(f"{exc.message}; {PERMISSION_HINT}") from exc
        return Dispatched(workflow, ref, getattr(run, "html_url", None) if run is not True else None)


def _outbox_key(marker: str) -> str:
    import hashlib

    return "monitor-" + hashlib.sha256(marker.encode()).hexdigest()[:12]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalIssues(LocalDriver):
    """The tracking issue as an `issue` record in the outbox (keyed by its marker), dispatches as `dispatch`."""

    def open_issue(self, marker: str, label: str) -> OpenIssue | None:
        found = self.outbox.get("issue", _outbox_key(marker))
        if found is None or found.get("state") != "open" or label not in found.get("labels", ()):
            return None
        return OpenIssue(int(found["number"]), str(found.get("body") or ""))

    def upsert_issue(self, spec: IssueSpec) -> IssueOutcome:
        key = _outbox_key(spec.marker)
        previous = self.outbox.get("issue", key)
        fields = {"title": spec.title, "body": spec.body, "labels": [spec.label], "state": "open"}
        if previous is not None and all(previous.get(k) == v for k, v in fields.items()):
            return IssueOutcome("unchanged", int(previous["number"]), str(self.outbox.path("issue", key)))
        if previous is None:
            number = max((int(r.get("number", 0)) for r in self.outbox.list("issue")), default=0) + 1
            record = fields | {"number": number, "marker": spec.marker, "created_at": _now(), "revision": 1}
            action = "created"
        else:
            record = previous | fields | {"revision": int(previous.get("revision", 0)) + 1}
            action = "updated"
        path = self.outbox.put("issue", key, record | {"updated_at": _now()})
        return IssueOutcome(action, int(record["number"]), str(path))

    def dispatch(self, workflow: str, ref: str, inputs: dict[str, str]) -> Dispatched:
        count = len(self.outbox.list("dispatch")) + 1
        record = {"workflow": workflow, "ref": ref, "inputs": inputs, "created_at": _now()}
        path = self.outbox.put("dispatch", f"{workflow}-{count}", record)
        return Dispatched(workflow, ref, str(path))


def make_tracking_driver(
    kind: str, ctx: GitHubContext, token: str | None, *, budget: float, timeout: int
) -> TrackingDriver:
    if kind == "local":
        return LocalIssues(Outbox())
    return GitHubIssues(**client_options(ctx, token, budget=budget, timeout=timeout))
