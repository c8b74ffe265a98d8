"""The fault matrix: every command that talks to GitHub, every request of it that writes (or reads what it
writes), against every fault in bench.faults_fixtures.FAULTS, through the real CLI, PyGithub and the stand-in.

Each cell ends either recovered, with each record exactly once in the stand-in (no duplicate from a retried
create whose response was lost), or failed with exit 2, one error line naming the call and the cause, the
faulted record absent, every other record complete, and no pending artifact left behind to be posted later.

Adding a command is one `GitHubCommand` entry in COMMANDS: how to seed the stand-in and run it once, the
requests to aim the faults at, how to count its records, and the cells that end differently by design.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bench.faults_fixtures import (
    API_TIMEOUT,
    CELL_PROPERTY,
    FAULTS,
    RETRY_BUDGET,
    Expect,
    Fault,
    Request,
    error_lines,
    run_cli,
    tree_digest,
)
from bench.github_standin import GitHubStandIn
from bench.report_fixtures import HEAD_SHA, actions_env, bundle, write_bundle

# Seed the stand-in and the workspace; return the command line and environment of one run.
Prepare = Callable[[Path, GitHubStandIn], tuple[list[str], dict[str, str]]]


@dataclass(frozen=True)
class GitHubCommand:
    name: str
    requests: tuple[Request, ...]
    prepare: Prepare
    records: Callable[[GitHubStandIn], dict[str, int]]
    recovered: Expect  # what every recovered cell ends with
    special: Mapping[tuple[str, str], Expect] = field(default_factory=dict)  # (request label, fault id)

    def expect(self, request: Request, fault: Fault) -> Expect:
        if (request.label, fault.id) in self.special:
            return self.special[(request.label, fault.id)]
        if fault.error is None:
            return self.recovered
        return Expect(2, dict(self.recovered.records) | {request.record: 0}, error=fault.error)


# ---------------------------------------------------------------------------------------------- report

REPORT_ARTIFACT = ".mlgate/mlgate-report"
PENDING = (f"{REPORT_ARTIFACT}/meta.json", f"{REPORT_ARTIFACT}/body.md")


def prepare_report(workspace: Path, github: GitHubStandIn) -> tuple[list[str], dict[str, str]]:
    pull = github.add_pull(head_sha=HEAD_SHA)
    write_bundle(workspace / ".mlgate" / "results", bundle("pass"))
    event = {
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": {"full_name": "octo/demo"}},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": {"full_name": "octo/demo"}},
        },
    }
    (workspace / "event.json").write_text(json.dumps(event), encoding="utf-8")
    env = github.env() | actions_env(workspace, GITHUB_EVENT_NAME="pull_request")
    env |= {
        "GITHUB_EVENT_PATH": str(workspace / "event.json"),
        "MLGATE_REPORT_RETRY_BUDGET": str(RETRY_BUDGET),
        "MLGATE_REPORT_API_TIMEOUT": str(API_TIMEOUT),
    }
    return ["report"], env


def report_records(github: GitHubStandIn) -> dict[str, int]:
    repo = github.repo()
    return {
        "comment": sum(1 for c in repo.comments.values() if c.body.startswith("<!-- mlgate:report ")),
        "check run": len(repo.check_runs),
        "status": len(repo.statuses),
    }


REPORT_DONE = {"comment": 1, "check run": 1, "status": 0}
# A token that may not write comments: the comment waits in the artifact for the workflow_run poster, and
# no check is published from this run (the poster never publishes one either: a fork cannot pass itself).
REPORT_DEFERRED = Expect(
    0, {"comment": 0, "check run": 0, "status": 0}, present=PENDING, notice=r"the token may not write here"
)
REPORT = GitHubCommand(
    name="report",
    requests=(
        Request("list comments", "GET", r"/repos/octo/demo/issues/\d+/comments", "comment"),
        Request("create comment", "POST", r"/repos/octo/demo/issues/\d+/comments", "comment"),
        Request("create check run", "POST", r"/repos/octo/demo/check-runs", "check run"),
    ),
    prepare=prepare_report,
    records=report_records,
    recovered=Expect(0, REPORT_DONE, absent=PENDING),
    special={
        ("list comments", "403 read-only"): REPORT_DEFERRED,
        ("create comment", "403 read-only"): REPORT_DEFERRED,
        # Check runs need checks: write (a PAT or a narrower token gets 403): a commit status gates instead.
        ("create check run", "403 read-only"): Expect(0, REPORT_DONE | {"check run": 0, "status": 1}, absent=PENDING),
    },
)

COMMANDS: tuple[GitHubCommand, ...] = (REPORT,)

CELLS = [
    pytest.param(command, request, fault, id=f"{command.name}-{request.label}-{fault.id}".replace(" ", "_"))
    for command in COMMANDS
    for request in command.requests
    for fault in FAULTS
]


@pytest.mark.parametrize(("command", "request_", "fault"), CELLS)
def test_cell(
    command: GitHubCommand,
    request_: Request,
    fault: Fault,
    github: GitHubStandIn,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    record_property(CELL_PROPERTY, f"{command.name}\t{request_.label}\t{fault.id}")
    expect = command.expect(request_, fault)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    github.fault(request_.method, request_.path, **fault.options)
    args, env = command.prepare(workspace, github)
    results = workspace / ".mlgate" / "results"
    before = tree_digest(results)

    done = run_cli(*args, cwd=workspace, env=env)

    output = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert [r for r in github.calls(request_.method, request_.path) if r.fault], f"the fault never hit\n{output}"
    assert done.returncode == expect.code, output
    assert "Traceback" not in done.stderr, output
    assert command.records(github) == dict(expect.records), output
    errors = error_lines(done.stdout, done.stderr)
    if expect.error is None:
        assert errors == [], output
    else:
        assert len(errors) == 1 and re.search(expect.error, errors[0]), output
    if expect.notice is not None:
        assert any(line.startswith("::notice") and re.search(expect.notice, line) for line in done.stdout.splitlines())
    for name in expect.present:
        assert (workspace / name).is_file(), f"{name} missing\n{output}"
    for name in expect.absent:
        assert not (workspace / name).exists(), f"{name} left behind\n{output}"
    assert tree_digest(results) == before, f"the results changed\n{output}"
