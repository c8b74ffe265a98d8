"""A token never shows: mlgate runs with a known token (write, read-only, rejected; as env or flag; with
--debug, whose tracebacks print exception texts) and every byte it leaves is searched for the token: stdout,
stderr, the runner's output and summary files, the outbox, results, report and artifact. The one place it
may appear is the `::add-mask::` command that tells the runner to hide it, printed before anything else.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.act_jobs import Job, JobsRunner, Step
from bench.faults_fixtures import run_cli
from bench.github_standin import GitHubStandIn
from bench.github_state import Pull
from bench.report_fixtures import HEAD_SHA, actions_env, bundle, write_bundle

TOKEN = "ghs_KnownToken0123456789abcdefABCDEF"
COMMENTS = r"/repos/octo/demo/issues/\d+/comments"


def every_file(*roots: Path) -> Iterator[tuple[Path, bytes]]:
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path, path.read_bytes()


def assert_never_shown(done: Any, *roots: Path, masked: bool = True) -> None:
    """The token is in no file under `roots` and in no output line but the mask (first line, in Actions)."""
    output = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert TOKEN not in done.stderr, output
    lines = done.stdout.splitlines()
    assert [line for line in lines if TOKEN in line] == ([f"::add-mask::{TOKEN}"] if masked else []), output
    if masked:
        assert lines[0] == f"::add-mask::{TOKEN}", f"something was printed before the mask\n{output}"
    leaks = [str(path) for path, data in every_file(*roots) if TOKEN.encode() in data]
    assert leaks == [], f"the token is written into {leaks}"


@pytest.fixture
def known(github: GitHubStandIn) -> GitHubStandIn:
    github.add_token(TOKEN)
    return github


@pytest.fixture
def pull(known: GitHubStandIn) -> Pull:
    return known.add_pull(head_sha=HEAD_SHA)


def pull_event(path: Path, pull: Pull) -> Path:
    payload = {
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": {"full_name": pull.head_repo}},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": {"full_name": "octo/demo"}},
        },
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def workspace_and_runner(tmp_path: Path, verdict: str = "fail") -> tuple[Path, Path]:
    workspace, runner = tmp_path / "workspace", tmp_path / "runner"
    workspace.mkdir()
    runner.mkdir()
    write_bundle(workspace / ".mlgate" / "results", bundle(verdict))
    return workspace, runner


def step_env(github: GitHubStandIn, runner: Path, pull: Pull, **extra: str) -> dict[str, str]:
    env = github.env(TOKEN) | actions_env(runner, GITHUB_EVENT_NAME="pull_request")
    return env | {"GITHUB_EVENT_PATH": str(pull_event(runner / "event.json", pull)), **extra}


@pytest.mark.parametrize("how", ["env", "flag"])
def test_a_posting_run_with_debug_never_shows_the_token(
    tmp_path: Path, known: GitHubStandIn, pull: Pull, how: str
) -> None:
    workspace, runner = workspace_and_runner(tmp_path)
    env = step_env(known, runner, pull)
    args = ["--debug", "report"]
    if how == "flag":
        del env["GITHUB_TOKEN"]
        args += ["--token", TOKEN]
    done = run_cli(*args, cwd=workspace, env=env)
    assert done.returncode == 1, done.stderr
    assert len(known.repo().comments) == 1 and all(r.token == TOKEN for r in known.requests)
    assert_never_shown(done, workspace, runner)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 401, "body": {"message": "Bad credentials"}},
        {"status": 500, "times": None},
        {"reset": True, "times": None},
    ],
    ids=["rejected", "server-error", "dropped"],
)
def test_failures_and_their_tracebacks_never_show_the_token(
    tmp_path: Path, known: GitHubStandIn, pull: Pull, fault: dict[str, Any]
) -> None:
    workspace, runner = workspace_and_runner(tmp_path)
    known.fault("POST", COMMENTS, **fault)
    env = step_env(known, runner, pull, MLGATE_REPORT_RETRY_BUDGET="1")
    done = run_cli("--debug", "report", "--no-check", cwd=workspace, env=env)
    assert done.returncode == 2 and "Traceback" in done.stderr, done.stderr  # --debug printed the traceback
    assert_never_shown(done, workspace, runner)


def test_a_read_only_token_and_the_artifact_it_leaves_never_show_it(
    tmp_path: Path, known: GitHubStandIn, pull: Pull
) -> None:
    fork_token = TOKEN.replace("Known", "Forks")
    known.add_token(fork_token, read_only=True)
    workspace, runner = workspace_and_runner(tmp_path)
    done = run_cli("--debug", "report", cwd=workspace, env=step_env(known, runner, pull, GITHUB_TOKEN=fork_token))
    assert done.returncode == 1 and (workspace / ".mlgate" / "mlgate-report" / "meta.json").is_file()
    assert fork_token not in done.stderr
    assert [line for line in done.stdout.splitlines() if fork_token in line] == [f"::add-mask::{fork_token}"]
    assert not [path for path, data in every_file(workspace, runner) if fork_token.encode() in data]


def test_the_poster_refusing_an_artifact_never_shows_its_token(
    tmp_path: Path, known: GitHubStandIn, pull: Pull
) -> None:
    workspace, runner = workspace_and_runner(tmp_path)
    folder = workspace / "artifact"
    folder.mkdir()
    marker = "<!-- mlgate:report workflow=CI name=mlgate -->"
    meta = {"version": 1, "pr_number": pull.issue.number, "head_sha": "3" * 40, "marker": marker}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "body.md").write_text(marker + "\nhello", encoding="utf-8")
    env = step_env(known, runner, pull, GITHUB_EVENT_NAME="workflow_run")
    done = run_cli("--debug", "report", "--from-artifact", "artifact", cwd=workspace, env=env)
    assert done.returncode == 2 and "refusing the artifact" in done.stdout, done.stdout
    assert not known.repo().comments
    assert_never_shown(done, workspace, runner)


def test_the_local_driver_never_writes_the_token_into_the_outbox(tmp_path: Path, known: GitHubStandIn) -> None:
    workspace, runner = workspace_and_runner(tmp_path)
    env = actions_env(runner) | {"GITHUB_TOKEN": TOKEN}
    done = run_cli("--debug", "report", "--driver", "local", "--pr", "3", cwd=workspace, env=env)
    assert done.returncode == 1, done.stderr
    assert (workspace / ".mlgate" / "outbox" / "comment").is_dir()
    assert_never_shown(done, workspace, runner, masked=False)


def test_the_report_action_masks_the_token_before_anything_is_logged(
    run_jobs: JobsRunner, known: GitHubStandIn, pull: Pull, tmp_path: Path
) -> None:
    """Under act, with the token given as a plain input (not a secret, which act would hide by itself): mlgate's
    `::add-mask::` is all that keeps it out of the log. act records every workflow command in its JSON log, the
    mask's value included (`arg`); every other line is searched."""
    known.fault("POST", COMMENTS, status=401, body={"message": "Bad credentials"})
    checkout = tmp_path / "checkout"
    write_bundle(checkout / ".mlgate" / "results", bundle("pass"))
    event = json.loads(pull_event(tmp_path / "event.json", pull).read_text(encoding="utf-8"))
    step = Step("report", "actions/report", {"token": TOKEN}, env={"MLGATE_DEBUG": "1"}, may_fail=True)
    run = run_jobs(Job("report", [step], checkout=checkout), event=event, run_id=42)

    assert run["report"].outcome == "failure" and "Traceback" in run["report"].log, run.log  # MLGATE_DEBUG reached it
    shown = [e for e in run.act.events if TOKEN in json.dumps(e) and e.get("command") != "add-mask"]
    assert shown == [], shown
    assert [e["arg"] for e in run.act.events if e.get("command") == "add-mask"] == [TOKEN]
    assert TOKEN not in run.log and TOKEN not in run["report"].summary
    assert not [
        path for path, data in every_file(run.jobs["report"].workspace, run.artifacts) if TOKEN.encode() in data
    ]


def test_the_leak_check_catches_a_leak(tmp_path: Path) -> None:
    shown = subprocess.CompletedProcess([], 2, f"::add-mask::{TOKEN}\n", f"401 for token {TOKEN}\n")
    with pytest.raises(AssertionError):
        assert_never_shown(shown, tmp_path)
    (tmp_path / "outbox.json").write_text(json.dumps({"auth": f"token {TOKEN}"}), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"outbox\.json"):
        assert_never_shown(subprocess.CompletedProcess([], 0, f"::add-mask::{TOKEN}\n", ""), tmp_path)
