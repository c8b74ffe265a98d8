"""Deployment records: a GitHub Deployment with its statuses, or the same record in the local outbox.

Both drivers take the same requests, so `mlgate deploy` behaves alike on a laptop and in Actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mlgate.deploy.policy import CHECK_NAME, Gate, gate_from_bundle
from mlgate.drivers.outbox import Outbox
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
    url: str | None  # where a person can see it


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
