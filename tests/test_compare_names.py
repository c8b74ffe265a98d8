"""Which recomputable metric and split a gate rule's key names (compare/names.py), and what a changed DVC path
is for "Data changed" (compare/datagroups.py): pure functions, checked case by case."""

from __future__ import annotations

import pytest

from mlgate.compare import names
from mlgate.compare.datagroups import CODE, DATA, METRICS, OUTPUTS, Pipeline, groups
from mlgate.compare.stats import METRICS as RECOMPUTABLE


@pytest.mark.parametrize(
    ("key", "kind", "split"),
    [
        ("roc_auc.test", "roc_auc", "test"),
        ("test.roc_auc", "roc_auc", "test"),
        ("eval.test.accuracy", "accuracy", "test"),
        ("Accuracy", "accuracy", None),
        ("TRAIN.Accuracy", "accuracy", "train"),
        ("metrics.json:avg_prec.val", "average_precision", "val"),
        ("ap", "average_precision", None),
        ("average_precision", "average_precision", None),
        ("scores.balanced_accuracy", "balanced_accuracy", None),
        ("matthews_corrcoef.holdout", "mcc", "holdout"),
        ("mcc", "mcc", None),
        ("validation.AUC", "roc_auc", "validation"),
        ("eval.f1_score", "f1", None),  # `eval` names folders and stages as often as a split: not a split
        (" test . logloss ", "log_loss", "test"),
    ],
)
def test_a_key_names_its_metric_by_any_dotted_part_and_its_split(key: str, kind: str, split: str | None):
    assert names.parse(key, RECOMPUTABLE) == names.MetricName(kind, split)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("latency_ms", "latency_ms is not a metric mlgate recomputes from predictions"),
        ("test.map", "test.map is not a metric mlgate recomputes from predictions"),
        ("f1.accuracy", "f1.accuracy names several metrics (accuracy, f1)"),
    ],
)
def test_a_key_that_names_no_single_metric_says_why(key: str, why: str):
    assert names.parse(key, RECOMPUTABLE) == names.MetricName(None, why_not=why)


def test_only_metrics_in_the_known_set_are_recomputable():
    assert names.parse("roc_auc.test", ("accuracy",)).kind is None


@pytest.mark.parametrize(
    ("key", "split", "tested"),
    [
        ("roc_auc.test", "test", True),
        ("roc_auc.test", " Test ", True),
        ("roc_auc.train", "test", False),
        ("roc_auc", "test", True),  # names no split: tested from any predictions
        ("val.accuracy", "val", True),
        ("val.accuracy", "validation", False),  # split names are matched as written, not by synonym
    ],
)
def test_a_rule_is_tested_only_from_its_own_splits_predictions(key: str, split: str, tested: bool):
    assert names.split_matches(names.parse(key, RECOMPUTABLE), split) is tested


PIPELINE = Pipeline(
    metrics_and_plots=("eval/metrics.json", "plots/roc.csv"),
    produced=frozenset({"eval", "models/model.pkl", "data/features", "reports/summary.txt", "src/generated.py"}),
    consumed=frozenset({"data/raw.csv", "data/features", "src/train.py", "models/model.pkl", "requirements.txt"}),
)


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("eval", METRICS),  # an output folder holding a declared metrics file
        ("eval/metrics.json", METRICS),
        ("plots/roc.csv", METRICS),
        ("src/train.py", CODE),
        ("src/generated.py", CODE),  # code even when a stage produces it
        ("notebooks/Explore.IPYNB", CODE),
        ("requirements.txt", CODE),
        ("Makefile", CODE),
        ("models/model.pkl", OUTPUTS),  # a model, although the next stage consumes it
        ("reports/summary.txt", OUTPUTS),  # produced and consumed by no stage
        ("data/features", DATA),  # one stage hands it to the next
        ("data/raw.csv", DATA),
        ("data/added.parquet", DATA),  # `dvc add`-ed: no stage names it
    ],
)
def test_data_changed_groups(path: str, group: str):
    assert PIPELINE.group(path) == group


def test_groups_maps_every_path():
    assert groups(PIPELINE, ["src/train.py", "data/raw.csv"]) == {"src/train.py": CODE, "data/raw.csv": DATA}
