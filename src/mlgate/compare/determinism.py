"""The determinism audit: what differs between training runs of the same code, data, params and seed.

Each run is its metrics (file → flattened key → value) and, when the project writes per-row predictions, that
file's rows. A metric's spread is max − min over the runs; a prediction differs when any run's value in any
column of that row is not the first run's (scores within 1e-9 count as equal: float printing, not the model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCORE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Audit:
    runs: int
    spreads: dict[str, float]  # `file:key` → max − min over the runs (numeric metrics present in every run)
    predictions: int | None  # rows compared (None: no predictions file)
    differing: int  # rows whose prediction differs between runs

    @property
    def nondeterministic(self) -> bool:
        return self.differing > 0 or any(spread > 0 for spread in self.spreads.values())

    def summary(self) -> str:
        if not self.nondeterministic:
            rows = f" and {self.predictions} predictions" if self.predictions is not None else ""
            return f"deterministic: {self.runs} runs gave the same metrics{rows}"
        moved = sorted(((s, m) for m, s in self.spreads.items() if s > 0), reverse=True)
        parts = [f"{metric} varies by {spread:.4g}" for spread, metric in moved[:3]]
        if len(moved) > 3:
            parts.append(f"{len(moved) - 3} more metrics vary")
        if self.predictions is not None:
            parts.append(f"{self.differing} of {self.predictions} predictions differ")
        return f"nondeterministic over {self.runs} runs with the same seed: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "nondeterministic": self.nondeterministic,
            "spreads": self.spreads,
            "predictions": self.predictions,
            "differing_predictions": self.differing,
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return abs(float(a) - float(b)) <= SCORE_TOLERANCE
    except ValueError:
        return False


def audit(
    metrics: Sequence[Mapping[str, Mapping[str, Any]]], predictions: Sequence[Sequence[Sequence[str]]] | None
) -> Audit:
    """Compare the runs: `metrics` per run (file → key → value), `predictions` per run (rows of cells, header
    first), or None when the project writes none."""
    spreads: dict[str, float] = {}
    first = metrics[0]
    for file, values in first.items():
        for key in values:
            found = [_number(run.get(file, {}).get(key)) for run in metrics]
            if all(value is not None for value in found):
                numbers = [value for value in found if value is not None]
                spreads[f"{file}:{key}"] = max(numbers) - min(numbers)
    rows, differing = None, 0
    if predictions is not None:
        reference = predictions[0][1:]
        rows = len(reference)
        for index, row in enumerate(reference):
            for other in predictions[1:]:
                body = other[1:]
                if index >= len(body) or len(body[index]) != len(row) or not all(map(_same, row, body[index])):
                    differing += 1
                    break
        differing += max(0, max(len(run) - 1 for run in predictions) - rows)  # rows only later runs wrote
    return Audit(len(metrics), spreads, rows, differing)
