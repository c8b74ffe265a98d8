"""Summaries of a data file built one record batch at a time; two summaries of parts of a file merge exactly.

Per column: rows, nulls and NaNs (exact), min and max, the distinct values with their rows (exact up to
COUNT_CAP distinct values; past it the column is high-cardinality and the first COUNT_CAP values are kept as
examples), an HLL distinct count, and for numbers a KLL quantile sketch (Apache DataSketches) plus exact
count, mean and sum of squares (Chan's merge). Per file: two hash samples, of the features both files share
(leakage) and of whole rows (duplicates).

Why a hash sample: a row's 64-bit hash decides whether it is kept (hash below a threshold), so every copy of
a row, in train, in test and in every partition, is kept or dropped together, and the kept rows of two
partitions merge into the kept rows of both. While the distinct hashes fit the memory budget the threshold is
2**64 (every row, exact); past it the threshold drops to the budget's worth of smallest hashes (a bottom-k
sample), and counts are estimated from it with a stated error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.checks.columns import NUMERIC_KINDS, kind_of
from mlgate.checks.pii import PATTERNS, PiiHit, scan_distinct, scan_many, scannable
from mlgate.checks.quality import temporal_ticks
from mlgate.stream.numeric import NumericSketch

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# Distinct values counted exactly per column; the category checks need at most 50, the label check 20.
COUNT_CAP = 1000
# HLL registers 2**14: relative standard error 1.04 / 128 = 0.8%.
HLL_PRECISION = 14
HASH_SPACE = 1 << 64
# A kept row costs its hash (8 bytes) and its count (4 bytes).
BYTES_PER_HASH = 12
_NULL_HASH = 0x9E3779B97F4A7C15
_HASH_MULTIPLIER = 0x100000001B3
_FMIX = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)
_COMPACT_ROWS = 1 << 20


def _fmix(bits: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: every input bit reaches every output bit (uint64 arithmetic wraps)."""
    import numpy as np

    shift = np.uint64(33)
    bits = bits ^ (bits >> shift)
    bits = bits * np.uint64(_FMIX[0])
    bits = bits ^ (bits >> shift)
    bits = bits * np.uint64(_FMIX[1])
    return bits ^ (bits >> shift)


def column_hash(array: pa.Array) -> np.ndarray:
    """One uint64 per row; equal values hash equal in any batch and any file (1 and 1.0 included)."""
    import numpy as np
    import pyarrow.compute as pc

    kind = kind_of(array.type)
    if kind == "datetime":
        return _with_nulls(_fmix(temporal_ticks(array).view(np.uint64)), array)
    if kind in ("integer", "number", "boolean"):
        return number_hash(dense_numbers(array), array)
    return text_hash(pc.dictionary_encode(array), array)


def dense_numbers(array: pa.Array) -> np.ndarray:
    """A numeric (or boolean) column as float64, nulls as NaN."""
    import pyarrow as pa

    return array.cast(pa.float64()).to_numpy(zero_copy_only=False)


def number_hash(dense: np.ndarray, array: pa.Array) -> np.ndarray:
    """column_hash of a numeric column from its dense_numbers."""
    import numpy as np

    numbers = dense + 0.0  # -0.0 is 0.0
    numbers[np.isnan(numbers)] = np.nan  # one NaN bit pattern
    return _with_nulls(_fmix(numbers.view(np.uint64)), array)


def text_hash(encoded: pa.DictionaryArray, array: pa.Array) -> np.ndarray:
    """column_hash of any other column from its dictionary encoding: each distinct value is hashed once."""
    import numpy as np
    from pandas.util import hash_array

    dictionary = encoded.dictionary
    if not len(dictionary):
        return np.full(len(array), _NULL_HASH, dtype=np.uint64)
    distinct = hash_array(dictionary.to_numpy(zero_copy_only=False).astype(object))
    return _with_nulls(distinct[encoded.indices.fill_null(0).to_numpy()], array)


def _with_nulls(hashes: np.ndarray, array: pa.Array) -> np.ndarray:
    import numpy as np

    if array.null_count:
        hashes = np.where(array.is_null().to_numpy(zero_copy_only=False), np.uint64(_NULL_HASH), hashes)
    return hashes


def _code_counts(encoded: pa.DictionaryArray) -> np.ndarray:
    """Rows per dictionary entry of a dictionary encoding (nulls are not entries)."""
    import numpy as np

    codes = encoded.indices.drop_null().to_numpy()
    return np.bincount(codes, minlength=len(encoded.dictionary)).astype(np.int64)


def combine(start: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Mix one more column's hashes into row hashes (FNV-style multiply-xor)."""
    import numpy as np

    return (start * np.uint64(_HASH_MULTIPLIER)) ^ column


def _hll_update(registers: np.ndarray, hashes: np.ndarray) -> None:
    import numpy as np

    index = (hashes >> np.uint64(64 - HLL_PRECISION)).astype(np.intp)
    rest = (hashes << np.uint64(HLL_PRECISION)).astype(np.float64)
    # floor(log2(rest)) is the float's exponent field (rest == 0: exponent -1023, capped below); 63 - it is
    # the leading zeros.
    exponent = (rest.view(np.int64) >> 52) - 1023
    rank = np.minimum(64 - exponent, 64 - HLL_PRECISION + 1).astype(np.uint8)
    np.maximum.at(registers, index, rank)


def hll_estimate(registers: np.ndarray) -> int:
    """HyperLogLog's estimate with the small-range (linear counting) correction."""
    import numpy as np

    m = len(registers)
    raw = 0.7213 / (1 + 1.079 / m) * m * m / float(np.sum(np.exp2(-registers.astype(np.float64))))
    empty = int(np.count_nonzero(registers == 0))
    return round(m * math.log(m / empty)) if raw <= 2.5 * m and empty else round(raw)


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


@dataclass
class ColumnSummary:
    name: str
    type: pa.DataType
    ranges: tuple[tuple[float, float], ...] = ()  # schema ranges whose outside values are counted
    rows: int = 0
    nulls: int = 0
    nans: int = 0
    low: Any = None  # smallest present value (NaN skipped), None when there is none
    high: Any = None
    counts: dict[Any, int] = field(default_factory=dict)  # first-seen order; NaN is counted in `nans`
    overflowed: bool = False  # more than COUNT_CAP distinct values: `counts` holds examples, not counts
    pii: dict[str, list] = field(default_factory=dict)  # kind -> [rows, masked example], once overflowed
    outside: list[int] = field(default_factory=list)  # per range
    numbers: NumericSketch | None = None  # numeric columns: KLL quantiles and exact moments
    hll: Any = None  # filled once the column overflows COUNT_CAP (below it the counts are exact)

    def __post_init__(self) -> None:
        import numpy as np

        if self.hll is None:
            self.hll = np.zeros(1 << HLL_PRECISION, dtype=np.uint8)
        if self.numbers is None and self.numeric:
            self.numbers = NumericSketch()
        if not self.outside:
            self.outside = [0] * len(self.ranges)

    @property
    def kind(self) -> str:
        return kind_of(self.type)

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def missing(self) -> int:
        return self.nulls + self.nans

    @property
    def distinct_count(self) -> int:
        """Distinct present values: exact below COUNT_CAP, HLL's estimate above (NaN counts as one value)."""
        if self.overflowed:
            return hll_estimate(self.hll)
        return len(self.counts) + (1 if self.nans else 0)

    def update(self, array: pa.Array) -> np.ndarray:
        """Add a batch of the column; its rows' hashes (column_hash), for the row hashes of the file."""
        import pyarrow.compute as pc

        self.rows += len(array)
        self.nulls += array.null_count
        if self.numbers is not None:
            hashes = self._add_numbers(array)
            self._count(array)
        elif self.kind == "string":
            # Dictionary-encoded once: the hashes, counts and bounds all come from the distinct values.
            encoded = pc.dictionary_encode(array)
            hashes = text_hash(encoded, array)
            self._bounds(encoded.dictionary)
            self._count_distinct(encoded.dictionary, _code_counts(encoded))
        else:
            hashes = column_hash(array)
            self._bounds(array)
            self._count(array)
        if self.overflowed:
            _hll_update(self.hll, hashes)
        return hashes

    def _bounds(self, array: pa.Array) -> None:
        import pyarrow.compute as pc

        bounds = pc.min_max(array)
        if bounds["min"].is_valid:
            self._widen(bounds["min"].as_py(), bounds["max"].as_py())

    def _widen(self, low: Any, high: Any) -> None:
        self.low = low if self.low is None or low < self.low else self.low
        self.high = high if self.high is None or high > self.high else self.high

    def _add_numbers(self, array: pa.Array) -> np.ndarray:
        """The numeric statistics of a batch, from one float64 copy of it; its hashes."""
        import numpy as np
        import pyarrow as pa

        dense = dense_numbers(array)
        missing = np.isnan(dense)
        values = self.numbers.add(dense[~missing], int(np.count_nonzero(missing)))
        if pa.types.is_floating(array.type):
            self.nans += len(array) - array.null_count - len(values)
            if len(values):  # sorted: NaN skipped, as Arrow's min_max skips it
                self._widen(float(values[0]), float(values[-1]))
        else:
            self._bounds(array)  # integers keep their type (and precision past 2**53)
        for position, (low, high) in enumerate(self.ranges):
            self.outside[position] += int(np.count_nonzero((values < low) | (values > high)))
        return number_hash(dense, array)

    def _count(self, array: pa.Array) -> None:
        import pyarrow.compute as pc

        if self.overflowed:
            self._scan_pii(array)
            return
        counted = pc.value_counts(array.drop_null())
        self._count_distinct(counted.field("values"), counted.field("counts").to_numpy())

    def _count_distinct(self, values: pa.Array, counts: np.ndarray) -> None:
        """Add a batch's distinct present values (first-seen order) and their rows."""
        if self.overflowed:
            self._scan_pii_distinct(values, counts)
            return
        if len(values) > COUNT_CAP or (
            len(self.counts) + len(values) > COUNT_CAP and len(set(self.counts) | set(values.to_pylist())) > COUNT_CAP
        ):
            self._overflow()
            self._scan_pii_distinct(values, counts)
            values, counts = values.slice(0, COUNT_CAP), counts[:COUNT_CAP]  # examples only from here
        self._absorb_counts(zip(values.to_pylist(), counts.tolist(), strict=True))

    def _absorb_counts(self, pairs: Iterable[tuple[Any, int]]) -> None:
        for value, count in pairs:
            if _is_nan(value):
                continue
            if value in self.counts:
                self.counts[value] += count
            elif not self.overflowed or len(self.counts) < COUNT_CAP:
                self.counts[value] = count

    def _overflow(self) -> None:
        """From here on the column's PII is scanned and its HLL filled batch by batch; what was counted so far
        is scanned and hashed into the HLL once."""
        self.overflowed = True
        self._absorb_distinct(self)

    def _absorb_distinct(self, column: ColumnSummary) -> None:
        """The PII scan and HLL of an overflowed column take the exactly counted values of `column`."""
        import numpy as np

        if column.counts:
            keys = column._values_array()
            self._scan_pii_distinct(keys, np.array(list(column.counts.values()), dtype=np.int64))
            _hll_update(self.hll, column_hash(keys))

    def _values_array(self) -> pa.Array:
        import pyarrow as pa

        return pa.array(list(self.counts), type=self.type)

    def _scan_pii(self, array: pa.Array) -> None:
        import pyarrow.compute as pc

        text = scannable(array)
        if text is not None:
            counted = pc.value_counts(text.drop_null())
            self._add_hits(scan_distinct(self.name, counted.field("values"), counted.field("counts").to_numpy()))

    def _scan_pii_distinct(self, values: pa.Array, counts: np.ndarray) -> None:
        text = scannable(values)
        if text is not None:
            self._add_hits(scan_distinct(self.name, text, counts))

    def _add_hits(self, hits: Iterable[PiiHit]) -> None:
        for hit in hits:
            tally = self.pii.setdefault(hit.kind, [0, hit.example])
            tally[0] += hit.rows

    def distinct_text(self) -> tuple[pa.Array, np.ndarray] | None:
        """Every distinct value as text and its rows, for the PII scan; None past the cap of kept values (the
        batches' tallies count the PII then), without values, or when the scan does not apply."""
        import numpy as np

        if self.overflowed or not self.counts:
            return None
        text = scannable(self._values_array())
        return None if text is None else (text, np.array(list(self.counts.values()), dtype=np.int64))

    def tallied_pii_hits(self) -> list[PiiHit]:
        """The PII the batches found, for a column whose distinct values were not all kept."""
        return [PiiHit(self.name, kind, *self.pii[kind]) for kind in PATTERNS if kind in self.pii]

    def category_counts(self) -> dict[Any, int] | None:
        """Rows per distinct present value (NaN included, as Arrow's value_counts has it), None past the cap."""
        if self.overflowed:
            return None
        return self.counts | ({math.nan: self.nans} if self.nans else {})

    def merge(self, other: ColumnSummary) -> None:
        """Fold in the summary of later rows of the same column (same type, same ranges)."""
        import numpy as np

        self.rows += other.rows
        self.nulls += other.nulls
        self.nans += other.nans
        if other.low is not None:
            self._widen(other.low, other.high)
        if self.numbers is not None:
            self.numbers.merge(other.numbers)
            self.outside = [a + b for a, b in zip(self.outside, other.outside, strict=True)]
        np.maximum(self.hll, other.hll, out=self.hll)
        self._merge_counts(other)

    def _merge_counts(self, other: ColumnSummary) -> None:

        if not self.overflowed and not other.overflowed and len(set(self.counts) | set(other.counts)) <= COUNT_CAP:
            self._absorb_counts(other.counts.items())
            return
        if not self.overflowed:
            self._overflow()
        if not other.overflowed:
            self._absorb_distinct(other)
        for kind, (rows, example) in other.pii.items():
            tally = self.pii.setdefault(kind, [0, example])
            tally[0] += rows
        self._absorb_counts(other.counts.items())

    # ---- facts for the schema check (mlgate.checks.schema.ColumnFacts) ---------------------------------------

    def bounds(self) -> tuple[float, float] | None:
        return None if self.low is None else (self.low, self.high)

    def distinct(self, limit: int) -> list | None:
        return list(self.counts) if not self.overflowed and len(self.counts) <= limit else None

    def outside_count(self, low: float, high: float) -> int:
        return self.outside[self.ranges.index((low, high))]

    def unlisted(self, allowed: set[str]) -> tuple[list[tuple[str, int]], bool]:
        return [(value, count) for value, count in self.counts.items() if value not in allowed], not self.overflowed


def pii_hits(columns: Iterable[ColumnSummary]) -> list[PiiHit]:
    """The PII found in every row of each column, in the order the in-memory scan reports it: the columns whose
    distinct values were all kept are scanned together (scan_many), the others give their batches' tallies."""
    columns = list(columns)
    kept = {column.name: text for column in columns if (text := column.distinct_text()) is not None}
    scanned: dict[str, list[PiiHit]] = {}
    for hit in scan_many([(name, *text) for name, text in kept.items()]):
        scanned.setdefault(hit.column, []).append(hit)
    return [
        hit
        for column in columns
        for hit in (column.tallied_pii_hits() if column.overflowed else scanned.get(column.name, []))
    ]


class SchemaFacts:
    """A ColumnSummary as mlgate.checks.schema sees a column."""

    def __init__(self, column: ColumnSummary) -> None:
        self.column = column
        self.kind = column.kind
        self.nulls = column.nulls
        self.missing = column.missing

    def bounds(self) -> tuple[float, float] | None:
        return self.column.bounds()

    def distinct(self, limit: int) -> list | None:
        return self.column.distinct(limit)

    def outside(self, low: float, high: float) -> int:
        return self.column.outside_count(low, high)

    def unlisted(self, allowed: set[str]) -> tuple[list[tuple[str, int]], bool]:
        return self.column.unlisted(allowed)


@dataclass
class HashSample:
    """The distinct 64-bit hashes below `threshold`, each with its rows: every row while the budget holds."""

    budget: int  # bytes
    threshold: int = HASH_SPACE
    hashes: Any = None  # sorted, distinct uint64
    counts: Any = None  # uint32, rows per hash
    seen: int = 0  # rows offered, kept or not
    _pending: list = field(default_factory=list)
    _pending_rows: int = 0

    def __post_init__(self) -> None:
        import numpy as np

        if self.hashes is None:
            self.hashes = np.empty(0, dtype=np.uint64)
            self.counts = np.empty(0, dtype=np.uint32)

    def add(self, hashes: np.ndarray) -> None:
        import numpy as np

        self.seen += len(hashes)
        if self.threshold < HASH_SPACE:
            hashes = hashes[hashes < np.uint64(self.threshold)]
        self._pending.append(hashes)
        self._pending_rows += len(hashes)
        # Pending rows are folded in once they are a quarter of the kept ones (or _COMPACT_ROWS): a fold costs
        # a pass over the kept hashes, and its memory is the kept hashes once more plus a few copies of these.
        if self._pending_rows >= max(min(len(self.hashes), self.limit) // 4, _COMPACT_ROWS):
            self.finish()

    def finish(self) -> None:
        import numpy as np

        if not self._pending:
            return
        batch = np.concatenate(self._pending)
        self._pending, self._pending_rows = [], 0
        distinct, counts = np.unique(batch, return_counts=True)
        self._absorb(distinct, counts.astype(np.uint32))

    @property
    def limit(self) -> int:
        """How many distinct hashes the budget holds."""
        return max(self.budget // BYTES_PER_HASH, 1)

    def _absorb(self, hashes: np.ndarray, counts: np.ndarray) -> None:
        """Fold in sorted distinct hashes with their rows: counts of hashes already kept grow in place, the
        others are inserted in order (no sort of the whole: the kept hashes are copied once)."""
        import numpy as np

        if self.threshold < HASH_SPACE:
            keep = hashes < np.uint64(self.threshold)
            hashes, counts = hashes[keep], counts[keep]
        if not len(hashes):
            return
        at = np.searchsorted(self.hashes, hashes)
        known = at < len(self.hashes)
        known[known] = self.hashes[at[known]] == hashes[known]
        self.counts[at[known]] += counts[known].astype(np.uint32)
        fresh = ~known
        self.hashes = np.insert(self.hashes, at[fresh], hashes[fresh])
        self.counts = np.insert(self.counts, at[fresh], counts[fresh].astype(np.uint32))
        limit = self.limit
        if len(self.hashes) > limit:  # keep the `limit` smallest hashes: the threshold drops to the next one
            self.threshold = int(self.hashes[limit])
            self.hashes, self.counts = self.hashes[:limit].copy(), self.counts[:limit].copy()

    def merge(self, other: HashSample) -> None:
        self.finish()
        other.finish()
        self.seen += other.seen
        self.threshold = min(self.threshold, other.threshold)
        self._absorb(other.hashes, other.counts)

    def restrict(self, threshold: int) -> tuple[np.ndarray, np.ndarray]:
        """The kept hashes and counts below a (lower) threshold, to compare two samples on equal terms."""
        import numpy as np

        self.finish()
        end = (
            len(self.hashes) if threshold >= self.threshold else int(np.searchsorted(self.hashes, np.uint64(threshold)))
        )
        return self.hashes[:end], self.counts[:end]  # views: the hashes are sorted

    @property
    def exact(self) -> bool:
        return self.threshold >= HASH_SPACE

    @property
    def fraction(self) -> float:
        return self.threshold / HASH_SPACE


@dataclass
class DatasetSummary:
    """Everything the checks need of one file (or of some partitions of it)."""

    role: str  # "train" or "test"
    path: str
    format: str
    schema: pa.Schema
    features: tuple[str, ...]  # hashed first, for leakage; the other columns extend the hash for duplicates
    columns: dict[str, ColumnSummary]
    feature_hashes: HashSample
    row_hashes: HashSample
    rows: int = 0
    batches: int = 0

    @classmethod
    def empty(
        cls,
        role: str,
        path: str,
        format: str,
        schema: pa.Schema,
        features: Sequence[str],
        *,
        budget: int,
        ranges: Mapping[str, tuple[float, float]] | None = None,
    ) -> DatasetSummary:
        """`budget` bytes for each of the two hash samples; `ranges` are the schema's numeric rules."""
        ranges = ranges or {}
        columns = {
            field.name: ColumnSummary(
                field.name, _plain(field.type), (ranges[field.name],) if field.name in ranges else ()
            )
            for field in schema
        }
        return cls(role, path, format, schema, tuple(features), columns, HashSample(budget), HashSample(budget))

    @property
    def name(self) -> str:
        return self.path

    def update(self, batch: pa.RecordBatch, map: Callable[..., Iterable[Any]] = map) -> None:
        """Add a record batch; `map` runs the columns' updates (a thread pool's map runs them side by side:
        each column is its own summary, and its batches still arrive in order)."""
        import numpy as np

        columns = list(self.columns.values())
        arrays = [_decoded(batch.column(column.name)) for column in columns]
        hashes = dict(zip(self.columns, map(ColumnSummary.update, columns, arrays), strict=True))
        combined = np.zeros(batch.num_rows, dtype=np.uint64)
        for name in self.features:
            combined = combine(combined, hashes[name])
        self.feature_hashes.add(combined)
        for name in self.columns:
            if name not in self.features:
                combined = combine(combined, hashes[name])
        self.row_hashes.add(combined)
        self.rows += batch.num_rows
        self.batches += 1

    def finish(self) -> DatasetSummary:
        self.feature_hashes.finish()
        self.row_hashes.finish()
        return self

    def merge(self, other: DatasetSummary) -> None:
        """Fold in the summary of later rows of the same data (the caller has checked the schemas agree)."""
        for name, column in self.columns.items():
            column.merge(other.columns[name])
        self.feature_hashes.merge(other.feature_hashes)
        self.row_hashes.merge(other.row_hashes)
        self.rows += other.rows
        self.batches += other.batches


def _plain(data_type: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    return data_type.value_type if pa.types.is_dictionary(data_type) else data_type


def _decoded(array: pa.Array) -> pa.Array:
    import pyarrow as pa

    return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array
