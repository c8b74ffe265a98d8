"""Per-row predictions files (`metrics.predictions`): row id, y_true, y_pred and/or y_score.

CSV, TSV or Parquet. Rows pair up between base and head by the row-id column (`row_id` or `id`); without
one, rows pair by position only when both files hold the same y_true in the same order.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.compare.stats import Predictions, align, take_rows
from mlgate.inputfile import not_text

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
    problem = None if suffix == ".parquet" else not_text(data[:4096])
    if problem is not None:
        raise PredictionsError(f"{path}: {problem}, not CSV text")
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(pa.BufferReader(data), use_threads=False)
        import pyarrow.csv as pacsv

        # Single-threaded: the file is already in memory, and pyarrow's CSV thread pool was seen aborting the
        # interpreter at exit ("terminate called without an active exception") right after an input error.
        # One block for the whole file (up to Arrow's 2 GiB): a row longer than a block (1 MiB by default) fails.
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=max(1 << 20, min(len(data), 1 << 30))),
            parse_options=pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ","),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except (pa.ArrowException, OSError) as exc:
        raise PredictionsError(f"{path}: cannot be read as a table ({exc})") from None


def _scalar_column(table: Any, column: str, path: str) -> Any:
    """The column as numbers, strings or booleans (a dictionary-encoded one decoded); anything else (lists,
    structs, dates, binary) is refused, since comparing such values row by row means nothing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table[column]
    kind = values.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
        values = pc.cast(values, kind)
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
    ):
        raise PredictionsError(
            f"{path}: column '{column}' holds {kind} values; predictions must be scalar numbers, strings or booleans"
        )
    return values


def _check_probabilities(scores: Any, path: str) -> None:
    """y_score must be finite and within [0, 1]: it is a probability (log_loss, roc_auc read it so)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_integer(scores.type) and not pa.types.is_floating(scores.type):
        raise PredictionsError(f"{path}: column '{SCORE}' must hold numbers (probabilities)")
    wrong = pc.invert(pc.and_(pc.greater_equal(scores, 0), pc.less_equal(scores, 1)))
    if pa.types.is_floating(scores.type):
        wrong = pc.or_(wrong, pc.invert(pc.is_finite(scores)))  # NaN compares false, so it is caught above too
    if pc.any(wrong).as_py():
        row = pc.index(wrong, True).as_py()
        value = scores[row].as_py()
        raise PredictionsError(
            f"{path}: column '{SCORE}' holds {value} in data row {row + 1}, not a probability within [0, 1]"
        )


def parse_predictions(data: bytes, path: str) -> PredictionsFile:
    import numpy as np
    import pyarrow.compute as pc

    table = _read_table(data, path)
    names = [str(name).strip() for name in table.column_names]
    repeated = sorted({name for name in names if names.count(name) > 1} & {*ID_COLUMNS, TRUTH, PREDICTION, SCORE})
    if repeated:
        raise PredictionsError(f"{path}: column name '{repeated[0]}' appears more than once (after trimming spaces)")
    table = table.rename_columns(names)
    if TRUTH not in names:
        raise PredictionsError(f"{path}: has no '{TRUTH}' column (columns: {', '.join(names)})")
    if PREDICTION not in names and SCORE not in names:
        raise PredictionsError(f"{path}: needs a '{PREDICTION}' or '{SCORE}' column next to '{TRUTH}'")
    id_column = next((c for c in ID_COLUMNS if c in names), None)
    wanted = [c for c in (id_column, TRUTH, PREDICTION, SCORE) if c in names]
    for column in wanted:
        if table[column].null_count:
            row = pc.index(pc.is_null(table[column]), True).as_py()
            raise PredictionsError(f"{path}: column '{column}' is empty in data row {row + 1}")
    columns = {column: _scalar_column(table, column, path) for column in wanted}
    if SCORE in columns:
        _check_probabilities(columns[SCORE], path)
    ids = columns[id_column].to_numpy() if id_column else None
    if ids is not None and len(np.unique(ids)) != len(ids):
        raise PredictionsError(f"{path}: column '{id_column}' repeats row ids")
    arrays = {c: columns[c].to_numpy() if c in columns else None for c in (TRUTH, PREDICTION, SCORE)}
    return PredictionsFile(path, ids, Predictions(arrays[TRUTH], arrays[PREDICTION], arrays[SCORE]))


def value_kind(values: np.ndarray) -> str:
    """What a label column holds, in words: booleans, numbers or text."""
    kind = values.dtype.kind
    return "booleans" if kind == "b" else "numbers" if kind in "iuf" else "text"


def check_same_label_types(base: PredictionsFile, head: PredictionsFile) -> None:
    """Labels of one type at both sides: 0/1 at base and no/yes at head never compare equal, so every row
    would differ and any test of the change would be meaningless."""
    for column, at_base, at_head in (
        (TRUTH, base.predictions.y_true, head.predictions.y_true),
        (PREDICTION, base.predictions.y_pred, head.predictions.y_pred),
    ):
        if at_base is None or at_head is None or value_kind(at_base) == value_kind(at_head):
            continue
        raise PredictionsError(
            f"{head.path}: column '{column}' holds {value_kind(at_base)} at base and {value_kind(at_head)} at "
            "head: the labels must be of one type at both sides to be compared"
        )


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
