"""workflows-templates/mlgate-monitor.yml under nektos/act (see bench/act_bench.py) on a clean checkout of the
example repository: fourteen simulated days of its production log (src/production_log.py: drift from day 8,
slow days 5 and 6, labels two days late) against the version the registry has in production.

A daily schedule that runs late or not at all catches up: each run judges every complete window not yet in
the history. The test runs the schedule after day 9 (days 1-9: the latency alert starts and ends, the inputs
drift from day 8, whose labels are not in yet), after day 14 (days 10-14: day 8's labels arrived, quality
drops) and after day 14 again (nothing changes). The same story without act, day by day, is
test_monitor_github.py; both check the history and the comments with the same expectations."""

from __future__ import annotations

import json

import pytest
from bench.act_bench import ActResult
from bench.example_fixtures import git
from bench.serving_log_fixtures import check_alert_comments, check_fourteen_days, day_end, days
from bench.workflow_fixtures import CiRepo

from mlgate.monitor.render import ISSUE_LABEL

pytestmark = pytest.mark.slow

MONITOR = "mlgate/mlgate/actions/monitor@v1"
MODEL = "breast-cancer-classifier"
HISTORY = "refs/heads/mlgate/monitoring"
ALERT_COMMENTS = [
    # After day 9: the slow days came and went, the inputs and predictions drift from day 8.
    (
        {"latency_p95": "2026-01-05", "input_drift": "2026-01-08", "prediction_drift": "2026-01-08"},
        ["latency_p95"],
    ),
    ({"quality": "2026-01-08"}, []),  # after day 14: day 8's labels arrived two days later
]


def deploy_main_to_production(ci_repo: CiRepo) -> str:
    """Version v1.0.0 of the model in stage production, as the registry's (GTO's) tags record a deploy."""
    git(ci_repo.dev, "tag", "-a", f"{MODEL}@v1.0.0", "-m", f"Registering artifact {MODEL} version v1.0.0")
    git(ci_repo.dev, "tag", "-a", f"{MODEL}#production#1", "-m", f"Assigning stage production to artifact {MODEL}")
    git(ci_repo.dev, "push", "--quiet", "origin", "--tags")
    return ci_repo.head("main")


def scheduled(ci_repo: CiRepo, day: int) -> ActResult:
    """The daily schedule, run the night after `day`: the production log holds days 1..day."""
    env = {"PRODUCTION_TODAY": str(day), "MLGATE_MONITOR_AS_OF": day_end(day)}
    event = {"schedule": "23 2 * * *"}  # a schedule's payload has no repository
    run = ci_repo.run(
        "mlgate-monitor.yml", "schedule", event, ref="refs/heads/main", sha=ci_repo.head("main"), env=env, install=False
    )
    assert run.ok, run.log
    return run


def history(ci_repo: CiRepo) -> list[dict]:
    return [json.loads(line) for line in git(ci_repo.remote, "show", f"{HISTORY}:history.jsonl").splitlines()]


def test_fourteen_days_of_the_example_catch_up_in_two_scheduled_runs_and_a_rerun_changes_nothing(
    ci_repo: CiRepo,
) -> None:
    ci_repo.add_dvc_remote()  # the deployed version's training data and model, for a clean checkout
    deployed = deploy_main_to_production(ci_repo)

    first = scheduled(ci_repo, 9)
    records = history(ci_repo)
    assert [r["window"] for r in records] == days(1, 9)
    assert all(r["reference"]["version"] == "v1.0.0" and r["reference"]["commit"] == deployed for r in records)
    assert [r["window"] for r in records if r["drift"]["detected"]] == days(8, 9)
    assert not any(r["quality"] and r["quality"]["alerts"] for r in records)  # day 8's labels are not in yet
    assert first.outputs(MONITOR)["alerts"] == "input_drift,prediction_drift"
    (issue,) = ci_repo.github.repo().issues.values()
    assert first.outputs(MONITOR)["issue-url"] == f"{ci_repo.github.server_url}/octo/demo/issues/{issue.number}"

    second = scheduled(ci_repo, 14)
    records = history(ci_repo)
    check_fourteen_days(records)
    assert second.outputs(MONITOR)["alerts"] == "input_drift,prediction_drift,quality"
    log = git(ci_repo.remote, "log", "--format=%s", HISTORY).splitlines()
    assert log == [
        f"mlgate monitor: {MODEL}: windows {', '.join(days(10, 14))}; quality of 2026-01-08, 2026-01-09",
        f"mlgate monitor: {MODEL}: windows {', '.join(days(1, 9))}",
    ]
    repo = ci_repo.github.repo()
    (issue,) = repo.issues.values()  # exactly one tracking issue, made by the first run
    assert issue.labels == [ISSUE_LABEL] and issue.user == "github-actions[bot]"
    assert issue.title == f"mlgate monitor: {MODEL}"
    assert "**Status: 🔴 3 alerts** (input drift, prediction drift, quality)" in issue.body
    assert issue.body.count("```mermaid") == 4 and "### Latest window `2026-01-14`" in issue.body
    comments = [c for c in repo.comments.values() if c.issue_number == issue.number]
    check_alert_comments([c.body for c in comments], ALERT_COMMENTS)

    # The same night again (a rerun from the Actions tab): no push, no issue edit, no comment.
    tip, body, updated = ci_repo.remote_refs()[HISTORY], issue.body, issue.updated_at
    scheduled(ci_repo, 14)
    assert ci_repo.remote_refs()[HISTORY] == tip
    (again,) = ci_repo.github.repo().issues.values()
    assert (again.body, again.updated_at) == (body, updated)
    assert len(ci_repo.github.repo().comments) == len(comments)
