"""The built-in validation run: every check over train (and test), in one pure function.

Schema, nulls, duplicates, leakage, label and PII checks see every row; drift sees the seeded stratified
sample when a dataset has more than `sample_rows` rows (the same sample the deepchecks suites get).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlgate.checks import Finding, worst
from mlgate.checks.drift import ColumnDrift, drift_findings, drift_table
from mlgate.checks.pii import pii_findings
from mlgate.checks.quality import (
    constant_findings,
    duplicate_findings,
    infinite_findings,
    label_findings,
    leakage_findings,
    null_findings,
    row_hashes,
)
from mlgate.checks.sampling import Sample, stratified_sample
from mlgate.checks.schema import ArrowColumn, ColumnFacts, DataSchema, check_schema_from, infer_schema_from

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class CheckOptions:
    nulls_max_fraction: float = 0.05
    drift_method: str = "auto"
    drift_threshold: float | None = None
    max_drifted_share: float = 0.5
    pii_allow_columns: Sequence[str] = ()
    sample_rows: int = 1_000_000
    seed: int = 0


@dataclass(frozen=True)
class BuiltinResult:
    findings: tuple[Finding, ...]
    drift: tuple[ColumnDrift, ...] = ()
    samples: dict[str, Sample] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return worst(finding.severity for finding in self.findings)


def schema_findings(
    train: tuple[int, Mapping[str, ColumnFacts]],
    test: tuple[int, Mapping[str, ColumnFacts]] | None,
    label: str,
    schema: DataSchema | None,
) -> list[Finding]:
    """Each file's (rows, column facts) against the schema file, else test against the schema of train."""
    if schema is not None:
        findings = check_schema_from(*train, schema, dataset="train", strict=True)
        if test is not None:
            findings += check_schema_from(*test, schema, dataset="test", strict=True)
        return findings
    if test is None:
        return []
    inferred = infer_schema_from(train[1], label=label)
    return check_schema_from(*test, inferred, dataset="test", strict=False, reference="the train data")


def _facts(table: pa.Table) -> tuple[int, dict[str, ColumnFacts]]:
    return table.num_rows, {name: ArrowColumn(table.column(name)) for name in table.column_names}


def run_checks(
    train: pa.Table, test: pa.Table | None, *, label: str, schema: DataSchema | None, options: CheckOptions
) -> BuiltinResult:
    datasets = {"train": train} | ({"test": test} if test is not None else {})
    findings = schema_findings(_facts(train), _facts(test) if test is not None else None, label, schema)
    # Leakage compares the features both files share; duplicates extend that hash to each file's other columns.
    test_columns = set(test.column_names) if test is not None else None
    shared = [name for name in train.column_names if name != label and (test_columns is None or name in test_columns)]
    shared_set = set(shared)
    feature_hashes = {name: row_hashes(table, shared) for name, table in datasets.items()}
    for name, table in datasets.items():
        findings += null_findings(table, dataset=name, max_fraction=options.nulls_max_fraction)
        findings += infinite_findings(table, dataset=name)
        rest = [column for column in table.column_names if column not in shared_set]
        findings += duplicate_findings(row_hashes(table, rest, start=feature_hashes[name]), dataset=name)
    findings += constant_findings(train, dataset="train")
    findings += label_findings(label, train.column(label), test.column(label) if test is not None else None)
    samples = {
        name: stratified_sample(table, size=options.sample_rows, seed=options.seed, strata=label)
        for name, table in datasets.items()
    }
    drift: list[ColumnDrift] = []
    if test is not None:
        findings += leakage_findings(feature_hashes["train"], feature_hashes["test"], columns=len(shared))
        drift = drift_table(
            samples["train"].apply(train),
            samples["test"].apply(test),
            shared,
            method=options.drift_method,
            threshold=options.drift_threshold,
        )
        findings += drift_findings(drift, max_drifted_share=options.max_drifted_share)
    for name, table in datasets.items():
        findings += pii_findings(table, dataset=name, allow_columns=options.pii_allow_columns)
    return BuiltinResult(findings=tuple(findings), drift=tuple(drift), samples=samples)
