"""Bounded-memory column statistics (Apache DataSketches) and drift tests computed from them.

A numeric column is a KLL quantile sketch (rank error about 0.28% at K=1000, some 30 KiB whatever the row count)
plus its exact count, mean and variance; a categorical one is a frequent-items sketch (exact while it holds
fewer distinct values than it has room for, which every column drift compares has). Sketches merge, so a
window read batch by batch, or partition by partition, has the statistics of all its rows.

Drift follows mlgate.checks.drift's conventions (method `auto` by column kind and reference size, the same
thresholds, the same categorical statistics on counts); the numeric tests are evaluated on the sketches:
- `ks`: the statistic is the largest CDF gap over both sketches' quantile points; the p-value is the
  asymptotic two-sample one at the true row counts (scipy's `kstwo` at n·m/(n+m), as `ks_2samp` in
  asymptotic mode).
- `wasserstein`: the area between the two quantile functions over QUANTILE_POINTS ranks, divided by the
  reference's (exact) standard deviation.
- `psi` / `jensenshannon`: counts in the reference's deciles, from the current sketch's CDF at the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.checks.columns import CATEGORICAL_MAX_UNIQUE_NUMERIC, MAX_CATEGORIES, NUMERIC_KINDS, kind_of
from mlgate.checks.drift import (
    DEFAULT_THRESHOLDS,
    PSI_SIGNIFICANT,
    ColumnDrift,
    categorical_statistic,
    choose_method,
    psi_or_jensenshannon,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# K=400 (0.68% rank error) put the Wasserstein distance up to 0.025 off the exact one, a quarter of its
# default threshold; K=1000 keeps it within 0.01.
KLL_K = 1000
FREQUENT_LG_MAX_K = 10  # room for 768 distinct values before estimates start
QUANTILE_POINTS = 512
_MIN_NORM = 1e-3  # as checks.drift: a constant reference column still gets a finite normed distance
_PSI_BINS = 10


def _numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Non-null values as float64 (NaN dropped)."""
    import numpy as np
    import pyarrow as pa

    values = array.drop_null().cast(pa.float64()).to_numpy(zero_copy_only=False)
    return values[~np.isnan(values)]


@dataclass
class NumericSketch:
    """KLL quantiles plus exact count, mean and M2 (Chan et al.'s pairwise update) of a numeric column."""

    sketch: Any = None
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    nulls: int = 0

    def __post_init__(self) -> None:
        if self.sketch is None:
            from datasketches import kll_doubles_sketch

            self.sketch = kll_doubles_sketch(KLL_K)

    def update(self, array: pa.Array | pa.ChunkedArray) -> None:
        import numpy as np

        values = _numpy(array)
        self.nulls += len(array) - len(values)
        if not len(values):
            return
        self.sketch.update(values)
        n, mean = len(values), float(np.mean(values))
        m2 = float(np.sum((values - mean) ** 2))
        total = self.count + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.count * n / total
        self.mean += delta * n / total
        self.count = total

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count else 0.0

    def quantiles(self, ranks: list[float]) -> list[float]:
        return [float(v) for v in self.sketch.get_quantiles(ranks)]

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """P(X <= x) at each (sorted, distinct) point."""
        import numpy as np

        return np.asarray(self.sketch.get_cdf(points.tolist(), True)[:-1], dtype=float)


@dataclass
class CategoricalSketch:
    """Frequent items of a categorical column (values as text: `1`, `true`, `red`)."""

    sketch: Any = None
    count: int = 0
    nulls: int = 0

    def __post_init__(self) -> None:
        if self.sketch is None:
            from datasketches import frequent_strings_sketch

            self.sketch = frequent_strings_sketch(FREQUENT_LG_MAX_K)

    def update(self, array: pa.Array | pa.ChunkedArray) -> None:
        import pyarrow.compute as pc

        counts = pc.value_counts(_as_text(array).drop_null())
        for value, number in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
            self.sketch.update(value, number)
            self.count += number
        self.nulls += array.null_count

    def counts(self) -> dict[str, int]:
        from datasketches import frequent_items_error_type

        items = self.sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
        return {item[0]: int(item[1]) for item in items}


def _as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(array.type):  # 1.0 and 1 name the same class
        whole = pc.fill_null(pc.equal(pc.floor(array), array), True)
        if pc.all(whole).as_py():
            array = pc.cast(array, pa.int64())
    if pa.types.is_boolean(array.type):
        return pc.cast(array, pa.string())
    return pc.cast(array, pa.string()) if not pa.types.is_string(array.type) else array


Sketch = NumericSketch | CategoricalSketch


@dataclass(frozen=True)
class ColumnKind:
    name: str
    kind: str  # numeric | categorical


def column_kind(name: str, column: pa.ChunkedArray) -> ColumnKind | None:
    """How drift compares a reference column (checks.drift's rules), or None when it is not compared."""
    import numpy as np
    import pyarrow.compute as pc

    kind = kind_of(column.type)
    if kind in NUMERIC_KINDS:
        values = _numpy(column)
        if not len(values):
            return None
        distinct = len(np.unique(values))
        return ColumnKind(name, "categorical" if distinct <= CATEGORICAL_MAX_UNIQUE_NUMERIC else "numeric")
    if kind == "boolean" or (kind == "string" and pc.count_distinct(column).as_py() <= MAX_CATEGORIES):
        return ColumnKind(name, "categorical")
    return None


def new_sketch(kind: str) -> Sketch:
    return NumericSketch() if kind == "numeric" else CategoricalSketch()


@dataclass
class TableSketch:
    """One sketch per column of a known kind."""

    kinds: dict[str, str]
    sketches: dict[str, Sketch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, kind in self.kinds.items():
            self.sketches.setdefault(name, new_sketch(kind))

    def update(self, columns: dict[str, pa.Array | pa.ChunkedArray]) -> None:
        for name, sketch in self.sketches.items():
            if name in columns:
                sketch.update(columns[name])


def sketch_table(table: pa.Table, kinds: dict[str, str]) -> TableSketch:
    sketch = TableSketch(kinds)
    sketch.update({name: table.column(name) for name in kinds if name in table.column_names})
    return sketch


# ----------------------------------------------------------------------------------------------- drift


def _ks(reference: NumericSketch, current: NumericSketch) -> tuple[float, float]:
    import numpy as np
    from scipy.stats import kstwo

    ranks = np.linspace(0, 1, QUANTILE_POINTS + 1).tolist()
    points = np.unique(np.array(reference.quantiles(ranks) + current.quantiles(ranks)))
    gap = float(np.max(np.abs(reference.cdf(points) - current.cdf(points))))
    n, m = reference.count, current.count
    effective = max(1, round(n * m / (n + m)))
    return gap, float(kstwo.sf(gap, effective))


def _wasserstein(reference: NumericSketch, current: NumericSketch) -> float:
    import numpy as np

    ranks = ((np.arange(QUANTILE_POINTS) + 0.5) / QUANTILE_POINTS).tolist()
    gap = np.abs(np.array(reference.quantiles(ranks)) - np.array(current.quantiles(ranks)))
    return float(np.mean(gap)) / max(reference.std, _MIN_NORM)


def _decile_counts(reference: NumericSketch, current: NumericSketch) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    edges = np.unique(np.array(reference.quantiles(np.linspace(0, 1, _PSI_BINS + 1)[1:-1].tolist())))
    counts = []
    for sketch in (reference, current):
        cdf = np.concatenate(([0.0], sketch.cdf(edges), [1.0]))
        counts.append(np.diff(cdf) * sketch.count)
    return counts[0], counts[1]


def _aligned(reference: dict[str, int], current: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    keys = sorted(set(reference) | set(current))
    return (
        np.array([reference.get(k, 0) for k in keys], dtype=float),
        np.array([current.get(k, 0) for k in keys], dtype=float),
    )


def sketch_drift(
    name: str, reference: Sketch, current: Sketch, *, method: str, threshold: float | None
) -> ColumnDrift | None:
    """Drift of one column from its reference and current sketches; None when either side has no values."""
    if not reference.count or not current.count:
        return None
    if isinstance(reference, NumericSketch) and isinstance(current, NumericSketch):
        kind = "numeric"
        chosen, note = choose_method(method, kind, reference.count, 0)
        p_value: float | None = None
        if chosen == "ks":
            statistic, p_value = _ks(reference, current)
        elif chosen == "wasserstein":
            statistic = _wasserstein(reference, current)
        else:
            statistic = psi_or_jensenshannon(chosen, *_decile_counts(reference, current))
    elif isinstance(reference, CategoricalSketch) and isinstance(current, CategoricalSketch):
        kind = "categorical"
        ref_counts, cur_counts = _aligned(reference.counts(), current.counts())
        chosen, note = choose_method(method, kind, reference.count, len(ref_counts))
        statistic, p_value = categorical_statistic(chosen, ref_counts, cur_counts)
    else:
        return None
    level = DEFAULT_THRESHOLDS[chosen] if threshold is None else threshold
    drifted = p_value < level if p_value is not None else statistic >= level
    if chosen == "psi" and statistic >= PSI_SIGNIFICANT:
        note = "significant (PSI >= 0.2)"
    return ColumnDrift(name, kind, chosen, statistic, p_value, level, drifted, note)
