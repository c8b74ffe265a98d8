"""The demo's reports as pictures: where the screenshot test keeps them, and the contrast arithmetic it asserts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"  # kept after the run for a person to look at


def luminance(rgb: np.ndarray | list[int]) -> np.ndarray:
    """WCAG relative luminance of an (..., 3) array of 0-255 sRGB values."""
    import numpy as np

    channels = np.asarray(rgb, dtype=float) / 255
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast(rgb: np.ndarray, background: str) -> np.ndarray:
    """WCAG contrast ratio of each pixel against a #rrggbb background."""
    import numpy as np

    back = luminance([int(background[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = luminance(rgb)
    return (np.maximum(pixels, back) + 0.05) / (np.minimum(pixels, back) + 0.05)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"report screenshots (comment, summary, check run; light, dark): {SCREENSHOTS}")
