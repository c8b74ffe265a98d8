"""actions/report/action.yml end to end: the composite-action bench runs it against the GitHub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.action_fixtures import ActionBench
from bench.github_standin import GitHubStandIn
from bench.github_state import Pull
from bench.report_fixtures import HEAD_SHA, bundle, write_bundle

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "actions" / "report"
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


def github_context(github: GitHubStandIn, token: str, **extra: str) -> dict[str, str]:
    return {
        "repository": "octo/demo",
        "api_url": github.base_url,
        "server_url": github.server_url,
        "token": token,
        "workflow": "CI",
        "run_id": "42",
        **extra,
    }


@pytest.mark.parametrize(("verdict", "ok"), [("fail", False), ("pass", True)])
def test_report_action_posts_and_then_gates(
    run_action: ActionBench, github: GitHubStandIn, mlgate_on_path: dict[str, str], verdict: str, ok: bool
) -> None:
    pull = github.add_pull(head_sha=HEAD_SHA)
    write_bundle(run_action.workspace / ".mlgate" / "results", bundle(verdict))
    result = run_action(
        REPORT, {}, env=mlgate_on_path, event=pull_payload(pull), github=github_context(github, "ghs_test")
    )
    assert result.ok is ok, result.log
    [comment] = github.repo().comments.values()
    assert comment.body.startswith(MARKER_CI + "\n") and f"mlgate: **{verdict}**" in comment.body
    assert result.outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert result.outputs["report"] == ".mlgate/report.md" and result.outputs["verdict"] == verdict
    [run] = github.repo().check_runs.values()
    assert run.conclusion == ("failure" if verdict == "fail" else "success") and run.head_sha == HEAD_SHA
    assert f"mlgate: **{verdict}**" in result.summary
    assert (run_action.artifacts_dir / "mlgate-report" / "report.md").is_file()


def test_fork_pr_artifact_is_posted_by_the_workflow_run_poster(
    run_action: ActionBench, github: GitHubStandIn, mlgate_on_path: dict[str, str]
) -> None:
    github.add_token("ghs_fork", read_only=True)
    pull = github.add_pull(head_sha=HEAD_SHA, fork=True, user="forker")
    write_bundle(run_action.workspace / ".mlgate" / "results", bundle("pass"))
    fork_run = run_action(
        REPORT, {}, env=mlgate_on_path, event=pull_payload(pull), github=github_context(github, "ghs_fork")
    )
    assert fork_run.ok, fork_run.log  # the gate passed: a read-only token is not a failure
    assert not github.repo().comments and not github.repo().check_runs
    artifact = run_action.artifacts_dir / "mlgate-report"
    assert json.loads((artifact / "meta.json").read_text())["pr_number"] == pull.issue.number
    assert [a.message for a in fork_run.annotations_of("notice") if "mlgate-report artifact" in a.message]

    poster = run_action(
        REPORT,
        {"from-artifact": str(artifact)},
        env=mlgate_on_path,
        event={"workflow_run": {"head_sha": HEAD_SHA, "name": "CI", "event": "pull_request"}},
        event_name="workflow_run",
        github=github_context(github, "ghs_test", workflow="Post mlgate report", run_id="43"),
    )
    assert poster.ok, poster.log
    [comment] = github.repo().comments.values()
    assert comment.body == (artifact / "body.md").read_text(encoding="utf-8")
    assert poster.outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert not github.repo().check_runs  # the fork's verdict is never published as a check


def test_tampered_artifact_fails_the_poster(
    run_action: ActionBench, github: GitHubStandIn, mlgate_on_path: dict[str, str], tmp_path: Path
) -> None:
    pull = github.add_pull(head_sha=HEAD_SHA, fork=True, user="forker")
    folder = tmp_path / "artifact"
    folder.mkdir()
    meta = {"version": 1, "pr_number": str(pull.issue.number), "head_sha": HEAD_SHA, "marker": MARKER_CI}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "body.md").write_text(MARKER_CI + "\nhello")
    poster = run_action(
        REPORT,
        {"from-artifact": str(folder)},
        env=mlgate_on_path,
        event={"workflow_run": {"head_sha": HEAD_SHA, "name": "CI"}},
        event_name="workflow_run",
        github=github_context(github, "ghs_test"),
    )
    assert not poster.ok
    [error] = poster.annotations_of("error")[:1]
    assert "artifact key 'pr_number' must be a positive integer" in error.message
    assert error.file is not None and error.file.endswith("meta.json")
    assert not github.repo().comments
