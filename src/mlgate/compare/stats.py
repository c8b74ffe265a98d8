"""Is a metric change real or noise? Seeded, vectorized bootstrap intervals and McNemar's exact test.

Resampling rows with replacement only matters through how many times each row is drawn, so every metric
here is written as a function of per-"cell" counts, where a cell is a group of rows the metric cannot tell
apart. Label metrics (accuracy, precision, recall, f1) have a handful of cells — the joint (truth, base
prediction, head prediction) combinations — and their resampled counts are drawn directly from the
multinomial distribution: the same distribution as drawing row indices, at a cost independent of the number of
rows. Score and regression metrics keep one cell per row; their counts come from blocks of drawn row indices
(memory bounded by BLOCK_ELEMENTS), and roc_auc is evaluated from one presorting of the scores per model
(weighted rank sums over tie groups), never re-sorted per resample.

Paired (same rows at base and head): both models are scored on the same resample, and the interval is of
their difference. Unpaired: each side is resampled on its own. The interval is the percentile interval
[q(alpha/2), q(1 - alpha/2)] of the resampled deltas, the same as scipy.stats.bootstrap(method="percentile").
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgate.compare import names

if TYPE_CHECKING:
    import numpy as np

LABEL_METRICS = ("accuracy", "precision", "recall", "f1", "balanced_accuracy", "mcc")
SCORE_METRICS = ("roc_auc", "average_precision", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "r2")
METRICS = LABEL_METRICS + SCORE_METRICS + REGRESSION_METRICS
# Counts are drawn from the multinomial directly when there are few cells, each of many rows (one binomial
# draw per cell costs about as much as drawing several row indices); otherwise row indices are drawn.
MULTINOMIAL_MAX_CELLS = 4096
MULTINOMIAL_MIN_ROWS_PER_CELL = 8
# Drawn row indices per block of resamples: bounds memory (a few MB) and keeps blocks in cache.
BLOCK_ELEMENTS = 1 << 20


def metric_kind(name: str) -> str | None:
    """The metric a (possibly nested, dotted) metrics key names by any of its parts, if we can recompute it
    from predictions (mlgate.compare.names)."""
    return names.parse(name, METRICS).kind


@dataclass(frozen=True)
class Predictions:
    """One model's per-row predictions, aligned row by row with the other side when paired."""

    y_true: np.ndarray
    y_pred: np.ndarray | None = None
    y_score: np.ndarray | None = None  # probability of the positive class (binary)

    @property
    def n(self) -> int:
        return len(self.y_true)


class StatsError(ValueError):
    """The predictions cannot give this metric (a missing column, one class only, …); says which and why."""


@dataclass(frozen=True)
class McNemar:
    base_only: int  # rows the base model got right and the head model wrong
    head_only: int  # rows the head model got right and the base model wrong
    p_value: float


@dataclass(frozen=True)
class Interval:
    metric: str
    paired: bool
    n_base: int | None
    n_head: int
    base: float | None  # the metric recomputed from base predictions (None: no base predictions)
    head: float
    delta: float | None
    low: float  # percentile interval of the delta (of the head value when there is no base at all)
    high: float
    p_value: float  # McNemar's exact p for paired accuracy, else the percentile-interval bootstrap p
    test: str
    alpha: float
    resamples: int
    mcnemar: McNemar | None = None
    bootstrap: str | None = None  # what made [low, high] when `test`, which gave the p-value, did not

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    @property
    def interval_method(self) -> str:
        """What made [low, high]: always a percentile bootstrap (McNemar's test gives only the p-value)."""
        return self.bootstrap or ("paired bootstrap" if self.mcnemar is not None else self.test)

    def to_dict(self) -> dict[str, object]:
        fields = {k: getattr(self, k) for k in ("metric", "paired", "n_base", "n_head", "base", "head", "delta")}
        fields |= {
            "ci_low": self.low,
            "ci_high": self.high,
            "confidence": 1 - self.alpha,
            "p_value": self.p_value,
            "test": self.test,
            "interval_method": self.interval_method,
            "alpha": self.alpha,
            "resamples": self.resamples,
            "significant": self.significant,
        }
        if self.mcnemar is not None:
            fields["mcnemar"] = {"base_only": self.mcnemar.base_only, "head_only": self.mcnemar.head_only}
        return fields


def mcnemar_exact(base_correct: np.ndarray, head_correct: np.ndarray) -> McNemar:
    """Two-sided exact McNemar test: the discordant pairs against Binomial(b + c, 1/2).

    P(X <= k) for X ~ Binomial(n, 1/2) is the regularized incomplete beta I_(1/2)(n - k, k + 1), which scipy
    computes to full double precision (its `bdtr` loses digits past a few thousand pairs).
    """
    import numpy as np
    from scipy.special import betainc

    b = int(np.count_nonzero(base_correct & ~head_correct))
    c = int(np.count_nonzero(~base_correct & head_correct))
    k, n = min(b, c), b + c
    p = 1.0 if n == 0 else min(1.0, 2.0 * float(betainc(n - k, k + 1, 0.5)))
    return McNemar(b, c, p)


def _rng(seed: int, metric: str) -> np.random.Generator:
    """One stream per (seed, metric): adding a gate rule never changes another rule's interval."""
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(metric.encode("utf-8"))])


# --- cells: which rows a metric cannot tell apart, and the resampled counts of each ---------------------------


@dataclass(frozen=True)
class _Cells:
    representative: np.ndarray  # one row index per cell
    sizes: np.ndarray  # rows per cell
    of_row: np.ndarray | None  # cell of every row; None when every row is its own cell

    @property
    def n(self) -> int:
        return int(self.sizes.sum())


def _row_cells(n: int) -> _Cells:
    import numpy as np

    return _Cells(np.arange(n), np.ones(n, dtype=np.int64), None)


def _label_cells(columns: list[np.ndarray]) -> _Cells:
    """Group rows by their tuple of label codes (truth, then one prediction per model)."""
    import numpy as np

    code = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        code = code * (int(column.max()) + 1) + column
    _, representative, of_row, sizes = np.unique(code, return_index=True, return_inverse=True, return_counts=True)
    return _Cells(representative, sizes, of_row)


def _resampled_counts(cells: _Cells, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Blocks of (resamples_in_block, cells) counts of a with-replacement resample of all n rows."""
    import numpy as np

    n, m = cells.n, len(cells.sizes)
    if m <= MULTINOMIAL_MAX_CELLS and m * MULTINOMIAL_MIN_ROWS_PER_CELL <= n:
        block = max(1, BLOCK_ELEMENTS // m)
        for start in range(0, resamples, block):
            size = min(block, resamples - start)
            yield rng.multinomial(n, cells.sizes / n, size=size)
        return
    # One row drawn 256+ times in n draws has probability below n/256!, i.e. never: rows' counts fit in bytes,
    # which quarters the memory traffic of every later gather. Cells of many rows keep full integers.
    dtype = np.uint8 if cells.of_row is None else np.int64
    block = max(1, BLOCK_ELEMENTS // n)
    scratch = _Scratch()  # each block is scored before the next one is drawn into the same array
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        drawn = rng.integers(0, n, size=(size, n), dtype=np.int32 if n < 2**31 else np.int64)
        if cells.of_row is not None:
            drawn = cells.of_row[drawn]
        counts = scratch.get("counts", (size, m), dtype)
        for resample, draws in zip(counts, drawn, strict=True):  # one bincount per resample: its bins stay cached
            resample[:] = np.bincount(draws, minlength=m)
        yield counts


# --- metrics as functions of cell counts -----------------------------------------------------------------------

Scorer = Callable[["np.ndarray"], "np.ndarray"]  # (B, cells) counts -> (B,) metric values


def _encode_labels(*arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Integer codes over the union of labels, and the index of the positive class for binary metrics."""
    import numpy as np

    classes = np.unique(np.concatenate([np.asarray(a) for a in arrays]))
    codes = [np.searchsorted(classes, a).astype(np.int64) for a in arrays]
    values = classes.tolist()
    positive = values.index(1) if 1 in values and len(values) <= 2 else len(values) - 1
    return codes, positive if len(values) <= 2 else -1


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator with 0 where the denominator is 0 (scikit-learn's zero_division default)."""
    import numpy as np

    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _label_scorer(metric: str, truth: np.ndarray, pred: np.ndarray, k: int, positive: int) -> Scorer:
    """accuracy/precision/recall/f1 from per-cell (truth, prediction) codes; binary, or macro over k classes."""
    import numpy as np

    onehot = np.zeros((len(truth), k * k))
    onehot[np.arange(len(truth)), truth * k + pred] = 1.0

    def score(counts: np.ndarray) -> np.ndarray:
        confusion = (counts @ onehot).reshape(-1, k, k)  # [resample, truth, prediction]
        total = counts.sum(axis=1)
        tp = np.diagonal(confusion, axis1=1, axis2=2)
        if metric == "accuracy":
            return tp.sum(axis=1) / total
        predicted, actual = confusion.sum(axis=1), confusion.sum(axis=2)
        if metric == "balanced_accuracy":  # mean recall over the classes present in y_true, as scikit-learn
            present = actual > 0
            return _ratio(tp, actual).sum(axis=1, where=present) / present.sum(axis=1)
        if metric == "mcc":  # scikit-learn's multiclass matthews_corrcoef from the confusion matrix; 0 if undefined
            covariance = tp.sum(axis=1) * total - np.einsum("ij,ij->i", actual, predicted)
            spread = (total**2 - np.einsum("ij,ij->i", predicted, predicted)) * (
                total**2 - np.einsum("ij,ij->i", actual, actual)
            )
            return _ratio(covariance, np.sqrt(spread))
        if metric == "precision":
            per_class = _ratio(tp, predicted)
        elif metric == "recall":
            per_class = _ratio(tp, actual)
        else:
            per_class = _ratio(2 * tp, predicted + actual)
        return per_class[:, positive] if positive >= 0 else per_class.mean(axis=1)

    return score


class _Scratch:
    """Work arrays reused from block to block: fresh multi-megabyte arrays for every block of resamples cost
    more in page faults than the arithmetic done in them."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type | np.dtype) -> np.ndarray:
        import numpy as np

        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype=dtype)
        return array


def _auc_scorer(truth: np.ndarray, score_values: np.ndarray) -> Scorer:
    """roc_auc with ties counted half (Mann-Whitney U) over cells given in any fixed order.

    Cells are put in score order once (a no-op for the model the paired cells were sorted by). With C[j] the
    resampled count of negatives before position j in that order, a positive whose tie group spans [lo, hi)
    beats C[lo] negatives and ties with C[hi] - C[lo] of them: twice its wins are 2 C[lo] + (C[hi] - C[lo]),
    and the second term is needed only for groups holding negatives. Counts are integers, so the sums are exact.
    """
    import numpy as np

    order = np.argsort(score_values, kind="stable")
    permute = not np.array_equal(order, np.arange(len(order)))
    sorted_scores = score_values[order]
    negative = (truth[order] != 1).astype(np.uint8)
    positives = np.flatnonzero(negative == 0)
    new_group = np.r_[True, sorted_scores[1:] != sorted_scores[:-1]]
    group_start = np.flatnonzero(new_group)
    group_end = np.r_[group_start[1:], len(sorted_scores)]
    group_of_positive = (np.cumsum(new_group) - 1)[positives]
    lo, hi = group_start[group_of_positive], group_end[group_of_positive]
    negatives_per_group = np.add.reduceat(negative.astype(np.int64), group_start) if len(order) else negative
    tied = np.flatnonzero(negatives_per_group[group_of_positive] > 0)  # positives sharing a score with negatives

    scratch = _Scratch()
    rows = len(order)

    def score(counts: np.ndarray) -> np.ndarray:
        k = len(counts)
        if permute:
            counts = np.take(counts, order, axis=1, out=scratch.get("permuted", (k, rows), counts.dtype))
        negatives = scratch.get("negatives", (k, rows + 1), counts.dtype)
        negatives[:, 0] = 0
        np.multiply(counts, negative, out=negatives[:, 1:])
        total = np.int32 if counts.dtype == np.uint8 and rows < 2**31 else np.int64
        below = np.cumsum(negatives, axis=1, dtype=total, out=scratch.get("below", (k, rows + 1), total))
        hits = np.take(counts, positives, axis=1, out=scratch.get("hits", (k, len(positives)), counts.dtype))
        beaten = np.take(below, lo, axis=1, out=scratch.get("beaten", (k, len(positives)), total))
        twice_wins = 2.0 * np.einsum("ij,ij->i", hits, beaten, dtype=np.float64)
        if tied.size:
            ties = np.take(below, hi[tied], axis=1) - np.take(below, lo[tied], axis=1)
            twice_wins += np.einsum("ij,ij->i", hits[:, tied], ties, dtype=np.float64)
        pairs = hits.sum(axis=1, dtype=np.float64) * below[:, -1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return twice_wins / (2.0 * pairs)

    return score


def _average_precision_scorer(truth: np.ndarray, score_values: np.ndarray) -> Scorer:
    """scikit-learn's average_precision_score, sum over distinct thresholds (descending) of the recall gained
    times the precision there, from resampled counts: one sort of the scores, cumulative sums per resample."""
    import numpy as np

    order = np.argsort(-score_values, kind="stable")
    sorted_scores = score_values[order]
    positive = (truth[order] == 1).astype(np.float64)
    ends = np.r_[np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]), len(order) - 1]

    def score(counts: np.ndarray) -> np.ndarray:
        weights = np.take(counts, order, axis=1).astype(np.float64)
        true_positives = np.cumsum(weights * positive, axis=1)[:, ends]
        predicted = np.cumsum(weights, axis=1)[:, ends]
        gained = np.diff(true_positives, axis=1, prepend=0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (gained * _ratio(true_positives, predicted)).sum(axis=1) / true_positives[:, -1]

    return score


def _mean_scorer(per_row: np.ndarray, finish: Callable[[np.ndarray], np.ndarray] = lambda v: v) -> Scorer:
    def score(counts: np.ndarray) -> np.ndarray:
        return finish(counts @ per_row / counts.sum(axis=1))

    return score


def _r2_scorer(truth: np.ndarray, pred: np.ndarray) -> Scorer:
    import numpy as np

    columns = np.stack([(truth - pred) ** 2, truth, truth**2], axis=1)

    def score(counts: np.ndarray) -> np.ndarray:
        total = counts.sum(axis=1)
        sse, s1, s2 = (counts @ columns).T
        sst = s2 - s1 * s1 / total
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 - sse / sst

    return score


def _require(preds: Predictions, column: str, metric: str) -> np.ndarray:
    values = getattr(preds, column)
    if values is None:
        raise StatsError(f"{metric} needs a '{column}' column in the predictions")
    return values


def _binary_truth(preds: Predictions, metric: str) -> np.ndarray:
    import numpy as np

    (codes,), positive = _encode_labels(preds.y_true)
    if positive < 0 or len(np.unique(codes)) != 2:
        raise StatsError(f"{metric} needs exactly two classes in y_true")
    return (codes == positive).astype(np.float64)


def _continuous_scorer(metric: str, preds: Predictions) -> Scorer:
    """A score or regression metric with one cell per row."""
    import numpy as np

    if metric == "roc_auc":
        return _auc_scorer(_binary_truth(preds, metric), _require(preds, "y_score", metric).astype(np.float64))
    if metric == "average_precision":
        scores = _require(preds, "y_score", metric).astype(np.float64)
        return _average_precision_scorer(_binary_truth(preds, metric), scores)
    if metric == "log_loss":
        truth = _binary_truth(preds, metric)
        eps = np.finfo(np.float64).eps
        p = np.clip(_require(preds, "y_score", metric).astype(np.float64), eps, 1 - eps)
        return _mean_scorer(-(truth * np.log(p) + (1 - truth) * np.log1p(-p)))
    truth = preds.y_true.astype(np.float64)
    pred = _require(preds, "y_pred", metric).astype(np.float64)
    if metric == "mae":
        return _mean_scorer(np.abs(truth - pred))
    if metric == "rmse":
        return _mean_scorer((truth - pred) ** 2, np.sqrt)
    return _r2_scorer(truth, pred)


def take_rows(preds: Predictions, rows: np.ndarray) -> Predictions:
    """The predictions of `rows`, in that order."""
    pick = [None if v is None else v[rows] for v in (preds.y_pred, preds.y_score)]
    return Predictions(preds.y_true[rows], *pick)


def _scorers(metric: str, models: list[Predictions]) -> tuple[_Cells, list[Scorer]]:
    """Cells shared by `models` (rows aligned when there are several) and one scorer per model."""
    import numpy as np

    if metric in LABEL_METRICS:
        preds = [_require(m, "y_pred", metric) for m in models]
        (truth, *codes), positive = _encode_labels(models[0].y_true, *preds)
        cells = _label_cells([truth, *codes])
        k = int(max(int(truth.max()), *(int(c.max()) for c in codes))) + 1
        at = cells.representative
        return cells, [_label_scorer(metric, truth[at], c[at], k, positive) for c in codes]
    cells = _row_cells(models[0].n)
    if metric == "roc_auc":  # cells in the first model's score order: its scorer then needs no gather at all
        first = _require(models[0], "y_score", metric)
        cells = _Cells(np.argsort(first, kind="stable"), cells.sizes, None)
    at = cells.representative
    return cells, [_continuous_scorer(metric, take_rows(m, at)) for m in models]


def point_value(metric: str, preds: Predictions) -> float:
    """The metric on all rows (each row counted once)."""

    cells, (scorer,) = _scorers(metric, [preds])
    return float(scorer(cells.sizes[None, :])[0])


def _distribution(
    metric: str, models: list[Predictions], resamples: int, rng: np.random.Generator
) -> list[tuple[float, np.ndarray]]:
    """For each of `models`: the metric on all rows, and its values on resamples shared by all models."""
    import numpy as np

    cells, scorers = _scorers(metric, models)
    points = [float(s(cells.sizes[None, :])[0]) for s in scorers]
    blocks = [[s(counts) for s in scorers] for counts in _resampled_counts(cells, resamples, rng)]
    return [(points[i], np.concatenate([block[i] for block in blocks])) for i in range(len(models))]


def _percentile_interval(deltas: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """(low, high, p): the percentile interval, and the smallest two-sided level at which it excludes 0."""
    import numpy as np

    finite = deltas[np.isfinite(deltas)]
    if finite.size == 0:
        raise StatsError("every resample was degenerate (one class only)")
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    p = min(1.0, 2.0 * min(np.mean(finite <= 0), np.mean(finite >= 0)))
    return float(low), float(high), float(p)


def paired_interval(
    metric: str, base: Predictions, head: Predictions, *, alpha: float, resamples: int, seed: int
) -> Interval:
    """Bootstrap interval of head - base on the same rows (and McNemar's exact test for accuracy)."""
    import numpy as np

    if base.n != head.n or base.n == 0:
        raise StatsError("paired predictions need the same, non-empty rows at base and head")
    (base_point, base_values), (head_point, head_values) = _distribution(
        metric, [base, head], resamples, _rng(seed, metric)
    )
    low, high, p = _percentile_interval(head_values - base_values, alpha)
    mcnemar = None
    test = "paired bootstrap"
    if metric == "accuracy":
        mcnemar = mcnemar_exact(
            np.asarray(base.y_pred == base.y_true, dtype=bool), np.asarray(head.y_pred == head.y_true, dtype=bool)
        )
        p, test = mcnemar.p_value, "McNemar exact"
    return Interval(
        metric, True, base.n, head.n, base_point, head_point, head_point - base_point, low, high, p, test, alpha,
        resamples, mcnemar,
    )  # fmt: skip


def paired_seeds_interval(
    metric: str, base: Predictions, heads: list[Predictions], *, alpha: float, resamples: int, seed: int
) -> Interval:
    """Bootstrap interval of (the mean over the head's seeds − base) on the same rows: every model is scored
    on each shared resample, so the interval is of the training's expected change, not one seed's."""
    import numpy as np

    if any(head.n != base.n for head in heads) or base.n == 0:
        raise StatsError("paired predictions need the same, non-empty rows at base and every seed")
    (base_point, base_values), *seeded = _distribution(metric, [base, *heads], resamples, _rng(seed, metric))
    head_point = float(np.mean([point for point, _ in seeded]))
    head_values = np.mean([values for _, values in seeded], axis=0)
    low, high, p = _percentile_interval(head_values - base_values, alpha)
    test = f"paired bootstrap over {len(heads)} seeds"
    return Interval(
        metric, True, base.n, base.n, base_point, head_point, head_point - base_point, low, high, p, test, alpha,
        resamples,
    )  # fmt: skip


def unpaired_interval(
    metric: str,
    base: Predictions | None,
    head: Predictions,
    *,
    base_value: float | None,
    alpha: float,
    resamples: int,
    seed: int,
) -> Interval:
    """Each side resampled on its own: the delta's interval, or (no base predictions) head's interval minus
    the base metric value, taken as exact."""
    if head.n == 0:
        raise StatsError("the head predictions have no rows")
    rng = _rng(seed, metric)
    ((head_point, head_values),) = _distribution(metric, [head], resamples, rng)
    base_point: float | None = None
    if base is not None and base.n > 0:
        ((base_point, base_values),) = _distribution(metric, [base], resamples, rng)
        deltas, reference = head_values - base_values, base_point
    elif base_value is not None and math.isfinite(base_value):
        deltas, reference = head_values - base_value, base_value
    else:
        low, high, _ = _percentile_interval(head_values, alpha)
        return Interval(metric, False, None, head.n, None, head_point, None, low, high, 1.0, "bootstrap", alpha,
                        resamples)  # fmt: skip
    low, high, p = _percentile_interval(deltas, alpha)
    return Interval(
        metric, False, base.n if base is not None else None, head.n, base_point, head_point, head_point - reference,
        low, high, p,
        "unpaired bootstrap", alpha, resamples,
    )  # fmt: skip


def align(base_ids: np.ndarray, head_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Row orders that line base and head up by row id, or None unless both hold exactly the same unique ids."""
    import numpy as np

    if len(base_ids) != len(head_ids):
        return None
    base_order, head_order = np.argsort(base_ids, kind="stable"), np.argsort(head_ids, kind="stable")
    sorted_base, sorted_head = base_ids[base_order], head_ids[head_order]
    if not np.array_equal(sorted_base, sorted_head) or np.any(sorted_base[1:] == sorted_base[:-1]):
        return None
    return base_order, head_order
