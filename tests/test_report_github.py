"""`mlgate report` with the github driver: the real CLI, PyGithub, and the GitHub stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from bench.github_standin import GitHubStandIn
from bench.github_state import Pull
from bench.report_fixtures import (
    HEAD_SHA,
    actions_env,
    bundle,
    read_outputs,
    run_mlgate,
    train_result,
    validation_result,
    write_bundle,
)

from mlgate.report.fit import COMMENT_LIMIT, github_length
from mlgate.results import StepResult

COMMENTS = r"/repos/octo/demo/issues/\d+/comments"
CHECK_RUNS = r"/repos/octo/demo/check-runs(/\d+)?"
MARKER_CI = "<!-- mlgate:report workflow=CI name=mlgate -->"


@pytest.fixture
def pull(github: GitHubStandIn) -> Pull:
    return github.add_pull(head_sha=HEAD_SHA)


def pull_event(path: Path, pull: Pull, *, head_repo: str = "octo/demo") -> Path:
    payload = {
        "action": "synchronize",
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": {"full_name": head_repo}},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": {"full_name": "octo/demo"}},
        },
        "repository": {"full_name": "octo/demo", "default_branch": "main"},
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def report(
    tmp_path: Path,
    github: GitHubStandIn,
    pull: Pull | None,
    *args: str,
    token: str = "ghs_test",
    run_id: str = "42",
    event: str = "pull_request",
    **env: str,
) -> Any:
    """Run `mlgate report` as the report step of workflow CI would, for `pull` (None: a push of HEAD_SHA)."""
    base = actions_env(tmp_path, GITHUB_RUN_ID=run_id, GITHUB_EVENT_NAME=event, GITHUB_SHA="9" * 40)
    if pull is not None:
        base["GITHUB_EVENT_PATH"] = str(pull_event(tmp_path / "event.json", pull))
    else:
        base["GITHUB_SHA"] = HEAD_SHA
    return run_mlgate("report", *args, cwd=tmp_path, env=github.env(token) | base | env)


def comments(github: GitHubStandIn, number: int) -> list[Any]:
    return sorted((c for c in github.repo().comments.values() if c.issue_number == number), key=lambda c: c.id)


def ours(github: GitHubStandIn, number: int, marker: str = MARKER_CI) -> list[Any]:
    return [c for c in comments(github, number) if marker in c.body and c.user == "github-actions[bot]"]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / ".mlgate" / "results", bundle("fail"))


def test_first_run_creates_and_three_reruns_update_the_one_comment(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    first = report(tmp_path, github, pull)
    assert first.returncode == 1, first.stderr  # the gate failed; the report was still posted
    [created] = ours(github, pull.issue.number)
    assert created.body.startswith(MARKER_CI + "\n## ❌ mlgate: **fail**")
    outputs = read_outputs(tmp_path / "gh_output")
    assert outputs["comment-url"].endswith(f"#issuecomment-{created.id}")
    for run in ("43", "44", "45"):
        again = report(tmp_path, github, pull, run_id=run)
        assert again.returncode == 1, again.stderr
        assert f"comment updated on #{pull.issue.number}" in again.stdout
    [updated] = ours(github, pull.issue.number)
    assert updated.id == created.id and "actions/runs/45" in updated.body
    assert (
        len(github.calls("POST", COMMENTS)) == 1
        and len(github.calls("PATCH", r"/repos/octo/demo/issues/comments/\d+")) == 3
    )
    assert "## ❌ mlgate: **fail**" in (tmp_path / "gh_summary").read_text(encoding="utf-8")


def test_marker_on_page_three_of_250_comments_is_updated_not_duplicated(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    number = pull.issue.number
    github.add_comments(3, issue=number, user="mallory", body=MARKER_CI + " a marker pasted by someone else {i}")
    github.add_comments(217, issue=number, user="octocat")
    [old] = github.add_comments(1, issue=number, user="github-actions[bot]", body=MARKER_CI + "\nold report")
    github.add_comments(29, issue=number, user="octocat")
    assert len(comments(github, number)) == 250 and comments(github, number).index(old) == 220  # page 3
    done = report(tmp_path, github, pull, "--no-check")
    assert done.returncode == 1, done.stderr
    assert len(comments(github, number)) == 250
    assert old.body.startswith(MARKER_CI + "\n## ❌") and not github.calls("POST", COMMENTS)
    assert all("pasted by someone else" in c.body for c in comments(github, number)[:3])  # not ours: untouched
    assert len(github.calls("GET", COMMENTS)) == 3


def test_duplicates_left_by_racing_jobs_are_cleaned_up(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    number = pull.issue.number
    first, _ = github.add_comments(2, issue=number, user="github-actions[bot]", body=MARKER_CI + "\nrun {i}")
    done = report(tmp_path, github, pull, "--no-check")
    assert done.returncode == 1, done.stderr
    assert [c.id for c in ours(github, number)] == [first.id]  # the oldest stays where reviewers know it
    assert "## ❌ mlgate: **fail**" in first.body


@pytest.mark.parametrize("existing", [0, 500])
def test_sticky_comment_costs_at_most_pages_plus_two_calls(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path, existing: int
) -> None:
    github.add_comments(existing, issue=pull.issue.number, user="octocat")
    for action in ("created", "updated"):
        total = len(comments(github, pull.issue.number))
        before = len(github.requests)
        done = report(tmp_path, github, pull, "--no-check", run_id=str(before))
        assert f"comment {action}" in done.stdout, done.stderr
        used = [f"{r.method} {r.path}" for r in github.requests[before:]]
        assert len(used) == max(math.ceil(total / 100), 1) + 1 <= math.ceil(total / 100) + 2, used


def test_two_workflows_reports_coexist(tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path) -> None:
    report(tmp_path, github, pull, "--no-check")
    report(tmp_path, github, pull, "--no-check", GITHUB_WORKFLOW="Nightly models")
    report(tmp_path, github, pull, "--no-check", run_id="50")
    number = pull.issue.number
    nightly = "<!-- mlgate:report workflow=Nightly%20models name=mlgate -->"
    assert len(ours(github, number)) == 1 and len(ours(github, number, nightly)) == 1
    assert "runs/50" in ours(github, number)[0].body and "runs/42" in ours(github, number, nightly)[0].body


def test_recreate_moves_the_comment_to_the_bottom_and_append_adds(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    report(tmp_path, github, pull, "--no-check")
    github.add_comments(2, issue=pull.issue.number, user="octocat")
    report(tmp_path, github, pull, "--no-check", "--mode", "recreate")
    [mine] = ours(github, pull.issue.number)
    assert comments(github, pull.issue.number)[-1] is mine
    report(tmp_path, github, pull, "--no-check", "--mode", "append")
    assert len(ours(github, pull.issue.number)) == 2


def test_a_pat_users_comments_are_found_with_comment_author(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    github.add_token("ghp_user", kind="pat", login="octocat")
    first = report(tmp_path, github, pull, "--no-check", token="ghp_user")
    assert "set the comment-author input to octocat" in first.stdout
    report(tmp_path, github, pull, "--no-check", "--comment-author", "octocat", token="ghp_user", run_id="7")
    [mine] = [c for c in comments(github, pull.issue.number) if MARKER_CI in c.body]
    assert mine.user == "octocat" and "runs/7" in mine.body


def test_push_event_finds_the_pull_request_of_the_commit(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    done = report(tmp_path, github, None, "--no-check", event="push")
    assert done.returncode == 1, done.stderr
    assert len(ours(github, pull.issue.number)) == 1
    assert github.calls("GET", rf"/repos/octo/demo/commits/{HEAD_SHA}/pulls")


# ---------------------------------------------------------------------------------------------- check runs


@pytest.mark.parametrize(
    ("verdict", "conclusion", "state"),
    [
        ("pass", "success", "success"),
        ("warn", "neutral", "success"),
        ("fail", "failure", "failure"),
        ("error", "failure", "error"),
        ("skipped", "skipped", "success"),
    ],
)
def test_check_run_conclusion_and_status_fallback(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, verdict: str, conclusion: str, state: str
) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", [StepResult("compare", verdict, f"it is {verdict}", {}, {})])
    report(tmp_path, github, pull, "--fail-on", "never")
    [run] = github.repo().check_runs.values()
    assert (run.name, run.head_sha, run.conclusion) == ("mlgate", HEAD_SHA, conclusion)
    assert run.summary.startswith("## ") and run.details_url.endswith("/actions/runs/42")
    # A token without checks: write (or a PAT) cannot create check runs: a commit status gates instead.
    github.add_token("ghs_nochecks", permissions={"issues": "write", "pull_requests": "write", "statuses": "write"})
    done = report(tmp_path, github, pull, "--fail-on", "never", token="ghs_nochecks")
    assert done.returncode == 0, done.stderr
    [status] = github.repo().statuses
    assert (status.context, status.sha, status.state) == ("mlgate", HEAD_SHA, state)
    assert len(status.description or "") <= 140


def test_120_annotations_go_in_three_batches(tmp_path: Path, github: GitHubStandIn, pull: Pull) -> None:
    notes = [{"path": "data/schema.yml", "line": n, "level": "error", "message": f"row {n}"} for n in range(1, 121)]
    base = validation_result(verdict="fail", failed=0)
    write_bundle(
        tmp_path / ".mlgate" / "results",
        [StepResult("validation", "fail", "bad", {}, {**base.evidence, "annotations": notes})],
    )
    report(tmp_path, github, pull, "--no-check")  # the comment first, so only check-run calls are below
    before = len(github.requests)
    report(tmp_path, github, pull)
    sent = [r for r in github.requests[before:] if r.path.startswith("/repos/octo/demo/check-runs")]
    assert [(r.method, len(r.body["output"].get("annotations", []))) for r in sent] == [
        ("POST", 50),
        ("PATCH", 50),
        ("PATCH", 20),
    ]
    [run] = github.repo().check_runs.values()
    assert len(run.annotations) == 120 and run.annotations[119]["message"] == "row 120"
    assert run.annotations[0]["annotation_level"] == "failure"


# ---------------------------------------------------------------------------------------------- size


def test_a_200k_report_arrives_within_65536_characters_with_the_pointer(
    tmp_path: Path, github: GitHubStandIn, pull: Pull
) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", [validation_result(verdict="fail", failed=4000), train_result()])
    done = report(tmp_path, github, pull)
    assert done.returncode == 1, done.stderr
    full = (tmp_path / ".mlgate" / "report.md").read_text(encoding="utf-8")
    assert github_length(full) > 200_000
    [mine] = ours(github, pull.issue.number)
    assert github_length(mine.body) <= COMMENT_LIMIT
    assert "Left out or cut to fit GitHub's size limit" in mine.body
    assert "[the workflow run](" in mine.body and "/actions/runs/42)" in mine.body
    [run] = github.repo().check_runs.values()
    assert len(run.summary) <= 65_535
    assert len(run.annotations) == 500  # of 4,000 located findings: 10 batches, not 80
    assert full in (tmp_path / "gh_summary").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------- faults


def test_502_twice_then_success_gives_one_comment(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    github.fault("POST", COMMENTS, status=502, times=2)
    done = report(tmp_path, github, pull, "--no-check")
    assert done.returncode == 1, done.stderr
    assert len(ours(github, pull.issue.number)) == 1 and len(github.calls("POST", COMMENTS)) == 3
    assert "HTTP 502; retrying in 0.5 s" in done.stderr and "retrying in 1.0 s" in done.stderr


def test_secondary_rate_limit_waits_retry_after(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    github.fault("POST", COMMENTS, rate_limit="secondary", retry_after=2)
    started = time.monotonic()
    done = report(tmp_path, github, pull, "--no-check")
    assert done.returncode == 1, done.stderr
    posts = github.calls("POST", COMMENTS)
    assert len(posts) == 2 and posts[0].status == 403 and posts[1].status == 201
    assert "secondary rate limit" in done.stderr and "retrying in 2.0 s" in done.stderr
    assert time.monotonic() - started >= 2.0
    assert len(ours(github, pull.issue.number)) == 1


def test_primary_rate_limit_waits_for_the_reset(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    github.fault("PATCH", r"/repos/octo/demo/issues/comments/\d+", rate_limit="primary", reset_in=1)
    report(tmp_path, github, pull, "--no-check")
    done = report(tmp_path, github, pull, "--no-check", run_id="2")
    assert done.returncode == 1, done.stderr
    assert "API rate limit exhausted until its reset" in done.stderr
    assert "runs/2" in ours(github, pull.issue.number)[0].body


def test_a_rate_limit_beyond_the_budget_fails_clearly_but_the_summary_is_written(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    github.fault("POST", COMMENTS, rate_limit="primary", reset_in=3600, times=None)
    done = report(tmp_path, github, pull, "--no-check", "--retry-budget", "30")
    assert done.returncode == 2
    assert f"comment on #{pull.issue.number} failed after 1 attempt(s)" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "## ❌ mlgate: **fail**" in (tmp_path / "gh_summary").read_text(encoding="utf-8")


def test_a_lost_create_response_does_not_duplicate(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    github.fault("POST", COMMENTS, reset=True, after_apply=True)
    github.fault("POST", r"/repos/octo/demo/check-runs", reset=True, after_apply=True)
    github.fault("PATCH", r"/repos/octo/demo/check-runs/\d+", reset=True, after_apply=True)
    notes = [{"path": "mlgate.yml", "line": n, "message": f"n{n}"} for n in range(1, 61)]
    write_bundle(tmp_path / ".mlgate" / "results", [StepResult("validation", "fail", "x", {}, {"annotations": notes})])
    done = report(tmp_path, github, pull)
    assert done.returncode == 1, done.stderr
    assert len(github.calls("POST", COMMENTS)) == 1 and len(ours(github, pull.issue.number)) == 1
    [run] = github.repo().check_runs.values()
    assert len(github.calls("POST", r"/repos/octo/demo/check-runs")) == 1
    assert len(run.annotations) == 60  # the second batch landed once, although its response was lost
    assert done.stderr.count("connection failed; retrying") == 3


# ---------------------------------------------------------------------------------------------- fork PRs


@pytest.fixture
def fork_pull(github: GitHubStandIn) -> Pull:
    github.add_token("ghs_fork", read_only=True)
    return github.add_pull(head_sha=HEAD_SHA, fork=True, user="forker")


@pytest.mark.parametrize(("verdict", "code"), [("fail", 1), ("pass", 0)])
def test_fork_pr_leaves_an_artifact_and_exits_by_the_gate(
    tmp_path: Path, github: GitHubStandIn, fork_pull: Pull, verdict: str, code: int
) -> None:
    write_bundle(tmp_path / ".mlgate" / "results", bundle(verdict))
    done = report(tmp_path, github, fork_pull, token="ghs_fork")
    assert done.returncode == code, done.stderr
    assert not comments(github, fork_pull.issue.number) and not github.repo().check_runs
    assert "::notice::" in done.stdout and "mlgate report --from-artifact" in done.stdout
    folder = tmp_path / ".mlgate" / "mlgate-report"
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta == {"version": 1, "pr_number": fork_pull.issue.number, "head_sha": HEAD_SHA, "marker": MARKER_CI}
    assert (folder / "body.md").read_text(encoding="utf-8").startswith(MARKER_CI + "\n## ")
    assert read_outputs(tmp_path / "gh_output")["artifact"] == ".mlgate/mlgate-report"
    assert f"mlgate: **{verdict}**" in (tmp_path / "gh_summary").read_text(encoding="utf-8")


def fork_artifact(tmp_path: Path, github: GitHubStandIn, pull: Pull) -> Path:
    write_bundle(tmp_path / ".mlgate" / "results", bundle("fail"))
    report(tmp_path, github, pull, token="ghs_fork")
    return tmp_path / ".mlgate" / "mlgate-report"


def workflow_run_event(path: Path, *, head_sha: str = HEAD_SHA, name: str = "CI") -> dict[str, str]:
    payload = {"workflow_run": {"head_sha": head_sha, "name": name, "event": "pull_request", "pull_requests": []}}
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": str(path)}


def post(tmp_path: Path, github: GitHubStandIn, folder: Path, **env: str) -> Any:
    base = actions_env(tmp_path, GITHUB_WORKFLOW="Post mlgate report") | workflow_run_event(tmp_path / "run.json")
    return run_mlgate("report", "--from-artifact", str(folder), cwd=tmp_path, env=github.env() | base | env)


def test_from_artifact_posts_the_fork_report_once(tmp_path: Path, github: GitHubStandIn, fork_pull: Pull) -> None:
    folder = fork_artifact(tmp_path, github, fork_pull)
    for _ in range(2):
        done = post(tmp_path, github, folder)
        assert done.returncode == 0, done.stderr
    [posted] = ours(github, fork_pull.issue.number)
    assert posted.body == (folder / "body.md").read_text(encoding="utf-8")
    assert not github.repo().check_runs and not github.repo().statuses  # a fork never sets its own check


def tamper(folder: Path, *, meta: dict[str, Any] | None = None, body: str | None = None) -> None:
    if meta is not None:
        current = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        (folder / "meta.json").write_text(json.dumps(current | meta), encoding="utf-8")
    if body is not None:
        (folder / "body.md").write_text(body, encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"meta": {"pr_number": "1"}}, "artifact key 'pr_number' must be a positive integer (got '1')"),
        ({"meta": {"pr_number": 1.0}}, "artifact key 'pr_number' must be a positive integer"),
        ({"meta": {"head_sha": "../../etc/passwd"}}, "artifact key 'head_sha' must be a 40-hex commit sha"),
        ({"body": MARKER_CI + "\n" + "x" * 70_000}, "artifact comment body is longer than GitHub's 65,536"),
        ({"body": "## ✅ mlgate: **pass**\n"}, "artifact comment body does not start with the marker"),
        ({"meta": {"marker": "<!-- other -->"}}, "artifact key 'marker' is not an mlgate report marker"),
        ({"meta": {"head_sha": "a" * 40}}, "it speaks of commit aaaaaaaaaaaa, but the run that made it tested 222222"),
    ],
)
def test_from_artifact_refuses_tampering(
    tmp_path: Path, github: GitHubStandIn, fork_pull: Pull, change: dict[str, Any], message: str
) -> None:
    folder = fork_artifact(tmp_path, github, fork_pull)
    tamper(folder, **change)
    done = post(tmp_path, github, folder)
    assert done.returncode == 2 and message in done.stdout + done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not comments(github, fork_pull.issue.number)


def test_from_artifact_refuses_a_stale_head_and_another_workflows_marker(
    tmp_path: Path, github: GitHubStandIn, fork_pull: Pull
) -> None:
    folder = fork_artifact(tmp_path, github, fork_pull)
    fork_pull.head_sha = "3" * 40  # a newer push since the run
    stale = post(tmp_path, github, folder)
    assert stale.returncode == 2 and f"pull request #{fork_pull.issue.number} is now at 333333333333" in stale.stdout
    fork_pull.head_sha = HEAD_SHA
    other = post(tmp_path, github, folder, **workflow_run_event(tmp_path / "run2.json", name="Release"))
    assert other.returncode == 2 and "marker names workflow 'CI', but it was made by 'Release'" in other.stdout
    assert not comments(github, fork_pull.issue.number)


def test_from_artifact_refuses_symlinks(tmp_path: Path, github: GitHubStandIn, fork_pull: Pull) -> None:
    folder = fork_artifact(tmp_path, github, fork_pull)
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER_CI + "\nthe runner's secret", encoding="utf-8")
    (folder / "body.md").unlink()
    (folder / "body.md").symlink_to(secret)
    done = post(tmp_path, github, folder)
    assert (
        done.returncode == 2 and "mlgate-report/body.md::artifact file is a symlink, not a regular file" in done.stdout
    )
    assert not comments(github, fork_pull.issue.number)


def test_from_artifact_of_a_run_that_posted_itself_is_a_no_op(
    tmp_path: Path, github: GitHubStandIn, pull: Pull, results: Path
) -> None:
    report(tmp_path, github, pull)
    done = post(tmp_path, github, tmp_path / ".mlgate" / "mlgate-report")
    assert done.returncode == 0 and "nothing to post" in done.stdout
    assert len(github.calls("POST", COMMENTS)) == 1
