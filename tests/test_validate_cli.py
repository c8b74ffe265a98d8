"""`mlgate validate` as a user runs it: real files, a subprocess, exit codes, validation.json, annotations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

RAW_EMAIL = "jane.doe@hospital.example.org"
CONFIG = """\
data:
  train: data/train.csv
  test: data/test.csv
  label: target
  checks:
    nulls: {max_fraction: 0.05}
    drift: {method: auto}
    pii: {allow_columns: []}
"""


def run_validate(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mlgate", "validate", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_split(root: Path, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = load_breast_cancer(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=frame["target"])
    (root / "data").mkdir(exist_ok=True)
    train.to_csv(root / "data" / "train.csv", index=False)
    test.to_csv(root / "data" / "test.csv", index=False)
    return train, test


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_split(tmp_path)
    (tmp_path / "mlgate.yml").write_text(CONFIG)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    """The user's files (not mlgate's own results, where an errored step is recorded)."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and ".mlgate" not in p.relative_to(root).parts)
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def results(root: Path) -> dict:
    return json.loads((root / ".mlgate" / "results" / "validation.json").read_text())


def test_clean_split_passes_with_full_evidence(repo: Path) -> None:
    result = run_validate(cwd=repo)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "validate: pass: all checks passed (426 train rows, 143 test rows, 31 columns)"
    document = results(repo)
    assert document["step"] == "validation" and document["verdict"] == "pass"
    evidence = document["evidence"]
    assert evidence["inputs"]["train"] == {"path": "data/train.csv", "format": "csv", "rows": 426, "columns": 31}
    assert evidence["sampling"]["train"]["statement"] == "all 426 rows"
    assert evidence["schema"] == {"file": None, "mode": "inferred"}
    drift = evidence["drift"]
    assert len(drift["columns"]) == 30 and drift["drifted_share"] < 0.5
    first = drift["columns"][0]
    assert set(first) == {"column", "kind", "method", "statistic", "p_value", "threshold", "verdict", "note"}
    assert (first["method"], first["threshold"]) == ("ks", 0.05)
    assert set(evidence["checks"].values()) == {"pass"}
    assert evidence["pii"] == []


def test_faults_fail_with_annotations_outputs_and_masked_pii(repo: Path) -> None:
    train, test = write_split(repo)
    test = test.copy()
    test.loc[test.index[:20], "mean texture"] = np.nan
    test["contact"] = RAW_EMAIL
    train["contact"] = "none"
    train.to_csv(repo / "data" / "train.csv", index=False)
    test.to_csv(repo / "data" / "test.csv", index=False)
    output = repo / "github_output"
    output.write_text("")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_WORKSPACE": str(repo)}
    result = run_validate(cwd=repo, env=env)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "::error file=mlgate.yml,line=6,title=mlgate validate::nulls: column 'mean texture' is 14.0%25 missing, "
        "above the allowed 5.0%25"
    ) in lines
    assert (
        "::error file=mlgate.yml,line=8,title=mlgate validate::pii: column 'contact' holds emails in 143 rows "
        "(e.g. j***@***.org)"
    ) in lines
    assert any(
        line.startswith("::warning file=data/test.csv,title=mlgate validate::schema: column 'contact'")
        for line in lines
    )
    assert "validate: fail: nulls, pii; warnings: constant, schema (426 train rows" in result.stdout
    assert "fail: fail" not in result.stdout
    outputs = output.read_text().splitlines()
    assert "passed=false" in outputs
    assert f"results={Path('.mlgate/results/validation.json')}" in outputs
    document = results(repo)
    assert document["verdict"] == "fail"
    assert document["evidence"]["pii"] == [
        {
            "dataset": "test",
            "column": "contact",
            "kind": "email",
            "rows": 143,
            "example": "j***@***.org",
            "allowed": False,
        }
    ]
    everything = result.stdout + result.stderr + (repo / ".mlgate/results/validation.json").read_text()
    assert RAW_EMAIL not in everything and "jane.doe" not in everything


def test_flags_override_config_and_env_overrides_config(repo: Path) -> None:
    _, test = write_split(repo)
    test.rename(columns={"target": "diagnosis"}).to_csv(repo / "other_test.csv", index=False)
    result = run_validate("--test", "other_test.csv", cwd=repo)
    assert result.returncode == 2
    assert (
        result.stderr == "mlgate: error: other_test.csv: label column 'target' is not in the file (columns: "
        "mean radius, mean texture, mean perimeter, mean area, mean smoothness, mean compactness, mean concavity, "
        "mean concave points, mean symmetry, mean fractal dimension, …)\n"
    )
    via_env = run_validate(cwd=repo, env={"MLGATE_VALIDATE_TEST": "data/train.csv"})
    assert via_env.returncode == 1  # train against itself: every test row leaks
    assert results(repo)["evidence"]["inputs"]["test"]["path"] == "data/train.csv"


def test_missing_config_file_reported_at_its_key(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yml").write_text("data:\n  train: data/nope.csv\n  label: target\n")
    result = run_validate(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "mlgate: error: mlgate.yml:2: data.train: file 'data/nope.csv' does not exist\n"


BAD_INPUTS = {
    "empty": ("train.csv", b"", "train.csv: is empty"),
    "header only": ("train.csv", b"a,b,target\n", "train.csv: has a header but no data rows"),
    "semicolons": (
        "train.csv",
        b"a;b;target\n1;2;0\n",
        "train.csv: has a single column 'a;b;target': the file looks delimited by ';', but mlgate reads "
        "comma-separated CSV",
    ),
    "tabs": (
        "train.csv",
        b"a\tb\ttarget\n1\t2\t0\n",
        "train.csv: has a single column 'a b target': the file looks delimited by a tab, but mlgate reads "
        "comma-separated CSV",
    ),
    "latin-1": (
        "train.csv",
        "a,b,target\n1,café,0\n".encode("latin-1"),
        "train.csv: is not UTF-8 text (bad byte at offset 16); save it as UTF-8",
    ),
    "duplicate columns": (
        "train.csv",
        b"a,b,a,target\n1,2,3,0\n",
        "train.csv: column 'a' appears more than once in the header",
    ),
    "not parquet": (
        "train.parquet",
        b"a,b,target\n1,2,0\n",
        "train.parquet: is not a Parquet file (its suffix says Parquet, its bytes do not)",
    ),
    "label missing": (
        "train.csv",
        b"a,b\n1,2\n",
        "train.csv: label column 'target' is not in the file (columns: a, b)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_train_file_is_one_line_exit_2_and_changes_nothing(tmp_path: Path, case: str) -> None:
    name, content, message = BAD_INPUTS[case]
    (tmp_path / name).write_bytes(content)
    (tmp_path / "test.csv").write_text("a,b,target\n1,2,0\n")
    before = snapshot(tmp_path)
    result = run_validate("--train", name, "--test", "test.csv", "--label", "target", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"mlgate: error: {message}\n"
    assert result.stdout == ""
    assert snapshot(tmp_path) == before


def test_disjoint_columns_and_late_bad_bytes(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a,b,target\n1,2,0\n")
    (tmp_path / "test.csv").write_text("x,y\n1,2\n")
    before = snapshot(tmp_path)
    result = run_validate("--train", "train.csv", "--test", "test.csv", "--label", "target", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "mlgate: error: test.csv: has no column in common with train.csv: they cannot be the same kind of data\n",
    )
    rows = "".join(f"{i},text{i},0\n" for i in range(200_000)).encode()
    (tmp_path / "big.csv").write_bytes(b"a,b,target\n" + rows + b"1,caf\xe9,0\n")
    result = run_validate("--train", "big.csv", "--label", "target", cwd=tmp_path)
    offset = len(b"a,b,target\n" + rows) + 5
    assert (result.returncode, result.stderr) == (
        2,
        f"mlgate: error: big.csv: is not UTF-8 text (bad byte at offset {offset}); save it as UTF-8\n",
    )
    assert "Traceback" not in result.stderr
    assert {p for p in snapshot(tmp_path)} == set(before) | {"big.csv"}


def test_mixed_types_after_the_first_block_are_read_whole(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(200_000))
    (tmp_path / "train.csv").write_text("a,target\n" + rows + "1.5,0\n")
    result = run_validate("--train", "train.csv", "--label", "target", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert results(tmp_path)["evidence"]["inputs"]["train"]["rows"] == 200_001


def test_schema_file_with_unknown_key_names_its_line(repo: Path) -> None:
    (repo / "mlgate.schema.yml").write_text("version: 1\ncolumns:\n  target:\n    dtype: integer\n    colour: red\n")
    before = snapshot(repo)
    result = run_validate("--schema", "mlgate.schema.yml", cwd=repo)
    assert result.returncode == 2
    assert result.stderr == (
        "mlgate: error: mlgate.schema.yml:5: columns.target.colour: unknown key 'colour' "
        "(allowed: categories, dtype, max, min, nullable)\n"
    )
    assert snapshot(repo) == before


def test_write_schema_round_trip(repo: Path) -> None:
    written = run_validate("--write-schema", cwd=repo)
    assert written.returncode == 0, written.stderr
    assert written.stdout == "wrote mlgate.schema.yml: 31 columns inferred from data/train.csv; review and commit it\n"
    text = (repo / "mlgate.schema.yml").read_text()
    assert text.startswith("# mlgate data schema")
    assert "  target: {dtype: integer, nullable: false, min: 0, max: 2}\n" in text
    checked = run_validate("--schema", "mlgate.schema.yml", cwd=repo)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert results(repo)["evidence"]["schema"] == {"file": "mlgate.schema.yml", "mode": "strict"}
    # The reviewer narrows a rule: the violation points at the line that set it.
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  mean radius:"))
    lines[index] = "  mean radius: {dtype: number, nullable: false, min: 6, max: 20}"
    (repo / "mlgate.schema.yml").write_text("\n".join(lines) + "\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo)}
    failed = run_validate("--schema", "mlgate.schema.yml", cwd=repo, env=env)
    assert failed.returncode == 1
    annotation = (
        f"::error file=mlgate.schema.yml,line={index + 1},title=mlgate validate::schema: column 'mean radius' has "
    )
    assert sum(line.startswith(annotation) for line in failed.stdout.splitlines()) == 2  # train and test


def test_sampling_statement_from_config(tmp_path: Path) -> None:
    frame = load_digits(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.25, random_state=0, stratify=frame["target"])
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    (tmp_path / "mlgate.yml").write_text(
        "data:\n  train: train.csv\n  test: test.csv\n  label: target\n  sample_rows: 1000\n"
    )
    result = run_validate(cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    sampling = results(tmp_path)["evidence"]["sampling"]
    assert sampling["train"]["statement"] == "1,000 of 1,347 rows, seed 0, stratified by 'target'"
    assert sampling["test"]["statement"] == "all 450 rows"
    assert sampling["scope"].startswith("drift and deepchecks use the sample")


def test_parquet_input(repo: Path) -> None:
    train, _ = write_split(repo)
    train.to_parquet(repo / "train.parquet", index=False)
    result = run_validate("--train", "train.parquet", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert results(repo)["evidence"]["inputs"]["train"]["format"] == "parquet"
