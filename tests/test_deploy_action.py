"""actions/deploy/action.yml run by act against a real repository with a bare origin."""

from __future__ import annotations

import json

from bench.act_jobs import Job, JobsRunner, Step
from bench.github_standin import GitHubStandIn
from bench.registry_fixtures import DeployRepo

DEPLOY = "actions/deploy"


def push_event(ref: str = "refs/heads/main") -> dict[str, object]:
    return {"ref": ref, "repository": {"full_name": "octo/demo", "default_branch": "main"}}


def test_action_rejects_a_bad_push_input(run_jobs: JobsRunner, deploy_repo: DeployRepo) -> None:
    """act (0.2.89 and its main branch, pkg/container/host_environment.go `exec`) returns as soon as a failing
    command exits and closes the step's pty before copying what is still in it, so the last line a failing step
    printed is sometimes lost (seen here under load: this step's ::error line, about 1 run in 8). GitHub's runner
    reads the output to the end. The refusal changes nothing, so its run is repeated while act dropped the line;
    a wrong or missing message from the action itself still fails every attempt."""
    job = Job("deploy", [Step("bad-input", DEPLOY, {"push": "yes"}, may_fail=True)], checkout=deploy_repo.path)
    for _attempt in range(3):
        run = run_jobs(job, event_name="push", event=push_event(), ref="refs/heads/main", sha=deploy_repo.head())
        bad = run["bad-input"]
        assert bad.outcome == "failure", run.log
        if bad.annotations:  # act kept the step's output
            break
    assert [a.message for a in bad.annotations] == ["input push must be true or false (got 'yes')"], run.log
    assert deploy_repo.origin_tags() == {} and deploy_repo.deployed() == []


def test_action_deploys_with_the_local_driver(run_jobs: JobsRunner, deploy_repo: DeployRepo) -> None:
    sha = deploy_repo.head()
    deploy_repo.gate("pass")
    step = Step("deploy", DEPLOY, {"environment": "production", "driver": "local", "bump": "minor"})
    job = Job("deploy", [step], checkout=deploy_repo.path, env={"DEPLOY_LOG": str(deploy_repo.log)})
    run = run_jobs(job, event_name="push", event=push_event(), ref="refs/heads/main", sha=sha)

    deploy = run["deploy"]
    assert deploy.ok, run.log
    assert deploy.outputs == {"version": "v0.1.0", "deployment-id": "1"}
    assert deploy_repo.origin_tags() == {"churn@v0.1.0": sha, "churn#production#1": sha}
    assert [line[:4] for line in deploy_repo.deployed()] == [["production", "churn", "v0.1.0", "model-1"]], run.log
    assert "mlgate deploy: pass" in deploy.summary
    workspace = run.jobs["deploy"].workspace
    assert json.loads((workspace / ".mlgate/results/deploy.json").read_text())["verdict"] == "pass"


def test_action_deploys_through_github(run_jobs: JobsRunner, deploy_repo: DeployRepo, github: GitHubStandIn) -> None:
    sha = deploy_repo.head()
    github.add_commit(sha, branch="main")
    github.add_check_run(head_sha=sha, conclusion="success")
    step = Step("deploy", DEPLOY, {"environment": "staging", "gate-timeout": "0"})
    job = Job("deploy", [step], checkout=deploy_repo.path, env={"DEPLOY_LOG": str(deploy_repo.log)})
    run = run_jobs(job, event_name="push", event=push_event(), ref="refs/heads/main", sha=sha, run_id=42)

    assert run["deploy"].ok, run.log
    (deployment,) = github.repo().deployments.values()
    assert run["deploy"].outputs == {"version": "v0.0.1", "deployment-id": str(deployment.id)}
    assert [s.state for s in deployment.statuses] == ["in_progress", "success"]
    assert deployment.statuses[-1].log_url == f"{github.server_url}/octo/demo/actions/runs/42"
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#staging#1": sha}
    assert "ghs_test" not in run.log


def test_action_refuses_a_pull_request_ref(run_jobs: JobsRunner, deploy_repo: DeployRepo) -> None:
    deploy_repo.gate("pass")
    step = Step("deploy", DEPLOY, {"driver": "local"}, may_fail=True)
    job = Job("deploy", [step], checkout=deploy_repo.path, env={"DEPLOY_LOG": str(deploy_repo.log)})
    run = run_jobs(job, event_name="push", event=push_event(), ref="refs/pull/7/merge", sha=deploy_repo.head())

    assert run["deploy"].outcome == "failure", run.log
    assert "ref refs/pull/7/merge may not deploy" in run["deploy"].log
    assert run["deploy"].outputs.get("version", "") == ""
    assert deploy_repo.origin_tags() == {} and deploy_repo.deployed() == []
