"""actions/monitor/action.yml run by act: a scheduled run on the small monitored repository judges the days of
the log, pushes the history branch and opens the tracking issue on the GitHub stand-in; the next scheduled run
(a fresh checkout) changes nothing; a bad input is refused before anything is written."""

from __future__ import annotations

import json

import pytest
from bench.act_jobs import Job, JobsRun, JobsRunner, Step
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import Workspace
from bench.serving_log_fixtures import day_end, history_lines

BRANCH = "refs/heads/mlgate/monitoring"


def scheduled_run(
    run_jobs: JobsRunner, workspace: Workspace, day: int, inputs: dict[str, str] | None = None, *, fails: bool = False
) -> JobsRun:
    """The monitor step of a scheduled workflow of octo/demo the night after `day` (the log written up to it)."""
    env = {"DAY": str(day), "SLOW": "3", "MLGATE_MONITOR_AS_OF": day_end(day)}
    step = Step("monitor", "actions/monitor", inputs or {}, may_fail=fails)
    job = Job("monitor", [step], checkout=workspace.path, env=env)
    return run_jobs(job, event_name="schedule", event={"schedule": "23 2 * * *"}, workflow="mlgate monitor",
                    ref="refs/heads/main", run_id=601)  # fmt: skip


@pytest.mark.slow
def test_a_scheduled_run_records_the_days_and_a_rerun_changes_nothing(
    run_jobs: JobsRunner, monitored_github: Workspace, github: GitHubStandIn
) -> None:
    run = scheduled_run(run_jobs, monitored_github, 3)
    first = run["monitor"]

    assert first.ok, run.log
    assert first.outputs["alerts"] == "latency_p95"
    (issue,) = github.repo().issues.values()
    assert issue.labels == ["mlgate:monitor"] and issue.user == "github-actions[bot]"
    assert first.outputs["issue-url"] == f"{github.server_url}/octo/demo/issues/{issue.number}"
    assert "**Status: 🔴 1 alert** (latency p95)" in issue.body
    assert "## mlgate monitor: `small-model` `v1.0.0` in `production`" in first.summary
    records = [json.loads(line) for line in history_lines(monitored_github)]
    assert [r["window"] for r in records] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    result = json.loads((run.jobs["monitor"].workspace / first.outputs["results"]).read_text())
    assert result["step"] == "monitor" and result["verdict"] == "warn"
    assert len(github.calls("POST", rf"/repos/octo/demo/issues/{issue.number}/comments")) == 1

    pushed = monitored_github.origin_ref(BRANCH)
    rerun = scheduled_run(run_jobs, monitored_github, 3)
    again = rerun["monitor"]

    assert again.ok, rerun.log
    assert again.outputs["alerts"] == "latency_p95" and again.outputs["issue-url"] == first.outputs["issue-url"]
    assert monitored_github.origin_ref(BRANCH) == pushed
    assert len(github.calls("POST", r"/repos/octo/demo/issues")) == 1
    assert not github.calls("PATCH", rf"/repos/octo/demo/issues/{issue.number}")
    assert len(github.calls("POST", rf"/repos/octo/demo/issues/{issue.number}/comments")) == 1

    refused = scheduled_run(run_jobs, monitored_github, 4, {"window": "7m"}, fails=True)

    assert refused["monitor"].outcome == "failure", refused.log
    assert "monitor.window: '7m' is not a window" in refused.log and "Traceback" not in refused.log
    assert monitored_github.origin_ref(BRANCH) == pushed
