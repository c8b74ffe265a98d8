"""DVC plots base vs head, from what `mlgate compare` recorded: Mermaid charts, confusion tables, images.

Pure: the series arrive already put on one grid (mlgate.compare.plotdata); this module only draws. Each plot
gives one block: a Mermaid chart for curves and bars, a base → head table for confusion matrices, and the
full-fidelity PNG (or the image plot itself) when the report could publish it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.report import charts
from mlgate.report.evidence import as_mapping, as_number, as_text, records
from mlgate.report.markdown import DASH, code, details, number, signed, table, text
from mlgate.results import StepResult

MAX_CONFUSION_ROWS = 12
Link = Callable[[str], str | None]  # a stored image's path in the results folder → its URL, None: not published


@dataclass(frozen=True)
class PlotBlock:
    title: str
    chart: str | None  # Mermaid or a table: what GitHub draws itself
    images: tuple[tuple[str, str], ...]  # (caption, stored path) of full-fidelity renderings and image plots


def plot_items(result: StepResult) -> list[Mapping[str, Any]]:
    return records(as_mapping(result.evidence.get("plots")).get("items"), "id")


def plot_notes(result: StepResult) -> list[str]:
    """Why plots are missing: DVC could not read them, or some were left out."""
    raw = as_mapping(result.evidence.get("plots")).get("errors")
    return [str(note) for note in raw] if isinstance(raw, list) else []


def image_paths(results: Sequence[StepResult]) -> list[str]:
    """Every image the compare results point at, relative to their results folder."""
    paths = []
    for result in results:
        for item in plot_items(result):
            paths += [path for _, path in _images(item)]
    return list(dict.fromkeys(paths))


def _images(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = []
    png = as_text(item.get("png"))
    if png:
        found.append(("base vs head", png))
    for side, path in as_mapping(item.get("images")).items():
        if as_text(path):
            found.append((str(side), str(path)))
    return found


def _caption(item: Mapping[str, Any]) -> str:
    """What the chart alone cannot say: how many points each side had, over which x, ending where."""
    parts = []
    for side in records(item.get("sides"), "name"):
        name, points = as_text(side.get("name")), as_number(side.get("points"))
        if name is None or points is None:
            continue
        low, high, last = (as_number(side.get(key)) for key in ("x_min", "x_max", "last"))
        span = f", {text(item.get('x_label') or 'x')} {number(low)}–{number(high)}" if low is not None else ""
        end = f", last {number(last)}" if last is not None else ""
        parts.append(f"{text(name)}: {number(int(points))} points{span}{end}")
    return "<sub>" + " · ".join(parts) + "</sub>" if parts else ""


def _chart(item: Mapping[str, Any]) -> str | None:
    grid = as_mapping(item.get("chart"))
    series = []
    for entry in records(grid.get("series"), "name"):
        values = entry.get("values")
        if isinstance(values, list) and values and all(as_number(v) is not None for v in values):
            series.append((str(entry.get("name")), [float(v) for v in values]))
    if not series or len({len(values) for _, values in series}) != 1:
        return None
    title = as_text(item.get("title")) or as_text(item.get("id")) or "plot"
    y_label = as_text(item.get("y_label")) or "y"
    categories = grid.get("categories")
    if isinstance(categories, list) and len(categories) == len(series[0][1]):
        return charts.series_chart(title, y_label, [str(c) for c in categories], series, "bar")
    low, high = as_number(grid.get("x_min")), as_number(grid.get("x_max"))
    if low is None or high is None:
        return None
    x_axis = (as_text(item.get("x_label")) or "x", low, high)
    return charts.series_chart(title, y_label, x_axis, series) + "\n" + _caption(item)


def _counts(raw: Any) -> dict[tuple[str, str], int]:
    cells = {}
    for cell in records(raw, "actual"):
        actual, predicted, count = as_text(cell.get("actual")), as_text(cell.get("predicted")), cell.get("count")
        if actual is not None and predicted is not None and isinstance(count, int) and not isinstance(count, bool):
            cells[(actual, predicted)] = count
    return cells


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _per_class(base: Mapping[tuple[str, str], int], head: Mapping[tuple[str, str], int]) -> str:
    classes = sorted({label for pair in (*base, *head) for label in pair})
    rows = []
    for label in classes:
        values = []
        for counts in (base, head):
            hits = counts.get((label, label), 0)
            predicted = sum(n for (_, p), n in counts.items() if p == label)
            actual = sum(n for (a, _), n in counts.items() if a == label)
            values.append((_ratio(hits, predicted), _ratio(hits, actual)))
        (bp, br), (hp, hr) = values
        delta_p = hp - bp if hp is not None and bp is not None else None
        delta_r = hr - br if hr is not None and br is not None else None
        rows.append([code(label), number(bp), number(hp), signed(delta_p), number(br), number(hr), signed(delta_r)])
    headers = ["class", "precision base", "head", "Δ", "recall base", "head", "Δ"]
    return table(headers, rows)


def confusion_table(item: Mapping[str, Any]) -> str | None:
    """Counts per (actual, predicted) base → head, largest changes first; per-class precision and recall
    changes when there are more than two classes."""
    matrix = as_mapping(item.get("confusion"))
    base, head = _counts(matrix.get("base")), _counts(matrix.get("head"))
    if not base and not head:
        return None
    pairs = sorted(set(base) | set(head), key=lambda p: (-abs(head.get(p, 0) - base.get(p, 0)), -head.get(p, 0), p))
    cells = [
        [
            code(actual),
            code(predicted),
            "✓" if actual == predicted else "✗",
            number(base.get((actual, predicted))) if base else DASH,
            number(head.get((actual, predicted), 0)),
            signed(head.get((actual, predicted), 0) - base.get((actual, predicted), 0)) if base else DASH,
        ]
        for actual, predicted in pairs
    ]
    shown = table(["actual", "predicted", "", "base", "head", "Δ"], cells[:MAX_CONFUSION_ROWS])
    if len(cells) > MAX_CONFUSION_ROWS:
        shown += f"\n\n*{len(cells) - MAX_CONFUSION_ROWS} smaller changes left out.*"
    if len({label for pair in (*base, *head) for label in pair}) > 2:
        shown += "\n\n" + details("per-class precision and recall", _per_class(base, head))
    return shown


def blocks(results: Sequence[StepResult]) -> list[PlotBlock]:
    found = []
    for result in results:
        for item in plot_items(result):
            title = as_text(item.get("title")) or as_text(item.get("id")) or "plot"
            drawn = confusion_table(item) if item.get("kind") == "confusion" else _chart(item)
            errors = [f"{text(side)}: {text(message)}" for side, message in as_mapping(item.get("errors")).items()]
            if errors:
                note = "*Not readable at " + "; ".join(errors) + ".*"
                drawn = f"{drawn}\n\n{note}" if drawn else note
            found.append(PlotBlock(title, drawn, tuple(_images(item))))
    return found


def render_block(block: PlotBlock, link: Link, unpublished: str) -> str:
    """The block's markdown; images it could not publish are named with `unpublished` instead, never linked."""
    parts = [f"#### {text(block.title)}"]
    if block.chart:
        parts.append(block.chart)
    shown, missing = [], []
    for caption, path in block.images:
        url = link(path)
        if url:
            shown.append(f"![{text(block.title)} · {text(caption)}]({url})")
        else:
            missing.append(caption)
    if shown:
        parts.append(" ".join(shown))
    if missing:
        parts.append(f"<sub>{text(', '.join(missing))}: {unpublished}</sub>")
    return "\n\n".join(parts)
