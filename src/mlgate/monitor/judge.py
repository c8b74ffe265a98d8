"""Judge one window: input drift and prediction drift against the deployed version's reference, service figures
against `monitor.alerts`, and quality (once labels arrived) against the deployed version's metrics with the
gate's own rules and bootstrap intervals. Pure: sketches and numbers in, one history record's parts out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlgate.checks.drift import ColumnDrift
from mlgate.compare.diff import FileValues, finite_number
from mlgate.compare.policy import Measured, RuleResult, evaluate_rule
from mlgate.config.model import GateRule, MonitorAlerts, Significance
from mlgate.monitor.sketches import NumericSketch, Sketch, TableSketch, sketch_drift
from mlgate.monitor.window_stats import WindowStats

LATENCY_QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
SERVICE_ALERTS = (  # alert name, key in monitor.alerts, where the value is in the service figures, unit
    ("latency_p50", "latency_p50_ms", ("latency_ms", "p50"), "ms"),
    ("latency_p95", "latency_p95_ms", ("latency_ms", "p95"), "ms"),
    ("latency_p99", "latency_p99_ms", ("latency_ms", "p99"), "ms"),
    ("error_rate", "error_rate", ("error_rate",), ""),
    ("request_bytes_p95", "request_bytes_p95", ("request_bytes", "p95"), "bytes"),
)


@dataclass(frozen=True)
class Reference:
    """What the deployed version was trained and tested on, as sketches."""

    features: TableSketch
    prediction: Sketch | None = None  # the deployed version's test-set predictions
    score: NumericSketch | None = None
    metrics: FileValues = field(default_factory=dict)  # the deployed version's metrics files
    described: dict[str, Any] = field(default_factory=dict)  # model, version, commit, data: for the record


@dataclass(frozen=True)
class Policy:
    method: str = "auto"
    threshold: float | None = None
    drift_share: float = 0.5
    alerts: MonitorAlerts = field(default_factory=MonitorAlerts)
    rules: tuple[GateRule, ...] = ()
    significance: Significance = field(default_factory=Significance)


def _alert(name: str, value: float, threshold: float, message: str) -> dict[str, Any]:
    return {"name": name, "value": value, "threshold": threshold, "message": message}


def _drift_rows(reference: TableSketch, current: TableSketch, policy: Policy) -> list[ColumnDrift]:
    rows = []
    for name, sketch in reference.sketches.items():
        result = sketch_drift(name, sketch, current.sketches[name], method=policy.method, threshold=policy.threshold)
        if result is not None:
            rows.append(result)
    return rows


def input_drift(stats: WindowStats, reference: Reference, policy: Policy) -> dict[str, Any]:
    rows = _drift_rows(reference.features, stats.features, policy)
    drifted = [row for row in rows if row.drifted]
    share = len(drifted) / len(rows) if rows else 0.0
    return {
        "method": policy.method,
        "columns": [row.to_dict() for row in rows],
        "compared": len(rows),
        "drifted_columns": [row.column for row in drifted],
        "drifted_share": share,
        "max_drifted_share": policy.drift_share,
        "detected": bool(rows) and share > policy.drift_share,
    }


def prediction_drift(stats: WindowStats, reference: Reference, policy: Policy) -> dict[str, Any]:
    """Drift of the predicted classes (or values) and of the scores against the deployed test predictions."""
    found: dict[str, Any] = {}
    for role, current, base in (
        ("prediction", stats.prediction, reference.prediction),
        ("score", stats.score, reference.score),
    ):
        if current is None or base is None:
            continue
        result = sketch_drift(role, base, current, method=policy.method, threshold=policy.threshold)
        if result is not None:
            found[role] = result.to_dict()
    found["detected"] = any(row.get("verdict") == "drift" for row in found.values() if isinstance(row, dict))
    return found


def service(stats: WindowStats) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "requests": stats.rows,
        "throughput_per_s": stats.rows / stats.window.seconds,
    }
    if stats.roles.columns.status or stats.roles.columns.error:
        figures["errors"] = stats.errors
        figures["error_rate"] = stats.errors / stats.rows if stats.rows else 0.0
    for role, sketch in (("latency_ms", stats.latency), ("request_bytes", stats.request_bytes)):
        if sketch is not None and sketch.count:
            values = sketch.quantiles(list(LATENCY_QUANTILES.values()))
            figures[role] = {"mean": sketch.mean, **dict(zip(LATENCY_QUANTILES, values, strict=True))}
            if role == "request_bytes":
                figures[role]["total"] = sketch.mean * sketch.count
    return figures


def window_alerts(drift: dict[str, Any], predictions: dict[str, Any], figures: dict[str, Any], policy: Policy):
    """The alerts a window raises from its inputs, predictions and service figures (quality's come later)."""
    alerts = []
    if drift["detected"]:
        alerts.append(
            _alert(
                "input_drift",
                drift["drifted_share"],
                drift["max_drifted_share"],
                f"input drift: {len(drift['drifted_columns'])} of {drift['compared']} features drifted "
                f"({drift['drifted_share']:.0%}, more than {drift['max_drifted_share']:.0%}): "
                + ", ".join(drift["drifted_columns"][:8])
                + (" …" if len(drift["drifted_columns"]) > 8 else ""),
            )
        )
    if policy.alerts.prediction_drift and predictions.get("detected"):
        which = [role for role in ("prediction", "score") if predictions.get(role, {}).get("verdict") == "drift"]
        row = predictions[which[0]]
        value = row["p_value"] if row["p_value"] is not None else row["statistic"]
        alerts.append(
            _alert(
                "prediction_drift",
                value,
                row["threshold"],
                f"prediction drift: the {' and '.join(which)} distribution drifted ({row['method']})",
            )
        )
    for name, key, path, unit in SERVICE_ALERTS:
        limit = getattr(policy.alerts, key)
        value: Any = figures
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if limit is None or value is None or value <= limit:
            continue
        shown = f"{value:.1%} (limit {limit:.1%})" if not unit else f"{value:.4g} {unit} (limit {limit:g} {unit})"
        alerts.append(_alert(name, float(value), float(limit), f"{name.replace('_', ' ')} {shown}"))
    return alerts


def _base_value(metrics: FileValues, rule: GateRule) -> tuple[str | None, Any]:
    from mlgate.compare.gate import locate

    found = locate(metrics, rule.metric)
    return (found[0][0], metrics[found[0][0]][found[0][1]]) if len(found) == 1 else (None, None)


def quality(stats: WindowStats, reference: Reference, policy: Policy) -> dict[str, Any] | None:
    """The gate's rules on the window's labelled rows (a uniform sample of at most quality_rows), each against
    the deployed version's value with a bootstrap interval; None before any label arrived."""
    from mlgate.compare import names
    from mlgate.compare.stats import METRICS, Predictions, StatsError, unpaired_interval

    sample = stats.labelled
    if not sample.rows:
        return None
    columns = sample.columns
    predictions = Predictions(columns["y_true"], columns.get("y_pred"), columns.get("y_score"))
    results: list[RuleResult] = []
    notes = []
    for rule in policy.rules:
        kind = names.parse(rule.metric, METRICS).kind
        if kind is None:
            continue
        file, base = _base_value(reference.metrics, rule)
        options = {"alpha": policy.significance.alpha, "resamples": policy.significance.resamples}
        try:
            interval = unpaired_interval(
                kind, None, predictions, base_value=finite_number(base), seed=policy.significance.seed, **options
            )
        except StatsError as exc:
            notes.append(f"{rule.metric}: {exc}")
            continue
        note = None if base is not None else "the deployed version's metrics do not have it"
        measured = Measured(file, rule.metric, base, interval.head, True, note)
        results.append(evaluate_rule(rule, measured, interval))
    failed = [r for r in results if r.outcome == "fail"]
    alerts = []
    if policy.alerts.quality and failed:
        first = failed[0]
        alerts.append(
            _alert(
                "quality",
                float(first.measured.head),
                float(finite_number(first.measured.base) or 0),
                "quality: " + "; ".join(r.reason for r in failed),
            )
        )
    return {
        "labelled_rows": sample.rows,
        "label_coverage": sample.rows / stats.rows if stats.rows else 0.0,
        "sampled_rows": len(columns["y_true"]),
        "metrics": [_rule_row(r) for r in results],
        "notes": notes,
        "alerts": alerts,
    }


def _rule_row(result: RuleResult) -> dict[str, Any]:
    interval = result.interval
    return {
        "metric": result.rule.metric,
        "deployed": finite_number(result.measured.base),
        "value": result.measured.head,
        "delta": result.delta,
        "ci_low": interval.low if interval else None,
        "ci_high": interval.high if interval else None,
        "p_value": interval.p_value if interval else None,
        "status": result.status,
        "outcome": result.outcome,
        "reason": result.reason,
    }


def judge(stats: WindowStats, reference: Reference, policy: Policy) -> dict[str, Any]:
    """The window's record but its chain hash: what the history keeps of it."""
    start, end = stats.window.iso()
    drift = input_drift(stats, reference, policy)
    predictions = prediction_drift(stats, reference, policy)
    figures = service(stats)
    return {
        "window": stats.window.key,
        "start": start,
        "end": end,
        "rows": stats.rows,
        "reference": dict(reference.described),
        "drift": drift,
        "predictions": predictions,
        "service": figures,
        "alerts": window_alerts(drift, predictions, figures, policy),
        "quality": quality(stats, reference, policy),
    }


def drift_summary(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(row["column"]) for row in rows if row.get("verdict") == "drift"]
