"""Real DVC projects in the layouts users have, each built once per test module and copied for every test.

Every layout is a git + DVC repository with a local-directory remote beside it (`../remote`, so a copy of the
pair keeps working), whose `evaluate` stage `dvc repro` really runs. Its history on main:

    skeleton — the code and params, no evaluate stage yet: the base of a pull request that adds the metrics;
    base     — `dvc repro` at quality 1.0, pushed to the remote;
    head     — (branch pr) `dvc repro` at quality 0.5: roc_auc.test regresses by about 0.15.

The layouts:

    folder   — the stage's whole `eval/` folder is one cached output holding metrics.json and the
               predictions; top-level `metrics: [eval/metrics.json]` (DVC refuses a stage declaring both
               `outs: [eval]` and `metrics: [eval/metrics.json]`: they overlap);
    dvclive  — what DVCLive 3.x writes when the stage's `outs: [dvclive]`: dvclive/metrics.json with `step`,
               dvclive/params.yaml, dvclive/plots/metrics/<name>.tsv, dvclive/plots/sklearn/confusion_matrix.json,
               and the top-level params/metrics/plots entries it adds to dvc.yaml; predictions a cached file out;
    toplevel — the metrics file is a plain cached file output of the stage, declared in top-level `metrics:`;
    schema1  — a DVC 1.x project: per-stage cached `metrics: [metrics.json]`, and the base's dvc.lock in
               schema 1 (stages at the top level, no `hash:` field), its objects in the 1.x/2.x cache layout
               (`.dvc/cache/ab/cdef…`, also on the remote); the head reproduced with today's DVC (schema 2).

The stage writes roc_auc and accuracy of the `test` split and roc_auc of `train` as `{"roc_auc": {"test": …}}`
(key `roc_auc.test`), and the test split's per-row predictions (row_id, y_true, y_pred, y_score), the same
1,000 rows at base and head: the gate's significance test is paired.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.example_fixtures import dvc, git, hermetic_env

LAYOUTS = ("folder", "dvclive", "toplevel", "schema1")
BASE_QUALITY, HEAD_QUALITY = 1.0, 0.5

EVALUATE = """\
import json, os, sys
import numpy as np
import yaml


# scikit-learn's import alone takes longer than the whole stage: ROC AUC in its Mann-Whitney form (the scores
# are continuous, so there are no ties) and accuracy in numpy
def roc_auc_score(y, score):
    ranks = np.empty(y.size)
    ranks[np.argsort(score)] = np.arange(1, y.size + 1)
    positives = int(y.sum())
    negatives = y.size - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def accuracy_score(y, pred):
    return float((y == pred).mean())


layout = sys.argv[1]
quality = yaml.safe_load(open("params.yaml"))["quality"]
rng = np.random.default_rng(0)  # the same rows and noise at every quality: base and head pair up
y = rng.integers(0, 2, 1000)
score = 1 / (1 + np.exp(-(2 * quality * (2 * y - 1) + rng.normal(size=y.size))))
train_score = 1 / (1 + np.exp(-(2 * (quality + 0.5) * (2 * y - 1) + rng.normal(size=y.size))))
pred = (score > 0.5).astype(int)
metrics = {
    "roc_auc": {"test": roc_auc_score(y, score), "train": roc_auc_score(y, train_score)},
    "accuracy": {"test": accuracy_score(y, pred)},
}
rows = "".join(f"{i},{t},{p},{s:.6f}\\n" for i, (t, p, s) in enumerate(zip(y, pred, score)))
predictions = "row_id,y_true,y_pred,y_score\\n" + rows


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


if layout == "folder":
    write("eval/metrics.json", json.dumps(metrics, indent=2))
    write("eval/predictions.csv", predictions)
elif layout == "dvclive":
    write("dvclive/metrics.json", json.dumps({**metrics, "step": 2}, indent=4))
    write("dvclive/params.yaml", f"quality: {quality}\\n")
    for split, value in metrics["roc_auc"].items():
        curve = "".join(f"{step}\\t{value - (2 - step) / 100}\\n" for step in range(3))
        write(f"dvclive/plots/metrics/roc_auc/{split}.tsv", f"step\\t{split}\\n" + curve)
    cells = [{"actual": str(t), "predicted": str(p)} for t, p in zip(y[:50], pred[:50])]
    write("dvclive/plots/sklearn/confusion_matrix.json", json.dumps(cells, indent=4))
    write("predictions.csv", predictions)
elif layout == "toplevel":
    write("metrics.json", json.dumps(metrics, indent=2))
    write("predictions.csv", predictions)
elif layout == "schema1":
    write("metrics.json", json.dumps(metrics, indent=2))
    write("eval/predictions.csv", predictions)
"""

CONFUSION = {
    "template": "confusion",
    "x": "actual",
    "y": "predicted",
    "title": "Confusion Matrix",
    "x_label": "True Label",
    "y_label": "Predicted Label",
}


def _stage(layout: str) -> dict[str, Any]:
    stage: dict[str, Any] = {"cmd": f"python evaluate.py {layout}", "deps": ["evaluate.py"], "params": ["quality"]}
    outs = {
        "folder": ["eval"],
        "dvclive": ["dvclive", "predictions.csv"],
        "toplevel": ["metrics.json", "predictions.csv"],
        "schema1": ["eval"],
    }[layout]
    stage["outs"] = outs
    if layout == "schema1":
        stage["metrics"] = ["metrics.json"]
    return stage


def dvc_yaml(layout: str) -> dict[str, Any]:
    """The layout's dvc.yaml, as its users (or DVCLive) write it."""
    document: dict[str, Any] = {"stages": {"evaluate": _stage(layout)}}
    if layout == "folder":
        document["metrics"] = ["eval/metrics.json"]
    elif layout == "dvclive":
        document["params"] = ["dvclive/params.yaml"]
        document["metrics"] = ["dvclive/metrics.json"]
        document["plots"] = [
            {"dvclive/plots/metrics": {"x": "step"}},
            {"dvclive/plots/sklearn/confusion_matrix.json": CONFUSION},
        ]
    elif layout == "toplevel":
        document["metrics"] = ["metrics.json"]
    return document


METRICS_FILE = {
    "folder": "eval/metrics.json",
    "dvclive": "dvclive/metrics.json",
    "toplevel": "metrics.json",
    "schema1": "metrics.json",
}
OUTPUT = {"folder": "eval", "dvclive": "dvclive", "toplevel": "metrics.json", "schema1": "metrics.json"}
PREDICTIONS = {
    "folder": "eval/predictions.csv",
    "dvclive": "predictions.csv",
    "toplevel": "predictions.csv",
    "schema1": "eval/predictions.csv",
}


def mlgate_yml(layout: str) -> str:
    plots = "true" if layout == "dvclive" else "false"  # rendering plots is slow: once is enough
    return f"""\
metrics:
  predictions: {PREDICTIONS[layout]}
  history: 0
  gate:
    roc_auc.test: {{direction: higher, max_drop: 0.005}}
    roc_auc.train: {{direction: higher, max_drop: 0.5}}
  significance: {{alpha: 0.05, resamples: 500, seed: 1}}
report:
  plots: {plots}
"""


@dataclass(frozen=True)
class Layout:
    """One built layout: the repository, its remote, and the commits of its history."""

    name: str
    repo: Path
    remote: Path
    skeleton: str
    base: str
    head: str

    @property
    def metrics_file(self) -> str:
        return METRICS_FILE[self.name]

    @property
    def output(self) -> str:
        """The cached output that holds the metrics file."""
        return OUTPUT[self.name]

    def copy_to(self, folder: Path) -> Layout:
        """The repository and its remote copied under `folder` (DVC's tmp/ state left behind)."""
        repo, remote = folder / "repo", folder / "remote"
        shutil.copytree(self.repo, repo, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
        shutil.copytree(self.remote, remote, symlinks=True)
        return Layout(self.name, repo, remote, self.skeleton, self.base, self.head)


def _write(repo: Path, relative: str, text: str) -> None:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def _legacy_objects(repo: Path, remote: Path) -> None:
    """Every object in the DVC 3 cache also where DVC 1.x/2.x kept it (`<cache>/ab/cdef…`), in the cache and on
    the remote: the md5 of a text file without CRLF is the same under both hash names."""
    files = repo / ".dvc/cache/files/md5"
    for obj in files.rglob("*"):
        if obj.is_file():
            relative = obj.relative_to(files)
            for root in (repo / ".dvc/cache", remote):
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(obj, target)


def schema1_lock(lock: dict[str, Any]) -> dict[str, Any]:
    """A schema-2 dvc.lock as DVC 1.x wrote it: the stages at the top level, no `hash:` field."""
    stages = {}
    for name, stage in lock["stages"].items():
        stages[name] = {
            key: [{k: v for k, v in entry.items() if k != "hash"} for entry in value]
            if key in ("deps", "outs")
            else value
            for key, value in stage.items()
        }
    return stages


def build(layout: str, folder: Path) -> Layout:
    repo, remote = folder / "repo", folder / "remote"
    repo.mkdir(parents=True)
    remote.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    dvc(repo, "init", "--quiet")
    dvc(repo, "remote", "add", "--default", "store", "../remote")  # kept relative: a copy uses its own remote
    _write(repo, "evaluate.py", EVALUATE)
    _write(repo, "params.yaml", f"quality: {BASE_QUALITY}\n")
    _write(repo, "mlgate.yml", mlgate_yml(layout))
    _write(repo, ".gitignore", ".mlgate/\n")
    skeleton = _commit(repo, "skeleton: code and params, no evaluate stage yet")

    _write(repo, "dvc.yaml", yaml.safe_dump(dvc_yaml(layout), sort_keys=False))
    dvc(repo, "repro", "--quiet")
    dvc(repo, "push", "--quiet")
    if layout == "schema1":
        lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
        _write(repo, "dvc.lock", yaml.safe_dump(schema1_lock(lock), sort_keys=False))
        _legacy_objects(repo, remote)
    base = _commit(repo, f"base: evaluate at quality {BASE_QUALITY}")

    git(repo, "checkout", "--quiet", "-b", "pr")
    _write(repo, "params.yaml", f"quality: {HEAD_QUALITY}\n")
    if layout == "schema1":
        (repo / "dvc.lock").unlink()  # today's DVC cannot read a schema-1 lock: the PR regenerates it
    dvc(repo, "repro", "--quiet")
    dvc(repo, "push", "--quiet")
    head = _commit(repo, f"head: evaluate at quality {HEAD_QUALITY}")
    return Layout(layout, repo, remote, skeleton, base, head)


@pytest.fixture(scope="module", params=LAYOUTS)
def layout_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """Each layout, built once per test module (git and dvc run in the hermetic environment)."""
    return build(request.param, tmp_path_factory.mktemp(f"layout-{request.param}"))


@pytest.fixture
def layout(layout_template: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """A fresh copy of the layout for one test, with the hermetic environment set for the whole test."""
    copied = layout_template.copy_to(tmp_path)
    for name, value in hermetic_env(copied.repo).items():
        monkeypatch.setenv(name, value)
    return copied


def evidence_as_dvc_json(entries: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """compare.json's metrics (or params) evidence in the shape `dvc metrics diff --json` prints."""
    shaped: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in entries:
        value = {"old": entry["old"], "new": entry["new"]} | ({"diff": entry["diff"]} if "diff" in entry else {})
        shaped.setdefault(entry["file"], {})[entry["key"]] = value
    return shaped


def dvc_json(repo: Path, *args: str) -> dict[str, Any]:
    return json.loads(dvc(repo, *args) or "{}")
