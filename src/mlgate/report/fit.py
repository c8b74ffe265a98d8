"""Fit a report into a size limit: drop the least important sections first, say so, and point to the rest.

GitHub refuses a comment over 65,536 characters and a check-run summary over 65,535 (422, and the report
is lost), and stops accepting a job summary past 1 MiB. Losing the charts is better than losing the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

COMMENT_LIMIT = 65_536
CHECK_TEXT_LIMIT = 65_535
# Room for what the cut adds back (closing fences and tags) and the "cut here" line.
_CUT_RESERVE = 200


def github_length(text: str) -> int:
    """Characters as GitHub counts them; astral characters (emoji) count twice, as in UTF-16, to stay safe."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class Section:
    key: str
    title: str  # how the "left out" note names it
    body: str
    priority: int  # 0 is never dropped (verdict, footer); higher numbers are dropped first


@dataclass(frozen=True)
class Fitted:
    text: str
    dropped: tuple[str, ...]  # titles of the sections left out or cut short


def cut_markdown(text: str, budget: int, measure: Callable[[str], int] = github_length) -> str:
    """The longest prefix of whole lines within `budget`, with open code fences and <details> closed again."""
    kept: list[str] = []
    used = 0
    fence: str | None = None
    open_details = 0
    for line in text.splitlines():
        cost = measure(line) + 1
        if used + cost > budget - _CUT_RESERVE:
            break
        kept.append(line)
        used += cost
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif fence is not None and stripped == fence:
            fence = None
        elif fence is None:
            open_details += stripped.count("<details") - stripped.count("</details>")
    closing = [fence] if fence else []
    closing += ["", "*… cut here to fit.*"] + ["", "</details>"] * max(open_details, 0)
    return "\n".join(kept + closing)


def fit(
    sections: Sequence[Section],
    limit: int,
    note: Callable[[Sequence[str]], str],
    *,
    prefix: str = "",
    measure: Callable[[str], int] = github_length,
) -> Fitted:
    """Join `sections` (in display order) under `prefix`, within `limit` as `measure` counts.

    Sections are left out from the highest priority number down; if what must stay is still too long, the
    least important remaining sections are cut short. `note(titles)` is added above the last section (the
    footer) whenever anything was left out or cut, and says where the full report is.
    """
    kept = list(sections)
    dropped: list[str] = []

    def render(parts: list[Section], titles: list[str]) -> str:
        bodies = [part.body for part in parts]
        if titles:
            bodies.insert(max(len(bodies) - 1, 0), note(titles))
        return prefix + "\n\n".join(bodies) + "\n"

    for section in sorted(sections, key=lambda s: s.priority, reverse=True):
        if measure(render(kept, dropped)) <= limit:
            break
        if section.priority > 0:
            kept.remove(section)
            dropped.append(section.title)

    for section in sorted(kept, key=lambda s: s.priority, reverse=True):
        excess = measure(render(kept, [*dropped, section.title])) - limit
        if excess <= 0:
            break
        index = kept.index(section)
        budget = measure(section.body) - excess
        kept[index] = Section(section.key, section.title, cut_markdown(section.body, budget, measure), 0)
        dropped.append(section.title)

    text = render(kept, dropped)
    if measure(text) > limit:  # only when even the note and prefix alone are too long for the limit
        text = cut_markdown(text, limit, measure)
    return Fitted(text, tuple(dropped))
