"""`mlgate compare` on real git repositories: verdicts of improved, regressed, noise-only and first PRs, base
resolution (flag, event payload, merge-base, shallow clones), broken metrics, history and outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bench.example_fixtures import git
from bench.metrics_repo_fixtures import MetricsRepo, read_json, simulate

N_ROWS = 2000
ACCURACY_ONLY = """\
metrics:
  files: [metrics.json]
  predictions: eval/predictions.csv
  gate:
    accuracy: {direction: higher, max_drop: 0.01}
"""
NO_PREDICTIONS = """\
metrics:
  files: [metrics.json]
  gate:
    accuracy: {direction: higher, max_drop: 0.01}
    roc_auc: {direction: higher, max_drop: 0.01}
"""


def rule(result: dict, metric: str) -> dict:
    return next(r for r in result["evidence"]["rules"] if r["metric"] == metric)


def base_and_pr(repo: MetricsRepo, head_accuracy: float, *, keep: float = 0.6, seed: int = 1) -> tuple[str, dict]:
    """main holds a model of accuracy 0.85; branch pr (checked out, uncommitted) one of `head_accuracy`."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N_ROWS)
    base_pred, base_score = simulate(rng, y, 0.85)
    repo.record(y, base_pred, base_score)
    base = repo.commit("base model")
    repo.branch("pr")
    head_metrics = repo.record(y, *simulate(rng, y, head_accuracy, like=base_pred, keep=keep))
    return base, head_metrics


def test_improved_pr_passes(metrics_repo: MetricsRepo, invoke, tmp_path: Path):
    base, _ = base_and_pr(metrics_repo, 0.92)
    output = tmp_path / "output.txt"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)}
    run = invoke("compare", cwd=metrics_repo.path, env=env)
    assert run.code == 0, run.out + run.err
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["verdict"] == "pass"
    assert result["commits"]["base"] == base
    assert result["evidence"]["base_source"] == "merge-base with main"
    accuracy = rule(result, "accuracy")
    assert accuracy["status"] == "improved"
    assert accuracy["significance"]["test"] == "McNemar exact"
    assert accuracy["significance"]["paired"] is True
    assert accuracy["significance"]["ci_low"] > 0
    assert output.read_text() == "gate=pass\nresults=.mlgate/results/compare.json\n"


def test_regressed_pr_fails_with_significance(metrics_repo: MetricsRepo, invoke):
    _, head = base_and_pr(metrics_repo, 0.80)
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 1
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["verdict"] == "fail"
    accuracy = rule(result, "accuracy")
    assert accuracy["status"] == "regressed"
    assert accuracy["outcome"] == "fail"
    assert accuracy["head"] == head["accuracy"]
    assert accuracy["significance"]["p_value"] < 0.05
    assert accuracy["significance"]["ci_high"] < 0
    assert "accuracy" in result["summary"] and "significant" in result["summary"]
    assert "fail" in run.out


def test_noise_only_pr_is_within_noise(metrics_repo: MetricsRepo, invoke):
    """A retrained model that flips 12 of 300 rows (8 right→wrong, 4 wrong→right) drops accuracy by 0.013,
    past the 0.01 tolerance, but McNemar's exact p for 8 vs 4 discordant rows is 0.39."""
    metrics_repo.write("mlgate.yml", ACCURACY_ONLY)
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    pred, score = simulate(rng, y, 0.85)
    metrics_repo.record(y, pred, score)
    metrics_repo.commit("base model")
    metrics_repo.branch("pr")
    right, wrong = np.flatnonzero(pred == y), np.flatnonzero(pred != y)
    head_pred, head_score = pred.copy(), score.copy()
    flips = np.r_[right[:8], wrong[:4]]
    head_pred[flips] = 1 - head_pred[flips]
    head_score[flips] = 1 - head_score[flips]
    metrics_repo.record(y, head_pred, head_score)
    run = invoke("compare", cwd=metrics_repo.path)
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    accuracy = rule(result, "accuracy")
    assert accuracy["delta"] == pytest.approx(-4 / 300, abs=1e-6)
    assert accuracy["status"] == "within noise"
    assert accuracy["outcome"] == "pass"
    assert accuracy["significance"]["mcnemar"] == {"base_only": 8, "head_only": 4}
    assert accuracy["significance"]["p_value"] == pytest.approx(0.3876953125)
    assert "not significant: McNemar exact p=0.388" in accuracy["reason"]
    assert (run.code, result["verdict"]) == (0, "pass")
    assert result["summary"] == "all 1 gate rules passed (1 within noise)"


@pytest.mark.parametrize(("head_accuracy", "verdict"), [(0.85, "pass"), (0.5, "fail")])
def test_first_pr_without_baseline_applies_absolute_rules_only(
    metrics_repo: MetricsRepo, invoke, head_accuracy: float, verdict: str
):
    metrics_repo.write("README.md", "no model yet\n")
    metrics_repo.commit("initial")
    metrics_repo.branch("pr")
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 500)
    metrics_repo.record(y, *simulate(rng, y, head_accuracy))
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == (0 if verdict == "pass" else 1), run.out + run.err
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["verdict"] == verdict
    assert result["evidence"]["baseline"] is False
    assert "no baseline" in result["summary"]
    assert rule(result, "roc_auc")["status"] == "no baseline"
    assert rule(result, "accuracy")["status"] == ("no baseline" if verdict == "pass" else "below min")
    notes = result["evidence"]["significance"]["notes"]
    assert notes == ["the base has no eval/predictions.csv: intervals are of head alone"]


def test_metrics_nested_three_levels_are_gated_and_tested(metrics_repo: MetricsRepo, invoke):
    metrics_repo.write(
        "mlgate.yml",
        "metrics:\n  files: [metrics.json]\n  predictions: eval/predictions.csv\n  gate:\n"
        "    eval.test.accuracy: {direction: higher, max_drop: 0.01}\n",
    )
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, N_ROWS)
    pred, score = simulate(rng, y, 0.85)
    metrics = metrics_repo.record(y, pred, score)
    metrics_repo.write_json("metrics.json", {"eval": {"test": metrics}})
    metrics_repo.commit("base")
    metrics_repo.branch("pr")
    head = metrics_repo.record(y, *simulate(rng, y, 0.80, like=pred, keep=0.6))
    metrics_repo.write_json("metrics.json", {"eval": {"test": head}})
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 1
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    nested = rule(result, "eval.test.accuracy")
    assert nested["key"] == "eval.test.accuracy"
    assert nested["status"] == "regressed"
    assert nested["significance"]["test"] == "McNemar exact"
    keys = {m["key"] for m in result["evidence"]["metrics"]}
    assert {"eval.test.accuracy", "eval.test.roc_auc", "eval.test.log_loss"} <= keys


def test_malformed_head_metrics_are_an_input_error_naming_file_and_line(metrics_repo: MetricsRepo, invoke):
    base_and_pr(metrics_repo, 0.85)
    metrics_repo.write("metrics.json", '{\n  "accuracy": 0.9,\n  "roc_auc": }\n')
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 2
    assert run.err.strip() == "mlgate: error: metrics.json:3: is not valid JSON (Expecting value)"
    assert "Traceback" not in run.err
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["verdict"] == "error"
    assert "metrics.json" in result["summary"]


def test_malformed_base_metrics_fail_closed(metrics_repo: MetricsRepo, invoke):
    metrics_repo.write("metrics.json", "{not json")
    base = metrics_repo.commit("broken base")
    metrics_repo.branch("pr")
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 400)
    metrics_repo.record(y, *simulate(rng, y, 0.9))
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 2, run.out + run.err
    assert run.err.startswith("mlgate: error: metrics.json:1: is not valid JSON")
    assert f"(at base commit {base[:12]}); fix it there or compare with another commit (--base)" in run.err
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["verdict"] == "error" and "is not valid JSON" in result["summary"]


def test_nan_and_missing_metrics(metrics_repo: MetricsRepo, invoke):
    _, head = base_and_pr(metrics_repo, 0.85)
    metrics_repo.write("metrics.json", json.dumps({"log_loss": head["log_loss"]}))
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 1
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    roc_auc = rule(result, "roc_auc")
    assert roc_auc["status"] == "missing"
    assert roc_auc["reason"] == "roc_auc is missing from the head metrics"
    assert rule(result, "log_loss")["outcome"] == "pass"

    metrics_repo.write("metrics.json", json.dumps({"accuracy": float("nan"), "log_loss": head["log_loss"]}))
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 2  # a gated metric that is not a number is an input error, not a verdict
    assert run.err.strip() == (
        "mlgate: error: metrics.json: accuracy is nan at head, not a finite number: a gated metric must be one"
    )
    assert read_json(metrics_repo.path / ".mlgate/results/compare.json")["verdict"] == "error"


def test_nan_at_base_is_no_baseline_for_that_metric(metrics_repo: MetricsRepo, invoke):
    metrics_repo.write("mlgate.yml", NO_PREDICTIONS)
    metrics_repo.write("metrics.json", '{"accuracy": NaN, "roc_auc": 0.9}')
    metrics_repo.commit("base with NaN")
    metrics_repo.branch("pr")
    metrics_repo.write_json("metrics.json", {"accuracy": 0.7, "roc_auc": 0.7})
    run = invoke("compare", cwd=metrics_repo.path)
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert rule(result, "accuracy")["status"] == "no baseline"
    assert "the base value is nan" in rule(result, "accuracy")["reason"]
    # Without predictions there is no test: a change past the tolerance is a regression.
    assert rule(result, "roc_auc")["status"] == "regressed"
    assert "no significance test: no predictions file (metrics.predictions)" in rule(result, "roc_auc")["reason"]
    assert run.code == 1


def test_advisory_rule_warns_and_exit_zero_keeps_the_verdict(metrics_repo: MetricsRepo, invoke, tmp_path: Path):
    config = (metrics_repo.path / "mlgate.yml").read_text()
    base_and_pr(metrics_repo, 0.80)
    advisory = config.replace("max_drop: 0.01, min: 0.6}", "max_drop: 0.01, min: 0.6, required: false}")
    advisory = advisory.replace("roc_auc: {direction: higher, max_drop: 0.01}", "roc_auc: {direction: higher}")
    advisory = advisory.replace("max_increase: 10%}", "max_increase: 10%, required: false}")
    metrics_repo.write("mlgate.yml", advisory)
    output = tmp_path / "out"
    run = invoke("compare", cwd=metrics_repo.path, env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)})
    assert run.code == 0, run.out + run.err
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["verdict"] == "warn"
    assert rule(result, "accuracy")["outcome"] == "warn"
    assert rule(result, "accuracy")["reason"].endswith("(advisory rule)")
    assert "gate=warn" in output.read_text()

    metrics_repo.write("mlgate.yml", config)
    run = invoke("compare", "--exit-zero", cwd=metrics_repo.path)
    assert run.code == 0
    assert read_json(metrics_repo.path / ".mlgate/results/compare.json")["verdict"] == "fail"


def test_base_precedence_flag_then_event_then_merge_base(metrics_repo: MetricsRepo, invoke, tmp_path: Path):
    first, _ = base_and_pr(metrics_repo, 0.85)
    git(metrics_repo.path, "checkout", "--quiet", "main")
    metrics_repo.write("notes.txt", "second\n")
    second = metrics_repo.commit("second main commit")
    git(metrics_repo.path, "checkout", "--quiet", "pr")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "base": {"sha": second, "ref": "main"}}}))
    env = {"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request"}

    def chosen(*args: str, **extra: str) -> tuple[str, str]:
        run = invoke("compare", *args, cwd=metrics_repo.path, env=extra)
        assert run.code in (0, 1), run.err
        result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
        return result["commits"]["base"], result["evidence"]["base_source"]

    assert chosen() == (first, "merge-base with main")
    assert chosen(**env) == (second, "pull_request.base.sha")
    assert chosen("--base", "main~1", **env) == (first, "--base")
    assert chosen(**env, MLGATE_COMPARE_BASE=first) == (first, "--base")


def test_unknown_base_is_an_input_error(metrics_repo: MetricsRepo, invoke):
    base_and_pr(metrics_repo, 0.85)
    run = invoke("compare", "--base", "no-such-branch", cwd=metrics_repo.path)
    assert run.code == 2
    assert run.err.strip() == "mlgate: error: --base 'no-such-branch' does not name a commit in this repository"


def test_unrelated_histories_say_so_and_ask_for_base(metrics_repo: MetricsRepo, invoke):
    base_and_pr(metrics_repo, 0.85)
    git(metrics_repo.path, "update-ref", "refs/remotes/origin/main", "main")
    git(metrics_repo.path, "checkout", "--quiet", "--orphan", "unrelated")
    metrics_repo.commit("a history of its own")
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 2
    assert run.err.strip() == (
        "mlgate: error: HEAD and origin/main and main have unrelated histories (no merge-base): "
        "pass the commit to compare with as --base"
    )
    assert read_json(metrics_repo.path / ".mlgate/results/compare.json")["verdict"] == "error"


def test_history_lists_base_commits_that_changed_metrics(metrics_repo: MetricsRepo, invoke):
    metrics_repo.write("mlgate.yml", NO_PREDICTIONS)
    values = [0.80, 0.82, 0.84]
    shas = []
    for number, accuracy in enumerate(values):
        metrics_repo.write_json("metrics.json", {"accuracy": accuracy, "roc_auc": 0.9})
        shas.append(metrics_repo.commit(f"model {number}"))
        metrics_repo.write("notes.txt", f"unrelated {number}\n")
        metrics_repo.commit(f"docs {number}")
    metrics_repo.branch("pr")
    metrics_repo.write_json("metrics.json", {"accuracy": 0.85, "roc_auc": 0.9})
    run = invoke("compare", "--history", "2", cwd=metrics_repo.path)
    assert run.code == 0, run.out + run.err
    history = read_json(metrics_repo.path / ".mlgate/results/compare.json")["evidence"]["history"]
    assert [point["sha"] for point in history] == shas[1:]
    assert [point["values"]["accuracy"] for point in history] == values[1:]
    assert history[-1]["subject"] == "model 2"


def test_missing_predictions_at_head_is_an_input_error(metrics_repo: MetricsRepo, invoke):
    base_and_pr(metrics_repo, 0.85)
    (metrics_repo.path / "eval/predictions.csv").unlink()
    run = invoke("compare", cwd=metrics_repo.path)
    assert run.code == 2
    assert "eval/predictions.csv: predictions file does not exist at head" in run.err


def test_predictions_with_different_rows_give_unpaired_intervals(metrics_repo: MetricsRepo, invoke):
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, N_ROWS)
    metrics_repo.record(y, *simulate(rng, y, 0.85))
    metrics_repo.commit("base")
    metrics_repo.branch("pr")
    y2 = rng.integers(0, 2, N_ROWS)
    metrics_repo.record(y2, *simulate(rng, y2, 0.85), ids=np.arange(N_ROWS) + 10_000)
    invoke("compare", cwd=metrics_repo.path)
    result = read_json(metrics_repo.path / ".mlgate/results/compare.json")
    assert result["evidence"]["significance"]["paired"] is False
    assert "different rows" in result["evidence"]["significance"]["notes"][0]
    accuracy = rule(result, "accuracy")
    assert accuracy["significance"]["test"] == "unpaired bootstrap"
    assert accuracy["significance"]["n_base"] == accuracy["significance"]["n_head"] == N_ROWS


def shallow_pr_clone(repo: MetricsRepo, tmp_path: Path) -> tuple[Path, str]:
    """A 3-commit main with metrics, a PR branch on it, and a `--depth 1` clone of the PR (as actions/checkout)."""
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 500)
    for accuracy in (0.80, 0.82, 0.84):
        repo.record(y, *simulate(rng, y, accuracy))
        base = repo.commit(f"model {accuracy}")
    repo.branch("pr")
    repo.record(y, *simulate(rng, y, 0.85))
    repo.commit("pr model")
    git(repo.path, "checkout", "--quiet", "main")  # the remote's default branch, as on GitHub
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--branch", "pr", f"file://{repo.path}", str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    return clone, base


def test_shallow_clone_fetches_the_base_commit(metrics_repo: MetricsRepo, invoke, tmp_path: Path):
    clone, base = shallow_pr_clone(metrics_repo, tmp_path)
    with pytest.raises(RuntimeError):
        git(clone, "cat-file", "-e", base)  # not in the clone yet
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1, "base": {"sha": base, "ref": "main"}}}))
    run = invoke("compare", cwd=clone, env={"GITHUB_EVENT_PATH": str(event)})
    assert run.code == 0, run.out + run.err
    result = read_json(clone / ".mlgate/results/compare.json")
    assert result["commits"]["base"] == base
    assert result["evidence"]["baseline"] is True
    assert [p["values"]["accuracy"] for p in result["evidence"]["history"]][-1] == rule(result, "accuracy")["base"]
    assert len(result["evidence"]["history"]) == 3  # the base was fetched with enough history for the trend


def test_shallow_clone_without_a_reachable_base_says_to_set_fetch_depth(
    metrics_repo: MetricsRepo, invoke, tmp_path: Path
):
    clone, _ = shallow_pr_clone(metrics_repo, tmp_path)
    unknown = "0123456789abcdef0123456789abcdef01234567"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1, "base": {"sha": unknown, "ref": "main"}}}))
    run = invoke("compare", cwd=clone, env={"GITHUB_EVENT_PATH": str(event)})
    assert run.code == 2
    assert run.err.strip() == (
        "mlgate: error: the pull request's base commit 0123456789ab is not in this clone and could not be "
        "fetched: set `fetch-depth: 0` on actions/checkout (or fetch the base commit yourself), or pass --base"
    )
    run = invoke("compare", cwd=clone)
    assert run.code == 2
    assert "fetch-depth: 0" in run.err


def test_a_full_clone_fetches_a_base_branch_it_lacks_and_stays_full(metrics_repo: MetricsRepo, invoke, tmp_path: Path):
    base, _ = base_and_pr(metrics_repo, 0.85)
    metrics_repo.commit("pr model")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--branch", "pr", f"file://{metrics_repo.path}", str(clone))
    run = invoke("compare", "--base", "main", cwd=clone)  # only origin/main is in the clone: fetched as FETCH_HEAD
    assert run.code == 0, run.out + run.err
    assert read_json(clone / ".mlgate/results/compare.json")["commits"]["base"] == base
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"  # a fetch --depth would have made it shallow


@pytest.mark.slow
def test_example_pull_requests_improved_and_noise_only(example_repo: Path, invoke):
    """On the example repository: main trains on 3 features; restoring all 30 is an improvement; retraining a
    random forest with another seed moves the metrics by noise only."""
    from bench.example_fixtures import make_branch

    weak = make_branch(example_repo, "weak", {"train": {"n_features": 3}}, base="main")
    make_branch(example_repo, "pr/all-features", {"train": {"n_features": 30}}, base="weak")
    run = invoke("compare", "--base", weak, cwd=example_repo)
    assert run.code == 0, run.out + run.err
    result = read_json(example_repo / ".mlgate/results/compare.json")
    assert result["verdict"] == "pass"
    assert rule(result, "roc_auc")["status"] == "improved"
    assert rule(result, "log_loss")["status"] == "improved"

    forest = make_branch(example_repo, "forest", {"train": {"model": "forest", "n_estimators": 50}}, base="main")
    make_branch(example_repo, "pr/reseed", {"train": {"seed": 7}}, base="forest")
    run = invoke("compare", "--base", forest, cwd=example_repo)
    result = read_json(example_repo / ".mlgate/results/compare.json")
    assert result["evidence"]["params"] == [
        {"changed": True, "diff": -35, "file": "params.yaml", "key": "train.seed", "new": 7, "old": 42}
    ]
    assert {r["status"] for r in result["evidence"]["rules"]} <= {"unchanged", "improved", "within tolerance",
                                                                   "within noise"}  # fmt: skip
    assert (run.code, result["verdict"]) == (0, "pass")
