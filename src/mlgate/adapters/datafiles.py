"""Read the user's CSV or Parquet data into an Arrow table, turning every malformed input into one sentence.

The table stays columnar Arrow (compact, zero-copy to numpy for numbers); checks work one column at a time, so
peak memory is the table plus one column's temporaries. Nothing here is converted to pandas as a whole. The
UTF-8 check streams the file in fixed-size blocks, and only runs when Arrow has flagged undecodable text.
"""

from __future__ import annotations

import codecs
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.errors import InputError
from mlgate.inputfile import check_regular, not_text, size_text

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgate.adapters.dvc_repo import Project

PARQUET_SUFFIXES = (".parquet", ".pq")
# Delimiters people use instead of commas; a single header cell holding one of them means the wrong delimiter.
FOREIGN_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
_SCAN_BLOCK = 1 << 20
_CSV_BLOCK = 1 << 20
# Arrow parses CSV in blocks, and a row (or header) longer than a block fails ("straddling object", or "Empty
# CSV file or block" for the header): the read is retried with blocks 4x larger, up to this, the longest row read.
MAX_CSV_BLOCK = 1 << 28
_MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class DataFile:
    path: Path
    format: str  # "csv" or "parquet"
    table: pa.Table

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def rows(self) -> int:
        return self.table.num_rows

    @property
    def columns(self) -> list[str]:
        return self.table.column_names


def _first_bad_utf8_offset(path: Path) -> int | None:
    """Byte offset of the first invalid UTF-8 sequence, streaming the file block by block."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    with path.open("rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                # The decoder may hold back up to 3 bytes of an unfinished sequence from the previous block.
                pending = len(decoder.getstate()[0])
                return max(consumed - pending, 0) + exc.start
            consumed += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return consumed - len(exc.object) + exc.start
    return None


def not_utf8(path: Path) -> InputError:
    offset = _first_bad_utf8_offset(path)
    where = f" (bad byte at offset {offset})" if offset is not None else ""
    return InputError(f"is not UTF-8 text{where}; save it as UTF-8", file=path)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _arrow_file(path: Path) -> pa.NativeFile:
    """`path` opened for Arrow by its bytes: Arrow encodes a str path as strict UTF-8, so a file name that is
    not UTF-8 (Python holds its bytes as surrogates) would fail inside Arrow."""
    import pyarrow as pa

    return pa.OSFile(os.fsencode(path))


def row_longer_than_block(message: str, path: Path, block: int) -> bool:
    """Whether Arrow's CSV error reading `path` in blocks of `block` bytes means a row (or the header) did not
    fit in one (a file that fits in one block is empty or blank instead)."""
    too_long = "straddling object" in message or "cannot infer number of columns" in message
    return too_long and os.stat(path).st_size > block


def larger_block(path: Path, block: int) -> int:
    """The next block size to read the CSV `path` with, after `block` was too short for a row; past the
    longest row mlgate reads, an InputError naming the bound."""
    if block >= MAX_CSV_BLOCK:
        raise InputError(f"has a row longer than {size_text(MAX_CSV_BLOCK)}, the longest mlgate reads", file=path)
    return min(block * 4, MAX_CSV_BLOCK)


def _arrow_csv(path: Path, *, streaming: bool) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    block = _CSV_BLOCK
    while True:
        try:
            with _arrow_file(path) as source:
                options = pacsv.ReadOptions(block_size=block)
                if not streaming:
                    return pacsv.read_csv(source, read_options=options)
                reader = pacsv.open_csv(source, read_options=options)
                return pa.Table.from_batches(list(reader), schema=reader.schema)
        except pa.ArrowInvalid as exc:
            if not row_longer_than_block(str(exc), path, block):
                raise
            block = larger_block(path, block)


def _read_csv(path: Path) -> pa.Table:
    """Stream the CSV block by block (peak memory: the table plus a block, not the whole text as well).

    The streaming reader infers column types from the first block; when a later block disagrees (integers
    first, a decimal later), the whole-file reader, which re-infers across blocks, reads it instead.
    """
    import pyarrow as pa

    if path.stat().st_size == 0:
        raise InputError("is empty", file=path)
    with path.open("rb") as handle:
        problem = not_text(handle.read(4096))
    if problem is not None:
        raise InputError(f"{problem}, not CSV text", file=path)
    for streaming in (True, False):
        try:
            table = _arrow_csv(path, streaming=streaming)
            break
        except UnicodeDecodeError:  # raised while decoding the header row
            raise not_utf8(path) from None
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "Empty CSV file" in message:
                raise InputError("is empty", file=path) from None
            if "UTF8" in message or "UTF-8" in message:
                raise not_utf8(path) from None
            if not (streaming and "conversion error" in message):
                raise InputError(f"is not a readable CSV file ({_shorten(message)})", file=path) from None
    # Arrow keeps undecodable text as binary rather than failing; a CSV has no binary columns otherwise.
    if any(pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type) for field in table.schema):
        raise not_utf8(path)
    return table


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise InputError("is empty", file=path)
    try:
        with _arrow_file(path) as source:
            return pq.read_table(source)
    except (pa.ArrowInvalid, OSError) as exc:
        if "magic bytes" in str(exc) or "footer" in str(exc) or "Parquet" in str(exc):
            raise InputError("is not a Parquet file (its suffix says Parquet, its bytes do not)", file=path) from None
        raise InputError(f"cannot be read as Parquet ({_shorten(str(exc))})", file=path) from None


def _check_shape(path: Path, table: pa.Table) -> None:
    check_header(path, table.column_names)
    check_flat(path, table.schema)
    if table.num_rows == 0:
        raise InputError("has a header but no data rows", file=path)


def check_flat(path: Path, schema: pa.Schema) -> None:
    """Every column scalar: a Parquet list, struct or map column has no meaning for any check."""
    import pyarrow as pa

    nested = next((field for field in schema if pa.types.is_nested(field.type)), None)
    if nested is not None:
        raise InputError(
            f"column '{nested.name}' holds nested values ({nested.type}); mlgate checks flat columns only "
            "(numbers, text, booleans, dates)",
            file=path,
        )


def check_header(path: Path, names: list[str]) -> None:
    """Column names a data file must have: present, distinct, and not one name hiding another delimiter."""
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise InputError(f"column '{duplicates[0]}' appears more than once in the header", file=path)
    if len(names) == 1:
        for delimiter, spoken in FOREIGN_DELIMITERS.items():
            if delimiter in names[0]:
                raise InputError(
                    f"has a single column '{_shorten(names[0])}': the file looks delimited by {spoken}, "
                    "but mlgate reads comma-separated CSV",
                    file=path,
                )
    if "" in names:
        raise InputError(f"column {names.index('') + 1} has an empty name in the header", file=path)


def read_data_file(path: Path) -> DataFile:
    """Read CSV (default) or Parquet (by suffix) into Arrow, or raise an InputError naming the file."""
    check_regular(path, "data file")  # a FIFO or device would block or never end
    is_parquet = path.suffix.lower() in PARQUET_SUFFIXES
    try:
        table = _read_parquet(path) if is_parquet else _read_csv(path)
    except PermissionError:
        raise InputError("cannot be read (permission denied)", file=path) from None
    _check_shape(path, table)
    return DataFile(path=path, format="parquet" if is_parquet else "csv", table=table)


def require_label(data: DataFile, label: str) -> None:
    if label not in data.columns:
        shown = ", ".join(data.columns[:10]) + (", …" if len(data.columns) > 10 else "")
        raise InputError(f"label column '{label}' is not in the file (columns: {shown})", file=data.path)


def require_shared_columns(train: DataFile, test: DataFile) -> None:
    if not set(train.columns) & set(test.columns):
        raise InputError(
            f"has no column in common with {train.name}: they cannot be the same kind of data", file=test.path
        )


def read_table_at(project: Project, rev: str, relative: str, missing: str) -> pa.Table:
    """The data file `relative` at commit `rev` (from git, or DVC's cache or remote) as an Arrow table; an
    InputError saying `missing` when neither has it, and naming the file at that commit when it is malformed."""
    import tempfile

    from mlgate.adapters import dvc_repo

    content = dvc_repo.read_file(project, rev, relative)
    shown = f"{relative} at {rev[:7]}"
    if content is None:
        raise InputError(missing, file=shown)
    with tempfile.TemporaryDirectory(prefix="mlgate-reference-") as scratch:
        copy = Path(scratch) / Path(relative).name
        copy.write_bytes(content)
        try:
            return read_data_file(copy).table
        except InputError as exc:
            raise InputError(exc.message, file=shown) from None
