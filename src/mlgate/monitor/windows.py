"""Windows of a production log: `monitor.window` (`30m`, `6h`, `1d`, `1w`) cut UTC time into fixed,
epoch-aligned intervals, so a window is the same whichever run first sees it (a day is midnight to midnight UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mlgate.errors import InputError

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPEC = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


def parse_window(spec: str) -> int:
    """Seconds in a window spec such as `1d`; an InputError naming monitor.window otherwise."""
    match = _SPEC.match(str(spec))
    seconds = int(match.group(1)) * UNITS[match.group(2)] if match else 0
    if seconds <= 0 or (seconds < 86400 and 86400 % seconds) or (seconds >= 86400 and seconds % 86400):
        raise InputError(
            f"monitor.window: {spec!r} is not a window: use minutes, hours, days or weeks (30m, 6h, 1d, 1w) that "
            "divide a day evenly or are whole days"
        )
    return seconds


@dataclass(frozen=True, order=True)
class Window:
    start: int  # seconds since the epoch, UTC, inclusive
    seconds: int

    @property
    def end(self) -> int:
        return self.start + self.seconds

    @property
    def key(self) -> str:
        """The window's name in the history: its start, ISO 8601 in UTC (a date alone for whole days)."""
        moment = datetime.fromtimestamp(self.start, UTC)
        if self.seconds % 86400 == 0:
            return moment.strftime("%Y-%m-%d")
        return moment.strftime("%Y-%m-%dT%H:%MZ")

    @property
    def label(self) -> str:
        """A short chart label: the date for day windows, the time otherwise."""
        moment = datetime.fromtimestamp(self.start, UTC)
        return moment.strftime("%m-%d") if self.seconds % 86400 == 0 else moment.strftime("%m-%d %H:%M")

    def iso(self) -> tuple[str, str]:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return datetime.fromtimestamp(self.start, UTC).strftime(fmt), datetime.fromtimestamp(self.end, UTC).strftime(
            fmt
        )


def window_of(timestamp: float, seconds: int) -> Window:
    return Window(int(timestamp // seconds) * seconds, seconds)


def complete_windows(first: Window, as_of: float) -> list[Window]:
    """Every window from `first` whose end is at or before `as_of`: the ones a run may judge."""
    count = max(0, int((as_of - first.start) // first.seconds))
    return [Window(first.start + i * first.seconds, first.seconds) for i in range(count)]
