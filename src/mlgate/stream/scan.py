"""One pass over a data source (or one partition of it), batch by batch, into a DatasetSummary."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.stream.source import Piece, Rescan, Source
from mlgate.stream.summary import DatasetSummary

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgate.checks.schema import DataSchema

# Of data.memory_budget, each of a file's two hash samples may take this share: the four samples of train and
# test a quarter of the budget, folding a batch into one costs it about once more; the rest is for the record
# batches in flight (one per core and one being read), Arrow's read buffers and the sketches.
HASH_SAMPLE_SHARE = 1 / 16


@dataclass(frozen=True)
class Partition:
    index: int  # 0-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Partition:
        """`i/n` with 1 <= i <= n, as a matrix job numbers its runners (1-based)."""
        head, slash, tail = text.partition("/")
        if not slash or not head.strip().isdigit() or not tail.strip().isdigit():
            raise InputError(f"--partition '{text}' is not of the form i/n (for example 1/4)")
        index, count = int(head), int(tail)
        if not 1 <= index <= count:
            raise InputError(f"--partition '{text}': i must be between 1 and n")
        return cls(index - 1, count)

    def select(self, pieces: Sequence[Piece]) -> list[Piece]:
        """The index-th of `count` contiguous runs of pieces (some runs are empty when pieces are fewer)."""
        size = len(pieces)
        return list(pieces[self.index * size // self.count : (self.index + 1) * size // self.count])

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"


def schema_ranges(schema: DataSchema | None) -> dict[str, tuple[float, float]]:
    """The numeric ranges of a schema file, as the strict schema check tests them."""
    if schema is None:
        return {}
    return {
        rule.name: (-math.inf if rule.min is None else rule.min, math.inf if rule.max is None else rule.max)
        for rule in schema.columns
        if rule.min is not None or rule.max is not None
    }


def summarize(
    source: Source,
    name: str,
    features: Sequence[str],
    *,
    budget: int,
    ranges: Mapping[str, tuple[float, float]],
    partition: Partition | None = None,
) -> DatasetSummary:
    """Every batch of `source` (or of its partition) summarized; a CSV column found wider, or a row longer than
    a block, restarts the scan.

    The columns of a batch are summarized by a pool of threads, one per core: Arrow's kernels and numpy's
    release the GIL; the next batch is read meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(_cores(), thread_name_prefix="mlgate-columns") as pool:
        return _summarize(source, name, features, budget=budget, ranges=ranges, partition=partition, map=pool.map)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _prefetched(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches of `batches`, each read by a thread of its own while the one before is summarized."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="mlgate-reader") as reader:
        pending = reader.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = reader.submit(next, batches, None)
            yield batch


def _summarize(
    source: Source,
    name: str,
    features: Sequence[str],
    *,
    budget: int,
    ranges: Mapping[str, tuple[float, float]],
    partition: Partition | None,
    map: Callable[..., Iterable[Any]],
) -> DatasetSummary:
    while True:
        summary = DatasetSummary.empty(
            name,
            source.name,
            source.format,
            source.schema,
            features,
            budget=int(budget * HASH_SAMPLE_SHARE),
            ranges=ranges,
        )
        pieces = source.pieces()
        try:
            for batch in _prefetched(source.batches(partition.select(pieces) if partition else pieces)):
                summary.update(batch, map)
            return summary.finish()
        except Rescan as signal:
            source.adjust(signal)
