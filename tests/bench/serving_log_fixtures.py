"""A small monitored repository: a model in the git-tag registry (production), its training data, metrics and
test predictions in git, and `make_log.py`, its production-log simulator (monitor.data_command).

make_log.py writes production/date=YYYY-MM-DD/log.csv for days 1..DAY (from 2026-01-01), 240 requests a day:
x1 ~ N(0, 1), x2 ~ N(5, 2), colour; the "model" predicts x1 > 0, the label is x1 + noise > 0. From DRIFT_DAY on
x1 and x2 shift by 2 (so the predictions and the accuracy move); latency ~ 20 ms, ×6 on the SLOW days; labels
arrive LABEL_DELAY (2) days late. Seconds per run, where the example's pipeline takes tens.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.example_fixtures import git, hermetic_env, run_in
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import Outcome, PushBridge, Workspace, scheduled, with_origin

DAY_ONE = "2026-01-01"
MAKE_LOG = """\
import csv, os, random
from datetime import date, datetime, timedelta

day_one = date(2026, 1, 1)
days = int(os.environ.get("DAY", "1"))
drift_day = int(os.environ.get("DRIFT_DAY", "0"))
slow = {int(d) for d in os.environ.get("SLOW", "").split(",") if d}
delay = int(os.environ.get("LABEL_DELAY", "2"))
for day in range(1, days + 1):
    rng = random.Random(day)
    moment = day_one + timedelta(days=day - 1)
    folder = f"production/date={moment:%Y-%m-%d}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/log.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["ts", "x1", "x2", "colour", "pred", "score", "label", "latency", "status"])
        for i in range(240):
            shift = 2.0 if drift_day and day >= drift_day else 0.0
            x1, x2 = rng.gauss(shift, 1), rng.gauss(5 + shift, 2)
            truth = int(x1 - shift + rng.gauss(0, 0.3) > 0)
            ts = datetime(moment.year, moment.month, moment.day) + timedelta(seconds=i * 360)
            latency = rng.lognormvariate(3.0, 0.3) * (6 if day in slow else 1)
            label = truth if day <= days - delay else ""
            out.writerow([ts.isoformat() + "Z", f"{x1:.4f}", f"{x2:.4f}", rng.choice(["red", "green", "blue"]),
                          int(x1 > 0), f"{1 / (1 + 2.718 ** (-3 * x1)):.4f}", label, f"{latency:.2f}",
                          500 if rng.random() < 0.01 else 200])
"""
MLGATE_YML = """\
data: {train: data/train.csv, label: label}
metrics:
  files: [metrics.json]
  predictions: eval/predictions.csv
  gate:
    accuracy: {direction: higher, max_drop: 0.05}
  significance: {resamples: 400}
deploy: {name: small-model, model: model.txt, environments: [production]}
monitor:
  data_command: python make_log.py
  log: production
  columns: {timestamp: ts, prediction: pred, score: score, label: label, latency_ms: latency, status: status}
  drift: {threshold: 0.01}
  alerts: {drift_share: 0.5, latency_p95_ms: 60, error_rate: 0.1}
"""


def _training_files(path: Path, shift: float) -> None:
    import random

    rng = random.Random(7)
    rows = ["x1,x2,colour,label"]
    predictions = ["y_true,y_pred,y_score"]
    for i in range(600):
        x1, x2 = rng.gauss(shift, 1), rng.gauss(5 + shift, 2)
        truth = int(x1 - shift + rng.gauss(0, 0.3) > 0)
        rows.append(f"{x1:.4f},{x2:.4f},{rng.choice(['red', 'green', 'blue'])},{truth}")
        if i < 200:
            predictions.append(f"{truth},{int(x1 > 0)},{1 / (1 + 2.718 ** (-3 * x1)):.4f}")
    (path / "data").mkdir(exist_ok=True)
    (path / "eval").mkdir(exist_ok=True)
    (path / "data/train.csv").write_text("\n".join(rows) + "\n")
    (path / "eval/predictions.csv").write_text("\n".join(predictions) + "\n")
    (path / "metrics.json").write_text('{"accuracy": 0.9}\n')


def monitored_repo(path: Path) -> Path:
    """The repository with version v1.0.0 of small-model in production, then a later commit (not deployed)
    whose training data moved: the deployed version's data, not HEAD's, is the drift reference."""
    path.mkdir()
    (path / "make_log.py").write_text(MAKE_LOG)
    (path / "mlgate.yml").write_text(MLGATE_YML)
    (path / "model.txt").write_text("x1 > 0\n")
    (path / ".gitignore").write_text("/production/\n/.mlgate/\n")
    _training_files(path, 0.0)
    git(path, "init", "--quiet", "-b", "main")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "small model v1")
    git(path, "tag", "-a", "small-model@v1.0.0", "-m", "Registering artifact small-model version v1.0.0")
    git(path, "tag", "-a", "small-model#production#1", "-m", "Assigning stage production to artifact small-model")
    _training_files(path, 2.0)
    git(path, "commit", "--quiet", "-am", "retrained on shifted data (not deployed)")
    return path


@pytest.fixture
def monitored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The monitored repository with a bare origin (tags pushed), no GitHub behind it."""
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    workspace = with_origin(monitored_repo(tmp_path / "repo"), tmp_path, None)
    git(workspace.path, "push", "--quiet", "origin", "--tags")
    return workspace


@pytest.fixture
def monitored_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: GitHubStandIn) -> Iterator[Workspace]:
    """The monitored repository with a bare origin whose pushes reach the stand-in's octo/demo."""
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    bridge = PushBridge(github)
    try:
        workspace = with_origin(monitored_repo(tmp_path / "repo"), tmp_path, bridge.url)
        git(workspace.path, "push", "--quiet", "origin", "--tags")
        yield workspace
    finally:
        bridge.close()


def day_end(day: int) -> str:
    """--as-of for the run after day `day` (the next midnight, UTC)."""
    from datetime import date, timedelta

    return (date.fromisoformat(DAY_ONE) + timedelta(days=day)).isoformat() + "T00:00:00Z"


def monitor(
    workspace: Workspace,
    day: int,
    *args: str,
    env: dict[str, str] | None = None,
    actions: GitHubStandIn | None = None,
) -> Outcome:
    """`mlgate monitor` after day `day` (the log written up to it), locally or as a scheduled Actions step."""
    extra = {"DAY": str(day)} | (env or {})
    return scheduled("monitor", workspace, "--as-of", day_end(day), *args, env=extra, actions=actions)


def history_lines(workspace: Workspace, branch: str = "mlgate/monitoring") -> list[str]:
    ref = workspace.origin_ref(f"refs/heads/{branch}")
    if ref is None:
        return []
    return git(workspace.origin, "show", f"{ref}:history.jsonl").splitlines()


def days(first: int, last: int) -> list[str]:
    """The windows (days) `first`..`last` of a simulated log, as the history names them."""
    return [f"2026-01-{day:02d}" for day in range(first, last + 1)]


def check_fourteen_days(records: list[dict[str, Any]]) -> None:
    """The history after fourteen simulated days with drift from day 8, slow days 5 and 6 and labels two days
    late (the small repository's make_log.py and the example's production_log.py have the same story)."""
    assert [r["window"] for r in records] == days(1, 14)
    assert [r["window"] for r in records if r["drift"]["detected"]] == days(8, 14)
    assert [r["window"] for r in records if any(a["name"] == "latency_p95" for a in r["alerts"])] == days(5, 6)
    assert all(r["quality"] for r in records[:12]) and not any(r["quality"] for r in records[12:])
    assert [r["window"] for r in records if r["quality"] and r["quality"]["alerts"]] == days(8, 12)


def check_alert_comments(bodies: list[str], changes: list[tuple[dict[str, str], list[str]]]) -> None:
    """One comment per run whose alerts changed: each lists the alerts that started (name -> the window it
    started in) and the ones that ended, and nothing else."""
    assert len(bodies) == len(changes), bodies
    for body, (started, ended) in zip(bodies, changes, strict=True):
        lines = body.splitlines()
        starts = [line for line in lines if "**started**" in line]
        ends = [line for line in lines if "**ended**" in line]
        assert len(starts) == len(started) and len(ends) == len(ended), body
        for name, window in started.items():
            assert f"- 🔴 **started** (`{window}`): {name.replace('_', ' ')}" in body, body
        for name in ended:
            assert any(f"{name.replace('_', ' ')} is back within its limit" in line for line in ends), body


def run_python(repo: Path, code: str) -> str:
    return run_in(repo, sys.executable, "-c", code)
