"""Read a production log in record batches: one CSV or Parquet file, or a folder of them (partitioned by date,
`date=2026-01-05/part.parquet` or `2026-01-05.csv`), files in name order, so memory stays flat in the rows.

Each batch comes with the mapped columns only and the timestamp as seconds since the epoch (float, UTC): a
timestamp type (naive ones are UTC), ISO 8601 text (with or without an offset; without is UTC) or numbers of
epoch seconds. A timestamp that does not parse, or one earlier than the row before it (the log is read in
order: within a file and across the sorted files), is bad input naming the file, row and value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 8 << 20
# Parquet pages are read through a buffer of this size, one column at a time on this thread: pyarrow's default
# (each column chunk read whole, columns decoded in parallel) held about a row group per column in flight,
# and its peak grew with the file: 357 MiB at 1M rows, 690 MiB at 10M (20 features, 1M-row row groups).
PARQUET_BUFFER_BYTES = 1 << 20


@dataclass(frozen=True)
class LogBatch:
    file: str  # shown in messages: the path as the user named it, or below it
    first_row: int  # 1-based row of the batch's first row in its file (CSV: data rows, header not counted)
    timestamps: np.ndarray  # float64 seconds since the epoch, UTC
    columns: dict[str, pa.Array]  # the mapped columns but the timestamp, by their names in the log


def log_files(path: Path) -> list[Path]:
    """The log's files: `path` itself, or every CSV/Parquet file below the folder, in name order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError("monitor.log: the production log does not exist (run monitor.data_command first?)", file=path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
    if not files:
        raise InputError("monitor.log: the folder holds no .csv or .parquet files", file=path)
    return files


def column_names(path: Path) -> list[str]:
    """The columns of one log file (its header, or its Parquet schema)."""
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    if FORMATS.get(path.suffix.lower()) == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    reader = csv.open_csv(path, read_options=csv.ReadOptions(block_size=1 << 16))
    return list(reader.schema.names)


def require_columns(files: Sequence[Path], mapping: dict[str, str | list[str]], shown: str) -> None:
    """Every mapped column is in the first file (a key naming a column the log lacks is a mapping error)."""
    try:
        names = column_names(files[0])
    except Exception as exc:  # pyarrow's errors: unreadable, not CSV, not Parquet
        raise InputError(f"the production log cannot be read: {exc}", file=files[0]) from None
    for key, value in mapping.items():
        for column in [value] if isinstance(value, str) else value:
            if column not in names:
                listed = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
                raise InputError(
                    f"monitor.columns.{key}: column '{column}' is not in the production log {shown} (it has {listed})",
                    file=files[0],
                )


def _raw_batches(path: Path, columns: list[str], timestamp: str) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    _use_jemalloc()
    if FORMATS.get(path.suffix.lower()) == "parquet":
        parquet = pq.ParquetFile(path, buffer_size=PARQUET_BUFFER_BYTES, pre_buffer=False)
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns, use_threads=False)
        return
    # Every block converts with the same types: text timestamps parse here, numbers stay numbers.
    reader = csv.open_csv(
        path,
        read_options=csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        convert_options=csv.ConvertOptions(include_columns=columns, column_types={timestamp: pa.string()}),
    )
    yield from reader


def _use_jemalloc() -> None:
    """pyarrow's jemalloc pool, where its build has one: with mimalloc (the default) the freed batches' memory
    was kept and the peak still grew by a third from 1M to 10M rows; with jemalloc by a sixth."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without it
        return
    if pa.default_memory_pool().backend_name != pool.backend_name:
        pa.set_memory_pool(pool)


def _bad_value(values: pa.Array, file: str, first_row: int, column: str) -> InputError:
    from datetime import datetime

    for offset, value in enumerate(values.to_pylist()):
        if value is None:
            return InputError(f"row {first_row + offset}: the timestamp column '{column}' is empty", file=file)
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return InputError(
                f"row {first_row + offset}: timestamp {value!r} in column '{column}' does not parse "
                "(ISO 8601 text, a timestamp type, or epoch seconds)",
                file=file,
            )
    return InputError(f"the timestamp column '{column}' does not parse", file=file)


def _mixed_offsets(values: pa.Array, file: str, first_row: int, column: str) -> np.ndarray:
    """Text timestamps some with an offset and some without (the slow path: one value at a time)."""
    from datetime import UTC, datetime

    import numpy as np

    seconds = np.empty(len(values))
    for offset, value in enumerate(values.to_pylist()):
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _bad_value(values, file, first_row, column) from None
        seconds[offset] = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return seconds


def epoch_seconds(values: pa.Array, file: str, first_row: int, column: str) -> np.ndarray:
    """The timestamps as float seconds since the epoch (UTC)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.null_count:
        raise _bad_value(values, file, first_row, column)
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return values.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            values = pc.cast(values, pa.timestamp("us", tz="UTC"))
        except pa.ArrowInvalid:
            try:  # no offset in the text: UTC
                values = pc.cast(values, pa.timestamp("us"))
            except pa.ArrowInvalid:
                return _mixed_offsets(values, file, first_row, column)
        kind = values.type
    if pa.types.is_date(kind):
        values, kind = pc.cast(values, pa.timestamp("s")), pa.timestamp("s")
    if not pa.types.is_timestamp(kind):
        raise InputError(f"the timestamp column '{column}' has type {kind}, not timestamps", file=file)
    micros = pc.cast(pc.cast(values, pa.timestamp("us", tz=kind.tz)), pa.int64())
    return np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6


def read_batches(files: Sequence[Path], root: Path, timestamp: str, columns: Sequence[str]) -> Iterator[LogBatch]:
    """The log's rows in order, batch by batch; non-monotonic timestamps are an InputError."""
    import numpy as np

    wanted = list(dict.fromkeys([timestamp, *columns]))
    last: tuple[float, str, int] | None = None
    for path in files:
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        row = 1
        try:
            for batch in _raw_batches(path, wanted, timestamp):
                if not batch.num_rows:
                    continue
                seconds = epoch_seconds(batch.column(timestamp), shown, row, timestamp)
                steps = np.flatnonzero(np.diff(seconds) < 0)
                before = last[0] if last is not None else -np.inf
                if seconds[0] < before or steps.size:
                    at = 0 if seconds[0] < before else int(steps[0]) + 1
                    previous = before if at == 0 else seconds[at - 1]
                    where = f"{last[1]} row {last[2]}" if at == 0 and last is not None else f"row {row + at - 1}"
                    raise InputError(
                        f"row {row + at}: timestamps go backwards ({_iso(seconds[at])} after {_iso(previous)} at "
                        f"{where}): the production log must be in time order",
                        file=shown,
                    )
                data = {name: batch.column(name) for name in wanted if name != timestamp}
                yield LogBatch(shown, row, seconds, data)
                row += batch.num_rows
                last = (float(seconds[-1]), shown, row - 1)
        except InputError:
            raise
        except Exception as exc:  # pyarrow: a block that does not convert, a corrupt file
            raise InputError(f"the production log cannot be read near row {row}: {exc}", file=shown) from None


def _iso(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(float(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
