"""Typed rows read out of each step's `evidence`, tolerant of what a step left out.

The report renders whatever the bundle holds: a result from an older or newer mlgate, a step that stopped
early, or a matrix job that ran only some steps. A missing or mistyped key gives an empty value here, never
an exception, so one odd field cannot cost the user the whole report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.results import StepResult

PASSING_STATUSES = frozenset({"pass", "passed", "ok", "success", "not_applicable", "skipped"})


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def first(item: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present (steps name some fields `base`/`head`, DVC names them `old`/`new`)."""
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def records(value: Any, name_key: str) -> list[Mapping[str, Any]]:
    """A list of objects, given either as a list or as a mapping name → object (the name is kept)."""
    if isinstance(value, Mapping):
        return [{name_key: name, **item} for name, item in value.items() if isinstance(item, Mapping)]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics/params as DVC shows them: `a.b.c`."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(flatten(item, name + "."))
        else:
            flat[name] = item
    return flat


@dataclass(frozen=True)
class MetricRow:
    metric: str
    base: float | None
    head: float | None
    delta: float | None
    interval: tuple[float, float] | None
    level: float | None
    method: str | None
    p_value: float | None
    rule: str | None
    verdict: str | None
    reason: str | None


@dataclass(frozen=True)
class Change:
    name: str
    base: str | None
    head: str | None


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    message: str
    column: str | None
    file: str | None
    line: int | None


@dataclass(frozen=True)
class DriftRow:
    column: str
    method: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool


@dataclass(frozen=True)
class Drift:
    rows: tuple[DriftRow, ...]
    share: float | None
    max_share: float | None
    sample: str | None


@dataclass(frozen=True)
class Resources:
    command: str | None
    exit_code: int | None
    wall_seconds: float | None
    cpu_seconds: float | None
    peak_rss_bytes: float | None
    gpus: tuple[Mapping[str, Any], ...]
    log_tail: str | None


def describe_rule(rule: Any) -> str | None:
    """`higher is better · max drop 0.005 · min 0.9` from a gate rule as compare records it."""
    if isinstance(rule, str):
        return rule or None
    rule = as_mapping(rule)
    if not rule:
        return None
    parts = [f"{rule['direction']} is better"] if isinstance(rule.get("direction"), str) else []
    for key, label in (("max_drop", "max drop"), ("max_increase", "max increase"), ("min", "min"), ("max", "max")):
        shown = as_text(rule.get(key))
        if shown is not None:
            parts.append(f"{label} {shown}")
    if rule.get("required") is False:
        parts.append("advisory")
    return " · ".join(parts) or None


def _interval(item: Mapping[str, Any]) -> tuple[tuple[float, float] | None, float | None, str | None]:
    """(bounds, confidence level, method) from `ci_low`/`ci_high`, or an `interval` list or object."""
    raw = first(item, "interval", "ci")
    method = as_text(first(item, "test", "method"))
    level = as_number(first(item, "confidence", "level"))
    if isinstance(raw, Mapping):
        low, high = as_number(first(raw, "low", "lower")), as_number(first(raw, "high", "upper"))
        level = as_number(raw.get("level")) or level
        method = as_text(raw.get("method")) or method
    elif isinstance(raw, list | tuple) and len(raw) == 2:
        low, high = as_number(raw[0]), as_number(raw[1])
    else:
        low, high = as_number(item.get("ci_low")), as_number(item.get("ci_high"))
    return ((low, high) if low is not None and high is not None else None), level, method


def compare_metrics(result: StepResult) -> list[MetricRow]:
    rows = []
    for item in records(result.evidence.get("metrics"), "metric"):
        name = as_text(first(item, "metric", "name", "key"))
        if name is None:
            continue
        base, head = as_number(first(item, "base", "old")), as_number(first(item, "head", "new"))
        delta = as_number(first(item, "delta", "diff"))
        if delta is None and base is not None and head is not None:
            delta = head - base
        interval, level, method = _interval(item)
        rows.append(
            MetricRow(
                metric=name,
                base=base,
                head=head,
                delta=delta,
                interval=interval,
                level=level,
                method=method,
                p_value=as_number(item.get("p_value")),
                rule=describe_rule(item.get("rule")),
                verdict=as_text(first(item, "verdict", "status")),
                reason=as_text(first(item, "reason", "message")),
            )
        )
    return rows


def train_metrics(result: StepResult) -> dict[str, float | None]:
    return {name: as_number(value) for name, value in flatten(as_mapping(result.evidence.get("metrics"))).items()}


def changes(value: Any) -> list[Change]:
    """Params or data versions that differ between base and head: a list of {key|path|name, old|base,
    new|head[, changed]} as compare records them, or a mapping name → {old, new}."""
    rows = []
    for item in records(value, "name"):
        name = as_text(first(item, "key", "path", "name", "param"))
        base, head = as_text(first(item, "base", "old")), as_text(first(item, "head", "new"))
        if name is not None and base != head and item.get("changed") is not False:
            rows.append(Change(name, base, head))
    return rows


def findings(result: StepResult) -> list[Finding]:
    """validate's `findings`: [{check, severity, message, column, dataset[, file, line]}]."""
    rows = []
    for item in records(result.evidence.get("findings"), "check"):
        line = item.get("line")
        rows.append(
            Finding(
                check=as_text(first(item, "check", "name")) or "check",
                status=as_text(first(item, "severity", "status")) or "unknown",
                message=as_text(item.get("message")) or "",
                column=as_text(item.get("column")),
                file=as_text(item.get("file")),
                line=line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None,
            )
        )
    return rows


def failed_findings(result: StepResult) -> list[Finding]:
    return [finding for finding in findings(result) if finding.status.lower() not in PASSING_STATUSES]


def drift(result: StepResult) -> Drift | None:
    raw = as_mapping(result.evidence.get("drift"))
    rows = []
    for item in records(raw.get("columns"), "column"):
        column = as_text(first(item, "column", "name"))
        if column is None:
            continue
        rows.append(
            DriftRow(
                column=column,
                method=as_text(item.get("method")),
                statistic=as_number(item.get("statistic")),
                p_value=as_number(item.get("p_value")),
                threshold=as_number(item.get("threshold")),
                drifted=item.get("drifted") is True or item.get("verdict") == "drift",
            )
        )
    if not rows:
        return None
    return Drift(
        rows=tuple(rows),
        share=as_number(first(raw, "drifted_share", "share")),
        max_share=as_number(first(raw, "max_drifted_share", "max_share")),
        sample=as_text(raw.get("sample")),
    )


def resources(result: StepResult) -> Resources:
    evidence = result.evidence
    raw = as_mapping(evidence.get("resources"))
    exit_code = first(evidence, "exit_code") if "exit_code" in evidence else raw.get("exit_code")
    return Resources(
        command=as_text(first(evidence, "command")) or as_text(raw.get("command")),
        exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        wall_seconds=as_number(first(raw, "wall_seconds", "wall_time")),
        cpu_seconds=as_number(first(raw, "cpu_seconds", "cpu_time")),
        peak_rss_bytes=as_number(raw.get("peak_rss_bytes")),
        gpus=tuple(records(raw.get("gpu"), "name")),
        log_tail=as_text(evidence.get("log_tail")),
    )


def history(result: StepResult) -> dict[str, list[tuple[str, float]]]:
    """Metric → [(short sha, value)] on the base branch, oldest first, from compare's `history`."""
    series: dict[str, list[tuple[str, float]]] = {}
    for metric, points in as_mapping(result.evidence.get("history")).items():
        values = []
        for point in records(points, "sha"):
            value, sha = as_number(point.get("value")), as_text(point.get("sha"))
            if value is not None and sha is not None:
                values.append((sha[:7], value))
        if values:
            series[str(metric)] = values
    return series


def data_hashes(results: list[StepResult]) -> dict[str, str]:
    """Path → content hash of every data file a step recorded: DVC's `data_versions` (train: path → md5;
    compare: [{path, old, new}], the head side) and validation's `inputs` ({role: {path, sha256}})."""
    hashes: dict[str, str] = {}
    for result in results:
        versions = result.evidence.get("data_versions")
        for path, value in as_mapping(versions).items():
            if as_text(value):
                hashes[str(path)] = str(value)
        for item in [*records(versions, "path"), *as_mapping(result.evidence.get("inputs")).values()]:
            item = as_mapping(item)
            path, digest = as_text(item.get("path")), as_text(first(item, "new", "head", "sha256", "md5"))
            if path and digest:
                hashes[path] = digest
    return hashes
