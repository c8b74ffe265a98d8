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
    interval: tuple[float, float] | None = None
    level: float | None = None
    method: str | None = None
    p_value: float | None = None
    rule: str | None = None
    verdict: str | None = None  # the rule's outcome: pass | warn | fail
    status: str | None = None  # improved | within noise | regressed | below min | no baseline | ...
    reason: str | None = None
    direction: str | None = None  # higher | lower (is better)
    allowed: float | None = None  # the worsening the rule tolerates, in the metric's units
    minimum: float | None = None
    maximum: float | None = None
    interval_method: str | None = None  # what made the interval (a bootstrap), when `method` is another test
    resamples: int | None = None
    seeds_p: float | None = None  # train.seeds: the change's p-value against seed-to-seed variance


@dataclass(frozen=True)
class Change:
    name: str
    base: str | None
    head: str | None
    group: str | None = None  # data versions: data | code | models/outputs | metrics & plots


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
    timeline: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class TestFailure:
    test: str
    kind: str  # failure | error
    message: str
    path: str | None
    line: int | None


@dataclass(frozen=True)
class Tests:
    command: str | None
    counts: Mapping[str, int]  # passed, failed, errors, skipped, total
    seconds: float | None
    failures: tuple[TestFailure, ...]

    __test__ = False


def _line(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def tests(result: StepResult) -> Tests:
    """What the tests step recorded: counts, duration and each failing test with where it failed."""
    raw = as_mapping(result.evidence.get("counts"))
    counts = {k: v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool) and v >= 0}
    failures = tuple(
        TestFailure(
            test=as_text(item.get("test")) or "test",
            kind=as_text(item.get("kind")) or "failure",
            message=as_text(item.get("message")) or "",
            path=as_text(first(item, "path", "file")),
            line=_line(item.get("line")),
        )
        for item in records(result.evidence.get("failures"), "test")
    )
    seconds = as_number(result.evidence.get("seconds"))
    return Tests(
        as_text(result.evidence.get("command")),
        counts,
        seconds if seconds is not None else as_number(result.evidence.get("wall_seconds")),
        failures,
    )


@dataclass(frozen=True)
class Environment:
    line: str  # Python · OS · CPU · GPUs · packages
    lock: str | None  # the requirements or lock file compared
    moved: tuple[Change, ...]  # its packages whose pin changed since the base


def _gpu(gpu: Mapping[str, Any]) -> str:
    driver, cuda = as_text(gpu.get("driver")), as_text(gpu.get("cuda"))
    extras = [f"driver {driver}" if driver else "", f"CUDA {cuda}" if cuda else ""]
    return " ".join(part for part in [as_text(gpu.get("name")) or "GPU", *extras] if part)


def environment(result: StepResult) -> Environment | None:
    """train's `environment`: the fingerprint as one line, and the packages that moved since the base."""
    found = as_mapping(result.evidence.get("environment"))
    if not found:
        return None
    packages = as_mapping(found.get("packages"))
    digest, count = as_text(packages.get("sha256")), packages.get("count")
    gpus = [as_mapping(gpu) for gpu in found.get("gpus") or () if isinstance(gpu, Mapping)]
    parts = [
        f"Python {found['python']}" if as_text(found.get("python")) else None,
        as_text(found.get("os")),
        as_text(found.get("cpu")),
        *(_gpu(gpu) for gpu in gpus),
        f"packages {digest[:12]} ({count})" if digest else None,
    ]
    changed = as_mapping(found.get("changed"))
    moved = tuple(
        Change(as_text(item.get("name")) or "?", as_text(item.get("base")), as_text(item.get("head")))
        for item in records(changed.get("packages"), "name")
    )
    return Environment(" · ".join(part for part in parts if part), as_text(changed.get("file")), moved)


@dataclass(frozen=True)
class SeedRow:
    """A gated metric over train.seeds: its value per seed at head, and the test against seed-to-seed variance."""

    metric: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    mean: float | None
    sd: float | None
    base: float | None
    p_value: float | None
    test: str | None


def seed_rows(result: StepResult) -> list[SeedRow]:
    """compare's rules that were judged over train.seeds (`seeds` in each rule)."""
    rows = []
    for item in records(result.evidence.get("rules"), "metric"):
        seeds = as_mapping(item.get("seeds"))
        picked = [(s, as_number(v)) for s, v in zip(seeds.get("seeds") or (), seeds.get("head") or (), strict=False)]
        if not picked or any(value is None for _, value in picked):
            continue
        base = seeds.get("base") if isinstance(seeds.get("base"), list) else []
        rows.append(
            SeedRow(
                metric=as_text(item.get("metric")) or "",
                seeds=tuple(int(s) for s, _ in picked),
                values=tuple(float(v) for _, v in picked if v is not None),
                mean=as_number(seeds.get("mean")),
                sd=as_number(seeds.get("sd")),
                base=as_number(base[0]) if len(base) == 1 else None,
                p_value=as_number(seeds.get("p_value")),
                test=as_text(seeds.get("test")),
            )
        )
    return rows


def train_checks(result: StepResult) -> list[str]:
    """What train checked beyond the kept run: what the seeds moved (train.seeds), the determinism audit
    (train.repeat), and the stage outputs held against their schemas (data.outputs)."""
    parts = []
    seeds = as_mapping(result.evidence.get("seeds"))
    if as_text(seeds.get("summary")):
        parts.append(str(seeds["summary"]))
    audit = as_mapping(result.evidence.get("determinism"))
    runs = _count(audit.get("runs"))
    if runs is not None and audit.get("nondeterministic") is False:
        rows = _count(audit.get("predictions"))
        parts.append(f"deterministic over {runs} runs" + (f" ({rows} predictions alike)" if rows else ""))
    outputs = records(result.evidence.get("data_outputs"), "path")
    if outputs and all(output.get("verdict") == "pass" for output in outputs):
        parts.append(f"{len(outputs)} stage output{'s' if len(outputs) > 1 else ''} match their schema")
    return parts


def serving_rows(result: StepResult) -> list[MetricRow]:
    """The serving step's figures (`figures`: {base, head} → {metric: value}) as rows, base → head."""
    found = as_mapping(result.evidence.get("figures"))
    base, head = as_mapping(found.get("base")), as_mapping(found.get("head"))
    rows = []
    for name in head:
        old, new = as_number(base.get(name)), as_number(head.get(name))
        rows.append(MetricRow(f"serving.{name}", old, new, new - old if old is not None and new is not None else None))
    return rows


def describe_rule(rule: Mapping[str, Any]) -> str | None:
    """`higher is better · max drop 0.005 · min 0.9` from a gate rule as compare records it."""
    direction = as_text(rule.get("direction"))
    parts = [f"{direction} is better"] if direction else []
    tolerance = as_text(rule.get("tolerance"))
    if tolerance is not None:
        parts.append(f"{'max drop' if direction == 'higher' else 'max increase'} {tolerance}")
    parts += [f"{key} {as_text(rule[key])}" for key in ("min", "max") if as_text(rule.get(key)) is not None]
    if rule.get("required") is False:
        parts.append("advisory")
    return " · ".join(parts) or None


def _delta(item: Mapping[str, Any], base: float | None, head: float | None) -> float | None:
    delta = as_number(first(item, "delta", "diff"))
    if delta is None and base is not None and head is not None:
        delta = head - base
    return delta


def gate_rows(result: StepResult) -> list[MetricRow]:
    """compare's `rules`: each gated metric base → head, its significance, and the rule's outcome."""
    rows = []
    for item in records(result.evidence.get("rules"), "metric"):
        name = as_text(item.get("metric"))
        if name is None:
            continue
        base, head = as_number(item.get("base")), as_number(item.get("head"))
        significance = as_mapping(item.get("significance"))
        low, high = as_number(significance.get("ci_low")), as_number(significance.get("ci_high"))
        rows.append(
            MetricRow(
                metric=name,
                base=base,
                head=head,
                delta=_delta(item, base, head),
                interval=(low, high) if low is not None and high is not None else None,
                level=as_number(significance.get("confidence")),
                method=as_text(significance.get("test")),
                p_value=as_number(significance.get("p_value")),
                rule=describe_rule(item),
                verdict=as_text(item.get("outcome")),
                status=as_text(item.get("status")),
                reason=as_text(item.get("reason")),
                direction=as_text(item.get("direction")),
                allowed=as_number(item.get("allowed_worsening")),
                minimum=as_number(item.get("min")),
                maximum=as_number(item.get("max")),
                interval_method=_interval_method(significance),
                resamples=_count(significance.get("resamples")),
                seeds_p=as_number(as_mapping(item.get("seeds")).get("p_value")),
            )
        )
    return rows


def _interval_method(significance: Mapping[str, Any]) -> str | None:
    """What made the interval; results written before compare recorded it: the bootstrap its test names, or
    the paired bootstrap beside McNemar's test (which gives a p-value, not an interval)."""
    recorded = as_text(significance.get("interval_method"))
    test = as_text(significance.get("test")) or ""
    if recorded or "bootstrap" in test:
        return recorded or test
    return "paired bootstrap" if significance.get("paired") is True else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def other_metrics(result: StepResult) -> list[MetricRow]:
    """compare's `metrics` diff ({file, key, old, new, diff}, as `dvc metrics diff`) minus the gated ones."""
    gated = {(item.get("file"), item.get("key")) for item in records(result.evidence.get("rules"), "metric")}
    rows = []
    for item in records(result.evidence.get("metrics"), "key"):
        name = as_text(item.get("key"))
        if name is None or (item.get("file"), item.get("key")) in gated:
            continue
        base, head = as_number(item.get("old")), as_number(item.get("new"))
        rows.append(MetricRow(metric=name, base=base, head=head, delta=_delta(item, base, head)))
    return rows


def train_metrics(result: StepResult) -> dict[str, float | None]:
    return {name: as_number(value) for name, value in flatten(as_mapping(result.evidence.get("metrics"))).items()}


def changes(value: Any) -> list[Change]:
    """Params or data versions that differ between base and head, as compare records them:
    [{key|path, old, new[, changed]}] (None on the side that lacks it)."""
    rows = []
    for item in records(value, "key"):
        name = as_text(first(item, "key", "path"))
        base, head = as_text(item.get("old")), as_text(item.get("new"))
        if name is not None and base != head and item.get("changed") is not False:
            rows.append(Change(name, base, head, as_text(item.get("group"))))
    return rows


def findings(result: StepResult) -> list[Finding]:
    """validate's `findings`: [{check, severity, message, column, dataset[, file, line]}]."""
    rows = []
    for item in records(result.evidence.get("findings"), "check"):
        rows.append(
            Finding(
                check=as_text(first(item, "check", "name")) or "check",
                status=as_text(first(item, "severity", "status")) or "unknown",
                message=as_text(item.get("message")) or "",
                column=as_text(item.get("column")),
                file=as_text(item.get("file")),
                line=_line(item.get("line")),
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
    """What `mlgate train` recorded (its RunRecord, at the top of the evidence)."""
    evidence = result.evidence
    exit_code = evidence.get("exit_code")
    tail = evidence.get("log_tail")
    gpu = as_mapping(evidence.get("gpu"))
    return Resources(
        command=as_text(
            " ".join(map(str, evidence["command"]))
            if isinstance(evidence.get("command"), list)
            else evidence.get("command")
        ),
        exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        wall_seconds=as_number(evidence.get("wall_seconds")),
        cpu_seconds=as_number(evidence.get("cpu_seconds")),
        peak_rss_bytes=as_number(evidence.get("peak_rss_bytes")),
        gpus=(gpu,) if gpu.get("samples") else (),
        log_tail="\n".join(map(str, tail)) if isinstance(tail, list) and tail else as_text(tail),
        timeline=as_mapping(evidence.get("timeline")) or None,
    )


def history(result: StepResult) -> dict[str, list[tuple[str, float]]]:
    """Metric → [(short sha, value)] on the base branch, oldest first, from compare's `history`
    ([{sha, values: {metric: value}}])."""
    series: dict[str, list[tuple[str, float]]] = {}
    for point in records(result.evidence.get("history"), "sha"):
        sha = as_text(point.get("sha"))
        for metric, raw in as_mapping(point.get("values")).items():
            value = as_number(raw)
            if sha is not None and value is not None:
                series.setdefault(str(metric), []).append((sha[:7], value))
    return series


def data_hashes(results: list[StepResult]) -> dict[str, str]:
    """Path → DVC content hash of every data file: train's `data_versions` (path → md5) and compare's
    ([{path, old, new}], the head side)."""
    hashes: dict[str, str] = {}
    for result in results:
        versions = result.evidence.get("data_versions")
        for path, value in as_mapping(versions).items():
            if as_text(value):
                hashes[str(path)] = str(value)
        for item in records(versions, "path"):
            path, digest = as_text(item.get("path")), as_text(item.get("new"))
            if path and digest:
                hashes[path] = digest
    return hashes
