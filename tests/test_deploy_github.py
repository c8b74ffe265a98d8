"""`mlgate deploy` with the github driver: PyGithub against the GitHub stand-in, real git with a bare origin."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bench.github_standin import GitHubStandIn
from bench.registry_fixtures import DeployRepo

from mlgate.adapters import gittags


def known_to_github(repo: DeployRepo, github: GitHubStandIn) -> str:
    """Tell the stand-in about every commit of main (as a push would); the head sha."""
    for sha in repo.git("rev-list", "--reverse", "HEAD").split():
        github.add_commit(sha, branch="main")
    return repo.head()


def actions_env(github: GitHubStandIn, sha: str, ref: str = "refs/heads/main") -> dict[str, str]:
    return {**github.env(), "GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_REF": ref, "GITHUB_RUN_ID": "42"}


def statuses(github: GitHubStandIn) -> list[list[tuple[str, str, str]]]:
    """Per deployment (oldest first): its statuses as (state, log_url, environment_url)."""
    deployments = sorted(github.repo().deployments.values(), key=lambda d: d.id)
    return [[(s.state, s.log_url, s.environment_url) for s in d.statuses] for d in deployments]


RUN_URL = "/octo/demo/actions/runs/42"


@pytest.mark.parametrize(
    ("conclusion", "detail"),
    [("failure", "check run on {sha} is failure"), ("neutral", "check run on {sha} is neutral, not success")],
)
def test_red_or_grey_check_is_refused_with_no_deployment_and_no_tag(
    deploy_repo: DeployRepo, github: GitHubStandIn, conclusion: str, detail: str
) -> None:
    sha = known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=sha, conclusion=conclusion)
    run = deploy_repo.deploy("-e", "production", env=actions_env(github, sha))
    assert run.returncode == 1, run.stderr
    assert detail.format(sha=sha[:7]) in run.stdout + run.stderr
    assert github.repo().deployments == {}
    assert deploy_repo.origin_tags() == {} and deploy_repo.deployed() == []
    assert github.calls("POST") == []  # not a single write


def test_missing_check_waits_for_the_gate_then_deploys(deploy_repo: DeployRepo, github: GitHubStandIn) -> None:
    sha = known_to_github(deploy_repo, github)
    run_ = github.add_check_run(head_sha=sha, status="in_progress", conclusion=None)

    def finish_gate() -> None:
        time.sleep(1.5)
        run_.status, run_.conclusion = "completed", "success"

    threading.Thread(target=finish_gate, daemon=True).start()
    run = deploy_repo.deploy("-e", "production", "--gate-timeout", "30", env=actions_env(github, sha))
    assert run.returncode == 0, run.stderr
    assert "waiting for the gate: the mlgate check run on" in run.stderr
    assert len(github.repo().deployments) == 1


def test_green_check_deploys_with_statuses_in_order_and_tags_on_origin(
    deploy_repo: DeployRepo, github: GitHubStandIn
) -> None:
    sha = known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=sha, conclusion="success")
    run = deploy_repo.deploy("-e", "production", env=actions_env(github, sha))
    assert run.returncode == 0, run.stderr
    (deployment,) = github.repo().deployments.values()
    (create,) = github.calls("POST", "/repos/octo/demo/deployments")
    assert create.body["required_contexts"] == ["mlgate"] and create.body["auto_merge"] is False
    assert (deployment.sha, deployment.ref, deployment.environment) == (sha, sha, "production")
    assert deployment.payload["model"] == "churn" and deployment.payload["version"] == "v0.0.1"
    assert deployment.payload["commit"] == sha
    assert [[state for state, *_ in d] for d in statuses(github)] == [["in_progress", "success"]]
    _, log_url, environment_url = statuses(github)[0][-1]
    assert log_url.endswith(RUN_URL) and environment_url == "https://churn.example.com"
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#production#1": sha}
    assert deploy_repo.deployed() == [["production", "churn", "v0.0.1", "model-1", sha, str(deployment.id)]]
    message = {r.name: r.message for r in gittags.list_tags(deploy_repo.path)}["churn#production#1"]
    assert f"{RUN_URL}" in message  # the tag says which run made it


def test_commit_status_counts_when_there_is_no_check_run(deploy_repo: DeployRepo, github: GitHubStandIn) -> None:
    sha = known_to_github(deploy_repo, github)
    github.add_status(sha=sha, context="mlgate", state="success")
    assert deploy_repo.deploy("-e", "staging", env=actions_env(github, sha)).returncode == 0


def test_failing_command_sets_failure_with_the_run_log_and_no_stage_tag(
    deploy_repo: DeployRepo, github: GitHubStandIn
) -> None:
    sha = known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=sha, conclusion="success")
    run = deploy_repo.deploy("-e", "production", env={**actions_env(github, sha), "DEPLOY_EXIT": "1"})
    assert run.returncode == 1
    (history,) = statuses(github)
    assert [state for state, *_ in history] == ["in_progress", "failure"]
    assert history[-1][1].endswith(RUN_URL)
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha}


def test_github_refusing_the_deployment_is_a_clear_gate_failure(deploy_repo: DeployRepo, github: GitHubStandIn) -> None:
    sha = known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=sha, conclusion="success")
    conflict = {
        "message": f"Conflict: Commit status checks failed for {sha}.",
        "errors": [{"contexts": [{"context": "mlgate", "state": "failure"}], "resource": "Deployment"}],
    }
    github.fault("POST", "/repos/octo/demo/deployments", status=409, body=conflict)
    run = deploy_repo.deploy("-e", "production", env=actions_env(github, sha))
    assert run.returncode == 1
    expected = f"refused by GitHub: Conflict: Commit status checks failed for {sha}. (mlgate: failure)"
    assert f"::error::mlgate deploy: {expected}" in run.stdout.splitlines()
    assert deploy_repo.deployed() == [] and "churn#production#1" not in deploy_repo.origin_tags()


def test_a_lost_answer_to_the_create_finds_the_deployment_instead_of_a_second_one(
    deploy_repo: DeployRepo, github: GitHubStandIn
) -> None:
    sha = known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=sha, conclusion="success")
    github.fault("POST", "/repos/octo/demo/deployments", status=502, after_apply=True)
    run = deploy_repo.deploy("-e", "production", env=actions_env(github, sha))
    assert run.returncode == 0, run.stderr
    assert len(github.repo().deployments) == 1
    assert [[state for state, *_ in d] for d in statuses(github)] == [["in_progress", "success"]]


def test_rollback_creates_a_deployment_of_the_older_commit(deploy_repo: DeployRepo, github: GitHubStandIn) -> None:
    first = known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=first, conclusion="success")
    assert deploy_repo.deploy("-e", "production", env=actions_env(github, first)).returncode == 0
    second = deploy_repo.new_model("model-2")
    known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=second, conclusion="success")
    assert deploy_repo.deploy("-e", "production", env=actions_env(github, second)).returncode == 0

    env = actions_env(github, second)
    run = deploy_repo.deploy("--rollback", "production", "--reason", "error rate up", env=env)
    assert run.returncode == 0, run.stderr
    rollback = max(github.repo().deployments.values(), key=lambda d: d.id)
    assert rollback.sha == first
    assert rollback.payload["version"] == "v0.0.1"
    assert rollback.payload["rollback"] == {"from_version": "v0.0.2", "reason": "error rate up"}
    assert [s.state for s in rollback.statuses] == ["in_progress", "success"]
    assert deploy_repo.deployed()[-1][:5] == ["production", "churn", "v0.0.1", "model-1", first]
    assert gittags.read_registry(deploy_repo.path).artifact("churn").current("production") == "v0.0.1"


def test_rollback_to_a_version_whose_check_is_red_is_refused(deploy_repo: DeployRepo, github: GitHubStandIn) -> None:
    first = known_to_github(deploy_repo, github)
    for args in (("registry", "register", "churn", first), ("registry", "assign", "churn", "production", first)):
        assert subprocess.run([sys.executable, "-m", "mlgate", *args], cwd=deploy_repo.path).returncode == 0
    second = deploy_repo.new_model("model-2")
    known_to_github(deploy_repo, github)
    github.add_check_run(head_sha=first, conclusion="failure")  # registered by hand, never green
    github.add_check_run(head_sha=second, conclusion="success")
    assert deploy_repo.deploy("-e", "production", env=actions_env(github, second)).returncode == 0
    run = deploy_repo.deploy("--rollback", "production", env=actions_env(github, second))
    assert run.returncode == 1
    assert f"the mlgate check run on {first[:7]} is failure" in run.stdout
    assert len(github.repo().deployments) == 1


def test_two_deploys_racing_for_one_environment_leave_one_clear_loser(
    deploy_repo: DeployRepo, github: GitHubStandIn, tmp_path: Path
) -> None:
    ours = deploy_repo.new_model("model-ours")
    twin = deploy_repo.twin(tmp_path / "twin")
    theirs = twin.new_model("model-theirs")
    known_to_github(twin, github)
    for sha in (ours, theirs):
        github.add_check_run(head_sha=sha, conclusion="success")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "mlgate", "deploy", "-e", "production"],
            cwd=repo.path,
            env={**os.environ, **actions_env(github, sha), "DEPLOY_LOG": str(repo.log), "BARRIER": str(barrier)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for repo, sha in ((deploy_repo, ours), (twin, theirs))
    ]
    outcomes = [(p.wait(timeout=120), p.communicate()[0]) for p in processes]  # annotations are on stdout
    assert sorted(code for code, _ in outcomes) == [0, 1], outcomes
    loser = next(err for code, err in outcomes if code == 1)
    assert "stage 'production' of 'churn' changed while this deploy ran" in loser
    finals = sorted(d.statuses[-1].state for d in github.repo().deployments.values())
    assert finals == ["failure", "success"]
    tags = twin.origin_tags()
    assert len([t for t in tags if "#production" in t]) == 1
    assert sorted(sha for name, sha in tags.items() if "@" in name) == sorted([ours, theirs])
