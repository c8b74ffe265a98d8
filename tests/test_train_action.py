"""actions/train run by act: outputs, the step failing with the command, inputs reaching mlgate."""

from __future__ import annotations

import json

from bench.act_jobs import Job, JobsRunner, Step
from bench.metrics_repo_fixtures import MetricsRepo, read_json

COMMAND = """echo 'training'; echo '{"accuracy": 0.93, "eval": {"loss": 0.2}}' > metrics.json"""


def test_train_action_outputs_metrics_and_results_and_fails_with_the_command(
    run_jobs: JobsRunner, metrics_repo: MetricsRepo
) -> None:
    metrics_repo.write("failing.yml", "train:\n  command: echo 'CUDA out of memory' >&2; exit 3\n")
    trains = Step("trains", "actions/train", {"command": COMMAND})
    fails = Step("fails", "actions/train", {"config": "failing.yml", "results-dir": "failed"}, may_fail=True)
    run = run_jobs(Job("train", [trains, fails], checkout=metrics_repo.path))
    workspace = run.jobs["train"].workspace

    assert run["trains"].ok, run.log
    outputs = run["trains"].outputs
    assert json.loads(outputs["metrics"]) == {"metrics.json": {"accuracy": 0.93, "eval.loss": 0.2}}
    assert outputs["results"] == ".mlgate/results/train.json"
    assert read_json(workspace / ".mlgate/results/train.json")["evidence"]["command"] == COMMAND
    assert "training" in run["trains"].log
    assert "::group::mlgate train: echo 'training'; echo" in run["trains"].log  # the command's output folds

    assert run["fails"].outcome == "failure", run.log
    errors = [a.message for a in run["fails"].annotations_of("error")]
    assert errors == ["mlgate train: the training command exited with code 3"]
    assert run["fails"].exit_codes == [1]  # the step's process: mlgate train exits 1 on a failed command
    train = read_json(workspace / "failed/train.json")
    assert train["verdict"] == "fail"
    assert train["evidence"]["log_tail"] == ["CUDA out of memory"]
