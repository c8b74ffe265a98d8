"""A data file, or a folder of partition files, read in record batches and split into pieces for fan-out.

A piece is one Parquet row group or one CSV file: `--partition i/n` takes the i-th of n contiguous runs of
pieces, so a Parquet file splits by its row groups and a folder by its files (a single CSV file is one piece).
Every file's schema is checked against the first one's before any row is read, so every partition of a
matrix fails the same way on a mismatched file, and names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.adapters.datafiles import (
    PARQUET_SUFFIXES,
    check_flat,
    check_header,
    larger_block,
    not_utf8,
    row_longer_than_block,
)
from mlgate.errors import InputError
from mlgate.inputfile import check_regular

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_ROWS = 1 << 17
CSV_SUFFIXES = (".csv",)
_CSV_BLOCK = 1 << 22
_PARQUET_BUFFER = 1 << 20
_MAX_ERROR_CHARS = 200
# A later CSV block that does not parse as the type inferred from the first block widens the column.
_WIDER = {
    "null": "int64",
    "int64": "double",
    "double": "string",
    "bool": "string",
    "timestamp[s]": "string",
    "date32[day]": "string",
}


@dataclass(frozen=True)
class Piece:
    file: Path
    row_group: int | None  # None: the whole (CSV) file


@dataclass
class Source:
    path: Path
    format: str  # "csv" or "parquet"
    files: tuple[Path, ...]
    schema: pa.Schema  # a CSV's types are inferred from the first file's first block, widened as needed
    block_size: int = _CSV_BLOCK  # bytes a CSV block holds: more than the longest row, grown as needed

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def columns(self) -> list[str]:
        return self.schema.names

    def pieces(self) -> list[Piece]:
        import pyarrow.parquet as pq

        if self.format == "csv":
            return [Piece(file, None) for file in self.files]
        return [
            Piece(file, index) for file in self.files for index in range(pq.ParquetFile(file).metadata.num_row_groups)
        ]

    def batches(self, pieces: list[Piece]) -> Iterator[pa.RecordBatch]:
        for piece in pieces:
            if piece.row_group is None:
                yield from self._csv_batches(piece.file)
            else:
                yield from _parquet_batches(piece)

    def _csv_batches(self, file: Path) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        types = {field.name: field.type for field in self.schema}
        try:
            reader = pacsv.open_csv(
                file,
                read_options=pacsv.ReadOptions(block_size=self.block_size),
                convert_options=pacsv.ConvertOptions(column_types=types),
            )
            yield from reader
        except UnicodeDecodeError:
            raise not_utf8(file) from None
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "UTF8" in message or "UTF-8" in message:
                raise not_utf8(file) from None
            if row_longer_than_block(message, file, self.block_size):
                raise LargerBlocks(larger_block(file, self.block_size)) from None
            widened = self._widen(message)
            if widened is not None:
                raise widened from None
            raise InputError(f"is not a readable CSV file ({_shorten(message)})", file=file) from None

    def adjust(self, signal: Rescan) -> None:
        """Take what a scan found out about the files (a wider column type, a longer row) before the next."""
        import pyarrow as pa

        if isinstance(signal, LargerBlocks):
            self.block_size = signal.block_size
            return
        index = self.schema.get_field_index(signal.column)
        self.schema = self.schema.set(index, self.schema.field(index).with_type(pa.type_for_alias(signal.wider)))

    def _widen(self, message: str) -> WidenColumn | None:
        """The column a conversion error names, one type wider; None when it names none that can widen."""
        import re

        found = re.search(r"In CSV column #(\d+): CSV conversion error to ([\w\[\]]+)", message)
        if not found:
            return None
        name, current = self.schema.names[int(found.group(1))], found.group(2)
        if current not in _WIDER:
            return None
        return WidenColumn(name, _WIDER[current])


class Rescan(Exception):
    """A CSV file turned out other than its first block said: the scan restarts with the source adjusted."""


class WidenColumn(Rescan):
    """A column is wider than its first block's type."""

    def __init__(self, column: str, wider: str) -> None:
        super().__init__(f"{column} -> {wider}")
        self.column, self.wider = column, wider


class LargerBlocks(Rescan):
    """A row is longer than a block."""

    def __init__(self, block_size: int) -> None:
        super().__init__(f"block size {block_size}")
        self.block_size = block_size


def memory_estimate(path: Path) -> int:
    """Bytes a data file would take in memory: Parquet's uncompressed size, else the size on disk (a file
    that cannot be read counts as its size: the reader reports what is wrong with it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        return 0
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            metadata = pq.ParquetFile(path).metadata
            return sum(metadata.row_group(index).total_byte_size for index in range(metadata.num_row_groups))
        except (pa.ArrowInvalid, OSError):
            pass
    return path.stat().st_size


def _parquet_batches(piece: Piece) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Read through a 1 MiB buffer, not a whole column chunk at a time: half of Arrow's memory, no slower.
        parquet = pq.ParquetFile(piece.file, buffer_size=_PARQUET_BUFFER)
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[piece.row_group])
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot be read as Parquet ({_shorten(str(exc))})", file=piece.file) from None


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _data_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "_")) for part in relative.parts) or path.is_dir():
            continue  # hidden files and Spark's _SUCCESS markers
        if path.suffix.lower() not in (*PARQUET_SUFFIXES, *CSV_SUFFIXES):
            raise InputError(f"holds '{relative}', which is neither CSV nor Parquet", file=folder)
        files.append(path)
    if not files:
        raise InputError("is a folder without CSV or Parquet files", file=folder)
    return files


def _format_of(path: Path, files: list[Path]) -> str:
    formats = {"parquet" if file.suffix.lower() in PARQUET_SUFFIXES else "csv" for file in files}
    if len(formats) > 1:
        raise InputError("mixes CSV and Parquet files; a data set is one or the other", file=path)
    return formats.pop()


def _file_schema(file: Path, format: str, block: int = _CSV_BLOCK) -> tuple[pa.Schema, int]:
    """The file's schema, and the CSV block size that holds its header (the first block's rows give the types)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if check_regular(file, "data file").st_size == 0:  # a FIFO or device would block or never end
        raise InputError("is empty", file=file)
    try:
        if format == "parquet":
            return pq.ParquetFile(file).schema_arrow.remove_metadata(), block
        return pacsv.open_csv(file, read_options=pacsv.ReadOptions(block_size=block)).schema, block
    except UnicodeDecodeError:
        raise not_utf8(file) from None
    except PermissionError:
        raise InputError("cannot be read (permission denied)", file=file) from None
    except (pa.ArrowInvalid, OSError) as exc:
        message = str(exc)
        if format == "csv" and ("UTF8" in message or "UTF-8" in message):
            raise not_utf8(file) from None
        if format == "csv" and row_longer_than_block(message, file, block):
            return _file_schema(file, format, larger_block(file, block))
        if format == "csv":
            if "Empty CSV file" in message:
                raise InputError("is empty", file=file) from None
            raise InputError(f"is not a readable CSV file ({_shorten(message)})", file=file) from None
        raise InputError("is not a Parquet file (its suffix says Parquet, its bytes do not)", file=file) from None


def _difference(schema: pa.Schema, first: pa.Schema, first_file: Path, compare_types: bool) -> str | None:
    if schema.names != first.names:
        missing = [name for name in first.names if name not in schema.names]
        extra = [name for name in schema.names if name not in first.names]
        if missing:
            return f"it lacks column '{missing[0]}' that {first_file} has"
        if extra:
            return f"it has column '{extra[0]}' that {first_file} lacks"
        return f"its columns are in another order than in {first_file}"
    if compare_types:
        for field_here, field_first in zip(schema, first, strict=True):
            if field_here.type != field_first.type:
                return f"column '{field_here.name}' is {field_here.type} here, {field_first.type} in {first_file}"
    return None


def open_source(path: Path) -> Source:
    """The file or folder at `path`, every file's header read and held against the first file's."""
    files = _data_files(path) if path.is_dir() else [path]
    format = _format_of(path, files)
    first, block = _file_schema(files[0], format)
    check_header(files[0], first.names)
    check_flat(files[0], first)
    unified = CsvTypes(first, files[0])
    for file in files[1:]:
        schema, block = _file_schema(file, format, block)
        difference = _difference(schema, first, files[0], compare_types=format == "parquet")
        if difference is not None:
            raise InputError(f"has another schema than the rest of {path}: {difference}", file=file)
        if format == "csv":
            unified.add(schema, file)
    return Source(path, format, tuple(files), unified.schema if format == "csv" else first, block)


class CsvTypes:
    """One type per column for CSV partitions whose first blocks Arrow infers differently: integers in one and
    decimals in another read as decimals everywhere, an empty column takes the others' type, text in any
    partition makes the column text (as one file holding them all would read). Numbers, booleans and dates
    have no common type but text, which would quietly turn the column's checks into category checks: a
    partition that disagrees so is refused, naming it, the column and the partition it disagrees with."""

    def __init__(self, schema: pa.Schema, file: Path) -> None:
        self.schema = schema
        self.origin = dict.fromkeys(schema.names, file)  # the file that gave each column its type

    def add(self, schema: pa.Schema, file: Path) -> None:
        for index, (here, so_far) in enumerate(zip(schema, self.schema, strict=True)):
            if here.type != so_far.type:
                common = self._common(here.name, here.type, so_far.type, file)
                if common != so_far.type:
                    self.schema = self.schema.set(index, so_far.with_type(common))
                    self.origin[here.name] = file

    def _common(self, name: str, here: pa.DataType, so_far: pa.DataType, file: Path) -> pa.DataType:
        import pyarrow as pa

        from mlgate.checks.columns import kind_of

        if pa.types.is_string(here) or pa.types.is_string(so_far):
            return pa.string()
        if pa.types.is_temporal(here) and pa.types.is_temporal(so_far):
            return here if pa.types.is_timestamp(here) else so_far  # a timestamp parses dates too
        try:
            fields = [pa.schema([pa.field(name, here)]), pa.schema([pa.field(name, so_far)])]
            return pa.unify_schemas(fields, promote_options="permissive").field(name).type  # null, int -> double
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            raise InputError(
                f"column '{name}' holds {kind_of(here)} values ({here}) here but {kind_of(so_far)} values "
                f"({so_far}) in {self.origin[name]}: no type holds both but text; make the column one type in "
                "every partition",
                file=file,
            ) from None
