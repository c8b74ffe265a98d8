"""actions/deploy/action.yml run by the composite-action bench against a real repository with a bare origin."""

from __future__ import annotations

import json
from pathlib import Path

from bench.action_fixtures import ActionBench
from bench.github_standin import GitHubStandIn
from bench.registry_fixtures import DeployRepo

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "actions" / "deploy"


def push_event(ref: str = "refs/heads/main") -> dict[str, object]:
    return {"ref": ref, "repository": {"full_name": "octo/demo", "default_branch": "main"}}


def test_action_deploys_with_the_local_driver(
    run_action: ActionBench, deploy_repo: DeployRepo, mlgate_on_path: dict[str, str]
) -> None:
    sha = deploy_repo.head()
    deploy_repo.gate("pass")
    result = run_action(
        DEPLOY,
        {"environment": "production", "driver": "local", "bump": "minor"},
        workspace=deploy_repo.path,
        env={**mlgate_on_path, "DEPLOY_LOG": str(deploy_repo.log)},
        event=push_event(),
        event_name="push",
        github={"ref": "refs/heads/main"},
    )
    assert result.ok, result.log
    assert result.outputs == {"version": "v0.1.0", "deployment-id": "1"}
    assert deploy_repo.origin_tags() == {"churn@v0.1.0": sha, "churn#production#1": sha}
    assert deploy_repo.deployed()[0][:4] == ["production", "churn", "v0.1.0", "model-1"]
    assert "mlgate deploy: pass" in result.summary
    assert json.loads((deploy_repo.path / ".mlgate/results/deploy.json").read_text())["verdict"] == "pass"


def test_action_deploys_through_github(
    run_action: ActionBench, deploy_repo: DeployRepo, github: GitHubStandIn, mlgate_on_path: dict[str, str]
) -> None:
    sha = deploy_repo.head()
    github.add_commit(sha, branch="main")
    github.add_check_run(head_sha=sha, conclusion="success")
    context = {
        "repository": "octo/demo",
        "api_url": github.base_url,
        "server_url": github.server_url,
        "token": "ghs_test",
        "ref": "refs/heads/main",
        "run_id": "42",
    }
    result = run_action(
        DEPLOY,
        {"environment": "staging", "gate-timeout": "0"},
        workspace=deploy_repo.path,
        env={**mlgate_on_path, "DEPLOY_LOG": str(deploy_repo.log)},
        event=push_event(),
        event_name="push",
        github=context,
    )
    assert result.ok, result.log
    (deployment,) = github.repo().deployments.values()
    assert result.outputs == {"version": "v0.0.1", "deployment-id": str(deployment.id)}
    assert [s.state for s in deployment.statuses] == ["in_progress", "success"]
    assert deployment.statuses[-1].log_url == f"{github.server_url}/octo/demo/actions/runs/42"
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#staging#1": sha}
    assert "ghs_test" not in result.log


def test_action_refuses_a_pull_request_ref(
    run_action: ActionBench, deploy_repo: DeployRepo, mlgate_on_path: dict[str, str]
) -> None:
    deploy_repo.gate("pass")
    result = run_action(
        DEPLOY,
        {"driver": "local"},
        workspace=deploy_repo.path,
        env={**mlgate_on_path, "DEPLOY_LOG": str(deploy_repo.log)},
        event=push_event(),
        github={"ref": "refs/pull/7/merge"},
    )
    assert not result.ok
    assert "ref refs/pull/7/merge may not deploy" in result.log
    assert result.outputs.get("version", "") == ""
    assert deploy_repo.origin_tags() == {} and deploy_repo.deployed() == []


def test_action_rejects_a_bad_push_input(
    run_action: ActionBench, deploy_repo: DeployRepo, mlgate_on_path: dict[str, str]
) -> None:
    result = run_action(DEPLOY, {"push": "yes"}, workspace=deploy_repo.path, env=mlgate_on_path)
    assert not result.ok
    assert result.annotations[0].message == "input push must be true or false (got 'yes')"
