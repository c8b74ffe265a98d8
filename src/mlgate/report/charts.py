"""Mermaid `xychart-beta` charts, which GitHub renders itself inside comments: no image host needed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mlgate.report.markdown import fenced

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
