"""Deploy preconditions and records: allowed refs, the gate's verdict on a commit, the deployment payload."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from mlgate.results import StepResult

CHECK_NAME = "mlgate"
RELEASE_TAGS = "refs/tags/v*"
MAX_PAYLOAD_METRICS = 20


def default_allowed_refs(default_branch: str) -> tuple[str, ...]:
    """The default branch and release tags (v1.2.0, v2024.1) may deploy; pull requests and other branches not."""
    return (f"refs/heads/{default_branch}", RELEASE_TAGS)


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def ref_allowed(ref: str, patterns: Iterable[str]) -> bool:
    """A pattern (fnmatch) matches the full ref (`refs/tags/v*`) or its short name (`main`, `release-*`)."""
    return any(fnmatchcase(ref, p) or (not p.startswith("refs/") and fnmatchcase(short_ref(ref), p)) for p in patterns)


# What a check run's status (or a commit status's state) is while the gate has not concluded yet.
UNDECIDED = ("queued", "in_progress", "requested", "waiting", "pending")


@dataclass(frozen=True)
class Gate:
    passed: bool
    detail: str  # what was found, for the refusal message and the results
    pending: bool = False  # not decided yet (missing or still running): worth waiting for


def gate_from_check(sha: str, state: str | None, source: str) -> Gate:
    """The `mlgate` check (or commit status) on `sha`: only green deploys, as GitHub's required_contexts demands;
    a warning (neutral check) is not green."""
    if state == "success":
        return Gate(True, f"the {CHECK_NAME} {source} on {sha[:7]} is success")
    found = "missing" if state is None else state
    pending = state is None or state in UNDECIDED
    return Gate(False, f"the {CHECK_NAME} {source} on {sha[:7]} is {found}, not success", pending)


def gate_from_bundle(results: Sequence[StepResult], sha: str) -> Gate:
    """Local mode: the compare step of the results bundle judged this very commit and passed."""
    compares = [r for r in results if r.step == "compare"]
    if not compares:
        return Gate(False, "the results bundle has no compare result (run `mlgate compare` first)")
    compare = compares[0]
    head = compare.commits.get("head")
    if head != sha:
        judged = f"judged {str(head)[:7]}" if head else "does not name the commit it judged"
        return Gate(False, f"the compare result {judged}, not {sha[:7]}")
    if compare.verdict != "pass":
        return Gate(False, f"the gate on {sha[:7]} is {compare.verdict}, not pass")
    return Gate(True, f"the gate on {sha[:7]} passed")


def _numbers(value: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a (nested) metrics mapping, named by their dotted path."""
    if isinstance(value, Mapping):
        found: dict[str, float] = {}
        for key, item in value.items():
            found |= _numbers(item, f"{prefix}{key}.")
        return found
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {prefix.rstrip("."): float(value)}
    return {}


def key_metrics(results: Sequence[StepResult], wanted: Sequence[str]) -> dict[str, float]:
    """The head's metrics from the bundle (compare's rows, else train's values), the gated ones when known."""
    metrics: dict[str, float] = {}
    for result in results:
        if result.step == "compare" and isinstance(result.evidence.get("metrics"), list):
            for row in result.evidence["metrics"]:
                if isinstance(row, Mapping) and isinstance(row.get("metric"), str):
                    metrics |= _numbers({row["metric"]: row.get("head")})
        elif result.step == "train" and not metrics:
            metrics = _numbers(result.evidence.get("metrics"))
    if wanted:
        chosen = {name: value for name, value in metrics.items() if name in wanted or name.split(".")[-1] in wanted}
        metrics = chosen or metrics
    return dict(sorted(metrics.items())[:MAX_PAYLOAD_METRICS])


@dataclass(frozen=True)
class Rollback:
    from_version: str
    reason: str


@dataclass(frozen=True)
class Requester:
    """Who asked for a deploy, and where (a ChatOps comment): recorded in the deployment and the stage tag."""

    login: str
    comment_url: str
    pull_request: int | None = None  # a pull request's preview deploy: its number

    def as_payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"login": self.login, "comment_url": self.comment_url}
        return found | ({"pull_request": self.pull_request} if self.pull_request is not None else {})

    @property
    def note(self) -> str:
        return f"requested by @{self.login}: {self.comment_url}"


def deployment_payload(
    name: str,
    version: str,
    commit: str,
    metrics: Mapping[str, float],
    rollback: Rollback | None,
    request_id: str,
    model_md5: str,
    requester: Requester | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": name,
        "version": version,
        "commit": commit,
        "model_md5": model_md5,  # the hash dvc.lock (or git) records at `commit`, verified before deploying
        "metrics": dict(metrics),
        "request_id": request_id,  # finds this deployment again if GitHub's answer to the create is lost
    }
    if rollback is not None:
        payload["rollback"] = {"from_version": rollback.from_version, "reason": rollback.reason}
    if requester is not None:
        payload["requested_by"] = requester.as_payload()
    return payload
