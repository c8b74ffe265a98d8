"""actions/monitor/action.yml through the composite-action bench: a scheduled run on the small monitored
repository judges the days of the log, pushes the history branch and opens the tracking issue on the GitHub
stand-in; the same run again changes nothing; a bad input is refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.action_fixtures import ActionBench
from bench.action_runner import ActionResult
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import Workspace
from bench.serving_log_fixtures import day_end, history_lines

ROOT = Path(__file__).resolve().parents[1]
MONITOR = ROOT / "actions" / "monitor"
BRANCH = "refs/heads/mlgate/monitoring"


def scheduled_run(
    run_action: ActionBench, workspace: Workspace, github: GitHubStandIn, job_env: dict[str, str], day: int,
    inputs: dict[str, str] | None = None,
) -> ActionResult:  # fmt: skip
    """The monitor step of a scheduled workflow of octo/demo the night after `day` (the log written up to it)."""
    context = {
        "repository": "octo/demo",
        "api_url": github.base_url,
        "server_url": github.server_url,
        "token": "ghs_test",
        "workflow": "mlgate monitor",
        "run_id": "601",
    }
    env = job_env | {"DAY": str(day), "SLOW": "3", "MLGATE_MONITOR_AS_OF": day_end(day)}
    return run_action(
        MONITOR,
        {"working-directory": str(workspace.path)} | (inputs or {}),
        env=env,
        event={"schedule": "23 2 * * *"},
        event_name="schedule",
        github=context,
    )


@pytest.mark.slow
def test_a_scheduled_run_records_the_days_and_a_rerun_changes_nothing(
    run_action: ActionBench, monitored_github: Workspace, github: GitHubStandIn, mlgate_on_path: dict[str, str]
) -> None:
    first = scheduled_run(run_action, monitored_github, github, mlgate_on_path, 3)

    assert first.ok, first.log
    assert first.outputs["alerts"] == "latency_p95"
    (issue,) = github.repo().issues.values()
    assert issue.labels == ["mlgate:monitor"] and issue.user == "github-actions[bot]"
    assert first.outputs["issue-url"] == f"{github.server_url}/octo/demo/issues/{issue.number}"
    assert "**Status: 🔴 1 alert** (latency p95)" in issue.body
    assert "## mlgate monitor: `small-model` `v1.0.0` in `production`" in first.summary
    records = [json.loads(line) for line in history_lines(monitored_github)]
    assert [r["window"] for r in records] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    result = json.loads((monitored_github.path / first.outputs["results"]).read_text())
    assert result["step"] == "monitor" and result["verdict"] == "warn"
    assert len(github.calls("POST", rf"/repos/octo/demo/issues/{issue.number}/comments")) == 1

    pushed = monitored_github.origin_ref(BRANCH)
    again = scheduled_run(run_action, monitored_github, github, mlgate_on_path, 3)

    assert again.ok, again.log
    assert again.outputs["alerts"] == "latency_p95" and again.outputs["issue-url"] == first.outputs["issue-url"]
    assert monitored_github.origin_ref(BRANCH) == pushed
    assert len(github.calls("POST", r"/repos/octo/demo/issues")) == 1
    assert not github.calls("PATCH", rf"/repos/octo/demo/issues/{issue.number}")
    assert len(github.calls("POST", rf"/repos/octo/demo/issues/{issue.number}/comments")) == 1

    refused = scheduled_run(run_action, monitored_github, github, mlgate_on_path, 4, {"window": "7m"})

    assert not refused.ok
    assert "monitor.window: '7m' is not a window" in refused.log and "Traceback" not in refused.log
    assert monitored_github.origin_ref(BRANCH) == pushed
