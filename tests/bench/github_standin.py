"""GitHub REST API stand-in: a real HTTP server on 127.0.0.1 that PyGithub talks to unchanged.

It implements the subset of the API mlgate uses with GitHub's JSON shapes, status codes and error bodies
(see /work/shared/GITHUB_API_FACTS.md for the sources), keeps its state in memory, records every request,
and injects faults scripted per test (error statuses, rate limits, slow responses, dropped connections).

    with GitHubStandIn() as gh:
        gh.add_repo("octo/demo")
        gh.add_token("ghs_test")
        client = github.Github(base_url=gh.base_url, auth=github.Auth.Token("ghs_test"))

The base URL looks like GitHub Enterprise's (`http://127.0.0.1:PORT/api/v3`), so it works both as PyGithub's
`base_url` and as `GITHUB_API_URL`; `server_url` is the matching `GITHUB_SERVER_URL` (root of html_url's).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from bench.github_state import (
    ACTIONS_BOT_ID,
    ACTIONS_BOT_LOGIN,
    REACTIONS,
    ROLES,
    CheckRun,
    Commit,
    CommitComment,
    Deployment,
    DeploymentStatus,
    Issue,
    IssueComment,
    Label,
    Pull,
    Reaction,
    Repo,
    Shapes,
    Status,
    TagObject,
    Token,
    User,
    Workflow,
    WorkflowRun,
)

API_PREFIX = "/api/v3"
DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = f"{DOCS}/using-the-rest-api/rate-limits-for-the-rest-api"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
SCOPES = ("metadata", "contents", "issues", "pull_requests", "checks", "statuses", "deployments", "actions")
LEVELS = {"none": 0, "read": 1, "write": 2}
MAX_COMMENT_BODY = 65536
MAX_CHECK_OUTPUT = 65535
MAX_ANNOTATIONS = 50
MAX_STATUSES_PER_CONTEXT = 1000
PRIMARY_RATE_MESSAGE = "API rate limit exceeded for installation ID 1."
SECONDARY_RATE_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach "
    "out to GitHub Support for help, please include the request ID 0000:1111:2222:3333:44444444."
)
NOT_ACCESSIBLE = {
    "app": "Resource not accessible by integration",
    "pat": "Resource not accessible by personal access token",
}
CHECK_RUN_STATUSES = ("queued", "in_progress", "completed")
CHECK_RUN_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
)
COMMIT_STATES = ("error", "failure", "pending", "success")
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
ANNOTATION_LEVELS = ("notice", "warning", "failure")


class ApiError(Exception):
    """An error response in GitHub's shape: {"message", "documentation_url", "status"[, "errors"]}."""

    def __init__(self, status: int, message: str, *, errors: list[Any] | None = None, docs: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.docs = docs

    def body(self, docs: str) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            data["errors"] = self.errors
        return data | {"documentation_url": self.docs or docs, "status": str(self.status)}


def invalid_request(detail: str) -> ApiError:
    """GitHub's schema-validation 422 (wrong type, missing field, too long)."""
    return ApiError(422, f"Invalid request.\n\n{detail}")


def validation_failed(resource: str, field_name: str, code: str, message: str | None = None) -> ApiError:
    """GitHub's semantic-validation 422 with an `errors` entry."""
    error = {"resource": resource, "code": code, "field": field_name}
    return ApiError(422, "Validation Failed", errors=[error if message is None else error | {"message": message}])


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON value, or str/bytes sent verbatim; None sends an empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str  # below the base URL, percent-decoded per segment: "/repos/octo/demo/git/refs/tags/m#prod#3"
    query: dict[str, str]  # decoded query parameters (last value wins)
    body: Any  # parsed JSON body; the raw text if it was not JSON; None if there was no body
    token: str | None  # from "Authorization: token X" / "Bearer X"
    headers: dict[str, str]
    raw_path: str  # exactly as sent, with the base URL prefix and the query string
    status: int | None = None  # status answered; None while pending or when the connection was dropped
    answer: Any = None  # the JSON body answered, as sent (None: no body, or not JSON)
    fault: Fault | None = None  # the fault that hit this request, if any


@dataclass
class Fault:
    """A scripted misbehaviour for requests whose method and path match; see `GitHubStandIn.fault`."""

    method: str
    path: str
    status: int | None
    body: Any
    headers: dict[str, str]
    delay: float
    reset: bool
    after_apply: bool
    times: int | None
    rate_limit_reset_in: int | None  # primary rate limit: X-RateLimit-Reset this long after the response
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        exhausted = self.times is not None and self.hits >= self.times
        return not exhausted and self.method in ("*", method) and re.fullmatch(self.path, path) is not None

    @property
    def replaces_response(self) -> bool:
        return self.status is not None or self.reset

    def response_headers(self) -> dict[str, str]:
        if self.rate_limit_reset_in is None:
            return dict(self.headers)
        reset = int(time.time()) + self.rate_limit_reset_in
        return self.headers | {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}


@dataclass
class Call:
    """A routed request: what handlers see."""

    request: RecordedRequest
    token: Token  # the anonymous bucket when no token was sent
    params: dict[str, str]
    repo: Repo

    @property
    def query(self) -> dict[str, str]:
        return self.request.query

    def number(self, name: str) -> int:
        value = self.params[name]
        if not value.isdigit():
            raise ApiError(404, "Not Found")
        return int(value)

    def obj(self) -> dict[str, Any]:
        body = self.request.body
        if body is None:
            return {}
        if isinstance(body, str):
            raise ApiError(400, "Problems parsing JSON")
        if not isinstance(body, dict):
            raise ApiError(400, "Body should be a JSON object")
        return body


@dataclass
class Route:
    method: str
    segments: tuple[str, ...]
    handler: Callable[[GitHubStandIn, Call], Reply]
    scope: str  # "issues|pull_requests" means either permission suffices
    docs: str

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for index, pattern in enumerate(self.segments):
            if pattern.endswith("*}"):  # the rest of the path, slashes included (git ref names)
                params[pattern[1:-2]] = "/".join(segments[index:])
                return params
            if index >= len(segments):
                return None
            if pattern.startswith("{"):
                params[pattern[1:-1]] = segments[index]
            elif pattern != segments[index]:
                return None
        return params if len(segments) == len(self.segments) else None


ROUTES: list[Route] = []


def route(method: str, pattern: str, scope: str, docs: str) -> Callable[[Any], Any]:
    def register(handler: Callable[[GitHubStandIn, Call], Reply]) -> Callable[[GitHubStandIn, Call], Reply]:
        ROUTES.append(Route(method, tuple(pattern.strip("/").split("/")), handler, scope, f"{DOCS}/{docs}"))
        return handler

    return register


def split_path(raw_path: str) -> list[str]:
    """Percent-decoded segments of the path below the API prefix; a %2F inside a segment stays in it."""
    path = urlsplit(raw_path).path
    relative = path[len(API_PREFIX) :] if path.startswith(f"{API_PREFIX}/") else path
    segments = [unquote(segment) for segment in relative.split("/")[1:]]
    return segments[:-1] if segments and not segments[-1] else segments


def parse_time(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_request(f'"{name}" is not a valid ISO 8601 timestamp.') from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def require_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise invalid_request(f'"{name}" wasn\'t supplied.')
    if not isinstance(value, str):
        raise invalid_request(f"For 'properties/{name}', {json.dumps(value)} is not a string.")
    return value


def one_of(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise invalid_request(f"For 'properties/{name}', {json.dumps(value)} is not one of {list(allowed)}.")
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow-response fault may still sleep when the test ends
    standin: GitHubStandIn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.github.com, so PyGithub reuses its pool
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle would add 40 ms to each
    server: _Server

    def serve_any_method(self) -> None:
        self.server.standin._serve(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = serve_any_method

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: tests read `GitHubStandIn.requests` instead."""


class GitHubStandIn:
    """The stand-in server and its state. The server runs from construction until `close()`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1_000_001)
        self._users: dict[str, User] = {}
        self._tokens: dict[str, Token] = {}
        self._anonymous = Token("", "", "anonymous", {}, rate_limit=60)
        self._repos: dict[str, Repo] = {}
        self._default_repo: str | None = None
        self._faults: list[Fault] = []
        self._rate_reset = int(time.time()) + 3600
        self.requests: list[RecordedRequest] = []
        self.internal_errors: list[str] = []  # stand-in bugs, answered as 500; the fixture asserts none
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        port = self._server.server_address[1]
        self.server_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.server_url}{API_PREFIX}"
        self._shapes = Shapes(self.base_url, self.server_url, self._users)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="github-standin",
            daemon=True,
        )
        self._thread.start()

    def __enter__(self) -> GitHubStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # ----------------------------------------------------------------------------------------- seeding

    def add_user(self, login: str, *, type: str | None = None) -> User:
        """Register a user ("Bot" if the login ends in [bot], else "User"), or return the known one."""
        with self._lock:
            if login.lower() not in self._users:
                kind = type or ("Bot" if login.endswith("[bot]") else "User")
                ident = ACTIONS_BOT_ID if login == ACTIONS_BOT_LOGIN else next(self._ids)
                self._users[login.lower()] = User(login, ident, kind, self._now())
            return self._users[login.lower()]

    def add_token(
        self,
        value: str,
        *,
        kind: str = "app",
        login: str | None = None,
        permissions: dict[str, str] | None = None,
        read_only: bool = False,
        rate_limit: int | None = None,
    ) -> Token:
        """Register a token.

        kind "app" is an Actions GITHUB_TOKEN / installation token acting as github-actions[bot] (GET /user
        is 403 for it); kind "pat" is a personal access token of `login` (default "octocat"), which GitHub
        refuses for check runs. Permissions map scopes (metadata, contents, issues, pull_requests, checks,
        statuses, deployments) to none/read/write: all write by default, all read with `read_only` (a fork
        PR's token), or exactly `permissions` (unlisted scopes none, metadata read), like a workflow's
        `permissions:` block.
        `rate_limit` is the hourly budget (GITHUB_TOKEN's 1000 for apps, 5000 for PATs).
        """
        if kind not in ("app", "pat"):
            raise ValueError(f"token kind must be 'app' or 'pat', not {kind!r}")
        if permissions is not None:
            unknown = set(permissions) - set(SCOPES)
            if unknown or not set(permissions.values()) <= set(LEVELS):
                raise ValueError(f"bad permissions {permissions!r}; scopes are {SCOPES}, levels {list(LEVELS)}")
            granted = {"metadata": "read"} | {scope: "none" for scope in SCOPES[1:]} | permissions
        else:
            granted = dict.fromkeys(SCOPES, "read" if read_only else "write")
        owner = login or (ACTIONS_BOT_LOGIN if kind == "app" else "octocat")
        self.add_user(owner)
        budget = rate_limit or (1000 if kind == "app" else 5000)
        with self._lock:
            self._tokens[value] = Token(value, owner, kind, granted, budget)
            return self._tokens[value]

    def add_repo(self, full_name: str, *, default_branch: str = "main", private: bool = False) -> Repo:
        """Create a repository with one commit on its default branch. The first repo added is the default
        `repo` of the other seed helpers."""
        return self._create_repo(full_name, default_branch=default_branch, private=private)

    def repo(self, full_name: str | None = None) -> Repo:
        """The state record of a repository (default: the first one added), to inspect in assertions."""
        name = full_name or self._default_repo
        if name is None or name.lower() not in self._repos:
            raise KeyError(f"no repository {name!r} in the stand-in")
        return self._repos[name.lower()]

    def add_commit(
        self,
        sha: str | None = None,
        *,
        repo: str | None = None,
        message: str = "commit",
        parents: list[str] | None = None,
        branch: str | None = None,
    ) -> str:
        """Add a commit (generated sha unless given, e.g. one from a real local git repo); return its sha.

        With `branch`, the commit's parent defaults to the branch head and the branch (created if missing)
        moves to it, like a push.
        """
        with self._lock:
            record = self.repo(repo)
            head = record.refs.get(f"refs/heads/{branch}") if branch else None
            if parents is None:
                parents = [head] if head else []
            commit_sha = self._put_commit(record, sha, message, parents)
            if branch:
                record.refs[f"refs/heads/{branch}"] = commit_sha
            return commit_sha

    def add_pull(
        self,
        *,
        repo: str | None = None,
        head_ref: str = "feature",
        head_sha: str | None = None,
        base_ref: str | None = None,
        base_sha: str | None = None,
        commits: list[str] | None = None,
        fork: bool = False,
        user: str = "contributor",
        title: str = "Improve the model",
        body: str | None = None,
        state: str = "open",
        draft: bool = False,
    ) -> Pull:
        """Open a pull request (next free number). Missing commits are created: `commits` (oldest first,
        default one new commit, or just `head_sha`) on top of `base_sha` (default: the head of `base_ref`,
        default branch by default). With `fork`, the head branch lives in `<user>/<name>`, a fork."""
        with self._lock:
            base = self.repo(repo)
            base_ref = base_ref or base.default_branch
            base_sha = base_sha or base.refs.get(f"refs/heads/{base_ref}")
            if base_sha is None:
                raise KeyError(f"no branch {base_ref!r} in {base.full_name}; pass base_sha to create it")
            base_sha = self._put_commit(base, base_sha, "base", [])
            base.refs.setdefault(f"refs/heads/{base_ref}", base_sha)
            head = base
            if fork:
                fork_name = f"{user}/{base.name}"
                head = self._repos.get(fork_name.lower()) or self._create_repo(
                    fork_name, default_branch=base.default_branch, private=False, parent=base
                )
            chain = [base_sha]
            for sha in commits or [head_sha]:
                chain.append(self._put_commit(base, sha, f"change {len(chain)}", [chain[-1]]))
            self._refuse_duplicate_pull(base, head, head_ref, base_ref)
            head.refs[f"refs/heads/{head_ref}"] = chain[-1]
            pull = self._open_pull(base, head, (head_ref, base_ref, base_sha), chain[1:], user, title, body)
            pull.draft = draft
            if state == "closed":
                pull.issue.state, pull.issue.closed_at = "closed", self._now()
            return pull

    def add_comments(
        self,
        n: int,
        *,
        issue: int,
        repo: str | None = None,
        user: str = "octocat",
        body: str = "comment {i}",
    ) -> list[IssueComment]:
        """Add `n` comments to issue/PR `issue`; `body` is formatted with i = 1..n."""
        with self._lock:
            record = self.repo(repo)
            if issue not in record.issues:
                raise KeyError(f"no issue or pull request #{issue} in {record.full_name}")
            self.add_user(user)
            return [self._put_comment(record, issue, body.format(i=i), user) for i in range(1, n + 1)]

    def add_check_run(
        self,
        *,
        head_sha: str,
        name: str = "mlgate",
        repo: str | None = None,
        status: str = "completed",
        conclusion: str | None = "success",
    ) -> CheckRun:
        """Add a check run (made by GitHub Actions) on a known commit."""
        body: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if conclusion is not None:
            body["conclusion"] = conclusion
        with self._lock:
            return self._put_check_run(self.repo(repo), body)

    def add_status(
        self,
        *,
        sha: str,
        state: str = "success",
        context: str = "default",
        repo: str | None = None,
        description: str | None = None,
        target_url: str | None = None,
    ) -> Status:
        """Add a commit status (by github-actions[bot]) on a known commit."""
        body = {"state": state, "context": context, "description": description, "target_url": target_url}
        with self._lock:
            record = self.repo(repo)
            self.add_user(ACTIONS_BOT_LOGIN)
            return self._put_status(record, self._known_commit(record, sha), body, ACTIONS_BOT_LOGIN)

    def add_collaborator(self, login: str, role: str, *, repo: str | None = None) -> None:
        """Give `login` a repository role (read, triage, write, maintain, admin); the owner is admin."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        with self._lock:
            self.add_user(login)
            self.repo(repo).collaborators[login.lower()] = role

    def add_workflow(
        self,
        file: str,
        *,
        name: str | None = None,
        dispatch_inputs: tuple[str, ...] | None = None,
        repo: str | None = None,
    ) -> Workflow:
        """A workflow `.github/workflows/<file>`; with `dispatch_inputs` it has a workflow_dispatch trigger
        taking those inputs."""
        with self._lock:
            record = self.repo(repo)
            workflow = Workflow(
                next(self._ids), f".github/workflows/{file}", name or file, self._now(), dispatch_inputs
            )
            record.workflows[workflow.id] = workflow
            return workflow

    def add_workflow_run(
        self,
        workflow: Workflow,
        *,
        head_sha: str,
        event: str = "pull_request",
        head_branch: str | None = None,
        pulls: tuple[int, ...] = (),
        actor: str = "contributor",
        repo: str | None = None,
        status: str = "completed",
        conclusion: str | None = "success",
    ) -> WorkflowRun:
        with self._lock:
            record = self.repo(repo)
            self.add_user(actor)
            return self._put_run(
                record,
                workflow,
                event,
                self._known_commit(record, head_sha),
                head_branch,
                actor,
                list(pulls),
                status=status,
                conclusion=conclusion,
            )

    def comment_event(self, comment: IssueComment, *, action: str = "created", repo: str | None = None) -> dict:
        """The `issue_comment` webhook payload GitHub delivers for `comment` (GITHUB_EVENT_PATH's content)."""
        with self._lock:
            record = self.repo(repo)
            return {
                "action": action,
                "issue": self._shapes.issue(record, record.issues[comment.issue_number]),
                "comment": self._shapes.issue_comment(record, comment),
                "repository": self._shapes.repo(record),
                "sender": self._shapes.user(comment.user),
            }

    def env(self, token: str = "ghs_test", repo: str | None = None) -> dict[str, str]:
        """The environment variables a GitHub Actions step would see for this stand-in."""
        return {
            "GITHUB_API_URL": self.base_url,
            "GITHUB_SERVER_URL": self.server_url,
            "GITHUB_GRAPHQL_URL": f"{self.server_url}/api/graphql",
            "GITHUB_REPOSITORY": self.repo(repo).full_name,
            "GITHUB_TOKEN": token,
        }

    # ----------------------------------------------------------------------------------- faults, log

    def fault(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
        rate_limit: str | None = None,
        reset_in: int = 1,
        delay: float = 0.0,
        reset: bool = False,
        after_apply: bool = False,
    ) -> Fault:
        """Script a fault for the next `times` requests (None: all) of `method` ("*": any) whose decoded path
        below the base URL fully matches the regex `path`, e.g. r"/repos/octo/demo/issues/\\d+/comments".

        - `status`: answer this status with `body` (dict → JSON; str/bytes verbatim; default GitHub's JSON
          error with the status phrase) and extra `headers`.
        - `retry_after`: add a Retry-After header (seconds).
        - `rate_limit="primary"`: 403 "API rate limit exceeded for installation ID 1." with
          X-RateLimit-Remaining 0 and X-RateLimit-Reset `reset_in` seconds from now.
          `rate_limit="secondary"`: 403 "You have exceeded a secondary rate limit. …".
        - `delay`: sleep that long first (then answer normally unless another option says otherwise; a client
          that timed out still has the side effect applied, as on GitHub).
        - `reset`: close the connection without any response.
        - `after_apply`: process the request for real (state changes), then answer the fault instead.
        The first matching fault (in registration order) applies. Returns the Fault; `.hits` counts uses.
        """
        extra = dict(headers or {})
        if rate_limit is not None:
            if rate_limit not in ("primary", "secondary"):
                raise ValueError("rate_limit must be 'primary' or 'secondary'")
            status = 403
            message = PRIMARY_RATE_MESSAGE if rate_limit == "primary" else SECONDARY_RATE_MESSAGE
            body = {"message": message, "documentation_url": RATE_LIMIT_DOCS}
        if retry_after is not None:
            extra["Retry-After"] = f"{retry_after:g}"
        if status is not None and body is None:
            body = ApiError(status, HTTPStatus(status).phrase).body(DOCS)
        if status is not None and reset:
            raise ValueError("a fault either answers a status or resets the connection, not both")
        if after_apply and status is None and not reset:
            raise ValueError("after_apply needs a status or reset to answer after applying the request")
        if status is None and not reset and not delay:
            raise ValueError("a fault needs status, rate_limit, reset or delay")
        reset_at = reset_in if rate_limit == "primary" else None
        new = Fault(method.upper(), path, status, body, extra, delay, reset, after_apply, times, reset_at)
        with self._lock:
            self._faults.append(new)
        return new

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, optionally only of `method` and with a decoded path fully matching `path`."""
        with self._lock:
            return [
                request
                for request in self.requests
                if (method is None or request.method == method.upper())
                and (path is None or re.fullmatch(path, request.path))
            ]

    # ------------------------------------------------------------------------------------ HTTP plumbing

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        request = self._read(handler)
        with self._lock:
            self.requests.append(request)
            token = self._tokens.get(request.token) if request.token is not None else self._anonymous
            if token is not None and request.path != "/rate_limit":
                token.used += 1
            fault = next((f for f in self._faults if f.matches(request.method, request.path)), None)
            if fault is not None:
                fault.hits += 1
                request.fault = fault
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        reply = None
        if fault is None or not fault.replaces_response or fault.after_apply:
            reply = self._respond(request, token)
        if fault is not None and fault.reset:
            handler.close_connection = True
            # Linger 0 makes the close an RST, as a dropping proxy does; the client sees a connection error.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if fault is not None and fault.status is not None:
            reply = Reply(fault.status, fault.body, fault.response_headers())
        assert reply is not None
        if fault is not None and fault.status is None:
            reply.headers |= fault.response_headers()
        request.status = reply.status
        if reply.body is not None and not isinstance(reply.body, bytes | str):
            request.answer = json.loads(json.dumps(reply.body))  # a copy: the state it was made of moves on
        self._send(handler, reply, token or self._anonymous)

    @staticmethod
    def _read(handler: BaseHTTPRequestHandler) -> RecordedRequest:
        length = int(handler.headers.get("Content-Length") or 0)
        text = handler.rfile.read(length).decode() if length else ""
        body: Any = None
        if text:
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                body = text
        auth = handler.headers.get("Authorization", "")
        scheme, _, credential = auth.partition(" ")
        token = credential.strip() if scheme.lower() in ("token", "bearer") else None
        return RecordedRequest(
            method=handler.command,
            path="/" + "/".join(split_path(handler.path)),
            query=dict(parse_qsl(urlsplit(handler.path).query, keep_blank_values=True)),
            body=body,
            token=token,
            headers=dict(handler.headers.items()),
            raw_path=handler.path,
        )

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply, bucket: Token) -> None:
        if reply.body is None:
            payload, kind = b"", None
        elif isinstance(reply.body, bytes | str):
            payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
            kind = "text/html; charset=utf-8"
        else:
            payload, kind = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        headers = {
            "X-RateLimit-Limit": str(bucket.rate_limit),
            "X-RateLimit-Remaining": str(max(bucket.rate_limit - bucket.used, 0)),
            "X-RateLimit-Reset": str(self._rate_reset),
            "X-RateLimit-Used": str(bucket.used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": f"0000:{len(self.requests):04X}",
        }
        if kind is not None:
            headers["Content-Type"] = kind
        headers |= reply.headers
        try:
            handler.send_response(reply.status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (timeout), as clients do

    def _respond(self, request: RecordedRequest, token: Token | None) -> Reply:
        docs = DOCS
        try:
            if token is None:
                raise ApiError(401, "Bad credentials")
            if token.used > token.rate_limit and request.path != "/rate_limit":
                raise ApiError(403, PRIMARY_RATE_MESSAGE, docs=RATE_LIMIT_DOCS)
            segments = split_path(request.raw_path)
            if not request.raw_path.startswith(f"{API_PREFIX}/"):
                raise ApiError(404, "Not Found")
            for candidate in ROUTES:
                params = candidate.match(segments)
                if params is None or candidate.method != request.method:
                    continue
                docs = candidate.docs
                with self._lock:
                    repo = self._authorize(candidate, request.method, token, params)
                    return candidate.handler(self, Call(request, token, params, repo))
            raise ApiError(404, "Not Found")
        except ApiError as error:
            return Reply(error.status, error.body(docs))
        except Exception:  # a bug in the stand-in: make it visible rather than a dropped connection
            self.internal_errors.append(f"{request.method} {request.raw_path}\n{traceback.format_exc()}")
            return Reply(500, {"message": "GitHub stand-in bug; see GitHubStandIn.internal_errors"})

    def _authorize(self, target: Route, method: str, token: Token, params: dict[str, str]) -> Repo:
        repo = self._repos.get(f"{params.get('owner')}/{params.get('repo')}".lower())
        if "owner" in params and (repo is None or (repo.private and token is self._anonymous)):
            raise ApiError(404, "Not Found")
        writing = method in WRITE_METHODS
        if token is self._anonymous:
            if writing or target.scope == "user":
                raise ApiError(401, "Requires authentication")
        elif target.scope not in ("public", "user"):
            need = LEVELS["write" if writing else "read"]
            if max(LEVELS[token.permissions[scope]] for scope in target.scope.split("|")) < need:
                raise ApiError(403, NOT_ACCESSIBLE[token.kind])
        return repo  # type: ignore[return-value]  # routes without {owner}/{repo} ignore it

    def _page(self, call: Call, items: list[Any], wrap: str | None = None) -> Reply:
        """One page of `items` with GitHub's RFC 5988 Link header (omitted when everything fits one page)."""
        query = call.query
        per_page = min(max(int(query["per_page"]), 1), 100) if query.get("per_page", "").isdigit() else 30
        page = max(int(query["page"]), 1) if query.get("page", "").isdigit() else 1
        last = max(math.ceil(len(items) / per_page), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        path = urlsplit(call.request.raw_path).path

        def link(number: int, rel: str) -> str:
            return f'<{self.server_url}{path}?{urlencode(query | {"page": str(number)})}>; rel="{rel}"'

        links = [link(page + 1, "next"), link(last, "last")] if page < last else []
        if page > 1:
            links += [link(1, "first"), link(min(page - 1, last), "prev")]
        body = chunk if wrap is None else {"total_count": len(items), wrap: chunk}
        return Reply(200, body, {"Link": ", ".join(links)} if links else {})

    @staticmethod
    def _created(body: dict[str, Any]) -> Reply:
        return Reply(201, body, {"Location": body["url"]})

    # ---------------------------------------------------------------------------------- state helpers

    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def _create_repo(self, full_name: str, *, default_branch: str, private: bool, parent: Repo | None = None) -> Repo:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository name must be owner/name, not {full_name!r}")
        with self._lock:
            if full_name.lower() in self._repos:
                raise ValueError(f"repository {full_name} already exists")
            self.add_user(owner)
            origin = parent.full_name if parent else None
            repo = Repo(next(self._ids), owner, name, default_branch, private, origin, self._now())
            self._repos[full_name.lower()] = repo
            self._default_repo = self._default_repo or full_name
            if parent is None:
                repo.refs[f"refs/heads/{default_branch}"] = self._put_commit(repo, None, "Initial commit", [])
            else:
                repo.commits = parent.commits  # a fork network shares its objects, as on GitHub
                repo.refs[f"refs/heads/{default_branch}"] = parent.refs[f"refs/heads/{default_branch}"]
            return repo

    def _put_commit(self, repo: Repo, sha: str | None, message: str, parents: list[str]) -> str:
        """Store a commit unless known; a missing sha is derived from a counter, like a real new commit."""
        if sha is None:
            sha = hashlib.sha1(f"{repo.full_name}:{next(self._ids)}".encode()).hexdigest()
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise ValueError(f"a commit sha is 40 lowercase hex digits, not {sha!r}")
        if sha not in repo.commits:
            repo.commits[sha] = Commit(sha, message, parents, "Octo Cat", "octocat@example.com", self._now())
        return sha

    def _resolve(self, repo: Repo, ref: str) -> str | None:
        """The commit sha a ref names: full or abbreviated sha, branch, tag, heads/x, tags/x, refs/...;
        annotated tags are peeled to their commit."""
        sha = ref if ref in repo.commits or ref in repo.tags else None
        for name in (ref, f"refs/{ref}", f"refs/heads/{ref}", f"refs/tags/{ref}"):
            if sha is None and name in repo.refs:
                sha = repo.refs[name]
        if sha is None and re.fullmatch(r"[0-9a-f]{7,39}", ref):
            matches = [known for known in repo.commits if known.startswith(ref)]
            sha = matches[0] if len(matches) == 1 else None
        while sha is not None and sha in repo.tags:
            sha = repo.tags[sha].object_sha
        return sha

    def _known_commit(self, repo: Repo, ref: str) -> str:
        sha = self._resolve(repo, ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return sha

    def _is_ancestor(self, repo: Repo, ancestor: str, sha: str) -> bool:
        seen, todo = set(), [sha]
        while todo:
            current = todo.pop()
            if current == ancestor:
                return True
            if current not in seen and current in repo.commits:
                seen.add(current)
                todo.extend(repo.commits[current].parents)
        return False

    def _new_issue(self, repo: Repo, title: str, body: str | None, user: str, *, is_pull: bool) -> Issue:
        number = max([0, *repo.issues]) + 1
        now = self._now()
        issue = Issue(next(self._ids), number, title, body, user, now, now, is_pull=is_pull)
        repo.issues[number] = issue
        return issue

    def _open_pull(
        self,
        base: Repo,
        head: Repo,
        refs: tuple[str, str, str],
        commits: list[str],
        user: str,
        title: str,
        body: str | None,
    ) -> Pull:
        """Open a PR from `head` into `base`. refs: (head_ref, base_ref, base_sha); commits: oldest first."""
        head_ref, base_ref, base_sha = refs
        self.add_user(user)
        record = self._new_issue(base, title, body, user, is_pull=True)
        pull = Pull(next(self._ids), record, head.full_name, head_ref, commits[-1], base_ref, base_sha, commits)
        base.pulls[record.number] = pull
        base.refs[f"refs/pull/{record.number}/head"] = pull.head_sha
        return pull

    @staticmethod
    def _refuse_duplicate_pull(base: Repo, head: Repo, head_ref: str, base_ref: str) -> None:
        for pull in base.pulls.values():
            if (pull.issue.state, pull.head_repo, pull.head_ref, pull.base_ref) == (
                "open",
                head.full_name,
                head_ref,
                base_ref,
            ):
                message = f"A pull request already exists for {head.owner}:{head_ref}."
                error = {"resource": "PullRequest", "code": "custom", "message": message}
                raise ApiError(422, "Validation Failed", errors=[error])

    def _put_comment(self, repo: Repo, issue: int, body: str, user: str) -> IssueComment:
        now = self._now()
        comment = IssueComment(next(self._ids), issue, body, user, now, now)
        repo.comments[comment.id] = comment
        repo.issues[issue].updated_at = now
        return comment

    def _put_status(self, repo: Repo, sha: str, body: dict[str, Any], creator: str) -> Status:
        state = one_of(body.get("state"), COMMIT_STATES, "state")
        context = body.get("context") or "default"
        same = [s for s in repo.statuses if s.sha == sha and s.context.lower() == context.lower()]
        if len(same) >= MAX_STATUSES_PER_CONTEXT:
            raise validation_failed(
                "Status",
                "context",
                "custom",
                "This SHA and context has reached the maximum number of statuses.",
            )
        status = Status(
            next(self._ids),
            sha,
            state,
            context,
            body.get("description"),
            body.get("target_url"),
            creator,
            self._now(),
        )
        repo.statuses.append(status)
        return status

    def _put_check_run(self, repo: Repo, body: dict[str, Any]) -> CheckRun:
        name = require_str(body, "name")
        sha = self._known_commit(repo, require_str(body, "head_sha"))
        suite = next((run.check_suite_id for run in repo.check_runs.values() if run.head_sha == sha), None)
        run = CheckRun(next(self._ids), name, sha, suite or next(self._ids), "queued", *[None] * 8)
        self._apply_check_run(run, body)
        repo.check_runs[run.id] = run
        return run

    def _apply_check_run(self, run: CheckRun, body: dict[str, Any]) -> None:
        """Validate everything first, then apply: a 422 leaves the run unchanged, as on GitHub."""
        status = one_of(body["status"], CHECK_RUN_STATUSES, "status") if "status" in body else None
        conclusion = one_of(body["conclusion"], CHECK_RUN_CONCLUSIONS, "conclusion") if "conclusion" in body else None
        started = parse_time(body["started_at"], "started_at") if body.get("started_at") else None
        completed = parse_time(body["completed_at"], "completed_at") if body.get("completed_at") else None
        if conclusion is None and (status == "completed" or completed is not None) and run.conclusion is None:
            raise invalid_request('"conclusion" wasn\'t supplied.')
        output = body.get("output")
        annotations: list[dict[str, Any]] = []
        if output is not None:
            if not isinstance(output, dict):
                raise invalid_request(f"For 'properties/output', {json.dumps(output)} is not an object.")
            require_str(output, "title")
            require_str(output, "summary")
            for key in ("summary", "text"):
                if len(output.get(key) or "") > MAX_CHECK_OUTPUT:
                    supplied = len(output[key])
                    raise invalid_request(f"Only {MAX_CHECK_OUTPUT} characters are allowed; {supplied} were supplied.")
            annotations = [self._annotation(item) for item in output.get("annotations") or []]
            if len(annotations) > MAX_ANNOTATIONS:
                raise invalid_request(
                    f"Only {MAX_ANNOTATIONS} annotations are allowed per request; {len(annotations)} were supplied."
                )
        for key in ("name", "details_url", "external_id"):
            if key in body:
                setattr(run, key, body[key])
        run.started_at = started or run.started_at or self._now()
        if status is not None:
            run.status = status
        if conclusion is not None:
            run.conclusion, run.status = conclusion, "completed"  # a conclusion forces completed
        if run.status == "completed":
            run.completed_at = completed or run.completed_at or self._now()
        if output is not None:
            run.title, run.summary = output["title"], output["summary"]
            run.text = output.get("text", run.text)
            run.annotations += annotations  # each request appends, as GitHub does

    @staticmethod
    def _annotation(item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise invalid_request(f"For 'items', {json.dumps(item)} is not an object.")
        for key in ("path", "message"):
            require_str(item, key)
        for key in ("start_line", "end_line"):
            if not isinstance(item.get(key), int):
                raise invalid_request(f'"{key}" wasn\'t supplied.')
        one_of(item.get("annotation_level"), ANNOTATION_LEVELS, "annotation_level")
        has_columns = item.get("start_column") is not None or item.get("end_column") is not None
        if has_columns and item["start_line"] != item["end_line"]:
            raise invalid_request("start_column and end_column are only allowed when start_line equals end_line.")
        return dict(item)

    def _contexts(self, repo: Repo, sha: str) -> dict[str, str]:
        """Latest state per context of a commit: commit statuses and check runs (conclusion, else status)."""
        states: dict[str, str] = {}
        for status in repo.statuses:
            if status.sha == sha:
                states[status.context] = status.state
        for run in sorted(repo.check_runs.values(), key=lambda run: run.id):
            if run.head_sha == sha:
                states[run.name] = run.conclusion or run.status
        return states

    # ----------------------------------------------------------------------------- routes: misc, repos

    @route(
        "GET",
        "/rate_limit",
        "public",
        "rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user",
    )
    def _get_rate_limit(self, call: Call) -> Reply:
        bucket = call.token
        core = {"limit": bucket.rate_limit, "used": bucket.used, "reset": self._rate_reset}
        core["remaining"] = max(bucket.rate_limit - bucket.used, 0)
        others = {"search": 30, "graphql": 5000, "integration_manifest": 5000, "code_search": 10}
        resources = {"core": core} | {
            name: {"limit": limit, "used": 0, "remaining": limit, "reset": self._rate_reset}
            for name, limit in others.items()
        }
        return Reply(200, {"resources": resources, "rate": core})

    @route("GET", "/user", "user", "users/users#get-the-authenticated-user")
    def _get_user(self, call: Call) -> Reply:
        if call.token.kind == "app":
            raise ApiError(403, NOT_ACCESSIBLE["app"])
        return Reply(200, self._shapes.full_user(call.token.login))

    @route("GET", "/users/{login}", "public", "users/users#get-a-user")
    def _get_named_user(self, call: Call) -> Reply:
        if call.params["login"].lower() not in self._users:
            raise ApiError(404, "Not Found")
        return Reply(200, self._shapes.full_user(call.params["login"]))

    @route("GET", "/repos/{owner}/{repo}", "metadata", "repos/repos#get-a-repository")
    def _get_repo(self, call: Call) -> Reply:
        return Reply(200, self._shapes.repo(call.repo, parents=self._repos))

    # ------------------------------------------------------------------------------------ routes: pulls

    def _pull(self, call: Call) -> Pull:
        pull = call.repo.pulls.get(call.number("number"))
        if pull is None:
            raise ApiError(404, "Not Found")
        return pull

    def _pull_json(self, call: Call, pull: Pull, *, simple: bool = False) -> dict[str, Any]:
        return self._shapes.pull(self._repos, call.repo, pull, simple=simple)

    @route("GET", "/repos/{owner}/{repo}/pulls", "pull_requests", "pulls/pulls#list-pull-requests")
    def _list_pulls(self, call: Call) -> Reply:
        state = call.query.get("state", "open")
        one_of(state, ("open", "closed", "all"), "state")
        head = call.query.get("head")
        owner, _, ref = head.rpartition(":") if head else ("", "", "")
        owner = owner or call.repo.owner  # GitHub wants user:ref; a bare ref means the base repo's owner
        pulls = [
            pull
            for pull in call.repo.pulls.values()
            if state in ("all", pull.issue.state)
            and (not head or (pull.head_repo.split("/")[0].lower() == owner.lower() and pull.head_ref == ref))
            and call.query.get("base", pull.base_ref) == pull.base_ref
        ]
        key = "updated_at" if call.query.get("sort") == "updated" else "created_at"
        pulls.sort(key=lambda pull: (getattr(pull.issue, key), pull.id), reverse=call.query.get("direction") != "asc")
        return self._page(call, [self._pull_json(call, pull, simple=True) for pull in pulls])

    @route("POST", "/repos/{owner}/{repo}/pulls", "pull_requests", "pulls/pulls#create-a-pull-request")
    def _create_pull(self, call: Call) -> Reply:
        body = call.obj()
        base_ref, head_spec = require_str(body, "base"), require_str(body, "head")
        title = require_str(body, "title")
        owner, _, head_ref = head_spec.rpartition(":")
        head = call.repo
        if owner and owner.lower() != call.repo.owner.lower():
            forks = [
                r for r in self._repos.values() if r.parent == call.repo.full_name and r.owner.lower() == owner.lower()
            ]
            if not forks:
                raise validation_failed("PullRequest", "head", "invalid")
            head = forks[0]
        if f"refs/heads/{base_ref}" not in call.repo.refs:
            raise validation_failed("PullRequest", "base", "invalid")
        if f"refs/heads/{head_ref}" not in head.refs:
            raise validation_failed("PullRequest", "head", "invalid")
        self._refuse_duplicate_pull(call.repo, head, head_ref, base_ref)
        base_sha = call.repo.refs[f"refs/heads/{base_ref}"]
        chain: list[str] = []  # first-parent walk from the head back to the base history
        sha: str | None = head.refs[f"refs/heads/{head_ref}"]
        while sha is not None and not self._is_ancestor(call.repo, sha, base_sha) and len(chain) < 250:
            chain.append(sha)
            sha = next(iter(call.repo.commits[sha].parents), None) if sha in call.repo.commits else None
        if not chain:
            message = f"No commits between {base_ref} and {head_ref}"
            raise ApiError(
                422,
                "Validation Failed",
                errors=[{"resource": "PullRequest", "code": "custom", "message": message}],
            )
        refs = (head_ref, base_ref, base_sha)
        pull = self._open_pull(call.repo, head, refs, chain[::-1], call.token.login, title, body.get("body"))
        pull.draft = bool(body.get("draft", False))
        pull.maintainer_can_modify = bool(body.get("maintainer_can_modify", False))
        return self._created(self._pull_json(call, pull))

    @route("GET", "/repos/{owner}/{repo}/pulls/{number}", "pull_requests", "pulls/pulls#get-a-pull-request")
    def _get_pull(self, call: Call) -> Reply:
        return Reply(200, self._pull_json(call, self._pull(call)))

    @route("PATCH", "/repos/{owner}/{repo}/pulls/{number}", "pull_requests", "pulls/pulls#update-a-pull-request")
    def _update_pull(self, call: Call) -> Reply:
        pull, body = self._pull(call), call.obj()
        if "state" in body:
            one_of(body["state"], ("open", "closed"), "state")
        if "base" in body and f"refs/heads/{body['base']}" not in call.repo.refs:
            raise validation_failed("PullRequest", "base", "invalid")
        issue = pull.issue
        issue.title = body.get("title", issue.title)
        issue.body = body.get("body", issue.body)
        if "base" in body:
            pull.base_ref, pull.base_sha = body["base"], call.repo.refs[f"refs/heads/{body['base']}"]
        if body.get("state", issue.state) != issue.state:
            issue.state = body["state"]
            issue.closed_at = self._now() if issue.state == "closed" else None
        issue.updated_at = self._now()
        return Reply(200, self._pull_json(call, pull))

    @route(
        "GET",
        "/repos/{owner}/{repo}/pulls/{number}/commits",
        "pull_requests",
        "pulls/pulls#list-commits-on-a-pull-request",
    )
    def _list_pull_commits(self, call: Call) -> Reply:
        shas = self._pull(call).commits[:250]  # GitHub caps this list at 250 commits
        return self._page(
            call, [self._shapes.commit(call.repo, call.repo.commits[sha], with_stats=False) for sha in shas]
        )

    # ---------------------------------------------------------------------------------- routes: commits

    @route("GET", "/repos/{owner}/{repo}/commits/{ref}", "contents", "commits/commits#get-a-commit")
    def _get_commit(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["ref"])
        return Reply(200, self._shapes.commit(call.repo, call.repo.commits[sha]))

    @route(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/pulls",
        "pull_requests",
        "commits/commits#list-pull-requests-associated-with-a-commit",
    )
    def _list_commit_pulls(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["ref"])
        # Merges are not modelled, so the associated PRs are the open ones containing the commit.
        pulls = [p for p in call.repo.pulls.values() if p.issue.state == "open" and sha in p.commits]
        return self._page(call, [self._pull_json(call, pull, simple=True) for pull in pulls])

    @route(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/comments",
        "contents",
        "commits/comments#list-commit-comments",
    )
    def _list_commit_comments(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["ref"])
        comments = [c for c in call.repo.commit_comments.values() if c.commit_id == sha]
        return self._page(call, [self._shapes.commit_comment(call.repo, comment) for comment in comments])

    @route(
        "POST",
        "/repos/{owner}/{repo}/commits/{ref}/comments",
        "contents",
        "commits/comments#create-a-commit-comment",
    )
    def _create_commit_comment(self, call: Call) -> Reply:
        body = call.obj()
        text = require_str(body, "body")
        sha = self._known_commit(call.repo, call.params["ref"])
        now = self._now()
        comment = CommitComment(
            next(self._ids),
            sha,
            text,
            body.get("path"),
            body.get("position"),
            body.get("line"),
            call.token.login,
            now,
            now,
        )
        call.repo.commit_comments[comment.id] = comment
        return self._created(self._shapes.commit_comment(call.repo, comment))

    @route("GET", "/repos/{owner}/{repo}/comments/{id}", "contents", "commits/comments#get-a-commit-comment")
    def _get_commit_comment(self, call: Call) -> Reply:
        comment = call.repo.commit_comments.get(call.number("id"))
        if comment is None:
            raise ApiError(404, "Not Found")
        return Reply(200, self._shapes.commit_comment(call.repo, comment))

    # ------------------------------------------------------------------------ routes: issues, comments

    def _issue(self, call: Call) -> Issue:
        issue = call.repo.issues.get(call.number("number"))
        if issue is None:
            raise ApiError(404, "Not Found")
        return issue

    def _comment(self, call: Call) -> IssueComment:
        comment = call.repo.comments.get(call.number("id"))
        if comment is None:
            raise ApiError(404, "Not Found")
        return comment

    @staticmethod
    def _comment_body(body: dict[str, Any]) -> str:
        text = require_str(body, "body")
        if len(text) > MAX_COMMENT_BODY:
            raise validation_failed(
                "IssueComment",
                "body",
                "custom",
                f"body is too long (maximum is {MAX_COMMENT_BODY} characters)",
            )
        return text

    @route("GET", "/repos/{owner}/{repo}/issues", "issues", "issues/issues#list-repository-issues")
    def _list_issues(self, call: Call) -> Reply:
        """Issues and pull requests (GitHub lists both here), newest first; state and labels (all of them) filter."""
        state = one_of(call.query.get("state", "open"), ("open", "closed", "all"), "state")
        wanted = [name.strip().lower() for name in call.query.get("labels", "").split(",") if name.strip()]
        found = [
            issue
            for issue in sorted(call.repo.issues.values(), key=lambda issue: -issue.number)
            if state in ("all", issue.state) and all(name in issue.labels for name in wanted)
        ]
        return self._page(call, [self._shapes.issue(call.repo, issue) for issue in found])

    def _issue_text(self, body: dict[str, Any], name: str, *, required: bool) -> str | None:
        value = body.get(name)
        if value is None and not required:
            return None
        if required and (value is None or value == ""):
            raise validation_failed("Issue", name, "missing_field")
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise invalid_request(f"For 'properties/{name}', {json.dumps(value)} is not a string.")
        if len(str(value)) > MAX_COMMENT_BODY:
            raise validation_failed(
                "Issue", name, "custom", f"{name} is too long (maximum is {MAX_COMMENT_BODY} characters)"
            )
        return str(value)

    @route("POST", "/repos/{owner}/{repo}/issues", "issues", "issues/issues#create-an-issue")
    def _create_issue(self, call: Call) -> Reply:
        body = call.obj()
        title = self._issue_text(body, "title", required=True)
        issue = self._new_issue(call.repo, title or "", self._issue_text(body, "body", required=False),
                                call.token.login, is_pull=False)  # fmt: skip
        if "labels" in body:
            issue.labels = list(dict.fromkeys(self._label_names(call)))
        return self._created(self._shapes.issue(call.repo, issue))

    @route("PATCH", "/repos/{owner}/{repo}/issues/{number}", "issues|pull_requests", "issues/issues#update-an-issue")
    def _update_issue(self, call: Call) -> Reply:
        issue, body = self._issue(call), call.obj()
        if "title" in body:
            issue.title = self._issue_text(body, "title", required=True) or issue.title
        if "body" in body:
            issue.body = self._issue_text(body, "body", required=False)
        if "state" in body:
            issue.state = one_of(body["state"], ("open", "closed"), "state")
            issue.closed_at = self._now() if issue.state == "closed" else None
        if "labels" in body:
            issue.labels = list(dict.fromkeys(self._label_names(call)))
        issue.updated_at = self._now()
        return Reply(200, self._shapes.issue(call.repo, issue))

    @route("GET", "/repos/{owner}/{repo}/issues/{number}", "issues|pull_requests", "issues/issues#get-an-issue")
    def _get_issue(self, call: Call) -> Reply:
        return Reply(200, self._shapes.issue(call.repo, self._issue(call)))

    @route(
        "GET",
        "/repos/{owner}/{repo}/issues/{number}/comments",
        "issues|pull_requests",
        "issues/comments#list-issue-comments",
    )
    def _list_comments(self, call: Call) -> Reply:
        issue = self._issue(call)
        since = parse_time(call.query["since"], "since") if call.query.get("since") else None
        comments = [
            c
            for c in sorted(call.repo.comments.values(), key=lambda c: c.id)
            if c.issue_number == issue.number and (since is None or c.updated_at >= since)
        ]
        return self._page(call, [self._shapes.issue_comment(call.repo, comment) for comment in comments])

    @route(
        "POST",
        "/repos/{owner}/{repo}/issues/{number}/comments",
        "issues|pull_requests",
        "issues/comments#create-an-issue-comment",
    )
    def _create_comment(self, call: Call) -> Reply:
        issue, text = self._issue(call), self._comment_body(call.obj())
        comment = self._put_comment(call.repo, issue.number, text, call.token.login)
        return self._created(self._shapes.issue_comment(call.repo, comment))

    @route(
        "GET",
        "/repos/{owner}/{repo}/issues/comments/{id}",
        "issues|pull_requests",
        "issues/comments#get-an-issue-comment",
    )
    def _get_comment(self, call: Call) -> Reply:
        return Reply(200, self._shapes.issue_comment(call.repo, self._comment(call)))

    @route(
        "PATCH",
        "/repos/{owner}/{repo}/issues/comments/{id}",
        "issues|pull_requests",
        "issues/comments#update-an-issue-comment",
    )
    def _update_comment(self, call: Call) -> Reply:
        comment = self._comment(call)
        comment.body = self._comment_body(call.obj())
        comment.updated_at = self._now()
        return Reply(200, self._shapes.issue_comment(call.repo, comment))

    @route(
        "DELETE",
        "/repos/{owner}/{repo}/issues/comments/{id}",
        "issues|pull_requests",
        "issues/comments#delete-an-issue-comment",
    )
    def _delete_comment(self, call: Call) -> Reply:
        del call.repo.comments[self._comment(call).id]
        return Reply(204)

    # ----------------------------------------------------------------------------------- routes: labels

    def _labels_json(self, repo: Repo, issue: Issue) -> list[dict[str, Any]]:
        return [self._shapes.label(repo, repo.labels[name]) for name in issue.labels]

    def _label_names(self, call: Call) -> list[str]:
        body = call.request.body
        items = body.get("labels") if isinstance(body, dict) else body  # a bare array, or {"labels": [...]}
        if not isinstance(items, list):
            raise invalid_request('"labels" wasn\'t supplied.')
        names = [item.get("name") if isinstance(item, dict) else item for item in items]
        if not all(isinstance(name, str) and name for name in names):
            raise validation_failed("Label", "name", "invalid")
        for name in names:
            if name.lower() not in call.repo.labels:  # unknown labels are created, as on GitHub
                call.repo.labels[name.lower()] = Label(next(self._ids), name, "ededed", None)
        return [name.lower() for name in names]

    @route(
        "GET",
        "/repos/{owner}/{repo}/issues/{number}/labels",
        "issues|pull_requests",
        "issues/labels#list-labels-for-an-issue",
    )
    def _list_issue_labels(self, call: Call) -> Reply:
        return self._page(call, self._labels_json(call.repo, self._issue(call)))

    @route(
        "POST",
        "/repos/{owner}/{repo}/issues/{number}/labels",
        "issues|pull_requests",
        "issues/labels#add-labels-to-an-issue",
    )
    def _add_labels(self, call: Call) -> Reply:
        issue = self._issue(call)
        issue.labels += [name for name in dict.fromkeys(self._label_names(call)) if name not in issue.labels]
        return Reply(200, self._labels_json(call.repo, issue))

    @route(
        "PUT",
        "/repos/{owner}/{repo}/issues/{number}/labels",
        "issues|pull_requests",
        "issues/labels#set-labels-for-an-issue",
    )
    def _set_labels(self, call: Call) -> Reply:
        issue = self._issue(call)
        issue.labels = list(dict.fromkeys(self._label_names(call)))
        return Reply(200, self._labels_json(call.repo, issue))

    @route(
        "DELETE",
        "/repos/{owner}/{repo}/issues/{number}/labels",
        "issues|pull_requests",
        "issues/labels#remove-all-labels-from-an-issue",
    )
    def _remove_all_labels(self, call: Call) -> Reply:
        self._issue(call).labels.clear()
        return Reply(204)

    @route(
        "DELETE",
        "/repos/{owner}/{repo}/issues/{number}/labels/{name}",
        "issues|pull_requests",
        "issues/labels#remove-a-label-from-an-issue",
    )
    def _remove_label(self, call: Call) -> Reply:
        issue = self._issue(call)
        if call.params["name"].lower() not in issue.labels:
            raise ApiError(404, "Label does not exist")
        issue.labels.remove(call.params["name"].lower())
        return Reply(200, self._labels_json(call.repo, issue))

    @route("GET", "/repos/{owner}/{repo}/labels/{name}", "issues|pull_requests", "issues/labels#get-a-label")
    def _get_label(self, call: Call) -> Reply:
        label = call.repo.labels.get(call.params["name"].lower())
        if label is None:
            raise ApiError(404, "Not Found")
        return Reply(200, self._shapes.label(call.repo, label))

    # ------------------------------------------------------------------------------- routes: check runs

    def _check_run(self, call: Call) -> CheckRun:
        run = call.repo.check_runs.get(call.number("id"))
        if run is None:
            raise ApiError(404, "Not Found")
        return run

    def _require_app(self, call: Call) -> None:
        if call.token.kind == "pat":
            raise ApiError(
                403,
                "You must authenticate via a GitHub App.",
                docs=f"{DOCS}/reference/checks#create-a-check-run",
            )

    @route("POST", "/repos/{owner}/{repo}/check-runs", "checks", "checks/runs#create-a-check-run")
    def _create_check_run(self, call: Call) -> Reply:
        self._require_app(call)
        return self._created(self._shapes.check_run(call.repo, self._put_check_run(call.repo, call.obj())))

    @route("GET", "/repos/{owner}/{repo}/check-runs/{id}", "checks", "checks/runs#get-a-check-run")
    def _get_check_run(self, call: Call) -> Reply:
        return Reply(200, self._shapes.check_run(call.repo, self._check_run(call)))

    @route("PATCH", "/repos/{owner}/{repo}/check-runs/{id}", "checks", "checks/runs#update-a-check-run")
    def _update_check_run(self, call: Call) -> Reply:
        self._require_app(call)
        run = self._check_run(call)
        self._apply_check_run(run, call.obj())
        return Reply(200, self._shapes.check_run(call.repo, run))

    @route(
        "GET",
        "/repos/{owner}/{repo}/check-runs/{id}/annotations",
        "checks",
        "checks/runs#list-check-run-annotations",
    )
    def _list_annotations(self, call: Call) -> Reply:
        run = self._check_run(call)
        return self._page(call, [self._shapes.annotation(call.repo, run, item) for item in run.annotations])

    @route(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        "checks",
        "checks/runs#list-check-runs-for-a-git-reference",
    )
    def _list_check_runs(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["ref"])
        query = call.query
        one_of(query.get("filter", "latest"), ("latest", "all"), "filter")
        runs = [
            run
            for run in sorted(call.repo.check_runs.values(), key=lambda run: -run.id)
            if run.head_sha == sha
            and query.get("check_name", run.name) == run.name
            and query.get("status", run.status) == run.status
        ]
        if query.get("filter", "latest") == "latest":
            runs = list({run.name: run for run in reversed(runs)}.values())[::-1]  # newest per name
        return self._page(call, [self._shapes.check_run(call.repo, run) for run in runs], wrap="check_runs")

    # --------------------------------------------------------------------------------- routes: statuses

    @route("POST", "/repos/{owner}/{repo}/statuses/{sha}", "statuses", "commits/statuses#create-a-commit-status")
    def _create_status(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["sha"])
        status = self._put_status(call.repo, sha, call.obj(), call.token.login)
        return self._created(self._shapes.status(call.repo, status))

    @route(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/status",
        "statuses",
        "commits/statuses#get-the-combined-status-for-a-specific-reference",
    )
    def _combined_status(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["ref"])
        latest: dict[str, Status] = {}
        for status in call.repo.statuses:
            if status.sha == sha:
                latest[status.context.lower()] = status  # contexts are case-insensitive
        states = {status.state for status in latest.values()}
        if states & {"error", "failure"}:
            state = "failure"
        elif not states or "pending" in states:
            state = "pending"
        else:
            state = "success"
        return Reply(200, self._shapes.combined_status(call.repo, sha, state, list(latest.values())))

    @route(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/statuses",
        "statuses",
        "commits/statuses#list-commit-statuses-for-a-reference",
    )
    def _list_statuses(self, call: Call) -> Reply:
        sha = self._known_commit(call.repo, call.params["ref"])
        statuses = [status for status in reversed(call.repo.statuses) if status.sha == sha]  # newest first
        return self._page(call, [self._shapes.status(call.repo, status) for status in statuses])

    @route(
        "GET",
        "/repos/{owner}/{repo}/statuses/{ref}",
        "statuses",
        "commits/statuses#list-commit-statuses-for-a-reference",
    )
    def _list_statuses_legacy(self, call: Call) -> Reply:
        return self._list_statuses(call)

    # ------------------------------------------------------------------------------ routes: deployments

    def _deployment(self, call: Call) -> Deployment:
        deployment = call.repo.deployments.get(call.number("id"))
        if deployment is None:
            raise ApiError(404, "Not Found")
        return deployment

    @route(
        "POST",
        "/repos/{owner}/{repo}/deployments",
        "deployments",
        "deployments/deployments#create-a-deployment",
    )
    def _create_deployment(self, call: Call) -> Reply:
        body, repo = call.obj(), call.repo
        ref = require_str(body, "ref")
        sha = self._resolve(repo, ref)
        if sha is None:
            raise ApiError(422, f"No ref found for: {ref}")
        branch = f"refs/heads/{ref}" if f"refs/heads/{ref}" in repo.refs and ref != repo.default_branch else None
        default_head = repo.refs[f"refs/heads/{repo.default_branch}"]
        if body.get("auto_merge", True) and branch and not self._is_ancestor(repo, default_head, sha):
            # GitHub merges the default branch into a branch behind it and creates no deployment (202).
            message = f"Merge {repo.default_branch} into {ref}"
            repo.refs[branch] = self._put_commit(repo, None, message, [sha, default_head])
            return Reply(202, {"message": f"Auto-merged {repo.default_branch} into {ref} on deployment."})
        required = body.get("required_contexts")
        if required is not None and not (isinstance(required, list) and all(isinstance(c, str) for c in required)):
            raise invalid_request(
                f"For 'properties/required_contexts', {json.dumps(required)} is not an array of strings."
            )
        states = self._contexts(repo, sha)
        checked = states if required is None else required  # omitted: every context; []: no check at all
        failing = [{"context": c, "state": states.get(c, "missing")} for c in checked if states.get(c) != "success"]
        if failing:
            error = {
                "contexts": failing,
                "resource": "Deployment",
                "field": "required_contexts",
                "code": "invalid",
            }
            raise ApiError(409, f"Conflict: Commit status checks failed for {ref}.", errors=[error])
        environment = body.get("environment") or "production"
        deployment = Deployment(
            next(self._ids),
            sha,
            ref,
            body.get("task") or "deploy",
            body.get("payload", {}),
            environment,
            body.get("description"),
            call.token.login,
            bool(body.get("transient_environment", False)),
            bool(body.get("production_environment", environment == "production")),
            self._now(),
        )
        repo.deployments[deployment.id] = deployment
        return self._created(self._shapes.deployment(repo, deployment))

    @route("GET", "/repos/{owner}/{repo}/deployments", "deployments", "deployments/deployments#list-deployments")
    def _list_deployments(self, call: Call) -> Reply:
        filters = {key: call.query[key] for key in ("sha", "ref", "task", "environment") if call.query.get(key)}
        deployments = [
            d
            for d in sorted(call.repo.deployments.values(), key=lambda d: -d.id)  # newest first
            if all(getattr(d, key) == value for key, value in filters.items())
        ]
        return self._page(call, [self._shapes.deployment(call.repo, deployment) for deployment in deployments])

    @route(
        "GET",
        "/repos/{owner}/{repo}/deployments/{id}",
        "deployments",
        "deployments/deployments#get-a-deployment",
    )
    def _get_deployment(self, call: Call) -> Reply:
        return Reply(200, self._shapes.deployment(call.repo, self._deployment(call)))

    @route(
        "POST",
        "/repos/{owner}/{repo}/deployments/{id}/statuses",
        "deployments",
        "deployments/statuses#create-a-deployment-status",
    )
    def _create_deployment_status(self, call: Call) -> Reply:
        deployment, body = self._deployment(call), call.obj()
        state = one_of(body.get("state"), DEPLOYMENT_STATES, "state")
        description = body.get("description") or ""
        if len(description) > 140:
            raise validation_failed(
                "DeploymentStatus",
                "description",
                "custom",
                "description is too long (maximum is 140 characters)",
            )
        previous = deployment.statuses[-1].environment if deployment.statuses else deployment.environment
        status = DeploymentStatus(
            next(self._ids),
            state,
            description,
            body.get("environment") or previous,
            body.get("environment_url") or "",
            body.get("log_url") or body.get("target_url") or "",  # log_url replaces target_url
            call.token.login,
            self._now(),
        )
        deployment.statuses.append(status)
        if state == "success" and body.get("auto_inactive", True):
            self._inactivate_prior(call.repo, deployment, status)
        return self._created(self._shapes.deployment_status(call.repo, deployment, status))

    def _inactivate_prior(self, repo: Repo, current: Deployment, status: DeploymentStatus) -> None:
        """auto_inactive: prior non-transient, non-production deployments of the environment that were
        successful get an `inactive` status (GitHub docs)."""
        for other in repo.deployments.values():
            if (
                other.id < current.id
                and not other.transient
                and not other.production
                and other.statuses
                and other.statuses[-1].environment == status.environment
                and other.statuses[-1].state == "success"
            ):
                other.statuses.append(
                    DeploymentStatus(
                        next(self._ids),
                        "inactive",
                        "",
                        status.environment,
                        "",
                        "",
                        status.creator,
                        self._now(),
                    )
                )

    @route(
        "GET",
        "/repos/{owner}/{repo}/deployments/{id}/statuses",
        "deployments",
        "deployments/statuses#list-deployment-statuses",
    )
    def _list_deployment_statuses(self, call: Call) -> Reply:
        deployment = self._deployment(call)
        statuses = [self._shapes.deployment_status(call.repo, deployment, s) for s in reversed(deployment.statuses)]
        return self._page(call, statuses)  # newest first

    @route(
        "GET",
        "/repos/{owner}/{repo}/deployments/{id}/statuses/{status_id}",
        "deployments",
        "deployments/statuses#get-a-deployment-status",
    )
    def _get_deployment_status(self, call: Call) -> Reply:
        deployment = self._deployment(call)
        wanted = call.number("status_id")
        for status in deployment.statuses:
            if status.id == wanted:
                return Reply(200, self._shapes.deployment_status(call.repo, deployment, status))
        raise ApiError(404, "Not Found")

    # ------------------------------------------------------------------------------ routes: git refs/tags

    def _ref_name(self, call: Call) -> str:
        name = f"refs/{call.params['ref']}"
        if name not in call.repo.refs:
            raise ApiError(404, "Not Found")
        return name

    def _known_object(self, repo: Repo, sha: Any) -> str:
        if not isinstance(sha, str) or (sha not in repo.commits and sha not in repo.tags):
            raise ApiError(422, "Object does not exist")
        return sha

    @route("GET", "/repos/{owner}/{repo}/git/ref/{ref*}", "contents", "git/refs#get-a-reference")
    def _get_ref(self, call: Call) -> Reply:
        return Reply(200, self._shapes.git_ref(call.repo, self._ref_name(call)))

    @route("GET", "/repos/{owner}/{repo}/git/refs/{ref*}", "contents", "git/refs#get-a-reference")
    def _get_ref_by_url(self, call: Call) -> Reply:
        if not call.params["ref"]:
            return self._page(call, [self._shapes.git_ref(call.repo, name) for name in sorted(call.repo.refs)])
        return self._get_ref(call)

    @route(
        "GET",
        "/repos/{owner}/{repo}/git/matching-refs/{ref*}",
        "contents",
        "git/refs#list-matching-references",
    )
    def _matching_refs(self, call: Call) -> Reply:
        prefix = f"refs/{call.params['ref']}"
        # GitHub ignores per_page here and returns every match in one response, without a Link header.
        names = sorted(name for name in call.repo.refs if name.startswith(prefix))
        return Reply(200, [self._shapes.git_ref(call.repo, name) for name in names])

    @route("POST", "/repos/{owner}/{repo}/git/refs", "contents", "git/refs#create-a-reference")
    def _create_ref(self, call: Call) -> Reply:
        body = call.obj()
        name = require_str(body, "ref")
        if not name.startswith("refs/") or name.count("/") < 2 or "@{" in name or name.endswith("/"):
            raise ApiError(422, f"{name} is not a valid ref name.")
        sha = self._known_object(call.repo, body.get("sha"))
        if name in call.repo.refs:
            raise ApiError(422, "Reference already exists")
        call.repo.refs[name] = sha
        return self._created(self._shapes.git_ref(call.repo, name))

    @route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref*}", "contents", "git/refs#update-a-reference")
    def _update_ref(self, call: Call) -> Reply:
        name = f"refs/{call.params['ref']}"
        if name not in call.repo.refs:
            raise ApiError(422, "Reference does not exist")
        # Without real git objects ancestry can't be trusted, so a non-fast-forward is accepted as if forced.
        call.repo.refs[name] = self._known_object(call.repo, call.obj().get("sha"))
        return Reply(200, self._shapes.git_ref(call.repo, name))

    @route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref*}", "contents", "git/refs#delete-a-reference")
    def _delete_ref(self, call: Call) -> Reply:
        name = f"refs/{call.params['ref']}"
        if name not in call.repo.refs:
            raise ApiError(422, "Reference does not exist")
        if name == f"refs/heads/{call.repo.default_branch}":
            raise ApiError(422, "A request was made to delete the default branch.")
        del call.repo.refs[name]
        return Reply(204)

    @route("POST", "/repos/{owner}/{repo}/git/tags", "contents", "git/tags#create-a-tag-object")
    def _create_tag(self, call: Call) -> Reply:
        body = call.obj()
        tag, message = require_str(body, "tag"), require_str(body, "message")
        target = self._known_object(call.repo, body.get("object"))
        kind = one_of(body.get("type"), ("commit", "tree", "blob", "tag"), "type")
        tagger = body.get("tagger")
        content = json.dumps([tag, message, target, kind, tagger, next(self._ids)])
        record = TagObject(hashlib.sha1(content.encode()).hexdigest(), tag, message, target, kind, tagger)
        call.repo.tags[record.sha] = record
        return self._created(self._shapes.git_tag(call.repo, record))

    @route("GET", "/repos/{owner}/{repo}/git/tags/{sha}", "contents", "git/tags#get-a-tag")
    def _get_tag(self, call: Call) -> Reply:
        record = call.repo.tags.get(call.params["sha"])
        if record is None:
            raise ApiError(404, "Not Found")
        return Reply(200, self._shapes.git_tag(call.repo, record))

    # ------------------------------------------------------------------------ routes: collaborators, reactions

    @route(
        "GET",
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
        "metadata",
        "collaborators/collaborators#get-repository-permissions-for-a-user",
    )
    def _collaborator_permission(self, call: Call) -> Reply:
        login = call.params["username"]
        user = self._users.get(login.lower())
        if user is None:
            raise ApiError(404, "Not Found")
        repo = call.repo
        role = "admin" if login.lower() == repo.owner.lower() else repo.collaborators.get(login.lower())
        if role is None and not repo.private:
            role = "read"  # everyone may read a public repository
        return Reply(200, self._shapes.collaborator_permission(user.login, role))

    def _reacted_comment(self, call: Call) -> IssueComment:
        comment = call.repo.comments.get(call.number("comment_id"))
        if comment is None:
            raise ApiError(404, "Not Found")
        return comment

    @route(
        "GET",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        "issues|pull_requests",
        "reactions/reactions#list-reactions-for-an-issue-comment",
    )
    def _list_reactions(self, call: Call) -> Reply:
        comment = self._reacted_comment(call)
        wanted = call.query.get("content")
        if wanted is not None:
            one_of(wanted, REACTIONS, "content")
        found = [r for r in call.repo.reactions.get(comment.id, []) if wanted in (None, r.content)]
        return self._page(call, [self._shapes.reaction(reaction) for reaction in found])

    @route(
        "POST",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        "issues|pull_requests",
        "reactions/reactions#create-reaction-for-an-issue-comment",
    )
    def _create_reaction(self, call: Call) -> Reply:
        comment = self._reacted_comment(call)
        content = one_of(call.obj().get("content"), REACTIONS, "content")
        reactions = call.repo.reactions.setdefault(comment.id, [])
        mine = next((r for r in reactions if r.user == call.token.login and r.content == content), None)
        if mine is not None:  # "A response with an HTTP 200 status means that you already added the reaction"
            return Reply(200, self._shapes.reaction(mine))
        reaction = Reaction(next(self._ids), content, call.token.login, self._now())
        reactions.append(reaction)
        return Reply(201, self._shapes.reaction(reaction))

    # ---------------------------------------------------------------------------- routes: actions workflows

    def _workflow(self, call: Call) -> Workflow:
        """By id or by file name, as GitHub accepts both."""
        wanted = call.params["workflow_id"]
        for workflow in call.repo.workflows.values():
            if str(workflow.id) == wanted or workflow.path.rsplit("/", 1)[-1] == wanted:
                return workflow
        raise ApiError(404, "Not Found")

    def _put_run(
        self,
        repo: Repo,
        workflow: Workflow,
        event: str,
        sha: str,
        branch: str | None,
        actor: str,
        pulls: list[int],
        *,
        inputs: dict[str, Any] | None = None,
        status: str = "queued",
        conclusion: str | None = None,
    ) -> WorkflowRun:
        number = 1 + sum(run.workflow_id == workflow.id for run in repo.runs.values())
        run = WorkflowRun(
            next(self._ids),
            workflow.id,
            number,
            event,
            sha,
            branch,
            actor,
            self._now(),
            status,
            conclusion,
            inputs=inputs,
            pull_numbers=pulls,
        )
        repo.runs[run.id] = run
        return run

    @route(
        "GET",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}",
        "actions",
        "actions/workflows#get-a-workflow",
    )
    def _get_workflow(self, call: Call) -> Reply:
        return Reply(200, self._shapes.workflow(call.repo, self._workflow(call)))

    @route(
        "GET",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
        "actions",
        "actions/workflow-runs#list-workflow-runs-for-a-workflow",
    )
    def _list_workflow_runs(self, call: Call) -> Reply:
        workflow, query = self._workflow(call), call.query
        runs = [
            run
            for run in sorted(call.repo.runs.values(), key=lambda run: -run.id)  # newest first
            if run.workflow_id == workflow.id
            and query.get("head_sha", run.head_sha) == run.head_sha
            and query.get("event", run.event) == run.event
            and query.get("branch", run.head_branch) == run.head_branch
            and query.get("status", run.status) in (run.status, run.conclusion)
        ]
        return self._page(call, [self._shapes.workflow_run(call.repo, run) for run in runs], wrap="workflow_runs")

    @route(
        "POST",
        "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun",
        "actions",
        "actions/workflow-runs#re-run-a-workflow",
    )
    def _rerun(self, call: Call) -> Reply:
        run = call.repo.runs.get(call.number("run_id"))
        if run is None:
            raise ApiError(404, "Not Found")
        if run.status != "completed":
            raise ApiError(403, "This workflow is already running")
        run.run_attempt += 1
        run.status, run.conclusion = "queued", None
        return Reply(201, {})

    @route(
        "POST",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
        "actions",
        "actions/workflows#create-a-workflow-dispatch-event",
    )
    def _dispatch(self, call: Call) -> Reply:
        workflow, body, repo = self._workflow(call), call.obj(), call.repo
        ref = require_str(body, "ref")
        if workflow.dispatch_inputs is None:
            raise ApiError(422, "Workflow does not have 'workflow_dispatch' trigger")
        sha = repo.refs.get(f"refs/heads/{ref}") or repo.refs.get(f"refs/tags/{ref}") or repo.refs.get(ref)
        if sha is None:
            raise ApiError(422, f"No ref found for: {ref}")
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict) or len(inputs) > 25:
            raise invalid_request("For 'properties/inputs', the value is not an object of at most 25 properties.")
        unexpected = sorted(set(inputs) - set(workflow.dispatch_inputs))
        if unexpected:
            raise ApiError(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
        run = self._put_run(
            repo,
            workflow,
            "workflow_dispatch",
            sha,
            ref.removeprefix("refs/heads/"),
            call.token.login,
            [],
            inputs=dict(inputs),
        )
        if body.get("return_run_details") is True:
            details = {
                "workflow_run_id": run.id,
                "run_url": f"{self._shapes.repo_api(repo)}/actions/runs/{run.id}",
                "html_url": f"{self._shapes.repo_web(repo)}/actions/runs/{run.id}",
            }
            return Reply(200, details)
        return Reply(204)
