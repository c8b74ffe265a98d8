"""The benchmark harness works end to end: `benchmarks/run.py --smoke` measures every section at tiny sizes and
writes RESULTS-style Markdown. The real figures are not part of CI; this proves `make bench` can produce them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import example_repo, harness  # noqa: E402  (the repository root is importable only from here on)
from benchmarks.run import BENCHMARKS as SECTIONS  # noqa: E402


@pytest.fixture(scope="module")
def smoke(
    tmp_path_factory: pytest.TempPathFactory, example_template: Path
) -> tuple[subprocess.CompletedProcess[str], str]:
    """One smoke run for the whole module; its example repository is the session's already reproduced one."""
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    cache = out.parent / "cache"
    shutil.copytree(example_template, example_repo.cached_path(cache, 1), symlinks=True)
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(out), "--cache", str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


@pytest.mark.slow
def test_smoke_run_exits_zero_and_writes_the_results(smoke: tuple[subprocess.CompletedProcess[str], str]) -> None:
    result, text = smoke
    assert result.returncode == 0, result.stderr[-4000:]
    assert text.startswith("# mlgate benchmarks")
    assert "**Smoke mode**" in text
    assert re.search(r"\| cores \| \d+ logical", text)
    assert re.search(r"\| memory \| [\d.]+ GiB", text)
    assert "1-minute load average during the run" in text
    assert "error:" not in text


@pytest.mark.slow
def test_every_section_has_rows_with_commands_targets_and_verdicts(
    smoke: tuple[subprocess.CompletedProcess[str], str],
) -> None:
    _, text = smoke
    for number, name in enumerate(SECTIONS, 1):
        body = text.split(f"\n## {number}. ", 1)[1].split("\n## ", 1)[0]
        assert f"Rerun: `python benchmarks/run.py --only {name} --smoke`" in body
        rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
        assert rows, f"section {name} has no figures"
        for row in rows:
            cells = [cell.strip() for cell in row.strip("|").split(" | ")]
            assert len(cells) == 7, row
            figure, value, _, _, target, verdict, command = cells
            assert figure and command, row
            if verdict != "not yet measurable":
                assert value != "—", row
            if target != "—":
                assert verdict == "met" or verdict.startswith("**missed** by") or verdict == "not yet measurable"
    startup = text.split("\n## 1. ", 1)[1]
    assert re.search(r"\| wall time, mlgate vs dvc \| \d+ ms \| dvc: \d+ ms \| [\d.]+× \| ≤ 0.6× dvc \|", startup)


def test_peak_rss_is_the_measured_command_s_own() -> None:
    """A command that holds 200 MiB reports about that; a bare interpreter far less (no inherited high-water)."""
    python = [sys.executable, "-c"]
    big = harness.measure([*python, "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"])
    small = harness.measure([*python, "pass"])
    assert 200 <= big.peak_rss_mib < 260
    assert small.peak_rss_mib < 60
    assert small.wall_s > 0


def test_a_failing_command_is_an_error_naming_it() -> None:
    with pytest.raises(harness.BenchError, match=r"exited 3"):
        harness.measure([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_verdicts_say_by_how_much_a_target_is_missed() -> None:
    assert harness.at_most(0.5, 0.6).met is True
    missed = harness.at_most(0.9, 0.6)
    assert missed.met is False
    assert missed.text == "**missed** by 0.30× (50% over)"
    assert harness.at_least(5.0, 10.0).text == "**missed** by 5.00× (50% short)"
    assert harness.both(harness.at_most(1, 2), harness.at_most(3, 2)).met is False


def test_interleaving_rotates_the_order_and_drops_warmups(tmp_path: Path) -> None:
    log = tmp_path / "order"
    cases = {name: harness.Case([sys.executable, "-c", f"open({str(log)!r}, 'a').write({name!r})"]) for name in "abc"}
    runs = harness.interleave(cases, repeats=2, warmup=1)
    assert log.read_text() == "abc" + "bca" + "cab"
    assert {name: len(measurements) for name, measurements in runs.items()} == {"a": 2, "b": 2, "c": 2}


def test_a_run_past_its_timeout_is_stopped_and_marked_or_an_error() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    stopped = harness.measure(sleeper, timeout=0.5, may_time_out=True)
    assert stopped.timed_out and 0.5 <= stopped.wall_s < 10
    with pytest.raises(harness.BenchError, match=r"still ran after"):
        harness.measure(sleeper, timeout=0.5)
