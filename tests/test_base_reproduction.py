"""compare.base: the base commit's side re-run in CI (`dvc repro` in a git worktree of the base, DVC's run-cache
first) when what it committed is stale or cannot be had, so that both sides are measured by the same CI.

Real git + DVC repositories: the reproduced example (bench/example_fixtures.py) and clean clones of it without
a DVC cache or remote (bench/clean_checkout_fixtures.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from bench.example_fixtures import git

pytestmark = pytest.mark.slow

REPRODUCED_REF = "refs/mlgate/reproduced/"


@pytest.fixture
def project_python(user_python: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's own Python first on PATH, mlgate's venv off it: what the base's stages run with, as the
    head's training does (mlgate takes its own venv out of the environment it gives them)."""
    venv_bin = (Path(sys.prefix) / "bin").resolve()
    path = [p for p in os.environ["PATH"].split(os.pathsep) if Path(p).resolve() != venv_bin]
    monkeypatch.setenv("PATH", os.pathsep.join([str(user_python), *path]))
    return user_python


def set_base_mode(repo: Path, mode: str) -> None:
    """compare.base in the workspace's mlgate.yml (the head's policy decides)."""
    path = repo / "mlgate.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["compare"] = {"base": mode}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def compare_json(repo: Path) -> dict:
    return json.loads((repo / ".mlgate/results/compare.json").read_text(encoding="utf-8"))


def hand_edited_base(repo: Path) -> tuple[str, float]:
    """A commit on main whose metrics.json claims a better accuracy than its code gives; that real accuracy."""
    metrics = json.loads((repo / "metrics.json").read_text())
    real = metrics["accuracy"]
    metrics["accuracy"] = 0.999
    (repo / "metrics.json").write_text(json.dumps(metrics, indent=2))
    git(repo, "commit", "--quiet", "-am", "Claim a better accuracy")
    return git(repo, "rev-parse", "HEAD"), real


def test_a_stale_base_is_re_measured_when_compare_base_is_reproduce(
    example_repo: Path, project_python: Path, invoke
) -> None:
    reproduced = git(example_repo, "rev-parse", "HEAD")
    edited, real = hand_edited_base(example_repo)
    git(example_repo, "checkout", "--quiet", "-b", "pr", reproduced)  # the PR: the true pipeline, unchanged
    set_base_mode(example_repo, "reproduce")

    run = invoke("compare", "--base", edited, cwd=example_repo)
    assert run.code == 0, run.out + run.err
    written = compare_json(example_repo)
    assert written["verdict"] == "pass", written["summary"]
    said = "base reproduced in CI: compare.base is reproduce; "
    assert written["summary"].startswith(said), written["summary"]
    assert f"\ncompare: pass: {said}" in run.out  # after what dvc repro printed
    base = written["evidence"]["base"]
    assert base["how"] == "reproduced" and base["mode"] == "reproduce" and base["commit"] == edited
    assert set(base["stages"]) == {"train", "evaluate"}
    assert git(example_repo, "rev-parse", REPRODUCED_REF + edited) == base["reproduction"]
    # the hand-edited 0.999 is not the baseline: the base was measured again, and equals the head
    [accuracy] = [rule for rule in written["evidence"]["rules"] if rule["metric"] == "accuracy"]
    assert accuracy["base"] == pytest.approx(real), accuracy
    assert written["evidence"]["base_stale"] == [{"stage": "evaluate", "changed": ["metrics.json modified"]}]
    assert not any(rule["reason"].startswith("base is stale") for rule in written["evidence"]["rules"])
