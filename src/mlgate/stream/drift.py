"""Drift from column summaries: the conventions of mlgate.checks.drift, statistics derived from the summaries.

Categorical columns (strings, booleans, numbers with at most 5 distinct values) have exact counts, so their
statistics are the in-memory path's, exactly. Numeric columns are compared by mlgate.stream.numeric's
numeric_drift on their KLL sketches: exact while the sketches hold every value, else within a stated error bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlgate.checks.columns import CATEGORICAL_MAX_UNIQUE_NUMERIC, MAX_CATEGORIES, NUMERIC_KINDS
from mlgate.checks.drift import P_VALUE_METHODS, categorical_drift_from_counts, choose_method, column_result
from mlgate.stream.numeric import SketchDrift, numeric_drift

if TYPE_CHECKING:
    from mlgate.stream.summary import ColumnSummary


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
        if not reference.numbers.count or not current.numbers.count:
            return None
        numbers = reference.category_counts()
        distinct = None if numbers is None else sum(1 for value in numbers if value == value)  # NaN is no number
        if distinct is not None and distinct <= CATEGORICAL_MAX_UNIQUE_NUMERIC:
            return _categorical(name, reference, current, method, threshold)
        return numeric_drift(name, reference.numbers, current.numbers, method=method, threshold=threshold)
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
