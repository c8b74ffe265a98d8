"""Deployment records: a GitHub Deployment with its statuses, or the same record in the local outbox.

The github side extends the github driver (its client, retry and reconcile policy); importing this module
does not import PyGithub.

Both drivers take the same requests, so `mlgate deploy` behaves alike on a laptop and in Actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mlgate.deploy.policy import CHECK_NAME, Gate, gate_from_bundle, gate_from_check
from mlgate.drivers.github import GitHubDriver
from mlgate.drivers.outbox import Outbox
from mlgate.drivers.protocol import DriverError, Forbidden
from mlgate.errors import EXIT_GATE_FAILED, MlgateError
from mlgate.results import StepResult

# GitHub's deployment status states (a status description is cut at 140 characters).
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
MAX_DESCRIPTION = 140


class DeploymentRefused(MlgateError):
    """GitHub refused to create the deployment (its required contexts are not green): a gate failure."""

    exit_code = EXIT_GATE_FAILED


@dataclass(frozen=True)
class DeploymentRequest:
    sha: str  # the exact commit deployed (GitHub's `ref`, so a moving branch cannot change it)
    environment: str
    payload: Mapping[str, Any]
    description: str
    required_contexts: tuple[str, ...] = (CHECK_NAME,)


@dataclass(frozen=True)
class Deployment:
    id: int
    url: str | None  # the API URL on GitHub, the record's file in the local outbox


@dataclass(frozen=True)
class DeploymentStatus:
    state: str
    description: str
    log_url: str | None = None
    environment_url: str | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown deployment state {self.state!r}")


class Deployments(Protocol):
    def gate(self, sha: str) -> Gate:
        """Whether the gate passed on `sha`: the `mlgate` check on GitHub, the results bundle locally."""
        ...

    def create_deployment(self, request: DeploymentRequest) -> Deployment:
        """Create the deployment; DeploymentRefused when its required contexts are not green."""
        ...

    def set_deployment_status(self, deployment: Deployment, status: DeploymentStatus) -> None: ...


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalDeployments:
    """Deployments as outbox records `deployment/<environment>-<id>.json`, each with its statuses in order."""

    def __init__(self, outbox: Outbox, bundle: list[StepResult]) -> None:
        self.outbox, self.bundle = outbox, bundle

    def gate(self, sha: str) -> Gate:
        return gate_from_bundle(self.bundle, sha)

    def create_deployment(self, request: DeploymentRequest) -> Deployment:
        ident = 1 + max((int(r.get("id", 0)) for r in self.outbox.list("deployment")), default=0)
        record = {
            "id": ident,
            "sha": request.sha,
            "environment": request.environment,
            "payload": dict(request.payload),
            "description": request.description,
            "required_contexts": list(request.required_contexts),
            "created_at": _now(),
            "statuses": [],
        }
        path = self.outbox.put("deployment", f"{request.environment}-{ident}", record)
        return Deployment(ident, str(path))

    def set_deployment_status(self, deployment: Deployment, status: DeploymentStatus) -> None:
        records = [r for r in self.outbox.list("deployment") if r.get("id") == deployment.id]
        record = records[0]
        record["statuses"].append(
            {
                "state": status.state,
                "description": status.description[:MAX_DESCRIPTION],
                "log_url": status.log_url,
                "environment_url": status.environment_url,
                "created_at": _now(),
            }
        )
        self.outbox.put("deployment", f"{record['environment']}-{deployment.id}", record)


class GitHubDeployments(GitHubDriver):
    """Deployments through the github driver's client and call policy (bounded retries, lost answers found again).

    The deployment deploys the exact commit (`ref` = sha, `auto_merge` off, so GitHub never merges the default
    branch into it) and lists `mlgate` as its required context, so GitHub itself refuses a red commit.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._created: dict[int, Any] = {}  # PyGithub Deployment objects, to post statuses without a GET

    def gate(self, sha: str) -> Gate:
        from github import GithubException

        commit = self._repo.get_commit(sha)

        def check_run() -> str | None:
            runs = sorted(commit.get_check_runs(check_name=CHECK_NAME), key=lambda run: run.id)
            if not runs:
                return None
            latest = runs[-1]
            return latest.conclusion if latest.status == "completed" else latest.status

        def commit_status() -> str | None:
            found = [s for s in commit.get_combined_status().statuses if s.context.lower() == CHECK_NAME]
            return found[0].state if found else None

        try:
            state = self._call(f"read the {CHECK_NAME} check of {sha[:12]}", check_run)
        except Forbidden:  # no checks: read; the gate may be a commit status anyway
            state = None
        if state is not None:
            return gate_from_check(sha, state, "check run")
        try:
            status = self._call(f"read the {CHECK_NAME} status of {sha[:12]}", commit_status)
        except DriverError as exc:
            if isinstance(exc.__cause__, GithubException) and exc.__cause__.status == 404:
                return Gate(False, f"GitHub does not know commit {sha[:7]}: push it first")
            raise
        return gate_from_check(sha, status, "commit status" if status else "check run")

    def create_deployment(self, request: DeploymentRequest) -> Deployment:
        from github import GithubException

        def create() -> Any:
            return self._repo.create_deployment(
                ref=request.sha,
                task="deploy",
                auto_merge=False,
                required_contexts=list(request.required_contexts),
                payload=dict(request.payload),
                environment=request.environment,
                description=request.description,
                transient_environment=False,
            )

        def reconcile() -> Any:
            wanted = request.payload.get("request_id")
            found = self._repo.get_deployments(sha=request.sha, environment=request.environment)
            return next((d for d in found if (d.payload or {}).get("request_id") == wanted), None)

        what = f"create a deployment of {request.sha[:12]} to {request.environment}"
        try:
            created = self._call(what, create, reconcile)
        except DriverError as exc:
            cause = exc.__cause__
            if isinstance(cause, GithubException) and cause.status == 409:
                raise DeploymentRefused(_conflict(cause)) from None
            raise
        self._created[created.id] = created
        return Deployment(created.id, created.url)

    def set_deployment_status(self, deployment: Deployment, status: DeploymentStatus) -> None:
        target = self._created.get(deployment.id) or self._repo.get_deployment(deployment.id)
        options: dict[str, Any] = {"description": status.description[:MAX_DESCRIPTION], "auto_inactive": True}
        if status.log_url:
            options["target_url"] = status.log_url  # PyGithub cannot send log_url; GitHub takes target_url for it
        if status.environment_url:
            options["environment_url"] = status.environment_url

        def reconcile() -> bool | None:
            # Statuses are a log GitHub appends to: a retry after a lost answer would log this one twice.
            latest = self._call(  # newest first
                f"read the statuses of deployment {deployment.id}", lambda: next(iter(target.get_statuses()), None)
            )
            landed = latest is not None and (latest.state, latest.description) == (status.state, options["description"])
            return True if landed else None

        self._call(
            f"set deployment {deployment.id} {status.state}",
            lambda: target.create_status(status.state, **options),
            reconcile,
        )


def _conflict(exc: Any) -> str:
    """GitHub's 409: its message and the contexts that were not green."""
    data = exc.data if isinstance(exc.data, Mapping) else {}
    contexts = [
        f"{c.get('context')}: {c.get('state')}"
        for error in data.get("errors") or []
        if isinstance(error, Mapping)
        for c in error.get("contexts") or []
        if isinstance(c, Mapping)
    ]
    message = str(data.get("message") or "Conflict")
    return f"{message} ({', '.join(contexts)})" if contexts else message
