"""The verdict as users read it after `mlgate compare` and `mlgate report` (local driver, the outbox): said once
on the command line and in the check run's title, and an errored compare shown as its own `error` row in the
comment, the job summary and the check run, which then fails, its title naming the step.

Real parts: a git repository with a base commit and a pull-request branch, the real CLI entry point in-process.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from bench.metrics_repo_fixtures import MetricsRepo, read_json
from test_compare_cli import base_and_pr

from mlgate.drivers.outbox import Outbox


def reported(repo: Path) -> tuple[dict, dict, dict]:
    outbox = Outbox(repo / ".mlgate" / "outbox")
    [comment], [check], [summary] = outbox.list("comment"), outbox.list("check"), outbox.list("summary")
    return comment, check, summary


def step_row(markdown: str, step: str) -> str:
    """The step table's row of `step`, markdown escapes removed."""
    unescaped = re.sub(r"\\(.)", r"\1", markdown)
    return next(line for line in unescaped.splitlines() if line.startswith(f"| {step} |"))


def test_a_failed_gate_says_fail_once(metrics_repo: MetricsRepo, invoke) -> None:
    base_and_pr(metrics_repo, 0.80)

    compare = invoke("compare", cwd=metrics_repo.path)
    report = invoke("report", "--driver", "local", "--pr", "3", cwd=metrics_repo.path)

    assert compare.code == 1 and report.code == 1, compare.err + report.err
    [line] = [line for line in compare.out.splitlines() if line.startswith("compare: ")]
    assert line.startswith("compare: fail: accuracy ") and line.count("fail") == 1, line
    _, check, _ = reported(metrics_repo.path)
    assert check["conclusion"] == "failure" and check["verdict"] == "fail"
    assert check["title"].startswith("fail: accuracy "), check["title"]
    assert not re.search(r"\bfail(ed)?\b", check["title"].removeprefix("fail: ")), check["title"]


def test_an_errored_compare_is_a_row_everywhere_and_fails_the_check(metrics_repo: MetricsRepo, invoke) -> None:
    base_and_pr(metrics_repo, 0.85)
    metrics_repo.write("metrics.json", '{\n  "accuracy": 0.9,\n  "roc_auc": }\n')

    compare = invoke("compare", cwd=metrics_repo.path)
    report = invoke("report", "--driver", "local", "--pr", "3", cwd=metrics_repo.path)

    assert compare.code == 2 and report.code == 1, compare.err + report.err
    recorded = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    message = "metrics.json:3: is not valid JSON (Expecting value)"
    assert recorded["verdict"] == "error" and recorded["summary"] == message
    comment, check, summary = reported(metrics_repo.path)
    for markdown in (comment["body"], summary["markdown"], check["summary"] + (check["text"] or "")):
        assert step_row(markdown, "compare").startswith(f"| compare | ⛔ error | error: {message}")
    assert "mlgate: **error** · `compare` errored" in comment["body"]
    assert (check["conclusion"], check["verdict"], check["title"]) == ("failure", "error", "error: compare errored")


def test_the_matrix_template_uploads_each_jobs_results_even_after_a_step_stopped_it() -> None:
    """validate-data exits 2 on bad input whatever its `fail` input says, which skips the job's later steps:
    the results upload must still run, or the report job never sees the errored validation."""
    template = Path(__file__).parents[1] / "workflows-templates" / "mlgate-pr-matrix.yml"
    steps = yaml.safe_load(template.read_text(encoding="utf-8"))["jobs"]["train"]["steps"]
    [upload] = [step for step in steps if step.get("with", {}).get("path") == ".mlgate/results"]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload.get("if") == "always()"
