"""The training resource timeline `mlgate train` records: peak and mean figures, and one Mermaid chart.

Mermaid's xychart has one y-axis, so the chart shows percentages: CPU (100 = one core busy), memory as a
share of its peak, and GPU utilisation; the absolute figures stand in the table beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlgate.report import charts
from mlgate.report.evidence import as_number
from mlgate.report.markdown import bytes_size

MAX_CHART_POINTS = 100


def columns(raw: Any) -> dict[str, list[float]]:
    """The timeline's numeric columns of equal length (t first); anything malformed gives {}."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("t"), list):
        return {}
    length = len(raw["t"])
    found: dict[str, list[float]] = {}
    for name, values in raw.items():
        if isinstance(values, list) and len(values) == length:
            numbers = [as_number(value) for value in values]
            if all(number is not None for number in numbers):
                found[name] = [float(number) for number in numbers if number is not None]
    return found if "t" in found else {}


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _mib(value: float) -> str:
    return bytes_size(value * 2**20)


# (column, row title, how a value is shown): levels whose mean and peak the table gives
LEVELS = (
    ("cpu_percent", "CPU (mean / peak, 100% = one core)", _percent),
    ("rss_bytes", "memory over time (mean / peak)", bytes_size),
    ("gpu_utilization_percent", "GPU busy (mean / peak)", _percent),
    ("gpu_memory_mib", "GPU memory (mean / peak)", _mib),
)


def figures(timeline: Mapping[str, list[float]]) -> list[list[str]]:
    """Table rows: mean and peak of each level, totals of disk bytes."""
    rows = []
    for name, title, shown in LEVELS:
        values = timeline.get(name)
        if values:
            rows.append([title, f"{shown(sum(values) / len(values))} / {shown(max(values))}"])
    if "read_bytes" in timeline and "write_bytes" in timeline:
        read, written = sum(timeline["read_bytes"]), sum(timeline["write_bytes"])
        rows.insert(2, ["disk read / written", f"{bytes_size(read)} / {bytes_size(written)}"])
    return rows


def _thin(values: Sequence[float], size: int) -> list[float]:
    """At most `size` values: the largest of each of `size` equal runs (peaks survive, as in the table)."""
    if len(values) <= size:
        return list(values)
    step = len(values) / size
    return [max(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)]) for i in range(size)]


def chart(timeline: Mapping[str, list[float]], interval_seconds: float | None) -> str | None:
    """One line chart over the run's seconds, or None when the run was too short for two points."""
    times = timeline.get("t", [])
    if len(times) < 2:
        return None
    series: list[tuple[str, list[float]]] = []
    if "cpu_percent" in timeline:
        series.append(("CPU %", _thin(timeline["cpu_percent"], MAX_CHART_POINTS)))
    rss = timeline.get("rss_bytes")
    if rss and max(rss) > 0:
        series.append(("memory, % of its peak", _thin([v / max(rss) * 100 for v in rss], MAX_CHART_POINTS)))
    if "gpu_utilization_percent" in timeline:
        series.append(("GPU busy %", _thin(timeline["gpu_utilization_percent"], MAX_CHART_POINTS)))
    if not series:
        return None
    end = times[-1] + (interval_seconds or 0)
    return charts.series_chart("Resources during training", "%", ("seconds", 0, round(end, 1)), series)
