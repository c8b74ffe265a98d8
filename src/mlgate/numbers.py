"""How mlgate shows a metric value: at least five significant digits, and always enough that two different
values, and a change that is not zero, never print alike.

DVC rounds `dvc metrics diff` to 5 decimals (0.94602 vs 0.94509); four significant digits (0.946 vs 0.9451)
made a small regression look like no change. Plain text, no markup: the report escapes it, the gate's
reasons and the console print it as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_DIGITS = 5
MAX_DIGITS = 17  # a double never needs more to print distinct values distinctly
# Outside this range of magnitudes a fixed-point number is mostly zeros: scientific notation instead.
FIXED_RANGE = (1e-4, 1e15)
GROUPED_FROM = 1e4  # thousands separators from here on (12,346 rather than 12346)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(value: float, digits: int = MIN_DIGITS) -> str:
    """`value` with `digits` significant digits (trailing zeros dropped); integers exactly as they are."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if not FIXED_RANGE[0] <= magnitude < FIXED_RANGE[1]:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{_trim(mantissa)}e{int(exponent)}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    grouping = "," if magnitude >= GROUPED_FROM else ""
    return _trim(f"{value:{grouping}.{decimals}f}")


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: float, digits: int = MIN_DIGITS) -> str:
    """A change, always with its sign so that 0.01 and +0.01 never look alike."""
    shown = number(value, digits)
    return "+" + shown if value > 0 else shown


def digits_to_tell_apart(values: Sequence[object]) -> int:
    """The fewest significant digits (at least MIN_DIGITS) at which the different finite floats among `values`
    all print differently: 0.946020 and 0.946021 need seven."""
    floats = {float(v) for v in values if is_number(v) and math.isfinite(v)}  # type: ignore[arg-type]
    for digits in range(MIN_DIGITS, MAX_DIGITS + 1):
        if len({number(v, digits) for v in floats}) == len(floats):
            return digits
    return MAX_DIGITS


def numbers(values: Sequence[float]) -> list[str]:
    """`values` at one precision, enough that different values print differently (base → head)."""
    digits = digits_to_tell_apart(values)
    return [number(v, digits) for v in values]
