"""A gate rule in plain words: how the metric moved, with the interval labelled by the method that made it, the
test that gave the p-value, and what the rule allows — "`accuracy` fell 9.36 pts, 95% CI [−13.45, −5.26] pts
(paired bootstrap), McNemar exact p = 3.1e−5; allowed −1 pt".

Proportions (accuracy, precision, recall, f1, roc_auc between 0 and 1) move in percentage points; other
metrics in their own units, with the relative change beside.
"""

from __future__ import annotations

import math

from mlgate.compare.stats import LABEL_METRICS, metric_kind
from mlgate.numbers import digits_to_tell_apart
from mlgate.report.evidence import MetricRow
from mlgate.report.markdown import code, number, signed, text

PROPORTIONS = frozenset({*LABEL_METRICS, "roc_auc"})
MINUS = "−"
# The rule's outcome is stated by words, not by the sign of a number alone.
_LIMIT_STATUSES = {"below min": "below the minimum", "above max": "above the maximum"}
_OWN_WORDS = ("missing", "not a number", "no baseline")  # the rule's reason already says it best


def in_points(row: MetricRow) -> bool:
    """Whether the row is a proportion shown in percentage points."""
    kind = metric_kind(row.metric)
    values = [value for value in (row.base, row.head) if value is not None]
    return kind in PROPORTIONS and bool(values) and all(0 <= value <= 1 for value in values)


def _minus(shown: str) -> str:
    return MINUS + shown[1:] if shown.startswith("-") else shown


def points(value: float, *, sign: bool = True) -> str:
    """A change in percentage points with two decimals (three significant digits when smaller)."""
    scaled = value * 100
    if scaled == 0:
        return "0"
    shown = f"{scaled:+.2f}" if abs(scaled) >= 0.01 or scaled == 0 else f"{scaled:+.2g}"
    shown = _minus(shown)
    return shown if sign else shown.lstrip("+" + MINUS)


def base_and_head(row: MetricRow) -> tuple[str, str]:
    """Base and head at one precision, enough to tell them apart whenever they differ."""
    digits = digits_to_tell_apart([row.base, row.head])
    return number(row.base, digits), number(row.head, digits)


def delta(row: MetricRow, *, sign: bool = True) -> str:
    """Δ as the table shows it: `−9.36 pts`, or `+0.17485 (+256%)` with the relative change."""
    if row.delta is None:
        return "—"
    if in_points(row):
        return f"{points(row.delta, sign=sign)} pts"
    shown = signed(row.delta) if sign else number(abs(row.delta))
    if row.base and math.isfinite(row.delta / row.base) and row.delta:
        relative = row.delta / abs(row.base) * 100
        shown += f" ({_minus(f'{relative:+.3g}')}%)" if sign else f" ({abs(relative):.3g}%)"
    return shown


def movement(row: MetricRow) -> str:
    """`fell 9.36 pts`, `rose 0.17485 (256%)`, `did not change`."""
    if row.delta is None:
        return "has no base value to compare"
    if row.delta == 0:
        return "did not change"
    return f"{'rose' if row.delta > 0 else 'fell'} {delta(row, sign=False)}"


def bounds(row: MetricRow) -> str | None:
    """`[−13.45, −5.26] pts`: the interval of Δ in the units Δ is shown in."""
    if row.interval is None:
        return None
    low, high = row.interval
    return f"[{points(low)}, {points(high)}] pts" if in_points(row) else f"[{signed(low, 4)}, {signed(high, 4)}]"


def interval_label(row: MetricRow) -> str:
    """`95% CI, paired bootstrap`: the level and the method that made the interval."""
    level = f"{row.level * 100:g}% CI" if row.level is not None else "CI"
    return f"{level}, {text(row.interval_method)}" if row.interval_method else level


def interval(row: MetricRow) -> str | None:
    """`95% CI [−13.45, −5.26] pts (paired bootstrap)`."""
    shown = bounds(row)
    if shown is None:
        return None
    level = f"{row.level * 100:g}% CI" if row.level is not None else "CI"
    return f"{level} {shown}" + (f" ({text(row.interval_method)})" if row.interval_method else "")


def seeds_p_value(row: MetricRow) -> str | None:
    """`across seeds p = 0.38`: the change against seed-to-seed variance (train.seeds), when it was tested."""
    return f"across seeds p = {row.seeds_p:.2g}" if row.seeds_p is not None else None


def p_value(row: MetricRow, *, named: bool = True) -> str | None:
    """`McNemar exact p = 3.1e−5`; `paired bootstrap p < 0.0005` when no resample crossed zero (a p of 0 would
    claim a certainty that a finite number of resamples cannot give). `named=False` leaves the test's name out
    when it is the interval's method, already said."""
    if row.p_value is None:
        return None
    p = row.p_value
    test = f"{text(row.method)} " if row.method and (named or row.method != row.interval_method) else ""
    if "bootstrap" in (row.method or "") and row.resamples and p < 1 / row.resamples:
        return f"{test}p < {1 / row.resamples:.2g}"
    if p >= 0.001 or p == 0:
        return f"{test}p = {p:.2g}"
    mantissa, exponent = f"{p:.1e}".split("e")
    return f"{test}p = {mantissa.removesuffix('.0')}e{MINUS}{int(exponent[1:])}"


def allowed(row: MetricRow) -> str | None:
    """`allowed −1 pt` (higher is better) or `allowed +0.017049` (lower is better)."""
    if row.allowed is None or row.direction not in ("higher", "lower"):
        return None
    worse = -row.allowed if row.direction == "higher" else row.allowed
    if in_points(row):
        shown = _minus(f"{worse * 100:+.3g}")
        return f"allowed {shown} {'pt' if abs(worse * 100) == 1 else 'pts'}"
    return f"allowed {signed(worse)}"


def limit(row: MetricRow) -> str | None:
    """`0.88889 is below the minimum 0.9` when an absolute limit decided the rule."""
    words = _LIMIT_STATUSES.get(row.status or "")
    bound = row.minimum if row.status == "below min" else row.maximum
    if words is None or bound is None:
        return None
    return f"{number(row.head)} is {words} {number(bound)}"


def short(row: MetricRow) -> str:
    """The rule in a few words, for a headline or a check run's title: `` `accuracy` fell 9.36 pts ``."""
    if (row.status or "") in _OWN_WORDS and row.reason:
        return text(row.reason)
    if found := limit(row):
        return f"{code(row.metric)} {found}"
    return f"{code(row.metric)} {movement(row)}"


def evidence(row: MetricRow) -> str:
    """What backs `short`: base → head, the interval, the test, the allowance — joined by ` · `."""
    if (row.status or "") in _OWN_WORDS:
        return ""
    base, head = base_and_head(row)
    parts = [f"{base} → {head}", interval(row), p_value(row, named=False), seeds_p_value(row), allowed(row)]
    if limit(row) and row.delta is not None:
        parts.insert(1, movement(row))
    return " · ".join(part for part in parts if part)


def risk(row: MetricRow) -> float | None:
    """How much of its allowance the rule used (1 = at the limit; negative = improved), for ranking rules."""
    if row.delta is None or not row.allowed or row.direction not in ("higher", "lower"):
        return None
    worsening = -row.delta if row.direction == "higher" else row.delta
    return worsening / row.allowed
