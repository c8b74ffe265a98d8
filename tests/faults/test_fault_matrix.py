"""The fault matrix: every command that talks to GitHub, the requests of it that write, against every fault in
bench.faults_fixtures.FAULTS, through the real CLI, PyGithub and the stand-in.

Each cell ends either recovered, with each record exactly once (no duplicate from a retried create whose
response was lost), or failed with exit 2, one error line naming the call and the cause, and the records as
a failure at that point must leave them: nothing half-done (no pending artifact to post later, no deployment
left "in progress" when GitHub still answers).

Adding a command is one `GitHubCommand` entry in COMMANDS: how to seed the stand-in and the workspace and run
it once, the requests to aim faults at (with the records a permanent failure of each leaves), how to read its
records, and the cells that end differently by design.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bench.example_fixtures import git
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

from mlgate.results import read_result


@dataclass(frozen=True)
class Cell:
    """What a command entry gets: a scratch folder, the stand-in, and any other pytest fixture by name."""

    tmp_path: Path
    github: GitHubStandIn
    fixture: Callable[[str], Any]


@dataclass(frozen=True)
class Run:
    args: list[str]
    env: dict[str, str]
    cwd: Path


@dataclass(frozen=True)
class GitHubCommand:
    name: str
    requests: tuple[Request, ...]
    prepare: Callable[[Cell], Run]  # seed the stand-in and a workspace; the run to make
    records: Callable[[GitHubStandIn, Path], dict[str, object]]  # (stand-in, cwd) → what the command left
    recovered: Expect  # what every recovered cell ends with
    special: Mapping[tuple[str, str], Expect] = field(default_factory=dict)  # (request label, fault id)
    writes_results: bool = True  # False: the results folder must come out byte for byte as it went in

    def expect(self, request: Request, fault: Fault) -> Expect:
        if (request.label, fault.id) in self.special:
            return self.special[(request.label, fault.id)]
        if fault.error is None:
            return self.recovered
        every_try = fault.options.get("times", 1) is None
        broken = request.broken if every_try else (request.broken_once or request.broken)
        return Expect(2, dict(self.recovered.records) | dict(broken), error=fault.error)

    def env(self) -> dict[str, str]:
        """The driver's knobs for this command (click's automatic MLGATE_<COMMAND>_<OPTION> variables)."""
        prefix = f"MLGATE_{self.name.upper()}_"
        return {f"{prefix}RETRY_BUDGET": str(RETRY_BUDGET), f"{prefix}API_TIMEOUT": str(API_TIMEOUT)}


def result_of(cwd: Path, step: str) -> str:
    path = cwd / ".mlgate" / "results" / f"{step}.json"
    return read_result(path).verdict if path.exists() else "absent"


# ---------------------------------------------------------------------------------------------- report


def prepare_report(cell: Cell) -> Run:
    workspace = cell.tmp_path / "workspace"
    pull = cell.github.add_pull(head_sha=HEAD_SHA)
    write_bundle(workspace / ".mlgate" / "results", bundle("pass"))
    event = {
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": {"full_name": "octo/demo"}},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": {"full_name": "octo/demo"}},
        },
    }
    (cell.tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    env = cell.github.env() | actions_env(cell.tmp_path, GITHUB_EVENT_NAME="pull_request")
    return Run(["report"], env | {"GITHUB_EVENT_PATH": str(cell.tmp_path / "event.json")}, workspace)


def report_records(github: GitHubStandIn, cwd: Path) -> dict[str, object]:
    repo = github.repo()
    return {
        "comment": sum(1 for c in repo.comments.values() if c.body.startswith("<!-- mlgate:report ")),
        "check run": len(repo.check_runs),
        "status": len(repo.statuses),
        "pending artifact": (cwd / ".mlgate" / "mlgate-report" / "meta.json").is_file(),
    }


REPORT_DONE = {"comment": 1, "check run": 1, "status": 0, "pending artifact": False}
# A token that may not write comments: the comment waits in the artifact for the workflow_run poster, and
# no check is published from this run (the poster never publishes one either: a fork cannot pass itself).
REPORT_DEFERRED = Expect(0, {"comment": 0, "check run": 0, "status": 0, "pending artifact": True})
COMMENTS = r"/repos/octo/demo/issues/\d+/comments"
REPORT = GitHubCommand(
    name="report",
    requests=(
        Request("list comments", "GET", COMMENTS, {"comment": 0}),
        Request("create comment", "POST", COMMENTS, {"comment": 0}),
        Request("create check run", "POST", r"/repos/octo/demo/check-runs", {"check run": 0}),
    ),
    prepare=prepare_report,
    records=report_records,
    recovered=Expect(0, REPORT_DONE),
    special={
        ("list comments", "403 read-only"): REPORT_DEFERRED,
        ("create comment", "403 read-only"): REPORT_DEFERRED,
        # Check runs need checks: write (a PAT or a narrower token gets 403): a commit status gates instead.
        ("create check run", "403 read-only"): Expect(0, REPORT_DONE | {"check run": 0, "status": 1}),
    },
    writes_results=False,
)

# ---------------------------------------------------------------------------------------------- deploy


def prepare_deploy(cell: Cell) -> Run:
    repo = cell.fixture("deploy_repo")
    for sha in repo.git("rev-list", "--reverse", "HEAD").split():
        cell.github.add_commit(sha, branch="main")
    head = repo.head()
    cell.github.add_check_run(head_sha=head, conclusion="success")
    env = cell.github.env() | actions_env(cell.tmp_path, GITHUB_SHA=head, GITHUB_REF="refs/heads/main")
    return Run(["deploy", "-e", "production"], env | {"DEPLOY_LOG": str(repo.log)}, repo.path)


def deploy_records(github: GitHubStandIn, cwd: Path) -> dict[str, object]:
    from bench.registry_fixtures import Repo

    deployments = list(github.repo().deployments.values())
    tags = Repo(cwd.parent / "origin.git").tags()
    return {
        "deployment": len(deployments),
        "statuses": ",".join(s.state for d in deployments for s in d.statuses),
        "version tag": "churn@v0.0.1" in tags,
        "stage tag": "churn#production#1" in tags,
        "deploy.json": result_of(cwd, "deploy"),
    }


DEPLOY = GitHubCommand(
    name="deploy",
    requests=(
        # The version tag is registered before the deployment is asked for: it stays, as a registered version
        # that no environment holds; a rerun deploys that same version. deploy.json records the errored step.
        Request(
            "create deployment",
            "POST",
            r"/repos/octo/demo/deployments",
            {"deployment": 0, "statuses": "", "stage tag": False, "deploy.json": "error"},
        ),
        # A failed status ends the deployment with an "error" status when GitHub takes that one.
        Request(
            "set deployment status",
            "POST",
            r"/repos/octo/demo/deployments/\d+/statuses",
            {"statuses": "", "stage tag": False, "deploy.json": "error"},
            {"statuses": "error", "stage tag": False, "deploy.json": "error"},
        ),
    ),
    prepare=prepare_deploy,
    records=deploy_records,
    recovered=Expect(
        0,
        {
            "deployment": 1,
            "statuses": "in_progress,success",
            "version tag": True,
            "stage tag": True,
            "deploy.json": "pass",
        },
    ),
)

# ---------------------------------------------------------------------------------------------- retrain

RETRAIN_BRANCH = "refs/heads/mlgate/retrain"


def prepare_retrain(cell: Cell) -> Run:
    workspace = cell.fixture("small_github_workspace")  # its pushes reach the stand-in
    event = cell.tmp_path / "schedule.json"
    event.write_text(json.dumps({"schedule": "17 5 * * 1"}), encoding="utf-8")
    env = cell.github.env() | actions_env(cell.tmp_path, GITHUB_EVENT_NAME="schedule", GITHUB_WORKFLOW="mlgate retrain")
    env |= {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": git(workspace.path, "rev-parse", "HEAD"),
        "VIRTUAL_ENV": sys.prefix,
        "SHIFT": "2",  # the fresh data drifts: retrain, push the branch, open the pull request
    }
    return Run(["retrain"], env, workspace.path)


def retrain_records(github: GitHubStandIn, cwd: Path) -> dict[str, object]:
    pulls = [p for p in github.repo().pulls.values() if p.issue.state == "open"]
    pushed = git(cwd.parent / "origin.git", "for-each-ref", "--format=%(objectname)", RETRAIN_BRANCH) or None
    return {
        "pull request": len(pulls),
        "branch on origin": pushed is not None,
        "branch is the PR's head": all(p.head_sha == pushed for p in pulls),
        "retrain.json": result_of(cwd, "retrain"),
    }


RETRAIN = GitHubCommand(
    name="retrain",
    requests=(
        # A pull request that cannot be opened puts the pushed branch back: nothing on origin, no PR.
        Request(
            "open pull request",
            "POST",
            r"/repos/octo/demo/pulls",
            {"pull request": 0, "branch on origin": False, "retrain.json": "error"},
        ),
    ),
    prepare=prepare_retrain,
    records=retrain_records,
    recovered=Expect(
        0, {"pull request": 1, "branch on origin": True, "branch is the PR's head": True, "retrain.json": "pass"}
    ),
)

COMMANDS: tuple[GitHubCommand, ...] = (REPORT, DEPLOY, RETRAIN)

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
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> None:
    record_property(CELL_PROPERTY, f"{command.name}\t{request_.label}\t{fault.id}")
    expect = command.expect(request_, fault)
    run = command.prepare(Cell(tmp_path, github, request.getfixturevalue))
    github.fault(request_.method, request_.path, **fault.options)
    results = run.cwd / ".mlgate" / "results"
    before = tree_digest(results)

    done = run_cli(*run.args, cwd=run.cwd, env=run.env | command.env())

    output = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert [r for r in github.calls(request_.method, request_.path) if r.fault], f"the fault never hit\n{output}"
    assert done.returncode == expect.code, output
    assert "Traceback" not in done.stderr, output
    assert command.records(github, run.cwd) == dict(expect.records), output
    errors = error_lines(done.stdout, done.stderr)
    if expect.error is None:
        assert errors == [], output
    else:
        assert len(errors) == 1 and re.search(expect.error, errors[0]), output
    if not command.writes_results:
        assert tree_digest(results) == before, f"the results changed\n{output}"
