"""What the monitoring history looks like to people and to tools: the tracking issue's body (status line, Mermaid
trend charts, the latest window's tables), the comment posted when an alert starts or ends, and the latest
window in Prometheus' text exposition format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mlgate.monitor.history import Alert, Changes, active_alerts, head_marker
from mlgate.report import charts
from mlgate.report.markdown import DASH, code, number, signed, table, text

ISSUE_LABEL = "mlgate:monitor"
MAX_DRIFT_ROWS = 30


def issue_marker(model: str) -> str:
    return f"<!-- mlgate:monitor model={model} -->"


def alert_marker(model: str) -> str:
    return f"<!-- mlgate:monitor-alert model={model} -->"


def issue_title(model: str) -> str:
    return f"mlgate monitor: {model}"


def _percent(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else DASH


# A run's address as mlgate records it (GITHUB_SERVER_URL/<repo>/actions/runs/<id>); anything else in the
# history is not linked.
RUN_URL = re.compile(r"https?://[^\s()<>\[\]]+/actions/runs/\d+")


def _status_line(records: Sequence[Mapping[str, Any]], alerts: Mapping[str, Alert]) -> str:
    latest = records[-1]
    seen = f"latest window {code(latest['window'])}: {latest['rows']:,} requests"
    if not alerts:
        return f"**Status: ✅ no alerts** · {seen}"
    names = ", ".join(alert.name.replace("_", " ") for alert in alerts.values())
    return f"**Status: 🔴 {len(alerts)} alert{'s' if len(alerts) > 1 else ''}** ({text(names)}) · {seen}"


def _trend(title: str, y_title: str, points: Sequence[tuple[str, float]], limit: float | None) -> str:
    if len(points) < charts.MIN_TREND_POINTS:
        return f"<sub>{text(title)}: fewer than {charts.MIN_TREND_POINTS} windows so far, no chart yet.</sub>"
    labels = [label for label, _ in points]
    values = [value for _, value in points]
    series: list[tuple[str, Sequence[float]]] = []
    if limit is not None:
        series.append(("alert threshold", [limit] * len(points)))
    series.append((y_title, values))
    if limit is None:  # no grey reference line: the series itself takes the first (grey) slot's place in blue
        return charts.xychart(title, labels, y_title, [charts.Series("line", values, charts.BLUE)])
    return charts.series_chart(title, y_title, labels, series)


def _value_at(record: Mapping[str, Any], path: Sequence[str]) -> float | None:
    value: Any = record
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def trend_charts(records: Sequence[Mapping[str, Any]], thresholds: Mapping[str, float | None]) -> list[str]:
    """Drift share, the first gated metric, latency p95 and error rate over the given windows."""
    found = []
    drift = [(r["window"], r["drift"]["drifted_share"]) for r in records if r["drift"]["compared"]]
    found.append(
        _trend("Input drift: share of drifted features", "drifted share", drift, thresholds.get("drift_share"))
    )
    metric = next((row["metric"] for r in records if r.get("quality") for row in r["quality"]["metrics"]), None)
    if metric is not None:
        points = [
            (r["window"], row["value"])
            for r in records
            if r.get("quality")
            for row in r["quality"]["metrics"]
            if row["metric"] == metric and isinstance(row["value"], int | float)
        ]
        deployed = next(
            (
                row["deployed"]
                for r in records
                if r.get("quality")
                for row in r["quality"]["metrics"]
                if row["metric"] == metric and row["deployed"] is not None
            ),
            None,
        )
        found.append(_trend(f"Quality: {metric} (labelled windows)", metric, points, deployed))
    for title, y_title, path, key in (
        ("Latency p95 (ms)", "p95 ms", ("service", "latency_ms", "p95"), "latency_p95_ms"),
        ("Error rate", "error rate", ("service", "error_rate"), "error_rate"),
    ):
        points = [(r["window"], v) for r in records if (v := _value_at(r, path)) is not None]
        if points:
            found.append(_trend(title, y_title, points, thresholds.get(key)))
    return found


def _drift_table(drift: Mapping[str, Any]) -> str:
    rows = sorted(drift["columns"], key=lambda row: row["verdict"] != "drift")
    shown = [
        [
            code(row["column"]),
            text(row["method"]),
            number(row["statistic"], 3),
            number(row["p_value"], 3) if row["p_value"] is not None else DASH,
            number(row["threshold"], 3),
            "**drift**" if row["verdict"] == "drift" else "ok",
        ]
        for row in rows[:MAX_DRIFT_ROWS]
    ]
    more = (
        f"\n\n<sub>and {len(rows) - MAX_DRIFT_ROWS} more columns without drift</sub>"
        if len(rows) > MAX_DRIFT_ROWS
        else ""
    )
    return table(["feature", "test", "statistic", "p", "threshold", "verdict"], shown) + more


def _service_table(service: Mapping[str, Any]) -> str:
    rows = [["requests", f"{service['requests']:,}"], ["throughput", f"{service['throughput_per_s']:.3g} /s"]]
    if "error_rate" in service:
        rows.append(["error rate", f"{_percent(service['error_rate'])} ({service['errors']:,} errors)"])
    for key, unit in (("latency_ms", "ms"), ("request_bytes", "bytes")):
        if key in service:
            figures = service[key]
            shown = " · ".join(f"{q} {figures[q]:.4g}" for q in ("p50", "p95", "p99"))
            rows.append([key.replace("_ms", "").replace("_", " "), f"{shown} {unit} (mean {figures['mean']:.4g})"])
    return table(["figure", "value"], rows)


def _quality_table(record: Mapping[str, Any]) -> str:
    quality = record["quality"]
    rows = [
        [
            code(row["metric"]),
            number(row["deployed"]),
            number(row["value"]),
            signed(row["delta"]),
            f"[{signed(row['ci_low'])}, {signed(row['ci_high'])}]" if row["ci_low"] is not None else DASH,
            f"**{row['outcome']}**" if row["outcome"] == "fail" else row["outcome"],
        ]
        for row in quality["metrics"]
    ]
    head = (
        f"Window {code(record['window'])}: {quality['labelled_rows']:,} labelled of {record['rows']:,} requests "
        f"({_percent(quality['label_coverage'])})."
    )
    notes = "".join(f"\n- {text(note)}" for note in quality.get("notes", ()))
    return head + "\n\n" + table(["metric", "deployed", "window", "Δ", "interval of Δ", "outcome"], rows) + notes


def issue_body(
    model: str,
    records: Sequence[Mapping[str, Any]],
    *,
    window: str,
    branch: str,
    history_windows: int,
    thresholds: Mapping[str, float | None],
) -> str:
    """The tracking issue's body: a function of the history alone, so a run that adds nothing to the history
    leaves the issue as it was (its link is to the run that judged the latest window, not to this one)."""
    alerts = active_alerts(records)
    latest = records[-1]
    reference = latest.get("reference", {})
    deployed = reference.get("version") or "no registered version"
    where = f"{code(reference.get('data', 'data.train'))} at {code(str(reference.get('commit', ''))[:12])}"
    judged_by = latest.get("run")
    run = f" · [the run that judged it]({judged_by})" if isinstance(judged_by, str) and RUN_URL.match(judged_by) else ""
    parts = [
        issue_marker(model) + "\n" + head_marker(records),
        f"## mlgate monitor: {code(model)} {code(deployed)} in {code(reference.get('stage', '—'))}",
        _status_line(records, alerts) + run,
        f"Reference: {where}. {len(records)} windows of {code(window)} in the history "
        f"(branch {code(branch)}, `history.jsonl`).",
    ]
    if alerts:
        parts.append(
            table(
                ["alert", "window", "what"], [[code(a.name), code(a.window), text(a.message)] for a in alerts.values()]
            )
        )
    recent = list(records[-history_windows:])
    parts.append(f"### Trends (last {len(recent)} windows)")
    parts.extend(trend_charts(recent, thresholds))
    parts.append(f"### Latest window {code(latest['window'])}")
    parts.append(_service_table(latest["service"]))
    drift = latest["drift"]
    parts.append(
        f"**Input drift**: {len(drift['drifted_columns'])} of {drift['compared']} features drifted "
        f"({_percent(drift['drifted_share'])}; alert above {_percent(drift['max_drifted_share'])})."
    )
    if drift["columns"]:
        parts.append(_drift_table(drift))
    predictions = [(role, row) for role, row in latest["predictions"].items() if isinstance(row, Mapping)]
    if predictions:
        parts.append(
            "**Prediction drift**: "
            + "; ".join(
                f"{role} {row['method']} {number(row['statistic'], 3)} → {row['verdict']}" for role, row in predictions
            )
        )
    labelled = next((r for r in reversed(records) if r.get("quality")), None)
    parts.append("### Quality")
    parts.append(_quality_table(labelled) if labelled else "No labels have arrived yet.")
    return "\n\n".join(parts) + "\n"


def alert_comment(model: str, changes: Changes, run_url: str | None = None) -> str:
    lines = [alert_marker(model), f"### mlgate monitor: {code(model)}: alerts changed"]
    # In window order: a run that caught up on several windows tells what happened in each.
    events = [(a.window, 0, f"- 🔴 **started** ({code(a.window)}): {text(a.message)}") for a in changes.started]
    events += [
        (a.window, 1, f"- ✅ **ended** ({code(a.window)}): {text(a.name.replace('_', ' '))} is back within its limit")
        for a in changes.ended
    ]
    lines += [line for _, _, line in sorted(events)]
    if run_url:
        lines.append(f"\n[The run]({run_url})")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- Prometheus


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(model: str, records: Sequence[Mapping[str, Any]]) -> str:
    """The latest window as gauges in Prometheus' text exposition format (version 0.0.4)."""
    latest = records[-1]
    base = {"model": model, "window": latest["window"]}
    families: dict[str, tuple[str, list[tuple[dict[str, str], float]]]] = {}

    def add(name: str, help_text: str, value: float | None, **labels: str) -> None:
        if value is None:
            return
        families.setdefault(name, (help_text, []))[1].append(({**base, **labels}, float(value)))

    service = latest["service"]
    add("mlgate_monitor_requests", "Requests in the latest window.", service["requests"])
    add(
        "mlgate_monitor_throughput_per_second",
        "Requests per second over the latest window.",
        service["throughput_per_s"],
    )
    add("mlgate_monitor_error_rate", "Share of failed requests in the latest window.", service.get("error_rate"))
    for key, name in (("latency_ms", "mlgate_monitor_latency_ms"), ("request_bytes", "mlgate_monitor_request_bytes")):
        for quantile, share in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
            add(name, f"{key} quantiles of the latest window.", _value_at(service, (key, quantile)), quantile=share)
    add(
        "mlgate_monitor_drift_share",
        "Share of features that drifted in the latest window.",
        latest["drift"]["drifted_share"],
    )
    for row in latest["drift"]["columns"]:
        add(
            "mlgate_monitor_feature_drift",
            "1 when the feature drifted in the latest window.",
            1.0 if row["verdict"] == "drift" else 0.0,
            feature=row["column"],
        )
    labelled = next((r for r in reversed(records) if r.get("quality")), None)
    if labelled is not None:
        for row in labelled["quality"]["metrics"]:
            if isinstance(row["value"], int | float):
                add(
                    "mlgate_monitor_quality",
                    "Gated metrics on the latest labelled window.",
                    row["value"],
                    metric=row["metric"],
                    labelled_window=labelled["window"],
                )
    active = active_alerts(records)
    for name in sorted({*active, "input_drift", "prediction_drift", "quality"}):
        add("mlgate_monitor_alert", "1 while the alert is active.", 1.0 if name in active else 0.0, alert=name)
    lines = []
    for name, (help_text, samples) in families.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            shown = ",".join(f'{key}="{_label_value(str(v))}"' for key, v in labels.items())
            lines.append(f"{name}{{{shown}}} {value:.10g}")
    return "\n".join(lines) + "\n"
