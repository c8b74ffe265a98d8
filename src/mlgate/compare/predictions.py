"""Per-row predictions files (`metrics.predictions`): row id, y_true, y_pred and/or y_score.

CSV, TSV or Parquet. Rows pair up between base and head by the row-id column (`row_id` or `id`); without
one, rows pair by position only when both files hold the same y_true in the same order.
"""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def parse_predictions(data: bytes, path: str) -> PredictionsFile:
    import numpy as np
    import pandas as pd

    suffix = posixpath.splitext(path)[1].lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            frame = pd.read_csv(io.BytesIO(data), sep="\t" if suffix == ".tsv" else ",")
    except Exception as exc:  # pandas/pyarrow raise many types for a broken file; all mean "cannot read"
        raise PredictionsError(f"{path}: cannot be read as a table ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if TRUTH not in frame.columns:
        raise PredictionsError(f"{path}: has no '{TRUTH}' column (columns: {', '.join(frame.columns)})")
    if PREDICTION not in frame.columns and SCORE not in frame.columns:
        raise PredictionsError(f"{path}: needs a '{PREDICTION}' or '{SCORE}' column next to '{TRUTH}'")
    present = [c for c in (TRUTH, PREDICTION, SCORE) if c in frame.columns]
    for column in present:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise PredictionsError(f"{path}: column '{column}' is empty in data row {row + 1}")
    if SCORE in frame.columns and not pd.api.types.is_numeric_dtype(frame[SCORE]):
        raise PredictionsError(f"{path}: column '{SCORE}' must hold numbers (probabilities)")
    id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    ids = frame[id_column].to_numpy() if id_column else None
    if ids is not None and len(np.unique(ids)) != len(ids):
        raise PredictionsError(f"{path}: column '{id_column}' repeats row ids")
    columns = {c: frame[c].to_numpy() if c in frame.columns else None for c in (TRUTH, PREDICTION, SCORE)}
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
