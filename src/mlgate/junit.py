"""A test run's JUnit XML (pytest's `--junitxml`, or any runner's) as counts and located failures.

JUnit XML has no single standard: pytest's xunit1 family puts `file` and `line` (0-based: the test's `def`)
on each testcase, xunit2 and most other runners do not. The failing line itself is in the failure's text
(pytest's long traceback ends each frame with `path.py:LINE: Error`), so that is read first; the testcase's
own location, then its classname as a module path, are the fallbacks.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError

MAX_MESSAGE = 500
MAX_DETAILS = 4000
# `tests/test_prepare.py:14: AssertionError` — a frame of pytest's traceback (also `--tb=short`'s `path:14: in f`)
FRAME = re.compile(r"^(?P<file>[^\s:][^:\n]*\.py):(?P<line>\d+):", re.MULTILINE)
OUTCOMES = ("passed", "failed", "errors", "skipped")


@dataclass(frozen=True)
class Failure:
    """A test that failed (an assertion) or errored (in setup, teardown or collection)."""

    test: str  # classname::name, as pytest shows a test id
    kind: str  # failure | error
    message: str
    details: str
    file: str | None  # as the runner wrote it (relative to its rootdir)
    line: int | None  # 1-based

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("test", "kind", "message", "details", "file", "line")}


@dataclass(frozen=True)
class TestRun:
    passed: int
    failed: int
    errors: int
    skipped: int
    seconds: float | None  # what the XML says the tests took
    failures: tuple[Failure, ...]

    __test__ = False  # not a pytest test class, whatever its name

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in OUTCOMES} | {"total": self.total}


def _number(value: str | None) -> float | None:
    try:
        parsed = float(value) if value is not None else None
    except ValueError:
        return None
    return parsed if parsed is not None and math.isfinite(parsed) else None


def _location(case: ElementTree.Element, text: str) -> tuple[str | None, int | None]:
    """(file, 1-based line) of a failure: the deepest traceback frame in the test's own file, else the deepest
    frame at all, else the testcase's `file`/`line`, else its classname read as a module path."""
    own = case.get("file")
    frames = [(m["file"], int(m["line"])) for m in FRAME.finditer(text)]
    in_test = [frame for frame in frames if own is None or Path(frame[0]).as_posix() == Path(own).as_posix()]
    if in_test or frames:
        return (in_test or frames)[-1]
    line = _number(case.get("line"))
    if own:
        return own, int(line) + 1 if line is not None else None  # pytest writes the 0-based line of the def
    classname = case.get("classname") or ""
    return (classname.replace(".", "/") + ".py", None) if classname else (None, None)


def _trimmed(value: str, limit: int) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def parse(path: Path) -> TestRun:
    """The counts and failures a JUnit XML file records; a file that is not JUnit XML is an input error."""
    try:
        root = ElementTree.parse(path).getroot()
    except FileNotFoundError:
        raise InputError("JUnit XML file does not exist", file=path) from None
    except ElementTree.ParseError as exc:
        raise InputError(f"is not well-formed XML ({exc})", file=path) from None
    if root.tag not in ("testsuites", "testsuite"):
        raise InputError(f"is not JUnit XML (its root element is <{root.tag}>, not <testsuites>)", file=path)
    counts = dict.fromkeys(OUTCOMES, 0)
    failures = []
    for case in root.iter("testcase"):
        test = "::".join(part for part in (case.get("classname"), case.get("name")) if part) or "unnamed test"
        problem = next((case.find(tag) for tag in ("failure", "error") if case.find(tag) is not None), None)
        if problem is None:
            counts["skipped" if case.find("skipped") is not None else "passed"] += 1
            continue
        kind = "failure" if problem.tag == "failure" else "error"
        counts["failed" if kind == "failure" else "errors"] += 1
        details = problem.text or ""
        message = problem.get("message") or (details.strip().splitlines() or [kind])[-1]
        file, line = _location(case, details)
        failures.append(Failure(test, kind, _trimmed(message, MAX_MESSAGE), _trimmed(details, MAX_DETAILS), file, line))
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    times = [_number(suite.get("time")) for suite in suites]
    seconds = sum(t for t in times if t is not None) if times and None not in times else None
    return TestRun(counts["passed"], counts["failed"], counts["errors"], counts["skipped"], seconds, tuple(failures))
