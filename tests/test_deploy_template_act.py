"""mlgate-deploy.yml, copied into a repository built from examples/, run by act on clean checkouts (see
bench/workflow_fixtures.py): two pushes to main deploy two model versions to staging, then "Run workflow" with
rollback redeploys the first. Each deploy gets its model from the DVC remote by the md5 dvc.lock records at
the deployed commit (a clean checkout has no model.pkl and no DVC cache), and the user's deploy command is
given that file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from bench.act_bench import ActResult
from bench.example_fixtures import commit_reproduction, dvc, git, merge_params
from bench.workflow_fixtures import CiRepo

pytestmark = pytest.mark.slow

NAME = "breast-cancer-classifier"
# The user's deploy command: records what it was given, and the md5 of the file it was handed.
DEPLOY_COMMAND = (
    'echo "$MLGATE_ENVIRONMENT $MLGATE_MODEL_VERSION $MLGATE_MODEL_MD5 $MLGATE_MODEL_COMMIT'
    ' $(md5sum < "$MLGATE_MODEL_PATH" | cut -d" " -f1)" >> "$DEPLOY_LOG"'
)


def model_md5(ci_repo: CiRepo, sha: str) -> str:
    """The md5 dvc.lock records for model.pkl at `sha`."""
    lock = yaml.safe_load(git(ci_repo.remote, "show", f"{sha}:dvc.lock"))
    [md5] = [
        out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", []) if out["path"] == "model.pkl"
    ]
    return md5


def green(ci_repo: CiRepo, sha: str) -> None:
    """The commit's `mlgate` check passed (the PR workflow ran on it), which the deploy waits for."""
    ci_repo.github.add_check_run(head_sha=sha, conclusion="success")


def push(ci_repo: CiRepo, sha: str, log: Path) -> ActResult:
    event = {"ref": "refs/heads/main", "after": sha, "repository": ci_repo.repository_payload()}
    return ci_repo.run("mlgate-deploy.yml", "push", event, ref="refs/heads/main", sha=sha, install=False,
                       env={"DEPLOY_LOG": str(log)})  # fmt: skip


def tag_commit(ci_repo: CiRepo, tag: str) -> str:
    return git(ci_repo.remote, "rev-parse", f"refs/tags/{tag}^{{commit}}")


def tag_message(ci_repo: CiRepo, tag: str) -> str:
    return git(ci_repo.remote, "tag", "-l", "--format=%(contents)", tag)


def test_pushes_deploy_to_staging_by_the_models_md5_and_a_dispatched_rollback_redeploys_the_first(
    ci_repo: CiRepo,
) -> None:
    ci_repo.edit_config({"deploy": {"command": DEPLOY_COMMAND}})
    ci_repo.add_dvc_remote()
    log = ci_repo.scratch / "deployed.log"
    first = ci_repo.head("main")
    green(ci_repo, first)

    one = push(ci_repo, first, log)

    assert one.ok, one.log
    [deployment] = ci_repo.github.repo().deployments.values()
    md5_one = model_md5(ci_repo, first)
    assert (deployment.environment, deployment.sha) == ("staging", first)
    assert [s.state for s in deployment.statuses] == ["in_progress", "success"]
    assert deployment.payload["model_md5"] == md5_one and deployment.payload["version"] == "v0.0.1"
    assert tag_commit(ci_repo, f"{NAME}@v0.0.1") == first == tag_commit(ci_repo, f"{NAME}#staging#1")
    assert md5_one in tag_message(ci_repo, f"{NAME}@v0.0.1")
    # the command got the file dvc.lock pins at the commit: not in git, not in a cache, so from the DVC remote
    assert log.read_text().splitlines() == [f"staging v0.0.1 {md5_one} {first} {md5_one}"]

    # A second model on main: retrained with another C, its outputs pushed to the DVC remote.
    params = ci_repo.dev / "params.yaml"
    current = yaml.safe_load(params.read_text(encoding="utf-8"))
    params.write_text(yaml.safe_dump(merge_params(current, {"train": {"C": 0.05}}), sort_keys=False))
    second = commit_reproduction(ci_repo.dev, "Retrain with C=0.05")
    dvc(ci_repo.dev, "push", "--quiet")
    git(ci_repo.dev, "push", "--quiet", "origin", "main")
    green(ci_repo, second)
    md5_two = model_md5(ci_repo, second)
    assert md5_two != md5_one

    two = push(ci_repo, second, log)

    assert two.ok, two.log
    assert tag_commit(ci_repo, f"{NAME}@v0.0.2") == second == tag_commit(ci_repo, f"{NAME}#staging#2")
    assert log.read_text().splitlines()[-1] == f"staging v0.0.2 {md5_two} {second} {md5_two}"

    # "Run workflow": roll staging back, on main's head, which holds the second version.
    inputs = {"environment": "staging", "rollback": "true", "reason": "v0.0.2 misclassifies"}
    event = {"inputs": inputs, "ref": "refs/heads/main", "repository": ci_repo.repository_payload()}
    back = ci_repo.run("mlgate-deploy.yml", "workflow_dispatch", event, ref="refs/heads/main", sha=second,
                       inputs=inputs, install=False, env={"DEPLOY_LOG": str(log)})  # fmt: skip

    assert back.ok, back.log
    rollback = max(ci_repo.github.repo().deployments.values(), key=lambda d: d.id)
    assert rollback.environment == "staging" and rollback.sha == first
    assert rollback.payload["version"] == "v0.0.1" and rollback.payload["model_md5"] == md5_one
    assert rollback.payload["rollback"] == {"from_version": "v0.0.2", "reason": "v0.0.2 misclassifies"}
    assert [s.state for s in rollback.statuses] == ["in_progress", "success"]
    assert tag_commit(ci_repo, f"{NAME}#staging#3") == first  # a new stage tag; none overwritten
    assert tag_commit(ci_repo, f"{NAME}#staging#2") == second
    # the first version's model, fetched from the DVC remote by the md5 dvc.lock records at its commit
    assert log.read_text().splitlines()[-1] == f"staging v0.0.1 {md5_one} {first} {md5_one}"
    assert len(ci_repo.github.repo().deployments) == 3
    assert json.dumps(rollback.payload).count(md5_two) == 0
