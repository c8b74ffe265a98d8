"""What ChatOps asks of GitHub, through the github driver's client and call policy: the commenter's role,
reactions on the command's comment (the idempotency key), the pull request, the reply, re-runs and dispatches.

Importing this module does not import PyGithub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate.drivers.github import GitHubDriver
from mlgate.drivers.protocol import CommentRequest, DriverError


@dataclass(frozen=True)
class PullFacts:
    number: int
    state: str  # open | closed
    head_sha: str
    html_url: str
    head_repo: str | None  # owner/name of the head branch's repository (a fork's; None when it was deleted)


@dataclass(frozen=True)
class RunLink:
    id: int
    html_url: str


class Claim:
    """The outcome of reacting: this delivery took the comment, or another one (or an earlier try whose
    answer was lost: it cannot be told apart, so it counts as taken) already had."""

    TAKEN = "taken"
    ALREADY = "already"


class GitHubChatOps(GitHubDriver):
    def __init__(self, *, repository: str, **options: Any) -> None:
        super().__init__(repository=repository, **options)
        self._repository = repository

    def _request(self, verb: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A request PyGithub has no method for (or whose status it hides), raising GitHub's errors as
        PyGithub does, so the call policy classifies them."""
        import json

        requester = self._client.requester
        status, headers, text = requester.requestJson(verb, path, input=body)
        data = json.loads(text) if text else None
        if status >= 400:
            raise requester.createException(status, headers, data)
        return status, data

    def role_answer(self, login: str) -> dict[str, Any] | None:
        """GitHub's answer about `login`'s permission on the repository; None when GitHub knows no such user."""
        from urllib.parse import quote

        from github import GithubException

        path = f"/repos/{self._repository}/collaborators/{quote(login, safe='')}/permission"

        def read() -> dict[str, Any] | None:
            try:
                return self._request("GET", path)[1]
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise

        return self._call(f"read the permission of {login}", read)

    def our_reactions(self, comment_id: int) -> set[str]:
        """The reactions this token's identity left on the comment."""

        def read() -> set[str]:
            found: set[str] = set()
            page = 1
            while True:
                _, items = self._request(
                    "GET", f"/repos/{self._repository}/issues/comments/{comment_id}/reactions?per_page=100&page={page}"
                )
                for item in items or []:
                    login = ((item or {}).get("user") or {}).get("login", "")
                    if isinstance(login, str) and login.lower() in self._authors:
                        found.add(str(item.get("content")))
                if not items or len(items) < 100:
                    return found
                page += 1

        return self._call(f"list the reactions on comment {comment_id}", read)

    def react(self, comment_id: int, content: str) -> str:
        """React `content` to the comment: Claim.TAKEN when this created the reaction (201), Claim.ALREADY when
        it existed (200), which GitHub decides atomically per user and content."""

        def create() -> str:
            status, _ = self._request(
                "POST", f"/repos/{self._repository}/issues/comments/{comment_id}/reactions", {"content": content}
            )
            if status == 201:
                return Claim.TAKEN
            return Claim.ALREADY  # 200: it was there; after a lost answer possibly our own try, so fail closed

        return self._call(f"react {content} to comment {comment_id}", create)

    def pull(self, number: int) -> PullFacts:
        def read() -> PullFacts:
            pull = self._repo.get_pull(number)
            repo = pull.head.repo
            return PullFacts(number, pull.state, pull.head.sha, pull.html_url, repo.full_name if repo else None)

        return self._call(f"read pull request #{number}", read)

    def reply(self, issue_number: int, comment_id: int, body: str) -> str | None:
        """One reply per command comment (a lost answer is found again by its marker, not posted twice)."""
        marker = f"<!-- mlgate chatops reply to {comment_id} -->"
        outcome = self.upsert_comment(CommentRequest(issue_number, f"{marker}\n{body}", marker, "append"))
        return outcome.url

    def rerun(self, workflow_file: str, head_sha: str) -> RunLink:
        """Re-run the newest pull-request run of `workflow_file` on `head_sha`."""

        def find() -> Any:
            workflow = self._repo.get_workflow(workflow_file)
            runs = [
                run
                for run in workflow.get_runs(head_sha=head_sha)
                if run.event in ("pull_request", "pull_request_target")
            ]
            return runs[0] if runs else None

        run = self._call(f"list the runs of {workflow_file} on {head_sha[:12]}", find)
        if run is None:
            raise DriverError(
                f"{workflow_file} has no pull-request run on the head {head_sha[:7]} to re-run; push a commit to "
                "start one (or set chatops.pr_workflow in mlgate.yml to your pull-request workflow's file)"
            )
        if run.status != "completed":
            raise DriverError(f"run {run.id} of {workflow_file} on {head_sha[:7]} is {run.status}: {run.html_url}")
        self._call(
            f"re-run run {run.id}",
            lambda: self._request("POST", f"/repos/{self._repository}/actions/runs/{run.id}/rerun"),
        )
        return RunLink(run.id, run.html_url)

    def dispatch(self, workflow_file: str, ref: str, inputs: dict[str, str]) -> RunLink | None:
        """Start `workflow_file` on `ref` (workflow_dispatch); the run when GitHub names it."""
        path = f"/repos/{self._repository}/actions/workflows/{workflow_file}/dispatches"
        body = {"ref": ref, "inputs": inputs, "return_run_details": True}
        _, details = self._call(f"dispatch {workflow_file} on {ref}", lambda: self._request("POST", path, body))
        if isinstance(details, dict) and isinstance(details.get("workflow_run_id"), int):
            return RunLink(details["workflow_run_id"], str(details.get("html_url") or ""))
        return None
