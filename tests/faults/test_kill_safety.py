"""Kill-safety: a command killed at any point (SIGTERM as a cancelled job sends it, SIGKILL as a runner that
runs out of time does) leaves every file it writes either as it was or complete, never cut. Kill points are
drawn from a seeded generator over the command's measured run time, so a failure replays.

After SIGTERM mlgate unwinds (no temp files left); after SIGKILL a temp file may stay behind, but readers
never take one for a record (they read fixed names, or `*.json`, and temp files are `.name.*.tmp`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from bench.report_fixtures import HEAD_SHA, compare_result, train_result, validation_result, write_bundle

from mlgate.drivers.outbox import Outbox
from mlgate.results import read_result

SEED = 20_240_611
KILLS_PER_SIGNAL = 6


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_", "RUNNER_"))}
    return env | extra


VOLATILE = ("written_at", "created_at", "updated_at", "completed_at")


def comparable(name: str, data: bytes) -> object:
    """A file's content without its timestamps (a JSON file that does not parse stays bytes: never equal)."""
    if not name.endswith(".json"):
        return data
    try:
        record = json.loads(data)
    except ValueError:
        return data
    return {k: v for k, v in record.items() if k not in VOLATILE} if isinstance(record, dict) else record


def snapshot(root: Path) -> dict[str, object]:
    return {
        name: comparable(name, path.read_bytes())
        for path in root.rglob("*")
        if path.is_file() and not path.name.endswith(".tmp")
        for name in [path.relative_to(root).as_posix()]
    }


def temp_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tmp"))


def kill_at(command: list[str], cwd: Path, env: dict[str, str], after: float, signum: int) -> int:
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        process.send_signal(signum)
    try:
        process.wait(timeout=60)
    finally:
        if process.stderr is not None:
            process.stderr.close()
    return process.returncode


@dataclass(frozen=True)
class Killable:
    """A command run and what its writes must look like afterwards, whatever point it was killed at."""

    name: str
    command: list[str]
    prepare: Callable[[Path], None]
    check: Callable[[Path, dict[str, object], dict[str, object]], None]  # (workspace, before, complete run)


def prepare_report(workspace: Path) -> None:
    # A large bundle (4,000 findings, a 200k-character report) so the run spends time rendering and writing.
    validation = validation_result(verdict="fail", failed=4000)
    write_bundle(workspace / ".mlgate" / "results", [validation, train_result(), compare_result()])


def check_report(workspace: Path, before: dict[str, object], complete: dict[str, object]) -> None:
    after = snapshot(workspace)
    for name, data in after.items():
        assert data in (before.get(name), complete.get(name)), f"{name} is neither the old nor a complete file"
    outbox = Outbox(workspace / ".mlgate" / "outbox")
    for kind in ("comment", "check", "summary"):
        for record in outbox.list(kind):  # every entry parses: no half-written JSON
            assert record, kind
    assert set(after) <= set(before) | set(complete)


REPORT = Killable(
    "report",
    [sys.executable, "-m", "mlgate", "report", "--driver", "local", "--pr", "7"],
    prepare_report,
    check_report,
)


def prepare_validate(workspace: Path) -> None:
    rows = "".join(f"{i % 97}.{i % 13},{i % 31},{'abcde'[i % 5]},{i % 2}\n" for i in range(30_000))
    (workspace / "data").mkdir(parents=True, exist_ok=True)
    for name in ("train.csv", "test.csv"):
        (workspace / "data" / name).write_text("width,height,kind,target\n" + rows, encoding="utf-8")
    config = "data:\n  train: data/train.csv\n  test: data/test.csv\n  label: target\n"
    (workspace / "mlgate.yml").write_text(config, encoding="utf-8")


def check_validate(workspace: Path, before: dict[str, object], complete: dict[str, object]) -> None:
    """validation.json, if there, reads back whole; the inputs are untouched (its evidence holds timings, so
    it is compared by reading, not with the complete run's bytes)."""
    results = workspace / ".mlgate" / "results" / "validation.json"
    if results.exists():
        assert read_result(results).step == "validation"
    after = snapshot(workspace)
    assert {name: after[name] for name in before if not name.startswith(".mlgate/")} == {
        name: data for name, data in before.items() if not name.startswith(".mlgate/")
    }


VALIDATE = Killable("validate", [sys.executable, "-m", "mlgate", "validate"], prepare_validate, check_validate)
KILLABLES = (REPORT, VALIDATE)


def run_complete(killable: Killable, workspace: Path) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    done = subprocess.run(killable.command, cwd=workspace, env=clean_env(), capture_output=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return time.monotonic() - started, snapshot(workspace)


@pytest.mark.slow
@pytest.mark.parametrize("killable", KILLABLES, ids=lambda k: k.name)
def test_a_killed_command_leaves_no_cut_file(killable: Killable, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    reference = tmp_path / "reference"
    reference.mkdir()
    killable.prepare(reference)
    duration, complete = run_complete(killable, reference)
    for round_ in range(KILLS_PER_SIGNAL):
        for signum in (signal.SIGTERM, signal.SIGKILL):
            workspace = tmp_path / f"{round_}-{signum.name}"
            workspace.mkdir()
            killable.prepare(workspace)
            if round_ % 2:  # half the kills hit a rerun over a complete earlier run's files
                run_complete(killable, workspace)
            before = snapshot(workspace)
            after = rng.uniform(0.05, duration)
            code = kill_at(killable.command, workspace, clean_env(), after, signum)
            killable.check(workspace, before, complete)
            # mlgate's handler unwinds (exit 143); a library that reset the handler (worker pools do) lets the
            # signal kill the process outright (-15), which may leave a temp file as SIGKILL does.
            if signum == signal.SIGTERM and code != -signal.SIGTERM:
                assert temp_files(workspace) == [], f"SIGTERM at {after:.2f}s (exit {code}) left temp files"


# A child process: rewrite validation.json and compare.json with growing evidence, as fast as it can, through
# the write_result every step uses, with the SIGTERM handling of the mlgate entry point.
REWRITER = """
import signal, sys
from pathlib import Path
from mlgate.cli import _terminated
from mlgate.results import StepResult, write_result

signal.signal(signal.SIGTERM, _terminated)
n = 0
while True:
    n = n % 5 + 1
    for step in ("validation", "compare"):
        evidence = {"version": n, "rows": list(range(n * 20_000))}
        write_result(Path(sys.argv[1]), StepResult(step, "pass", f"version {n}", {"head": sys.argv[2]}, evidence))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_results_files_survive_a_kill_mid_write(signum: signal.Signals, tmp_path: Path) -> None:
    """Every step writes its results through results.write_result; killed at random points while rewriting
    two results files of about a megabyte, each file reads back whole, as one of the versions written."""
    rng = random.Random(SEED + signum)
    results = tmp_path / "results"
    for _ in range(KILLS_PER_SIGNAL):
        process = subprocess.Popen([sys.executable, "-c", REWRITER, str(results), HEAD_SHA], env=clean_env())
        time.sleep(rng.uniform(0.5, 2.0))
        process.send_signal(signum)
        process.wait(timeout=60)
        for step in ("validation", "compare"):
            path = results / f"{step}.json"
            if path.exists():
                result = read_result(path)  # parses: not cut
                version = result.evidence["version"]
                assert result.summary == f"version {version}" and len(result.evidence["rows"]) == version * 20_000
        if signum == signal.SIGTERM:
            assert temp_files(results) == []
    assert json.loads((results / "compare.json").read_text(encoding="utf-8"))["step"] == "compare"
