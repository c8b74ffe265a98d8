"""Column vocabulary shared by the checks: logical kinds of Arrow types, value counts, numeric views."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

KINDS = ("integer", "number", "boolean", "string", "datetime", "null", "other")
NUMERIC_KINDS = ("integer", "number")
# A column with at most this many distinct values is treated as categorical by drift (numbers included,
# e.g. a 0/1 flag) — the convention of Evidently's column-type inference.
CATEGORICAL_MAX_UNIQUE_NUMERIC = 5
# A string column with more distinct values than this is free text or an identifier, not a category list.
MAX_CATEGORIES = 50


def kind_of(data_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(data_type):
        return kind_of(data_type.value_type)
    checks = (
        ("boolean", pa.types.is_boolean),
        ("integer", pa.types.is_integer),
        ("number", lambda t: pa.types.is_floating(t) or pa.types.is_decimal(t)),
        ("string", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
        ("datetime", lambda t: pa.types.is_temporal(t)),
        ("null", pa.types.is_null),
    )
    return next((kind for kind, test in checks if test(data_type)), "other")


def value_counts(column: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Distinct non-null values and how often each occurs (one hash pass, no per-row Python)."""
    import pyarrow.compute as pc

    counts = pc.value_counts(column.drop_null())
    return counts.field("values"), counts.field("counts").to_numpy(zero_copy_only=False)


def numeric_values(column: pa.ChunkedArray) -> np.ndarray:
    """The non-null values of a numeric column as float64 (NaN counts as missing)."""
    import numpy as np
    import pyarrow as pa

    values = column.drop_null().cast(pa.float64()).to_numpy()
    return values[~np.isnan(values)]
