"""The hidden marker that makes a comment sticky: one per workflow and report name.

`<!-- mlgate:report workflow=CI%20models name=mlgate -->` — values are percent-encoded so that a workflow
called `a --> b` can neither end the HTML comment early nor be confused with another workflow's marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

_MARKER = re.compile(r"<!-- mlgate:report workflow=(?P<workflow>[^\s>]+) name=(?P<name>[^\s>]+) -->")


@dataclass(frozen=True)
class Marker:
    workflow: str
    name: str

    def __str__(self) -> str:
        return f"<!-- mlgate:report workflow={quote(self.workflow, safe='')} name={quote(self.name, safe='')} -->"


def parse_marker(text: str) -> Marker | None:
    """The first marker in `text`, or None."""
    match = _MARKER.search(text)
    if match is None:
        return None
    return Marker(unquote(match["workflow"]), unquote(match["name"]))
