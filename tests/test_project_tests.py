"""The project's own tests in the PR: `mlgate tests` runs them in the project's environment, reads their JUnit
XML, annotates each failure at the failing line of the test, and (tests.required) fails the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.example_fixtures import git

from mlgate import junit
from mlgate.report.render import ReportContext, render
from mlgate.results import read_results_dir

FAILING_SUITE = """\
import pytest


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    values = [1, 2, 3]
    assert sum(values) == 7, "the values do not add up"


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_errors(broken):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""


def pytest_junit(folder: Path, family: str) -> Path:
    """Run real pytest on FAILING_SUITE and return its JUnit XML (of `family`: xunit1 or xunit2)."""
    (folder / "test_suite.py").write_text(FAILING_SUITE)
    report = folder / f"{family}.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
         "-o", f"junit_family={family}", "test_suite.py"],
        cwd=folder, capture_output=True, check=False,
    )  # fmt: skip
    return report


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_junit_counts_and_locates_each_failure_at_its_failing_line(tmp_path: Path, family: str) -> None:
    ran = junit.parse(pytest_junit(tmp_path, family))
    assert ran.counts() == {"passed": 1, "failed": 1, "errors": 1, "skipped": 1, "total": 4}
    failed = {failure.test.rsplit("::", 1)[-1]: failure for failure in ran.failures}
    assert failed["test_fails"].kind == "failure" and "the values do not add up" in failed["test_fails"].message
    assert (failed["test_fails"].file, failed["test_fails"].line) == ("test_suite.py", 10)  # the assert itself
    assert failed["test_errors"].kind == "error" and "fixture broke" in failed["test_errors"].details
    assert failed["test_errors"].line == 15  # where the fixture raised
    assert ran.seconds is not None and ran.seconds >= 0


def test_junit_that_is_not_junit_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    from mlgate.errors import InputError

    (tmp_path / "a.xml").write_text("<html><body/></html>")
    (tmp_path / "b.xml").write_text("<testsuites><testsuite")
    with pytest.raises(InputError, match=r"root element is <html>") as first:
        junit.parse(tmp_path / "a.xml")
    with pytest.raises(InputError, match="not well-formed XML") as second:
        junit.parse(tmp_path / "b.xml")
    assert first.value.file == str(tmp_path / "a.xml") and second.value.file == str(tmp_path / "b.xml")


@pytest.fixture
def project_env(user_python: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's own Python first on PATH: the tests run there, not in mlgate's venv."""
    monkeypatch.setenv("PATH", f"{user_python}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def break_size_bands(repo: Path) -> str:
    """A pull request that moves a size-band edge of the prepare stage, which its transformation test pins."""
    git(repo, "checkout", "--quiet", "-b", "pr/bands")
    prepare = repo / "src/prepare.py"
    prepare.write_text(prepare.read_text().replace("[0.0, 12.0, 16.0,", "[0.0, 12.5, 16.0,"))
    git(repo, "commit", "--quiet", "-am", "Move the small/medium edge")
    return git(repo, "rev-parse", "HEAD")


@pytest.mark.slow
def test_a_pr_that_breaks_a_transformation_test_fails_the_gate_with_an_annotation_at_the_test(
    example_repo: Path, project_env: None, invoke
) -> None:
    head = break_size_bands(example_repo)
    test_file = (example_repo / "tests/test_prepare.py").read_text().splitlines()
    assert_line = 1 + next(i for i, line in enumerate(test_file) if line.strip().startswith("assert banded["))

    run = invoke("tests", cwd=example_repo, env={"GITHUB_ACTIONS": "true"})
    assert run.code == 1, run.out + run.err
    annotation = (
        f"::error file=tests/test_prepare.py,line={assert_line},"
        "title=test failed%3A tests.test_prepare%3A%3Atest_size_bands_follow_the_mean_radius_edges::"
    )
    assert annotation in run.out
    written = json.loads((example_repo / ".mlgate/results/tests.json").read_text())
    assert written["verdict"] == "fail" and written["commits"]["head"] == head
    assert written["evidence"]["counts"] == {"passed": 1, "failed": 1, "errors": 0, "skipped": 0, "total": 2}
    assert written["evidence"]["command"] == "python -m pytest"
    assert not (example_repo / ".pytest_cache").exists()  # the user's checkout is left as it was

    run = invoke("report", "--driver", "local", "--pr", "5", cwd=example_repo)
    assert run.code == 1, run.out + run.err
    [check] = [json.loads(p.read_text()) for p in (example_repo / ".mlgate/outbox/check").glob("*.json")]
    assert check["conclusion"] == "failure" and check["head_sha"] == head
    [note] = check["annotations"]
    assert (note["path"], note["start_line"], note["level"]) == ("tests/test_prepare.py", assert_line, "failure")
    assert check["title"].startswith("fail: tests failed")
    body = (example_repo / ".mlgate/report.md").read_text()
    assert "| tests | ❌ fail | 1 passed, 1 failed in" in body
    assert "`tests/test_prepare.py:" + str(assert_line) + "`" in body


def test_passing_tests_are_a_tests_row_and_not_required_failures_only_warn(
    tmp_path: Path, project_env: None, invoke
) -> None:
    git(tmp_path, "init", "--quiet", "-b", "main")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_sums.py").write_text(
        "def test_sum():\n    assert sum([1, 2]) == 3\n\n\ndef test_len():\n    assert len('ab') == 2\n"
    )
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "Tests")
    run = invoke("tests", cwd=tmp_path)
    assert run.code == 0 and "tests: pass: 2 passed in" in run.out, run.out + run.err
    [result] = [r for r in read_results_dir(tmp_path / ".mlgate/results") if r.step == "tests"]
    text = render([result], ReportContext(), limit=65_536).text
    assert "| tests | ✅ pass | 2 passed in" in text and "### Tests" in text

    (tmp_path / "tests/test_sums.py").write_text("def test_sum():\n    assert sum([1, 2]) == 4\n")
    run = invoke("tests", "--not-required", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert run.code == 0 and "tests: warn: 1 of 1 tests failed" in run.out, run.out + run.err
    assert "::warning file=tests/test_sums.py,line=2," in run.out


def test_no_tests_or_tests_off_is_skipped_and_a_command_without_junit_is_an_error(
    tmp_path: Path, invoke, project_env: None
) -> None:
    git(tmp_path, "init", "--quiet", "-b", "main")
    run = invoke("tests", cwd=tmp_path)
    assert run.code == 0 and "tests: skipped: the repository has no test files" in run.out, run.out + run.err

    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    git(tmp_path, "add", "test_x.py")
    (tmp_path / "mlgate.yml").write_text("tests: false\n")
    run = invoke("tests", cwd=tmp_path)
    assert run.code == 0 and "tests: skipped: tests: false in mlgate.yml" in run.out

    (tmp_path / "mlgate.yml").write_text("tests: {command: 'true', junit: out/junit.xml}\n")
    run = invoke("tests", cwd=tmp_path)
    assert run.code == 2
    assert "exited with code 0 and wrote no JUnit XML" in run.err and "out/junit.xml (tests.junit)" in run.err
    assert "Traceback" not in run.err

    (tmp_path / "mlgate.yml").write_text("tests: {comand: pytest}\n")
    run = invoke("tests", cwd=tmp_path)
    assert run.code == 2 and "mlgate.yml:1" in run.err and "unknown key 'comand'" in run.err
