"""`mlgate report` with the local driver: the same comment, check and summary records in .mlgate/outbox/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.report_fixtures import (
    HEAD_SHA,
    actions_env,
    bundle,
    compare_result,
    read_outputs,
    run_mlgate,
    write_bundle,
)

from mlgate.drivers.outbox import Outbox
from mlgate.results import StepResult


def outbox(root: Path) -> Outbox:
    return Outbox(root / ".mlgate" / "outbox")


def test_first_run_creates_and_reruns_update_the_one_comment(tmp_path: Path) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", bundle("pass"))
    first = run_mlgate("report", "--driver", "local", "--pr", "7", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "comment created on #7" in first.stdout
    [record] = outbox(tmp_path).list("comment")
    assert record["pr_number"] == 7 and record["revision"] == 1
    assert record["body"].startswith("<!-- mlgate:report workflow=local name=mlgate -->\n## ✅ mlgate: **pass**")

    unchanged = run_mlgate("report", "--driver", "local", "--pr", "7", cwd=tmp_path)
    assert "comment unchanged on #7" in unchanged.stdout
    write_bundle(tmp_path / ".mlgate" / "results", bundle("fail"))
    for _ in range(3):
        again = run_mlgate("report", "--driver", "local", "--pr", "7", cwd=tmp_path)
        assert again.returncode == 1, again.stderr  # the gate failed: exit 1, after reporting
    [record] = outbox(tmp_path).list("comment")
    assert "## ❌ mlgate: **fail**" in record["body"] and record["revision"] == 2

    [check] = outbox(tmp_path).list("check")
    assert check["name"] == "mlgate" and check["head_sha"] == HEAD_SHA and check["conclusion"] == "failure"
    assert check["annotations"][0]["path"] == "mlgate.yml"
    [summary] = outbox(tmp_path).list("summary")
    assert "## ❌ mlgate: **fail**" in summary["markdown"]
    assert (tmp_path / ".mlgate" / "report.md").read_text(encoding="utf-8") == summary["markdown"]


@pytest.mark.parametrize(
    ("verdict", "fail_on", "code", "conclusion"),
    [
        ("pass", "fail", 0, "success"),
        ("warn", "fail", 0, "neutral"),
        ("warn", "warn", 1, "neutral"),
        ("fail", "fail", 1, "failure"),
        ("fail", "never", 0, "failure"),
        ("error", "fail", 1, "failure"),
        ("skipped", "warn", 0, "skipped"),
    ],
)
def test_exit_code_and_conclusion_follow_the_gate(
    tmp_path: Path, verdict: str, fail_on: str, code: int, conclusion: str
) -> None:
    write_bundle(tmp_path / "results", [StepResult("compare", verdict, f"gate {verdict}", {"head": HEAD_SHA}, {})])
    done = run_mlgate("report", "results", "--driver", "local", "--fail-on", fail_on, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    [check] = outbox(tmp_path).list("check")
    assert check["conclusion"] == conclusion


def test_reports_of_two_names_coexist_and_modes_behave(tmp_path: Path) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", bundle("pass"))
    for name in ("mlgate", "nightly"):
        assert run_mlgate("report", "--driver", "local", "--pr", "3", "--name", name, cwd=tmp_path).returncode == 0
    bodies = sorted(record["body"].splitlines()[0] for record in outbox(tmp_path).list("comment"))
    assert bodies == [
        "<!-- mlgate:report workflow=local name=mlgate -->",
        "<!-- mlgate:report workflow=local name=nightly -->",
    ]
    recreated = run_mlgate("report", "--driver", "local", "--pr", "3", "--mode", "recreate", cwd=tmp_path)
    assert "comment recreated on #3" in recreated.stdout
    for _ in range(2):
        run_mlgate("report", "--driver", "local", "--pr", "3", "--mode", "append", cwd=tmp_path)
    assert len(outbox(tmp_path).list("comment")) == 4


def test_matrix_bundles_merge_into_one_report(tmp_path: Path) -> None:
    write_bundle(tmp_path / "gpu", [compare_result(label="gpu")])
    write_bundle(tmp_path / "cpu", [compare_result(verdict="pass", label="cpu")])
    done = run_mlgate("report", "gpu", "cpu", "--driver", "local", "--pr", "1", cwd=tmp_path)
    assert done.returncode == 1
    [record] = outbox(tmp_path).list("comment")
    assert "· `gpu`" in record["body"] and "· `cpu`" in record["body"]


def test_a_matrix_job_that_left_no_results_is_an_errored_row(tmp_path: Path) -> None:
    """A matrix job that stopped before any step recorded a result (its setup failed, it was cancelled) uploads no
    artifact: the merged report shows it as an errored row of its name and fails, instead of leaving it out."""
    write_bundle(tmp_path / "results" / "mlgate-results-logreg", [compare_result(verdict="pass")])
    (tmp_path / "results" / "mlgate-results-svm").mkdir()
    dirs = ("results/mlgate-results-logreg", "results/mlgate-results-forest", "results/mlgate-results-svm")
    done = run_mlgate("report", *dirs, "--driver", "local", "--pr", "1", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    [comment], [check] = outbox(tmp_path).list("comment"), outbox(tmp_path).list("check")
    for job in ("forest", "svm"):
        row = next(
            line for line in comment["body"].splitlines() if line.startswith(f"| report | `mlgate-results-{job}")
        )
        assert "⛔ error" in row and "holds no step results: its job stopped before any step recorded one" in row
    assert "| compare | `mlgate-results-logreg` | ✅ pass |" in comment["body"]
    title = "error: mlgate-results-forest: report errored (+1 more)"
    assert (check["conclusion"], check["title"]) == ("failure", title)


def test_in_actions_the_summary_and_outputs_are_written(tmp_path: Path) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", bundle("warn"))
    env = actions_env(tmp_path)
    done = run_mlgate("report", "--driver", "local", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "no pull request for this run" in done.stdout
    assert "## ⚠️ mlgate: **warn**" in (tmp_path / "gh_summary").read_text(encoding="utf-8")
    outputs = read_outputs(tmp_path / "gh_output")
    assert outputs["report"] == ".mlgate/report.md" and outputs["verdict"] == "warn" and outputs["comment-url"] == ""
    assert (tmp_path / ".mlgate" / "mlgate-report" / "report.md").is_file()
    assert not (tmp_path / ".mlgate" / "mlgate-report" / "meta.json").exists()


def test_no_results_is_a_clear_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_mlgate("report", "empty", "--driver", "local", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "mlgate: error: no results to report: empty holds no step results (validation.json, train.json, …)"
    )
    missing = run_mlgate("report", "nowhere", "--driver", "local", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere: results directory does not exist" in missing.stderr


def test_a_corrupt_results_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "compare.json").write_text(json.dumps({"schema_version": 1, "step": "compare"}))
    done = run_mlgate("report", "r", "--driver", "local", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "r/compare.json: results file is missing key 'verdict'" in done.stderr
    assert not (tmp_path / ".mlgate").exists()  # nothing written half


def test_github_driver_without_a_token_is_an_input_error(tmp_path: Path) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", bundle("pass"))
    done = run_mlgate("report", "--driver", "github", cwd=tmp_path, env={"GITHUB_REPOSITORY": "o/r"})
    assert done.returncode == 2
    assert "the github driver needs a token" in done.stderr
