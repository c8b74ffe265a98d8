"""The registry as people and scripts read it: JSON documents and plain-text tables (what `mlgate registry`
prints), from the registry state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mlgate.registry.state import ArtifactState, Event


def iso(timestamp: int | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def artifact_json(artifact: ArtifactState) -> dict[str, Any]:
    latest = artifact.latest
    return {
        "name": artifact.name,
        "latest": latest.version if latest else None,
        "stages": {stage: artifact.current(stage) for stage in artifact.stages},
        "deprecated": artifact.deprecated,
        "versions": [
            {
                "version": v.version,
                "commit": v.commit,
                "registered": v.registered,
                "active": v.active,
                "registered_at": iso(v.registered_at),
                "stages": list(v.stages),
            }
            for v in artifact.versions
        ],
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "timestamp": iso(event.timestamp),
        "artifact": event.artifact,
        "event": event.action.event,
        "version": event.version,
        "stage": event.stage,
        "commit": event.commit,
        "author": event.author,
        "author_email": event.author_email,
        "message": event.message,
        "tag": event.tag,
    }


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def stages_table(artifacts: list[ArtifactState]) -> str:
    """Each artifact's latest version and the version in each stage."""
    stages = sorted({s for a in artifacts for s in a.stages})
    rows = [["ARTIFACT", "LATEST", *stages]]
    for a in artifacts:
        label = f"{a.name} (deprecated)" if a.deprecated else a.name
        rows.append([label, a.latest.version if a.latest else "-", *[a.current(s) or "-" for s in stages]])
    return table(rows)


def versions_table(artifact: ArtifactState) -> str:
    """Every version of one artifact, its commit, registration time and stages (* marks a stage's current one)."""
    rows = [["VERSION", "COMMIT", "REGISTERED", "STAGES"]]
    for v in artifact.versions:
        state = "" if v.active else " (deregistered)"
        current = [s + ("*" if artifact.current(s) == v.version else "") for s in v.stages]
        rows.append([v.version + state, v.commit[:7], iso(v.registered_at) or "-", ", ".join(current) or "-"])
    return table(rows) + "\n* current version of the stage"


def events_table(events: list[Event]) -> str:
    rows = [["TIMESTAMP", "ARTIFACT", "EVENT", "VERSION", "STAGE", "COMMIT", "TAG"]]
    for e in events:
        version = e.commit[:7] if e.version == e.commit else e.version or "-"  # unregistered: named by commit
        rows.append([iso(e.timestamp) or "", e.artifact, e.action.event, version, e.stage or "-", e.commit[:7], e.tag])
    return table(rows)
