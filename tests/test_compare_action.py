"""actions/compare-metrics run by the action bench on a pull request's checkout: base from the event payload,
the `gate` output, and a failing gate failing the step unless fail-on-gate is false."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bench.action_fixtures import REPO_ROOT
from bench.metrics_repo_fixtures import MetricsRepo, read_json, simulate

ACTION = REPO_ROOT / "actions" / "compare-metrics"


def pull_request(repo: MetricsRepo, head_accuracy: float) -> dict:
    rng = np.random.default_rng(21)
    y = rng.integers(0, 2, 2000)
    pred, score = simulate(rng, y, 0.85)
    repo.record(y, pred, score)
    base = repo.commit("base model")
    repo.branch("pr")
    repo.record(y, *simulate(rng, y, head_accuracy, like=pred, keep=0.6))
    head = repo.commit("pr model")
    return {
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"sha": base, "ref": "main"},
            "head": {"sha": head, "ref": "pr", "repo": {"full_name": "octo-org/octo-repo"}},
        },
        "repository": {"full_name": "octo-org/octo-repo", "default_branch": "main"},
    }


@pytest.mark.parametrize(("head_accuracy", "gate", "ok"), [(0.92, "pass", True), (0.78, "fail", False)])
def test_compare_action_gates_the_pull_request(
    run_action, metrics_repo: MetricsRepo, mlgate_on_path: dict, head_accuracy: float, gate: str, ok: bool
):
    event = pull_request(metrics_repo, head_accuracy)
    result = run_action(ACTION, {}, workspace=metrics_repo.path, env=mlgate_on_path, event=event)
    assert result.ok is ok, result.log
    assert result.outputs["gate"] == gate
    assert result.outputs["results"] == ".mlgate/results/compare.json"
    compare = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert compare["commits"] == {
        "base": event["pull_request"]["base"]["sha"],
        "head": event["pull_request"]["head"]["sha"],
    }
    assert compare["evidence"]["base_source"] == "pull_request.base.sha"
    assert compare["verdict"] == gate


def test_fail_on_gate_false_leaves_the_verdict_to_the_output(
    run_action, metrics_repo: MetricsRepo, mlgate_on_path: dict, tmp_path: Path
):
    event = pull_request(metrics_repo, 0.78)
    inputs = {"fail-on-gate": "false", "results-dir": str(tmp_path / "results"), "history": "1"}
    result = run_action(ACTION, inputs, workspace=metrics_repo.path, env=mlgate_on_path, event=event)
    assert result.ok, result.log
    assert result.outputs["gate"] == "fail"
    compare = read_json(tmp_path / "results/compare.json")
    assert len(compare["evidence"]["history"]) == 1


def test_bad_config_is_an_error_annotation_with_file_and_line(
    run_action, metrics_repo: MetricsRepo, mlgate_on_path: dict
):
    event = pull_request(metrics_repo, 0.85)
    metrics_repo.write("mlgate.yml", "metrics:\n  gate:\n    accuracy: {direction: up}\n")
    result = run_action(ACTION, {}, workspace=metrics_repo.path, env=mlgate_on_path, event=event)
    assert not result.ok
    (error,) = [a for a in result.annotations_of("error") if a.file is not None]
    assert (error.file, error.line) == ("mlgate.yml", 3)
    assert error.message == "metrics.gate.accuracy.direction: must be one of higher, lower (got 'up')"
