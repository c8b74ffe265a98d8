"""Check-run annotations (file and line) from the findings steps recorded about data and config files."""

from __future__ import annotations

from collections.abc import Sequence

from mlgate.drivers.protocol import ANNOTATION_LEVELS, Annotation
from mlgate.report import evidence
from mlgate.results import StepResult


def _explicit(result: StepResult) -> list[Annotation]:
    """A step's own `evidence.annotations`: [{path|file, start_line|line, end_line?, level, message, title?}]."""
    found = []
    for item in evidence.records(result.evidence.get("annotations"), "path"):
        path = evidence.as_text(evidence.first(item, "path", "file"))
        line = evidence.first(item, "start_line", "line")
        message = evidence.as_text(item.get("message"))
        if not (path and message and isinstance(line, int) and not isinstance(line, bool) and line > 0):
            continue
        end = item.get("end_line")
        found.append(
            Annotation(
                path=path,
                start_line=line,
                end_line=end if isinstance(end, int) and not isinstance(end, bool) and end >= line else None,
                level=ANNOTATION_LEVELS.get(str(item.get("level", "")).lower(), "warning"),
                message=message,
                title=evidence.as_text(item.get("title")),
            )
        )
    return found


def _from_findings(result: StepResult) -> list[Annotation]:
    return [
        Annotation(
            path=finding.file,
            start_line=finding.line,
            level=ANNOTATION_LEVELS.get(finding.status.lower(), "warning"),
            message=finding.message or finding.check,
            title=f"{finding.check}" + (f" ({finding.column})" if finding.column else ""),
        )
        for finding in evidence.failed_findings(result)
        if finding.file and finding.line
    ]


def annotations(results: Sequence[StepResult]) -> list[Annotation]:
    """Every located finding once, in bundle order."""
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for result in results:
        for note in _explicit(result) + _from_findings(result):
            key = (note.path, note.start_line, note.message)
            if key not in seen:
                seen.add(key)
                unique.append(note)
    return unique
