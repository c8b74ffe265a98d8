"""The steps as a Python API, without the command line: each `mlgate.steps.<step>.run(inputs, project)` on the
example repository returns its result and writes it to the bundle; bad input comes back as verdict `error`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlgate import pipeline, steps
from mlgate.errors import InputError
from mlgate.results import read_results_dir

pytestmark = pytest.mark.slow


@pytest.fixture
def project(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> steps.Project:
    monkeypatch.chdir(example_repo)  # the local driver's outbox is .mlgate/outbox of the working directory
    return steps.Project.load(example_repo / "mlgate.yml", env={})


def test_every_step_runs_from_python_on_the_example(
    project: steps.Project, example_repo: Path, user_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = steps.validate.run(steps.validate.Inputs(), project)
    assert validated.verdict in ("pass", "warn"), validated.summary
    assert validated.error is None and validated.evidence["inputs"]["test"]["rows"] > 0

    # Training, its determinism rerun (the example's train.repeat: 2 forces every stage to run) and the data
    # command run in the user's environment (mlgate's own venv is taken out of PATH).
    monkeypatch.setenv("PATH", f"{user_python}{os.pathsep}{os.environ['PATH']}")
    trained = steps.train.run(steps.train.Inputs(), project)
    assert (trained.verdict, trained.error) == ("pass", None), trained.summary
    assert trained.evidence["determinism"]["nondeterministic"] is False
    assert set(trained.evidence["metrics"]["metrics.json"]) >= {"accuracy", "roc_auc"}

    compared = steps.compare.run(steps.compare.Inputs(base="HEAD"), project)
    assert compared.verdict == "pass", compared.summary
    assert {rule["metric"] for rule in compared.evidence["rules"]} == {"accuracy", "roc_auc", "f1", "log_loss"}

    reported = steps.report.run(steps.report.Inputs(driver="local", pr_number=3), project)
    assert (reported.error, reported.verdict) == (None, validated.verdict)  # the bundle's worst verdict
    [comment] = (example_repo / ".mlgate/outbox/comment").glob("pr-3-*.json")
    assert "mlgate: **" in json.loads(comment.read_text())["body"]

    deployed = steps.deploy.run(steps.deploy.Inputs(environment="staging", driver="local", push=False), project)
    assert deployed.verdict == "pass", deployed.summary
    assert deployed.evidence["version"] == "v0.0.1"
    assert "breast-cancer-classifier#staging#1" in deployed.evidence["tags"]

    checked = steps.retrain.run(steps.retrain.Inputs(check_only=True, driver="local"), project)
    assert checked.verdict in ("pass", "warn") and checked.evidence["outcome"] == "check-only", checked.summary

    bundle = {result.step: result.verdict for result in read_results_dir(project.results_dir)}
    assert bundle == {
        "validation": validated.verdict,
        "train": "pass",
        "compare": "pass",
        "deploy": "pass",
        "retrain": checked.verdict,
    }


def test_bad_input_is_an_error_result_not_an_exception(project: steps.Project) -> None:
    result = steps.validate.run(steps.validate.Inputs(label="no_such_column"), project)
    assert result.verdict == "error" and isinstance(result.error, InputError)
    assert "label column 'no_such_column' is not in the file" in result.summary
    written = json.loads((project.results_dir / "validation.json").read_text())
    assert (written["verdict"], written["summary"]) == ("error", result.summary)
    assert written["evidence"]["error"]["file"].endswith("data/train.csv")


def test_the_pr_pipeline_reports_an_errored_step_and_exits_2(project: steps.Project, example_repo: Path) -> None:
    (example_repo / "data/train.csv").write_text("not,the,data\n1,2,3\n")
    policy = example_repo / "mlgate.yml"  # the project's tests and the serving check have tests of their own
    kept = [
        line
        for line in policy.read_text().splitlines()
        if not line.startswith(("tests:", "serving")) and "serving." not in line
    ]
    policy.write_text("\n".join([*kept, "tests: false"]) + "\n")
    shown: list[object] = []
    inputs = pipeline.PrInputs(base="HEAD", skip_train=True, report=steps.report.Inputs(driver="local", pr_number=4))
    outcome = pipeline.pr(inputs, steps.Project.load(policy, env={}), shown.append)
    assert outcome.exit_code == 2 and isinstance(outcome.error, InputError)
    assert [result.step for result in outcome.results] == ["validation", "tests", "compare", "report"]
    assert [result.verdict for result in outcome.results] == ["error", "skipped", "pass", "error"]
    assert shown[0] == "train: skipped (--skip-train)" and shown[1:] == list(outcome.results)
