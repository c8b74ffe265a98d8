"""A baseline you can trust: before comparing, compare asks DVC whether the base commit's committed outputs are
what its code, params and data produce (`dvc status` on the base's git tree); a base whose metrics.json was
edited by hand, or whose code changed without `dvc repro`, is reported stale on every rule row when
compare.base is committed (under auto or reproduce it is re-run: test_base_reproduction.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.example_fixtures import git

from mlgate.adapters.dvc_stages import stale_stages
from mlgate.report.render import ReportContext, render
from mlgate.results import read_results_dir

pytestmark = pytest.mark.slow


def test_a_base_whose_metrics_were_edited_by_hand_is_reported_stale(example_repo: Path, invoke) -> None:
    reproduced = git(example_repo, "rev-parse", "HEAD")
    metrics = json.loads((example_repo / "metrics.json").read_text())
    metrics["accuracy"] = 0.999  # better than any training here gives
    (example_repo / "metrics.json").write_text(json.dumps(metrics, indent=2))
    git(example_repo, "commit", "--quiet", "-am", "Claim a better accuracy")
    edited = git(example_repo, "rev-parse", "HEAD")
    (example_repo / "src/train.py").write_text((example_repo / "src/train.py").read_text() + "\n# tuned\n")
    git(example_repo, "commit", "--quiet", "-am", "Change the training code without dvc repro")
    unreproduced = git(example_repo, "rev-parse", "HEAD")

    assert stale_stages(example_repo, reproduced) == []  # straight from dvc repro
    [evaluate] = stale_stages(example_repo, edited)
    assert (evaluate.stage, evaluate.changed) == ("evaluate", ("metrics.json modified",))
    assert [(s.stage, s.changed) for s in stale_stages(example_repo, unreproduced)] == [
        ("train", ("src/train.py modified",)),
        ("evaluate", ("metrics.json modified",)),
    ]

    git(example_repo, "checkout", "--quiet", "-b", "pr", reproduced)
    # as actions/compare-metrics passes its base-mode input
    run = invoke("compare", "--base", edited, cwd=example_repo, env={"MLGATE_COMPARE_BASE_MODE": "committed"})
    assert run.code == 0, run.out + run.err  # a warning: the gate did not compare with a trustworthy baseline
    written = json.loads((example_repo / ".mlgate/results/compare.json").read_text())
    assert written["verdict"] == "warn"
    assert written["summary"].startswith("base is stale: evaluate changed (metrics.json modified); ")
    assert written["evidence"]["base_stale"] == [{"stage": "evaluate", "changed": ["metrics.json modified"]}]
    rules = written["evidence"]["rules"]
    assert rules and all(rule["reason"].startswith("base is stale: evaluate changed; ") for rule in rules)
    assert "base is stale: evaluate changed" in run.out

    [result] = [r for r in read_results_dir(example_repo / ".mlgate/results") if r.step == "compare"]
    text = render([result], ReportContext(), limit=65_536).text
    assert "base is stale: evaluate changed (metrics.json modified)" in text
