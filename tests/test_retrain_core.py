"""The pure decisions of `mlgate retrain`: whether to retrain, and which changed files a retrain commit carries."""

from __future__ import annotations

import pytest

from mlgate.retrain.commitset import CommitRules, select
from mlgate.retrain.decision import Decision, DriftSummary, decide

NO_DRIFT = DriftSummary(columns=32, drifted=("mean_area",), limit=0.5)
DRIFT = DriftSummary(columns=32, drifted=tuple(f"c{i}" for i in range(20)), limit=0.5)


def test_drift_is_a_share_of_drifted_columns_above_the_limit() -> None:
    assert not NO_DRIFT.detected and DRIFT.detected
    assert NO_DRIFT.describe() == "1 of 32 columns drifted (3%, not above the 50% limit)"
    assert DRIFT.describe() == "20 of 32 columns drifted (62%, above the 50% limit)"
    # limit 0: any drifted column is drift; none is not, and no comparable column never is
    assert DriftSummary(32, ("a",), 0.0).detected and not DriftSummary(32, (), 0.0).detected
    assert not DriftSummary(0, (), 0.0).detected
    assert DriftSummary(0, (), 0.0).describe() == "no column could be compared"


@pytest.mark.parametrize(
    ("when", "drift", "check_only", "retrain", "reason"),
    [
        ("drift", DRIFT, False, True, "the data drifted: 20 of 32 columns drifted (62%, above the 50% limit)"),
        (
            "drift",
            NO_DRIFT,
            False,
            False,
            "no drift: 1 of 32 columns drifted (3%, not above the 50% limit), and retrain.when is drift",
        ),
        (
            "always",
            NO_DRIFT,
            False,
            True,
            "retrain.when is always (1 of 32 columns drifted (3%, not above the 50% limit))",
        ),
        (
            "always",
            DRIFT,
            True,
            False,
            "check-only run: drift detected, 20 of 32 columns drifted (62%, above the "
            "50% limit); nothing was retrained",
        ),
        (
            "drift",
            NO_DRIFT,
            True,
            False,
            "check-only run: no drift, 1 of 32 columns drifted (3%, not above the 50% limit); nothing was retrained",
        ),
    ],
)
def test_decide(when: str, drift: DriftSummary, check_only: bool, retrain: bool, reason: str) -> None:
    assert decide(when, drift, check_only=check_only) == Decision(retrain, reason)


def test_decide_refuses_an_unknown_policy() -> None:
    with pytest.raises(ValueError, match="sometimes"):
        decide("sometimes", DRIFT, check_only=False)


RULES = CommitRules(
    params=("params.yaml",),
    metrics=("metrics.json", "reports/metrics"),
    predictions="eval/predictions.csv",
)


def test_only_pointers_params_metrics_and_predictions_are_committed() -> None:
    changed = [
        "dvc.lock",
        "sub/dvc.lock",
        "raw/fresh.csv.dvc",
        "raw/.gitignore",
        "params.yaml",
        "metrics.json",
        "reports/metrics/auc.json",
        "eval/predictions.csv",
        "raw/fresh.csv",  # the data itself belongs in DVC, not in git
        "notes.txt",
        "reports/metrics.json.bak",
        "mlgate.schema.yml",  # not asked for
        ".dvc",
    ]
    chosen = select(changed, RULES)
    assert chosen.commit == (
        "dvc.lock",
        "eval/predictions.csv",
        "metrics.json",
        "params.yaml",
        "raw/.gitignore",
        "raw/fresh.csv.dvc",
        "reports/metrics/auc.json",
        "sub/dvc.lock",
    )
    assert chosen.left_out == (".dvc", "mlgate.schema.yml", "notes.txt", "raw/fresh.csv", "reports/metrics.json.bak")


def test_data_files_git_tracks_are_committed_as_their_own_pointers() -> None:
    rules = CommitRules(data=("data/train.csv",), metrics=("metrics.json",))
    assert select(["data/train.csv", "data/test.csv", "metrics.json"], rules).commit == (
        "data/train.csv",
        "metrics.json",
    )


def test_the_schema_is_committed_only_when_asked() -> None:
    asked = CommitRules(schema="mlgate.schema.yml")
    assert select(["mlgate.schema.yml"], asked).commit == ("mlgate.schema.yml",)
    assert select(["mlgate.schema.yml"], CommitRules()).commit == ()


def test_gitignore_goes_along_only_with_a_pointer() -> None:
    assert select([".gitignore", "metrics.json"], RULES).commit == ("metrics.json",)
    assert select([".gitignore", "dvc.lock"], RULES).commit == (".gitignore", "dvc.lock")


def test_nothing_relevant_changed_is_an_empty_selection() -> None:
    chosen = select(["raw/fresh.csv"], RULES)
    assert chosen.empty and chosen.left_out == ("raw/fresh.csv",)
