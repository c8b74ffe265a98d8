"""Bad-input corpus of `mlgate pr` (issue #17): when a step stops on bad input, the errored step is in the
bundle and in every report as `error` with its message, the check run fails (branch protection must not let
the PR merge), the one sentence is printed once, and the exit code is 2.

The two inputs are the corpus cases of the silent wrong result ("exit 2, but the comment says pass and the
check run is success"): the label column renamed in test.csv, and a broken CSV. Each runs through the local
driver (the outbox) and through the github driver (PyGithub over HTTP to the stand-in), read back with PyGithub
as a reviewer's tools would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bench.example_fixtures import git
from bench.github_fixtures import pygithub_client
from bench.github_standin import GitHubStandIn

pytestmark = pytest.mark.slow

BAD_TEST_DATA = {
    "renamed label": (
        lambda text: text.replace(",target\n", ",outcome\n", 1),
        "data/test.csv: label column 'target' is not in the file",
    ),
    "broken csv": (
        lambda text: text + '1.0,"unterminated\n2.0,3.0,4.0,5.0\n',
        "data/test.csv: ",
    ),
}


def spoil_test_data(repo: Path, case: str) -> str:
    """Break data/test.csv the way `case` says; the start of the one sentence mlgate must print."""
    spoil, message = BAD_TEST_DATA[case]
    path = repo / "data/test.csv"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith(",target")
    path.write_text(spoil(text), encoding="utf-8")
    return message


@pytest.fixture(autouse=True)
def project_python(user_python: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's own tests (a pipeline step) run in the project's Python, as its stages do."""
    monkeypatch.setenv("PATH", f"{user_python}{os.pathsep}{os.environ['PATH']}")


def run_pr(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLGATE_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", "pr", "--skip-train", *args],
        cwd=repo,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
    )


def assert_errored_validation(repo: Path, done: subprocess.CompletedProcess[str], message: str) -> str:
    """Exit 2 with the one sentence printed once, and validation.json saying `error` with it; the sentence."""
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [
        line for line in (done.stdout + done.stderr).splitlines() if line.startswith(("mlgate: error:", "::error"))
    ]
    assert len(errors) == 1, done.stdout + done.stderr  # printed once (in Actions: as the annotation)
    assert message.removeprefix("data/test.csv: ") in errors[0]
    assert "Traceback" not in done.stderr
    validation = json.loads((repo / ".mlgate/results/validation.json").read_text())
    assert validation["verdict"] == "error"
    assert message in validation["summary"] and validation["evidence"]["error"]["file"] == "data/test.csv"
    assert json.loads((repo / ".mlgate/results/compare.json").read_text())["verdict"] != "error"  # it still ran
    return validation["summary"]


def assert_error_report(body: str, summary: str) -> None:
    assert "mlgate: **error**" in body and "mlgate: **pass**" not in body
    assert "mlgate: **error** · `validation` errored" in body
    assert f"| validation | ⛔ error | error: {summary}" in re.sub(r"\\(.)", r"\1", body)  # the row, unescaped


@pytest.mark.parametrize("case", sorted(BAD_TEST_DATA))
def test_bad_test_data_is_an_errored_step_in_the_outbox_report_and_a_failed_check(
    example_repo: Path, case: str
) -> None:
    message = spoil_test_data(example_repo, case)
    done = run_pr(example_repo, "--driver", "local", "--pr", "7")
    summary = assert_errored_validation(example_repo, done, message)

    outbox = example_repo / ".mlgate/outbox"
    [comment] = [json.loads(p.read_text()) for p in (outbox / "comment").glob("*.json")]
    assert comment["pr_number"] == 7
    assert_error_report(comment["body"], summary)
    [check] = [json.loads(p.read_text()) for p in (outbox / "check").glob("*.json")]
    assert check["conclusion"] == "failure" and check["verdict"] == "error"
    assert check["title"] == "error: validation errored (+1 more)"  # serving sends the same rows
    serving = json.loads((example_repo / ".mlgate/results/serving.json").read_text())
    assert serving["verdict"] == "error" and "serving probe" in serving["summary"], serving["summary"]
    assert check["head_sha"] == git(example_repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("case", sorted(BAD_TEST_DATA))
def test_bad_test_data_fails_the_check_run_on_github(example_repo: Path, github: GitHubStandIn, case: str) -> None:
    head = git(example_repo, "rev-parse", "HEAD")
    pull = github.add_pull(head_sha=head, head_ref="pr/data", base_sha=head, base_ref="main")
    event = example_repo.parent / "event.json"
    event.write_text(
        json.dumps(
            {
                "number": pull.issue.number,
                "pull_request": {
                    "number": pull.issue.number,
                    "head": {"sha": head, "ref": "pr/data", "repo": {"full_name": "octo/demo"}},
                    "base": {"sha": head, "ref": "main", "repo": {"full_name": "octo/demo"}},
                },
                "repository": {"full_name": "octo/demo", "default_branch": "main"},
            }
        )
    )
    message = spoil_test_data(example_repo, case)
    env = github.env("ghs_test") | {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_RUN_ID": "5",
        "GITHUB_OUTPUT": str(example_repo.parent / "output.txt"),
        "GITHUB_STEP_SUMMARY": str(example_repo.parent / "summary.md"),
    }
    done = run_pr(example_repo, "--driver", "github", env=env)
    summary = assert_errored_validation(example_repo, done, message)
    assert "::error file=data/test.csv::" in done.stdout

    repo = pygithub_client(github).get_repo("octo/demo")
    [comment] = list(repo.get_issue(pull.issue.number).get_comments())
    assert_error_report(comment.body, summary)
    [run] = list(repo.get_commit(head).get_check_runs())
    assert (run.name, run.status, run.conclusion) == ("mlgate", "completed", "failure")
    assert run.output.title == "error: validation errored (+1 more)"  # serving cannot run on that data either
    assert "mlgate: **error**" in (example_repo.parent / "summary.md").read_text()
