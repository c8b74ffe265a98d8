"""`mlgate compare` on real DVC projects in each layout users have (tests/bench.layout_fixtures.py: a
folder output holding the metrics, DVCLive's output, top-level metrics, a DVC 1.x schema-1 dvc.lock), each
built once with real `dvc repro` / `dvc push` to a local-directory remote and copied for every test.

In every layout: the head's roc_auc.test regression fails the gate (exit 1) with exactly the numbers
`dvc metrics diff --json` prints for the same revisions, and with a paired significance test from the
predictions file; the workspace and a clean clone read what they lack from the cache or the remote; a clean
clone with neither is exit 2 naming the file, the revision and the fix, and the report shows compare as
`error`; a base without the metrics is "no baseline", said in the verdict line; nothing is an internal error.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench.example_fixtures import dvc, git
from bench.layout_fixtures import Layout, dvc_json, evidence_as_dvc_json
from bench.metrics_repo_fixtures import read_json

pytestmark = pytest.mark.slow  # the layouts are built with real `dvc repro` once per module


# What the base commit holds, failing closed without it (compare.base's default, auto, would reproduce the base
# by re-running its stage: test_base_reproduction.py).
COMMITTED = ("--base-mode", "committed")


def compare(invoke, layout: Layout, *args: str, cwd: Path | None = None) -> tuple[Any, dict[str, Any]]:
    run = invoke("compare", *args, cwd=cwd or layout.repo)
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err
    return run, read_json((cwd or layout.repo) / ".mlgate/results/compare.json")


def rule(result: dict[str, Any], metric: str) -> dict[str, Any]:
    return next(r for r in result["evidence"]["rules"] if r["metric"] == metric)


def restated(repo: Path, base: str) -> str:
    """A side commit on `base` whose dvc.lock says the same in schema 2 (made once per repository)."""
    if "restated" not in git(repo, "branch", "--list", "restated"):
        git(repo, "checkout", "--quiet", "-b", "restated", base)
        lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
        text = yaml.safe_dump({"schema": "2.0", "stages": lock}, sort_keys=False)
        (repo / "dvc.lock").write_text(text, encoding="utf-8")
        git(repo, "commit", "--quiet", "--all", "--message", "dvc.lock restated in schema 2")
        git(repo, "checkout", "--quiet", "pr")
    return git(repo, "rev-parse", "restated")


def dvc_reference(layout: Layout, kind: str, base: str, head: str) -> dict[str, Any]:
    """`dvc <kind> diff --json` of base and head. Today's DVC refuses a schema-1 dvc.lock outright (it prints
    no metrics for that revision), so for that layout the base's lock is restated in schema 2 — the same
    hashes, no `hash:` field, which DVC reads as 1.x/2.x objects — on a side commit, and DVC diffs that."""
    if layout.name == "schema1":
        base = restated(layout.repo, base)
    extra = ["--all"] if kind == "metrics" else []
    return dvc_json(layout.repo, kind, "diff", "--json", *extra, base, head)


def assert_regression_caught(run: Any, result: dict[str, Any]) -> None:
    assert run.code == 1, run.out + run.err
    assert result["verdict"] == "fail"
    test = rule(result, "roc_auc.test")
    assert (test["outcome"], test["status"]) == ("fail", "regressed")
    significance = test["significance"]
    assert significance["paired"] is True and significance["test"] == "paired bootstrap"
    assert significance["p_value"] < 0.05 and significance["ci_high"] < 0
    assert result["evidence"]["significance"]["paired"] is True
    train = rule(result, "roc_auc.train")
    assert train["significance"] is None
    assert train["untested"] == "it is of split 'train' and the predictions are of 'test' (metrics.predictions_split)"
    line = run.out.splitlines()[0]
    assert line.startswith("compare: fail: roc_auc.test ") and "significant: paired bootstrap" in line


def test_a_regression_fails_the_gate_with_the_numbers_of_dvc_metrics_diff(layout: Layout, invoke):
    run, result = compare(invoke, layout, "--base", layout.base, "--head", layout.head)
    assert_regression_caught(run, result)
    assert result["commits"] == {"base": layout.base, "head": layout.head}
    evidence = result["evidence"]
    ours = evidence_as_dvc_json(evidence["metrics"])
    assert ours == dvc_reference(layout, "metrics", layout.base, layout.head)
    test = ours[layout.metrics_file]["roc_auc.test"]
    assert test["diff"] < -0.05  # a real regression, not rounding
    shown = f"roc_auc.test {test['old']:.5g} → {test['new']:.5g}"
    assert shown in run.out.splitlines()[0]  # at least 5 significant digits, as DVC shows them
    assert evidence_as_dvc_json(evidence["params"]) == dvc_reference(layout, "params", layout.base, layout.head)
    groups = {d["path"]: (d["status"], d["group"]) for d in evidence["data_versions"]}
    assert groups["evaluate.py"] == ("unchanged", "code")
    assert groups[layout.output] == ("modified", "metrics & plots")
    # the default history: the base branch's one commit that produced the metrics, read from the cache
    trend = [(point["sha"], point["values"]) for point in evidence["history"]]
    assert trend == [
        (layout.base, {"roc_auc.test": test["old"], "roc_auc.train": ours[layout.metrics_file]["roc_auc.train"]["old"]})
    ]


def test_the_workspace_reads_outputs_missing_on_disk_from_the_cache(layout: Layout, invoke):
    """A checkout of the head commit without its DVC outputs checked out (`dvc checkout` not run), the
    metrics file named in mlgate.yml's metrics.files rather than found through dvc.yaml."""
    config = layout.repo / "mlgate.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("metrics:\n", f"metrics:\n  files: [{layout.metrics_file}]\n", 1), encoding="utf-8")
    for out in {layout.output, "eval", "dvclive", "metrics.json", "predictions.csv"}:
        path = layout.repo / out
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    run, result = compare(invoke, layout, "--base", layout.base)
    assert_regression_caught(run, result)
    assert result["evidence"]["head_is_workspace"] is True


def clean_clone(layout: Layout, *, remote: bool) -> Path:
    """`git clone` of the project beside it (no DVC cache); its committed remote config reaches ../remote."""
    clone = layout.repo.parent / "clone"
    git(layout.repo.parent, "clone", "--quiet", "--no-local", str(layout.repo), str(clone))
    git(clone, "checkout", "--quiet", layout.head)
    if not remote:
        dvc(clone, "remote", "remove", "store")
    assert not (clone / ".dvc/cache").exists()
    return clone


def plotted(evidence: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What the plots show of each side (DVCLive's layout renders them), and any error DVC gave."""
    plots = evidence.get("plots") or {"items": [], "errors": []}
    items = [(i["id"], i.get("sides"), i.get("confusion"), i.get("errors")) for i in plots["items"]]
    return [*items, *plots["errors"]]


def test_a_clean_clone_reads_both_sides_from_the_remote(layout: Layout, invoke):
    """Metrics, params, history and plots: what the repository that produced them shows."""
    expected = compare(invoke, layout, "--base", layout.base, "--head", layout.head)[1]["evidence"]
    clone = clean_clone(layout, remote=True)
    run, result = compare(invoke, layout, "--base", layout.base, "--head", layout.head, cwd=clone)
    assert_regression_caught(run, result)
    evidence = result["evidence"]
    assert evidence["base"] == {"mode": "auto", "how": "committed", "commit": layout.base}  # the remote holds it
    assert evidence_as_dvc_json(evidence["metrics"]) == evidence_as_dvc_json(expected["metrics"])
    assert evidence["params"] == expected["params"] and evidence["history"] == expected["history"]
    assert plotted(evidence) == plotted(expected)
    if layout.name == "dvclive":
        assert len(plotted(evidence)) == 3 and not any(item[-1] for item in plotted(evidence))


def test_objects_missing_from_the_remote_are_exit_2_asking_for_dvc_push(layout: Layout, invoke):
    """The base's objects never reached the remote (pushed from nowhere): DVC (dvc-data) fails to load the
    output, and that is one sentence naming file, revision and fix, not an internal error nor "no baseline"."""
    clone = clean_clone(layout, remote=True)
    for relative in layout.base_objects:
        (layout.remote / relative).unlink()
    run, result = compare(invoke, layout, *COMMITTED, "--base", layout.base, "--head", layout.head, cwd=clone)
    assert run.code == 2, run.out + run.err
    recorded = f"output '{layout.output}' of dvc.lock stage '{layout.stage}'"
    prefix = (
        f"mlgate: error: {layout.metrics_file}: is DVC-tracked ({recorded}) and is in neither the DVC cache nor "
        "remote 'store': `dvc push` it from where it was produced ("
    )
    assert run.err.startswith(prefix) and run.err.rstrip().endswith(f"(at base commit {layout.base[:12]})"), run.err
    assert len(run.err.strip().splitlines()) == 1
    assert result["verdict"] == "error"


def report_of(invoke, clone: Path) -> str:
    run = invoke("report", "--driver", "local", "--pr", "1", "--no-check", "--fail-on", "never", cwd=clone)
    assert run.code == 0, run.out + run.err
    return (clone / ".mlgate/report.md").read_text(encoding="utf-8")


def test_a_clean_clone_without_cache_or_remote_is_exit_2_naming_file_revision_and_fix(layout: Layout, invoke):
    clone = clean_clone(layout, remote=False)
    stage = f"dvc.lock stage '{layout.stage}'"
    missing = (
        f"is DVC-tracked (output '{layout.output}' of {stage}) and is not in the DVC cache, and no DVC remote is "
        "configured: configure the remote that holds it (`dvc remote add -d NAME URL`), or `dvc pull` it into "
        "this cache"
    )
    run, result = compare(invoke, layout, "--base", layout.base, "--head", layout.head, cwd=clone)
    assert run.code == 2, run.out + run.err
    sentence = f"{layout.metrics_file}: {missing} (at head commit {layout.head[:12]})"
    assert run.err.strip() == f"mlgate: error: {sentence}"
    assert result["verdict"] == "error" and result["summary"] == sentence
    report = report_of(invoke, clone)
    assert "mlgate: **error** · `compare` errored" in report

    # the head's outputs on disk, as `dvc repro` left them: now only the base is unreadable
    shutil.copytree(layout.repo, clone, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", ".dvc", ".mlgate"))
    run, result = compare(invoke, layout, *COMMITTED, "--base", layout.base, cwd=clone)
    assert run.code == 2, run.out + run.err
    assert run.err.strip() == f"mlgate: error: {layout.metrics_file}: {missing} (at base commit {layout.base[:12]})"
    assert result["verdict"] == "error"


def test_a_base_without_the_metrics_is_no_baseline_in_the_verdict_line(layout: Layout, invoke):
    run, result = compare(invoke, layout, "--base", layout.skeleton, "--head", layout.head)
    assert run.code == 0, run.out + run.err
    assert result["evidence"]["baseline"] is False
    verdict_line = run.out.splitlines()[0]
    assert verdict_line.startswith(
        f"compare: pass: no baseline (the base commit {layout.skeleton[:12]} has no metrics files)"
    ), verdict_line
    assert rule(result, "roc_auc.test")["status"] == "no baseline"
