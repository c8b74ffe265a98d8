"""Seeded, stratified row samples for the checks that do not need every row (drift, deepchecks).

Strata are the label's classes (or its deciles for a numeric target); each stratum keeps its share of rows
(largest-remainder rounding, so the sample has exactly the requested size). Row order is preserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks.columns import NUMERIC_KINDS, kind_of

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_MAX_STRATA = 20
_NUMERIC_STRATA = 10


@dataclass(frozen=True)
class Sample:
    rows: int
    size: int
    seed: int
    stratified_by: str | None
    indices: Any = None  # numpy row indices, None when every row is kept

    @property
    def statement(self) -> str:
        if self.indices is None:
            return f"all {self.rows:,} rows"
        strata = f", stratified by '{self.stratified_by}'" if self.stratified_by else ""
        return f"{self.size:,} of {self.rows:,} rows, seed {self.seed}{strata}"

    def apply(self, table: pa.Table) -> pa.Table:
        return table if self.indices is None else table.take(self.indices)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "sampled": self.size,
            "seed": self.seed,
            "stratified_by": self.stratified_by,
            "statement": self.statement,
        }


def _strata_codes(column: pa.ChunkedArray) -> np.ndarray | None:
    """Stratum number per row, or None when the column cannot stratify (too many distinct values)."""
    import numpy as np
    import pyarrow.compute as pc

    distinct = pc.unique(column)
    if len(distinct) <= _MAX_STRATA:
        return pc.index_in(column, value_set=distinct, skip_nulls=False).fill_null(len(distinct)).to_numpy()
    if kind_of(column.type) in NUMERIC_KINDS:
        values = column.cast("float64").fill_null(np.nan).to_numpy()
        edges = np.nanquantile(values, np.linspace(0, 1, _NUMERIC_STRATA + 1)[1:-1])
        return np.searchsorted(edges, values)  # NaN sorts last: its own stratum
    return None


def stratified_sample(table: pa.Table, *, size: int, seed: int, strata: str | None) -> Sample:
    import numpy as np

    rows = table.num_rows
    if rows <= size:
        return Sample(rows=rows, size=rows, seed=seed, stratified_by=None)
    rng = np.random.default_rng(seed)
    codes = _strata_codes(table.column(strata)) if strata is not None and strata in table.column_names else None
    if codes is None:
        indices = np.sort(rng.choice(rows, size=size, replace=False))
        return Sample(rows=rows, size=size, seed=seed, stratified_by=None, indices=indices)
    counts = np.bincount(codes)
    exact = counts * (size / rows)
    quotas = np.floor(exact).astype(np.int64)
    quotas[np.argsort(quotas - exact)[: size - quotas.sum()]] += 1  # largest remainders get the leftover rows
    order = np.lexsort((rng.random(rows), codes))  # by stratum, randomly within it
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sorted_codes = codes[order]
    rank = np.arange(rows) - starts[sorted_codes]
    indices = np.sort(order[rank < quotas[sorted_codes]])
    return Sample(rows=rows, size=size, seed=seed, stratified_by=strata, indices=indices)
