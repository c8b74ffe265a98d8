"""Small real git repositories holding metrics and per-row predictions, for `mlgate train` / `mlgate compare`.

`metrics_repo` is a git repository (branch main, hermetic git env) with an mlgate.yml gating accuracy,
roc_auc and log_loss; `MetricsRepo.record(...)` writes metrics.json and eval/predictions.csv from simulated
predictions, as a training run would, and `commit` / `branch` turn it into base and pull-request commits.
`invoke` runs the real CLI entry point in-process (exit code, stdout, stderr), so many CLI tests stay fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.example_fixtures import git, hermetic_env

GATE_CONFIG = """\
metrics:
  files: [metrics.json]
  predictions: eval/predictions.csv
  history: 10
  gate:
    accuracy: {direction: higher, max_drop: 0.01, min: 0.6}
    roc_auc: {direction: higher, max_drop: 0.01}
    log_loss: {direction: lower, max_increase: 10%}
  significance: {alpha: 0.05, resamples: 1000, seed: 7}
"""


def simulate(
    rng: np.random.Generator, y_true: np.ndarray, accuracy: float, *, like: np.ndarray | None = None, keep: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(y_pred, y_score) of a binary model that is right with probability `accuracy` on each row.

    With `like` (another model's y_pred), each row keeps that model's correctness with probability `keep`:
    two models that err on many of the same rows, as retrained models do.
    """
    correct = rng.random(len(y_true)) < accuracy
    if like is not None:
        same = rng.random(len(y_true)) < keep
        correct = np.where(same, like == y_true, correct)
    y_pred = np.where(correct, y_true, 1 - y_true)
    confidence = 0.5 + 0.5 * rng.random(len(y_true))
    y_score = np.where(y_pred == 1, confidence, 1 - confidence).round(6)
    return y_pred, y_score


def binary_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    from sklearn import metrics

    return {
        "accuracy": round(float(metrics.accuracy_score(y_true, y_pred)), 6),
        "roc_auc": round(float(metrics.roc_auc_score(y_true, y_score)), 6),
        "log_loss": round(float(metrics.log_loss(y_true, y_score, labels=[0, 1])), 6),
    }


@dataclass
class MetricsRepo:
    path: Path

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def write_json(self, relative: str, data: Any) -> None:
        self.write(relative, json.dumps(data, indent=2) + "\n")

    def record(
        self, y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray, ids: np.ndarray | None = None
    ) -> dict[str, float]:
        """What a training run leaves behind: metrics.json and eval/predictions.csv; returns the metrics."""
        ids = np.arange(len(y_true)) if ids is None else ids
        rows = "".join(f"{i},{t},{p},{s:.6f}\n" for i, t, p, s in zip(ids, y_true, y_pred, y_score, strict=True))
        self.write("eval/predictions.csv", "row_id,y_true,y_pred,y_score\n" + rows)
        metrics = binary_metrics(y_true, y_pred, y_score)
        self.write_json("metrics.json", metrics)
        return metrics

    def commit(self, message: str) -> str:
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "--allow-empty", "--message", message)
        return git(self.path, "rev-parse", "HEAD")

    def branch(self, name: str, start: str = "main") -> None:
        git(self.path, "checkout", "--quiet", "-b", name, start)


@pytest.fixture
def metrics_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MetricsRepo:
    """An empty git repository on main with the gate config, the hermetic git env set for the whole test."""
    path = tmp_path / "repo"
    path.mkdir()
    for name, value in hermetic_env(path).items():
        monkeypatch.setenv(name, value)
    for name in [k for k in os.environ if k.startswith(("MLGATE_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    git(path, "init", "--quiet", "-b", "main")
    repo = MetricsRepo(path)
    repo.write("mlgate.yml", GATE_CONFIG)
    repo.write(".gitignore", ".mlgate/\n")
    return repo


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `mlgate <args>` through the real entry point in `cwd`, with extra environment variables."""
    from mlgate.cli import main

    def run(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> CliRun:
        capsys.readouterr()
        with monkeypatch.context() as patch:
            patch.chdir(cwd)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            before = dict(os.environ)  # main() sets defaults (e.g. deepchecks telemetry) that must not leak
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os.environ.clear()
                os.environ.update(before)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
