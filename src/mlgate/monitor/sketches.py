"""Bounded-memory column statistics (Apache DataSketches) and drift tests computed from them.

A numeric column is mlgate.stream.numeric's NumericSketch (KLL quantiles plus exact count, mean and variance),
the one streaming validation uses, and its drift is that module's numeric_drift, so monitoring and validation
of the same data give the same statistics with the same stated error bound. A categorical column is a
frequent-items sketch (exact while it holds fewer distinct values than it has room for, which every column
drift compares has), tested on its counts as mlgate.checks.drift does. Sketches merge, so a window read batch
by batch, or partition by partition, has the statistics of all its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.checks.columns import CATEGORICAL_MAX_UNIQUE_NUMERIC, MAX_CATEGORIES, NUMERIC_KINDS, kind_of
from mlgate.checks.drift import ColumnDrift, categorical_statistic, choose_method, column_result
from mlgate.stream.numeric import NumericSketch, finite_numbers, numeric_drift

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FREQUENT_LG_MAX_K = 10  # room for 768 distinct values before estimates start


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
        values = finite_numbers(column)
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
    present = set(table.column_names)  # once: the property builds a new list at every call
    sketch.update({name: table.column(name) for name in kinds if name in present})
    return sketch


# ----------------------------------------------------------------------------------------------- drift


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
        return numeric_drift(name, reference, current, method=method, threshold=threshold).result
    if isinstance(reference, CategoricalSketch) and isinstance(current, CategoricalSketch):
        ref_counts, cur_counts = _aligned(reference.counts(), current.counts())
        chosen, note = choose_method(method, "categorical", reference.count, len(ref_counts))
        outcome = (chosen, note, *categorical_statistic(chosen, ref_counts, cur_counts))
        return column_result(name, "categorical", outcome, threshold)
    return None
