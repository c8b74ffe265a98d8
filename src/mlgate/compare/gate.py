"""Put the pieces of the gate together: find each rule's metric, test its change, judge it.

Pure: takes the metric values read at base and head and the parsed predictions, returns rule results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from mlgate.compare import names
from mlgate.compare.diff import FileValues, finite_number
from mlgate.compare.policy import Measured, RuleResult, evaluate_rule
from mlgate.compare.predictions import PredictionsFile, pair
from mlgate.compare.seeds import SeedTest, seed_test
from mlgate.compare.stats import (
    METRICS,
    Interval,
    Predictions,
    StatsError,
    paired_interval,
    paired_seeds_interval,
    unpaired_interval,
)
from mlgate.config.model import GateRule, Significance
from mlgate.errors import InputError


class AmbiguousMetric(ValueError):
    def __init__(self, metric: str, files: list[str]) -> None:
        super().__init__(
            f"'{metric}' is a key of {' and '.join(files)}; name one as '<file>:{metric}' (e.g. '{files[0]}:{metric}')"
        )
        self.metric = metric


def locate(values: FileValues, name: str) -> list[tuple[str, str]]:
    """Where a gate's metric is: a name that is a (flattened, `a.b.c`) key of any metrics file is that key, even
    with a colon in it (`val:accuracy`); only a name no file has as a key is read as `<file>:<key>`, split
    after the longest metrics file name it starts with."""
    found = [(file, name) for file in sorted(values) if name in values[file]]
    if found:
        return found
    for file in sorted(values, key=len, reverse=True):
        if name.startswith(f"{file}:"):
            key = name[len(file) + 1 :]
            return [(file, key)] if key in values[file] else []
    return []


def measure(rule: GateRule, base: FileValues | None, head: FileValues, base_note: str | None = None) -> Measured:
    """The rule's metric at head and at base (`base` None: the base has no metrics at all)."""
    found = locate(head, rule.metric)
    if len(found) > 1:
        raise AmbiguousMetric(rule.metric, [f for f, _ in found])
    file, key = found[0] if found else (None, None)
    head_value = head[file][key] if file is not None and key is not None else None
    if base is None:
        return Measured(file, key, None, head_value, bool(found), base_note or "the base commit has no metrics")
    at_base = [(file, key)] if file is not None and key in base.get(file, {}) else locate(base, rule.metric)
    if len(at_base) != 1:
        note = base_note or f"{rule.metric} is not in the base metrics"
        return Measured(file, key, None, head_value, bool(found), note)
    base_value = base[at_base[0][0]][at_base[0][1]]
    note = None if finite_number(base_value) is not None else f"the base value is {base_value!r}"
    return Measured(file, key, base_value, head_value, bool(found), note)


@dataclass(frozen=True)
class PredictionSides:
    """The predictions available for significance tests, and whether their rows pair up."""

    head: PredictionsFile | None = None
    base: PredictionsFile | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedRuns:
    """The head trained once per seed (train.seeds): each run's metrics and, when kept, its predictions."""

    seeds: tuple[int, ...]
    metrics: tuple[FileValues, ...]
    predictions: tuple[PredictionsFile, ...] | None = None  # None: not every run's predictions were kept


def _seed_values(measured: Measured, runs: SeedRuns) -> list[float] | None:
    """The rule's metric in every seed's run (where the workspace has it), or None when a run lacks it."""
    if measured.file is None or measured.key is None:
        return None
    values = [finite_number(run.get(measured.file, {}).get(measured.key)) for run in runs.metrics]
    return None if any(value is None for value in values) else [v for v in values if v is not None]


def seeds_of(
    rule: GateRule, measured: Measured, runs: SeedRuns | None, alpha: float
) -> tuple[Measured, SeedTest | None, str | None]:
    """With train.seeds: the measured head is the mean over the seeds, tested against their variance."""
    if runs is None or not measured.head_present:
        return measured, None, None
    values = _seed_values(measured, runs)
    if values is None:
        return measured, None, f"{rule.metric}: no seed-to-seed test (not a number in every seed's metrics)"
    base = finite_number(measured.base)
    if base is None:
        return dataclasses.replace(measured, head=sum(values) / len(values)), None, None
    test = seed_test(runs.seeds, values, [base], alpha)
    return dataclasses.replace(measured, head=test.mean), test, None


def _seeds_interval(
    rule: GateRule, measured: Measured, sides: PredictionSides, runs: SeedRuns, significance: Significance
) -> Interval | None:
    """The paired bootstrap of (mean over the seeds' models − base) on shared row resamples, when every seed's
    predictions pair up with the base's; None otherwise (the kept run's interval stands in)."""
    name = names.parse(measured.key or rule.metric, METRICS)
    if name.kind is None or sides.base is None or runs.predictions is None:
        return None
    paired = [pair(sides.base, head) for head in runs.predictions]
    if any(p is None for p in paired):
        return None
    base = paired[0][0]  # type: ignore[index]  # the same base order for every seed: sorted by row id
    heads = [p[1] for p in paired if p is not None]
    options = {"alpha": significance.alpha, "resamples": significance.resamples, "seed": significance.seed}
    try:
        return paired_seeds_interval(name.kind, base, heads, **options)
    except StatsError:
        return None


@dataclass
class GateOutcome:
    results: list[RuleResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paired: bool = False


def significance_of(
    rule: GateRule,
    measured: Measured,
    sides: PredictionSides,
    significance: Significance,
    pairs: tuple[Predictions, Predictions] | None,
    split: str = "test",
) -> tuple[Interval | None, str | None]:
    """The bootstrap interval (and McNemar test) of the rule's metric, or why there is none."""
    name = names.parse(measured.key or rule.metric, METRICS)
    if name.kind is None:
        return None, name.why_not
    if sides.head is None:
        return None, "no predictions file (metrics.predictions) to test it"
    if not names.split_matches(name, split):
        return None, f"it is of split '{name.split}' and the predictions are of '{split}' (metrics.predictions_split)"
    options = {"alpha": significance.alpha, "resamples": significance.resamples, "seed": significance.seed}
    try:
        if pairs is not None:
            return paired_interval(name.kind, pairs[0], pairs[1], **options), None
        base_predictions = sides.base.predictions if sides.base is not None else None
        base_value = finite_number(measured.base)
        head = sides.head.predictions
        return unpaired_interval(name.kind, base_predictions, head, base_value=base_value, **options), None
    except StatsError as exc:
        return None, str(exc)


def _require_number(measured: Measured, metric: str) -> None:
    """A gated metric at head must be a finite number: text, a boolean, NaN or infinity is an input error."""
    if measured.head_present and finite_number(measured.head) is None:
        raise InputError(
            f"{metric} is {measured.head!r} at head, not a finite number: a gated metric must be one",
            file=measured.file,
        )


def evaluate_gate(
    rules: Sequence[GateRule],
    base: FileValues | None,
    head: FileValues,
    sides: PredictionSides,
    significance: Significance,
    base_note: str | None = None,
    *,
    split: str = "test",
    seeds: SeedRuns | None = None,
) -> GateOutcome:
    pairs = pair(sides.base, sides.head) if sides.base is not None and sides.head is not None else None
    outcome = GateOutcome(notes=list(sides.notes), paired=pairs is not None)
    if sides.base is not None and sides.head is not None and pairs is None:
        outcome.notes.append("base and head predictions hold different rows: intervals are unpaired")
    for rule in rules:
        measured = measure(rule, base, head, base_note)
        _require_number(measured, rule.metric)
        interval, untested = significance_of(rule, measured, sides, significance, pairs, split)
        if untested and sides.head is not None and names.parse(rule.metric, METRICS).kind is not None:
            outcome.notes.append(f"{rule.metric}: no significance test ({untested})")
        measured, tested, why_not = seeds_of(rule, measured, seeds, significance.alpha)
        if why_not:
            outcome.notes.append(why_not)
        if seeds is not None and interval is not None:
            interval = _seeds_interval(rule, measured, sides, seeds, significance) or interval
        outcome.results.append(evaluate_rule(rule, measured, interval, untested, tested))
    return outcome
