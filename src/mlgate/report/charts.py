"""Mermaid `xychart-beta` charts, which GitHub renders itself inside comments: no image host needed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mlgate.report.markdown import fenced, text

_UNSAFE_LABEL = re.compile(r'["\\\n\r\[\]`]')


def _label(value: str) -> str:
    """A quoted Mermaid string; Mermaid has no escape for `"`, so such characters are replaced."""
    return '"' + _UNSAFE_LABEL.sub("'", value)[:60] + '"'


def _value(value: float) -> str:
    """A plain decimal: Mermaid's grammar has no exponent notation."""
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _axis_range(values: Sequence[float]) -> tuple[float, float]:
    """A y-range with some room, so that two close values still show as different (and equal ones still draw)."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.25 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def xychart(title: str, y_title: str, labels: Sequence[str], values: Sequence[float], kind: str) -> str:
    """One series (`line` or `bar`) of `values` over the x-axis `labels`, as a ```mermaid block."""
    low, high = _axis_range(values)
    body = "\n".join(
        [
            "xychart-beta",
            f"    title {_label(title)}",
            f"    x-axis [{', '.join(_label(label) for label in labels)}]",
            f"    y-axis {_label(y_title)} {_value(low)} --> {_value(high)}",
            f"    {kind} [{', '.join(_value(value) for value in values)}]",
        ]
    )
    return fenced("mermaid", body)


def history_chart(metric: str, branch: str, points: Sequence[tuple[str, float]], head: float | None) -> str:
    """The metric on the base branch's recent commits, oldest first, then this pull request's head."""
    labels = [sha for sha, _ in points]
    values = [value for _, value in points]
    if head is not None:
        labels.append("this PR")
        values.append(head)
    return xychart(f"{metric} on {branch} and this PR", metric, labels, values, "line")


def base_head_chart(metric: str, base: float, head: float) -> str:
    return xychart(f"{metric}: base vs head", metric, ["base", "head"], [base, head], "bar")


# Mermaid's xychart has no legend: each series gets a fixed colour (readable on light and dark backgrounds)
# and the caption under the chart names them in that order.
SERIES_COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")
SERIES_NAMES = ("blue", "orange", "green", "purple")


def series_chart(
    title: str,
    y_title: str,
    x_axis: tuple[str, float, float] | Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    kind: str = "line",
) -> str:
    """Several series of equal length over one x-axis: numeric `(title, low, high)` (points spread evenly
    over it, as Mermaid places them) or category labels; a caption names each series by its colour."""
    values = [value for _, points in series for value in points]
    low, high = _axis_range(values)
    if isinstance(x_axis, tuple):
        x_title, x_low, x_high = x_axis
        x_line = f"x-axis {_label(x_title)} {_value(x_low)} --> {_value(x_high)}"
    else:
        x_line = f"x-axis [{', '.join(_label(label) for label in x_axis)}]"
    palette = ", ".join(SERIES_COLOURS[: len(series)])
    body = "\n".join(
        [
            '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + palette + '"}}}}%%',
            "xychart-beta",
            f"    title {_label(title)}",
            f"    {x_line}",
            f"    y-axis {_label(y_title)} {_value(low)} --> {_value(high)}",
            *(f"    {kind} [{', '.join(_value(value) for value in points)}]" for _, points in series),
        ]
    )
    legend = " · ".join(f"{colour}: {text(name)}" for colour, (name, _) in zip(SERIES_NAMES, series, strict=False))
    return fenced("mermaid", body) + f"\n\n<sub>{legend}</sub>"
