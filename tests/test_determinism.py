"""The determinism audit (`train.repeat: N`): train N times with the same seed and report what differs — a
training that draws from an unseeded generator is flagged with its figures, a seeded one passes. The DVC case
proves the reruns really run: `dvc repro` alone would find the stage up to date and change nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from bench.example_fixtures import git, hermetic_env

# A "model" whose predictions and accuracy come from random draws: seeded from params.yaml, or not at all.
TRAIN = """\
import json, random, sys
import yaml
seed = yaml.safe_load(open("params.yaml"))["train"]["seed"]
rng = random.Random(seed) if "--seeded" in sys.argv else random.Random()
scores = [rng.random() for _ in range(50)]
with open("predictions.csv", "w") as out:
    out.write("row,y_true,y_score\\n")
    for row, score in enumerate(scores):
        out.write(f"{row},{row % 2},{score:.6f}\\n")
accuracy = sum((score >= 0.5) == (row % 2 == 1) for row, score in enumerate(scores)) / len(scores)
json.dump({"accuracy": accuracy, "rows": len(scores)}, open("metrics.json", "w"))
"""
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train.seed]
    metrics: [{metrics.json: {cache: false}}]
    outs: [{predictions.csv: {cache: false}}]
"""


def make_repo(repo: Path, policy: str, *, dvc: bool) -> None:
    repo.mkdir()
    (repo / "train.py").write_text(TRAIN)
    (repo / "params.yaml").write_text("train: {seed: 7}\n")
    (repo / "mlgate.yml").write_text(policy)
    git(repo, "init", "--quiet", "-b", "main")
    if dvc:
        (repo / "dvc.yaml").write_text(DVC_YAML)
        subprocess.run(["dvc", "init", "--quiet"], cwd=repo, check=True)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Training")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path / "repo"


def test_repeat_3_flags_an_unseeded_training_with_its_figures(env: Path, invoke) -> None:
    policy = (
        "train: {command: python train.py, repeat: 3}\nmetrics: {files: [metrics.json], predictions: predictions.csv}\n"
    )
    make_repo(env, policy + "tests: false\n", dvc=False)
    run = invoke("train", cwd=env, env={"GITHUB_ACTIONS": "true"})
    assert run.code == 0, run.out + run.err  # a finding, not a failed training
    written = json.loads((env / ".mlgate/results/train.json").read_text())
    assert written["verdict"] == "warn"
    audit = written["evidence"]["determinism"]
    assert audit["runs"] == 3 and audit["nondeterministic"] is True
    assert audit["predictions"] == 50 and audit["differing_predictions"] >= 45  # 50 fresh draws each run
    assert audit["spreads"]["metrics.json:rows"] == 0
    assert "nondeterministic over 3 runs with the same seed" in written["summary"]
    assert "of 50 predictions differ" in written["summary"]
    assert "::warning::mlgate train: " in run.out
    assert (env / ".mlgate/results/train.repeat-3.log").is_file()


@pytest.mark.slow
def test_dvc_repro_is_forced_to_rerun_so_an_unseeded_stage_is_caught(env: Path, invoke) -> None:
    policy = "train: {repeat: 2}\nmetrics: {files: [metrics.json], predictions: predictions.csv}\ntests: false\n"
    make_repo(env, policy, dvc=True)
    run = invoke("train", cwd=env)
    assert run.code == 0, run.out + run.err
    audit = json.loads((env / ".mlgate/results/train.json").read_text())["evidence"]["determinism"]
    assert audit["nondeterministic"] is True and audit["differing_predictions"] >= 45  # the stage ran again


def test_repeat_3_passes_a_seeded_training(env: Path, invoke) -> None:
    policy = (
        "train: {command: python train.py --seeded, repeat: 3}\n"
        "metrics: {files: [metrics.json], predictions: predictions.csv}\ntests: false\n"
    )
    make_repo(env, policy, dvc=False)
    run = invoke("train", cwd=env)
    assert run.code == 0, run.out + run.err
    written = json.loads((env / ".mlgate/results/train.json").read_text())
    assert written["verdict"] == "pass", written["summary"]
    audit = written["evidence"]["determinism"]
    assert (audit["runs"], audit["nondeterministic"], audit["differing_predictions"]) == (3, False, 0)
    assert audit["spreads"] == {"metrics.json:accuracy": 0.0, "metrics.json:rows": 0.0}
    assert os.listdir(env / ".mlgate/results").count("train.repeat-2.log") == 1


def test_a_failing_rerun_is_an_error_naming_the_run(env: Path, invoke) -> None:
    policy = (
        "train: {command: python train.py --seeded && python once.py, repeat: 2}\nmetrics: {files: [metrics.json]}\n"
    )
    make_repo(env, policy + "tests: false\n", dvc=False)
    (env / "once.py").write_text("import os, sys\nsys.exit(3 if os.path.exists('ran') else open('ran', 'w').close())\n")
    run = invoke("train", cwd=env)
    assert run.code == 2, run.out + run.err
    assert "determinism run 2 of 2 (train.repeat) failed: exit code 3" in run.err
