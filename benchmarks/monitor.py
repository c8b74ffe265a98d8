"""8. Monitoring: `mlgate monitor` judging one window of a production log of 1M (and 10M) rows × 20 features
against a 100k-row training reference, vs Evidently's DataDriftPreset on the same data where it fits in memory.

The log (one day: timestamps, 20 float features of which 6 drifted, prediction, score, label, latency, status)
is generated once per size into the cache directory as Parquet in 1M-row row groups; mlgate reads it batch by
batch into sketches, so its peak RSS should not grow with the rows (target: ≤ 500 MiB at 10M). Evidently is
measured in a throwaway virtualenv of its own (it must not touch mlgate's pinned stack): pass its interpreter
as MLGATE_BENCH_EVIDENTLY_PYTHON, or the row says it was not measured.

    python -m benchmarks.monitor generate ROWS DIR     # the reference and the log
    python -m benchmarks.monitor evidently DIR         # the alternative (run with Evidently's interpreter)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from benchmarks.harness import (
    NO_TARGET,
    NOT_MEASURABLE,
    Context,
    Row,
    Section,
    Verdict,
    at_most,
    generate_or_alternative,
    has_command,
    measure,
    mib,
    not_measurable,
    seconds,
    times,
)

NAME = "monitor"
TITLE = "Monitoring: `mlgate monitor` (one window) vs Evidently `DataDriftPreset`"
GENERATOR_VERSION = 1
SIZES = (1_000_000, 10_000_000)
SMOKE_SIZES = (20_000, 40_000)
FEATURES = 20
DRIFTED = 6
REFERENCE_ROWS = 100_000
ROW_GROUP = 1_000_000
DAY = "2026-01-05"
MAX_RSS_10M = 500.0
EVIDENTLY_MAX_ROWS = 1_000_000  # pandas frames of both sides in memory: beyond this Evidently is not run
EVIDENTLY_TIMEOUT_S = 1800


def generate(rows: int, out: Path) -> None:
    """reference.parquet (REFERENCE_ROWS) and log/day.parquet (`rows` requests during one day), seeded."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    def features(rng: np.random.Generator, n: int, drifted: bool) -> dict[str, np.ndarray]:
        return {f"f{i:02d}": rng.normal(0.4 if drifted and i < DRIFTED else 0.0, 1.0, n) for i in range(FEATURES)}

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    reference = features(rng, REFERENCE_ROWS, False)
    reference["label"] = (reference["f00"] + rng.normal(0, 1, REFERENCE_ROWS) > 0).astype(np.int64)
    pq.write_table(pa.table(reference), out / "reference.parquet")
    (out / "log").mkdir(exist_ok=True)
    start = np.datetime64(f"{DAY}T00:00:00", "us")
    path = out / "log" / "day.parquet.tmp"
    writer = None
    for first in range(0, rows, ROW_GROUP):
        n = min(ROW_GROUP, rows - first)
        part = features(rng, n, True)
        offsets = (np.arange(first, first + n) * (86_400_000_000 // rows)).astype("timedelta64[us]")
        score = 1 / (1 + np.exp(-2 * part["f00"]))
        columns = {"ts": pa.array(start + offsets, pa.timestamp("us", tz="UTC")), **part}
        columns |= {
            "prediction": (score > 0.5).astype(np.int64),
            "score": score,
            "label": (part["f00"] - 0.4 + rng.normal(0, 1, n) > 0).astype(np.int64),
            "latency_ms": rng.lognormal(3.0, 0.4, n),
            "status": np.where(rng.random(n) < 0.01, 500, 200),
        }
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    path.rename(out / "log" / "day.parquet")


def dataset(ctx: Context, rows: int) -> Path:
    folder = ctx.cache_dir / "monitor" / f"v{GENERATOR_VERSION}-{rows}"
    if not (folder / "log" / "day.parquet").exists():
        print(f"[bench] generating a {rows:,}-row log into {folder}", file=sys.stderr, flush=True)
        measure(ctx.module("monitor", "generate", str(rows), str(folder)))
    return folder


MLGATE_YML = """\
data: {{train: reference.parquet, label: label}}
metrics:
  gate:
    accuracy: {{direction: higher, max_drop: 0.02}}
    roc_auc: {{direction: higher, max_drop: 0.02}}
monitor:
  log: {log}
  columns: {{timestamp: ts, prediction: prediction, score: score, label: label, latency_ms: latency_ms,
             status: status}}
  alerts: {{latency_p95_ms: 100, error_rate: 0.05}}
"""


def _repository(ctx: Context, folder: Path, rows: int) -> Path:
    """A git repository holding the reference and a mlgate.yml whose log is the generated one."""
    import shutil
    import subprocess

    repo = ctx.work_dir / f"monitor-{rows}"
    repo.mkdir()
    shutil.copy(folder / "reference.parquet", repo / "reference.parquet")
    (repo / "mlgate.yml").write_text(MLGATE_YML.format(log=folder / "log"), encoding="utf-8")
    identity = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "bench",
                "GIT_COMMITTER_EMAIL": "b@x"}  # fmt: skip
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "reference"]):
        subprocess.run(["git", *command], cwd=repo, env=os.environ | identity, check=True)
    return repo


def run_evidently(folder: Path) -> dict[str, object]:
    """DataDriftPreset with its defaults on the reference and the log's features, as a user would run it."""
    started = time.perf_counter()
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    names = [f"f{i:02d}" for i in range(FEATURES)]
    reference = pd.read_parquet(folder / "reference.parquet", columns=names)
    current = pd.read_parquet(folder / "log" / "day.parquet", columns=names)
    loaded = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    metrics = snapshot.dict()["metrics"]
    drifted = next((m["value"]["count"] for m in metrics if m["metric_name"].startswith("DriftedColumnsCount")), None)
    seconds = {"import": imported - started, "read": loaded - imported, "report": time.perf_counter() - loaded}
    return {"drifted": None if drifted is None else int(drifted), "seconds": seconds}


def _evidently_python() -> str | None:
    chosen = os.environ.get("MLGATE_BENCH_EVIDENTLY_PYTHON")
    return chosen if chosen and Path(chosen).exists() else None


def run(ctx: Context) -> Section:
    if not has_command(ctx, "monitor"):
        return not_measurable(NAME, TITLE, ctx, "1M × 20, one window", f"≤ {MAX_RSS_10M:.0f} MiB", "no monitor")
    sizes = SMOKE_SIZES if ctx.smoke else SIZES
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    peaks = []
    evidently = _evidently_python()
    for rows in sizes:
        folder = dataset(ctx, rows)
        repo = _repository(ctx, folder, rows)
        argv = [ctx.tool("mlgate"), "monitor", "--as-of", "2026-01-06", "--driver", "local", "--json"]
        ours = measure(argv, cwd=repo)
        result = json.loads(ours.stdout)
        latest = result["evidence"]["latest"]
        drifted = len(latest["drift"]["drifted_columns"])
        peaks.append(ours.peak_rss_mib)
        alternative = ratio = "—"
        other = None
        if evidently and rows <= EVIDENTLY_MAX_ROWS:
            other = measure([evidently, "-m", "benchmarks.monitor", "evidently", str(folder)],
                            cwd=Path(__file__).resolve().parents[1], timeout=EVIDENTLY_TIMEOUT_S)  # fmt: skip
            found = json.loads(other.stdout.strip().splitlines()[-1])
            alternative = f"{seconds(other.wall_s)}, {mib(other.peak_rss_mib)} ({found['drifted']} drifted)"
            ratio = f"{times(ours.wall_s / other.wall_s)} time, {times(ours.peak_rss_mib / other.peak_rss_mib)} RSS"
        target, verdict = "—", NO_TARGET
        if rows == sizes[-1]:
            target = f"≤ {MAX_RSS_10M:.0f} MiB" if not ctx.smoke else "—"
            verdict = at_most(ours.peak_rss_mib, MAX_RSS_10M, mib) if not ctx.smoke else NOT_MEASURABLE
        section.rows.append(Row(
            f"{rows:,} rows × {FEATURES}: wall, peak RSS",
            f"{seconds(ours.wall_s)}, {mib(ours.peak_rss_mib)} ({drifted} of {FEATURES} drifted)",
            alternative, ratio, target, verdict,
            ctx.display([*argv]),
        ))  # fmt: skip
    growth = peaks[-1] / peaks[0]
    flat = Verdict(growth <= 1.25, "met" if growth <= 1.25 else f"**missed**: {times(growth)}")
    section.rows.append(Row(f"peak RSS growth, {sizes[0]:,} → {sizes[-1]:,} rows", times(growth),
                            target="≤ 1.25× (flat)", verdict=flat if not ctx.smoke else NOT_MEASURABLE,
                            command="the runs above"))  # fmt: skip
    if evidently is None:
        section.notes.append(
            "Evidently was not measured: set MLGATE_BENCH_EVIDENTLY_PYTHON to the interpreter of a separate "
            "virtualenv with `evidently` installed (it must not share mlgate's pinned stack)."
        )
    section.notes.append(
        f"One window; reference {REFERENCE_ROWS:,} rows; quality from at most monitor.quality_rows (100,000) "
        "labelled rows with 2000 bootstrap resamples of accuracy and roc_auc; Evidently's preset computes input "
        f"drift only, from pandas frames of every row (not run above {EVIDENTLY_MAX_ROWS:,} rows)."
    )
    return section


def main(argv: list[str] | None = None) -> int:
    return generate_or_alternative(argv, "python -m benchmarks.monitor", generate, "evidently", run_evidently)


if __name__ == "__main__":
    main()
