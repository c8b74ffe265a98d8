"""The run context: PR head sha from the payload, fork detection, defensive parsing of the payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.errors import InputError
from mlgate.ghcontext import context_from_env

HEAD, BASE, MERGE = "1" * 40, "2" * 40, "3" * 40


def pr_event(head_repo: str = "octo/demo") -> dict:
    return {
        "pull_request": {
            "number": 7,
            "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": head_repo}},
            "base": {"sha": BASE, "ref": "main"},
        },
        "repository": {"default_branch": "main", "full_name": "octo/demo"},
    }


def env_for(tmp_path: Path, event: object) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_SHA": MERGE,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "42",
    }


def test_pull_request_uses_head_sha_not_merge_sha(tmp_path: Path) -> None:
    ctx = context_from_env(env_for(tmp_path, pr_event()))
    assert ctx.sha == HEAD and ctx.base_sha == BASE and ctx.pr_number == 7
    assert ctx.default_branch == "main" and not ctx.is_fork_pr
    assert ctx.run_url == "https://github.example/octo/demo/actions/runs/42"


def test_fork_detection(tmp_path: Path) -> None:
    assert context_from_env(env_for(tmp_path, pr_event(head_repo="mallory/demo"))).is_fork_pr


def test_push_event_falls_back_to_github_sha(tmp_path: Path) -> None:
    ctx = context_from_env(env_for(tmp_path, {"ref": "refs/heads/main"}))
    assert ctx.sha == MERGE and ctx.pr_number is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["pull_request"].update(number="7; rm -rf /"), "'pull_request.number' must be int"),
        (lambda e: e["pull_request"]["head"].update(sha="../../etc"), "'pull_request.head.sha' is not a 40-character"),
        (lambda e: e["pull_request"].update(number=True), "'pull_request.number' must be int"),
    ],
)
def test_hostile_payload_values_are_input_errors(tmp_path: Path, mutate, message: str) -> None:
    event = pr_event()
    mutate(event)
    with pytest.raises(InputError, match=message):
        context_from_env(env_for(tmp_path, event))


def test_broken_payload_file(tmp_path: Path) -> None:
    env = env_for(tmp_path, {})
    Path(env["GITHUB_EVENT_PATH"]).write_text("{truncated")
    with pytest.raises(InputError, match="event payload is not valid JSON"):
        context_from_env(env)
