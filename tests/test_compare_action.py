"""actions/compare-metrics run by act on a pull request's checkout: base from the event payload, the `gate`
output, and a failing gate failing the step unless fail-on-gate is false."""

from __future__ import annotations

import numpy as np
import pytest
from bench.act_jobs import Job, JobsRunner, Step
from bench.metrics_repo_fixtures import MetricsRepo, read_json, simulate

ACTION = "actions/compare-metrics"


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
    run_jobs: JobsRunner, metrics_repo: MetricsRepo, head_accuracy: float, gate: str, ok: bool
):
    event = pull_request(metrics_repo, head_accuracy)
    # Where the gate fails, the same job goes on with fail-on-gate false: the verdict is left to the output.
    lenient = Step("lenient", ACTION, {"fail-on-gate": "false", "results-dir": "lenient", "history": "1"})
    steps = [Step("compare", ACTION, may_fail=not ok), *([] if ok else [lenient])]
    run = run_jobs(Job("compare", steps, checkout=metrics_repo.path), event=event)
    workspace = run.jobs["compare"].workspace

    assert run["compare"].ok is ok, run.log
    assert run["compare"].outputs["gate"] == gate
    assert run["compare"].outputs["results"] == ".mlgate/results/compare.json"
    compare = read_json(workspace / ".mlgate/results/compare.json")
    assert compare["commits"] == {
        "base": event["pull_request"]["base"]["sha"],
        "head": event["pull_request"]["head"]["sha"],
    }
    assert compare["evidence"]["base_source"] == "pull_request.base.sha"
    assert compare["verdict"] == gate
    if not ok:
        assert run["lenient"].ok, run.log
        assert run["lenient"].outputs["gate"] == "fail"
        assert len(read_json(workspace / "lenient/compare.json")["evidence"]["history"]) == 1


def test_bad_config_is_an_error_annotation_with_file_and_line(run_jobs: JobsRunner, metrics_repo: MetricsRepo):
    event = pull_request(metrics_repo, 0.85)
    metrics_repo.write("mlgate.yml", "metrics:\n  gate:\n    accuracy: {direction: up}\n")
    run = run_jobs(Job("compare", [Step("compare", ACTION, may_fail=True)], checkout=metrics_repo.path), event=event)
    assert run["compare"].outcome == "failure", run.log
    (error,) = [a for a in run["compare"].annotations_of("error") if a.file is not None]
    assert (error.file, error.line) == ("mlgate.yml", 3)
    assert error.message == "metrics.gate.accuracy.direction: must be one of higher, lower (got 'up')"
