"""Mermaid `xychart-beta` charts, which GitHub renders itself inside comments: no image host needed.

Every chart in a report goes through `xychart`, so all share one style: explicit colours set through Mermaid's
init directive (the default theme draws the first series in #ECECFF, invisible on a white page), chosen to keep
a contrast of at least 3:1 against both GitHub's light (#ffffff) and dark (#0d1117) page, on a transparent
background; and a size that fits a pull-request page (at most MAX_HEIGHT pixels tall).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.report.markdown import fenced

# Contrast against #ffffff / #0d1117, by WCAG's relative luminance: every colour is ≥ 3:1 on both.
BLUE = "#1f6feb"  # 4.6 / 4.1: the series a chart is about
ORANGE = "#d9480f"  # 4.3 / 4.4: what stands out (this pull request, a failing rule)
GREY = "#7d8590"  # 3.7 / 5.1: references (zero, the base), axes and text
PURPLE = "#8250df"  # 5.1 / 3.8: a second series
WIDTH = 720
HEIGHT = 220
MAX_HEIGHT = 300  # a chart taller than this pushes the rest of the report off the screen

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


def axis_range(values: Sequence[float], *, include: Sequence[float] = ()) -> tuple[float, float]:
    """A y-range with some room, so that two close values still show as different (and equal ones still draw)."""
    low, high = min([*values, *include]), max([*values, *include])
    pad = (high - low) * 0.15 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def init_directive(colours: Sequence[str], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The `%%{init: …}%%` line: the theme variables for series `colours` (in series order) and the size."""
    if height > MAX_HEIGHT:
        raise ValueError(f"a chart {height} px tall does not fit the report (at most {MAX_HEIGHT} px)")
    variables = {
        "backgroundColor": "transparent",
        "plotColorPalette": ", ".join(colours),
        **{
            f"{part}Color": GREY
            for part in ("title", "xAxisLabel", "xAxisTitle", "xAxisTick", "xAxisLine")
            + ("yAxisLabel", "yAxisTitle", "yAxisTick", "yAxisLine")
        },
    }
    config = {
        "theme": "base",
        "themeVariables": {"xyChart": variables},
        "xyChart": {"width": width, "height": height, "titleFontSize": 16, "useMaxWidth": True},
    }
    return f"%%{{init: {json.dumps(config)}}}%%"


def xychart(
    title: str,
    x_labels: Sequence[str],
    y_title: str,
    series: Sequence[Series],
    *,
    y_range: tuple[float, float] | None = None,
    height: int = HEIGHT,
    width: int = WIDTH,
) -> str:
    """Series (lines and bars, drawn in order: later ones on top) over categorical `x_labels`, as ```mermaid."""
    low, high = y_range or axis_range([number for one in series for number in one.values])
    lines = [
        init_directive([one.colour for one in series], width=width, height=height),
        "xychart-beta",
        f"    title {label(title)}",
        f"    x-axis [{', '.join(label(name) for name in x_labels)}]",
        f"    y-axis {label(y_title)} {value(low)} --> {value(high)}",
        *(f"    {one.kind} [{', '.join(value(number) for number in one.values)}]" for one in series),
    ]
    return fenced("mermaid", "\n".join(lines))
