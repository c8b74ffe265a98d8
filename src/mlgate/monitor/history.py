"""The monitoring history: `history.jsonl` on branch `mlgate/monitoring`, one JSON line per window, oldest first.

Each record carries `schema_version` and a `chain` hash: SHA-256 of the previous record's chain and this
record's canonical JSON without its `quality` (the one part a later run may fill in, when the window's labels
arrive) and without the chain itself. A line someone edited, removed or reordered breaks the chain from there
on, so a rewritten history is noticed and refused instead of extended. A window is judged once: a rerun finds
its record and adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mlgate.errors import InputError
from mlgate.results import finite_json

SCHEMA_VERSION = 1
HISTORY_FILE = "history.jsonl"
MUTABLE = ("quality", "chain")
GENESIS = "0" * 64


class HistoryRewritten(InputError):
    """The history branch does not hold what mlgate wrote: nothing is added to it."""


def _canonical(record: Mapping[str, Any]) -> bytes:
    kept = {k: v for k, v in record.items() if k not in MUTABLE}
    return json.dumps(finite_json(kept), sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def chain_of(previous: str, record: Mapping[str, Any]) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + _canonical(record)).hexdigest()


def seal(previous: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the history stores it: strict JSON values, schema version, chain hash."""
    sealed = finite_json({"schema_version": SCHEMA_VERSION, **{k: v for k, v in record.items() if k != "chain"}})
    sealed["chain"] = chain_of(previous, sealed)
    return sealed


def parse_history(text: str, where: str) -> list[dict[str, Any]]:
    """The records of a history file; HistoryRewritten when a line is not what mlgate wrote there."""
    records: list[dict[str, Any]] = []
    previous = GENESIS
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HistoryRewritten(
                f"{where} line {number} is not JSON ({exc.msg}): the history was rewritten; nothing was added to it"
            ) from None
        if not isinstance(record, dict) or record.get("schema_version") != SCHEMA_VERSION:
            version = record.get("schema_version") if isinstance(record, dict) else None
            raise HistoryRewritten(
                f"{where} line {number} has schema_version {version!r}, not {SCHEMA_VERSION}: this mlgate cannot "
                "extend it; nothing was added to it"
            )
        window = record.get("window")
        if record.get("chain") != chain_of(previous, record):
            raise HistoryRewritten(
                f"{where} line {number} (window {window}) does not match its chain hash: the history was edited "
                "or rewritten after mlgate wrote it; restore the branch (its git log has every version), or delete "
                "it and close the tracking issue to start over; nothing was added to it"
            )
        if records and str(window) <= str(records[-1]["window"]):
            raise HistoryRewritten(f"{where} line {number}: window {window} is not after {records[-1]['window']}")
        previous = record["chain"]
        records.append(record)
    return records


HEAD_MARKER = re.compile(r"<!-- mlgate:monitor-head records=(\d+) chain=([0-9a-f]{64}) -->")


def head_marker(records: Sequence[Mapping[str, Any]]) -> str:
    """The hidden line of the tracking issue naming the history it was written from: a history cut short and
    pushed again (its chain still valid) no longer holds that record."""
    return f"<!-- mlgate:monitor-head records={len(records)} chain={records[-1]['chain']} -->"


def check_head(records: Sequence[Mapping[str, Any]], issue_body: str, where: str, issue: str) -> None:
    """HistoryRewritten when the history lacks the last record the open tracking issue was written from."""
    found = HEAD_MARKER.search(issue_body)
    if found is None:
        return
    count, chain = int(found.group(1)), found.group(2)
    if len(records) >= count and records[count - 1]["chain"] == chain:
        return
    raise HistoryRewritten(
        f"{where} holds {len(records)} record(s), but the tracking issue {issue} was written from {count} "
        f"ending in chain {chain[:12]}: the branch was cut short, reset or deleted after mlgate wrote it; restore "
        "it (its git log and the remote's reflog have every version), or close the issue to start over; nothing "
        "was added to it"
    )


def serialize(records: Sequence[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(r, sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n" for r in records)


def append(records: list[dict[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = list(records)
    for record in new:
        out.append(seal(out[-1]["chain"] if out else GENESIS, record))
    return out


def needs_quality(record: Mapping[str, Any], labelled_rows: int) -> bool:
    """Whether more of the window's labels arrived since its quality was judged."""
    known = (record.get("quality") or {}).get("labelled_rows", 0)
    return labelled_rows > known


def with_quality(records: list[dict[str, Any]], window: str, quality: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**r, "quality": finite_json(dict(quality))} if r["window"] == window else r for r in records]


@dataclass(frozen=True)
class Alert:
    name: str
    window: str
    message: str
    value: float | None = None
    threshold: float | None = None


def _alerts(record: Mapping[str, Any], found: Sequence[Mapping[str, Any]]) -> dict[str, Alert]:
    return {
        a["name"]: Alert(a["name"], record["window"], a["message"], a.get("value"), a.get("threshold")) for a in found
    }


def _window_alerts(record: Mapping[str, Any]) -> dict[str, Alert]:
    """The window's own input, prediction and service alerts."""
    return _alerts(record, record.get("alerts", ()))


def _quality_alerts(record: Mapping[str, Any]) -> dict[str, Alert]:
    return _alerts(record, (record.get("quality") or {}).get("alerts", ()))


def active_alerts(records: Sequence[Mapping[str, Any]]) -> dict[str, Alert]:
    """What is alerting now: the latest window's input, prediction and service alerts, and the quality alerts
    of the latest window whose quality is known."""
    if not records:
        return {}
    judged = next((r for r in reversed(records) if r.get("quality")), None)
    return _window_alerts(records[-1]) | (_quality_alerts(judged) if judged is not None else {})


@dataclass(frozen=True)
class Changes:
    """Alerts that started (at the window that raised them) and ended (at the first window back within its
    limit), each in window order."""

    started: tuple[Alert, ...]
    ended: tuple[Alert, ...]

    @property
    def any(self) -> bool:
        return bool(self.started or self.ended)


def alert_changes(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> Changes:
    """Every start and end of an alert between the history `before` a run and `after` it, window by window: a
    run that catches up on several windows (a late or skipped schedule) reports an alert that started and
    ended within them too, each at the window where it happened. Input, prediction and service alerts follow
    the new windows; quality alerts follow the windows whose quality is known, from the latest known before
    (late labels fill in quality of windows judged earlier)."""
    started: list[Alert] = []
    ended: list[Alert] = []

    def walk(state: dict[str, Alert], records: Iterable[Mapping[str, Any]], alerts_of: Any) -> None:
        for record in records:
            now = alerts_of(record)
            started.extend(alert for name, alert in now.items() if name not in state)
            ended.extend(replace(alert, window=record["window"]) for name, alert in state.items() if name not in now)
            state = now

    walk(_window_alerts(before[-1]) if before else {}, after[len(before) :], _window_alerts)
    known = next((r for r in reversed(before) if r.get("quality")), None)
    since = known["window"] if known is not None else ""
    labelled = [r for r in after if r.get("quality") and r["window"] >= since]
    walk(_quality_alerts(known) if known is not None else {}, labelled, _quality_alerts)
    return Changes(tuple(sorted(started, key=lambda a: a.window)), tuple(sorted(ended, key=lambda a: a.window)))
