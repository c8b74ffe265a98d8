"""`mlgate compare` reports exactly the numbers `dvc metrics diff --json` and `dvc params diff --json` print,
on real DVC repositories: committed metrics nested three levels, YAML metrics, params by key, by file and
with lists; metrics DVC caches instead of committing; templated dvc.yaml files; data versions from dvc.lock."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench.example_fixtures import dvc, git, hermetic_env
from bench.layout_fixtures import dvc_json, evidence_as_dvc_json
from bench.metrics_repo_fixtures import read_json

pytestmark = pytest.mark.slow  # every test runs DVC itself a few times

STAGE_SCRIPT = """\
import json, sys
import yaml
params = yaml.safe_load(open("params.yaml"))
quality = params["train"]["quality"]
json.dump({"test": {"scores": {"accuracy": quality, "auc": quality + 0.05}}, "n": 100}, open("cached.json", "w"))
json.dump({"loss": round(1 - quality, 6)}, open("plain.json", "w"))
"""


@pytest.fixture
def dvc_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, value in hermetic_env(repo).items():
        monkeypatch.setenv(name, value)
    git(repo, "init", "--quiet", "-b", "main")
    dvc(repo, "init", "--quiet")
    return repo


def write(repo: Path, relative: str, content: Any) -> None:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    path.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def compare(invoke, repo: Path, *args: str) -> dict[str, Any]:
    """compare of what the commits hold: these dvc.lock files are written by hand, their stages never ran (under
    compare.base's default, auto, a stale base would be reproduced)."""
    run = invoke("compare", "--base-mode", "committed", *args, cwd=repo)
    assert run.code == 0, run.out + run.err
    return read_json(repo / ".mlgate/results/compare.json")


def test_committed_metrics_and_params_equal_dvc_diff(dvc_repo: Path, invoke):
    write(
        dvc_repo,
        "dvc.yaml",
        yaml.safe_dump(
            {
                "stages": {
                    "evaluate": {
                        "cmd": "true",
                        "params": ["train", {"model.yaml": ["net.layers", "net.act"]}],
                        "metrics": [{"metrics.json": {"cache": False}}, {"eval/scores.yaml": {"cache": False}}],
                    }
                },
                "params": ["extra.json"],
            }
        ),
    )
    write(dvc_repo, "params.yaml", "train:\n  lr: 0.1\n  layers: [64, 32]\n  early: yes\n  eps: 1e-3\nseed: 1\n")
    write(dvc_repo, "model.yaml", "net:\n  layers: 3\n  act: relu\n  unused: 1\n")
    write(dvc_repo, "extra.json", {"batch": 32, "aug": {"flip": True}})
    write(dvc_repo, "metrics.json", {"eval": {"test": {"accuracy": 0.9, "f1": 0.8}}, "tags": ["a"], "note": "x"})
    write(dvc_repo, "eval/scores.yaml", "loss: 0.5\nsteps: 10\ngone: 1\n")
    base = commit(dvc_repo, "base")

    write(dvc_repo, "params.yaml", "train:\n  lr: 0.05\n  layers: [64, 64]\n  early: no\n  eps: 2e-3\nseed: 1\n")
    write(dvc_repo, "model.yaml", "net:\n  layers: 4\n  act: relu\n  unused: 2\n")
    write(dvc_repo, "extra.json", {"batch": 64, "aug": {"flip": False, "crop": 0.1}})
    write(dvc_repo, "metrics.json", {"eval": {"test": {"accuracy": 0.91, "f1": 0.8, "auc": 0.95}}, "note": "y"})
    write(dvc_repo, "eval/scores.yaml", "loss: 0.4\nsteps: 12\n")

    result = compare(invoke, dvc_repo)
    evidence = result["evidence"]
    assert evidence_as_dvc_json(evidence["metrics"]) == dvc_json(dvc_repo, "metrics", "diff", "--json", "--all", base)
    assert evidence_as_dvc_json(evidence["params"]) == dvc_json(dvc_repo, "params", "diff", "--json", base)
    keys = {(m["file"], m["key"]) for m in evidence["metrics"]}
    assert ("metrics.json", "eval.test.accuracy") in keys  # nested three levels, flattened as DVC does

    head = commit(dvc_repo, "head")
    result = compare(invoke, dvc_repo, "--base", base, "--head", head)
    assert result["commits"] == {"base": base, "head": head}
    committed = dvc_json(dvc_repo, "metrics", "diff", "--json", "--all", base, head)
    assert evidence_as_dvc_json(result["evidence"]["metrics"]) == committed
    assert evidence_as_dvc_json(result["evidence"]["params"]) == dvc_json(
        dvc_repo, "params", "diff", "--json", base, head
    )


def test_cached_metrics_are_read_through_dvc_and_data_versions_follow_dvc_lock(dvc_repo: Path, invoke):
    write(dvc_repo, "make_metrics.py", STAGE_SCRIPT)
    write(
        dvc_repo,
        "dvc.yaml",
        yaml.safe_dump(
            {
                "stages": {
                    "train": {
                        "cmd": "python make_metrics.py",
                        "deps": ["make_metrics.py"],
                        "params": ["train.quality"],
                        "metrics": ["cached.json", {"plain.json": {"cache": False}}],
                    }
                }
            }
        ),
    )
    write(dvc_repo, "params.yaml", "train:\n  quality: 0.8\n")
    dvc(dvc_repo, "repro", "--quiet")
    base = commit(dvc_repo, "base")
    assert "cached.json" not in git(dvc_repo, "ls-files")  # DVC caches it; git only has dvc.lock's hash
    old_lock = yaml.safe_load((dvc_repo / "dvc.lock").read_text())
    write(dvc_repo, "params.yaml", "train:\n  quality: 0.85\n")
    dvc(dvc_repo, "repro", "--quiet")
    new_lock = yaml.safe_load((dvc_repo / "dvc.lock").read_text())

    evidence = compare(invoke, dvc_repo)["evidence"]
    assert evidence_as_dvc_json(evidence["metrics"]) == dvc_json(dvc_repo, "metrics", "diff", "--json", "--all", base)
    assert evidence_as_dvc_json(evidence["params"]) == dvc_json(dvc_repo, "params", "diff", "--json", base)
    cached = {m["key"]: m for m in evidence["metrics"] if m["file"] == "cached.json"}
    assert cached["test.scores.accuracy"]["old"] == 0.8 and cached["test.scores.accuracy"]["new"] == 0.85

    def out_hash(lock: dict, path: str) -> str:
        return next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == path)

    versions = {d["path"]: d for d in evidence["data_versions"]}
    assert versions["cached.json"] == {
        "path": "cached.json",
        "old": out_hash(old_lock, "cached.json"),
        "new": out_hash(new_lock, "cached.json"),
        "status": "modified",
        "group": "metrics & plots",
    }
    assert (versions["make_metrics.py"]["status"], versions["make_metrics.py"]["group"]) == ("unchanged", "code")


def test_templated_dvc_yaml_falls_back_to_dvc(dvc_repo: Path, invoke):
    write(
        dvc_repo,
        "dvc.yaml",
        "vars:\n  - report: results/report.json\nstages:\n  eval:\n    cmd: 'true'\n"
        "    metrics:\n      - ${report}:\n          cache: false\n",
    )
    write(dvc_repo, "results/report.json", {"a": {"b": {"c": 1.5}}, "d": 2})
    base = commit(dvc_repo, "base")
    write(dvc_repo, "results/report.json", {"a": {"b": {"c": 1.25}}, "d": 2})
    evidence = compare(invoke, dvc_repo)["evidence"]
    shaped = evidence_as_dvc_json(evidence["metrics"])
    assert shaped == dvc_json(dvc_repo, "metrics", "diff", "--json", "--all", base)
    assert shaped["results/report.json"]["a.b.c"] == {"old": 1.5, "new": 1.25, "diff": -0.25}


def test_nan_metrics_diff_like_dvc(dvc_repo: Path, invoke):
    write(dvc_repo, "dvc.yaml", "metrics:\n  - m.json\n")
    write(dvc_repo, "m.json", '{"a": NaN, "b": 1}')
    base = commit(dvc_repo, "base")
    write(dvc_repo, "m.json", '{"a": 1.0, "b": NaN}')
    evidence = compare(invoke, dvc_repo)["evidence"]
    ours = evidence_as_dvc_json(evidence["metrics"])
    theirs = dvc_json(dvc_repo, "metrics", "diff", "--json", "--all", base)
    # DVC prints NaN (not JSON); compare.json holds strict JSON, so NaN is null there.
    assert theirs["m.json"]["a"]["old"] != theirs["m.json"]["a"]["old"]  # NaN
    assert ours["m.json"]["a"] == {"old": None, "new": 1.0, "diff": None}
    assert ours["m.json"]["b"]["old"] == theirs["m.json"]["b"]["old"] == 1
    assert math.isnan(theirs["m.json"]["b"]["diff"]) and ours["m.json"]["b"]["diff"] is None


def test_a_base_whose_templated_dvc_yaml_does_not_resolve_is_exit_2_not_no_baseline(dvc_repo: Path, invoke):
    """What a revision declares is unknown when DVC cannot resolve its dvc.yaml: nothing there can be judged."""
    write(dvc_repo, "dvc.yaml", "metrics:\n  - ${results}/report.json\n")  # `results` is in no vars file
    write(dvc_repo, "out/report.json", {"auc": 0.9})
    base = commit(dvc_repo, "base: a dvc.yaml DVC cannot resolve")
    write(dvc_repo, "params.yaml", "results: out\n")  # DVC's default vars file
    head = commit(dvc_repo, "head: the variable defined")
    run = invoke("compare", "--base", base, "--head", head, cwd=dvc_repo)
    assert run.code == 2, run.out + run.err
    message = run.err.strip()
    assert message.startswith("mlgate: error: dvc.yaml: cannot be resolved by DVC (ResolveError: "), message
    assert "results" in message and message.endswith(
        f"(at base commit {base[:12]}); fix it there or compare with another commit (--base)"
    )
    assert read_json(dvc_repo / ".mlgate/results/compare.json")["verdict"] == "error"
    evidence = compare(invoke, dvc_repo, "--base", head, "--head", head)["evidence"]  # resolved from params.yaml
    resolved = {"out/report.json": {"auc": {"old": 0.9, "new": 0.9, "diff": 0.0}}}
    assert evidence_as_dvc_json(evidence["metrics"]) == resolved


def test_a_base_whose_dvc_lock_does_not_parse_is_exit_2_naming_it_and_the_commit(dvc_repo: Path, invoke):
    write(dvc_repo, "dvc.yaml", "metrics:\n  - m.json\n")
    write(dvc_repo, "m.json", {"auc": 0.9})
    write(dvc_repo, "dvc.lock", "schema: '2.0'\nstages: [unclosed\n")
    base = commit(dvc_repo, "base: a dvc.lock cut short")
    (dvc_repo / "dvc.lock").unlink()
    write(dvc_repo, "m.json", {"auc": 0.8})
    head = commit(dvc_repo, "head")
    run = invoke("compare", "--base", base, "--head", head, cwd=dvc_repo)
    assert run.code == 2, run.out + run.err
    message = run.err.strip()
    assert message.startswith("mlgate: error: dvc.lock:") and "is not valid YAML" in message, message
    assert message.endswith(f"(at base commit {base[:12]}); fix it there or compare with another commit (--base)")
    assert read_json(dvc_repo / ".mlgate/results/compare.json")["verdict"] == "error"
