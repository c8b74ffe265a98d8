"""Schema: which columns exist, their kind, nullability, numeric ranges, allowed categories and row counts.

Two modes. With a reviewed schema file (`strict`), every rule is a hard rule: a violation fails. Without one,
the test data is held against a schema inferred on the fly from the training data; then only structural
problems fail (a missing column, a changed dtype), new categories warn, and ranges and nullability are left to
the drift and null checks — a clean random split must not raise alarms.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from mlgate.checks import Finding
from mlgate.checks.columns import MAX_CATEGORIES, NUMERIC_KINDS, kind_of, numeric_values, value_counts
from mlgate.checks.pii import holds_pii, mask_values
from mlgate.checks.quality import missing_counts

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1
# Inferred ranges are widened by this share of the observed span on each side (never across zero): wide
# enough that the next sample's tails pass, narrow enough to catch unit mix-ups (×10, ×1000) and sign errors.
RANGE_MARGIN = 0.5
_SIGNIFICANT_DIGITS = 6
_SHOWN_VALUES = 5


@dataclass(frozen=True)
class ColumnRule:
    name: str
    dtype: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DataSchema:
    columns: tuple[ColumnRule, ...]
    label: str | None = None
    min_rows: int | None = None
    max_rows: int | None = None

    def column(self, name: str) -> ColumnRule | None:
        return next((rule for rule in self.columns if rule.name == name), None)


def _round_out(value: float, *, up: bool) -> float:
    """Round to a few significant digits, away from the data, so the bound still contains the value."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (math.floor(math.log10(abs(value))) - _SIGNIFICANT_DIGITS + 1)
    rounded = (math.ceil(value / scale) if up else math.floor(value / scale)) * scale
    return float(f"{rounded:.{_SIGNIFICANT_DIGITS}g}")


def _inferred_range(low: float, high: float, integer: bool) -> tuple[float, float]:
    margin = (high - low) * RANGE_MARGIN
    lower, upper = low - margin, high + margin
    if low >= 0:
        lower = max(lower, 0.0)
    if high <= 0:
        upper = min(upper, 0.0)
    if integer:
        return float(math.floor(lower)), float(math.ceil(upper))
    return _round_out(lower, up=False), _round_out(upper, up=True)


class ColumnFacts(Protocol):
    """What the schema check needs to know of one column: an in-memory column, or a streamed summary of one."""

    @property
    def kind(self) -> str: ...
    @property
    def nulls(self) -> int: ...
    @property
    def missing(self) -> int: ...  # nulls plus NaNs

    def bounds(self) -> tuple[float, float] | None:
        """Smallest and largest number (nulls and NaNs skipped), None when there is none."""

    def distinct(self, limit: int) -> list | None:
        """The distinct present values, None when there are more than `limit`."""

    def outside(self, low: float, high: float) -> int:
        """How many numbers lie outside [low, high]."""

    def unlisted(self, allowed: set[str]) -> tuple[list[tuple[str, int]], bool]:
        """Values not in `allowed` with their rows, and whether that list is complete."""


class ArrowColumn:
    """ColumnFacts of a column held in memory."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        self.column = column
        self.kind = kind_of(column.type)

    @property
    def nulls(self) -> int:
        return self.column.null_count

    @property
    def missing(self) -> int:
        return missing_counts(self.column)

    def bounds(self) -> tuple[float, float] | None:
        import pyarrow.compute as pc

        bounds = pc.min_max(self.column)  # skips nulls and NaNs
        return (bounds["min"].as_py(), bounds["max"].as_py()) if bounds["min"].is_valid else None

    def distinct(self, limit: int) -> list | None:
        values, _ = value_counts(self.column)
        return values.to_pylist() if len(values) <= limit else None

    def outside(self, low: float, high: float) -> int:
        import numpy as np

        values = numeric_values(self.column)
        return int(np.count_nonzero((values < low) | (values > high)))

    def unlisted(self, allowed: set[str]) -> tuple[list[tuple[str, int]], bool]:
        values, counts = value_counts(self.column)
        pairs = zip(values.to_pylist(), counts, strict=True)
        return [(value, int(count)) for value, count in pairs if value not in allowed], True


def infer_column(name: str, column: ColumnFacts) -> ColumnRule:
    """The rule `column` suggests; a text column's categories are every distinct value, PII or not (the schema's
    inference drops lists that hold personal data, for all columns at once)."""
    kind = column.kind
    rule = ColumnRule(name=name, dtype=kind, nullable=column.nulls > 0)
    if kind in NUMERIC_KINDS:
        bounds = column.bounds()
        if bounds is not None:
            low, high = _inferred_range(float(bounds[0]), float(bounds[1]), kind == "integer")
            return ColumnRule(name, kind, column.missing > 0, low, high)
    if kind == "string":
        values = column.distinct(MAX_CATEGORIES)
        if values is not None:
            return ColumnRule(name, kind, rule.nullable, categories=tuple(sorted(values)))
    return rule


def infer_schema(table: pa.Table, *, label: str | None) -> DataSchema:
    return infer_schema_from({name: ArrowColumn(table.column(name)) for name in table.column_names}, label=label)


def infer_schema_from(columns: Mapping[str, ColumnFacts], *, label: str | None) -> DataSchema:
    rules = [infer_column(name, facts) for name, facts in columns.items()]
    # A reviewed, committed schema file must not carry personal data: such a column gets no category list.
    personal = holds_pii([rule.categories or () for rule in rules])
    rules = [replace(rule, categories=None) if flagged else rule for rule, flagged in zip(rules, personal, strict=True)]
    return DataSchema(columns=tuple(rules), label=label, min_rows=1)


def schema_to_document(schema: DataSchema) -> dict[str, Any]:
    """The YAML-ready form written by `--write-schema` (keys in a reviewable order, unset rules left out)."""
    columns: dict[str, Any] = {}
    for rule in schema.columns:
        entry: dict[str, Any] = {"dtype": rule.dtype, "nullable": rule.nullable}
        if rule.min is not None:
            entry["min"], entry["max"] = _plain_number(rule.min), _plain_number(rule.max)
        if rule.categories is not None:
            entry["categories"] = list(rule.categories)
        columns[rule.name] = entry
    rows = {key: value for key, value in (("min", schema.min_rows), ("max", schema.max_rows)) if value is not None}
    document: dict[str, Any] = {"version": SCHEMA_VERSION}
    if schema.label is not None:
        document["label"] = schema.label
    if rows:
        document["rows"] = rows
    document["columns"] = columns
    return document


def _plain_number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() and abs(value) < 2**53 else value


def schema_from_document(document: Mapping[str, Any]) -> DataSchema:
    """Build the schema from a document already validated against mlgate.dataschema.json."""
    columns = tuple(
        ColumnRule(
            name=str(name),
            dtype=spec["dtype"],
            nullable=spec.get("nullable", True),
            min=spec.get("min"),
            max=spec.get("max"),
            categories=tuple(str(value) for value in spec["categories"]) if "categories" in spec else None,
        )
        for name, spec in document.get("columns", {}).items()
    )
    rows = document.get("rows", {})
    return DataSchema(columns=columns, label=document.get("label"), min_rows=rows.get("min"), max_rows=rows.get("max"))


def _compatible(expected: str, observed: str) -> bool:
    # An all-null column has no type of its own; integers are valid numbers.
    return observed == expected or observed == "null" or (expected == "number" and observed == "integer")


def _renames(missing: list[ColumnRule], extra: dict[str, str]) -> dict[str, str]:
    """Missing column -> extra column that probably is it under a new name (same kind, similar name or the only one)."""
    pairs: dict[str, str] = {}
    for rule in missing:
        candidates = [
            name for name, kind in extra.items() if _compatible(rule.dtype, kind) and name not in pairs.values()
        ]
        close = difflib.get_close_matches(rule.name, candidates, n=1, cutoff=0.6)
        if close:
            pairs[rule.name] = close[0]
        elif len(candidates) == 1 and len(missing) == 1:
            pairs[rule.name] = candidates[0]
    return pairs


def _shown(values: list[str]) -> str:
    """A few quoted values, personal data masked."""
    text = ", ".join(repr(v) for v in mask_values(values[:_SHOWN_VALUES]))
    return text + (f" and {len(values) - _SHOWN_VALUES} more" if len(values) > _SHOWN_VALUES else "")


def _column_findings(
    rule: ColumnRule, column: ColumnFacts, *, dataset: str, strict: bool, reference: str
) -> list[Finding]:
    where = ("schema", "columns", rule.name)
    observed = column.kind
    if not _compatible(rule.dtype, observed):
        return [
            Finding(
                "schema",
                "fail",
                f"column '{rule.name}' has dtype {observed}, {reference} says {rule.dtype}",
                dataset,
                rule.name,
                {"expected": rule.dtype, "observed": observed},
                (*where, "dtype"),
            )
        ]
    findings = []
    if strict and not rule.nullable and column.nulls:
        findings.append(
            Finding(
                "schema",
                "fail",
                f"column '{rule.name}' has {column.nulls} missing values but is not nullable in {reference}",
                dataset,
                rule.name,
                {"nulls": column.nulls},
                (*where, "nullable"),
            )
        )
    if strict and observed in NUMERIC_KINDS and (rule.min is not None or rule.max is not None):
        low = -math.inf if rule.min is None else rule.min
        high = math.inf if rule.max is None else rule.max
        outside = column.outside(low, high)
        bounds = column.bounds()
        if outside and bounds is not None:
            observed_min, observed_max = float(bounds[0]), float(bounds[1])
            findings.append(
                Finding(
                    "schema",
                    "fail",
                    f"column '{rule.name}' has {outside} value{'s' if outside > 1 else ''} "
                    f"outside [{rule.min}, {rule.max}] "
                    f"(observed {observed_min:g} to {observed_max:g})",
                    dataset,
                    rule.name,
                    {
                        "outside": outside,
                        "min": rule.min,
                        "max": rule.max,
                        "observed_min": observed_min,
                        "observed_max": observed_max,
                    },
                    (*where, "min" if observed_min < low else "max"),
                )
            )
    if rule.categories is not None and observed == "string":
        new, complete = column.unlisted(set(rule.categories))
        if new:
            new.sort(key=lambda item: -item[1])
            many = f"{len(new)}" if complete else f"more than {len(new)}"
            rows = f"{sum(c for _, c in new)}" if complete else f"at least {sum(c for _, c in new)}"
            findings.append(
                Finding(
                    "schema",
                    "fail" if strict else "warn",
                    f"column '{rule.name}' has {many} new categor{'y' if len(new) == 1 else 'ies'} not in "
                    f"{reference}: {_shown([value for value, _ in new])} ({rows} rows)",
                    dataset,
                    rule.name,
                    {"new_categories": len(new), "rows": sum(c for _, c in new)},
                    (*where, "categories"),
                )
            )
    return findings


def check_schema_from(
    rows: int,
    columns: Mapping[str, ColumnFacts],
    schema: DataSchema,
    *,
    dataset: str,
    strict: bool,
    reference: str = "the schema",
) -> list[Finding]:
    """Hold the columns (in memory or streamed) against `schema`; `reference` names its origin in messages."""
    findings = []
    if schema.min_rows is not None and rows < schema.min_rows:
        findings.append(
            Finding(
                "schema",
                "fail",
                f"has {rows} rows, {reference} requires at least {schema.min_rows}",
                dataset,
                numbers={"rows": rows, "min": schema.min_rows},
                rule=("schema", "rows", "min"),
            )
        )
    if schema.max_rows is not None and rows > schema.max_rows:
        findings.append(
            Finding(
                "schema",
                "fail",
                f"has {rows} rows, {reference} allows at most {schema.max_rows}",
                dataset,
                numbers={"rows": rows, "max": schema.max_rows},
                rule=("schema", "rows", "max"),
            )
        )
    present = set(columns)
    expected = {rule.name for rule in schema.columns}
    missing = [rule for rule in schema.columns if rule.name not in present]
    extra = {name: facts.kind for name, facts in columns.items() if name not in expected}
    renamed = _renames(missing, extra)
    for rule in missing:
        hint = f"; '{renamed[rule.name]}' looks like it was renamed from it" if rule.name in renamed else ""
        findings.append(
            Finding(
                "schema",
                "fail",
                f"column '{rule.name}' is missing ({reference} has it){hint}",
                dataset,
                rule.name,
                {"renamed_to": renamed.get(rule.name)},
                ("schema", "columns", rule.name),
            )
        )
    for name in extra:
        if name not in renamed.values():
            findings.append(
                Finding(
                    "schema",
                    "warn",
                    f"column '{name}' is not in {reference}",
                    dataset,
                    name,
                    rule=("schema", "columns"),
                )
            )
    for rule in schema.columns:
        if rule.name in present:
            findings += _column_findings(rule, columns[rule.name], dataset=dataset, strict=strict, reference=reference)
    return findings
