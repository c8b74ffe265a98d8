"""Where mlgate writes, and what the environment tells it (issue #17): a results folder that is a file, a
result that is a directory, an --output under a file, GITHUB_OUTPUT on a full disk, GITHUB_STEP_SUMMARY a
directory or a file that takes no writes, an environment variable holding a bad option value, a data file whose
name is not UTF-8. Each is exit 2 with one sentence naming the path or the variable, never an internal error.

The workspace is tests/bad_inputs/test_compare_inputs.py's: it compares cleanly against its own commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from bad_inputs.test_compare_inputs import BASE, COMPARE, commit_base
from bad_inputs.test_validate_inputs import BASE as VALIDATE_BASE
from bench.faults_fixtures import (
    BadInput,
    Folder,
    bad_input_params,
    check_bad_input,
    error_lines,
    materialize,
    run_cli,
)

REPORT = ("report", "--driver", "local", "--pr", "7")
CASES = [
    BadInput(
        "results-folder-is-a-file",
        {".mlgate": "not a folder\n"},
        COMPARE,
        (".mlgate/results/compare.json", "a folder on its path is a file"),
    ),
    BadInput(
        "result-is-a-directory",
        {".mlgate/results/compare.json": Folder()},
        COMPARE,
        ("compare.json", "it is a directory"),
    ),
    BadInput(
        "bad-option-value-in-the-environment",
        {},
        COMPARE,
        ("MLGATE_COMPARE_RESAMPLES", "--resamples", "'lots'"),
        env={"MLGATE_COMPARE_RESAMPLES": "lots"},
    ),
]


@pytest.mark.parametrize("case", bad_input_params(CASES, "compare"))
def test_unwritable_output_or_bad_environment(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE, setup=commit_base, ignore=(".git",))


def compared(tmp_path: Path) -> Path:
    """A workspace whose compare ran, ready for report."""
    materialize(tmp_path, BASE)
    commit_base(tmp_path)
    done = run_cli(*COMPARE, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path


def assert_one_error(done: subprocess.CompletedProcess[str], *culprits: str) -> None:
    """Exit 2, no traceback or internal error, and one error line naming every culprit."""
    output = f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    errors = error_lines(done.stdout, done.stderr)
    assert len(errors) == 1, output
    for culprit in culprits:
        assert culprit in errors[0], f"the error does not name {culprit!r}\n{output}"


def test_report_output_under_a_file(tmp_path: Path) -> None:
    workspace = compared(tmp_path)
    done = run_cli(*REPORT, "--output", "metrics.json/report.md", cwd=workspace)
    assert_one_error(done, "metrics.json/report.md", "a folder on its path is a file")
    assert (workspace / "metrics.json").read_text(encoding="utf-8").startswith("{")


# A disk that is always full, and a folder nobody may create files in (sysfs refuses even root, who runs the
# tests here, so a chmod-ed folder would not do): GITHUB_OUTPUT is written by every command, the summary by report.
RUNNER_FILES = [
    pytest.param(variable, target, reason, id=f"{variable}-{where}")
    for variable in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
    for where, target, reason in (
        ("full-disk", "/dev/full", "the disk is full"),
        ("read-only-folder", "/sys/mlgate-runner-file", "permission denied"),
    )
]


@pytest.mark.skipif(not (os.path.exists("/dev/full") and os.path.isdir("/sys")), reason="needs /dev/full and /sys")
@pytest.mark.parametrize(("variable", "target", "reason"), RUNNER_FILES)
def test_runner_file_that_cannot_be_written(variable: str, target: str, reason: str, tmp_path: Path) -> None:
    workspace = compared(tmp_path)
    done = run_cli(*(REPORT if variable == "GITHUB_STEP_SUMMARY" else COMPARE), cwd=workspace,
                   env={"GITHUB_ACTIONS": "true", variable: target})  # fmt: skip
    assert_one_error(done, variable, target, reason)


@pytest.mark.parametrize("kind", ["a directory", "a file that takes no writes"])
def test_step_summary_that_cannot_be_written(kind: str, tmp_path: Path) -> None:
    workspace = compared(tmp_path)
    if kind == "a directory":
        target, reason = tmp_path / "summary", "it is a directory"
        target.mkdir()
    else:  # the runner runs as root here, so a chmod-ed folder would not stop it; procfs does
        target, reason = Path("/proc/version"), "cannot be written"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(target)}
    done = run_cli(*REPORT, cwd=workspace, env=env)
    assert_one_error(done, "GITHUB_STEP_SUMMARY", str(target), reason)


def test_a_data_file_name_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    """A file name of bytes that are not UTF-8 (Python holds them as surrogates; Arrow refused them) is read,
    and shown escaped in what mlgate prints."""
    materialize(tmp_path, VALIDATE_BASE)
    name = os.fsdecode(b"data/tr\xffin.csv")
    shutil.copy(tmp_path / "data/train.csv", tmp_path / name)
    done = run_cli("validate", "--train", name, cwd=tmp_path, env={"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stdout + done.stderr, done.stderr
