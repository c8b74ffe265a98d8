"""Fourteen simulated days of production (drift from day 8, slow days 5 and 6, labels two days late) on the
small monitored repository, `mlgate monitor` as a scheduled Actions step against the GitHub stand-in (PyGithub
over HTTP) and a real bare origin whose pushes reach it: one tracking issue, one comment per alert change, the
retrain workflow dispatched once, and a rerun that changes nothing anywhere.

The runs catch up as a late or skipped schedule does (each judges every complete window since the last one),
on the days an alert changes, so every change is seen by exactly one run."""

from __future__ import annotations

import json

import pytest
from bench.example_fixtures import git
from bench.github_fixtures import pygithub_client
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import Workspace
from bench.serving_log_fixtures import check_alert_comments, check_fourteen_days, days, history_lines, monitor

from mlgate.monitor.render import ISSUE_LABEL

MODEL = "small-model"
PRODUCTION = {"DRIFT_DAY": "8", "SLOW": "5,6"}
RUN_DAYS = (4, 5, 7, 8, 10, 14)
# The comments of the runs whose alerts changed: (started: alert -> its window, ended).
ALERT_COMMENTS = [
    ({"latency_p95": "2026-01-05"}, []),
    ({}, ["latency_p95"]),
    ({"input_drift": "2026-01-08", "prediction_drift": "2026-01-08"}, []),
    ({"quality": "2026-01-08"}, []),  # day 8's labels arrived on day 10
]


def _run_day(workspace: Workspace, github: GitHubStandIn, day: int, run_id: int | None = None) -> dict:
    run = {"GITHUB_RUN_ID": str(run_id or 600 + day)}
    outcome = monitor(workspace, day, "--json", env=PRODUCTION | run, actions=github)
    assert outcome.code == 0, (day, outcome.out[-2000:], outcome.err[-2000:])
    lines = outcome.out.splitlines()  # workflow commands (::add-mask::, ::group::) come first in Actions
    result = json.loads("\n".join(lines[lines.index("{") :]))
    assert outcome.outputs["alerts"] == ",".join(a["name"] for a in result["evidence"]["alerts"])
    assert outcome.outputs["issue-url"] == result["evidence"]["issue"]["url"]
    assert "## mlgate monitor: `small-model` `v1.0.0` in `production`" in outcome.summary
    return result


@pytest.mark.slow
def test_fourteen_days_through_the_github_driver(monitored_github: Workspace, github: GitHubStandIn) -> None:
    path = monitored_github.path
    (path / "mlgate.yml").write_text((path / "mlgate.yml").read_text() + "  on_alert: retrain\n")
    git(path, "commit", "--quiet", "-am", "monitor: dispatch retraining when the inputs drift")
    git(path, "push", "--quiet", "origin", "main")
    deployed = git(path, "rev-list", "-n", "1", f"{MODEL}@v1.0.0")
    github.add_workflow("mlgate-retrain.yml", dispatch_inputs=())

    changes: dict[int, tuple[list[str], list[str]]] = {}
    previous = 0
    for day in RUN_DAYS:
        evidence = _run_day(monitored_github, github, day)["evidence"]
        assert evidence["judged"] == days(previous + 1, day)
        assert evidence["reference"]["version"] == "v1.0.0" and evidence["reference"]["commit"] == deployed
        assert evidence["issue"]["action"] == ("created" if day == RUN_DAYS[0] else "updated")
        if evidence["started"] or evidence["ended"]:
            changes[day] = (sorted(evidence["started"]), sorted(evidence["ended"]))
        assert ("dispatch" in evidence) == (day == 8)
        previous = day
    assert changes == {
        5: (["latency_p95"], []),
        7: ([], ["latency_p95"]),
        8: (["input_drift", "prediction_drift"], []),
        10: (["quality"], []),  # day 8's labels arrived
    }

    check_fourteen_days([json.loads(line) for line in history_lines(monitored_github)])

    repo = pygithub_client(github).get_repo("octo/demo")
    (issue,) = list(repo.get_issues(state="all", labels=[ISSUE_LABEL]))
    assert issue.user.login == "github-actions[bot]" and issue.title == f"mlgate monitor: {MODEL}"
    body = issue.body
    assert "**Status: 🔴 3 alerts** (input drift, prediction drift, quality)" in body
    assert body.count("```mermaid") == 4 and "### Latest window `2026-01-14`" in body
    check_alert_comments([c.body for c in issue.get_comments()], ALERT_COMMENTS)
    (run,) = repo.get_workflow("mlgate-retrain.yml").get_runs()
    assert run.event == "workflow_dispatch" and run.head_branch == "main"

    # The same day again, in another run: nothing changes anywhere (the issue links the run that judged day 14).
    assert f"[the run that judged it]({github.server_url}/octo/demo/actions/runs/614)" in body
    branch = monitored_github.origin_ref("refs/heads/mlgate/monitoring")
    updated = issue.updated_at
    again = _run_day(monitored_github, github, 14, run_id=700)["evidence"]
    assert again["judged"] == [] and again["history"]["changed"] is False and again["issue"]["action"] == "unchanged"
    assert monitored_github.origin_ref("refs/heads/mlgate/monitoring") == branch
    fresh = repo.get_issue(issue.number)
    assert fresh.body == body and fresh.updated_at == updated
    assert len(list(fresh.get_comments())) == len(changes)
    assert len(list(repo.get_workflow("mlgate-retrain.yml").get_runs())) == 1
