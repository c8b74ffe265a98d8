"""What one window of the production log accumulates, batch by batch, in memory that does not grow with its rows:
feature and prediction sketches, latency and payload quantiles, error and row counts, and a seeded uniform
sample (at most `quality_rows`) of the labelled rows, for the quality intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.config.model import MonitorColumns
from mlgate.monitor.sketches import CategoricalSketch, NumericSketch, Sketch, TableSketch, new_sketch
from mlgate.monitor.windows import Window

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_ERROR_WORDS = ("", "0", "false", "no", "none", "null", "ok")


@dataclass(frozen=True)
class Roles:
    """The log's column of each role (monitor.columns; None: not logged), and the features with their drift kind
    (the reference's)."""

    features: dict[str, str]  # column -> numeric | categorical
    columns: MonitorColumns
    prediction_kind: str = "categorical"

    def names(self) -> list[str]:
        """Every log column to read but the timestamp."""
        c = self.columns
        named = (c.prediction, c.score, c.label, c.latency_ms, c.status, c.error, c.request_bytes)
        return list(dict.fromkeys([*self.features, *(name for name in named if name)]))


@dataclass
class LabelledSample:
    """Up to `capacity` labelled rows, each kept with the same probability (the rows with the smallest seeded
    random keys), so the sample is uniform over the window whatever its size."""

    capacity: int
    seed: int
    rows: int = 0  # labelled rows seen
    keys: Any = None
    columns: dict[str, Any] = field(default_factory=dict)  # y_true, y_pred, y_score -> numpy arrays

    def add(self, arrays: dict[str, np.ndarray]) -> None:
        import numpy as np

        n = len(arrays["y_true"])
        if not n:
            return
        rng = np.random.default_rng([self.seed, self.rows])
        keys = rng.random(n)
        self.rows += n
        if self.keys is None:
            self.keys, self.columns = keys, dict(arrays)
        else:
            self.keys = np.concatenate((self.keys, keys))
            self.columns = {k: np.concatenate((self.columns[k], arrays[k])) for k in arrays}
        if len(self.keys) > self.capacity:
            keep = np.sort(np.argpartition(self.keys, self.capacity)[: self.capacity])
            self.keys = self.keys[keep]
            self.columns = {k: v[keep] for k, v in self.columns.items()}


def _errors(columns: MonitorColumns, data: dict[str, pa.Array]) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    failed = None
    if columns.status:
        status = data[columns.status]
        codes = pc.cast(status, pa.float64(), safe=False) if not pa.types.is_floating(status.type) else status
        failed = pc.fill_null(pc.greater_equal(codes, 500), False)
    if columns.error:
        column = data[columns.error]
        if pa.types.is_boolean(column.type):
            flagged = pc.fill_null(column, False)
        else:
            text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
            flagged = pc.invert(pc.fill_null(pc.is_in(text, pa.array(_ERROR_WORDS)), True))
        failed = flagged if failed is None else pc.or_(failed, flagged)
    return 0 if failed is None else int(pc.sum(failed).as_py() or 0)


@dataclass
class WindowStats:
    window: Window
    roles: Roles
    quality_rows: int
    seed: int = 0
    rows: int = 0
    errors: int = 0
    features: TableSketch = field(init=False)
    prediction: Sketch | None = field(init=False, default=None)
    score: NumericSketch | None = field(init=False, default=None)
    latency: NumericSketch | None = field(init=False, default=None)
    request_bytes: NumericSketch | None = field(init=False, default=None)
    labelled: LabelledSample = field(init=False)

    def __post_init__(self) -> None:
        roles, c = self.roles, self.roles.columns
        self.features = TableSketch(dict(roles.features))
        self.prediction = new_sketch(roles.prediction_kind) if c.prediction else None
        self.score = NumericSketch() if c.score else None
        self.latency = NumericSketch() if c.latency_ms else None
        self.request_bytes = NumericSketch() if c.request_bytes else None
        self.labelled = LabelledSample(self.quality_rows, self.seed + self.window.start)

    def add(self, data: dict[str, pa.Array]) -> None:
        """One slice of a batch, every row of it in this window."""
        import numpy as np

        c = self.roles.columns
        self.rows += len(next(iter(data.values()))) if data else 0
        self.features.update(data)
        for role, sketch in (
            (c.prediction, self.prediction),
            (c.score, self.score),
            (c.latency_ms, self.latency),
            (c.request_bytes, self.request_bytes),
        ):
            if role and sketch is not None:
                sketch.update(data[role])
        self.errors += _errors(c, data)
        if c.label and (c.prediction or c.score):
            label = data[c.label]
            present = label.is_valid()
            if label.null_count < len(label):
                arrays = {"y_true": label.filter(present).to_numpy(zero_copy_only=False)}
                if c.prediction:
                    arrays["y_pred"] = data[c.prediction].filter(present).to_numpy(zero_copy_only=False)
                if c.score:
                    arrays["y_score"] = np.asarray(
                        data[c.score].filter(present).to_numpy(zero_copy_only=False), dtype=float
                    )
                self.labelled.add(arrays)


def is_categorical(sketch: Sketch | None) -> bool:
    return isinstance(sketch, CategoricalSketch)
