"""Seed-to-seed variance (`train.seeds`): is a metric's change larger than what changing the seed alone does?

The head is trained once per seed; the base is what its commit holds (one run, so one draw of its own seed
noise), or one value per seed when the base was trained with the seeds too. With one base value the test
asks whether that value is outside what the head's seeds give: t = (mean_head − base) / (s·√(1 + 1/k)), k − 1
degrees of freedom, s the head's seed-to-seed standard deviation (the base's seed noise taken to be the
head's). With several base values it is Welch's t-test. A training that no seed moves (s = 0) leaves the
seeds nothing to say: any change is then significant under this test and the row test decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.compare.diff import finite_number

# Spreads below this fraction of the values' size are float printing, not the seed.
RELATIVE_SLACK = 1e-12


@dataclass(frozen=True)
class SeedTest:
    seeds: tuple[int, ...]
    head: tuple[float, ...]  # the metric at head, one value per seed (train.seeds' order)
    base: tuple[float, ...]  # at base: the committed value, or one per seed
    p_value: float
    test: str
    alpha: float

    @property
    def mean(self) -> float:
        return sum(self.head) / len(self.head)

    @property
    def sd(self) -> float:
        return _sd(self.head)

    @property
    def delta(self) -> float:
        return self.mean - sum(self.base) / len(self.base)

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": list(self.seeds),
            "head": list(self.head),
            "base": list(self.base),
            "mean": self.mean,
            "sd": self.sd,
            "delta": self.delta,
            "p_value": self.p_value,
            "test": self.test,
            "alpha": self.alpha,
            "significant": self.significant,
        }


def _sd(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return 0.0 if spread <= RELATIVE_SLACK * max(1.0, abs(mean)) else spread


def seed_test(seeds: Sequence[int], head: Sequence[float], base: Sequence[float], alpha: float) -> SeedTest:
    """Two-sided test of mean(head) − mean(base) against seed-to-seed variance (see the module's docstring)."""
    from scipy.stats import t as student

    k, m = len(head), len(base)
    delta = sum(head) / k - sum(base) / m
    head_sd, base_sd = _sd(head), _sd(base)
    if m >= 2:
        test = f"Welch t-test over {k} and {m} seeds"
        parts = (head_sd**2 / k, base_sd**2 / m)
        se = math.sqrt(sum(parts))
        df = sum(parts) ** 2 / sum(p**2 / (n - 1) for p, n in zip(parts, (k, m), strict=True) if p) if se else 0.0
    else:
        test = f"t-test of the base against {k} seeds"
        se, df = head_sd * math.sqrt(1 + 1 / k), k - 1
    if se == 0:
        p = 1.0 if abs(delta) <= RELATIVE_SLACK * max(1.0, abs(sum(base) / m)) else 0.0
    else:
        p = float(min(1.0, 2 * student.sf(abs(delta) / se, df)))
    return SeedTest(tuple(seeds), tuple(head), tuple(base), p, test, alpha)


def describe(test: SeedTest) -> str:
    """`over 3 seeds (42: 0.951, 1: 0.947, 2: 0.956), t-test … p=0.03`: the per-seed figures and the test."""
    from mlgate import numbers

    shown = numbers.numbers(list(test.head))
    figures = ", ".join(f"{seed}: {value}" for seed, value in zip(test.seeds, shown, strict=True))
    mean = numbers.number(test.mean)
    return f"over {len(test.seeds)} seeds ({figures}; mean {mean}), {test.test} p={test.p_value:.3g}"


def spread_summary(runs: Sequence[tuple[int, dict[str, dict[str, Any]]]], gated: Sequence[str] = ()) -> str:
    """One line on what the seeds moved: the gated metrics' ranges over the seeds (else the metric that moved
    most), and how many other metrics vary."""
    from mlgate import numbers

    ranges = []
    for file, values in runs[0][1].items():
        for key in values:
            found = [finite_number(run.get(file, {}).get(key)) for _, run in runs]
            numbers_found = [value for value in found if value is not None]
            if len(numbers_found) == len(runs) and max(numbers_found) > min(numbers_found):
                low, high = min(numbers_found), max(numbers_found)
                ranges.append((key in gated or f"{file}:{key}" in gated, high - low, key, low, high))
    seeds = ", ".join(str(seed) for seed, _ in runs)
    if not ranges:
        return f"{len(runs)} seeds ({seeds}) gave the same metrics"
    ranges.sort(reverse=True)
    shown = [r for r in ranges if r[0]][:3] or ranges[:1]
    parts = []
    for _, _, key, low, high in shown:
        low_shown, high_shown = numbers.numbers([low, high])
        parts.append(f"{key} from {low_shown} to {high_shown}")
    rest = len(ranges) - len(shown)
    more = f"; {rest} more metric{'s vary' if rest > 1 else ' varies'}" if rest else ""
    return f"{len(runs)} seeds ({seeds}): {', '.join(parts)}{more}"
