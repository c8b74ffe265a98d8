"""3. Significance: paired bootstrap (2,000 resamples, 95% percentile interval of head − base) on 100k and 1M
predictions, for accuracy and roc_auc: mlgate's implementation vs `scipy.stats.bootstrap(paired=True,
vectorized=True, method="percentile")` on the same data.

Each measurement is a fresh process that makes the predictions (seeded), then times only the interval
computation; peak RSS is the whole process's. scipy gets the fastest statistics it allows: vectorized
accuracy, and roc_auc as the Mann-Whitney rank sum over `scipy.stats.rankdata(axis=-1)`, in batches that
keep its resampled index arrays within memory.

    python -m benchmarks.significance mlgate|scipy ROWS accuracy|roc_auc   # one timed interval, as JSON
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from typing import Any

from benchmarks.harness import (
    Case,
    Context,
    Measurement,
    Row,
    Section,
    at_least,
    at_most,
    both,
    interleave,
    median_rss,
    mib,
    module_exists,
    not_measurable,
    seconds,
    times,
)
from benchmarks.profiles import cprofile_table

NAME = "significance"
TITLE = "Significance: paired bootstrap, mlgate vs `scipy.stats.bootstrap`"
STATS_MODULE = "mlgate.compare.stats"
RESAMPLES = 2000
ALPHA = 0.05
SEED = 20240601
SIZES = (100_000, 1_000_000)
SMOKE_SIZES = (2_000,)
SMOKE_RESAMPLES = 200
METRICS = ("accuracy", "roc_auc")
WARM_UP_ROWS = 200
MIN_SPEEDUP = 10.0
MAX_INTERVAL_GAP = 0.002
SCIPY_BATCH_ELEMENTS = 50_000_000  # resampled values scipy holds at once per array (400 MB of float64)
# scipy at 1M rows takes most of an hour for roc_auc; its time is linear in the resamples (same work per
# batch), so it runs this many and its time is scaled up to RESAMPLES, which the figure says.
SCIPY_RESAMPLES_AT_1M = 100


def predictions(rows: int) -> dict[str, Any]:
    """A binary task where head's scores are slightly better than base's; the same rows for both."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    y_true = (rng.random(rows) < 0.4).astype(np.int64)
    signal = np.where(y_true == 1, 1.0, -1.0)
    base_score = 1 / (1 + np.exp(-(0.9 * signal + rng.normal(scale=1.5, size=rows))))
    head_score = 1 / (1 + np.exp(-(1.0 * signal + rng.normal(scale=1.5, size=rows))))
    return {
        "y_true": y_true,
        "base_score": base_score,
        "head_score": head_score,
        "base_pred": (base_score >= 0.5).astype(np.int64),
        "head_pred": (head_score >= 0.5).astype(np.int64),
    }


def mlgate_interval(data: dict[str, Any], metric: str, resamples: int) -> tuple[float, float]:
    from mlgate.compare.stats import Predictions, paired_interval

    base = Predictions(data["y_true"], data["base_pred"], data["base_score"])
    head = Predictions(data["y_true"], data["head_pred"], data["head_score"])
    interval = paired_interval(metric, base, head, alpha=ALPHA, resamples=resamples, seed=SEED)
    return interval.low, interval.high


def scipy_interval(data: dict[str, Any], metric: str, resamples: int) -> tuple[float, float]:
    import numpy as np
    from scipy import stats

    def accuracy_delta(y: Any, base: Any, head: Any, axis: int = -1) -> Any:
        return np.mean(head == y, axis=axis) - np.mean(base == y, axis=axis)

    def auc(y: Any, score: Any) -> Any:
        ranks = stats.rankdata(score, axis=-1)  # average ranks: ties count half, as roc_auc does
        positives = y.sum(axis=-1)
        negatives = y.shape[-1] - positives
        return ((ranks * y).sum(axis=-1) - positives * (positives + 1) / 2) / (positives * negatives)

    def auc_delta(y: Any, base: Any, head: Any, axis: int = -1) -> Any:
        return auc(y, head) - auc(y, base)

    if metric == "accuracy":
        samples, statistic = (data["y_true"], data["base_pred"], data["head_pred"]), accuracy_delta
    else:
        samples, statistic = (data["y_true"], data["base_score"], data["head_score"]), auc_delta
    result = stats.bootstrap(
        samples,
        statistic,
        n_resamples=resamples,
        paired=True,
        vectorized=True,
        confidence_level=1 - ALPHA,
        method="percentile",
        batch=max(1, SCIPY_BATCH_ELEMENTS // len(data["y_true"])),
        random_state=np.random.default_rng(SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


IMPLEMENTATIONS = {"mlgate": mlgate_interval, "scipy": scipy_interval}


def measure_one(implementation: str, rows: int, metric: str, resamples: int) -> dict[str, Any]:
    """Time one interval after the data is made; also how much the computation grew the process's peak RSS.

    A tiny call first pays each implementation's imports (scipy.stats alone takes a second), so the figure is
    the computation only.
    """
    IMPLEMENTATIONS[implementation](predictions(WARM_UP_ROWS), metric, WARM_UP_ROWS)
    data = predictions(rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    low, high = IMPLEMENTATIONS[implementation](data, metric, resamples)
    elapsed = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"seconds": elapsed, "low": low, "high": high, "rss_growth_mib": grown / 1024}


# ---- the benchmark ------------------------------------------------------------------------------------------


def run(ctx: Context) -> Section:
    if not module_exists(ctx, STATS_MODULE):
        return not_measurable(
            NAME,
            TITLE,
            ctx,
            "paired bootstrap speed-up",
            f"≥ {MIN_SPEEDUP:.0f}× scipy",
            f"`{STATS_MODULE}` is not on this build",
        )
    sizes, resamples = (SMOKE_SIZES, SMOKE_RESAMPLES) if ctx.smoke else (SIZES, RESAMPLES)
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    worst: tuple[float, list[str]] | None = None
    for rows in sizes:
        for metric in METRICS:
            args = [str(rows), metric, "--resamples", str(resamples)]
            scipy_resamples = SCIPY_RESAMPLES_AT_1M if rows >= 1_000_000 else resamples
            cases = {
                "mlgate": Case(ctx.module(NAME, "mlgate", *args)),
                "scipy": Case(ctx.module(NAME, "scipy", *args[:2], "--resamples", str(scipy_resamples)), runs=1),
            }
            runs = interleave(cases, repeats=1 if ctx.smoke or rows >= 1_000_000 else 3, warmup=0)
            row, speedup = _row(ctx, rows, metric, runs, cases, (resamples, scipy_resamples))
            section.rows.append(row)
            if worst is None or speedup < worst[0]:
                worst = (speedup, args)
    section.notes.append(
        f"Time is the interval computation only, after the same seeded predictions are made in a fresh process "
        f"(mlgate: median of 3 runs at 100k, one at 1M; scipy: one run, which takes minutes); peak RSS is the "
        f"whole process. Both give the {1 - ALPHA:.0%} percentile interval of head − base over resamples of the "
        "same rows; the intervals differ only by Monte Carlo noise, since each draws its own resamples. At 1M "
        f"rows scipy runs {SCIPY_RESAMPLES_AT_1M} resamples and its time is scaled to {RESAMPLES:,} (its cost is "
        "linear in the resamples); its interval there is from those resamples."
    )
    if section.misses and worst is not None and not ctx.smoke:
        section.notes.append(
            f"What dominates mlgate's slowest case ({worst[1][1]} at {int(worst[1][0]):,} rows):\n\n"
            + cprofile_table(ctx, ["-m", f"benchmarks.{NAME}", "mlgate", *worst[1]])
        )
    return section


def _row(
    ctx: Context,
    rows: int,
    metric: str,
    runs: dict[str, list[Measurement]],
    cases: dict[str, Case],
    resamples: tuple[int, int],
) -> tuple[Row, float]:
    """The figure of one (rows, metric); `resamples` is what mlgate and scipy each ran."""
    answers = {name: [json.loads(run.stdout) for run in measured] for name, measured in runs.items()}
    ours = statistics.median(answer["seconds"] for answer in answers["mlgate"])
    theirs = statistics.median(answer["seconds"] for answer in answers["scipy"]) * resamples[0] / resamples[1]
    scaled = f" (scaled from {resamples[1]} resamples)" if resamples[0] != resamples[1] else ""
    mine, scipy = answers["mlgate"][0], answers["scipy"][0]
    gap = max(abs(mine["low"] - scipy["low"]), abs(mine["high"] - scipy["high"]))
    speedup = theirs / ours
    label = f"{rows // 1000:,}k" if rows < 1_000_000 else f"{rows // 1_000_000}M"
    row = Row(
        f"{label} rows, {metric}: time; interval; peak RSS",
        f"{seconds(ours)}; [{mine['low']:+.4f}, {mine['high']:+.4f}]; {mib(median_rss(runs['mlgate']))}",
        f"scipy: {seconds(theirs)}{scaled}; [{scipy['low']:+.4f}, {scipy['high']:+.4f}]; "
        f"{mib(median_rss(runs['scipy']))}",
        times(speedup) + " faster",
        f"≥ {MIN_SPEEDUP:.0f}× faster, interval ends within {MAX_INTERVAL_GAP}",
        both(at_least(speedup, MIN_SPEEDUP), at_most(gap, MAX_INTERVAL_GAP, lambda v: f"{v:.4f}")),
        f"`{ctx.display(cases['mlgate'].argv)}` vs `{ctx.display(cases['scipy'].argv)}` (gap {gap:.4f})",
    )
    return row, speedup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.significance")
    parser.add_argument("implementation", choices=sorted(IMPLEMENTATIONS))
    parser.add_argument("rows", type=int)
    parser.add_argument("metric", choices=METRICS)
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    args = parser.parse_args(argv)
    print(json.dumps(measure_one(args.implementation, args.rows, args.metric, args.resamples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
