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
PULLED = "pulled from DVC remote 'storage'"  # CiRepo.add_dvc_remote's remote
MATRIX = "mlgate-pr-matrix.yml"
MATRIX_RUN_ID = 5150
# The matrix template's report job names each job's bundle by its artifact (results/mlgate-results-<model>).
LOGREG, FOREST = "mlgate-results-logreg", "mlgate-results-forest"


def obtained_files(run: ActResult) -> dict[str, str]:
    """How each file mlgate read came to be in the job's clean checkout (files on demand), as its log says
    (`file data/train.csv: reproduced stage prepare`); act removes the job's workspace when the job ends."""
    found = re.findall(r"^file (\S+): (.+)$", run.step(MLGATE).output, re.MULTILINE)
    return {path: detail.strip() for path, detail in found}


def matrix_jobs(run: ActResult) -> dict[str, str]:
    """Each job's result by its name in the workflow (act names a matrix job `train logreg-1`, and pads them)."""
    return {re.sub(r"-\d+$", "", job.split("/", 1)[1].strip()): result for job, result in run.jobs.items()}


def step_verdicts(body: str) -> dict[str, str]:
    """The report's step table (`| step | [job |] verdict | in short |`): step (and job) -> its verdict."""
    table = body.split("\n| step |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        *names, verdict, _ = (cell.strip() for cell in line.strip("|").split("|"))
        rows[" ".join(name.strip("`") for name in names)] = verdict.split()[-1]
    return rows


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
    fork_run = ci_repo.run_pull(
        pull,
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


def test_a_pr_without_a_dvc_remote_is_green_its_data_from_prepare_and_its_base_reproduced_in_ci(
    ci_repo: CiRepo,
) -> None:
    """No DVC remote: the clean checkout has no data/*.csv, so validation gets them by `dvc repro` of prepare
    only (before any training), and the PR's change is trained. The base commit's model is in neither a cache
    nor a remote, so (compare.base: auto) the base is reproduced in the job, DVC's run-cache first (the head's
    prepare is restored, not re-run), and the serving check measures that model against the head's: the harmless
    PR is green, and the report says how the base was obtained."""
    ci_repo.allow_a_loaded_machine()
    pull = ci_repo.open_pull("tune", {"train": {"C": 0.8}})
    run = ci_repo.run_pull(pull, install=False)
    assert run.ok, run.log
    outputs = run.outputs(MLGATE)
    assert outputs["verdict"] in ("pass", "warn") and outputs["exit-code"] == "0", run.log
    assert obtained_files(run) == {"data/train.csv": REPRODUCED, "data/test.csv": REPRODUCED}
    log = run.step(MLGATE).output
    assert "Running stage 'prepare'" in log
    assert "Stage 'prepare' is cached - skipping run" in log  # the base's prepare: the head's, from the run-cache
    [comment] = ci_repo.github.repo().comments.values()
    said = "reproduced in CI: its model.pkl is DVC-tracked"
    assert said in comment.body, comment.body
    judged = step_verdicts(comment.body)
    assert set(judged) == {"validation", "train", "tests", "serving", "compare"}, judged
    assert set(judged.values()) <= {"pass", "warn"}, judged
    assert "train.C" in comment.body  # the PR's change was trained, not the base again
    [check] = ci_repo.github.repo().check_runs.values()
    assert check.name == "mlgate" and check.head_sha == pull.head
    assert check.conclusion == ("success" if outputs["verdict"] == "pass" else "neutral"), check.summary
    assert said in f"{check.summary}{check.text}"


def test_with_a_dvc_remote_a_harmless_pr_is_green_and_a_regressing_pr_fails_on_the_gate_after_its_comment(
    ci_repo: CiRepo,
) -> None:
    """One repository whose DVC remote holds main's outputs, two pull requests, one act run each.

    Harmless (train.C 0.8): the clean checkout has no data/*.csv; files on demand pulls exactly those from the
    remote (prepare's inputs did not change, so its outputs are main's) and never reruns prepare; the PR's
    change is trained and compared with main's model: green job, one comment, green check, every step of the
    report judged. Regressing (train.n_features 3, a genuinely worse model): the same way to its data, the
    comment is posted, then the job fails on the gate (its last step), and comment and check name the rule."""
    ci_repo.allow_a_loaded_machine()
    ci_repo.add_dvc_remote()
    pulled = {"data/train.csv": PULLED, "data/test.csv": PULLED}

    harmless = ci_repo.open_pull("tune", {"train": {"C": 0.8}})
    green = ci_repo.run_pull(harmless, install=False)
    assert green.ok, green.log
    outputs = green.outputs(MLGATE)
    assert outputs["verdict"] in ("pass", "warn") and outputs["exit-code"] == "0", green.log
    assert obtained_files(green) == pulled, green.log
    assert "::group::mlgate: dvc pull data/train.csv data/test.csv" in green.log  # exactly those targets
    # The training ran train and evaluate on the pulled data; only the determinism audit's rerun after it
    # (train.repeat: 2, which forces every stage) runs prepare.
    printed = green.step(MLGATE).output
    training = printed.split("Running stage 'prepare'")[0]
    assert "Running stage 'train'" in training and "Running stage 'evaluate'" in training, printed
    [comment] = ci_repo.github.repo().comments.values()
    assert comment.issue_number == harmless.number
    assert f"mlgate: **{outputs['verdict']}**" in comment.body and "`train.C` `1.0` → `0.8`" in comment.body
    assert "deterministic over 2 runs (171 predictions alike); 2 stage outputs match their schema" in comment.body
    assert "Files: `data/train.csv` pulled from DVC remote 'storage'" in comment.body
    judged = step_verdicts(comment.body)
    assert set(judged) == {"validation", "train", "tests", "serving", "compare"}, judged
    assert set(judged.values()) <= {"pass", "warn"}, judged
    [check] = ci_repo.github.repo().check_runs.values()
    assert check.name == "mlgate" and check.head_sha == harmless.head
    assert check.conclusion == ("success" if outputs["verdict"] == "pass" else "neutral")

    regressing = ci_repo.open_pull("regress", {"train": {"n_features": 3}})
    red = ci_repo.run_pull(regressing, install=False)
    assert not red.ok, red.log
    outputs = red.outputs(MLGATE)
    assert outputs["verdict"] == "fail" and outputs["exit-code"] == "1", red.log
    assert obtained_files(red) == pulled, red.log
    # `mlgate pr` posted and succeeded, the report artifact went up; the gate's own last step failed the job.
    posted, uploaded, gate = [s for s in red.steps if s.within == MLGATE and s.name != MLGATE][-3:]
    assert "mlgate --config" in posted.name and posted.result == "success", posted
    assert uploaded.name.startswith("actions/upload-artifact") and uploaded.result == "success", uploaded
    assert gate.name.startswith("exit ") and gate.result == "failure", gate
    [comment] = [c for c in ci_repo.github.repo().comments.values() if c.issue_number == regressing.number]
    assert "## ❌ mlgate: **fail** · `accuracy` fell" in comment.body, comment.body[:1500]
    [check] = [c for c in ci_repo.github.repo().check_runs.values() if c.head_sha == regressing.head]
    assert check.name == "mlgate" and check.conclusion == "failure"
    assert (check.title or "").startswith("fail: accuracy fell"), check.title


def test_matrix_template_merges_each_jobs_results_into_one_report_and_a_job_that_left_none_is_an_error(
    ci_repo: CiRepo,
) -> None:
    """mlgate-pr-matrix.yml with a DVC remote: one job per model (logreg, forest), each validating, training its
    configuration and comparing it with main's logreg model, then one report job merging their bundles into one
    sticky comment and one check run. The example's forest is the worse model (its accuracy falls 5 pts): its
    row fails and so does the merged gate, while logreg's passes. A second run where only the logreg job runs
    (act --matrix; forest never starts, as a job cancelled before its first step) leaves forest no results: the
    same comment shows forest as an errored row, and the gate does not pass."""
    ci_repo.allow_a_loaded_machine()
    ci_repo.add_dvc_remote()
    pull = ci_repo.open_pull("tune", {"train": {"C": 0.8}})
    artifacts = ci_repo.scratch / "artifacts"

    full = ci_repo.run_pull(pull, MATRIX, install=False, run_id=MATRIX_RUN_ID)
    assert matrix_jobs(full) == {"train logreg": "success", "train forest": "success", "report": "failure"}, full.log
    uploaded = {p.name for p in (artifacts / str(MATRIX_RUN_ID)).iterdir()}
    assert {"mlgate-results-logreg", "mlgate-results-forest"} <= uploaded, full.log
    [comment] = ci_repo.github.repo().comments.values()
    assert step_verdicts(comment.body) == {
        **{f"{step} {LOGREG}": "pass" for step in ("validation", "train", "compare")},
        **{f"{step} {FOREST}": "pass" for step in ("validation", "train")},
        f"compare {FOREST}": "fail",
    }, comment.body
    assert f"## ❌ mlgate: **fail** · `{FOREST}`: `accuracy` fell" in comment.body, comment.body[:1500]
    assert "`train.model` `logreg` → `forest`" in comment.body  # each job trained its own configuration
    [check] = ci_repo.github.repo().check_runs.values()
    assert check.name == "mlgate" and check.head_sha == pull.head and check.conclusion == "failure"
    assert (check.title or "").startswith(f"fail: {FOREST}: accuracy fell"), check.title

    partial = ci_repo.run_pull(pull, MATRIX, install=False, run_id=MATRIX_RUN_ID + 1, matrix={"model": "logreg"})
    assert matrix_jobs(partial) == {"train logreg": "success", "report": "failure"}, partial.log
    uploaded = {p.name for p in (artifacts / str(MATRIX_RUN_ID + 1)).iterdir()}
    assert "mlgate-results-logreg" in uploaded and "mlgate-results-forest" not in uploaded, partial.log
    [updated] = ci_repo.github.repo().comments.values()  # the sticky comment, edited in place
    assert updated.id == comment.id
    assert step_verdicts(updated.body) == {
        **{f"{step} {LOGREG}": "pass" for step in ("validation", "train", "compare")},
        f"report {FOREST}": "error",
    }, updated.body
    assert f"## ⛔ mlgate: **error** · `{FOREST}`: `report` errored" in updated.body, updated.body[:1500]
    assert f"results/{FOREST}: holds no step results" in updated.body
    latest = max(ci_repo.github.repo().check_runs.values(), key=lambda run: run.id)
    assert latest.head_sha == pull.head and latest.conclusion == "failure"
    assert (latest.title or "").startswith(f"error: {FOREST}"), latest.title
