"""The github driver: PyGithub against GITHUB_API_URL (github.com, GitHub Enterprise, or the test stand-in).

Client settings, and why (see /work/shared/GITHUB_API_FACTS.md §1, §7, §9):
- `retry=None`: PyGithub's default GithubRetry sleeps 60 s per secondary-rate-limit 403 without Retry-After
  (up to 10 times), retries 5xx with no delay, never retries PATCH, and ends in a requests RetryError.
  One job cannot afford ten minutes of sleeping, and a blind retry of a create can double a comment. So
  every call goes through `_call` below: bounded attempts and total wait, exponential backoff for 5xx,
  timeouts and dropped connections, `Retry-After` honoured, a primary limit waited out until its reset
  only if that fits the budget.
- `seconds_between_requests/writes=None`: PyGithub's pacing (0.25 s per request, 1 s per write) would add
  seconds to every report for a handful of calls; the retry policy handles GitHub pushing back instead.
- `timeout=15`: longer than the 10 s after which GitHub itself ends a request, so when a call times out
  its effect (if any) is settled, and re-listing before a retry sees it.
- `lazy=True` and `per_page=100`: no GET for the repo or issue objects we only write to, and the fewest
  pages when listing comments, so a sticky comment on a PR with N comments costs ceil(N/100) + 1 calls.

Whose comments: the lookup reads all pages and keeps only comments carrying our marker AND written by
the token's identity. `GET /user` would name that identity, but it answers 403 to a GITHUB_TOKEN (and to
any GitHub App token), so the identity is configured instead: `github-actions[bot]` by default (what
GITHUB_TOKEN posts as), or the app's bot or PAT user's login via `comment_authors`. A marker pasted into
someone else's comment is therefore never taken for ours.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

from mlgate import gha
from mlgate.drivers.protocol import (
    MAX_ANNOTATIONS_PER_CHECK,
    MAX_ANNOTATIONS_PER_REQUEST,
    MAX_STATUS_DESCRIPTION,
    CheckOutcome,
    CheckRequest,
    CommentOutcome,
    CommentRequest,
    DriverError,
    Forbidden,
    ReadOnlyToken,
)
from mlgate.report.fit import CHECK_TEXT_LIMIT

if TYPE_CHECKING:
    from github.CheckRun import CheckRun
    from github.Issue import Issue
    from github.IssueComment import IssueComment

    from mlgate.ghcontext import GitHubContext

T = TypeVar("T")
ACTIONS_BOT = "github-actions[bot]"
NOT_ACCESSIBLE = ("resource not accessible by integration", "resource not accessible by personal access token")
SECONDARY_HINTS = ("secondary rate limit", "abuse detection", "please wait a few minutes", "retry your request again")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries per call, the first included
    base_delay: float = 0.5  # first backoff; doubles each retry
    max_delay: float = 30.0  # cap of one exponential backoff
    budget: float = 300.0  # total seconds one driver may spend waiting; a rate limit beyond it fails now
    secondary_wait: float = 60.0  # GitHub's advice for a secondary limit that gives no Retry-After

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


@dataclass(frozen=True)
class _Retry:
    wait: float
    reason: str
    ambiguous: bool  # the request may have been applied (timeout, dropped connection, 5xx)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _message(exc: Any) -> str:
    data = getattr(exc, "data", None)
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return data["message"]
    return getattr(exc, "message", None) or ""


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds (GitHub sends seconds; an HTTP date is allowed too)."""
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def classify(exc: Exception, attempt: int, policy: RetryPolicy) -> _Retry | None:
    """How long to wait before retrying after `exc`, or None if retrying cannot help."""
    import requests
    from github import GithubException

    dropped = requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError
    if isinstance(exc, requests.exceptions.Timeout | dropped):
        kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
        return _Retry(policy.backoff(attempt), kind, ambiguous=True)
    if not isinstance(exc, GithubException):
        return None
    status, headers = exc.status, exc.headers
    after = _retry_after(headers)
    if status >= 500:
        return _Retry(after if after is not None else policy.backoff(attempt), f"HTTP {status}", ambiguous=True)
    if status not in (403, 429):
        return None
    message = _message(exc).lower()
    reset = _header(headers, "x-ratelimit-reset")
    exhausted = _header(headers, "x-ratelimit-remaining") == "0" and bool(reset) and reset.replace(".", "", 1).isdigit()
    secondary = any(hint in message for hint in SECONDARY_HINTS)
    kind = "secondary rate limit" if secondary else "API rate limit exhausted" if exhausted else "rate limited"
    if after is not None:
        return _Retry(after, f"HTTP {status} {kind} (Retry-After {after:g} s)", ambiguous=False)
    if exhausted and not secondary:
        wait = max(0.0, float(reset or 0) - time.time()) + 1.0
        return _Retry(wait, f"HTTP {status} {kind} until its reset", ambiguous=False)
    if status == 429 or secondary:
        return _Retry(max(policy.secondary_wait, policy.backoff(attempt)), f"HTTP {status} {kind}", ambiguous=False)
    return None


def client_options(ctx: GitHubContext, token: str | None, *, budget: float, timeout: int) -> dict[str, Any]:
    """The github driver's settings for this run; an InputError when the token or repository is missing."""
    repository, token = ctx.credentials(token)
    return {"api_url": ctx.api_url, "repository": repository, "token": token, "policy": RetryPolicy(budget=budget),
            "timeout": timeout}  # fmt: skip


def describe(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        message = _message(exc)
        return f"HTTP {status}" + (f" {message}" if message else "")
    return f"{type(exc).__name__}: {exc}"


class GitHubDriver:
    def __init__(
        self,
        *,
        api_url: str,
        repository: str,
        token: str,
        comment_authors: Iterable[str] = (ACTIONS_BOT,),
        policy: RetryPolicy | None = None,
        timeout: int = 15,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import github

        gha.add_mask(token)
        self._client = github.Github(
            base_url=api_url.rstrip("/"),
            auth=github.Auth.Token(token),
            per_page=100,
            timeout=timeout,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._repo = self._client.get_repo(repository)
        self._authors = {login.lower() for login in comment_authors}
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._waited = 0.0

    # ------------------------------------------------------------------------------------ the call policy

    def _call(self, what: str, operation: Callable[[], T], reconcile: Callable[[], T | None] | None = None) -> T:
        """Run `operation` under the retry policy. After an ambiguous failure (the request may have been
        applied), `reconcile` looks for its effect first, so that a lost response never causes a duplicate."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation()
            except Exception as exc:
                retry = classify(exc, attempt, self._policy)
                if retry is None:
                    raise self._translate(what, exc) from exc
                if attempt >= self._policy.attempts or self._waited + retry.wait > self._policy.budget:
                    raise DriverError(
                        f"GitHub API: {what} failed after {attempt} attempt(s): {retry.reason} ({describe(exc)}); "
                        f"gave up within the retry budget of {self._policy.budget:g} s"
                    ) from exc
                print(f"mlgate: GitHub API: {what}: {retry.reason}; retrying in {retry.wait:.1f} s", file=sys.stderr)
                self._sleep(retry.wait)
                self._waited += retry.wait
                if retry.ambiguous and reconcile is not None:
                    found = reconcile()
                    if found is not None:
                        return found

    @staticmethod
    def _translate(what: str, exc: Exception) -> DriverError:
        status = getattr(exc, "status", None)
        message = _message(exc)
        if status == 403 and message.lower() in NOT_ACCESSIBLE:
            return ReadOnlyToken(f"GitHub API: {what}: the token may not write here ({message})")
        if status == 403:
            return Forbidden(f"GitHub API: {what} was refused: {describe(exc)}")
        hints = {
            401: "the token was rejected; check the `token` input",
            404: "not found; check GITHUB_REPOSITORY, the pull request number and the token's access",
            422: "GitHub refused the content",
        }
        hint = f"; {hints[status]}" if status in hints else ""
        return DriverError(f"GitHub API: {what} failed: {describe(exc)}{hint}")

    # ------------------------------------------------------------------------------------ pull requests

    def pulls_for_commit(self, sha: str) -> list[int]:
        def fetch() -> list[int]:
            pulls = [pull for pull in self._repo.get_commit(sha).get_pulls() if pull.state == "open"]
            at_head = [pull.number for pull in pulls if pull.head.sha == sha]
            return at_head or [pull.number for pull in pulls]

        return self._call(f"list pull requests of commit {sha[:12]}", fetch)

    def pull_head_sha(self, pr_number: int) -> str:
        return self._call(f"read pull request #{pr_number}", lambda: self._repo.get_pull(pr_number).head.sha)

    # ------------------------------------------------------------------------------------ sticky comment

    def _ours(self, issue: Issue, marker: str) -> list[IssueComment]:
        """Our comments with this marker, oldest first, reading every page of the PR's comments."""

        def fetch() -> list[IssueComment]:
            return [
                comment
                for comment in issue.get_comments()
                if marker in (comment.body or "")
                and comment.user is not None
                and comment.user.login.lower() in self._authors
            ]

        return self._call(f"list comments of #{issue.number}", fetch)

    def _create(self, issue: Issue, request: CommentRequest, known: set[int]) -> IssueComment:
        def reconcile() -> IssueComment | None:
            fresh = [c for c in self._ours(issue, request.marker) if c.id not in known and c.body == request.body]
            return fresh[-1] if fresh else None

        comment = self._call(f"comment on #{issue.number}", lambda: issue.create_comment(request.body), reconcile)
        if comment.user is not None and comment.user.login.lower() not in self._authors:
            gha.annotate(
                "warning",
                f"the report was posted as {comment.user.login}, not as {', '.join(sorted(self._authors))}: "
                f"set the comment-author input to {comment.user.login} so later runs update this comment",
            )
        return comment

    def _delete(self, comment: IssueComment) -> None:
        from github import UnknownObjectException

        def delete() -> None:
            # Already gone is fine: a retried delete whose first try went through.
            with contextlib.suppress(UnknownObjectException):
                comment.delete()

        self._call(f"delete comment {comment.id}", delete)

    def upsert_comment(self, request: CommentRequest) -> CommentOutcome:
        issue = self._repo.get_issue(request.pr_number)
        ours = [] if request.mode == "append" else self._ours(issue, request.marker)
        if request.mode == "update" and ours:
            keep, *duplicates = ours  # the oldest stays where reviewers know it; strays from races go
            for comment in duplicates:
                self._delete(comment)
            if keep.body == request.body:
                return CommentOutcome("unchanged", keep.html_url, keep.id)
            self._call(f"update comment {keep.id}", lambda: keep.edit(request.body))
            return CommentOutcome("updated", keep.html_url, keep.id)
        for comment in ours:  # recreate: the old ones go, the new one lands at the bottom
            self._delete(comment)
        created = self._create(issue, request, {comment.id for comment in ours})
        return CommentOutcome("recreated" if ours else "created", created.html_url, created.id)

    # ------------------------------------------------------------------------------------ check run / status

    def _output(self, request: CheckRequest, annotations: list[dict[str, Any]]) -> dict[str, Any]:
        output: dict[str, Any] = {"title": request.title[:255], "summary": request.summary[:CHECK_TEXT_LIMIT]}
        if request.text:
            output["text"] = request.text[:CHECK_TEXT_LIMIT]
        if annotations:
            output["annotations"] = annotations
        return output

    def _create_check_run(self, request: CheckRequest, first: list[dict[str, Any]]) -> CheckRun:
        external_id = uuid.uuid4().hex  # finds this very run again if the create's response is lost

        def reconcile() -> CheckRun | None:
            runs = self._call(
                f"list check runs of {request.head_sha[:12]}",
                lambda: list(self._repo.get_commit(request.head_sha).get_check_runs(check_name=request.name)),
            )
            return next((run for run in runs if run.external_id == external_id), None)

        return self._call(
            f"create check run {request.name!r}",
            lambda: self._repo.create_check_run(
                name=request.name,
                head_sha=request.head_sha,
                external_id=external_id,
                conclusion=request.conclusion,
                output=self._output(request, first),
                **({"details_url": request.details_url} if request.details_url else {}),
            ),
            reconcile,
        )

    def _add_annotations(self, run: CheckRun, request: CheckRequest, batches: list[list[dict[str, Any]]]) -> None:
        """Annotations past the first 50, 50 per update; GitHub appends them, so a retried batch that had
        already landed (lost response) is detected by the run's annotation count instead of sent twice."""
        sent = len(batches[0]) if batches else 0
        for batch in batches[1:]:
            expected = sent + len(batch)

            def reconcile(expected: int = expected) -> bool | None:
                fresh = self._call(f"read check run {run.id}", lambda: self._repo.get_check_run(run.id))
                return True if fresh.output.annotations_count >= expected else None

            def send(batch: list[dict[str, Any]] = batch) -> bool:
                run.edit(output=self._output(request, batch))
                return True

            self._call(f"annotate check run {run.id}", send, reconcile)
            sent = expected

    def publish_check(self, request: CheckRequest) -> CheckOutcome:
        payloads = [note.as_github() for note in request.annotations[:MAX_ANNOTATIONS_PER_CHECK]]
        batches = [
            payloads[start : start + MAX_ANNOTATIONS_PER_REQUEST]
            for start in range(0, len(payloads), MAX_ANNOTATIONS_PER_REQUEST)
        ]
        try:
            run = self._create_check_run(request, batches[0] if batches else [])
        except Forbidden:
            # Checks need a GitHub App token with checks: write; a PAT ("You must authenticate via a GitHub
            # App.") or a workflow without that permission gets 403. A commit status still gates the merge.
            return self._publish_status(request)
        self._add_annotations(run, request, batches)
        return CheckOutcome("check_run", run.html_url, run.id)

    def _publish_status(self, request: CheckRequest) -> CheckOutcome:
        commit = self._repo.get_commit(request.head_sha)
        status = self._call(
            f"set commit status {request.name!r}",
            lambda: commit.create_status(
                state=request.status_state,
                description=request.title[:MAX_STATUS_DESCRIPTION],
                context=request.name,
                **({"target_url": request.details_url} if request.details_url else {}),
            ),
        )
        return CheckOutcome("status", request.details_url, status.id)

    # ------------------------------------------------------------------------------------ job summary

    def write_summary(self, key: str, markdown: str) -> bool:
        return gha.append_summary(markdown)
