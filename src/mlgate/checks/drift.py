"""Drift between reference (train, or the base commit's data) and current data, column by column.

Conventions (the ones Evidently popularised, so results read the same as there):
- method `auto` picks by column type and reference size. Numeric columns: two-sample Kolmogorov-Smirnov test
  when the reference has at most 1000 rows (drift when p-value < 0.05), normed Wasserstein distance above
  (distance / reference std, drift when >= 0.1). Categorical columns (strings, booleans, numbers with at most 5
  distinct values): chi-square test of the 2×k contingency table for small references (p < 0.05), or a
  two-proportion z-test when there are only two categories (p < 0.05); Jensen-Shannon distance for large
  ones (>= 0.1).
- `psi` (population stability index over reference deciles or categories) only on request: >= 0.1 is drift,
  >= 0.2 is conventionally "significant" and noted as such.
- Explicit methods `ks`, `chi2`, `ztest`, `wasserstein`, `jensenshannon`, `psi` apply where they fit the column
  type; where they do not (KS on categories), the column falls back to `auto` and says so.
- `threshold` replaces the chosen method's default: a p-value level for tests, a distance for distances.
- The dataset drifts when the share of drifted columns exceeds `max_drifted_share` (default 0.5): that fails
  the check. Single drifted columns are reported (table, message, notices) but do not fail or warn on their
  own: at p < 0.05, about one column in twenty drifts by chance on a clean split.
Nulls are dropped first (the null check owns them); free-text and identifier columns are not compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks import Finding
from mlgate.checks.columns import (
    CATEGORICAL_MAX_UNIQUE_NUMERIC,
    MAX_CATEGORIES,
    NUMERIC_KINDS,
    kind_of,
    numeric_values,
    value_counts,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

METHODS = ("auto", "ks", "chi2", "ztest", "wasserstein", "jensenshannon", "psi")
P_VALUE_METHODS = ("ks", "chi2", "ztest")
DEFAULT_THRESHOLDS = {"ks": 0.05, "chi2": 0.05, "ztest": 0.05, "wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1}
NUMERIC_METHODS = ("ks", "wasserstein", "jensenshannon", "psi")
CATEGORICAL_METHODS = ("chi2", "ztest", "jensenshannon", "psi")
SMALL_REFERENCE_ROWS = 1000
PSI_SIGNIFICANT = 0.2
DRIFT_RULE = ("config", "data", "checks", "drift")
_PSI_BINS = 10
_PSI_FLOOR = 1e-4  # empty bins would make the log infinite
MIN_NORM = 1e-3  # a constant reference column still gets a finite normed distance


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str  # "numeric" or "categorical"
    method: str
    statistic: float  # the test statistic, or the distance for distance methods
    p_value: float | None
    threshold: float
    drifted: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "verdict": "drift" if self.drifted else "ok",
            "note": self.note,
        }


def choose_method(requested: str, kind: str, reference_rows: int, categories: int) -> tuple[str, str]:
    """(method, note): the method used for one column under the `requested` setting."""
    fits = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
    if requested in fits:
        return requested, ""
    small = reference_rows <= SMALL_REFERENCE_ROWS
    if kind == "numeric":
        chosen = "ks" if small else "wasserstein"
    else:
        chosen = ("ztest" if categories <= 2 else "chi2") if small else "jensenshannon"
    note = "" if requested == "auto" else f"{requested} does not apply to {kind} columns; used {chosen}"
    return chosen, note


def _counts(column: pa.ChunkedArray) -> dict[Any, int]:
    values, counts = value_counts(column)
    return dict(zip(values.to_pylist(), counts.tolist(), strict=True))


def _aligned(reference: dict[Any, int], current: dict[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    keys = sorted(set(reference) | set(current), key=str)
    return (
        np.array([reference.get(k, 0) for k in keys], dtype=float),
        np.array([current.get(k, 0) for k in keys], dtype=float),
    )


def _decile_counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    edges = np.unique(np.quantile(reference, np.linspace(0, 1, _PSI_BINS + 1)[1:-1]))
    return (
        np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1).astype(float),
        np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1).astype(float),
    )


def _psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    import numpy as np

    ref = np.maximum(reference_counts / reference_counts.sum(), _PSI_FLOOR)
    cur = np.maximum(current_counts / current_counts.sum(), _PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _jensenshannon(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log, as scipy.spatial.distance.jensenshannon computes it)."""
    import numpy as np

    p, q = reference_counts / reference_counts.sum(), current_counts / current_counts.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        divergence = np.nansum(np.where(p > 0, p * np.log(p / m), 0.0) + np.where(q > 0, q * np.log(q / m), 0.0))
    return float(np.sqrt(max(divergence / 2, 0.0)))


def _ztest(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float]:
    """Two-proportion z-test on the share of the reference's most frequent category."""
    from scipy.stats import norm

    top = int(reference_counts.argmax())
    n1, n2 = reference_counts.sum(), current_counts.sum()
    p1, p2 = reference_counts[top] / n1, current_counts[top] / n2
    pooled = (reference_counts[top] + current_counts[top]) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 0.0, 1.0
    z = (p1 - p2) / spread
    return float(z), float(2 * norm.sf(abs(z)))


def _wasserstein_sorted(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein-1 distance of two sorted samples: the area between their empirical CDFs.

    A stable argsort of the two concatenated sorted runs is a linear-time merge; the CDFs are running counts
    of which run each merged value came from. Exact (as scipy's), without scipy's sort of the whole data.
    """
    import numpy as np

    merged = np.concatenate((reference, current))
    order = np.argsort(merged, kind="stable")
    from_reference = order < len(reference)
    gap = np.abs(np.cumsum(from_reference)[:-1] / len(reference) - np.cumsum(~from_reference)[:-1] / len(current))
    return float(np.dot(gap, np.diff(merged[order])))


def _ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """The two-sample KS statistic of two sorted samples, computed as scipy's ks_2samp computes it."""
    import numpy as np

    merged = np.concatenate((reference, current))
    gaps = np.searchsorted(reference, merged, side="right") / len(reference)
    gaps -= np.searchsorted(current, merged, side="right") / len(current)
    return float(max(np.clip(-np.min(gaps), 0, 1), np.max(gaps)))


# Two-sided KS results by (n, m, n·m·D): scipy's statistic (rounded to a multiple of 1/lcm(n, m) when exact) and
# p-value (exact or asymptotic, as n and m choose) are functions of the sizes and the statistic alone. A wide
# table's columns share their sizes and take few distinct statistics, so scipy runs a few dozen times, not once
# per column (its exact p-value takes about half a millisecond: 10,000 columns took seconds).
_KS_RESULTS: dict[tuple[int, int, int], tuple[float, float]] = {}
_KS_RESULTS_KEPT = 100_000


def _ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    n, m = len(reference), len(current)
    key = (n, m, round(_ks_statistic(reference, current) * n * m))
    if key not in _KS_RESULTS:
        if len(_KS_RESULTS) >= _KS_RESULTS_KEPT:
            _KS_RESULTS.clear()
        result = stats.ks_2samp(reference, current)
        _KS_RESULTS[key] = float(result.statistic), float(result.pvalue)
    return _KS_RESULTS[key]


def numeric_statistic(method: str, reference: np.ndarray, current: np.ndarray) -> tuple[float, float | None]:
    """Statistic and p-value (None for distances) of two sorted numeric samples."""
    import numpy as np

    if method == "ks":
        return _ks(reference, current)
    if method == "wasserstein":
        return _wasserstein_sorted(reference, current) / max(float(np.std(reference)), MIN_NORM), None
    return psi_or_jensenshannon(method, *_decile_counts(reference, current)), None


def psi_or_jensenshannon(method: str, reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """PSI or Jensen-Shannon distance of two aligned count vectors (bins or categories)."""
    return (_psi if method == "psi" else _jensenshannon)(reference_counts, current_counts)


def _chi2(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-square test of the 2×k table, as scipy's chi2_contingency(correction=False) computes it
    (a tenth of its per-call cost, which dominated tables of thousands of categorical columns)."""
    import numpy as np
    from scipy.special import chdtrc

    observed = np.stack((reference, current))
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(chdtrc(len(reference) - 1, statistic))


def categorical_statistic(method: str, reference: np.ndarray, current: np.ndarray) -> tuple[float, float | None]:
    if method == "chi2":
        return _chi2(reference, current) if len(reference) >= 2 else (0.0, 1.0)
    if method == "ztest":
        return _ztest(reference, current)
    return psi_or_jensenshannon(method, reference, current), None


def _categorical_drift(
    reference: pa.ChunkedArray, current: pa.ChunkedArray, method: str
) -> tuple[str, str, float, float | None] | None:
    return categorical_drift_from_counts(_counts(reference), _counts(current), method)


def categorical_drift_from_counts(
    reference: dict[Any, int], current: dict[Any, int], method: str
) -> tuple[str, str, float, float | None] | None:
    """(method, note, statistic, p-value) of two columns' category counts, None when either has none."""
    ref_counts, cur_counts = _aligned(reference, current)
    if not ref_counts.sum() or not cur_counts.sum():
        return None
    chosen, note = choose_method(method, "categorical", int(ref_counts.sum()), len(ref_counts))
    return (chosen, note, *categorical_statistic(chosen, ref_counts, cur_counts))


def column_drift(
    name: str, reference: pa.ChunkedArray, current: pa.ChunkedArray, *, method: str, threshold: float | None
) -> ColumnDrift | None:
    """Drift of one column, or None when it does not apply (identifiers, free text, dates, a changed dtype)."""
    import numpy as np
    import pyarrow.compute as pc

    ref_kind, cur_kind = kind_of(reference.type), kind_of(current.type)
    if ref_kind in NUMERIC_KINDS and cur_kind in (*NUMERIC_KINDS, "null"):
        ref_values, cur_values = np.sort(numeric_values(reference)), np.sort(numeric_values(current))
        if not ref_values.size or not cur_values.size:
            return None
        distinct = int(np.count_nonzero(np.diff(ref_values))) + 1
        if distinct <= CATEGORICAL_MAX_UNIQUE_NUMERIC:
            kind, outcome = "categorical", _categorical_drift(reference, current, method)
        else:
            kind, (chosen, note) = "numeric", choose_method(method, "numeric", ref_values.size, 0)
            outcome = (chosen, note, *numeric_statistic(chosen, ref_values, cur_values))
    elif ref_kind == "boolean" or (ref_kind == "string" and pc.count_distinct(reference).as_py() <= MAX_CATEGORIES):
        if cur_kind not in (ref_kind, "null"):
            return None
        kind, outcome = "categorical", _categorical_drift(reference, current, method)
    else:
        return None
    return None if outcome is None else column_result(name, kind, outcome, threshold)


def column_result(
    name: str, kind: str, outcome: tuple[str, str, float, float | None], threshold: float | None
) -> ColumnDrift:
    """The verdict on one column from its (method, note, statistic, p-value)."""
    chosen, note, statistic, p_value = outcome
    level = DEFAULT_THRESHOLDS[chosen] if threshold is None else threshold
    drifted = p_value < level if p_value is not None else statistic >= level
    if chosen == "psi" and statistic >= PSI_SIGNIFICANT:
        note = "significant (PSI >= 0.2)"
    return ColumnDrift(name, kind, chosen, statistic, p_value, level, drifted, note)


def drift_table(
    reference: pa.Table, current: pa.Table, columns: Sequence[str], *, method: str, threshold: float | None
) -> list[ColumnDrift]:
    results = (
        column_drift(name, reference.column(name), current.column(name), method=method, threshold=threshold)
        for name in columns
    )
    return [result for result in results if result is not None]


def _describe(result: ColumnDrift) -> str:
    if result.p_value is not None:
        return f"{result.column} ({result.method} p={result.p_value:.2g})"
    return f"{result.column} ({result.method} {result.statistic:.3g})"


def drift_findings(results: Sequence[ColumnDrift], *, max_drifted_share: float) -> list[Finding]:
    if not results:
        return [Finding("drift", "pass", "no comparable columns", "test", numbers={"columns": 0})]
    drifted = [result for result in results if result.drifted]
    share = len(drifted) / len(results)
    numbers = {"drifted_columns": len(drifted), "columns": len(results), "drifted_share": share}
    listed = ": " + ", ".join(_describe(result) for result in drifted) if drifted else ""
    if share > max_drifted_share:
        message = (
            f"dataset drift: {len(drifted)} of {len(results)} columns drifted ({share:.0%}, more than "
            f"{max_drifted_share:.0%}){listed}"
        )
        return [Finding("drift", "fail", message, "test", numbers=numbers, rule=(*DRIFT_RULE, "max_drifted_share"))]
    message = f"{len(drifted)} of {len(results)} columns drifted ({share:.0%}, at most {max_drifted_share:.0%}){listed}"
    return [Finding("drift", "pass", message, "test", numbers=numbers)]
