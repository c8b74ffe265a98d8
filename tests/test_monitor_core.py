"""The monitor's pure parts: windows, sketch-based drift against checks.drift's exact tests, the history chain,
alert changes, the production-log reader's refusals, and the Prometheus exposition."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from mlgate.adapters import production_log
from mlgate.checks.drift import column_drift
from mlgate.errors import InputError
from mlgate.monitor import history, render
from mlgate.monitor.sketches import CategoricalSketch, NumericSketch, sketch_drift
from mlgate.monitor.windows import Window, complete_windows, parse_window, window_of


def test_windows_are_utc_aligned_and_named_by_their_start() -> None:
    day = parse_window("1d")
    assert day == 86400
    moment = 1767312000 + 5 * 3600  # 2026-01-02T05:00Z
    assert window_of(moment, day).key == "2026-01-02"
    assert window_of(moment, parse_window("6h")).key == "2026-01-02T00:00Z"
    assert [w.key for w in complete_windows(Window(1767225600, day), 1767225600 + 2.5 * day)] == [
        "2026-01-01",
        "2026-01-02",
    ]
    for bad in ("1x", "7m", "0d", "36h", "d"):
        with pytest.raises(InputError, match=r"monitor\.window"):
            parse_window(bad)


@pytest.mark.parametrize("method", ["ks", "wasserstein", "psi", "jensenshannon"])
def test_sketch_drift_agrees_with_the_exact_test(method: str) -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(0, 1, 20_000)
    for shift in (0.0, 0.05, 0.3, 1.0):
        current = rng.normal(shift, 1, 30_000)
        exact = column_drift("x", pa.chunked_array([reference]), pa.chunked_array([current]), method=method,
                             threshold=None)  # fmt: skip
        ref_sketch, cur_sketch = NumericSketch(), NumericSketch()
        for part in np.array_split(current, 7):  # batch by batch, as the log is read
            cur_sketch.update(pa.array(part))
        ref_sketch.update(pa.array(reference))
        approx = sketch_drift("x", ref_sketch, cur_sketch, method=method, threshold=None)
        assert approx is not None and exact is not None
        assert approx.method == exact.method == method
        assert approx.statistic == pytest.approx(exact.statistic, abs=0.012, rel=0.08)
        # Within the sketches' rank error of the statistic, the decision is the same unless it is a close call.
        if method == "ks":
            close = 0.005 < exact.p_value < 0.5
        else:
            close = abs(exact.statistic - exact.threshold) <= 0.15 * exact.threshold
        assert approx.drifted == exact.drifted or close
    assert approx.drifted and exact.drifted  # a shift of one standard deviation drifts by every measure


def test_numeric_sketch_moments_are_exact_across_batches() -> None:
    values = np.random.default_rng(1).gamma(2.0, 3.0, 50_001)
    sketch = NumericSketch()
    for part in np.array_split(values, 9):
        sketch.update(pa.array(np.append(part, np.nan)))
    assert sketch.count == values.size and sketch.nulls == 9
    assert sketch.mean == pytest.approx(values.mean(), rel=1e-12)
    assert sketch.std == pytest.approx(values.std(), rel=1e-9)


def test_categorical_sketch_counts_exactly_and_tests_like_checks_drift() -> None:
    rng = np.random.default_rng(2)
    reference = rng.choice(["a", "b", "c"], 5000, p=[0.5, 0.3, 0.2])
    current = rng.choice(["a", "b", "c"], 800, p=[0.3, 0.3, 0.4])
    ref_sketch, cur_sketch = CategoricalSketch(), CategoricalSketch()
    ref_sketch.update(pa.array(reference))
    cur_sketch.update(pa.array(current))
    assert ref_sketch.counts() == {k: int(v) for k, v in zip(*np.unique(reference, return_counts=True), strict=True)}
    exact = column_drift("c", pa.chunked_array([reference]), pa.chunked_array([current]), method="auto",
                         threshold=None)  # fmt: skip
    approx = sketch_drift("c", ref_sketch, cur_sketch, method="auto", threshold=None)
    assert approx is not None and exact is not None
    assert (approx.method, approx.drifted) == (exact.method, exact.drifted)
    assert approx.statistic == pytest.approx(exact.statistic, rel=1e-9)


def _record(window: str, *alerts: str, quality: dict | None = None) -> dict:
    return {
        "window": window,
        "start": f"{window}T00:00:00Z",
        "rows": 10,
        "alerts": [{"name": name, "message": f"{name} is on", "value": 1, "threshold": 0} for name in alerts],
        "quality": quality,
    }


def test_history_chain_round_trips_and_lets_only_quality_change() -> None:
    records = history.append([], [_record("2026-01-01"), _record("2026-01-02", "input_drift")])
    text = history.serialize(records)
    assert history.parse_history(text, "h") == records
    filled = history.with_quality(records, "2026-01-01", {"labelled_rows": 5, "alerts": []})
    assert history.parse_history(history.serialize(filled), "h")[0]["quality"]["labelled_rows"] == 5
    more = history.append(filled, [_record("2026-01-03")])
    assert history.parse_history(history.serialize(more), "h")[-1]["window"] == "2026-01-03"


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda lines: [lines[0].replace('"rows":10', '"rows":11'), *lines[1:]], "line 1 .* chain hash"),
        (lambda lines: lines[1:], "line 1 .* chain hash"),
        (lambda lines: [lines[1], lines[0]], "line 1 .* chain hash"),
        (lambda lines: [lines[0], "{not json"], "line 2 is not JSON"),
        (lambda lines: [lines[0].replace('"schema_version":1', '"schema_version":9')], "schema_version 9"),
    ],
)
def test_a_rewritten_history_is_refused(tamper, message: str) -> None:
    records = history.append([], [_record("2026-01-01"), _record("2026-01-02")])
    lines = history.serialize(records).splitlines()
    with pytest.raises(history.HistoryRewritten, match=message):
        history.parse_history("\n".join(tamper(lines)) + "\n", "history.jsonl on branch mlgate/monitoring")


def test_alert_changes_follow_the_latest_window_and_the_latest_labelled_one() -> None:
    quality_on = {"labelled_rows": 10, "alerts": [{"name": "quality", "message": "accuracy fell"}]}
    before = [_record("2026-01-01", "latency_p95"), _record("2026-01-02", "latency_p95")]
    after = [*before, _record("2026-01-03", "input_drift")]
    after[0] = {**after[0], "quality": quality_on}
    changes = history.alert_changes(before, after)
    assert {a.name for a in changes.started} == {"input_drift", "quality"}
    assert [a.name for a in changes.ended] == ["latency_p95"]
    assert not history.alert_changes(after, after).any


def test_a_run_catching_up_reports_every_change_at_the_window_it_happened() -> None:
    """A late or skipped schedule judges several windows at once: an alert that started and ended within them
    is reported too, each change at its own window, and quality follows the windows whose labels arrived."""
    quality_on = {"labelled_rows": 10, "alerts": [{"name": "quality", "message": "accuracy fell"}]}
    quality_off = {"labelled_rows": 10, "alerts": []}
    before = [_record("2026-01-01", quality=quality_off)]
    after = [
        *before,
        _record("2026-01-02", "latency_p95", quality=quality_off),
        _record("2026-01-03", "latency_p95", quality=quality_on),
        _record("2026-01-04", quality=quality_on),
        _record("2026-01-05", "input_drift"),
    ]
    changes = history.alert_changes(before, after)
    assert [(a.name, a.window) for a in changes.started] == [
        ("latency_p95", "2026-01-02"),
        ("quality", "2026-01-03"),
        ("input_drift", "2026-01-05"),
    ]
    assert [(a.name, a.window) for a in changes.ended] == [("latency_p95", "2026-01-04")]
    comment = render.alert_comment("m", changes)
    assert [line.split(")")[0] for line in comment.splitlines() if line.startswith("- ")] == [
        "- 🔴 **started** (`2026-01-02`",
        "- 🔴 **started** (`2026-01-03`",
        "- ✅ **ended** (`2026-01-04`",
        "- 🔴 **started** (`2026-01-05`",
    ]
    # Day 4's labels say quality recovered; day 5's are not in yet: quality ended at day 4.
    recovered = [*after[:3], {**after[3], "quality": quality_off}, after[4]]
    assert [(a.name, a.window) for a in history.alert_changes(after, recovered).ended] == [("quality", "2026-01-04")]
    assert not history.alert_changes(after, after).any


def _write_log(path: Path, rows: list[tuple[str, float]], fmt: str = "csv") -> None:
    table = pa.table({"ts": [r[0] for r in rows], "x": [r[1] for r in rows]})
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)


def test_the_log_is_read_in_name_order_across_csv_and_parquet(tmp_path: Path) -> None:
    _write_log(tmp_path / "log/date=2026-01-02/a.parquet", [("2026-01-02T01:00:00Z", 3.0)], "parquet")
    _write_log(
        tmp_path / "log/date=2026-01-01/a.csv", [("2026-01-01 00:00:00", 1.0), ("2026-01-01T05:00:00+01:00", 2.0)]
    )
    files = production_log.log_files(tmp_path / "log")
    batches = list(production_log.read_batches(files, tmp_path, "ts", ["x"]))
    seconds = np.concatenate([b.timestamps for b in batches])
    assert seconds.tolist() == [1767225600.0, 1767225600.0 + 4 * 3600, 1767312000.0 + 3600]
    assert [b.file for b in batches] == ["log/date=2026-01-01/a.csv", "log/date=2026-01-02/a.parquet"]


def test_backwards_timestamps_name_the_file_and_row(tmp_path: Path) -> None:
    _write_log(tmp_path / "log/a.csv", [("2026-01-01T02:00:00Z", 1.0), ("2026-01-01T01:00:00Z", 2.0)])
    files = production_log.log_files(tmp_path / "log")
    with pytest.raises(InputError, match=r"row 2: timestamps go backwards") as caught:
        list(production_log.read_batches(files, tmp_path, "ts", ["x"]))
    assert caught.value.file == "log/a.csv"
    _write_log(tmp_path / "log2/a.csv", [("2026-01-02T02:00:00Z", 1.0)])
    _write_log(tmp_path / "log2/b.csv", [("2026-01-01T01:00:00Z", 2.0)])
    with pytest.raises(InputError, match=r"row 1: timestamps go backwards .* at log2/a.csv row 1"):
        list(production_log.read_batches(production_log.log_files(tmp_path / "log2"), tmp_path, "ts", ["x"]))


def test_unparsable_timestamps_name_the_value(tmp_path: Path) -> None:
    _write_log(tmp_path / "a.csv", [("2026-01-01T02:00:00Z", 1.0), ("yesterday", 2.0)])
    with pytest.raises(InputError, match=r"row 2: timestamp 'yesterday' in column 'ts' does not parse"):
        list(production_log.read_batches([tmp_path / "a.csv"], tmp_path, "ts", ["x"]))


def test_a_mapped_column_missing_from_the_log_names_the_key(tmp_path: Path) -> None:
    _write_log(tmp_path / "a.csv", [("2026-01-01T02:00:00Z", 1.0)])
    with pytest.raises(InputError, match=r"monitor.columns.latency_ms: column 'latency' is not in the production log"):
        production_log.require_columns([tmp_path / "a.csv"], {"timestamp": "ts", "latency_ms": "latency"}, "a.csv")


def test_prometheus_exposition_parses_with_the_reference_parser() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    record = {
        **_record("2026-01-02", "latency_p95"),
        "drift": {"drifted_share": 0.25, "columns": [{"column": 'we"ird\\name', "verdict": "drift"}]},
        "service": {"requests": 100, "throughput_per_s": 0.001, "error_rate": 0.02,
                    "latency_ms": {"p50": 10.0, "p95": 80.5, "p99": 120.0, "mean": 20.0}},
        "quality": {"metrics": [{"metric": "accuracy", "value": 0.9}], "alerts": []},
    }  # fmt: skip
    text = render.prometheus("churn", [record])
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["mlgate_monitor_drift_share"].samples[0].value == 0.25
    p95 = [s for s in families["mlgate_monitor_latency_ms"].samples if s.labels["quantile"] == "0.95"]
    assert p95[0].value == 80.5 and p95[0].labels["model"] == "churn"
    assert families["mlgate_monitor_feature_drift"].samples[0].labels["feature"] == 'we"ird\\name'
    alerts = {s.labels["alert"]: s.value for s in families["mlgate_monitor_alert"].samples}
    assert alerts == {"input_drift": 0.0, "latency_p95": 1.0, "prediction_drift": 0.0, "quality": 0.0}
    assert json.dumps(families["mlgate_monitor_quality"].samples[0].labels) == json.dumps(
        {"model": "churn", "window": "2026-01-02", "metric": "accuracy", "labelled_window": "2026-01-02"}
    )
