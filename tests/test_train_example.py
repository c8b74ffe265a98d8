"""The example repository end to end: `mlgate train` runs `dvc repro` with the repository's own Python (not
mlgate's venv), then `mlgate compare` gates the pull request against main."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from bench.example_fixtures import git
from bench.metrics_repo_fixtures import read_json

pytestmark = pytest.mark.slow


def test_train_then_compare_on_the_example(example_repo: Path, user_python: Path, invoke, monkeypatch):
    venv_bin = Path(sys.prefix) / "bin"
    path = [p for p in os.environ["PATH"].split(os.pathsep) if Path(p).resolve() != venv_bin.resolve()]
    monkeypatch.setenv("PATH", os.pathsep.join([str(user_python), *path]))
    base = git(example_repo, "rev-parse", "HEAD")
    git(example_repo, "checkout", "--quiet", "-b", "pr/fewer-features")
    params = yaml.safe_load((example_repo / "params.yaml").read_text())
    params["train"]["n_features"] = 3
    (example_repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    run = invoke("train", cwd=example_repo)
    assert run.code == 0, run.out + run.err
    train = read_json(example_repo / ".mlgate/results/train.json")
    evidence = train["evidence"]
    assert evidence["command"] == "dvc repro"
    assert "Running stage 'train'" in "\n".join(evidence["log_tail"])
    assert set(evidence["metrics"]["metrics.json"]) == {
        "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "n_test", "train.accuracy", "train.log_loss",
    }  # fmt: skip
    assert evidence["params"]["params.yaml"]["train.n_features"] == 3
    assert {"data/train.csv", "data/test.csv", "model.pkl", "eval/predictions.csv"} <= set(evidence["data_versions"])

    run = invoke("compare", cwd=example_repo)
    compare = read_json(example_repo / ".mlgate/results/compare.json")
    assert compare["commits"]["base"] == base
    rules = {r["metric"]: r for r in compare["evidence"]["rules"]}
    assert compare["evidence"]["significance"]["paired"] is True
    assert rules["accuracy"]["significance"]["test"] == "McNemar exact"
    assert rules["accuracy"]["delta"] < 0
    params = {p["key"]: p for p in compare["evidence"]["params"]}
    assert params["train.n_features"]["old"] == 30 and params["train.n_features"]["new"] == 3
    changed = {d["path"] for d in compare["evidence"]["data_versions"] if d["status"] == "modified"}
    assert {"model.pkl", "metrics.json"} <= changed and "data/train.csv" not in changed
    assert run.code == (1 if compare["verdict"] == "fail" else 0)
    assert compare["verdict"] == "fail"  # three features cost the model significantly (see the example's tests)
    # The example's DVC plots, base vs head: the training curve ends higher, more test cases are misclassified.
    plots = {item["id"]: item for item in compare["evidence"]["plots"]["items"]}
    assert set(plots) == {"train_curve.csv", "eval/predictions.csv"}
    last = {side["name"]: side["last"] for side in plots["train_curve.csv"]["sides"]}
    assert last["head"] > last["base"] * 2
    wrong = {side: sum(c["count"] for c in cells if c["actual"] != c["predicted"])
             for side, cells in plots["eval/predictions.csv"]["confusion"].items()}  # fmt: skip
    assert wrong["head"] > wrong["base"]
