"""Predictions files: CSV, TSV and Parquet; pairing by row id or by position; each defect named with its
file, column and row."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgate.compare.predictions import PredictionsError, pair, parse_predictions
from mlgate.compare.stats import paired_interval

CSV = b"row_id,y_true,y_pred,y_score\n3,1,1,0.9\n1,0,0,0.2\n2,1,0,0.4\n"


def test_csv_tsv_and_parquet_read_alike():
    from_csv = parse_predictions(CSV, "eval/p.csv")
    from_tsv = parse_predictions(CSV.replace(b",", b"\t"), "eval/p.tsv")
    buffer = io.BytesIO()
    columns = {"row_id": [3, 1, 2], "y_true": [1, 0, 1], "y_pred": [1, 0, 0], "y_score": [0.9, 0.2, 0.4]}
    pq.write_table(pa.table(columns), buffer)
    from_parquet = parse_predictions(buffer.getvalue(), "eval/p.parquet")
    for parsed in (from_csv, from_tsv, from_parquet):
        assert parsed.ids.tolist() == [3, 1, 2]
        assert parsed.predictions.y_true.tolist() == [1, 0, 1]
        assert parsed.predictions.y_pred.tolist() == [1, 0, 0]
        assert parsed.predictions.y_score.tolist() == [0.9, 0.2, 0.4]


def test_rows_pair_by_id_whatever_their_order():
    base = parse_predictions(CSV, "p.csv")
    head = parse_predictions(b"row_id,y_true,y_pred\n1,0,1\n2,1,1\n3,1,1\n", "p.csv")
    paired = pair(base, head)
    assert paired is not None
    assert paired[0].y_true.tolist() == paired[1].y_true.tolist() == [0, 1, 1]
    assert paired[0].y_pred.tolist() == [0, 0, 1] and paired[1].y_pred.tolist() == [1, 1, 1]
    other_rows = parse_predictions(b"row_id,y_true,y_pred\n1,0,1\n2,1,1\n4,1,1\n", "p.csv")
    assert pair(base, other_rows) is None


def test_without_ids_rows_pair_by_position_only_on_identical_truth():
    base = parse_predictions(b"y_true,y_pred\ncat,cat\ndog,cat\nemu,emu\n", "p.csv")
    same = parse_predictions(b"y_true,y_pred\ncat,dog\ndog,dog\nemu,emu\n", "p.csv")
    shuffled = parse_predictions(b"y_true,y_pred\ndog,dog\ncat,dog\nemu,emu\n", "p.csv")
    assert pair(base, same) is not None
    assert pair(base, shuffled) is None
    interval = paired_interval("accuracy", *pair(base, same), alpha=0.05, resamples=200, seed=0)
    assert interval.delta == 0 and interval.mcnemar.base_only == 1 and interval.mcnemar.head_only == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,label,y_pred\n1,0,0\n", "p.csv: has no 'y_true' column (columns: id, label, y_pred)"),
        (b"id,y_true\n1,0\n", "p.csv: needs a 'y_pred' or 'y_score' column next to 'y_true'"),
        (b"id,y_true,y_pred\n1,0,0\n2,,1\n", "p.csv: column 'y_true' is empty in data row 2"),
        (b"id,y_true,y_score\n1,0,high\n", "p.csv: column 'y_score' must hold numbers (probabilities)"),
        (b"id,y_true,y_pred\n1,0,0\n1,1,1\n", "p.csv: column 'id' repeats row ids"),
        (b"id,y_true,y_pred\n1,0\n", "p.csv: cannot be read as a table"),
    ],
)
def test_defects_are_named(content: bytes, message: str):
    with pytest.raises(PredictionsError) as error:
        parse_predictions(content, "p.csv")
    assert str(error.value).startswith(message)
