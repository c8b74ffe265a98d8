"""deepchecks suites run for real (no mocks), model evaluation from a predictions file, results mapped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

os.environ.setdefault("DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY", "1")


def run_validate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", "validate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def make_repo(root: Path, frame: pd.DataFrame, suites: list[str], predictions: str) -> pd.DataFrame:
    """train/test CSVs, mlgate.yml naming the suites, and per-row predictions of a real model on test."""
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    train.to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    features = [c for c in frame.columns if c != "target"]
    model = LogisticRegression(max_iter=5000).fit(train[features], train["target"])
    proba = model.predict_proba(test[features])
    rows = pd.DataFrame({"y_true": test["target"].to_numpy(), "y_pred": model.predict(test[features])})
    if predictions == "proba":
        for index, label in enumerate(model.classes_):
            rows[f"y_proba_{label}"] = proba[:, index]
    else:
        rows["y_score"] = proba[:, 1]
    rows.to_csv(root / "predictions.csv", index=False)
    (root / "mlgate.yml").write_text(
        "data:\n  train: train.csv\n  test: test.csv\n  label: target\n"
        f"  checks:\n    deepchecks: [{', '.join(suites)}]\nmetrics:\n  predictions: predictions.csv\n"
    )
    return rows


def suites_of(root: Path) -> dict[str, dict]:
    document = json.loads((root / ".mlgate/results/validation.json").read_text())
    return {suite["suite"]: suite for suite in document["evidence"]["deepchecks"]}


@pytest.mark.slow
def test_all_suites_on_iris_with_class_probabilities(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        load_iris(as_frame=True).frame,
        ["data_integrity", "train_test_validation", "model_evaluation"],
        "proba",
    )
    results = tmp_path / ".mlgate" / "results"
    results.mkdir(parents=True)
    (results / "deepchecks-data_integrity.html").write_text("stale report of an earlier run")
    result = run_validate(cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "pkg_resources" not in result.stderr
    suites = suites_of(tmp_path)
    assert list(suites) == ["data_integrity", "train_test_validation", "model_evaluation"]
    for name, suite in suites.items():
        report = results / f"deepchecks-{name}.html"
        assert suite["report"] == str(Path(".mlgate/results") / report.name)
        assert report.stat().st_size > 100_000 and "stale report" not in report.read_text()
        assert sum(suite["counts"].values()) == len(suite["checks"]) > 3
    assert sorted(p.name for p in results.iterdir()) == [
        "deepchecks-data_integrity.html",
        "deepchecks-model_evaluation.html",
        "deepchecks-train_test_validation.html",
        "validation.json",
    ]
    evaluation = {c["check"]: c for c in suites["model_evaluation"]["checks"]}
    # From the predictions file alone: performance on the test rows, no model object anywhere.
    assert evaluation["Confusion Matrix Report"]["status"] == "pass"
    assert evaluation["ROC Report"]["status"] == "pass"
    assert evaluation["ROC Report"]["details"].startswith("AUC score for all the classes is greater than 0.7")
    assert evaluation["Train Test Performance"]["status"] == "not_applicable"
    assert evaluation["Unused Features"]["status"] == "not_applicable"
    integrity = {c["check"]: c["status"] for c in suites["data_integrity"]["checks"]}
    assert integrity["Identifier Label Correlation - Train Dataset"] == "not_applicable"
    assert integrity["Mixed Nulls - Train Dataset"] == "pass"


@pytest.mark.slow
def test_model_evaluation_from_binary_scores(tmp_path: Path) -> None:
    iris = load_iris(as_frame=True).frame
    make_repo(tmp_path, iris[iris["target"] < 2], ["model_evaluation"], "score")  # binary: setosa or versicolor
    result = run_validate(cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    evaluation = {c["check"]: c for c in suites_of(tmp_path)["model_evaluation"]["checks"]}
    assert evaluation["ROC Report"]["status"] == "pass"
    assert evaluation["Calibration Metric"]["status"] == "pass"  # needs the probabilities: y_score reached it
    assert evaluation["Prediction Drift"]["status"] == "not_applicable"


def test_predictions_that_do_not_match_the_test_rows_are_input_errors(tmp_path: Path) -> None:
    rows = make_repo(tmp_path, load_iris(as_frame=True).frame, ["model_evaluation"], "proba")
    rows.head(10).to_csv(tmp_path / "predictions.csv", index=False)
    result = run_validate(cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "mlgate: error: predictions.csv: has 10 prediction rows but test.csv has 45 rows: "
        "one prediction per test row\n",
    )
    rows.iloc[::-1].to_csv(tmp_path / "predictions.csv", index=False)
    result = run_validate(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mlgate: error: predictions.csv: y_true differs from test.csv's 'target' in ")
    recorded = json.loads((tmp_path / ".mlgate" / "results" / "validation.json").read_text())
    assert recorded["verdict"] == "error"
    (tmp_path / "mlgate.yml").write_text(
        "data:\n  train: train.csv\n  test: test.csv\n  label: target\n  checks:\n    deepchecks: [model_evaluation]\n"
    )
    result = run_validate(cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "mlgate: error: mlgate.yml:6: data.checks.deepchecks: model_evaluation needs a predictions file: "
        "pass --predictions or set metrics.predictions\n",
    )


def test_check_outcomes_map_to_statuses() -> None:
    from deepchecks.core import CheckResult, ConditionCategory, ConditionResult
    from deepchecks.core.check_result import CheckFailure
    from deepchecks.core.errors import DatasetValidationError, ModelValidationError
    from deepchecks.tabular.checks import DataDuplicates

    from mlgate.adapters.deepchecks_suites import _outcome

    check = DataDuplicates()
    assert _outcome(CheckFailure(check, ModelValidationError("no model"))).status == "not_applicable"
    assert _outcome(CheckFailure(check, DatasetValidationError("no index"))).status == "not_applicable"
    crashed = _outcome(CheckFailure(check, RuntimeError("boom")))
    assert (crashed.status, crashed.details) == ("error", "RuntimeError: boom")
    result = CheckResult(0.1, header="Data Duplicates")
    result.check = check
    assert _outcome(result).status == "pass"
    warned, failed = ConditionResult(ConditionCategory.WARN, "10%"), ConditionResult(ConditionCategory.FAIL, "30%")
    warned.set_name("duplicates under 5%")
    failed.set_name("duplicates under 20%")
    result.conditions_results = [warned, failed]
    assert (_outcome(result).status, _outcome(result).details) == ("fail", "duplicates under 20%: 30%")


def test_predictions_whose_truth_cannot_be_a_label(tmp_path: Path) -> None:
    rows = make_repo(tmp_path, load_iris(as_frame=True).frame, ["model_evaluation"], "proba")
    rows.assign(y_true="setosa").to_csv(tmp_path / "predictions.csv", index=False)
    result = run_validate(cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "mlgate: error: predictions.csv: y_true holds values that cannot be labels of 'target' in test.csv\n",
    )
