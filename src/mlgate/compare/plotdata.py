"""DVC plot datapoints base vs head, reduced to what a report can draw: a shared grid, categories, counts.

Mermaid's xychart spreads every series evenly over the x-axis, one value per position, so base and head must
have the same number of values at the same x positions. Curves are therefore put on one grid over both
sides' x range; a grid of at most MAX_POINTS values per series keeps each bucket's lowest and highest value
(in x order), so spikes and the overall minimum and maximum survive any amount of downsampling.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 100
MAX_CATEGORIES = 40


@dataclass(frozen=True)
class Series:
    name: str
    x: list[float]
    y: list[float]


def number(value: Any) -> float | None:
    """A datapoint field as a float (DVC reads CSV/TSV values as strings); None when it is not a number."""
    if isinstance(value, bool):
        return float(value)
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def series_of(datapoints: Sequence[Mapping[str, Any]], x: str, y: str, key: Sequence[str]) -> list[Series]:
    """One series per distinct `key` fields (revision, file, field), sorted by x; non-numeric points are dropped."""
    grouped: dict[str, list[tuple[float, float]]] = {}
    for point in datapoints:
        xv, yv = number(point.get(x)), number(point.get(y))
        if xv is None or yv is None:
            continue
        name = " · ".join(str(point[k]) for k in key if point.get(k) not in (None, ""))
        grouped.setdefault(name, []).append((xv, yv))
    found = []
    for name, pairs in grouped.items():
        pairs.sort(key=lambda pair: pair[0])
        found.append(Series(name, [p[0] for p in pairs], [p[1] for p in pairs]))
    return found


def _evenly_spaced(xs: Sequence[float]) -> bool:
    if len(xs) < 3:
        return True
    step = (xs[-1] - xs[0]) / (len(xs) - 1)
    return step > 0 and all(math.isclose(b - a, step, rel_tol=1e-6, abs_tol=1e-9) for a, b in itertools.pairwise(xs))


def _interpolate(series: Series, at: float) -> float:
    """y at x `at` on the series' polyline; outside its x range, its nearest end value."""
    if at <= series.x[0]:
        return series.y[0]
    if at >= series.x[-1]:
        return series.y[-1]
    right = bisect.bisect_left(series.x, at)
    x0, x1, y0, y1 = series.x[right - 1], series.x[right], series.y[right - 1], series.y[right]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (at - x0) / (x1 - x0)


def _bucketed(series: Series, low: float, high: float, buckets: int) -> list[float]:
    """Two values per bucket of [low, high]: its points' lowest and highest y in x order (one point: twice;
    none: the interpolated value at the bucket's centre)."""
    width = (high - low) / buckets
    values = []
    for index in range(buckets):
        start = bisect.bisect_left(series.x, low + index * width)
        end = bisect.bisect_left(series.x, low + (index + 1) * width) if index < buckets - 1 else len(series.x)
        if start >= end:
            middle = _interpolate(series, low + (index + 0.5) * width)
            values += [middle, middle]
            continue
        ys = series.y[start:end]
        lowest, highest = ys.index(min(ys)), ys.index(max(ys))
        first, second = sorted((lowest, highest))
        values += [ys[first], ys[second]]
    return values


def grid(series: Sequence[Series], size: int = MAX_POINTS) -> dict[str, Any] | None:
    """The series on one x grid of at most `size` values each: {x_min, x_max, series: [{name, values}]}.
    Series that already share the same evenly spaced x values of at most `size` points are kept as they are."""
    drawn = [s for s in series if s.x]
    if not drawn:
        return None
    low, high = min(s.x[0] for s in drawn), max(s.x[-1] for s in drawn)
    same = all(s.x == drawn[0].x for s in drawn)
    if same and len(drawn[0].x) <= size and _evenly_spaced(drawn[0].x):
        columns = [s.y for s in drawn]
    elif high == low:
        columns = [[s.y[-1]] for s in drawn]
    else:
        columns = [_bucketed(s, low, high, size // 2) for s in drawn]
    return {
        "x_min": low,
        "x_max": high,
        "series": [{"name": s.name, "values": values} for s, values in zip(drawn, columns, strict=True)],
    }


def side_summary(series: Series) -> dict[str, Any]:
    """What the chart alone cannot show: how many points a side had, over which x, and its last value."""
    return {"name": series.name, "points": len(series.x), "x_min": series.x[0], "x_max": series.x[-1],
            "last": series.y[-1]}  # fmt: skip


def bars(datapoints: Sequence[Mapping[str, Any]], value: str, category: str, sides: Sequence[str]) -> dict | None:
    """A bar plot (DVC's bar_horizontal: `value` per `category`) as categories × one value per side."""
    totals: dict[str, dict[str, float]] = {side: {} for side in sides}
    for point in datapoints:
        amount, side = number(point.get(value)), point.get("rev")
        if amount is not None and side in totals and point.get(category) is not None:
            totals[side][str(point[category])] = amount
    categories = list(dict.fromkeys(c for side in sides for c in totals[side]))[:MAX_CATEGORIES]
    if not categories:
        return None
    series = [
        {"name": side, "values": [totals[side].get(c, 0.0) for c in categories]} for side in sides if totals[side]
    ]
    return {"categories": categories, "series": series}


def confusion(datapoints: Sequence[Mapping[str, Any]], actual: str, predicted: str, sides: Sequence[str]) -> dict:
    """Counts per (actual, predicted) label for each side: {side: [{actual, predicted, count}]}."""
    counts: dict[str, Counter[tuple[str, str]]] = {side: Counter() for side in sides}
    for point in datapoints:
        side = point.get("rev")
        if side in counts and point.get(actual) is not None and point.get(predicted) is not None:
            counts[side][(_label(point[actual]), _label(point[predicted]))] += 1
    return {
        side: [{"actual": a, "predicted": p, "count": n} for (a, p), n in sorted(found.items())]
        for side, found in counts.items()
        if found
    }


def _label(value: Any) -> str:
    """A class label as text; `1` and `1.0` (CSV vs JSON of the same labels) are the same class."""
    as_float = number(value)
    if as_float is not None and as_float.is_integer():
        return str(int(as_float))
    return str(value)
