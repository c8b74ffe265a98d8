"""The metric gate: each mlgate.yml `metrics.gate` rule against the base and head values, then one verdict.

Per rule, in order: the metric must exist and be a finite number at head (else fail); absolute floors and
ceilings (`min`/`max`) always apply; the change against the base applies only when the base has a value
("no baseline" otherwise). A worsening beyond the tolerance is "regressed" only when it is also significant
at alpha — unless the rule sets `require_significance: false` or no test could be run — and "within noise"
otherwise. A failing rule with `required: false` warns instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate import numbers
from mlgate.compare.diff import finite_number
from mlgate.compare.seeds import SeedTest, describe
from mlgate.compare.stats import Interval
from mlgate.config.model import GateRule

# A worsening counts only past the tolerance by more than float noise: 0.9 - 0.89 must pass max_drop 0.01.
FLOAT_SLACK = 1e-9

PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclass(frozen=True)
class Measured:
    """A gated metric's values: where it was found, and its raw values at base and head (None: absent)."""

    file: str | None
    key: str | None
    base: Any = None
    head: Any = None
    head_present: bool = False
    base_note: str | None = None  # why the base has no usable value, when the reason is not obvious


@dataclass(frozen=True)
class RuleResult:
    rule: GateRule
    measured: Measured
    status: str  # improved | unchanged | within tolerance | within noise | regressed | below min | above max
    #              | missing | not a number | no baseline | ok
    outcome: str  # pass | warn | fail
    reason: str
    interval: Interval | None = None
    untested: str | None = None  # why no significance test was run, when none was
    seeds: SeedTest | None = None  # train.seeds: the change against seed-to-seed variance

    @property
    def delta(self) -> float | None:
        base, head = finite_number(self.measured.base), finite_number(self.measured.head)
        return head - base if base is not None and head is not None else None

    def to_dict(self) -> dict[str, Any]:
        rule = self.rule
        tolerance = rule.tolerance
        base = finite_number(self.measured.base)
        return {
            "metric": rule.metric,
            "file": self.measured.file,
            "key": self.measured.key,
            "direction": rule.direction,
            "base": self.measured.base,
            "head": self.measured.head,
            "delta": self.delta,
            "tolerance": str(tolerance) if tolerance is not None else None,
            "allowed_worsening": tolerance.allowed(base) if tolerance is not None and base is not None else None,
            "min": rule.min,
            "max": rule.max,
            "required": rule.required,
            "require_significance": rule.require_significance,
            "status": self.status,
            "outcome": self.outcome,
            "reason": self.reason,
            "significance": self.interval.to_dict() if self.interval is not None else None,
            "untested": self.untested,
            "seeds": self.seeds.to_dict() if self.seeds is not None else None,
        }


def _fmt(value: float) -> str:
    return numbers.number(value)


def _movement(name: str, base: float, head: float) -> str:
    """`name base → head`, both at a precision that tells them apart."""
    shown_base, shown_head = numbers.numbers([base, head])
    return f"{name} {shown_base} → {shown_head}"


def _worse_and_significant(rule: GateRule, interval: Interval) -> bool:
    delta = interval.delta if interval.delta is not None else (interval.low + interval.high) / 2
    worse = delta < 0 if rule.direction == "higher" else delta > 0
    return interval.significant and worse


def _significance_note(interval: Interval) -> str:
    bounds = f"{1 - interval.alpha:.0%} CI [{numbers.signed(interval.low)}, {numbers.signed(interval.high)}]"
    return f"{interval.test} p={interval.p_value:.3g}, {bounds}"


def _seeds_worse(rule: GateRule, seeds: SeedTest) -> bool:
    worse = seeds.delta < 0 if rule.direction == "higher" else seeds.delta > 0
    return seeds.significant and worse


def _judge(
    rule: GateRule,
    measured: Measured,
    interval: Interval | None,
    untested: str | None,
    seeds: SeedTest | None = None,
) -> tuple[str, bool, str]:
    """(status, failed, reason) of one rule before `required` is applied. With `seeds`, the head value is the
    mean over the seeds, and a worsening is regressed only when significant under both the row resampling
    and the seed-to-seed variance (the seeds alone decide when the rows could not be tested)."""
    name = rule.metric
    where = f" ({measured.file})" if measured.file else ""
    if not measured.head_present:
        return "missing", True, f"{name} is missing from the head metrics{where}"
    head = finite_number(measured.head)
    if head is None:
        return "not a number", True, f"{name} is {measured.head!r} at head{where}, not a finite number"
    if rule.min is not None and head < rule.min:
        return "below min", True, f"{name} {_fmt(head)} is below the minimum {_fmt(rule.min)}"
    if rule.max is not None and head > rule.max:
        return "above max", True, f"{name} {_fmt(head)} is above the maximum {_fmt(rule.max)}"
    base = finite_number(measured.base)
    if base is None:
        note = measured.base_note or "the base has no value for it"
        return "no baseline", False, f"{name} {_fmt(head)}: no baseline ({note}); only absolute limits apply"
    change = head - base
    worsening = -change if rule.direction == "higher" else change
    if worsening <= FLOAT_SLACK:
        status = "unchanged" if abs(change) <= FLOAT_SLACK else "improved"
        return status, False, _movement(name, base, head)
    tolerance = rule.tolerance
    if tolerance is None:
        return "ok", False, f"{_movement(name, base, head)} (no tolerance set)"
    allowed = tolerance.allowed(base)
    movement = f"{_movement(name, base, head)} ({numbers.signed(change)}; allowed worsening {_fmt(allowed)})"
    if worsening <= allowed + FLOAT_SLACK:
        return "within tolerance", False, movement
    if seeds is not None:
        movement += f" {describe(seeds)}"
    if not rule.require_significance:
        return "regressed", True, f"{movement}; significance not required"
    if interval is None and seeds is None:
        return "regressed", True, f"{movement}; no significance test" + (f": {untested}" if untested else "")
    rows = None if interval is None else _worse_and_significant(rule, interval)
    rows_said = f"rows: {_significance_note(interval)}" if interval is not None else f"rows untested: {untested}"
    if seeds is None:
        rows_said = _significance_note(interval) if interval is not None else rows_said
    seeded = None if seeds is None else _seeds_worse(rule, seeds)
    if rows is not False and seeded is not False:
        return "regressed", True, f"{movement}; significant: {rows_said}"
    if seeds is not None and rows:
        return "within noise", False, f"{movement}; not significant across seeds ({rows_said})"
    return "within noise", False, f"{movement}; not significant: {rows_said}"


def evaluate_rule(
    rule: GateRule,
    measured: Measured,
    interval: Interval | None = None,
    untested: str | None = None,
    seeds: SeedTest | None = None,
) -> RuleResult:
    status, failed, reason = _judge(rule, measured, interval, untested, seeds)
    outcome = PASS if not failed else FAIL if rule.required else WARN
    if failed and not rule.required:
        reason += " (advisory rule)"
    return RuleResult(rule, measured, status, outcome, reason, interval, untested if interval is None else None, seeds)


def gate_verdict(results: list[RuleResult]) -> str:
    outcomes = {r.outcome for r in results}
    return FAIL if FAIL in outcomes else WARN if WARN in outcomes else PASS


def summarize(results: list[RuleResult], *, baseline: bool, note: str | None = None) -> str:
    """One line saying why (the verdict itself is said beside it): what failed or warned first, else how many
    rules passed; without a baseline it starts by saying so, and why (`note`)."""
    lead = "" if baseline else f"no baseline ({note}); " if note else "no baseline; "
    if not results:
        return f"{lead}no gate rules in mlgate.yml (metrics.gate)"
    flagged = [r for r in results if r.outcome != PASS]
    if not flagged:
        noise = sum(r.status == "within noise" for r in results)
        extra = f" ({noise} within noise)" if noise else ""
        return f"{lead}all {len(results)} gate rules passed{extra}"
    head = "; ".join(r.reason for r in flagged[:3])
    more = f"; and {len(flagged) - 3} more" if len(flagged) > 3 else ""
    return f"{lead}{head}{more}"
