"""actions/retrain/action.yml end to end, run by act: a scheduled run on the example
repository opens the retrain pull request on the GitHub stand-in, and the next run updates that same one."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.act_jobs import Job, JobsRun, JobsRunner, Step
from bench.example_fixtures import dvc, git
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import Workspace

BRANCH = "refs/heads/mlgate/retrain"


def scheduled_run(run_jobs: JobsRunner, workspace: Workspace, inputs: dict[str, str], *, fails: bool = False,
                  **env: str) -> JobsRun:  # fmt: skip
    """One run of the retrain step in a scheduled workflow of octo/demo on a fresh checkout of `workspace`, after
    actions/setup-python (the repository's own Python, the example's requirements installed): the pipeline's
    stages run with that one. `env` is the job's environment."""
    job = Job("retrain", [Step("retrain", "actions/retrain", inputs, may_fail=fails)], checkout=workspace.path,
              env=env, python=True)  # fmt: skip
    run = run_jobs(job, event_name="schedule", event={"schedule": "17 5 * * 1"}, workflow="mlgate retrain",
                   ref="refs/heads/main", run_id=501)  # fmt: skip
    return run


def with_dvc_remote(workspace: Workspace) -> Path:
    """A DVC remote (a local folder) committed on main, so retraining uploads its data and model there."""
    storage = workspace.path.parent / "dvc-storage"
    dvc(workspace.path, "remote", "add", "--default", "storage", str(storage))
    git(workspace.path, "commit", "--quiet", "--all", "-m", "DVC remote")
    git(workspace.path, "push", "--quiet", "origin", "main")
    return storage


def cached_hash(workspace: Workspace, sha: str, path: str) -> str:
    """The md5 DVC recorded for `path` in dvc.lock at commit `sha`."""
    import yaml

    lock = yaml.safe_load(git(workspace.origin, "show", f"{sha}:dvc.lock"))
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == path:
                return str(out["md5"])
    raise AssertionError(f"{path} is not an output in dvc.lock at {sha}")


@pytest.mark.slow
def test_scheduled_runs_open_then_update_one_pull_request(
    run_jobs: JobsRunner, github_workspace: Workspace, github: GitHubStandIn
) -> None:
    storage = with_dvc_remote(github_workspace)
    main = git(github_workspace.path, "rev-parse", "HEAD")
    inputs = {"drift-share": "0.1"}

    run = scheduled_run(run_jobs, github_workspace, inputs, FETCH_SHIFT="2")
    first = run["retrain"]

    assert first.ok, run.log
    [pull] = github.repo().pulls.values()
    assert (pull.head_ref, pull.base_ref, pull.issue.labels) == ("mlgate/retrain", "main", ["mlgate:retrain"])
    assert pull.issue.user == "github-actions[bot]"
    assert first.outputs["pr-url"] == f"{github.server_url}/octo/demo/pull/{pull.issue.number}"
    assert first.outputs["drifted"] == "true"
    assert pull.issue.title.startswith("mlgate retrain: data drifted (7 of 32 columns), retrained ")
    body = pull.issue.body
    assert body.startswith("## 🔁 mlgate retrain\n\n**Why:** the data drifted: 7 of 32 columns drifted (22%, above ")
    drift, report = body.index("### Drift"), body.index("## ✅ mlgate · retrain: **pass**")
    assert drift < report  # the drift table on top, the full report below it
    assert (
        "| `mean_area` | ks |" in body
        and "❌ drifted" in body
        and "| metric | base | head | Δ | interval of Δ | rule | verdict |" in body
    )
    assert "Committed: `dvc.lock`, `eval/predictions.csv`, `metrics.json`." in body
    assert "`raw/fresh.csv`" in body  # changed, left out, and said so

    pushed = github_workspace.origin_ref(BRANCH)
    assert pushed == pull.head_sha
    assert git(github_workspace.origin, "rev-parse", f"{pushed}^") == main
    assert git(github_workspace.origin, "diff-tree", "--no-commit-id", "--name-only", "-r", main, pushed).split() == [
        "dvc.lock",
        "eval/predictions.csv",
        "metrics.json",
    ]
    model = cached_hash(github_workspace, pushed, "model.pkl")  # uploaded before the branch was pushed
    assert (storage / "files" / "md5" / model[:2] / model[2:]).is_file()
    assert "pull request #1 created" in first.summary
    # the checkout is left as it was: main, no tracked change
    checkout = run.jobs["retrain"].workspace
    assert git(checkout, "rev-parse", "HEAD") == main
    assert git(checkout, "status", "--porcelain", "--untracked-files=no") == ""

    rerun = scheduled_run(run_jobs, github_workspace, inputs, FETCH_SHIFT="3", FETCH_SEED="2")
    second = rerun["retrain"]

    assert second.ok, rerun.log
    assert list(github.repo().pulls.values()) == [pull]  # the same pull request, updated
    assert second.outputs["pr-url"] == first.outputs["pr-url"]
    repushed = github_workspace.origin_ref(BRANCH)
    assert repushed != pushed and pull.head_sha == repushed
    assert git(github_workspace.origin, "rev-parse", f"{repushed}^") == main  # rebuilt on main, not stacked
    assert pull.issue.body != body and pull.issue.body.startswith("## 🔁 mlgate retrain")
    assert "pull request #1 updated" in second.summary
    edits = github.calls("PATCH", rf"/repos/octo/demo/pulls/{pull.issue.number}")
    assert len(edits) == 1 and len(github.calls("POST", r"/repos/octo/demo/pulls")) == 1


def test_a_bad_boolean_input_is_refused(
    run_jobs: JobsRunner, github_workspace: Workspace, github: GitHubStandIn
) -> None:
    done = scheduled_run(run_jobs, github_workspace, {"check-only": "yes"}, fails=True)
    assert done["retrain"].outcome == "failure", done.log
    assert "input check-only must be true or false (got 'yes')" in done["retrain"].log
    assert not github.requests and not (done.jobs["retrain"].workspace / "raw" / "fresh.csv").exists()
