"""The gate's rules, one status at a time: direction, absolute and relative tolerances, floors and ceilings,
advisory rules, missing and non-numeric values, no baseline, and significance (regressed vs within noise)."""

from __future__ import annotations

import pytest

from mlgate.compare.gate import AmbiguousMetric, locate, measure
from mlgate.compare.policy import Measured, evaluate_rule, gate_verdict, summarize
from mlgate.compare.stats import Interval
from mlgate.config.model import GateRule, Tolerance


def values(base: object, head: object) -> Measured:
    return Measured("metrics.json", "m", base, head, head_present=True)


def interval(delta: float, low: float, high: float, p: float) -> Interval:
    return Interval("accuracy", True, 100, 100, 0.9, 0.9 + delta, delta, low, high, p, "paired bootstrap", 0.05, 1000)


HIGHER = GateRule("m", "higher", max_drop=Tolerance(0.01), min=0.5)
LOWER = GateRule("m", "lower", max_increase=Tolerance.parse("10%"), max=2.0)


@pytest.mark.parametrize(
    ("rule", "base", "head", "status", "outcome"),
    [
        (HIGHER, 0.90, 0.95, "improved", "pass"),
        (HIGHER, 0.90, 0.90, "unchanged", "pass"),
        (HIGHER, 0.90, 0.89, "within tolerance", "pass"),  # exactly the tolerance, despite float rounding
        (HIGHER, 0.90, 0.85, "regressed", "fail"),
        (HIGHER, 0.90, 0.40, "below min", "fail"),
        (HIGHER, None, 0.80, "no baseline", "pass"),
        (HIGHER, None, 0.40, "below min", "fail"),
        (HIGHER, float("nan"), 0.80, "no baseline", "pass"),
        (HIGHER, 0.90, float("nan"), "not a number", "fail"),
        (HIGHER, 0.90, "high", "not a number", "fail"),
        (HIGHER, 0.90, True, "not a number", "fail"),
        (LOWER, 1.00, 1.10, "within tolerance", "pass"),  # 10% of the base
        (LOWER, 1.00, 1.11, "regressed", "fail"),
        (LOWER, 1.00, 0.50, "improved", "pass"),
        (LOWER, 1.90, 2.05, "above max", "fail"),
        (GateRule("m", "higher"), 0.9, 0.1, "ok", "pass"),  # no tolerance: only absolute limits
    ],
)
def test_rule_statuses(rule: GateRule, base: object, head: object, status: str, outcome: str):
    result = evaluate_rule(rule, values(base, head))
    assert (result.status, result.outcome) == (status, outcome), result.reason


def test_missing_head_metric_fails_with_reason():
    result = evaluate_rule(HIGHER, Measured("metrics.json", None, 0.9, None, head_present=False))
    assert (result.status, result.outcome) == ("missing", "fail")
    assert result.reason == "m is missing from the head metrics (metrics.json)"


def test_advisory_rule_warns():
    rule = GateRule("m", "higher", max_drop=Tolerance(0.01), required=False)
    result = evaluate_rule(rule, values(0.9, 0.8))
    assert (result.status, result.outcome) == ("regressed", "warn")
    assert result.reason.endswith("(advisory rule)")


def test_significance_decides_between_regressed_and_within_noise():
    significant = interval(-0.05, -0.08, -0.02, 0.001)
    noise = interval(-0.05, -0.11, 0.01, 0.2)
    assert evaluate_rule(HIGHER, values(0.90, 0.85), significant).status == "regressed"
    within = evaluate_rule(HIGHER, values(0.90, 0.85), noise)
    assert (within.status, within.outcome) == ("within noise", "pass")
    assert "not significant: paired bootstrap p=0.2, 95% CI [-0.11, +0.01]" in within.reason
    strict = GateRule("m", "higher", max_drop=Tolerance(0.01), require_significance=False)
    assert evaluate_rule(strict, values(0.90, 0.85), noise).status == "regressed"
    # A significant change in the good direction is never a regression, whatever the metrics file says.
    better = interval(0.05, 0.02, 0.08, 0.001)
    assert evaluate_rule(HIGHER, values(0.90, 0.85), better).status == "within noise"


def test_verdict_and_summary():
    passing = evaluate_rule(HIGHER, values(0.9, 0.91))
    warning = evaluate_rule(GateRule("w", "higher", max_drop=Tolerance(0), required=False), values(0.9, 0.8))
    failing = evaluate_rule(HIGHER, values(0.9, 0.4))
    assert gate_verdict([passing]) == "pass"
    assert gate_verdict([passing, warning]) == "warn"
    assert gate_verdict([passing, warning, failing]) == "fail"
    assert gate_verdict([]) == "pass"
    assert summarize([passing], baseline=True) == "all 1 gate rules passed"
    assert summarize([], baseline=False) == "no baseline; no gate rules in mlgate.yml (metrics.gate)"
    assert summarize([passing, failing], baseline=True) == "m 0.4 is below the minimum 0.5"


def test_metrics_are_found_by_key_or_file_and_key():
    head = {"a.json": {"acc": 0.9, "x.y.z": 1}, "b.json": {"acc": 0.8}}
    assert locate(head, "x.y.z") == [("a.json", "x.y.z")]
    assert locate(head, "b.json:acc") == [("b.json", "acc")]
    assert locate(head, "nope") == []
    with pytest.raises(AmbiguousMetric, match=r"'acc' is a key of a\.json and b\.json; name one as '<file>:acc'"):
        measure(GateRule("acc", "higher"), None, head)
    found = measure(GateRule("b.json:acc", "higher"), {"b.json": {"acc": 0.7}}, head)
    assert (found.file, found.key, found.base, found.head) == ("b.json", "acc", 0.7, 0.8)
