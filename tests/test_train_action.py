"""actions/train run by the action bench: outputs, the step failing with the command, inputs reaching mlgate."""

from __future__ import annotations

import json

from bench.action_fixtures import REPO_ROOT
from bench.metrics_repo_fixtures import MetricsRepo, read_json

ACTION = REPO_ROOT / "actions" / "train"


def test_train_action_outputs_metrics_and_results(run_action, metrics_repo: MetricsRepo, mlgate_on_path: dict):
    command = """echo 'training'; echo '{"accuracy": 0.93, "eval": {"loss": 0.2}}' > metrics.json"""
    result = run_action(ACTION, {"command": command}, workspace=metrics_repo.path, env=mlgate_on_path)
    assert result.ok, result.log
    assert json.loads(result.outputs["metrics"]) == {"metrics.json": {"accuracy": 0.93, "eval.loss": 0.2}}
    assert result.outputs["results"] == ".mlgate/results/train.json"
    train = read_json(metrics_repo.path / ".mlgate/results/train.json")
    assert train["evidence"]["command"] == command
    assert "training" in result.log
    assert "##[group]mlgate train: echo 'training'; echo" in result.log  # the command's output folds in a group


def test_train_action_fails_with_the_command(run_action, metrics_repo: MetricsRepo, mlgate_on_path: dict):
    metrics_repo.write("mlgate.yml", "train:\n  command: echo 'CUDA out of memory' >&2; exit 3\n")
    result = run_action(ACTION, {}, workspace=metrics_repo.path, env=mlgate_on_path)
    assert not result.ok
    errors = [a.message for a in result.annotations_of("error")]
    assert errors == ["mlgate train: the training command exited with code 3", "Process completed with exit code 1."]
    train = read_json(metrics_repo.path / ".mlgate/results/train.json")
    assert train["verdict"] == "fail"
    assert train["evidence"]["log_tail"] == ["CUDA out of memory"]
