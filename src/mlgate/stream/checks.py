"""The built-in checks over streamed summaries: the findings mlgate.checks.validation.run_checks gives in memory.

Exact from the summaries: schema, nulls, constant columns, label, PII (every row scanned), categorical drift.
From sketches, with the error stated: numeric drift (see mlgate.stream.drift). Duplicates and leakage are
exact while every row's hash fits the memory budget, else estimated from the coordinated hash sample, and the
finding says which, with the sample size and the estimate's 95% interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks import Finding, worst
from mlgate.checks.drift import drift_findings
from mlgate.checks.pii import pii_findings_from_hits
from mlgate.checks.quality import (
    LabelCounts,
    constant_finding,
    duplicate_findings_from_count,
    label_findings_from_counts,
    leakage_findings_from_count,
    null_findings_from_counts,
)
from mlgate.checks.validation import CheckOptions, schema_findings
from mlgate.stream.drift import drift_table
from mlgate.stream.numeric import SketchDrift
from mlgate.stream.summary import ColumnSummary, DatasetSummary, HashSample, SchemaFacts, pii_hits

if TYPE_CHECKING:
    from mlgate.checks.schema import DataSchema

_Z95 = 1.96


@dataclass(frozen=True)
class Coverage:
    """What the checks saw of one file: every row, as batches (the streaming path samples none for drift)."""

    rows: int
    batches: int

    @property
    def statement(self) -> str:
        return f"all {self.rows:,} rows, streamed in {self.batches:,} batch{'' if self.batches == 1 else 'es'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "sampled": self.rows,
            "seed": None,
            "stratified_by": None,
            "statement": self.statement,
        }


@dataclass(frozen=True)
class StreamResult:
    findings: tuple[Finding, ...]
    drift: tuple[SketchDrift, ...]
    samples: dict[str, Coverage]

    @property
    def verdict(self) -> str:
        return worst(finding.severity for finding in self.findings)


def _facts(summary: DatasetSummary) -> tuple[int, dict[str, SchemaFacts]]:
    return summary.rows, {name: SchemaFacts(column) for name, column in summary.columns.items()}


def _sample_statement(kept: int, rows: int, fraction: float) -> str:
    return f"estimated from a hash sample of {kept:,} of {rows:,} rows ({fraction:.3%} of the hash space)"


def duplicates(sample: HashSample, rows: int) -> tuple[int, dict[str, Any] | None]:
    """Rows that repeat an earlier row: exact, or estimated from the sample with its 95% interval."""
    import numpy as np

    hashes, counts = sample.restrict(sample.threshold)
    kept = int(counts.sum())
    repeats = kept - len(hashes)
    if sample.exact:
        return repeats, None
    p = sample.fraction
    estimate = round(repeats / kept * rows) if kept else 0
    # Each distinct row is in the sample with probability p (its hash decides): Horvitz-Thompson's variance.
    extra = counts[counts > 1].astype(np.float64) - 1
    error = _Z95 * math.sqrt(float(np.square(extra).sum()) * (1 - p)) / p
    statement = _sample_statement(kept, rows, p)
    if repeats:
        statement += f": {estimate:,} ± {error:,.0f} at 95%"
    else:
        statement += f": none in it, so at 95% confidence fewer than {math.ceil(3 / p):,} distinct rows repeat"
    return estimate, {"sampled_rows": kept, "hash_fraction": p, "interval_95": error, "statement": statement}


def leakage(train: HashSample, test: HashSample, test_rows: int) -> tuple[int, dict[str, Any] | None]:
    """Test rows whose features occur in train: both samples cut at the lower threshold, so they stay coordinated."""
    import numpy as np

    threshold = min(train.threshold, test.threshold)
    train_hashes, _ = train.restrict(threshold)
    test_hashes, test_counts = test.restrict(threshold)
    # Both sorted: a binary search each, not isin's sort of both (a copy of each sample, several times over).
    at = np.minimum(np.searchsorted(train_hashes, test_hashes), max(len(train_hashes) - 1, 0))
    found = train_hashes[at] == test_hashes if len(train_hashes) else np.zeros(len(test_hashes), dtype=bool)
    leaked = int(test_counts[found].sum())
    if train.exact and test.exact:
        return leaked, None
    kept = int(test_counts.sum())
    share = leaked / kept if kept else 0.0
    p = threshold / 2**64
    error = _Z95 * math.sqrt(share * (1 - share) / kept) * test_rows if kept else float(test_rows)
    statement = _sample_statement(kept, test_rows, p)
    if leaked:
        statement += f": {round(share * test_rows):,} ± {error:,.0f} at 95%"
    else:  # the normal interval is 0 ± 0 here; the rule of three bounds the share instead
        error = min(3 / kept, 1.0) * test_rows if kept else float(test_rows)
        statement += f": none in it, so at 95% confidence fewer than {math.ceil(error):,} test rows occur in train"
    estimate = {"sampled_rows": kept, "hash_fraction": p, "interval_95": error, "statement": statement}
    return round(share * test_rows), estimate


def _label_counts(column: ColumnSummary) -> LabelCounts:
    return LabelCounts(column.nulls, column.category_counts(), column.distinct_count)


def run_checks(
    train: DatasetSummary,
    test: DatasetSummary | None,
    *,
    label: str,
    schema: DataSchema | None,
    options: CheckOptions,
) -> StreamResult:
    datasets = {"train": train} | ({"test": test} if test is not None else {})
    findings = schema_findings(_facts(train), _facts(test) if test is not None else None, label, schema)
    for name, summary in datasets.items():
        missing = {column: facts.missing for column, facts in summary.columns.items()}
        findings += null_findings_from_counts(
            missing, summary.rows, dataset=name, max_fraction=options.nulls_max_fraction
        )
        count, estimate = duplicates(summary.row_hashes, summary.rows)
        findings += duplicate_findings_from_count(count, summary.rows, dataset=name, estimate=estimate)
    for name, column in train.columns.items():
        if column.nulls < column.rows and column.low is not None and column.low == column.high:
            findings.append(constant_finding(name, column.low, dataset="train"))
    findings += label_findings_from_counts(
        label, _label_counts(train.columns[label]), _label_counts(test.columns[label]) if test is not None else None
    )
    drift: list[SketchDrift] = []
    if test is not None:
        leaked, estimate = leakage(train.feature_hashes, test.feature_hashes, test.rows)
        findings += leakage_findings_from_count(leaked, test.rows, columns=len(train.features), estimate=estimate)
        drift = drift_table(
            train.columns, test.columns, train.features, method=options.drift_method, threshold=options.drift_threshold
        )
        findings += drift_findings([row.result for row in drift], max_drifted_share=options.max_drifted_share)
    for name, summary in datasets.items():
        hits = pii_hits(summary.columns.values())
        findings += pii_findings_from_hits(hits, dataset=name, allow_columns=options.pii_allow_columns)
    samples = {name: Coverage(summary.rows, summary.batches) for name, summary in datasets.items()}
    return StreamResult(tuple(findings), tuple(drift), samples)
