"""Markdown building blocks that stay safe whatever the results contain.

Names, values and messages come from users' data and configs (and, through a fork's artifact, from anyone),
so every piece of text is escaped: no markdown or HTML injection, no table broken by a `|`, no @-mention
pinging a team because a column was called `@org/team`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

from mlgate import numbers

DASH = "—"
# U+200B after "@" keeps GitHub from turning the text into a mention; it is invisible when rendered.
_MENTION = re.compile(r"@(?=\w)")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]~#!])")
_BACKTICK_RUNS = re.compile(r"`+")


def _one_line(value: str) -> str:
    return " ".join(value.split())


def text(value: object) -> str:
    """Free text (a message, a summary) as inert inline markdown."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(_one_line(str(value)), quote=False))
    return _MENTION.sub("@\u200b", escaped)


def code(value: object) -> str:
    """An identifier (metric, column, path, sha) as a code span: nothing inside is interpreted."""
    content = _one_line(str(value))
    if not content:
        return DASH
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def number(value: object, digits: int = numbers.MIN_DIGITS) -> str:
    """A metric value with at least five significant digits (mlgate.numbers); anything else as code."""
    if value is None:
        return DASH
    if not numbers.is_number(value):
        return code(value)
    return numbers.number(value, digits)  # type: ignore[arg-type]


def signed(value: object, digits: int = numbers.MIN_DIGITS) -> str:
    """A change, always with its sign so that 0.01 and +0.01 never look alike."""
    if not numbers.is_number(value):
        return number(value)
    shown = numbers.signed(value, digits)  # type: ignore[arg-type]
    return shown.replace("-", "−", 1) if shown.startswith("-") else shown  # a true minus sign in the report


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table. Cells are already-rendered inline markdown; a `|` in them would end the cell, so it is
    escaped here (GFM removes that backslash again, also inside code spans)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(headers), "|" + "---|" * len(headers), *(line(row) for row in rows)])


def details(summary: str, body: str, *, open_: bool = False) -> str:
    """A folded block; the blank lines let GitHub render the markdown inside."""
    state = " open" if open_ else ""
    return f"<details{state}><summary>{html.escape(summary)}</summary>\n\n{body.strip()}\n\n</details>"


def fenced(language: str, body: str) -> str:
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body.rstrip()}\n{fence}"


def bytes_size(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return DASH
    size, unit = float(value), "B"
    for unit in ("B", "KiB", "MiB", "GiB"):  # the unit the loop stops at is the one shown
        if abs(size) < 1024 or unit == "GiB":
            break
        size /= 1024
    return f"{size:.0f} B" if unit == "B" else f"{size:.1f} {unit}"


def duration(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return DASH
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s"
