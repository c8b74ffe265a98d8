"""The GitHub run context from the environment and the event payload (GITHUB_EVENT_PATH).

The head of a pull_request event is `pull_request.head.sha`, not GITHUB_SHA (which is the test merge
commit). The payload comes from the event's author, so it is parsed defensively: wrong types are input
errors naming the key, never crashes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.inputfile import read_regular

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


@dataclass(frozen=True)
class GitHubContext:
    event_name: str | None = None
    repository: str | None = None  # "owner/name"
    sha: str | None = None  # the commit under test (PR head for pull_request events)
    ref: str | None = None
    pr_number: int | None = None
    base_sha: str | None = None
    base_ref: str | None = None
    head_ref: str | None = None
    head_repo: str | None = None  # "owner/name" of the PR's head; differs from repository for forks
    default_branch: str | None = None
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    run_id: str | None = None
    workflow: str | None = None

    @property
    def is_fork_pr(self) -> bool:
        return self.pr_number is not None and self.head_repo is not None and self.head_repo != self.repository

    @property
    def run_url(self) -> str | None:
        if not (self.repository and self.run_id):
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    def credentials(self, token: str | None) -> tuple[str, str]:
        """The repository and token every GitHub driver needs, or one sentence naming what is missing."""
        if not token:
            raise InputError("the github driver needs a token: set the token input, --token or GITHUB_TOKEN")
        if not self.repository:
            raise InputError("the github driver needs GITHUB_REPOSITORY (owner/name)")
        return self.repository, token


def payload_value(payload: Mapping[str, Any], dotted: str, kind: type, source: Path) -> Any:
    value: Any = payload
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(value, Mapping):
            raise InputError(f"event payload key '{'.'.join(parts[:depth])}' must be an object", file=source)
        if part not in value or value[part] is None:
            return None
        value = value[part]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InputError(f"event payload key '{dotted}' must be {kind.__name__}", file=source)
    if kind is int and value < 1:
        raise InputError(f"event payload key '{dotted}' must be a positive number (got {value})", file=source)
    if dotted.endswith(".sha") and not SHA_RE.match(value):
        raise InputError(f"event payload key '{dotted}' is not a 40-character commit sha", file=source)
    return value


def load_event(path: Path) -> dict[str, Any]:
    raw = read_regular(path, MAX_EVENT_BYTES, "event payload file (GITHUB_EVENT_PATH)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"event payload is not valid JSON ({exc})", file=path) from None
    except RecursionError:
        raise InputError("event payload is nested too deeply", file=path) from None
    if not isinstance(data, dict):
        raise InputError("event payload is not a JSON object", file=path)
    return data


def context_from_env(env: Mapping[str, str]) -> GitHubContext:
    """Build the context from GITHUB_* variables and, when present, the event payload file."""
    event_path = env.get("GITHUB_EVENT_PATH")
    payload: dict[str, Any] = {}
    source = Path(event_path) if event_path else Path("event.json")
    if event_path:
        payload = load_event(source)
    pr_number = payload_value(payload, "pull_request.number", int, source)
    head_sha = payload_value(payload, "pull_request.head.sha", str, source)
    env_sha = env.get("GITHUB_SHA") or None
    return GitHubContext(
        event_name=env.get("GITHUB_EVENT_NAME") or None,
        repository=env.get("GITHUB_REPOSITORY") or None,
        sha=head_sha or env_sha,
        ref=env.get("GITHUB_REF") or None,
        pr_number=pr_number,
        base_sha=payload_value(payload, "pull_request.base.sha", str, source),
        base_ref=payload_value(payload, "pull_request.base.ref", str, source),
        head_ref=payload_value(payload, "pull_request.head.ref", str, source),
        head_repo=payload_value(payload, "pull_request.head.repo.full_name", str, source),
        default_branch=payload_value(payload, "repository.default_branch", str, source),
        server_url=env.get("GITHUB_SERVER_URL") or GitHubContext.server_url,
        api_url=env.get("GITHUB_API_URL") or GitHubContext.api_url,
        run_id=env.get("GITHUB_RUN_ID") or None,
        workflow=env.get("GITHUB_WORKFLOW") or None,
    )
