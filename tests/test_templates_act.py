"""The workflow templates, copied into a repository built from examples/, run by nektos/act on clean checkouts.

Each test runs what a user's GitHub run would: act in host mode with the real actions of this checkout as
`mlgate/mlgate@v1`, stand-ins for GitHub's own actions, mlgate's real install, a workspace that actions/checkout
fills from a bare remote (git-tracked files only), and the GitHub stand-in on loopback (see bench/act_bench.py).
"""

from __future__ import annotations

import re
import zipfile

import pytest
from bench.act_bench import ActResult
from bench.workflow_fixtures import CiRepo, PullRequest

pytestmark = pytest.mark.slow

FORK_TOKEN = "ghs_fork_read_only"
FORK_RUN_ID = 4242
MLGATE = "mlgate/mlgate@v1"
REPRODUCED = "reproduced stage prepare"


def run_pr(ci_repo: CiRepo, pull: PullRequest, template: str = "mlgate-pr.yml", **options) -> ActResult:
    """`template` on the pull request's test merge commit, as GitHub runs a pull_request workflow."""
    ref = f"refs/pull/{pull.number}/merge"
    return ci_repo.run(template, "pull_request", pull.event, ref=ref, sha=pull.merge, **options)


def obtained_files(run: ActResult) -> dict[str, str]:
    """How each file mlgate read came to be in the job's clean checkout (files on demand), as its log says
    (`file data/train.csv: reproduced stage prepare`); act removes the job's workspace when the job ends."""
    found = re.findall(r"^file (\S+): (.+)$", run.step(MLGATE).output, re.MULTILINE)
    return {path: detail.strip() for path, detail in found}


def workflow_run_event(ci_repo: CiRepo, pull: PullRequest, run_id: int, conclusion: str) -> dict:
    """The `workflow_run` event GitHub sends when a fork PR's `mlgate` run completes (no pull_requests for a
    fork: GitHub leaves that list empty when the head is in another repository)."""
    return {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": "mlgate",
            "event": "pull_request",
            "status": "completed",
            "conclusion": conclusion,
            "head_sha": pull.head,
            "head_branch": pull.event["pull_request"]["head"]["ref"],
            "head_repository": pull.event["pull_request"]["head"]["repo"],
            "pull_requests": [],
        },
        "repository": ci_repo.repository_payload(),
    }


def test_fork_pr_report_reaches_the_pr_through_the_artifact_and_the_comment_workflow(ci_repo: CiRepo) -> None:
    ci_repo.github.add_token(FORK_TOKEN, read_only=True)
    pull = ci_repo.open_pull("tune", {"train": {"C": 0.8}}, fork=True)
    fork_run = ci_repo.run(
        "mlgate-pr.yml",
        "pull_request",
        pull.event,
        ref=f"refs/pull/{pull.number}/merge",
        sha=pull.merge,
        token=FORK_TOKEN,
        run_id=FORK_RUN_ID,
        install=True,  # the real install, from the warm uv cache (the other tests restore it, as a cache hit)
    )
    assert ci_repo.github.repo().comments == {}, fork_run.log  # a read-only token posts nothing
    artifact = ci_repo.scratch / "artifacts" / str(FORK_RUN_ID) / "mlgate-report" / "mlgate-report.zip"
    assert artifact.is_file(), fork_run.log

    conclusion = "success" if fork_run.ok else "failure"
    poster = ci_repo.run(
        "mlgate-pr-comment.yml",
        "workflow_run",
        workflow_run_event(ci_repo, pull, FORK_RUN_ID, conclusion),
        ref="refs/heads/main",
        sha=ci_repo.head("main"),
        install=True,  # extras: report, installed for real
    )
    assert poster.ok, poster.log
    assert poster.step("actions/download-artifact").result == "success"
    [comment] = ci_repo.github.repo().comments.values()
    with zipfile.ZipFile(artifact) as archive:
        assert comment.body == archive.read("body.md").decode()
    assert comment.user == "github-actions[bot]"
    assert comment.body.startswith("<!-- mlgate")


def test_retrain_on_schedule_opens_one_pr_and_a_second_run_updates_it(ci_repo: CiRepo) -> None:
    """A DVC remote holds main's data; the user's policy retrains when a fifth of the columns drift."""
    ci_repo.edit_config({"retrain": {"drift_share": 0.2}})
    ci_repo.add_dvc_remote()
    main = ci_repo.head("main")
    event = {"schedule": "17 5 * * 1", "repository": ci_repo.repository_payload()}

    def scheduled(seed: int):
        # The example's fetch.py makes a fresh batch; a shift of the size features is real drift.
        env = {"FETCH_SEED": str(seed), "FETCH_SHIFT": "1.5"}
        return ci_repo.run(
            "mlgate-retrain.yml", "schedule", event, ref="refs/heads/main", sha=main, env=env, install=False
        )

    first = scheduled(1)
    assert first.ok, first.log
    pulls = list(ci_repo.github.repo().pulls.values())
    assert len(pulls) == 1, first.log
    [pull] = pulls
    assert pull.head_ref == "mlgate/retrain" and pull.base_ref == "main"
    assert "mlgate:retrain" in pull.issue.labels
    first_head = ci_repo.remote_refs()["refs/heads/mlgate/retrain"]
    assert pull.head_sha == first_head
    assert first.outputs("mlgate/mlgate/actions/retrain@v1")["drifted"] == "true"
    assert first.outputs("mlgate/mlgate/actions/retrain@v1")["pr-url"].endswith(f"/pull/{pull.issue.number}")

    second = scheduled(2)
    assert second.ok, second.log
    [updated] = ci_repo.github.repo().pulls.values()  # the same pull request, moved to the new retraining
    assert updated.issue.number == pull.issue.number
    second_head = ci_repo.remote_refs()["refs/heads/mlgate/retrain"]
    assert second_head != first_head and updated.head_sha == second_head


def test_a_pr_without_a_dvc_remote_gets_its_data_from_prepare_and_fails_closed_on_the_base_model(
    ci_repo: CiRepo,
) -> None:
    """No DVC remote: the clean checkout has no data/*.csv, so validation gets them by `dvc repro` of prepare
    only (before any training), and the PR's change is trained. The serving check needs the base commit's
    model, which neither a cache nor a remote holds here: it says so in one sentence with the fix, and the gate
    does not pass (error, check failure). Green needs a DVC remote, or the base reproduced (not built yet)."""
    ci_repo.allow_a_loaded_machine()
    pull = ci_repo.open_pull("tune", {"train": {"C": 0.8}})
    run = run_pr(ci_repo, pull, install=False)
    assert not run.ok, run.log
    outputs = run.outputs(MLGATE)
    assert outputs["verdict"] == "error" and outputs["exit-code"] == "2", run.log
    assert obtained_files(run) == {"data/train.csv": REPRODUCED, "data/test.csv": REPRODUCED}
    assert "Running stage 'prepare'" in run.step(MLGATE).output
    [comment] = ci_repo.github.repo().comments.values()
    assert "mlgate: **error**" in comment.body and "`serving` errored" in comment.body
    assert "base commit's model is unreadable" in comment.body and "dvc remote add -d" in comment.body
    assert "train.C" in comment.body  # the PR's change was trained, not the base again
    [check] = ci_repo.github.repo().check_runs.values()
    assert check.name == "mlgate" and check.conclusion == "failure"
    assert check.head_sha == pull.head
