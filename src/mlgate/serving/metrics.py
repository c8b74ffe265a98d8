"""The serving figures of one model from what the probe measured, and the significance of a latency change.

Latency percentiles come from the single-row request times; their change between base and head is tested
with the Mann–Whitney U test on the two samples (scipy), and its interval is a bootstrap of the percentile
difference over request indices (request i of base and of head ran back to back on the same row, so the
indices are resampled jointly). Throughput, size and memory have one value per model: no test.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from mlgate.compare.policy import Measured, RuleResult, evaluate_rule
from mlgate.compare.stats import Interval
from mlgate.config.model import SERVING_PREFIX, GateRule, Significance

LATENCY_PERCENTILES = {"latency_p50_ms": 50.0, "latency_p95_ms": 95.0, "latency_p99_ms": 99.0}
SERVING_METRICS = (*LATENCY_PERCENTILES, "throughput_rows_per_s", "model_size_mb", "peak_memory_mb")
MB = 1_000_000


def figures(measured: Mapping[str, Any], model_bytes: int) -> dict[str, float | None]:
    """serving metric → value, from what was measured of one model ({latencies_ms, batch_rows and batch_ms
    or throughputs_rows_per_s, memory: {peak_bytes}}) and the model file's size."""
    import numpy as np

    latencies = np.asarray(measured.get("latencies_ms") or [], dtype=float)
    values: dict[str, float | None] = {
        name: float(np.percentile(latencies, q)) if latencies.size else None for name, q in LATENCY_PERCENTILES.items()
    }
    rows = measured.get("batch_rows") or 0
    throughputs = measured.get("throughputs_rows_per_s") or [rows / ms * 1000 for ms in measured.get("batch_ms") or []]
    values["throughput_rows_per_s"] = float(np.median(throughputs)) if throughputs else None
    values["model_size_mb"] = model_bytes / MB
    peak = (measured.get("memory") or {}).get("peak_bytes")
    values["peak_memory_mb"] = peak / MB if isinstance(peak, int | float) else None
    return values


def latency_interval(
    metric: str,
    base: Sequence[float],
    head: Sequence[float],
    *,
    alpha: float,
    resamples: int,
    seed: int,
) -> Interval:
    """The change of a latency percentile head − base: Mann–Whitney U's two-sided p on the samples, and the
    percentile bootstrap interval of the difference."""
    import numpy as np
    from scipy.stats import mannwhitneyu

    q = LATENCY_PERCENTILES[metric]
    b, h = np.asarray(base, dtype=float), np.asarray(head, dtype=float)
    n = min(b.size, h.size)
    rng = np.random.default_rng([seed, zlib.crc32(metric.encode("utf-8"))])
    rows = rng.integers(0, n, size=(resamples, n))
    deltas = np.percentile(h[:n][rows], q, axis=1) - np.percentile(b[:n][rows], q, axis=1)
    low, high = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    base_value, head_value = float(np.percentile(b, q)), float(np.percentile(h, q))
    return Interval(
        metric=metric,
        paired=True,
        n_base=int(b.size),
        n_head=int(h.size),
        base=base_value,
        head=head_value,
        delta=head_value - base_value,
        low=float(low),
        high=float(high),
        p_value=float(mannwhitneyu(h, b, alternative="two-sided").pvalue),
        test="Mann–Whitney U",
        alpha=alpha,
        resamples=resamples,
        bootstrap="paired bootstrap of the percentile",
    )


def judge(
    rules: Sequence[GateRule],
    measured: Mapping[str, Mapping[str, Any]],
    sizes: Mapping[str, int],
    significance: Significance,
    note: str | None = None,
) -> tuple[dict[str, dict[str, float | None]], list[RuleResult]]:
    """side → serving figures, and each serving.* rule judged on them: a latency percentile with its test on the
    two samples of request times, the one-value figures on the tolerance alone. `measured` has no base when
    the base commit has no model (`note` says why)."""
    values = {side: figures(measured[side], sizes[side]) for side in measured}
    results = []
    for rule in rules:
        name = rule.metric.removeprefix(SERVING_PREFIX)
        head_value = values["head"].get(name)
        base_value = values["base"].get(name) if "base" in values else None
        interval, untested = None, None
        if name in LATENCY_PERCENTILES and "base" in measured:
            interval = latency_interval(
                name,
                measured["base"]["latencies_ms"],
                measured["head"]["latencies_ms"],
                alpha=significance.alpha,
                resamples=significance.resamples,
                seed=significance.seed,
            )
        elif name not in LATENCY_PERCENTILES:
            untested = "one measurement per model"
        found = Measured(None, rule.metric, base_value, head_value, head_value is not None, note)
        results.append(evaluate_rule(rule, found, interval, untested))
    return values, results
