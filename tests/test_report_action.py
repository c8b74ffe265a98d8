"""actions/report/action.yml end to end: act runs it against the GitHub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.act_jobs import Job, JobsRunner, Step
from bench.github_standin import GitHubStandIn
from bench.github_state import Pull
from bench.report_fixtures import HEAD_SHA, bundle, write_bundle

REPORT = "actions/report"
MARKER_CI = "<!-- mlgate:report workflow=CI name=mlgate -->"


def pull_payload(pull: Pull) -> dict[str, object]:
    return {
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": {"full_name": pull.head_repo}},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": {"full_name": "octo/demo"}},
        },
        "repository": {"full_name": "octo/demo", "default_branch": "main"},
    }


def workspace_with(tmp_path: Path, verdict: str) -> Path:
    """What the job's earlier steps left: the results bundle of validate, train and compare."""
    workspace = tmp_path / "checkout"
    write_bundle(workspace / ".mlgate" / "results", bundle(verdict))
    return workspace


def poster_job(checkout: Path, artifact: str) -> Job:
    """The workflow_run job that posts a fork's report: mlgate set up first (as the template does), then the
    action on the downloaded artifact folder."""
    post = Step("post", REPORT, {"from-artifact": artifact}, may_fail=True)
    return Job("post", [Step("setup", "actions/setup"), post], checkout=checkout)


@pytest.mark.parametrize(("verdict", "ok"), [("fail", False), ("pass", True)])
def test_report_action_posts_and_then_gates(
    run_jobs: JobsRunner, github: GitHubStandIn, tmp_path: Path, verdict: str, ok: bool
) -> None:
    pull = github.add_pull(head_sha=HEAD_SHA)
    job = Job("report", [Step("report", REPORT, may_fail=not ok)], checkout=workspace_with(tmp_path, verdict))
    run = run_jobs(job, event=pull_payload(pull), run_id=42)
    report = run["report"]

    assert report.ok is ok, run.log
    [comment] = github.repo().comments.values()
    assert comment.body.startswith(MARKER_CI + "\n") and f"mlgate: **{verdict}**" in comment.body
    assert report.outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert report.outputs["report"] == ".mlgate/report.md" and report.outputs["verdict"] == verdict
    [check] = github.repo().check_runs.values()
    assert check.conclusion == ("failure" if verdict == "fail" else "success") and check.head_sha == HEAD_SHA
    assert f"mlgate: **{verdict}**" in report.summary
    assert "report.md" in run.artifact("mlgate-report")


def test_fork_pr_artifact_is_posted_by_the_workflow_run_poster(
    run_jobs: JobsRunner, github: GitHubStandIn, tmp_path: Path
) -> None:
    github.add_token("ghs_fork", read_only=True)
    pull = github.add_pull(head_sha=HEAD_SHA, fork=True, user="forker")
    job = Job("report", [Step("report", REPORT)], checkout=workspace_with(tmp_path, "pass"))
    fork_run = run_jobs(job, event=pull_payload(pull), token="ghs_fork", run_id=42)

    assert fork_run["report"].ok, fork_run.log  # the gate passed: a read-only token is not a failure
    assert not github.repo().comments and not github.repo().check_runs
    files = fork_run.artifact("mlgate-report")
    assert json.loads(files["meta.json"])["pr_number"] == pull.issue.number
    notices = fork_run["report"].annotations_of("notice")
    assert [a.message for a in notices if "mlgate-report artifact" in a.message], fork_run.log

    # What actions/download-artifact leaves in the poster's workspace: the artifact's files in a folder.
    poster_checkout = tmp_path / "poster"
    for name, data in files.items():
        (poster_checkout / "artifact" / name).parent.mkdir(parents=True, exist_ok=True)
        (poster_checkout / "artifact" / name).write_bytes(data)
    event = {"workflow_run": {"head_sha": HEAD_SHA, "name": "CI", "event": "pull_request"}}
    poster = run_jobs(
        poster_job(poster_checkout, "artifact"),
        event_name="workflow_run",
        event=event,
        workflow="Post mlgate report",
        run_id=43,
    )

    assert poster["post"].ok, poster.log
    [comment] = github.repo().comments.values()
    assert comment.body == files["body.md"].decode("utf-8")
    assert poster["post"].outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert not github.repo().check_runs  # the fork's verdict is never published as a check


def test_tampered_artifact_fails_the_poster(run_jobs: JobsRunner, github: GitHubStandIn, tmp_path: Path) -> None:
    pull = github.add_pull(head_sha=HEAD_SHA, fork=True, user="forker")
    folder = tmp_path / "poster" / "artifact"
    folder.mkdir(parents=True)
    meta = {"version": 1, "pr_number": str(pull.issue.number), "head_sha": HEAD_SHA, "marker": MARKER_CI}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "body.md").write_text(MARKER_CI + "\nhello")
    event = {"workflow_run": {"head_sha": HEAD_SHA, "name": "CI"}}
    poster = run_jobs(poster_job(folder.parent, "artifact"), event_name="workflow_run", event=event)

    assert poster["post"].outcome == "failure", poster.log
    [error] = poster["post"].annotations_of("error")[:1]
    assert "artifact key 'pr_number' must be a positive integer" in error.message
    assert error.file is not None and error.file.endswith("meta.json")
    assert not github.repo().comments
