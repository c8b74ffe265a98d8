"""`mlgate deploy` with the local driver: real git with a bare origin, the real CLI, records in the outbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.registry_fixtures import DeployRepo, gto

from mlgate.adapters import gittags


def deployments(repo: DeployRepo) -> list[dict]:
    folder = repo.path / ".mlgate/outbox/deployment"
    records = [json.loads(p.read_text()) for p in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(records, key=lambda r: r["id"])


def result(repo: DeployRepo) -> dict:
    return json.loads((repo.path / ".mlgate/results/deploy.json").read_text())


def assert_refused(repo: DeployRepo, run: subprocess.CompletedProcess[str], reason: str) -> None:
    assert run.returncode == 1, run.stderr
    assert reason in run.stderr
    assert repo.origin_tags() == {} and repo.tags() == {}
    assert deployments(repo) == [] and repo.deployed() == []
    assert result(repo)["verdict"] == "fail" and reason in result(repo)["evidence"]["refused"]


def test_red_gate_is_refused_before_any_side_effect(deploy_repo: DeployRepo) -> None:
    deploy_repo.gate("fail")
    assert_refused(deploy_repo, deploy_repo.deploy(), "is fail, not pass")


def test_a_warning_is_not_green(deploy_repo: DeployRepo) -> None:
    deploy_repo.gate("warn")
    assert_refused(deploy_repo, deploy_repo.deploy(), "is warn, not pass")


def test_a_gate_on_another_commit_does_not_count(deploy_repo: DeployRepo) -> None:
    deploy_repo.gate("pass", sha="0" * 40)
    assert_refused(deploy_repo, deploy_repo.deploy(), "the compare result judged 0000000")


def test_no_gate_result_is_refused(deploy_repo: DeployRepo) -> None:
    assert_refused(deploy_repo, deploy_repo.deploy(), "the results bundle has no compare result")


def test_a_branch_that_may_not_deploy_is_refused(deploy_repo: DeployRepo) -> None:
    deploy_repo.git("checkout", "--quiet", "-b", "feature")
    deploy_repo.gate("pass")
    run = deploy_repo.deploy()
    assert_refused(deploy_repo, run, "ref refs/heads/feature may not deploy (allowed: refs/heads/main, refs/tags/v*)")


def test_naming_an_allowed_ref_does_not_deploy_a_commit_that_is_not_on_it(deploy_repo: DeployRepo) -> None:
    deploy_repo.git("checkout", "--quiet", "-b", "feature")
    deploy_repo.commit("experiment")
    deploy_repo.gate("pass")
    main = deploy_repo.git("rev-parse", "main")
    run = deploy_repo.deploy("--ref", "main")
    assert_refused(deploy_repo, run, f"is not on refs/heads/main (at {main[:7]})")


def test_green_gate_deploys_registers_and_assigns(deploy_repo: DeployRepo, tmp_path: Path) -> None:
    sha = deploy_repo.head()
    deploy_repo.gate("pass")
    outputs = tmp_path / "outputs"
    run = deploy_repo.deploy(
        "--environment", "production", env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(outputs), "GITHUB_SHA": sha}
    )
    assert run.returncode == 0, run.stderr
    assert deploy_repo.deployed() == [["production", "churn", "v0.0.1", "model-1", sha, "1"]]
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#production#1": sha}
    (record,) = deployments(deploy_repo)
    assert (record["sha"], record["environment"], record["required_contexts"]) == (sha, "production", ["mlgate"])
    assert record["payload"]["model"] == "churn" and record["payload"]["version"] == "v0.0.1"
    assert record["payload"]["metrics"] == {"accuracy": 0.93}
    assert [s["state"] for s in record["statuses"]] == ["in_progress", "success"]
    assert record["statuses"][-1]["environment_url"] == "https://churn.example.com"
    assert outputs.read_text() == "version=v0.0.1\ndeployment-id=1\n"
    assert result(deploy_repo)["verdict"] == "pass"
    messages = {r.name: r.message for r in gittags.list_tags(deploy_repo.path)}
    assert messages["churn#production#1"].startswith("Assigning stage production to artifact churn version v0.0.1")

    again = deploy_repo.deploy("--environment", "production")  # a rerun: same version, no new tag
    assert again.returncode == 0, again.stderr
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#production#1": sha}
    assert deploy_repo.deployed()[-1][:3] == ["production", "churn", "v0.0.1"]

    staging = deploy_repo.deploy()  # the first listed environment by default, same version
    assert staging.returncode == 0, staging.stderr
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#production#1": sha, "churn#staging#2": sha}


def test_failing_deploy_command_records_failure_and_no_stage(deploy_repo: DeployRepo) -> None:
    sha = deploy_repo.head()
    deploy_repo.gate("pass")
    env = {"DEPLOY_EXIT": "3", "GITHUB_RUN_ID": "77", "GITHUB_REPOSITORY": "o/r"}
    run = deploy_repo.deploy("-e", "production", env=env)
    assert run.returncode == 1
    assert "the deploy command exited 3; churn v0.0.1 to production was not deployed" in run.stderr
    # the version was registered before the command ran (it saw v0.0.1); the stage was never given to it
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha}
    (record,) = deployments(deploy_repo)
    assert [s["state"] for s in record["statuses"]] == ["in_progress", "failure"]
    assert record["statuses"][-1]["log_url"] == "https://github.com/o/r/actions/runs/77"
    assert result(deploy_repo)["evidence"]["exit_code"] == 3

    fixed = deploy_repo.deploy("-e", "production")  # the same commit again: its version, now in production
    assert fixed.returncode == 0, fixed.stderr
    assert deploy_repo.origin_tags() == {"churn@v0.0.1": sha, "churn#production#1": sha}


def test_rollback_redeploys_the_previous_version_with_its_model(deploy_repo: DeployRepo) -> None:
    first = deploy_repo.head()
    deploy_repo.gate("pass")
    assert deploy_repo.deploy("-e", "production").returncode == 0
    second = deploy_repo.new_model("model-2")
    deploy_repo.gate("pass")
    assert deploy_repo.deploy("-e", "production", "--bump", "minor").returncode == 0
    assert gittags.read_registry(deploy_repo.path).artifact("churn").current("production") == "v0.1.0"

    run = deploy_repo.deploy("--rollback", "production", "--reason", "latency regression")
    assert run.returncode == 0, run.stderr
    assert "rolled back churn v0.0.1 to production" in run.stdout + run.stderr
    # the command got the old model file, not the checked-out one
    assert deploy_repo.deployed()[-1][:5] == ["production", "churn", "v0.0.1", "model-1", first]
    record = deployments(deploy_repo)[-1]
    assert record["sha"] == first
    assert record["payload"]["rollback"] == {"from_version": "v0.1.0", "reason": "latency regression"}
    assert deploy_repo.origin_tags() == {
        "churn@v0.0.1": first,
        "churn#production#1": first,
        "churn@v0.1.0": second,
        "churn#production#2": second,
        "churn#production#3": first,
        "churn#production!#4": second,
    }
    state = json.loads(gto(deploy_repo.path, "show", "--json"))["churn"]
    assert state["stage"]["production"] == "v0.0.1"

    nothing_left = deploy_repo.deploy("--rollback", "production")
    assert nothing_left.returncode == 2
    assert "v0.0.1 is the only version of 'churn' stage 'production' has held" in nothing_left.stderr


def test_without_a_deploy_command_the_deployment_is_recorded(deploy_repo: DeployRepo) -> None:
    config = deploy_repo.path / "mlgate.yml"
    config.write_text(config.read_text().replace("  command: ./deploy.sh\n", ""))
    deploy_repo.gate("pass")
    run = deploy_repo.deploy("-e", "production")
    assert run.returncode == 0, run.stderr
    assert "no deploy.command configured: the deployment is recorded without running anything" in run.stderr
    assert deploy_repo.deployed() == []
    assert set(deploy_repo.origin_tags()) == {"churn@v0.0.1", "churn#production#1"}
    assert [s["state"] for s in deployments(deploy_repo)[0]["statuses"]] == ["in_progress", "success"]


def test_release_tag_on_a_detached_head_may_deploy(deploy_repo: DeployRepo) -> None:
    deploy_repo.git("tag", "v1.0.0")
    deploy_repo.git("checkout", "--quiet", "--detach")
    deploy_repo.gate("pass")
    run = deploy_repo.deploy("-e", "production")
    assert run.returncode == 0, run.stderr
    assert result(deploy_repo)["evidence"]["ref"] == "refs/tags/v1.0.0"


def test_allowed_refs_from_config(deploy_repo: DeployRepo) -> None:
    config = deploy_repo.path / "mlgate.yml"
    config.write_text(config.read_text() + "  allowed_refs: [release/*]\n")
    deploy_repo.gate("pass")
    assert_refused(deploy_repo, deploy_repo.deploy(), "ref refs/heads/main may not deploy (allowed: release/*)")
    deploy_repo.git("checkout", "--quiet", "-b", "release/2024-06")
    assert deploy_repo.deploy().returncode == 0


def test_two_deploys_racing_for_one_environment(deploy_repo: DeployRepo, tmp_path: Path) -> None:
    ours = deploy_repo.new_model("model-ours")
    theirs_repo = deploy_repo.twin(tmp_path / "twin")
    theirs = theirs_repo.new_model("model-theirs")
    deploy_repo.gate("pass")
    theirs_repo.gate("pass")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {"BARRIER": str(barrier)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlgate", "deploy", "-e", "production"],
            cwd=repo.path,
            env={**os.environ, "DEPLOY_LOG": str(repo.log), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for repo in (deploy_repo, theirs_repo)
    ]
    outcomes = [(p.wait(timeout=120), p.communicate()[1]) for p in runs]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 1], outcomes
    (loser_err,) = [err for code, err in outcomes if code == 1]
    assert "stage 'production' of 'churn' changed while this deploy ran" in loser_err
    tags = theirs_repo.origin_tags()
    stage_tags = [t for t in tags if "#" in t]
    assert len(stage_tags) == 1  # one winner holds the stage; the loser wrote nothing over it
    versions = {name: sha for name, sha in tags.items() if "@" in name}
    assert sorted(versions.values()) == sorted([ours, theirs])  # both registered, as distinct versions
    assert len(set(versions)) == 2
    winner = gittags.read_registry(theirs_repo.path).artifact("churn").current("production")
    assert f"churn@{winner}" in versions


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        ("deploy:\n  model: model.pkl\n", (), "mlgate.yml:1: deploy.name: is required for mlgate deploy"),
        (None, ("-e", "qa"), "deploy.environments: does not list 'qa' (it lists staging, production)"),
        ("deploy:\n  name: churn\n  model: gone.pkl\n", ("-e", "prod"), "deploy.model: file 'gone.pkl' does not exist"),
        (None, ("-e", "staging", "--rollback", "production"), "--environment staging and --rollback production"),
        ("deploy:\n  name: churn\n  model: model.pkl\n", (), "--environment is required"),
    ],
)
def test_bad_input_is_one_sentence(
    deploy_repo: DeployRepo, config: str | None, args: tuple[str, ...], message: str
) -> None:
    if config is not None:
        (deploy_repo.path / "mlgate.yml").write_text(config)
    deploy_repo.gate("pass")
    run = deploy_repo.deploy(*args)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert deploy_repo.origin_tags() == {}
