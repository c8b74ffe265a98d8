"""`mlgate retrain` as a scheduled Actions step: the real example pipeline, a bare git `origin` whose pushes
reach the GitHub stand-in, and PyGithub opening the pull request against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.example_fixtures import git
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import Workspace, add_issue, reject_pushes, retrain

BRANCH = "refs/heads/mlgate/retrain"
DRIFT = {"FETCH_SHIFT": "2"}  # the six size features and size_band move: 7 of 32 columns
SHARE = ("--drift-share", "0.1")
SMALL_DRIFT = {"SHIFT": "2"}  # the small repository's two features move; its mlgate.yml sets drift_share 0.1
PULLS = r"/repos/octo/demo/pulls"


def retrain_json(workspace: Workspace) -> dict[str, object]:
    return json.loads((workspace.path / ".mlgate" / "results" / "retrain.json").read_text())


def assert_checkout_untouched(workspace: Workspace, head: str) -> None:
    """HEAD, branch, index and tracked files as before the run (the data command's new files may remain)."""
    assert git(workspace.path, "rev-parse", "HEAD") == head
    assert git(workspace.path, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(workspace.path, "status", "--porcelain", "--untracked-files=no") == ""


def changed_files(workspace: Workspace, sha: str) -> list[str]:
    return git(workspace.origin, "diff-tree", "--no-commit-id", "--name-only", "-r", "main", sha).splitlines()


@pytest.mark.slow
def test_no_drift_means_no_pull_request_and_says_why(github_workspace: Workspace, github: GitHubStandIn) -> None:
    head = git(github_workspace.path, "rev-parse", "HEAD")
    done = retrain(github_workspace, env={"FETCH_SEED": "3"}, actions=github)
    assert done.code == 0, done.out + done.err
    assert not github.repo().pulls and github_workspace.origin_ref(BRANCH) is None
    assert done.outputs["drifted"] == "false" and done.outputs["pr-url"] == ""
    assert "### mlgate retrain: no retraining, no pull request" in done.summary
    assert "no drift: 0 of 32 columns drifted (0%, not above the 50% limit), and retrain.when is drift" in done.summary
    assert "| `mean_area` | ks |" in done.summary  # the drift table backs the claim
    record = retrain_json(github_workspace)
    assert record["verdict"] == "skipped" and record["evidence"]["outcome"] == "no-drift"  # type: ignore[index]
    assert not github.calls(path=PULLS)
    assert_checkout_untouched(github_workspace, head)


def test_a_rejected_push_leaves_nothing_half_done(small_github_workspace: Workspace, github: GitHubStandIn) -> None:
    workspace = small_github_workspace
    head = git(workspace.path, "rev-parse", "HEAD")
    reject_pushes(workspace.origin, "branch pushes are frozen for the audit")
    before = workspace.origin_refs()

    done = retrain(workspace, env=SMALL_DRIFT, actions=github)

    assert done.code == 2
    error = next(line for line in done.out.splitlines() if line.startswith("::error"))
    assert "git push of mlgate/retrain to origin was rejected: pre-receive hook declined" in error
    assert "branch pushes are frozen for the audit" in error and "nothing was changed on origin" in error
    assert workspace.origin_refs() == before and not github.repo().pulls
    assert not github.calls(path=PULLS)
    assert "### mlgate retrain: publishing failed, no pull request" in done.summary
    assert done.outputs["pr-url"] == "" and done.outputs["drifted"] == "true"
    record = retrain_json(workspace)
    assert record["verdict"] == "error" and record["evidence"]["outcome"] == "publishing-failed"  # type: ignore[index]
    assert_checkout_untouched(workspace, head)


def test_a_refused_pull_request_puts_the_branch_back(small_github_workspace: Workspace, github: GitHubStandIn) -> None:
    workspace = small_github_workspace
    head = git(workspace.path, "rev-parse", "HEAD")
    refusal = {"message": "GitHub Actions is not permitted to create or approve pull requests.", "status": "403"}
    github.fault("POST", PULLS, status=403, body=refusal, times=None)

    done = retrain(workspace, env=SMALL_DRIFT, actions=github)

    assert done.code == 2
    error = next(line for line in done.out.splitlines() if line.startswith("::error"))
    assert "not permitted to create or approve pull requests" in error
    assert "Allow GitHub Actions to create and approve pull requests" in error
    assert "mlgate/retrain on origin was put back as it was" in error
    assert workspace.origin_ref(BRANCH) is None and not github.repo().pulls
    assert_checkout_untouched(workspace, head)


def test_a_second_run_puts_an_existing_branch_back_to_its_old_commit(
    small_github_workspace: Workspace, github: GitHubStandIn
) -> None:
    workspace = small_github_workspace
    first = retrain(workspace, env=SMALL_DRIFT, actions=github)
    assert first.code == 0, first.out
    pushed = workspace.origin_ref(BRANCH)
    github.fault("PATCH", PULLS + r"/\d+", status=422, times=None)  # GitHub refuses the update

    second = retrain(workspace, env=SMALL_DRIFT | {"SEED": "2"}, actions=github)

    assert second.code == 2 and "update pull request #1 failed: HTTP 422" in second.out
    assert workspace.origin_ref(BRANCH) == pushed  # the pull request and its branch still agree
    [pull] = github.repo().pulls.values()
    assert pull.head_sha == pushed


def test_check_only_reports_drift_on_the_tracking_issue(
    small_github_workspace: Workspace, github: GitHubStandIn
) -> None:
    workspace = small_github_workspace
    issue = add_issue(github)
    done = retrain(workspace, "--check-only", "--tracking-issue", str(issue.number), env=SMALL_DRIFT, actions=github)
    assert done.code == 0, done.out + done.err
    assert done.outputs["drifted"] == "true" and done.outputs["pr-url"] == ""
    [comment] = github.repo().comments.values()
    assert comment.issue_number == issue.number and comment.user == "github-actions[bot]"
    assert "### mlgate drift monitor: drift in `main`'s data ([workflow run](" in comment.body
    assert "2 of 3 columns drifted (67%, above the 10% limit)" in comment.body
    assert "| `x1` | ks |" in comment.body
    assert "### mlgate retrain: drift detected" in done.summary
    assert not github.repo().pulls and workspace.origin_ref(BRANCH) is None
    assert not (workspace.path / ".mlgate" / "results" / "train.json").exists()  # nothing was trained
    assert git(workspace.path, "status", "--porcelain", "--untracked-files=no") == ""  # the new data is gone


def test_check_only_without_drift_comments_nowhere(small_github_workspace: Workspace, github: GitHubStandIn) -> None:
    issue = add_issue(github)
    done = retrain(small_github_workspace, "--check-only", "--tracking-issue", str(issue.number), actions=github)
    assert done.code == 0, done.out + done.err
    assert done.outputs["drifted"] == "false" and not github.repo().comments
    assert "### mlgate retrain: no drift" in done.summary


def test_tracking_issue_without_check_only_is_refused(github_workspace: Workspace, github: GitHubStandIn) -> None:
    done = retrain(github_workspace, "--tracking-issue", "3", actions=github)
    assert done.code == 2 and "--tracking-issue goes with --check-only" in done.out
    assert not github.requests


def test_a_missing_token_is_an_input_error(github_workspace: Workspace, github: GitHubStandIn) -> None:
    done = retrain(github_workspace, "--driver", "github", env={"GITHUB_TOKEN": ""}, actions=github)
    assert done.code == 2 and "the github driver needs a token" in done.out


def test_head_must_be_the_default_branch_tip(github_workspace: Workspace, github: GitHubStandIn) -> None:
    (github_workspace.path / "notes.txt").write_text("local work\n")
    git(github_workspace.path, "add", "notes.txt")
    git(github_workspace.path, "commit", "--quiet", "-m", "local work")
    done = retrain(github_workspace, actions=github)
    assert done.code == 2 and "is not the tip of origin/main" in done.out
    assert "check it out first" in done.out
    assert not Path(github_workspace.path / "raw" / "fresh.csv").exists()  # refused before the data command


def test_a_tracking_issue_that_cannot_be_commented_still_leaves_the_report(
    small_github_workspace: Workspace, github: GitHubStandIn
) -> None:
    done = retrain(small_github_workspace, "--check-only", "--tracking-issue", "99", env=SMALL_DRIFT, actions=github)
    assert done.code == 2 and "comment on #99 failed: HTTP 404" in done.out
    assert "### mlgate retrain: drift detected" in done.summary and done.outputs["drifted"] == "true"
    record = retrain_json(small_github_workspace)
    assert "comment on #99 failed" in str(record["evidence"]["tracking_comment_error"])  # type: ignore[index]
