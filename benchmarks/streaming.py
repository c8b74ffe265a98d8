"""10. Validation past memory: `mlgate validate` streaming (data.exact: false) at 10M and 100M rows × 20 columns,
against what a user would run instead at the largest size each can hold: mlgate's in-memory path and
deepchecks `data_integrity` + `train_test_validation`.

The data is section 2's generator (train and its drifted copy, Parquet in row groups of 1M rows), generated
once per size into the cache. Every figure is of a fresh process end to end (import, read, check): wall time,
CPU time, rows/s over both files, peak RSS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import (
    NO_TARGET,
    Case,
    Context,
    Measurement,
    Row,
    Section,
    at_least,
    at_most,
    has_command,
    interleave,
    median_cpu,
    median_rss,
    median_wall,
    mib,
    not_measurable,
    seconds,
    times,
    wall_summary,
)
from benchmarks.validation import DEEPCHECKS_TIMEOUT_S, LABEL, dataset

NAME = "streaming"
TITLE = "Validation past memory: `mlgate validate` streaming vs the in-memory path and deepchecks"
SIZES = (10_000_000, 100_000_000)
SMOKE_SIZES = (2_000, 20_000)
# The alternatives at the largest size each holds on this 23 GiB machine (section 2 measured them):
# mlgate's in-memory path peaks at ~1.8× the data (10M rows: ~6 GiB); deepchecks at ~8 GiB per 1M rows.
IN_MEMORY_ROWS = 10_000_000
DEEPCHECKS_ROWS = 1_000_000
SMOKE_ALTERNATIVE_ROWS = 2_000
MAX_RSS_MIB = 1024.0
MIN_ROWS_PER_S = 1_000_000.0
MAX_GROWTH = 10.5


def _config(folder: Path, rows: int, exact: bool) -> Path:
    config = folder.parent / f"mlgate-{'exact' if exact else 'stream'}-{rows}.yml"
    config.write_text(
        "data:\n"
        f"  train: {folder / 'train.parquet'}\n"
        f"  test: {folder / 'test.parquet'}\n"
        f"  label: {LABEL}\n"
        f"  sample_rows: {max(rows, 1000)}\n"
        f"  exact: {'true' if exact else 'false'}\n"
        "  checks:\n"
        "    deepchecks: []\n",
        encoding="utf-8",
    )
    return config


def _mlgate(ctx: Context, rows: int, exact: bool, runs: int | None = None) -> Case:
    config = _config(dataset(ctx, rows), rows, exact)
    results = ctx.work_dir / f"results-{'exact' if exact else 'stream'}-{rows}"
    argv = [ctx.tool("mlgate"), "--config", str(config), "--results-dir", str(results), "validate"]
    return Case(argv, cwd=ctx.work_dir, ok_codes=(0, 1), runs=runs)  # 1: the drifted copy fails, as it should


@dataclass
class _Measured:
    rows: int
    case: Case
    runs: list[Measurement]

    @property
    def rows_per_s(self) -> float:
        return 2 * self.rows / median_wall(self.runs)

    @property
    def label(self) -> str:
        return f"{self.rows // 1_000_000}M" if self.rows >= 1_000_000 else f"{self.rows // 1000}k"


def run(ctx: Context) -> Section:
    if not has_command(ctx, "validate"):
        return not_measurable(NAME, TITLE, ctx, "100M × 20 streamed", "≤ 1 GiB", "`mlgate validate` is missing")
    sizes = SMOKE_SIZES if ctx.smoke else SIZES
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    streamed = []
    for rows in sizes:
        repeats = 1 if ctx.smoke or rows >= 100_000_000 else 2
        cases = {"stream": _mlgate(ctx, rows, exact=False)}
        streamed.append(_Measured(rows, cases["stream"], interleave(cases, repeats=repeats, warmup=0)["stream"]))
    memory_rows = SMOKE_ALTERNATIVE_ROWS if ctx.smoke else IN_MEMORY_ROWS
    deepchecks_rows = SMOKE_ALTERNATIVE_ROWS if ctx.smoke else DEEPCHECKS_ROWS
    exact = _Measured(memory_rows, _mlgate(ctx, memory_rows, exact=True), [])
    exact.runs = interleave({"exact": exact.case}, repeats=1, warmup=0)["exact"]
    folder = dataset(ctx, deepchecks_rows)
    deepchecks_case = Case(
        ctx.module("validation", "deepchecks", str(folder)), cwd=ctx.work_dir, timeout=DEEPCHECKS_TIMEOUT_S
    )
    deepchecks = _Measured(deepchecks_rows, deepchecks_case, interleave({"d": deepchecks_case}, 1, 0)["d"])
    for size in streamed:
        section.rows += _rows(ctx, size)
    largest = streamed[-1]
    for name, alternative in (("mlgate in memory", exact), ("deepchecks", deepchecks)):
        section.rows += _against(ctx, largest, name, alternative)
    section.rows.append(_growth(streamed[0], largest))
    section.notes.append(
        "Streaming: `data.exact: false`, the default memory budget (512 MiB); every check sees every row "
        "(numeric drift from KLL sketches with its stated error bound, duplicates and leakage exact while the "
        "row hashes fit the budget, else from a coordinated hash sample of stated size). Each alternative runs "
        "once at the largest size it holds on this machine; the ratios set mlgate's largest size against it."
    )
    return section


def _rows(ctx: Context, size: _Measured) -> list[Row]:
    command = f"`{ctx.display(size.case.argv)}`"
    rss = median_rss(size.runs)
    rss_target = size.rows >= 100_000_000 or ctx.smoke  # the target is at 100M rows
    return [
        Row(f"{size.label} × 20 streamed: wall time (train + drifted test, {size.label} rows each)",
            f"{wall_summary(size.runs)}; CPU {seconds(median_cpu(size.runs))}", command=command),
        Row(f"{size.label} × 20 streamed: rows/s (both files)", f"{size.rows_per_s:,.0f}",
            target=f"≥ {MIN_ROWS_PER_S:,.0f}", verdict=at_least(size.rows_per_s, MIN_ROWS_PER_S, _rate),
            command="same runs"),
        Row(f"{size.label} × 20 streamed: peak RSS", mib(rss), target=f"≤ {mib(MAX_RSS_MIB)}" if rss_target else "—",
            verdict=at_most(rss, MAX_RSS_MIB, mib) if rss_target else NO_TARGET, command="same runs"),
    ]  # fmt: skip


def _rate(value: float) -> str:
    return f"{value:,.0f} rows/s"


def _against(ctx: Context, largest: _Measured, name: str, alternative: _Measured) -> list[Row]:
    speed = largest.rows_per_s / alternative.rows_per_s
    memory = median_rss(largest.runs) / median_rss(alternative.runs)
    command = f"`{ctx.display(alternative.case.argv)}`"
    return [
        Row(f"rows/s: {largest.label} streamed vs {name} at {alternative.label}",
            f"{largest.rows_per_s:,.0f}", f"{name}: {alternative.rows_per_s:,.0f}", times(speed), command=command),
        Row(f"peak RSS: {largest.label} streamed vs {name} at {alternative.label}",
            mib(median_rss(largest.runs)), f"{name}: {mib(median_rss(alternative.runs))}", times(memory),
            command="same runs"),
    ]  # fmt: skip


def _growth(small: _Measured, large: _Measured) -> Row:
    growth = median_wall(large.runs) / median_wall(small.runs)
    factor = large.rows / small.rows
    return Row(
        f"time growth {small.label} → {large.label} rows ({factor:.0f}× the rows)",
        f"wall {times(growth)}; CPU {times(median_cpu(large.runs) / median_cpu(small.runs))}",
        ratio=times(growth),
        target=f"≤ {MAX_GROWTH * factor / 10:.1f}×",
        verdict=at_most(growth, MAX_GROWTH * factor / 10),
        command="the wall-time medians above",
    )
