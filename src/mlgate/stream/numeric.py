"""A numeric column in bounded memory, and drift between two of them: the one implementation that streaming
validation (mlgate.stream) and production monitoring (mlgate.monitor) share.

NumericSketch is an Apache DataSketches KLL quantile sketch plus the exact count, mean and sum of squared
deviations (Chan et al.'s pairwise merge); sketches of parts of a column merge into the sketch of all of it.

numeric_drift follows mlgate.checks.drift's conventions. While both sketches still hold every value (small
data), the in-memory path's own functions run on those values: exact. Past that, from the sketches:

- KS: the largest gap between the two sketched CDFs, evaluated at every retained item of both (the sketched
  CDFs are step functions that change only there). Each sketched CDF is within ε of the true one (ε: KLL's
  normalized rank error, 99% confidence), so the statistic is within ε_ref + ε_cur; the p-value is the
  asymptotic Kolmogorov distribution's, as scipy's `ks_2samp` gives for large samples.
- Wasserstein: the area between the two sketched CDFs, over the same points; within (ε_ref + ε_cur) × the
  value range, divided by the reference's exact standard deviation for the normed distance.
- PSI / Jensen-Shannon: reference deciles from the reference sketch, each bin's share from both CDFs (each
  share within 2ε); the bound is the statistic's first-order change under those share errors.

Every result states its `error_bound` and whether it was `exact`; a verdict whose statistic lies within its
bound of the threshold says so in its note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mlgate.checks.drift import (
    MIN_NORM,
    ColumnDrift,
    choose_method,
    column_result,
    numeric_statistic,
    psi_or_jensenshannon,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# KLL accuracy parameter: normalized rank error about 0.33% (99% confidence) at any row count, ~24 KB a column.
# (K=400, 0.68%, put the Wasserstein distance up to 0.025 off the exact one, a quarter of its default threshold.)
KLL_K = 1000
_PSI_BINS = 10


def new_kll(data: bytes | None = None) -> Any:
    from datasketches import kll_doubles_sketch

    return kll_doubles_sketch(KLL_K) if data is None else kll_doubles_sketch.deserialize(data)


def finite_numbers(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The present values as float64, nulls and NaN dropped."""
    import numpy as np
    import pyarrow as pa

    values = array.drop_null().cast(pa.float64()).to_numpy(zero_copy_only=False)
    return values[~np.isnan(values)]


@dataclass
class NumericSketch:
    """KLL quantiles plus exact count, mean and M2 of a numeric column; `nulls` counts nulls and NaNs."""

    sketch: Any = None
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    nulls: int = 0

    def __post_init__(self) -> None:
        if self.sketch is None:
            self.sketch = new_kll()

    def update(self, array: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Add a batch; the finite values it held, sorted (for callers that count more of them)."""
        values = finite_numbers(array)
        return self.add(values, len(array) - len(values))

    def add(self, values: np.ndarray, missing: int) -> np.ndarray:
        """Add a batch's present values (float64, NaN-free, any order) and how many were missing; the values,
        sorted. Sorted first: KLL then finds its level-0 buffer already in order (half the cost of an update;
        numpy's sort releases the GIL, KLL's update does not). KLL's error bound holds for any order."""
        import numpy as np

        values = np.sort(values)
        self.nulls += missing
        if len(values):
            self.sketch.update(values)
            mean = float(np.mean(values))
            self._absorb(len(values), mean, float(np.square(values - mean).sum()))
        return values

    def _absorb(self, count: int, mean: float, m2: float) -> None:
        total = self.count + count
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.count * count / total
        self.mean += delta * count / total
        self.count = total

    def merge(self, other: NumericSketch) -> None:
        """Fold in the sketch of other rows of the same column."""
        self.sketch.merge(other.sketch)
        self.nulls += other.nulls
        if other.count:
            self._absorb(other.count, other.mean, other.m2)

    @property
    def std(self) -> float:
        """Population standard deviation (numpy's std) of the finite values."""
        return math.sqrt(self.m2 / self.count) if self.count else 0.0

    def quantiles(self, ranks: list[float]) -> list[float]:
        return [float(v) for v in self.sketch.get_quantiles(ranks)]

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """P(X <= x) at each (sorted, distinct) point."""
        import numpy as np

        return np.asarray(self.sketch.get_cdf(points.tolist(), True))[:-1]

    @property
    def exact(self) -> bool:
        """True while the sketch still holds every value it was given."""
        return not self.sketch.is_estimation_mode()

    @property
    def rank_error(self) -> float:
        return 0.0 if self.exact else self.sketch.normalized_rank_error(False)

    def values(self) -> np.ndarray:
        """Every value, sorted (only while `exact`: then each retained item has weight 1)."""
        import numpy as np

        return np.sort(np.array([item for item, weight in self.sketch for _ in range(weight)], dtype=np.float64))


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


def _points(reference: NumericSketch, current: NumericSketch) -> np.ndarray:
    import numpy as np

    items = [item for sketch in (reference, current) for item, _ in sketch.sketch]
    return np.unique(np.array(items, dtype=np.float64))


def _ks(reference: NumericSketch, current: NumericSketch) -> tuple[float, float, float, tuple[float, float]]:
    """(D, p-value, bound on D, the p-values at D plus and minus the bound)."""
    import numpy as np
    from scipy.stats import kstwo

    points = _points(reference, current)
    gap = float(np.max(np.abs(reference.cdf(points) - current.cdf(points))))
    n, m = reference.count, current.count
    effective = max(1, round(n * m / (n + m)))
    bound = reference.rank_error + current.rank_error

    def p_at(statistic: float) -> float:
        return float(np.clip(kstwo.sf(min(max(statistic, 0.0), 1.0), effective), 0.0, 1.0))

    return gap, p_at(gap), bound, (p_at(gap + bound), p_at(gap - bound))


def _wasserstein(reference: NumericSketch, current: NumericSketch) -> tuple[float, float]:
    """(normed distance, bound on it)."""
    import numpy as np

    points = _points(reference, current)
    gaps = np.abs(reference.cdf(points) - current.cdf(points))[:-1]
    norm = max(reference.std, MIN_NORM)
    span = float(points[-1] - points[0]) if len(points) else 0.0
    bound = (reference.rank_error + current.rank_error) * span / norm
    return float(np.dot(gaps, np.diff(points))) / norm, bound


def _binned(method: str, reference: NumericSketch, current: NumericSketch) -> tuple[float, float]:
    """(PSI or Jensen-Shannon over reference deciles, first-order bound on it)."""
    import numpy as np

    edges = np.unique(reference.quantiles(np.linspace(0, 1, _PSI_BINS + 1)[1:-1].tolist()))
    # Bin i holds [edge i-1, edge i): a value equal to an edge goes up, as numpy's searchsorted(side="right").
    ref = np.diff(np.concatenate(([0.0], reference.cdf(edges), [1.0])))
    cur = np.diff(np.concatenate(([0.0], current.cdf(edges), [1.0])))
    statistic = psi_or_jensenshannon(method, ref, cur)
    shift = 2 * max(reference.rank_error, current.rank_error)
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


def _noted(result: ColumnDrift, text: str) -> ColumnDrift:
    return replace(result, note="; ".join(part for part in (result.note, text) if part))


def numeric_drift(
    name: str, reference: NumericSketch, current: NumericSketch, *, method: str, threshold: float | None
) -> SketchDrift:
    """As mlgate.checks.drift on a numeric column, from the two columns' sketches (both must hold values)."""
    chosen, note = choose_method(method, "numeric", reference.count, 0)
    if reference.exact and current.exact:
        outcome = (chosen, note, *numeric_statistic(chosen, reference.values(), current.values()))
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
