"""actions/validate-data/action.yml run by the composite-action bench on the example repository."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from bench.action_fixtures import ActionBench

ROOT = Path(__file__).resolve().parents[1]
VALIDATE = ROOT / "actions" / "validate-data"


@pytest.mark.slow
def test_example_repo_with_its_own_policy(
    run_action: ActionBench, example_repo: Path, mlgate_on_path: dict[str, str]
) -> None:
    """The example's mlgate.yml, deepchecks suites included: outputs, annotations, HTML reports as an artifact."""
    result = run_action(VALIDATE, {"fail": "false"}, workspace=example_repo, env=mlgate_on_path)
    assert result.ok, result.log
    results = Path(result.outputs["results"])
    assert results == example_repo / ".mlgate" / "results" / "validation.json"
    document = json.loads(results.read_text())
    # Clean data under the example's own policy passes: no false alarm from drift notices or deepchecks.
    assert document["verdict"] == "pass", document["summary"]
    assert result.outputs["passed"] == "true"
    evidence = document["evidence"]
    assert evidence["inputs"]["train"]["path"] == "data/train.csv"
    assert [suite["suite"] for suite in evidence["deepchecks"]] == ["model_evaluation"]
    assert evidence["drift"]["threshold"] == 0.1  # from the example's policy
    uploaded = sorted(p.name for p in (run_action.artifacts_dir / "mlgate-validation").iterdir())
    assert uploaded == ["deepchecks-model_evaluation.html"]
    # Every deepchecks finding points at the line of mlgate.yml that asked for the suites.
    deepchecks_line = next(
        n for n, line in enumerate((example_repo / "mlgate.yml").read_text().splitlines(), 1) if "deepchecks:" in line
    )
    flagged = [a for a in result.annotations if a.message.startswith("deepchecks: ")]
    assert all((a.file, a.line) == ("mlgate.yml", deepchecks_line) for a in flagged)
    assert {a.level for a in flagged} <= {"error", "warning"}


def test_faulty_test_data_fails_the_step_with_annotations(
    run_action: ActionBench, example_repo: Path, mlgate_on_path: dict[str, str]
) -> None:
    test = pd.read_csv(example_repo / "data" / "test.csv")
    test["owner_email"] = [f"owner{i}@example.com" for i in range(len(test))]
    test.to_csv(example_repo / "data" / "test.csv", index=False)
    (example_repo / "policy.yml").write_text(
        "data:\n  train: data/train.csv\n  test: data/test.csv\n  label: target\n"
        "  checks:\n    pii: {allow_columns: []}\n"
    )
    result = run_action(VALIDATE, {"config": "policy.yml"}, workspace=example_repo, env=mlgate_on_path)
    assert not result.ok
    assert result.outputs["passed"] == "false"
    assert result.step("validate").exit_code == 1
    errors = [(a.file, a.line, a.message) for a in result.annotations_of("error") if a.title == "mlgate validate"]
    assert (
        "policy.yml",
        6,
        "pii: column 'owner_email' holds emails in 171 rows (e.g. o***@***.com)",
    ) in errors
    assert "owner1@example.com" not in result.log


def test_bad_input_fails_the_step_with_one_error(
    run_action: ActionBench, example_repo: Path, mlgate_on_path: dict[str, str]
) -> None:
    (example_repo / "data" / "current.csv").write_text("mean_radius;target\n1;0\n")
    result = run_action(
        VALIDATE,
        {"test": "data/current.csv", "fail": "false"},
        workspace=example_repo,
        env=mlgate_on_path,
    )
    assert not result.ok
    assert result.step("validate").exit_code == 2
    [error] = [a for a in result.annotations_of("error") if a.file == "data/current.csv"]
    assert error.message == (
        "has a single column 'mean_radius;target': the file looks delimited by ';', "
        "but mlgate reads comma-separated CSV"
    )
    recorded = json.loads((example_repo / ".mlgate/results/validation.json").read_text())  # the errored step
    assert (recorded["verdict"], recorded["evidence"]["error"]["file"]) == ("error", "data/current.csv")


def test_working_directory_and_explicit_inputs(
    run_action: ActionBench, example_repo: Path, mlgate_on_path: dict[str, str]
) -> None:
    project = example_repo / "project"
    project.mkdir()
    for name in ("train.csv", "test.csv"):
        (project / name).write_bytes((example_repo / "data" / name).read_bytes())
    inputs = {
        "working-directory": "project",  # holds no mlgate.yml: every default applies
        "train": "train.csv",
        "test": "test.csv",
        "label": "target",
        "results-dir": "out",
    }
    result = run_action(VALIDATE, inputs, workspace=example_repo, env=mlgate_on_path)
    assert result.ok, result.log
    assert result.outputs == {"passed": "true", "results": str(project / "out" / "validation.json")}
