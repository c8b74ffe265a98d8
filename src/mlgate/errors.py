"""The error types behind mlgate's exit-code contract: 0 pass/warn, 1 gate failed, 2 usage/config/input error."""

from __future__ import annotations

import unicodedata
from pathlib import Path

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2


def one_line(text: str) -> str:
    """`text` as one printable line: tabs and line breaks become spaces, other control characters escapes
    (an error quoting a binary file's bytes must stay one line, and must not drive the terminal)."""
    shown = []
    for char in text:
        if char in "\t\n\r":
            shown.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            shown.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        else:
            shown.append(char)
    return "".join(shown)


class MlgateError(Exception):
    """An error the user can act on: printed as one sentence (no traceback) and mapped to an exit code."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class InputError(MlgateError):
    """Bad configuration, data, or arguments (exit 2)."""


class GateFailed(MlgateError):
    """The policy gate failed (exit 1). Raised after results and reports were written."""

    exit_code = EXIT_GATE_FAILED
