"""Which recomputable metric a gate rule's key names, and which split: `roc_auc.test`, `test.roc_auc`,
`eval.test.accuracy`, `Accuracy`, `avg_prec` — any dotted part, case-insensitively, aliases included.

A predictions file holds one split's rows (metrics.predictions_split, default `test`): a rule is tested from
it only when its key names that split or names no split at all (`roc_auc.train` is not tested from test rows).
"""

from __future__ import annotations

from dataclasses import dataclass

ALIASES = {
    "acc": "accuracy",
    "f1_score": "f1",
    "f1score": "f1",
    "auc": "roc_auc",
    "roc-auc": "roc_auc",
    "rocauc": "roc_auc",
    "roc_auc_score": "roc_auc",
    "logloss": "log_loss",
    "cross_entropy": "log_loss",
    "mean_absolute_error": "mae",
    "root_mean_squared_error": "rmse",
    "r2_score": "r2",
    "r_squared": "r2",
    "avg_prec": "average_precision",
    "avg_precision": "average_precision",
    "average_precision_score": "average_precision",
    "ap": "average_precision",
    "balanced_acc": "balanced_accuracy",
    "balanced_accuracy_score": "balanced_accuracy",
    "matthews_corrcoef": "mcc",
    "matthews": "mcc",
}
# Names of data splits in metric keys; `eval` is left out, it names folders and stages as often as a split.
SPLITS = frozenset({"train", "training", "test", "testing", "val", "valid", "validation", "dev", "holdout"})


@dataclass(frozen=True)
class MetricName:
    """What a key says: the metric it can be recomputed as (None: none), its split, or why it is neither."""

    kind: str | None
    split: str | None = None
    why_not: str | None = None


def _parts(key: str) -> list[str]:
    return [part.strip().lower() for part in key.rsplit(":", 1)[-1].split(".") if part.strip()]


def parse(key: str, known: frozenset[str] | tuple[str, ...]) -> MetricName:
    """The recomputable metric among `known` that one dotted part of `key` names (aliases resolved)."""
    parts = _parts(key)
    kinds = {ALIASES.get(part, part) for part in parts} & set(known)
    if not kinds:
        return MetricName(None, why_not=f"{key} is not a metric mlgate recomputes from predictions")
    if len(kinds) > 1:
        return MetricName(None, why_not=f"{key} names several metrics ({', '.join(sorted(kinds))})")
    splits = [part for part in parts if part in SPLITS]
    return MetricName(kinds.pop(), splits[0] if splits else None)


def split_matches(name: MetricName, predictions_split: str) -> bool:
    """A key naming no split is tested from any predictions; one naming a split only from that split's."""
    return name.split is None or name.split == predictions_split.strip().lower()
