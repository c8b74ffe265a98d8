"""GitHub Actions runtime helpers: step outputs, job summary, annotations, log groups and masks.

Inside Actions (GITHUB_ACTIONS=true) they speak the runner's workflow-command protocol; outside they are
no-ops, except annotations, which become plain stderr lines so a laptop run still shows the finding.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

# GitHub caps one step's summary at 1 MiB; past it the upload fails, so we stop appending before that.
SUMMARY_LIMIT_BYTES = 1024 * 1024


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def escape_data(value: str) -> str:
    """Escape a workflow-command message (the part after `::`)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow-command property value (file=…, title=…): also `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_command(command: str, message: str, properties: Mapping[str, object] | None = None) -> str:
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in (properties or {}).items() if value is not None
    )
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def _emit(line: str) -> None:
    # Workflow commands are read from stdout by the runner; flush so they interleave with subprocess output.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def annotate(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    end_line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> None:
    """level is one of error, warning, notice."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"unknown annotation level {level!r}")
    if in_actions():
        props = {"file": file, "line": line, "endLine": end_line, "col": col, "title": title}
        _emit(format_command(level, message, props))
        return
    where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
    print(f"{level}: {where}{message}", file=sys.stderr)


def add_mask(value: str) -> None:
    if value and in_actions():
        _emit(format_command("add-mask", value))


@contextlib.contextmanager
def group(title: str) -> Iterator[None]:
    if not in_actions():
        yield
        return
    _emit(format_command("group", title))
    try:
        yield
    finally:
        _emit("::endgroup::")


def _delimiter_for(value: str) -> str:
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            return delimiter


def format_output(name: str, value: str) -> str:
    """One entry of $GITHUB_OUTPUT / $GITHUB_ENV; multiline values use a random heredoc delimiter."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = _delimiter_for(value)
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _append(env_var: str, text: str) -> bool:
    """Append to the runner's file named by `env_var`; a path that cannot take it (a full disk, a read-only
    folder, a directory) is an InputError naming the variable and the path."""
    from mlgate.fsutil import write_error

    target = os.environ.get(env_var)
    if not target or not in_actions():
        return False
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise write_error(exc, target, f"{env_var} file") from None
    return True


def set_output(name: str, value: str) -> None:
    _append("GITHUB_OUTPUT", format_output(name, value))


def append_summary(markdown: str) -> bool:
    """Append to the job summary; returns False outside Actions or when it would pass GitHub's 1 MiB cap."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target or not in_actions():
        return False
    path = Path(target)
    used = path.stat().st_size if path.is_file() else 0
    if used + len(markdown.encode("utf-8")) > SUMMARY_LIMIT_BYTES:
        return False
    return _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n")
