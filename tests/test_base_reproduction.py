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
from bench.clean_checkout_fixtures import clean_checkout
from bench.example_fixtures import dvc, git

from mlgate import steps
from mlgate.report.render import ReportContext, render
from mlgate.results import StepResult, read_results_dir

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


def result_of(repo: Path, step: str) -> StepResult:
    [result] = [r for r in read_results_dir(repo / ".mlgate/results") if r.step == step]
    return result


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
    hook = example_repo / ".git/hooks/post-checkout"  # as `dvc install` leaves one, but failing: not to be run
    hook.write_text(f"#!/bin/sh\ntouch {example_repo / 'hook-ran'}\nexit 1\n")
    hook.chmod(0o755)

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
    assert not (example_repo / "hook-ran").exists()  # the worktree was made without the repository's hooks


def harmless_pr(clone: Path) -> str:
    """A pull request in `clone` that tunes train.C a little (a new model, as good as main's); main's sha."""
    main = git(clone, "rev-parse", "HEAD")
    git(clone, "checkout", "--quiet", "-b", "tune")
    params = yaml.safe_load((clone / "params.yaml").read_text())
    params["train"]["C"] = 0.95
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(clone, "commit", "--quiet", "-am", "Tune C")
    return main


def test_a_clean_clone_without_cache_or_remote_reproduces_the_base_under_auto(
    example_template: Path, tmp_path: Path, project_python: Path, invoke
) -> None:
    """The base's model is in neither a cache nor a remote: auto reproduces the base (the head's training filled
    DVC's run-cache, so the unchanged prepare is restored, not re-run), the serving check measures the
    reproduced base model, and the harmless change passes; `committed` keeps failing closed on that model."""
    clone = clean_checkout(example_template, tmp_path / "clone")  # a repository that never had a DVC remote
    main = harmless_pr(clone)
    trained = invoke("train", cwd=clone)
    assert trained.code == 0, trained.out + trained.err
    set_base_mode(clone, "committed")
    committed = steps.serving.run(steps.serving.Inputs(base=main), steps.Project.load(clone / "mlgate.yml", env={}))
    assert committed.verdict == "error", committed.summary  # fails closed, as before compare.base existed
    assert committed.summary.startswith("model.pkl: the base commit's model is unreadable: is DVC-tracked")
    assert "dvc remote add -d" in committed.summary

    set_base_mode(clone, "auto")
    project = steps.Project.load(clone / "mlgate.yml", env={})
    serving = steps.serving.run(steps.serving.Inputs(base=main), project)
    assert serving.verdict in ("pass", "warn"), serving.summary
    reason = "its model.pkl is DVC-tracked (output 'model.pkl' of dvc.lock stage 'train') and is not in the DVC cache"
    assert serving.summary.startswith(f"base reproduced in CI: {reason}"), serving.summary
    assert serving.evidence["base"]["how"] == "reproduced"
    assert serving.evidence["requests"] == {"base": 200, "head": 200}  # the reproduced base model was probed
    reproduction = serving.evidence["base"]["reproduction"]
    assert git(clone, "rev-parse", REPRODUCED_REF + main) == reproduction
    log = (clone / ".mlgate/results/base-reproduction.log").read_text()
    assert "Stage 'prepare' is cached - skipping run" in log  # DVC's run-cache first: the head's prepare
    assert "Running stage 'train'" in log  # main's C: no run of it in this job's cache

    run = invoke("compare", "--base", main, cwd=clone)
    assert run.code == 0, run.out + run.err
    written = compare_json(clone)
    assert written["verdict"] == "pass" and written["summary"].startswith(f"base reproduced in CI: {reason}")
    assert written["evidence"]["base"] == serving.evidence["base"] | {"reused": True}  # the same base, found again
    assert f"compare: pass: base reproduced in CI: {reason}" in run.out
    report = render([serving, result_of(clone, "compare")], ReportContext(), limit=65_536).text
    note = f"*Base reproduced in CI: {reason}, and no DVC remote is configured (`dvc repro "
    assert report.count(note) == 2, report  # under the metrics and in the serving section


def test_a_base_that_fails_to_reproduce_is_exit_2_naming_the_stage(
    example_repo: Path, project_python: Path, invoke
) -> None:
    reproduced = git(example_repo, "rev-parse", "HEAD")
    train = example_repo / "src/train.py"
    train.write_text(train.read_text() + "\nraise SystemExit('the base cannot train')\n")
    git(example_repo, "commit", "--quiet", "-am", "Break training without dvc repro")  # stale: auto reproduces
    broken = git(example_repo, "rev-parse", "HEAD")
    git(example_repo, "checkout", "--quiet", "-b", "pr", reproduced)

    run = invoke("compare", "--base", broken, cwd=example_repo)
    assert run.code == 2, run.out + run.err
    [message] = run.err.strip().splitlines()[-1:]
    assert message.startswith(
        f"mlgate: error: the base commit {broken[:12]} could not be reproduced (base is stale: train changed "
        "(src/train.py modified)): `dvc repro evaluate train` failed (exit "
    ), message
    assert "failed to reproduce 'train'" in message
    written = compare_json(example_repo)
    assert written["verdict"] == "error" and written["summary"] == message.removeprefix("mlgate: error: ")
    text = render([result_of(example_repo, "compare")], ReportContext(), limit=65_536).text
    assert "`compare` errored" in text and "could not be reproduced" in text
    assert git(example_repo, "for-each-ref", REPRODUCED_REF) == ""  # nothing recorded for a failed reproduction


def test_reproduce_needs_a_stage_to_re_run_and_says_so(metrics_repo, invoke) -> None:
    """compare.base: reproduce where nothing can be re-run is exit 2 in one sentence: a repository without a DVC
    pipeline (at its mlgate.yml key), and a DVC project whose metrics are a `dvc add`ed file, no stage's output."""
    metrics_repo.write("mlgate.yml", "metrics: {files: [scores.json]}\ncompare: {base: reproduce}\n")
    metrics_repo.write_json("scores.json", {"accuracy": 0.9})
    base = metrics_repo.commit("metrics, no DVC")
    run = invoke("compare", "--base", base, cwd=metrics_repo.path)
    assert run.code == 2, run.out + run.err
    assert run.err.strip() == (
        "mlgate: error: mlgate.yml:2: compare.base: reproduce needs a DVC pipeline (dvc.yaml) to re-run at the base"
    ), run.err
    assert compare_json(metrics_repo.path)["verdict"] == "error"

    dvc(metrics_repo.path, "init", "--quiet")
    git(metrics_repo.path, "rm", "--quiet", "--cached", "scores.json")
    dvc(metrics_repo.path, "add", "--quiet", "scores.json")
    metrics_repo.write("dvc.yaml", "metrics:\n  - scores.json\n")
    base = metrics_repo.commit("metrics a `dvc add`ed file")
    run = invoke("compare", "--base", base, cwd=metrics_repo.path)
    assert run.code == 2, run.out + run.err
    assert run.err.strip() == (
        f"mlgate: error: the base commit {base[:12]} cannot be reproduced: no dvc.yaml stage there produces "
        "scores.json; commit them, or push them to a DVC remote"
    ), run.err
    assert git(metrics_repo.path, "worktree", "list").count("\n") == 0  # the temporary worktree is gone


def test_the_base_worktree_reaches_the_workspaces_cache_and_remotes_with_their_options(tmp_path: Path) -> None:
    """The worktree's DVC is given the project's cache dir and every remote as the workspace configures it (its
    options too, e.g. a region), with the default; `dvc repro` there then pulls (returned True)."""
    from dvc.config import Config

    from mlgate.adapters.base_reproduction import _share_cache_and_remotes

    project, worktree = tmp_path / "project", tmp_path / "worktree"
    for root in (project, worktree):
        root.mkdir()
        git(root, "init", "--quiet")
        dvc(root, "init", "--quiet")
    dvc(project, "remote", "add", "--default", "storage", str(tmp_path / "storage"))
    dvc(project, "remote", "modify", "storage", "jobs", "3")
    assert _share_cache_and_remotes(project, worktree) is True
    local = Config(dvc_dir=str(worktree / ".dvc"), validate=False).load_one("local")
    storage = local["remote"]["storage"]
    assert storage["url"] == str(tmp_path / "storage") and storage["jobs"] == "3"
    assert local["core"]["remote"] == "storage"
    assert Path(local["cache"]["dir"]) == project / ".dvc" / "cache"
