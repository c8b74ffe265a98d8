"""The tests step: the project's own tests, run in its environment, summarised from their JUnit XML.

Without `tests.command`, a repository whose git-tracked files include tests (`test_*.py`, `*_test.py`) runs
`python -m pytest` — the project's Python, as its stages run, not mlgate's. mlgate asks pytest for JUnit XML
(xunit1, which records each test's file) in the results folder, unless `tests.junit` names the file the
command writes itself. Failures become annotations at the failing line of the test; they warn, or fail the
gate with `tests.required: true`.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError
from mlgate.results import Note, StepResult
from mlgate.steps.base import Project, guarded

DEFAULT_COMMAND = "python -m pytest"
TEST_FILES = ("test_*.py", "*_test.py")
MAX_ANNOTATIONS = 50  # what one check-run request carries; the report lists every failure
NO_TESTS_COLLECTED = 5  # pytest's exit code when it found no tests


@dataclass(frozen=True)
class Inputs:
    command: str | None = None  # None: tests.command, else python -m pytest when the repository has tests
    required: bool | None = None  # None: tests.required


def run(inputs: Inputs, project: Project) -> StepResult:
    """Run the project's tests; the result (pass, warn or fail on failing tests, skipped, or error) is also
    tests.json."""
    return guarded("tests", project, lambda: _tests(inputs, project))


def has_tests(root: Path) -> bool:
    """Whether the files git tracks under `root` (all files, outside a git repository) include a test module."""
    from mlgate.adapters import git

    try:
        listed = git.run_git(root, "ls-files", "--", *(f":(glob)**/{pattern}" for pattern in TEST_FILES))
    except git.GitError:
        return any(path.is_file() for pattern in TEST_FILES for path in root.rglob(pattern))
    return bool(listed.strip())


def _repository_path(root: Path, git_root: Path, file: str) -> str:
    """A path the runner wrote (relative to its rootdir, usually `root`) as GitHub annotates: from the repository."""
    for base in (root, git_root):
        candidate = (base / file).resolve()
        if candidate.is_file() and candidate.is_relative_to(git_root):
            return candidate.relative_to(git_root).as_posix()
    return Path(file).as_posix()


def _skipped(project: Project, why: str) -> StepResult:
    summary = f"no tests run: {why}"
    return project.record(
        StepResult("tests", "skipped", summary, {"head": project.head_sha()}, {}, lines=(f"tests: skipped: {why}",))
    )


def _tests(inputs: Inputs, project: Project) -> StepResult:
    from mlgate import gha, junit
    from mlgate.adapters import monitor

    cfg = project.config
    settings = cfg.tests
    command = inputs.command or settings.command
    required = settings.required if inputs.required is None else inputs.required
    if command is None:
        if not settings.enabled:
            return _skipped(project, "tests: false in mlgate.yml")
        if not has_tests(cfg.root):
            return _skipped(project, "the repository has no test files (test_*.py); set tests.command to run others")
        command = DEFAULT_COMMAND
    implicit = inputs.command is None and settings.command is None
    if settings.junit is not None:
        report_file, shown = cfg.resolve(settings.junit), command
    else:
        report_file = (project.results_dir / "tests.xml").resolve()
        report_file.unlink(missing_ok=True)
        shown = command
        command += f" --junitxml={shlex.quote(str(report_file))} -o junit_family=xunit1 -p no:cacheprovider"
    started = time.time()
    with gha.group(f"mlgate tests: {shown}"):
        record = monitor.run_monitored(command, cwd=cfg.root, log_file=project.results_dir / "tests.log")
    log = "\n".join(record.log_tail)
    fresh = report_file.is_file() and report_file.stat().st_mtime >= started - 1
    if not fresh:
        if implicit and not required and "No module named pytest" in log:
            return _skipped(project, "the repository has tests, but its Python has no pytest (install it, or set "
                                     "tests.command, or tests: false)")  # fmt: skip
        where = "tests.junit" if settings.junit else "its --junitxml option"
        stale = " (only an older one)" if report_file.is_file() else ""
        raise InputError(
            f"the tests command `{shown}` exited with code {record.exit_code} and wrote no JUnit XML{stale} at "
            f"{report_file} ({where}); its last line: {record.log_tail[-1] if record.log_tail else 'none'}"
        )
    ran = junit.parse(report_file)
    git_root = cfg.repository_root()
    located = [
        (failure, _repository_path(cfg.root, git_root, failure.file) if failure.file else None)
        for failure in ran.failures
    ]
    broken = ran.failed + ran.errors
    counts = ", ".join(f"{getattr(ran, name)} {name}" for name in junit.OUTCOMES if getattr(ran, name))
    if broken:
        first, where = located[0]
        at = f" ({where}:{first.line})" if where and first.line else ""
        summary = f"{broken} of {ran.total} tests failed: {first.test}{at}: {first.message}"
        verdict = "fail" if required else "warn"
    elif record.exit_code not in (0, NO_TESTS_COLLECTED):
        summary = f"no test failed, but `{shown}` exited with code {record.exit_code}"
        verdict = "fail" if required else "warn"
    elif ran.total == 0:
        summary = "no tests were collected"
        verdict = "fail" if required else "skipped"
    else:
        summary = f"{counts} in {ran.seconds if ran.seconds is not None else record.wall_seconds:.1f} s"
        verdict = "pass"
    level = "error" if required else "warning"
    annotations = [
        {
            "path": where,
            "start_line": failure.line,
            "level": level,
            "title": f"test {'failed' if failure.kind == 'failure' else 'errored'}: {failure.test}",
            "message": failure.message,
        }
        for failure, where in located[:MAX_ANNOTATIONS]
        if where and failure.line
    ]
    evidence = {
        "command": shown,
        "exit_code": record.exit_code,
        "wall_seconds": round(record.wall_seconds, 3),
        "seconds": ran.seconds,
        "junit": str(report_file),
        "required": required,
        "counts": ran.counts(),
        "failures": [failure.to_dict() | {"path": where} for failure, where in located],
        "annotations": annotations,
        "log_tail": record.log_tail if verdict in ("fail", "warn") else [],
    }
    notes = tuple(
        Note(item["level"], item["message"], item["path"], item["start_line"], item["title"]) for item in annotations
    )
    return project.record(
        StepResult(
            "tests",
            verdict,
            summary,
            {"head": project.head_sha()},
            evidence,
            lines=(f"tests: {verdict}: {summary}",),
            notes=notes,
        )
    )
