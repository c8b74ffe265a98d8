"""The one-step pipeline: the root action.yml (setup → `mlgate pr`) run by act on the example repository, reporting to
the GitHub stand-in, and `mlgate pr` / `mlgate demo` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bench.act_jobs import Job, JobsRun, JobsRunner, Step
from bench.example_fixtures import git
from bench.github_standin import GitHubStandIn

pytestmark = pytest.mark.slow


def open_pull(repo: Path, github: GitHubStandIn, branch: str, train_changes: dict) -> dict:
    """Commit a params change on `branch` (not retrained: the action trains) and open its PR on the stand-in."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", branch)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update(train_changes)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(repo, "commit", "--quiet", "-am", f"{branch}: {train_changes}")
    head = git(repo, "rev-parse", "HEAD")
    github.add_commit(base, branch="main")
    pull = github.add_pull(head_ref=branch, head_sha=head, base_ref="main", base_sha=base)
    return {
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": head, "ref": branch, "repo": {"full_name": "octo/demo"}},
            "base": {"sha": base, "ref": "main", "repo": {"full_name": "octo/demo"}},
        },
        "repository": {"full_name": "octo/demo", "default_branch": "main"},
    }


def run_root(run_jobs: JobsRunner, repo: Path, event: dict, *steps: Step) -> JobsRun:
    """A pull_request job of octo/demo after actions/setup-python (the repository's own Python, the example's
    requirements installed), on `repo` checked out at the PR's head: `steps` of the root action."""
    job = Job("mlgate", steps, checkout=repo, python=True)
    return run_jobs(job, event=event, workflow="mlgate", run_id=77)


def test_regressing_pr_fails_after_posting_and_fail_on_never_passes_with_the_same_report(
    run_jobs: JobsRunner, example_repo: Path, github: GitHubStandIn
) -> None:
    event = open_pull(example_repo, github, "pr/regress", {"n_features": 3})
    steps = (Step("failing", ".", may_fail=True), Step("lenient", ".", {"fail-on": "never"}))
    run = run_root(run_jobs, example_repo, event, *steps)
    failing = run["failing"]

    assert failing.outcome == "failure", run.log
    assert failing.outputs["gate"] == "fail"
    # The report went out first; only the last step (the gate) failed.
    assert run.inner_output("failing", "pr", "exit-code") == "1"
    inner = run.inner_steps("failing")
    assert inner[-1].result == "failure" and all(s.result == "success" for s in inner[:-1]), inner
    [comment] = github.repo().comments.values()
    assert "mlgate: **fail**" in comment.body and "accuracy" in comment.body
    [check, *_] = github.repo().check_runs.values()  # the failing run's; the lenient one follows
    assert check.name == "mlgate" and check.conclusion == "failure"
    assert check.head_sha == event["pull_request"]["head"]["sha"]
    assert "mlgate: **fail**" in failing.summary
    job = run.jobs["mlgate"]
    results = job.workspace / Path(failing.outputs["results"]).relative_to(job.github_workspace)
    assert {p.name for p in results.iterdir()} >= {"validation.json", "train.json", "compare.json"}
    assert json.loads((results / "compare.json").read_text())["commits"]["base"] == event["pull_request"]["base"]["sha"]

    lenient = run["lenient"]
    assert lenient.ok, run.log
    assert lenient.outputs["gate"] == "fail"
    [updated] = github.repo().comments.values()  # the sticky comment, updated in place
    assert updated.id == comment.id and "mlgate: **fail**" in updated.body
    assert failing.outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")


def test_harmless_pr_passes_with_one_comment_and_a_green_check(
    run_jobs: JobsRunner, example_repo: Path, github: GitHubStandIn
) -> None:
    event = open_pull(example_repo, github, "pr/tune", {"C": 0.8})
    run = run_root(run_jobs, example_repo, event, Step("pr", "."))
    result = run["pr"]
    assert result.ok, run.log
    assert result.outputs["gate"] in ("pass", "warn")
    [comment] = github.repo().comments.values()
    assert f"mlgate: **{result.outputs['gate']}**" in comment.body
    [check] = github.repo().check_runs.values()
    assert check.conclusion in ("success", "neutral")


def run_mlgate(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLGATE_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_pr_command_clears_stale_results_and_stops_on_a_broken_config(example_repo: Path) -> None:
    stale = example_repo / ".mlgate/results/retrain.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    (example_repo / "mlgate.yml").write_text("metrics:\n  gate:\n    accuracy: {direction: up}\n")
    result = run_mlgate("pr", "--driver", "local", cwd=example_repo)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "mlgate.yml:3: metrics.gate.accuracy.direction: must be one of higher, lower (got 'up')"
    )
    assert stale.exists()  # nothing ran, nothing was touched


def test_demo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    result = run_mlgate("demo", str(tmp_path), cwd=tmp_path, timeout=1200)
    assert result.returncode == 2
    assert "is not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
