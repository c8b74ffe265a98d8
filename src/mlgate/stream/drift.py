"""Drift from column summaries: the conventions of mlgate.checks.drift, statistics derived from the sketches.

Categorical columns (strings, booleans, numbers with at most 5 distinct values) have exact counts, so their
statistics are the in-memory path's, exactly. Numeric columns: while both KLL sketches still hold every value
(small data), the in-memory path's own functions run on those values: exact. Past that, from the sketches:

- KS: the largest gap between the two sketched CDFs, evaluated at every retained item of both (the sketched
  CDFs are step functions that change only there). Each sketched CDF is within ε of the true one (ε: KLL's
  normalized rank error, 99% confidence), so the statistic is within ε_ref + ε_cur; the p-value is the
  asymptotic Kolmogorov distribution's, as scipy's `ks_2samp` gives for large samples.
- Wasserstein: the area between the two sketched CDFs, over the same points; within (ε_ref + ε_cur) × the
  value range, divided by the reference's exact standard deviation (exact moments) for the normed distance.
- PSI / Jensen-Shannon: reference deciles from the reference sketch, each bin's share from both CDFs (each
  share within 2ε); the bound is the statistic's first-order change under those share errors.

Every numeric result states `error_bound` and whether it was `exact`; a verdict whose statistic lies within
its bound of the threshold says so in its note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks.columns import CATEGORICAL_MAX_UNIQUE_NUMERIC, MAX_CATEGORIES, NUMERIC_KINDS
from mlgate.checks.drift import (
    MIN_NORM,
    P_VALUE_METHODS,
    ColumnDrift,
    categorical_drift_from_counts,
    choose_method,
    column_result,
    numeric_statistic,
    psi_or_jensenshannon,
)

if TYPE_CHECKING:
    import numpy as np

    from mlgate.stream.summary import ColumnSummary

_PSI_BINS = 10


@dataclass(frozen=True)
class SketchDrift:
    """A column's drift as the in-memory path reports it, with how far the statistic may be off."""

    result: ColumnDrift
    exact: bool
    error_bound: float  # on the statistic (0 when exact)

    @property
    def column(self) -> str:
        return self.result.column

    @property
    def drifted(self) -> bool:
        return self.result.drifted

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict() | {"exact": self.exact, "error_bound": self.error_bound}


def _items(sketch: Any) -> np.ndarray:
    """Every value a sketch holds while it is not estimating (then it holds each one, weight 1), sorted."""
    import numpy as np

    return np.sort(np.array([item for item, weight in sketch for _ in range(weight)], dtype=np.float64))


def _points(reference: Any, current: Any) -> np.ndarray:
    import numpy as np

    return np.unique(np.array([item for sketch in (reference, current) for item, _ in sketch], dtype=np.float64))


def _cdf(sketch: Any, points: np.ndarray, *, inclusive: bool = True) -> np.ndarray:
    import numpy as np

    return np.asarray(sketch.get_cdf(points.tolist(), inclusive))[:-1]


def _rank_error(sketch: Any) -> float:
    return sketch.normalized_rank_error(False) if sketch.is_estimation_mode() else 0.0


def _ks(reference: ColumnSummary, current: ColumnSummary) -> tuple[float, float, float, tuple[float, float]]:
    """(D, p-value, bound on D, the p-values at D plus and minus the bound)."""
    import numpy as np
    from scipy.stats import kstwo

    points = _points(reference.kll, current.kll)
    gap = float(np.max(np.abs(_cdf(reference.kll, points) - _cdf(current.kll, points))))
    n, m = reference.kll.n, current.kll.n
    effective = round(n * m / (n + m))
    bound = _rank_error(reference.kll) + _rank_error(current.kll)

    def p_at(statistic: float) -> float:
        return float(np.clip(kstwo.sf(min(max(statistic, 0.0), 1.0), effective), 0.0, 1.0))

    return gap, p_at(gap), bound, (p_at(gap + bound), p_at(gap - bound))


def _wasserstein(reference: ColumnSummary, current: ColumnSummary) -> tuple[float, float]:
    """(normed distance, bound on it)."""
    import numpy as np

    points = _points(reference.kll, current.kll)
    gaps = np.abs(_cdf(reference.kll, points) - _cdf(current.kll, points))[:-1]
    norm = max(reference.std, MIN_NORM)
    span = float(points[-1] - points[0]) if len(points) else 0.0
    bound = (_rank_error(reference.kll) + _rank_error(current.kll)) * span / norm
    return float(np.dot(gaps, np.diff(points))) / norm, bound


def _binned(method: str, reference: ColumnSummary, current: ColumnSummary) -> tuple[float, float]:
    """(PSI or Jensen-Shannon over reference deciles, first-order bound on it)."""
    import numpy as np

    edges = np.unique(reference.kll.get_quantiles(np.linspace(0, 1, _PSI_BINS + 1)[1:-1].tolist()))
    # Bin i holds [edge i-1, edge i): a value equal to an edge goes up, as numpy's searchsorted(side="right").
    ref = np.diff(np.concatenate(([0.0], _cdf(reference.kll, edges), [1.0])))
    cur = np.diff(np.concatenate(([0.0], _cdf(current.kll, edges), [1.0])))
    statistic = psi_or_jensenshannon(method, ref, cur)
    shift = 2 * max(_rank_error(reference.kll), _rank_error(current.kll))
    if not shift:
        return statistic, 0.0
    step = 1e-6
    slope = 0.0
    for shares, other, first in ((ref, cur, True), (cur, ref, False)):
        for index in range(len(shares)):
            moved = shares.copy()
            moved[index] += step
            pair = (moved, other) if first else (other, moved)
            slope += abs(psi_or_jensenshannon(method, *pair) - statistic) / step
    return statistic, slope * shift


def _numeric(name: str, reference: ColumnSummary, current: ColumnSummary, method: str, threshold: float | None):
    chosen, note = choose_method(method, "numeric", int(reference.moments[0]), 0)
    if not reference.kll.is_estimation_mode() and not current.kll.is_estimation_mode():
        outcome = (chosen, note, *numeric_statistic(chosen, _items(reference.kll), _items(current.kll)))
        return SketchDrift(column_result(name, "numeric", outcome, threshold), True, 0.0)
    if chosen == "ks":
        statistic, p_value, bound, (p_low, p_high) = _ks(reference, current)
    elif chosen == "wasserstein":
        (statistic, bound), p_value = _wasserstein(reference, current), None
    else:
        (statistic, bound), p_value = _binned(chosen, reference, current), None
    result = column_result(name, "numeric", (chosen, note, statistic, p_value), threshold)
    if p_value is None and abs(statistic - result.threshold) <= bound:
        result = _noted(result, f"within the sketch's error ({bound:.2g}) of the threshold")
    elif p_value is not None and p_low < result.threshold <= p_high:
        result = _noted(result, f"within the sketch's error of the threshold (p between {p_low:.2g} and {p_high:.2g})")
    return SketchDrift(result, False, bound)


def _noted(result: ColumnDrift, text: str) -> ColumnDrift:
    from dataclasses import replace

    return replace(result, note="; ".join(part for part in (result.note, text) if part))


def _categorical(name: str, reference: ColumnSummary, current: ColumnSummary, method: str, threshold: float | None):
    ref_counts, cur_counts = reference.category_counts(), current.category_counts()
    if ref_counts is None:
        return None
    if cur_counts is None:  # the reference has a few categories, the current data over a thousand: drift
        chosen, _ = choose_method(method, "categorical", sum(ref_counts.values()), len(ref_counts))
        note = f"current data has more than {len(current.counts)} distinct values; the reference has {len(ref_counts)}"
        outcome = (chosen, note, 1.0, 0.0 if chosen in P_VALUE_METHODS else None)
        return SketchDrift(column_result(name, "categorical", outcome, threshold), False, 0.0)
    outcome = categorical_drift_from_counts(ref_counts, cur_counts, method)
    if outcome is None:
        return None
    return SketchDrift(column_result(name, "categorical", outcome, threshold), True, 0.0)


def column_drift(
    name: str, reference: ColumnSummary, current: ColumnSummary, *, method: str, threshold: float | None
) -> SketchDrift | None:
    """As mlgate.checks.drift.column_drift, from summaries; None where drift does not apply."""
    ref_kind, cur_kind = reference.kind, current.kind
    if ref_kind in NUMERIC_KINDS and cur_kind in (*NUMERIC_KINDS, "null"):
        if not reference.moments[0] or not current.moments[0]:
            return None
        numbers = reference.category_counts()
        distinct = None if numbers is None else sum(1 for value in numbers if value == value)  # NaN is no number
        if distinct is not None and distinct <= CATEGORICAL_MAX_UNIQUE_NUMERIC:
            return _categorical(name, reference, current, method, threshold)
        return _numeric(name, reference, current, method, threshold)
    if ref_kind == "boolean" or (ref_kind == "string" and reference.distinct_count <= MAX_CATEGORIES):
        if cur_kind not in (ref_kind, "null"):
            return None
        return _categorical(name, reference, current, method, threshold)
    return None


def drift_table(
    reference: dict[str, ColumnSummary],
    current: dict[str, ColumnSummary],
    columns: Sequence[str],
    *,
    method: str,
    threshold: float | None,
) -> list[SketchDrift]:
    results = (
        column_drift(name, reference[name], current[name], method=method, threshold=threshold) for name in columns
    )
    return [result for result in results if result is not None]
