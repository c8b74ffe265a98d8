"""Per-row predictions files (`metrics.predictions`): row id, y_true, y_pred and/or y_score.

CSV, TSV or Parquet. Rows pair up between base and head by the row-id column (`row_id` or `id`); without
one, rows pair by position only when both files hold the same y_true in the same order.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.compare.stats import Predictions, align, take_rows

if TYPE_CHECKING:
    import numpy as np

ID_COLUMNS = ("row_id", "id")
TRUTH, PREDICTION, SCORE = "y_true", "y_pred", "y_score"


class PredictionsError(ValueError):
    """A predictions file we cannot use; the message names the file and the column or row."""


@dataclass(frozen=True)
class PredictionsFile:
    path: str
    ids: np.ndarray | None
    predictions: Predictions


def _read_table(data: bytes, path: str) -> Any:
    """A pyarrow Table (pyarrow's CSV reader is several times faster than pandas', and imports less)."""
    import pyarrow as pa

    suffix = posixpath.splitext(path)[1].lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(pa.BufferReader(data), use_threads=False)
        import pyarrow.csv as pacsv

        # Single-threaded: the file is already in memory, and pyarrow's CSV thread pool was seen aborting the
        # interpreter at exit ("terminate called without an active exception") right after an input error.
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ","),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except (pa.ArrowException, OSError) as exc:
        raise PredictionsError(f"{path}: cannot be read as a table ({exc})") from None


def parse_predictions(data: bytes, path: str) -> PredictionsFile:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _read_table(data, path)
    names = [str(name).strip() for name in table.column_names]
    table = table.rename_columns(names)
    if TRUTH not in names:
        raise PredictionsError(f"{path}: has no '{TRUTH}' column (columns: {', '.join(names)})")
    if PREDICTION not in names and SCORE not in names:
        raise PredictionsError(f"{path}: needs a '{PREDICTION}' or '{SCORE}' column next to '{TRUTH}'")
    for column in (c for c in (TRUTH, PREDICTION, SCORE) if c in names):
        if table[column].null_count:
            row = pc.index(pc.is_null(table[column]), True).as_py()
            raise PredictionsError(f"{path}: column '{column}' is empty in data row {row + 1}")
    if SCORE in names and not pa.types.is_integer(table[SCORE].type) and not pa.types.is_floating(table[SCORE].type):
        raise PredictionsError(f"{path}: column '{SCORE}' must hold numbers (probabilities)")
    if SCORE in names and pa.types.is_floating(table[SCORE].type):
        finite = pc.is_finite(table[SCORE])
        if not pc.all(finite).as_py():
            row = pc.index(finite, False).as_py()
            value = table[SCORE][row].as_py()
            raise PredictionsError(f"{path}: column '{SCORE}' holds {value} in data row {row + 1}, not a probability")
    id_column = next((c for c in ID_COLUMNS if c in names), None)
    ids = table[id_column].to_numpy() if id_column else None
    if ids is not None and len(np.unique(ids)) != len(ids):
        raise PredictionsError(f"{path}: column '{id_column}' repeats row ids")
    columns = {c: table[c].to_numpy() if c in names else None for c in (TRUTH, PREDICTION, SCORE)}
    return PredictionsFile(path, ids, Predictions(columns[TRUTH], columns[PREDICTION], columns[SCORE]))


def pair(base: PredictionsFile, head: PredictionsFile) -> tuple[Predictions, Predictions] | None:
    """Both sides row-aligned when they hold the same rows, else None (the comparison is then unpaired)."""
    import numpy as np

    if base.ids is not None and head.ids is not None:
        try:
            orders = align(base.ids, head.ids)
        except TypeError:  # ids of incomparable types (numbers at one side, text at the other)
            return None
        if orders is None:
            return None
        return take_rows(base.predictions, orders[0]), take_rows(head.predictions, orders[1])
    if base.ids is None and head.ids is None and np.array_equal(base.predictions.y_true, head.predictions.y_true):
        return base.predictions, head.predictions
    return None
