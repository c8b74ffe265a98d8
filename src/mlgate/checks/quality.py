"""Quality: missing values, constant columns, duplicate rows, train/test leakage and label problems.

Duplicates and leakage compare 64-bit row hashes instead of rows: each column hashes to one uint64 per row
(numbers directly, strings through their distinct values only), the columns are mixed together, and the
comparison is a hash-table lookup — linear in rows, no per-row Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks import Finding
from mlgate.checks.columns import kind_of, value_counts
from mlgate.checks.pii import mask_values

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

NULLS_RULE = ("config", "data", "checks", "nulls", "max_fraction")
# A label with at most this many distinct values is a class label; above it the task is regression.
MAX_CLASSES = 20
# A class rarer than this share of the training rows is "extreme imbalance" (1:100).
MIN_CLASS_SHARE = 0.01
# Test rows that also occur in train: any is worth a warning, more than this share fails.
LEAKAGE_FAIL_SHARE = 0.05
_NULL_HASH = 0x9E3779B97F4A7C15
_HASH_MULTIPLIER = 0x100000001B3


def missing_counts(column: pa.ChunkedArray) -> int:
    """Nulls plus NaNs: both mean "no value" to a model."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_floating(column.type):
        return column.null_count
    return column.null_count + (pc.sum(pc.is_nan(column)).as_py() or 0)


def null_findings(table: pa.Table, *, dataset: str, max_fraction: float) -> list[Finding]:
    missing = {name: missing_counts(table.column(name)) for name in table.column_names}
    return null_findings_from_counts(missing, table.num_rows, dataset=dataset, max_fraction=max_fraction)


def null_findings_from_counts(
    missing: Mapping[str, int], rows: int, *, dataset: str, max_fraction: float
) -> list[Finding]:
    """The null check from each column's count of missing values (nulls plus NaNs) out of `rows`."""
    fractions = {name: count / rows for name, count in missing.items()}
    over = {name: fraction for name, fraction in fractions.items() if fraction > max_fraction}
    findings = [
        Finding(
            "nulls",
            "fail",
            f"column '{name}' is {fraction:.1%} missing, above the allowed {max_fraction:.1%}",
            dataset,
            name,
            {"null_fraction": fraction, "max_fraction": max_fraction},
            NULLS_RULE,
        )
        for name, fraction in over.items()
    ]
    with_nulls = {name: round(fraction, 6) for name, fraction in fractions.items() if fraction > 0}
    if not over:
        findings.append(
            Finding(
                "nulls",
                "pass",
                f"{len(with_nulls)} of {len(fractions)} columns have missing values, none above {max_fraction:.1%}",
                dataset,
                numbers={"null_fractions": with_nulls},
            )
        )
    return findings


def infinite_findings(table: pa.Table, *, dataset: str) -> list[Finding]:
    """±inf in a number column (a CSV's inf or 1e309): no model can use it, and statistics over it are NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    findings = []
    for name in table.column_names:
        column = table.column(name)
        if not pa.types.is_floating(column.type):
            continue
        infinite = pc.fill_null(pc.is_inf(column), False)
        count = pc.sum(infinite).as_py() or 0
        if count:
            row = pc.index(infinite, True).as_py() + 1
            findings.append(
                Finding(
                    "infinite",
                    "fail",
                    f"column '{name}' has {count} infinite value(s), the first in data row {row}; "
                    "no model can use them",
                    dataset,
                    name,
                    {"infinite": count, "first_row": row},
                )
            )
    return findings


def constant_findings(table: pa.Table, *, dataset: str) -> list[Finding]:
    import pyarrow.compute as pc

    findings = []
    for name in table.column_names:
        column = table.column(name)
        if column.null_count == len(column):
            continue  # all missing: the null check reports it
        bounds = pc.min_max(column)
        if bounds["min"] == bounds["max"]:
            findings.append(constant_finding(name, bounds["min"].as_py(), dataset=dataset))
    return findings


def constant_finding(name: str, value: object, *, dataset: str) -> Finding:
    """The warning for a column whose every present value is `value`."""
    shown = repr(mask_values([value])[0]) if isinstance(value, str) else repr(value)
    return Finding(
        "constant", "warn", f"column '{name}' has a single value ({shown}) and carries no information", dataset, name
    )


def _column_hashes(columns: Sequence[pa.ChunkedArray]) -> list[np.ndarray]:
    """One uint64 per row of each column (nulls one fixed value). Numbers, booleans and text values are each
    hashed in one call for all columns (hashing is value by value): per-column calls dominated wide tables."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pandas.util import hash_array

    kinds = [kind_of(column.type) for column in columns]
    hashes: dict[int, np.ndarray] = {}
    # One numeric representation for all, so 1 (int) in train and 1.0 (float) in test hash alike.
    numeric = [i for i, kind in enumerate(kinds) if kind in ("integer", "number", "boolean")]
    values = [columns[i].cast(pa.float64()).fill_null(0).to_numpy() for i in numeric]
    for i, part in zip(numeric, _split(hash_array(np.concatenate(values)) if values else None, values), strict=True):
        hashes[i] = part
    text = [i for i, kind in enumerate(kinds) if kind not in ("integer", "number", "boolean", "datetime")]
    distinct = [pc.unique(columns[i].drop_null()) for i in text]
    objects = [values.to_numpy(zero_copy_only=False).astype(object) for values in distinct]
    hashed = _split(hash_array(np.concatenate(objects)) if objects else None, objects)
    for i, values, distinct_hashes in zip(text, distinct, hashed, strict=True):
        positions = pc.index_in(columns[i], value_set=values).fill_null(0).to_numpy()
        hashes[i] = distinct_hashes[positions] if len(values) else np.zeros(len(columns[i]), dtype=np.uint64)
    for i, kind in enumerate(kinds):
        if kind == "datetime":
            hashes[i] = hash_array(temporal_ticks(columns[i]))
    return [
        np.where(column.is_null().to_numpy(zero_copy_only=False), np.uint64(_NULL_HASH), hashes[i])
        if column.null_count
        else hashes[i]
        for i, column in enumerate(columns)
    ]


def _split(joined: np.ndarray | None, parts: Sequence[np.ndarray]) -> list[np.ndarray]:
    """`joined` cut back into pieces as long as `parts`."""
    import numpy as np

    if joined is None:
        return []
    return np.split(joined, np.cumsum([len(part) for part in parts])[:-1])


def temporal_ticks(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Dates and times as the int64 integers underneath (nulls 0): hashing those keeps precision a float would
    round away. One unit first, so a CSV's timestamp[s] and a Parquet file's timestamp[ns] of one instant agree."""
    import pyarrow as pa

    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.timestamp("us", tz=column.type.tz))
    elif pa.types.is_date64(column.type):
        column = column.cast(pa.date32())
    storage = pa.int64() if column.type.bit_width == 64 else pa.int32()
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    ticks = pa.chunked_array([chunk.view(storage) for chunk in chunks], type=storage)
    return ticks.cast(pa.int64()).fill_null(0).to_numpy()


def row_hashes(table: pa.Table, columns: Sequence[str], start: np.ndarray | None = None) -> np.ndarray:
    """One uint64 per row over `columns` (in the given order): equal rows hash equal.

    `start` continues from the hashes of other columns, so a wider row hash reuses a narrower one.
    """
    import numpy as np

    combined = np.zeros(table.num_rows, dtype=np.uint64) if start is None else start
    for hashes in _column_hashes([table.column(name) for name in columns]):
        # Multiply-xor mixing (FNV-style); uint64 arithmetic wraps, which is what we want.
        combined = (combined * np.uint64(_HASH_MULTIPLIER)) ^ hashes
    return combined


def duplicate_findings(hashes: np.ndarray, *, dataset: str) -> list[Finding]:
    import pandas as pd

    return duplicate_findings_from_count(int(len(hashes) - pd.unique(hashes).size), len(hashes), dataset=dataset)


def duplicate_findings_from_count(
    duplicates: int, rows: int, *, dataset: str, estimate: Mapping[str, Any] | None = None
) -> list[Finding]:
    """`estimate` (how a sampled count was made, and its error) is added to the numbers and the message."""
    how = {} if estimate is None else {"estimate": dict(estimate)}
    said = "" if estimate is None else f" ({estimate['statement']})"
    if not duplicates:
        return [Finding("duplicates", "pass", f"no duplicate rows{said}", dataset, numbers={"duplicates": 0, **how})]
    share = duplicates / rows
    return [
        Finding(
            "duplicates",
            "warn",
            f"{duplicates} rows ({share:.1%}) repeat an earlier row exactly{said}",
            dataset,
            numbers={"duplicates": duplicates, "share": share, **how},
        )
    ]


def leakage_findings(train_hashes: np.ndarray, test_hashes: np.ndarray, *, columns: int) -> list[Finding]:
    import pandas as pd

    leaked = int(pd.Series(test_hashes).isin(pd.Series(train_hashes)).sum())
    return leakage_findings_from_count(leaked, len(test_hashes), columns=columns)


def leakage_findings_from_count(
    leaked: int, test_rows: int, *, columns: int, estimate: Mapping[str, Any] | None = None
) -> list[Finding]:
    share = leaked / test_rows
    numbers = {"leaked_rows": leaked, "share": share, "columns_compared": columns}
    numbers |= {} if estimate is None else {"estimate": dict(estimate)}
    said = "" if estimate is None else f" ({estimate['statement']})"
    if not leaked:
        return [Finding("leakage", "pass", f"no test row also occurs in train{said}", "test", numbers=numbers)]
    return [
        Finding(
            "leakage",
            "fail" if share > LEAKAGE_FAIL_SHARE else "warn",
            f"{leaked} test rows ({share:.1%}) also occur in train with identical features{said}",
            "test",
            numbers=numbers,
        )
    ]


def _class_counts(label: pa.ChunkedArray) -> dict:
    values, counts = value_counts(label)
    return dict(zip(values.to_pylist(), counts.tolist(), strict=True))


@dataclass(frozen=True)
class LabelCounts:
    """What the label check needs of one file's label column: missing rows and rows per class.

    `classes` is None when the column has too many distinct values to count them all (then `distinct` says
    about how many); it is a regression target then."""

    missing: int
    classes: dict | None
    distinct: int

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> LabelCounts:
        classes = _class_counts(column)
        return cls(column.null_count, classes, len(classes))


def label_findings(label: str, train: pa.ChunkedArray, test: pa.ChunkedArray | None) -> list[Finding]:
    return label_findings_from_counts(label, LabelCounts.of(train), LabelCounts.of(test) if test is not None else None)


def label_findings_from_counts(label: str, train: LabelCounts, test: LabelCounts | None) -> list[Finding]:
    findings = []
    for dataset, counts in (("train", train), ("test", test)):
        if counts is not None and counts.missing:
            findings.append(
                Finding(
                    "label",
                    "fail",
                    f"label '{label}' is missing in {counts.missing} rows",
                    dataset,
                    label,
                    {"missing": counts.missing},
                )
            )
    train_classes = train.classes
    if train_classes is None or len(train_classes) > MAX_CLASSES:
        if not findings:
            findings.append(
                Finding(
                    "label",
                    "pass",
                    f"label '{label}' is numeric ({train.distinct} distinct values): class checks do not apply",
                    "train",
                    label,
                )
            )
        return findings
    total = sum(train_classes.values())
    if len(train_classes) < 2:
        findings.append(
            Finding(
                "label",
                "fail",
                f"label '{label}' has a single class in train",
                "train",
                label,
                {"classes": len(train_classes)},
            )
        )
    rare = {value: count for value, count in train_classes.items() if count / total < MIN_CLASS_SHARE}
    if rare:
        value, count = min(rare.items(), key=lambda item: item[1])
        findings.append(
            Finding(
                "label",
                "warn",
                f"label '{label}' is extremely imbalanced: class {value!r} is {count / total:.2%} of train",
                "train",
                label,
                {"minority_share": count / total, "min_share": MIN_CLASS_SHARE},
            )
        )
    if test is not None and test.classes is None:
        findings.append(
            Finding(
                "label",
                "fail",
                f"label '{label}' has about {test.distinct:,} distinct values in test, train has "
                f"{len(train_classes)} classes",
                "test",
                label,
                {"distinct": test.distinct},
            )
        )
    elif test is not None:
        unseen = {value: count for value, count in test.classes.items() if value not in train_classes}
        if unseen:
            findings.append(
                Finding(
                    "label",
                    "fail",
                    f"label '{label}' has classes in test never seen in train: "
                    f"{', '.join(repr(v) for v in sorted(unseen, key=str))} ({sum(unseen.values())} rows)",
                    "test",
                    label,
                    {"unseen_classes": len(unseen), "rows": sum(unseen.values())},
                )
            )
    if not findings:
        shares = {str(value): round(count / total, 6) for value, count in train_classes.items()}
        findings.append(
            Finding(
                "label",
                "pass",
                f"{len(train_classes)} classes, all present in train",
                "train",
                label,
                {"class_shares": shares},
            )
        )
    return findings
