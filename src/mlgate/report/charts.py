"""Mermaid `xychart-beta` charts, which GitHub renders itself inside comments: no image host needed.

Every chart in a report goes through `xychart`, so all share one style: explicit colours set through Mermaid's
init directive (the default theme draws the first series in #ECECFF, invisible on a white page), chosen to keep
a contrast of at least 3:1 against both GitHub's light (#ffffff) and dark (#0d1117) page, on a transparent
background; and a size that fits a pull-request page (at most MAX_HEIGHT pixels tall).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.report.markdown import fenced, text

# Contrast against #ffffff / #0d1117, by WCAG's relative luminance: every colour is ≥ 3:1 on both.
BLUE = "#1f6feb"  # 4.6 / 4.1: the series a chart is about
ORANGE = "#d9480f"  # 4.3 / 4.4: what stands out (this pull request, a failing rule)
GREY = "#7d8590"  # 3.7 / 5.1: references (zero, the base), axes and text
PURPLE = "#8250df"  # 5.1 / 3.8: a second series
WIDTH = 720
HEIGHT = 240
MAX_HEIGHT = 300  # a chart taller than this pushes the rest of the report off the screen
MAX_TICKS = 9  # y-axis labels that fit the plot of a HEIGHT-tall chart without overlapping

_TEXT_PARTS = ("title", *(f"{axis}Axis{part}" for axis in "xy" for part in ("Label", "Title", "Tick", "Line")))
_UNSAFE_LABEL = re.compile(r'["\\\n\r\[\]`]')


@dataclass(frozen=True)
class Series:
    kind: str  # line | bar
    values: Sequence[float]
    colour: str


def label(value: str) -> str:
    """A quoted Mermaid string; Mermaid has no escape for `"`, so such characters are replaced."""
    return '"' + _UNSAFE_LABEL.sub("'", value)[:60] + '"'


def value(number: float) -> str:
    """A plain decimal: Mermaid's grammar has no exponent notation."""
    text = f"{number:.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tick_count(low: float, high: float) -> int:
    """How many y-axis labels Mermaid draws for the range: d3's `scale.ticks()` (10 requested, nice steps)."""
    step = (high - low) / 10
    power = math.floor(math.log10(step))
    error = step / 10**power
    factor = 10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else 2 if error >= math.sqrt(2) else 1
    increment = factor * 10**power
    return math.floor(high / increment) - math.ceil(low / increment) + 1


def axis_range(values: Sequence[float], *, include: Sequence[float] = ()) -> tuple[float, float]:
    """A y-range with some room, so that two close values still show as different (and equal ones still draw):
    the least room at which Mermaid's axis has few enough labels not to print them over each other."""
    low, high = min([*values, *include]), max([*values, *include])
    span = (high - low) or abs(high) * 0.1 or 1.0
    for step in range(60):
        pad = span * (0.05 + 0.02 * step)
        if tick_count(low - pad, high + pad) <= MAX_TICKS:
            break
    return low - pad, high + pad


def init_directive(colours: Sequence[str], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The `%%{init: …}%%` line: the theme variables for series `colours` (in series order) and the size."""
    if height > MAX_HEIGHT:
        raise ValueError(f"a chart {height} px tall does not fit the report (at most {MAX_HEIGHT} px)")
    variables = {
        "backgroundColor": "transparent",
        "plotColorPalette": ", ".join(colours),
        **{f"{part}Color": GREY for part in _TEXT_PARTS},
    }
    config = {
        "theme": "base",
        "themeVariables": {"xyChart": variables},
        "xyChart": {
            "width": width,
            "height": height,
            "titleFontSize": 16,
            "useMaxWidth": True,
            "yAxis": {"labelFontSize": 12},
        },
    }
    return f"%%{{init: {json.dumps(config)}}}%%"


def xychart(
    title: str,
    x_labels: Sequence[str] | tuple[str, float, float],
    y_title: str,
    series: Sequence[Series],
    *,
    y_range: tuple[float, float] | None = None,
    height: int = HEIGHT,
    width: int = WIDTH,
) -> str:
    """Series (lines and bars, drawn in order: later ones on top) over categorical `x_labels`, or over a numeric
    axis `(title, low, high)` across which Mermaid spreads each series' values evenly, as ```mermaid."""
    low, high = y_range or axis_range([number for one in series for number in one.values])
    if isinstance(x_labels, tuple):
        x_title, x_low, x_high = x_labels
        x_axis = f"{label(str(x_title))} {value(float(x_low))} --> {value(float(x_high))}"
    else:
        x_axis = f"[{', '.join(label(name) for name in x_labels)}]"
    lines = [
        init_directive([one.colour for one in series], width=width, height=height),
        "xychart-beta",
        f"    title {label(title)}",
        f"    x-axis {x_axis}",
        f"    y-axis {label(y_title)} {value(low)} --> {value(high)}",
        *(f"    {one.kind} [{', '.join(value(number) for number in one.values)}]" for one in series),
    ]
    return fenced("mermaid", "\n".join(lines))


MIN_TREND_POINTS = 3  # fewer points make a line that says less than the table
_NOTHING_GAP = 10.0  # bars this many axis-ranges below the axis are not drawn: an empty slot


def _blank(index: int) -> str:
    """An x label that shows nothing but stays unique (Mermaid merges equal labels into one slot)."""
    return "\u200b" * (index + 1)


def trend_chart(metric: str, branch: str, points: Sequence[tuple[str, float]], head: float | None) -> str:
    """The metric on the base branch's recent commits, oldest first, then this pull request's head as a
    highlighted bar at the end of the line."""
    labels = [sha for sha, _ in points]
    values = [number for _, number in points]
    if head is not None:
        labels.append("this PR")
        values.append(head)
    low, high = axis_range(values)
    nothing = low - (high - low) * _NOTHING_GAP
    series = [Series("line", values, BLUE)]
    if head is not None:
        series.append(Series("bar", [nothing] * (len(values) - 1) + [head], ORANGE))
    return xychart(f"{metric} on {branch}, then this PR", labels, metric, series, y_range=(low, high))


@dataclass(frozen=True)
class Scored:
    """A gated metric's change in multiples of what its rule allows, signed so that up is better."""

    metric: str
    change: float
    interval: tuple[float, float] | None
    failed: bool


def scored(
    metric: str,
    delta: float,
    allowed: float,
    direction: str,
    interval: tuple[float, float] | None,
    failed: bool,
) -> Scored:
    sign = 1 if direction == "higher" else -1
    ends = sorted(sign * bound / allowed for bound in interval) if interval else None
    return Scored(metric, sign * delta / allowed, (ends[0], ends[1]) if ends else None, failed)


def gated_chart(rows: Sequence[Scored]) -> str | None:
    """All gated metrics in ONE chart on a common scale — each change in multiples of its rule's allowed change,
    up is better, the limit at −1 — with its interval's two ends as grey bars either side."""
    if not rows:
        return None
    values = [number for row in rows for number in (row.change, *(row.interval or ()))]
    low, high = axis_range(values, include=(0.0, -1.0))
    nothing = low - (high - low) * _NOTHING_GAP
    labels: list[str] = []
    ends: list[float] = []
    passed: list[float] = []
    failed: list[float] = []
    for index, row in enumerate(rows):
        if index:
            labels.append(_blank(3 * index))
            ends.append(nothing)
            passed.append(nothing)
            failed.append(nothing)
        low_end, high_end = row.interval or (nothing, nothing)
        labels += [_blank(3 * index + 1), row.metric, _blank(3 * index + 2)]
        ends += [low_end, nothing, high_end]
        passed += [nothing, nothing if row.failed else row.change, nothing]
        failed += [nothing, row.change if row.failed else nothing, nothing]
    count = len(labels)
    series = [
        Series("bar", ends, GREY),
        Series("bar", passed, BLUE),
        Series("bar", failed, ORANGE),
        Series("line", [0.0] * count, GREY),
        Series("line", [-1.0] * count, ORANGE),
    ]
    chart = xychart("Gated metrics: change ÷ allowed change (up is better)", labels, "× allowed", series,
                    y_range=(low, high))  # fmt: skip
    caption = (
        "<sub>Each bar is the change at head in multiples of what its rule allows (blue passed, orange failed); "
        "the grey bars either side are its interval's ends; the orange line at −1 is the limit, the grey line "
        "at 0 the base.</sub>"
    )
    return f"{chart}\n\n{caption}"


# Mermaid's xychart has no legend, so series_chart's caption names each series by its colour: the base (a
# reference) grey, head blue, further series (several y fields) purple and orange.
SERIES_COLOURS = ((GREY, "grey"), (BLUE, "blue"), (PURPLE, "purple"), (ORANGE, "orange"))


def series_chart(
    title: str,
    y_title: str,
    x_axis: tuple[str, float, float] | Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    kind: str = "line",
) -> str:
    """Named series of equal length over a numeric or categorical x-axis, with a caption naming each colour."""
    drawn = [Series(kind, values, colour) for (_, values), (colour, _) in zip(series, SERIES_COLOURS, strict=False)]
    named = zip(series, SERIES_COLOURS, strict=False)
    legend = " · ".join(f"{colour_name}: {text(series_name)}" for (series_name, _), (_, colour_name) in named)
    return xychart(title, x_axis, y_title, drawn) + f"\n\n<sub>{legend}</sub>"
