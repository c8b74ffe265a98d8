"""train.seeds (#19): train once per seed, and a gate rule is regressed only when its drop is significant under
both row resampling and seed-to-seed variance, so a lucky or unlucky seed can neither pass nor fail a PR.

The training below is a "model" whose seed moves its accuracy by up to ±4 points (a fixed offset per seed, then
per-row draws), over 400 rows: seed 2 at quality 0.85 is a lucky 0.8825, seed 4 an unlucky 0.7825.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.example_fixtures import git, hermetic_env

from mlgate.compare.policy import Measured, evaluate_rule
from mlgate.compare.seeds import seed_test
from mlgate.config.model import GateRule, Tolerance

TRAIN = """\
import json, os, random
import yaml
params = yaml.safe_load(open("params.yaml"))["train"]
seed = params["seed"] if "seed" in params else int(os.environ["MLGATE_SEED"])
rng = random.Random(seed)
offset = rng.uniform(-0.04, 0.04)  # what the seed alone does to this model
with open("predictions.csv", "w") as out:
    out.write("row,y_true,y_pred\\n")
    correct = 0
    for row in range(400):
        hit = rng.random() < params["quality"] + offset
        correct += hit
        out.write(f"{row},{row % 2},{row % 2 if hit else 1 - row % 2}\\n")
json.dump({"accuracy": correct / 400, "seed_seen": seed}, open("metrics.json", "w"))
"""
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    metrics: [{metrics.json: {cache: false}}]
    outs: [{predictions.csv: {cache: false}}]
"""
GATE = """\
metrics:
  files: [metrics.json]
  predictions: predictions.csv
  gate:
    accuracy: {direction: higher, max_drop: 0.01}
tests: false
"""
SEEDED = "train:\n  seeds: [4, 5, 6, 7]\n  seed_param: train.seed\n" + GATE


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_SHA", "MLGATE_SEED"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "repo"


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_the_seed_test_allows_what_the_seeds_do_and_flags_what_they_do_not() -> None:
    noisy = [0.7825, 0.8575, 0.87, 0.8425]
    assert not seed_test([4, 5, 6, 7], noisy, [0.8825], 0.05).significant  # the base is one lucky draw
    worse = seed_test([4, 5, 6, 7], [0.6075, 0.655, 0.655, 0.6625], [0.8825], 0.05)
    assert worse.significant and worse.delta < -0.2 and worse.p_value < 0.01
    assert seed_test([1, 2], [0.9, 0.9], [0.9], 0.05).p_value == 1.0  # seeds move nothing, nothing moved
    assert seed_test([1, 2], [0.8, 0.8], [0.9], 0.05).p_value == 0.0  # seeds move nothing: the rows decide
    welch = seed_test([1, 2, 3], [0.80, 0.81, 0.79], [0.90, 0.91, 0.89], 0.05)
    assert welch.test.startswith("Welch") and welch.significant


def test_a_rule_is_regressed_only_when_the_rows_and_the_seeds_both_say_so() -> None:
    from mlgate.compare.stats import Interval

    rule = GateRule("accuracy", "higher", max_drop=Tolerance(0.01))
    measured = Measured("metrics.json", "accuracy", 0.8825, 0.838, True)
    rows = Interval("accuracy", True, 400, 400, 0.8825, 0.838, -0.0445, -0.07, -0.02, 0.001, "paired", 0.05, 2000)
    lucky_base = seed_test([4, 5, 6, 7], [0.7825, 0.8575, 0.87, 0.8425], [0.8825], 0.05)
    judged = evaluate_rule(rule, measured, rows, None, lucky_base)
    assert (judged.status, judged.outcome) == ("within noise", "pass")
    assert "not significant across seeds" in judged.reason and "4: 0.7825" in judged.reason
    assert judged.to_dict()["seeds"]["head"] == [0.7825, 0.8575, 0.87, 0.8425]
    real = seed_test([4, 5, 6, 7], [0.6075, 0.655, 0.655, 0.6625], [0.8825], 0.05)
    assert evaluate_rule(rule, measured, rows, None, real).status == "regressed"
    noise = Interval("accuracy", True, 400, 400, 0.8825, 0.838, -0.0445, -0.07, 0.02, 0.3, "paired", 0.05, 2000)
    assert evaluate_rule(rule, measured, noise, None, real).status == "within noise"  # rows say noise
    assert evaluate_rule(rule, measured, None, "no predictions", real).status == "regressed"  # seeds alone


def _dvc_repo(repo: Path) -> None:
    repo.mkdir()
    (repo / "train.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "params.yaml").write_text("# the model\ntrain:\n  quality: 0.85  # of the rows\n  seed: 2\n")
    (repo / "mlgate.yml").write_text(SEEDED)
    (repo / "plain.yml").write_text(GATE)
    (repo / ".gitignore").write_text(".mlgate/\n")
    git(repo, "init", "--quiet", "-b", "main")
    subprocess.run(["dvc", "init", "--quiet"], cwd=repo, check=True)
    subprocess.run(["dvc", "repro", "--quiet"], cwd=repo, check=True)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Baseline: seed 2")


def _pull_request(repo: Path, branch: str, params: str) -> None:
    git(repo, "checkout", "--quiet", "-b", branch, "main")
    (repo / "params.yaml").write_text(params)
    git(repo, "commit", "--quiet", "-am", branch)


@pytest.mark.slow
def test_an_unlucky_seed_cannot_fail_the_pr_and_a_real_drop_fails_it(env: Path, invoke) -> None:
    _dvc_repo(env)
    unlucky = "# the model\ntrain:\n  quality: 0.85  # of the rows\n  seed: 4\n"
    _pull_request(env, "pr/seed", unlucky)
    run = invoke("train", cwd=env)
    assert run.code == 0, run.out + run.err
    train = _read(env / ".mlgate/results/train.json")
    seeded = train["evidence"]["seeds"]
    assert [r["seed"] for r in seeded["runs"]] == [4, 5, 6, 7] and seeded["param"] == "train.seed"
    assert [r["metrics"]["metrics.json"]["seed_seen"] for r in seeded["runs"]] == [4, 5, 6, 7]  # the param, set
    assert [r["metrics"]["metrics.json"]["accuracy"] for r in seeded["runs"]] == [0.7825, 0.8575, 0.87, 0.8425]
    assert "4 seeds (4, 5, 6, 7): accuracy from 0.7825 to 0.87" in train["summary"]
    assert (env / "params.yaml").read_text() == unlucky  # put back byte for byte, comments and all
    assert "seed: 4" in (env / "dvc.lock").read_text()  # the kept run trained last: lock and params agree
    assert _read(env / "metrics.json")["seed_seen"] == 4

    run = invoke("compare", "--base", "main", cwd=env)
    assert run.code == 0, run.out + run.err
    (rule,) = _read(env / ".mlgate/results/compare.json")["evidence"]["rules"]
    assert rule["status"] == "within noise" and rule["head"] == pytest.approx(0.838125)
    assert rule["seeds"]["p_value"] > 0.05 and rule["significance"]["test"] == "paired bootstrap over 4 seeds"
    assert "not significant across seeds" in rule["reason"] and "4: 0.7825" in rule["reason"]
    from mlgate.report.render import ReportContext, render
    from mlgate.results import read_results_dir

    text = render(read_results_dir(env / ".mlgate/results"), ReportContext(), limit=65_536).text
    assert "| metric | seed 4 | seed 5 | seed 6 | seed 7 | mean | sd | vs seed-to-seed variance |" in text
    assert "| `accuracy` | 0.7825 | 0.8575 | 0.87 | 0.8425 | 0.83813 | 0.03875 | p = 0.381 |" in text
    assert "paired bootstrap over 4 seeds, p = 0.022, across seeds p = 0.38</sub>" in text
    assert "| train | ✅ pass | " in text and "4 seeds (4, 5, 6, 7): accuracy from 0.7825 to 0.87" in text
    control = invoke("--config", "plain.yml", "compare", "--base", "main", cwd=env)  # the kept seed alone
    assert control.code == 1, control.out + control.err
    assert _read(env / ".mlgate/results/compare.json")["evidence"]["rules"][0]["status"] == "regressed"

    git(env, "checkout", "--quiet", "--", ".")
    _pull_request(env, "pr/worse", "train:\n  quality: 0.65\n  seed: 4\n")
    assert invoke("train", cwd=env).code == 0
    run = invoke("compare", "--base", "main", cwd=env)
    assert run.code == 1, run.out + run.err
    (rule,) = _read(env / ".mlgate/results/compare.json")["evidence"]["rules"]
    assert rule["status"] == "regressed" and rule["seeds"]["significant"] and rule["significance"]["significant"]


def test_without_a_param_the_seed_is_mlgate_seed_and_compare_says_when_the_figures_are_missing(
    env: Path, invoke
) -> None:
    env.mkdir()
    (env / "train.py").write_text(TRAIN)
    (env / "params.yaml").write_text("train: {quality: 0.85}\n")
    (env / "mlgate.yml").write_text("train:\n  command: python train.py\n  seeds: [3, 9]\n" + GATE)
    git(env, "init", "--quiet", "-b", "main")
    subprocess.run([sys.executable, "train.py"], cwd=env, check=True, env={**os.environ, "MLGATE_SEED": "3"})
    git(env, "add", "--all")
    git(env, "commit", "--quiet", "-m", "Baseline")
    run = invoke("train", cwd=env)
    assert run.code == 0, run.out + run.err
    runs = _read(env / ".mlgate/results/train.json")["evidence"]["seeds"]["runs"]
    assert [r["metrics"]["metrics.json"]["seed_seen"] for r in runs] == [3, 9]
    assert _read(env / "metrics.json")["seed_seen"] == 3  # the first seed is the run kept
    assert (env / ".mlgate/results" / runs[1]["predictions"]).is_file()
    assert invoke("compare", "--base", "main", cwd=env).code == 0  # the same model as the base: unchanged

    (env / ".mlgate/results/train.json").unlink()  # a compare-only job: the per-seed figures are not here
    run = invoke("compare", "--base", "main", cwd=env)
    assert run.code == 0, run.out + run.err
    written = _read(env / ".mlgate/results/compare.json")
    assert written["verdict"] == "warn" and "the seed-to-seed test did not run" in written["summary"]


@pytest.mark.parametrize(
    ("train", "params", "message"),
    [
        ("seeds: [1]", "", "train.seeds: must list 2 to 10 seeds (got 1)"),
        ("seed_param: train.seed", "", "train.seed_param: has no effect without train.seeds"),
        ("seeds: [1, 2]\n  seed_param: train.nope", "train: {seed: 1}\n", "params.yaml has no key 'train.nope'"),
        ("seeds: [1, 2]\n  seed_param: other.yaml:seed", "", "train.seed_param: file 'other.yaml'"),
        ("seeds: [1, 2]\n  seed_param: train.seed", "train: {seed: 2}\n", "list 2 first"),
    ],
)
def test_bad_seed_settings_are_exit_2_naming_the_key(env: Path, invoke, train: str, params: str, message: str) -> None:
    env.mkdir()
    (env / "mlgate.yml").write_text(f"train:\n  command: python -c 'raise SystemExit(9)'\n  {train}\ntests: false\n")
    if params:
        (env / "params.yaml").write_text(params)
    git(env, "init", "--quiet", "-b", "main")
    run = invoke("train", cwd=env)
    assert run.code == 2, run.out + run.err
    assert message in run.err and "Traceback" not in run.err
    assert not (env / "metrics.json").exists()  # nothing trained
