"""Metric values print with at least five significant digits, and different values never print alike."""

from __future__ import annotations

import pytest

from mlgate.numbers import number, numbers, signed


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.946020, "0.94602"),
        (0.94509, "0.94509"),
        (0.9, "0.9"),
        (12345.678, "12,346"),
        (1234.5678, "1234.6"),
        (0.000012345678, "1.2346e-5"),
        (3, "3"),
        (0.0, "0"),
        (float("nan"), "NaN"),
    ],
)
def test_five_significant_digits(value: float, shown: str) -> None:
    assert number(value) == shown


def test_values_that_differ_never_print_alike() -> None:
    assert numbers([0.946020, 0.946021]) == ["0.94602", "0.946021"]
    assert numbers([12345.61, 12345.62]) == ["12,345.61", "12,345.62"]
    assert numbers([0.5, 0.5]) == ["0.5", "0.5"]


def test_a_change_keeps_its_sign_and_is_never_zero_unless_it_is() -> None:
    assert signed(0.000001) == "+1e-6"
    assert signed(-0.01682) == "-0.01682"
    assert signed(0.0) == "0"
