"""Reliability bench: the faults every GitHub-talking command is run against and what a cell of that matrix
expects; the bad-input corpus's case type and its check (exit 2, one line naming the culprit, nothing
changed); a digest of a directory tree; and the fault-matrix table printed at the end of the pytest run.

A matrix cell is one (command, request, fault). The cell's test records `fault_cell` in its user properties;
`pytest_terminal_summary` below collects those reports (also from xdist workers) into the table.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CELL_PROPERTY = "fault_cell"
# The GitHub driver's knobs for the matrix: a short client timeout and a small retry budget keep a "gives
# up" cell to about two seconds of waiting (backoff 0.5 s + 1 s; the next 2 s wait would pass the budget).
API_TIMEOUT = 1
RETRY_BUDGET = 3.0
# Longer than API_TIMEOUT, shorter than API_TIMEOUT plus the first backoff (0.5 s): the server has applied
# the request by the time the driver looks for its effect, as GitHub has (it ends requests at 10 s, the
# driver's default timeout is 15 s).
SLOW_DELAY = API_TIMEOUT + 0.2


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour of one request (GitHubStandIn.fault keyword arguments) and what it must lead to:
    `error` None means the command must recover; else the one-line error must match this regex (exit 2)."""

    id: str
    options: Mapping[str, Any]
    error: str | None = None


FAULTS: tuple[Fault, ...] = (
    Fault("500 once", {"status": 500}),
    Fault("502 once", {"status": 502}),
    Fault("503 once", {"status": 503}),
    Fault("500 always", {"status": 500, "times": None}, r"failed after \d attempt\(s\): HTTP 500"),
    Fault("502 always", {"status": 502, "times": None}, r"failed after \d attempt\(s\): HTTP 502"),
    Fault("503 always", {"status": 503, "times": None}, r"failed after \d attempt\(s\): HTTP 503"),
    Fault("connection reset", {"reset": True}),
    Fault("reset after apply", {"reset": True, "after_apply": True}),  # the response is lost, the effect is not
    Fault("slow past timeout", {"delay": SLOW_DELAY}),
    Fault("401", {"status": 401, "body": {"message": "Bad credentials"}}, r"HTTP 401 Bad credentials; the token"),
    Fault(
        "403 read-only",
        {"status": 403, "body": {"message": "Resource not accessible by integration"}},
        r"HTTP 403 Resource not accessible by integration|the token may not write here",
    ),
    Fault("404", {"status": 404, "body": {"message": "Not Found"}}, r"HTTP 404 Not Found; not found"),
    Fault(
        "422",
        {"status": 422, "body": {"message": "Validation Failed", "errors": []}},
        r"HTTP 422 Validation Failed; GitHub refused",
    ),
    Fault("primary rate limit", {"rate_limit": "primary", "reset_in": 1}),
    Fault("secondary rate limit", {"rate_limit": "secondary", "retry_after": 1}),
)


@dataclass(frozen=True)
class Expect:
    """A cell's outcome: the exit code, the command's records afterwards (counts in the stand-in, files it
    leaves), and the one error line's regex (None: no error line at all)."""

    code: int
    records: Mapping[str, object]
    error: str | None = None


@dataclass(frozen=True)
class Request:
    """One request of a command that a fault is aimed at, and the records when it fails for good: `broken`
    when every try fails, `broken_once` when a single answer was final (401, 404, …; default `broken`)."""

    label: str
    method: str
    path: str  # regex of the decoded path below the API base URL
    broken: Mapping[str, object]
    broken_once: Mapping[str, object] | None = None


def tree_digest(root: Path, *, exclude: Iterable[str] = ()) -> str:
    """One hash of every path, type, mode, symlink target and file content under `root` (not following
    symlinks), so any change (a file written, truncated, removed, chmod-ed) changes it."""
    skip = set(exclude)
    digest = hashlib.sha256()
    if not root.exists():
        return "absent"
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted([*files, *(d for d in dirs if (Path(folder) / d).is_symlink())]):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if relative in skip:
                continue
            info = path.lstat()
            digest.update(f"{relative}\0{info.st_mode:o}\0".encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        for name in dirs:
            digest.update(f"{(Path(folder) / name).relative_to(root).as_posix()}/\0".encode())
    return digest.hexdigest()


def run_cli(*args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120) -> Any:
    """`python -m mlgate` in a subprocess, with none of the caller's GITHUB_*/MLGATE_*/RUNNER_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_", "RUNNER_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args],
        cwd=cwd,
        env=clean | dict(env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def error_lines(stdout: str, stderr: str) -> list[str]:
    """The error lines a run printed: `::error …` annotations (Actions) and `mlgate: error:` lines."""
    lines = [*stdout.splitlines(), *stderr.splitlines()]
    return [line for line in lines if line.startswith(("::error", "mlgate: error:"))]


# ---------------------------------------------------------------------------------------------- the table

OUTCOMES = {
    "passed": "ok",
    "failed": "FAIL",
    "error": "FAIL",
    "xfailed": "xfail",
    "xpassed": "XPASS",
    "skipped": "skip",
}
_CELL = re.compile(r"^(?P<command>[^\t]+)\t(?P<request>[^\t]+)\t(?P<fault>[^\t]+)$")


def _cells(terminalreporter: Any) -> dict[tuple[str, str, str], str]:
    cells: dict[tuple[str, str, str], str] = {}
    for category, reports in terminalreporter.stats.items():
        if category not in OUTCOMES:
            continue  # "" holds the passing setup and teardown phases, "warnings" other records
        for report in reports:
            properties = dict(getattr(report, "user_properties", ()) or ())
            match = _CELL.match(str(properties.get(CELL_PROPERTY, "")))
            if match is None:
                continue
            key = (match["command"], match["request"], match["fault"])
            if cells.get(key) in (None, "ok"):  # a failed teardown after a passed call still fails the cell
                cells[key] = OUTCOMES[category]
    return cells


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    cells = _cells(terminalreporter)
    if not cells:
        return
    columns = sorted({(command, request) for command, request, _ in cells})
    faults = [f.id for f in FAULTS] + sorted({fault for *_, fault in cells} - {f.id for f in FAULTS})
    first = max(len(f) for f in faults)
    heads = [f"{command}: {request}" for command, request in columns]
    widths = [max(len(h), 5) for h in heads]
    write = terminalreporter.write_line
    terminalreporter.section("GitHub fault matrix")
    write(" | ".join(["fault".ljust(first), *(h.ljust(w) for h, w in zip(heads, widths, strict=True))]))
    write("-+-".join(["-" * first, *("-" * w for w in widths)]))
    for fault in faults:
        row = [cells.get((command, request, fault), "-") for command, request in columns]
        if all(value == "-" for value in row):
            continue
        write(" | ".join([fault.ljust(first), *(v.ljust(w) for v, w in zip(row, widths, strict=True))]))
    passed = sum(1 for value in cells.values() if value == "ok")
    write(f"fault matrix: {passed}/{len(cells)} cells passed")


# ---------------------------------------------------------------------------------------------- bad inputs

SECRET = "s3cr3t-outside-the-workspace"  # in every file outside the workspace; no output may ever show it


@dataclass(frozen=True)
class Link:
    """A symlink; `target` as written into the link (relative to the link's folder, or absolute)."""

    target: str


@dataclass(frozen=True)
class Sparse:
    """A file of `size` bytes that takes no disk space (a huge input without writing it)."""

    size: int
    head: bytes = b""


class Folder:
    """A directory where a file is expected."""


class Fifo:
    """A named pipe where a file is expected: opening it for reading blocks until a writer comes."""


class Device:
    """A character device where a file is expected: /dev/zero's twin (reading it never ends). Needs root."""


class Socket:
    """A Unix socket where a file is expected (nothing listens on it)."""


Content = str | bytes | Link | Sparse | Folder | Fifo | Device | Socket


@dataclass(frozen=True)
class BadInput:
    """One malformed input: the workspace files it needs (on top of the area's valid ones), the command line,
    and `culprit`, the text the one error line must contain (a file, key or column name; several, all of them,
    as a tuple). `env` values may
    use {workspace} and {runner} (the runner's files live outside the workspace). `requires` names the mlgate
    command; a case whose command is not in this checkout yet is an expected failure, not a silent pass."""

    id: str
    files: Mapping[str, Content]
    args: tuple[str, ...]
    culprit: str | tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    xfail: str | None = None


def materialize(root: Path, files: Mapping[str, Content]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        if isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, Sparse):
            with path.open("wb") as handle:
                handle.write(content.head)
                handle.truncate(content.size)
        elif isinstance(content, Folder):
            path.mkdir(exist_ok=True)
        elif isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Device):
            try:
                os.mknod(path, stat.S_IFCHR | 0o444, os.makedev(1, 5))
            except PermissionError:
                pytest.skip("making a device file needs root")
        elif isinstance(content, Socket):
            with socket.socket(socket.AF_UNIX) as listener:
                listener.bind(str(path))
        else:
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def bad_input_params(cases: Iterable[BadInput], command: str) -> list[Any]:
    """pytest params of `cases`; all of them expected failures while `command` is not in this checkout."""
    from mlgate.cli import COMMANDS

    missing = command not in COMMANDS
    params = []
    for case in cases:
        marks = []
        if missing:
            reason = f"mlgate {command} is not on this branch yet"
            marks.append(pytest.mark.xfail(reason=reason, run=False, strict=True))
        elif case.xfail:
            marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def check_bad_input(
    case: BadInput,
    tmp_path: Path,
    base: Mapping[str, Content] | None = None,
    *,
    setup: Callable[[Path], None] | None = None,
    ignore: Iterable[str] = (),
) -> None:
    """Run the case's command line in a fresh workspace (the area's valid `base` files, then `setup`, e.g. a
    commit of them, then the case's files), and check the contract: exit 2, exactly one output line, the error
    naming the culprit, no traceback, no byte of a file outside the workspace shown, and the workspace (less
    the `ignore`d folders, such as .git whose index git refreshes, and mlgate's own .mlgate, where an errored
    step is recorded) and the runner's files as they were."""
    workspace, runner, outside = tmp_path / "workspace", tmp_path / "runner", tmp_path / "outside"
    for folder in (workspace, runner, outside):
        folder.mkdir(exist_ok=True)
    for name in ("secret.txt", "secret.csv", "secret.json", "secret.yml"):
        (outside / name).write_text(f"{SECRET}\n", encoding="utf-8")
    (outside / "dir").mkdir(exist_ok=True)
    materialize(workspace, dict(base or {}))
    if setup is not None:
        setup(workspace)
    materialize(workspace, case.files)
    for name in ("gh_output", "gh_summary", "gh_env", "gh_path"):
        (runner / name).touch()
    env = {key: value.format(workspace=workspace, runner=runner) for key, value in case.env.items()}
    ignore = (*ignore, ".mlgate")
    before = (tree_digest(workspace, exclude=ignore), tree_digest(runner), tree_digest(outside))

    done = run_cli(*case.args, cwd=workspace, env=env)

    output = f"{case.id}: exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    # Masking the token (Actions mode) is expected output, not noise.
    lines = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and not line.startswith("::add-mask::")
    ]
    assert done.returncode == 2, output
    assert "Traceback" not in done.stderr and "internal error" not in done.stdout + done.stderr, output
    assert len(lines) == 1 and lines[0] in error_lines(done.stdout, done.stderr), output
    for culprit in (case.culprit,) if isinstance(case.culprit, str) else case.culprit:
        assert culprit in lines[0], f"the error does not name {culprit!r}\n{output}"
    assert SECRET not in done.stdout + done.stderr, output
    after = (tree_digest(workspace, exclude=ignore), tree_digest(runner), tree_digest(outside))
    assert after == before, f"files changed\n{output}"
