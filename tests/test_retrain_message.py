"""What a reviewer reads: the retrain pull request's title and body, fitted to GitHub's limit, and the
drift alert of a monitoring run."""

from __future__ import annotations

from mlgate.report.fit import github_length
from mlgate.report.render import ReportContext
from mlgate.results import StepResult
from mlgate.retrain.decision import DriftSummary, decide
from mlgate.retrain.message import RunInfo, commit_message, monitor_comment, pr_body, pr_title

INFO = RunInfo("main", "a" * 40, "python src/fetch.py", "drift", "2026-03-02", "https://github.com/o/r/actions/runs/9")


def drift_evidence(columns: int, drifted: int, limit: float = 0.1) -> dict[str, object]:
    rows = [
        {
            "column": f"feature_{i}",
            "kind": "numeric",
            "method": "ks",
            "statistic": 0.7 if i < drifted else 0.02,
            "p_value": 1e-9 if i < drifted else 0.9,
            "threshold": 0.05,
            "verdict": "drift" if i < drifted else "ok",
            "note": "",
        }
        for i in range(columns)
    ]
    return {"columns": rows, "drifted_share": drifted / columns, "max_drifted_share": limit, "sample": "all rows"}


def summary(columns: int, drifted: int, limit: float = 0.1) -> DriftSummary:
    return DriftSummary(columns, tuple(f"feature_{i}" for i in range(drifted)), limit)


def compare_result(rules: int) -> StepResult:
    evidence = {
        "rules": [
            {"metric": f"metric_{i}", "base": 0.9, "head": 0.91, "outcome": "pass", "status": "improved"}
            for i in range(rules)
        ]
    }
    return StepResult("compare", "pass", f"all {rules} gate rules passed", {"base": "a" * 40}, evidence)


def test_titles_and_commit_message_say_why() -> None:
    drifted, calm = summary(32, 7), summary(32, 0)
    assert pr_title(drifted, INFO) == "mlgate retrain: data drifted (7 of 32 columns), retrained 2026-03-02"
    assert pr_title(calm, INFO) == "mlgate retrain: scheduled retraining 2026-03-02"
    text = commit_message(decide("drift", drifted, check_only=False), drifted, INFO)
    assert text.startswith("mlgate retrain: refresh the data and retrain\n\nWhy: the data drifted: 7 of 32 columns")
    assert "Drifted columns: feature_0, feature_1, feature_2, feature_3, feature_4, feature_5, feature_6\n" in text
    many = summary(40, 20)
    assert "feature_7 and 12 more" in commit_message(decide("drift", many, check_only=False), many, INFO)


def test_the_body_puts_the_reason_and_the_drift_table_on_top_of_the_report() -> None:
    drifted = summary(32, 7)
    body = pr_body(
        decide("drift", drifted, check_only=False),
        INFO,
        drift_evidence(32, 7),
        [compare_result(3)],
        ReportContext(name="retrain", run_url=INFO.run_url),
        committed=("dvc.lock", "metrics.json"),
        left_out=("raw/fresh.csv",),
    )
    reason, table, report = body.index("**Why:**"), body.index("### Drift"), body.index("mlgate · retrain: **pass**")
    assert reason < table < report
    assert "Committed: `dvc.lock`, `metrics.json`." in body
    assert "`raw/fresh.csv`. If the pipeline needs any of them, track them with `dvc add`" in body
    assert "| `feature_0` | ks |" in body


def test_a_huge_body_is_fitted_but_keeps_the_reason() -> None:
    drifted = summary(3000, 2000, limit=0.5)
    body = pr_body(
        decide("drift", drifted, check_only=False),
        INFO,
        drift_evidence(3000, 2000, limit=0.5),
        [compare_result(400)],
        ReportContext(name="retrain", run_url=INFO.run_url),
        limit=20_000,
    )
    assert github_length(body) <= 20_000
    assert body.startswith("## 🔁 mlgate retrain\n\n**Why:** the data drifted: 2000 of 3000 columns drifted (67%")
    assert "mlgate · retrain: **pass**" in body  # the verdict always stays
    assert "Left out or cut to fit GitHub's size limit" in body


def test_the_monitor_comment_carries_its_marker_and_the_table() -> None:
    drifted = summary(32, 7)
    text = monitor_comment(decide("drift", drifted, check_only=True), INFO, drift_evidence(32, 7))
    assert text.startswith("<!-- mlgate:drift-monitor -->\n### mlgate drift monitor: drift in `main`'s data")
    assert f"([workflow run]({INFO.run_url}))" in text
    assert "check-only run: drift detected, 7 of 32 columns drifted (22%, above the 10% limit)" in text
    assert "| `feature_6` | ks |" in text
