"""actions/validate-data/action.yml run by act on the example repository."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from bench.act_jobs import Job, JobsRunner, Step

VALIDATE = "actions/validate-data"


@pytest.mark.slow
def test_example_repo_with_its_own_policy(run_jobs: JobsRunner, example_repo: Path) -> None:
    """The example's mlgate.yml, deepchecks suites included: outputs, annotations, HTML reports as an artifact."""
    run = run_jobs(Job("validate", [Step("validate", VALIDATE, {"fail": "false"})], checkout=example_repo))
    step, job = run["validate"], run.jobs["validate"]
    assert step.ok, run.log
    assert step.outputs["results"] == f"{job.github_workspace}/.mlgate/results/validation.json"
    document = json.loads((job.workspace / ".mlgate/results/validation.json").read_text())
    # Clean data under the example's own policy passes: no false alarm from drift notices or deepchecks.
    assert document["verdict"] == "pass", document["summary"]
    assert step.outputs["passed"] == "true"
    evidence = document["evidence"]
    assert evidence["inputs"]["train"]["path"] == "data/train.csv"
    assert [suite["suite"] for suite in evidence["deepchecks"]] == ["model_evaluation"]
    assert evidence["drift"]["threshold"] == 0.1  # from the example's policy
    assert sorted(run.artifact("mlgate-validation")) == ["deepchecks-model_evaluation.html"]
    # Every deepchecks finding points at the line of mlgate.yml that asked for the suites.
    deepchecks_line = next(
        n for n, line in enumerate((example_repo / "mlgate.yml").read_text().splitlines(), 1) if "deepchecks:" in line
    )
    flagged = [a for a in step.annotations if a.message.startswith("deepchecks: ")]
    assert all((a.file, a.line) == ("mlgate.yml", deepchecks_line) for a in flagged)
    assert {a.level for a in flagged} <= {"error", "warning"}


def test_faulty_data_bad_input_and_explicit_inputs(run_jobs: JobsRunner, example_repo: Path) -> None:
    """One job on the example: PII in the test data fails the step with annotations (exit 1); a file that is not
    comma-separated is one error on it (exit 2, the errored step recorded); a working-directory holding no
    mlgate.yml with explicit inputs passes."""
    test = pd.read_csv(example_repo / "data" / "test.csv")
    test["owner_email"] = [f"owner{i}@example.com" for i in range(len(test))]
    test.to_csv(example_repo / "data" / "faulty.csv", index=False)
    (example_repo / "policy.yml").write_text(
        "data:\n  train: data/train.csv\n  test: data/faulty.csv\n  label: target\n"
        "  checks:\n    pii: {allow_columns: []}\n"
    )
    (example_repo / "data" / "current.csv").write_text("mean_radius;target\n1;0\n")
    project = example_repo / "project"
    project.mkdir()
    for name in ("train.csv", "test.csv"):
        (project / name).write_bytes((example_repo / "data" / name).read_bytes())
    explicit = {
        "working-directory": "project",  # holds no mlgate.yml: every default applies
        "train": "train.csv",
        "test": "test.csv",
        "label": "target",
        "results-dir": "out",
    }
    steps = [
        Step("faulty", VALIDATE, {"config": "policy.yml"}, may_fail=True),
        Step("bad-input", VALIDATE, {"test": "data/current.csv", "fail": "false"}, may_fail=True),
        Step("explicit", VALIDATE, explicit),
    ]
    run = run_jobs(Job("validate", steps, checkout=example_repo))
    job = run.jobs["validate"]

    faulty = run["faulty"]
    assert faulty.outcome == "failure", run.log
    assert faulty.outputs["passed"] == "false"
    assert faulty.exit_codes[0] == 1
    errors = [(a.file, a.line, a.message) for a in faulty.annotations_of("error") if a.title == "mlgate validate"]
    assert ("policy.yml", 6, "pii: column 'owner_email' holds emails in 171 rows (e.g. o***@***.com)") in errors
    assert "owner1@example.com" not in run.log

    bad = run["bad-input"]
    assert bad.outcome == "failure" and bad.exit_codes[0] == 2, run.log
    [error] = [a for a in bad.annotations_of("error") if a.file == "data/current.csv"]
    assert error.message == (
        "has a single column 'mean_radius;target': the file looks delimited by ';', "
        "but mlgate reads comma-separated CSV"
    )
    recorded = json.loads((job.workspace / ".mlgate/results/validation.json").read_text())  # the errored step
    assert (recorded["verdict"], recorded["evidence"]["error"]["file"]) == ("error", "data/current.csv")

    assert run["explicit"].ok, run.log
    assert run["explicit"].outputs == {
        "passed": "true",
        "results": f"{job.github_workspace}/project/out/validation.json",
    }
