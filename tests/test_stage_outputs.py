"""data.outputs (#19): data a pipeline stage produces, held against its own schema after training. A PR whose
transformation breaks the schema fails train with the finding (and an annotation at the schema's rule); a bad
entry in mlgate.yml is exit 2 naming its key before anything trains."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from bench.example_fixtures import git, hermetic_env

PREPARE = """\
import os, sys
os.makedirs("data", exist_ok=True)
shift = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
with open("data/clean.csv", "w") as out:
    out.write("age,income\\n")
    for row in range(20):
        out.write(f"{row + 20 - shift},{1000 * row}\\n")
"""
SCHEMA = """\
version: 1
columns:
  age: {dtype: number, nullable: false, min: 0, max: 120}
  income: {dtype: number, nullable: false}
"""
DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py {shift}
    deps: [prepare.py]
    outs: [data/clean.csv]
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "prepare.py").write_text(PREPARE)
    (repo / "schemas").mkdir()
    (repo / "schemas/clean.yml").write_text(SCHEMA)
    git(repo, "init", "--quiet", "-b", "main")
    return repo


def _policy(repo: Path, outputs: str, command: str = "dvc repro") -> None:
    (repo / "mlgate.yml").write_text(f"data:\n  outputs: {outputs}\ntrain: {{command: {command}}}\ntests: false\n")


def test_a_transformation_that_breaks_its_schema_fails_train_with_an_annotation(env: Path, invoke) -> None:
    (env / "dvc.yaml").write_text(DVC_YAML.format(shift=0))
    subprocess.run(["dvc", "init", "--quiet"], cwd=env, check=True)
    _policy(env, "{data/clean.csv: schemas/clean.yml}")
    run = invoke("train", cwd=env)
    assert run.code == 0, run.out + run.err
    written = json.loads((env / ".mlgate/results/train.json").read_text())
    assert written["verdict"] == "pass" and written["evidence"]["data_outputs"][0]["verdict"] == "pass"

    (env / "dvc.yaml").write_text(DVC_YAML.format(shift=30))  # the PR's transformation: ages below 0
    run = invoke("train", cwd=env, env={"GITHUB_ACTIONS": "true"})
    assert run.code == 1, run.out + run.err  # a finding that fails the step, not an input error
    written = json.loads((env / ".mlgate/results/train.json").read_text())
    assert written["verdict"] == "fail"
    (output,) = written["evidence"]["data_outputs"]
    assert (output["path"], output["stage"], output["verdict"]) == ("data/clean.csv", "prepare", "fail")
    (finding,) = [f for f in output["findings"] if f["severity"] == "fail"]
    assert finding["column"] == "age" and finding["message"].startswith("data/clean.csv (stage prepare): ")
    assert (finding["file"], finding["line"]) == ("schemas/clean.yml", 3)
    assert "::error file=schemas/clean.yml,line=3" in run.out
    assert "data/clean.csv (stage prepare): " in written["summary"]

    from mlgate.report.render import checks_section
    from mlgate.results import read_result

    section = checks_section([read_result(env / ".mlgate/results/train.json")])
    assert section is not None and "### Pipeline outputs (data.outputs)" in section.body and "`age`" in section.body


def test_an_output_training_did_not_produce_is_a_finding(env: Path, invoke) -> None:
    _policy(env, "{data/other.csv: schemas/clean.yml}", "python prepare.py")
    run = invoke("train", cwd=env)
    written = json.loads((env / ".mlgate/results/train.json").read_text())
    assert run.code == 1 and written["verdict"] == "fail", run.err
    assert written["evidence"]["findings"][0]["message"] == "data/other.csv: was not produced by training"


@pytest.mark.parametrize(
    ("outputs", "schema", "message"),
    [
        ("{data/clean.csv: schemas/none.yml}", None, "data.outputs.data/clean.csv: file 'schemas/none.yml'"),
        ("{data/clean.csv: schemas/clean.yml}", "version: 1\ncolumns: {a: {dtype: x}}\n", "data/clean.csv: schema"),
        ("{../elsewhere.csv: schemas/clean.yml}", None, "is outside the repository"),
        ("[data/clean.csv]", None, "data.outputs: must be"),
    ],
)
def test_a_bad_entry_is_exit_2_naming_its_key_before_training(
    env: Path, invoke, outputs: str, schema: str | None, message: str
) -> None:
    if schema is not None:
        (env / "schemas/clean.yml").write_text(schema)
    _policy(env, outputs, "python prepare.py")
    run = invoke("train", cwd=env)
    assert run.code == 2, run.out + run.err
    assert message in run.err and "Traceback" not in run.err
    assert not (env / "data").exists()  # nothing trained
