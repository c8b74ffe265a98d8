"""Drift of the refreshed data against the default branch's, with validate's column tests and conventions.

The evidence has the shape `mlgate validate` records under `drift` (per-column rows, share, limit, sample), so
the report renders both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks.drift import ColumnDrift, drift_table
from mlgate.checks.sampling import stratified_sample
from mlgate.retrain.decision import DriftSummary

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class DriftOptions:
    label: str | None
    method: str = "auto"
    threshold: float | None = None
    limit: float = 0.5  # share of drifted columns above which the data has drifted
    sample_rows: int = 1_000_000
    seed: int = 0


@dataclass(frozen=True)
class DriftCheck:
    rows: tuple[ColumnDrift, ...]
    summary: DriftSummary
    sample: str  # which rows of the refreshed data were compared

    def evidence(self, reference: str, current: str, options: DriftOptions) -> dict[str, Any]:
        return {
            "reference": reference,
            "current": current,
            "method": options.method,
            "threshold": options.threshold,
            "columns": [row.to_dict() for row in self.rows],
            "drifted_columns": len(self.summary.drifted),
            "drifted_share": self.summary.share,
            "max_drifted_share": self.summary.limit,
            "detected": self.summary.detected,
            "sample": self.sample,
        }


def check_drift(reference: pa.Table, current: pa.Table, options: DriftOptions) -> DriftCheck:
    """Compare every column both tables share (the label aside), on seeded stratified samples of large data."""
    present = set(current.column_names)  # once: the property builds a new list at every call
    columns = [name for name in reference.column_names if name != options.label and name in present]
    samples = [
        stratified_sample(table, size=options.sample_rows, seed=options.seed, strata=options.label)
        for table in (reference, current)
    ]
    rows = drift_table(
        samples[0].apply(reference),
        samples[1].apply(current),
        columns,
        method=options.method,
        threshold=options.threshold,
    )
    summary = DriftSummary(len(rows), tuple(row.column for row in rows if row.drifted), options.limit)
    return DriftCheck(tuple(rows), summary, samples[1].statement)
