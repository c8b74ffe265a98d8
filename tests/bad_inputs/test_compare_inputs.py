"""Bad-input corpus of `mlgate compare`: metrics files and per-row predictions files at head (the workspace),
against a valid base commit. The base repository below compares cleanly; each case changes the workspace.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from bench.example_fixtures import git
from bench.faults_fixtures import (
    BadInput,
    Content,
    Device,
    Fifo,
    Folder,
    Link,
    Socket,
    Sparse,
    bad_input_params,
    check_bad_input,
    run_cli,
)

from mlgate.cli import COMMANDS

CONFIG = """\
metrics:
  files: [metrics.json]
  predictions: eval/predictions.csv
  history: 0
  gate:
    accuracy: {direction: higher, max_drop: 0.5}
  significance: {resamples: 200, seed: 1}
"""
METRICS = json.dumps({"accuracy": 0.9, "loss": 0.3})
ROWS = [(i, i % 2, (i % 2) if i % 5 else 1 - i % 2, round(0.2 + 0.6 * (i % 2) + 0.01 * (i % 7), 3)) for i in range(40)]
PREDICTIONS = "row_id,y_true,y_pred,y_score\n" + "".join(f"{i},{t},{p},{s}\n" for i, t, p, s in ROWS)
BASE: dict[str, Content] = {
    "mlgate.yml": CONFIG,
    "metrics.json": METRICS,
    "eval/predictions.csv": PREDICTIONS,
    ".gitignore": ".mlgate/\n",
}
# compare records compare.json with verdict "error" before it exits 2, so the report can say why the gate did
# not run: the results bundle is the one place a failing compare writes to.
RESULTS = ".mlgate"


COMPARE = ("compare", "--base", "HEAD")


def commit_base(workspace: Path) -> None:
    git(workspace, "init", "--quiet", "--initial-branch=main")
    git(workspace, "add", "--all")
    git(workspace, "commit", "--quiet", "--message", "base")


def metrics(id: str, content: Content, culprit: str | tuple[str, ...] = "metrics.json") -> BadInput:
    return BadInput(id, {"metrics.json": content}, ("compare", "--base", "HEAD"), culprit)


def predictions(id: str, content: Content, culprit: str | tuple[str, ...] = "predictions.csv") -> BadInput:
    return BadInput(id, {"eval/predictions.csv": content}, ("compare", "--base", "HEAD"), culprit)


def config(id: str, old: str, new: str, culprit: str) -> BadInput:
    return BadInput(id, {"mlgate.yml": CONFIG.replace(old, new)}, ("compare", "--base", "HEAD"), culprit)


METRICS_CASES = [
    metrics("truncated", METRICS[:12]),
    metrics("empty", ""),
    metrics("top-level-array", "[0.9, 0.3]"),
    metrics("gated-metric-as-text", json.dumps({"accuracy": "high", "loss": 0.3}), "accuracy"),
    metrics("gated-metric-as-bool", json.dumps({"accuracy": True, "loss": 0.3}), "accuracy"),
    metrics("nan-literal", '{"accuracy": NaN, "loss": 0.3}', "accuracy"),
    metrics("infinity-literal", '{"accuracy": Infinity, "loss": 0.3}', "accuracy"),
    metrics("utf16", METRICS.encode("utf-16")),
    metrics("deep-nesting", "[" * 100_000 + "]" * 100_000),
    metrics("huge", Sparse(80 * 1024 * 1024, b"{"), "metrics.json"),
    metrics("a-directory", Folder()),
    metrics("link-out-of-the-workspace", Link("../outside/secret.json")),
    metrics("a-fifo", Fifo(), ("metrics.json", "a FIFO")),
    metrics("a-device", Device(), ("metrics.json", "a character device")),
    metrics("symlink-loop", Link("metrics.json"), ("metrics.json", "symlink loop")),
    config("files-path-traversal", "[metrics.json]", "[../outside/secret.json]", "secret.json"),
    config("files-absolute-path", "[metrics.json]", "[/etc/passwd]", "passwd"),
]

PREDICTION_CASES = [
    predictions("no-y-true-column", PREDICTIONS.replace("y_true", "truth")),
    predictions("empty-y-pred-cell", PREDICTIONS.replace("\n3,1,1,", "\n3,1,,", 1)),
    predictions("scores-as-text", PREDICTIONS.replace(",0.82", ",high")),
    predictions("nan-score", PREDICTIONS.replace(",0.82", ",nan", 1)),
    BadInput("infinite-score", {"eval/predictions.csv": PREDICTIONS.replace(",0.82", ",inf", 1)}, COMPARE, "y_score"),
    predictions("repeated-row-ids", PREDICTIONS.replace("\n5,", "\n4,", 1)),
    predictions("ragged-row", PREDICTIONS + "40,1\n"),
    predictions("utf16", PREDICTIONS.encode("utf-16"), ("predictions.csv", "UTF-16")),
    predictions("gzip-named-csv", gzip.compress(PREDICTIONS.encode()), ("predictions.csv", "gzip-compressed")),
    predictions(
        "duplicate-column-name",
        PREDICTIONS.replace("y_score\n", "y_pred\n", 1),
        ("predictions.csv", "'y_pred'", "more than once"),
    ),
    predictions(
        "space-padded-duplicate-column-name",
        PREDICTIONS.replace("row_id,y_true,y_pred,y_score", "row_id,y_true, y_pred,y_pred "),
        ("predictions.csv", "'y_pred'", "more than once"),
    ),
    predictions(
        "empty-row-ids",
        "".join("," + line.split(",", 1)[1] if n else line for n, line in enumerate(PREDICTIONS.splitlines(True))),
        ("predictions.csv", "'row_id'", "empty in data row 1"),
    ),
    BadInput("binary-garbage", {"eval/predictions.csv": bytes(range(256)) * 16}, COMPARE, "predictions.csv"),
    predictions("a-directory", Folder()),
    predictions("link-out-of-the-workspace", Link("../../outside/secret.csv")),
    predictions("a-fifo", Fifo(), ("predictions.csv", "a FIFO")),
    predictions("a-device", Device(), ("predictions.csv", "a character device")),
    predictions("symlink-loop", Link("predictions.csv"), ("predictions.csv", "symlink loop")),
    predictions("a-socket", Socket(), ("predictions.csv", "a socket")),
    config("predictions-path-traversal", "eval/predictions.csv", "../outside/secret.csv", "secret.csv"),
]


@pytest.mark.skipif("compare" not in COMMANDS, reason="mlgate compare is not on this branch yet")
def test_the_base_repository_compares(tmp_path: Path) -> None:
    from bench.faults_fixtures import materialize

    materialize(tmp_path, BASE)
    commit_base(tmp_path)
    done = run_cli("compare", "--base", "HEAD", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def assert_recorded_as_error(workspace: Path) -> None:
    """When compare wrote its result before exiting 2, it is an error, never a verdict."""
    written = workspace / RESULTS / "results" / "compare.json"
    if written.exists():
        assert json.loads(written.read_text(encoding="utf-8"))["verdict"] == "error"


@pytest.mark.parametrize("case", bad_input_params(METRICS_CASES, "compare"))
def test_bad_metrics_file(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE, setup=commit_base, ignore=(".git", RESULTS))
    assert_recorded_as_error(tmp_path / "workspace")


@pytest.mark.parametrize("case", bad_input_params(PREDICTION_CASES, "compare"))
def test_bad_predictions_file(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE, setup=commit_base, ignore=(".git", RESULTS))
    assert_recorded_as_error(tmp_path / "workspace")


def test_valid_metrics_nested_600_deep_are_compared(tmp_path: Path) -> None:
    """Valid JSON nested 600 deep (once a RecursionError in compare/diff.py) is data: flattened, compared."""
    from bench.faults_fixtures import materialize

    deep = json.dumps({"accuracy": 0.9, "loss": 0.3, "trace": json.loads("[" * 600 + "{}" + "]" * 600)})
    materialize(tmp_path, {**BASE, "metrics.json": deep})
    commit_base(tmp_path)
    done = run_cli(*COMPARE, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("compare: pass"), done.stdout


def test_a_predictions_row_longer_than_a_block_is_read() -> None:
    """A row over Arrow's 1 MiB CSV block (a 3 MB note beside the predictions) is read, not a parse error."""
    from mlgate.compare.predictions import parse_predictions

    lines = PREDICTIONS.replace("y_score\n", "y_score,note\n", 1).splitlines(keepends=True)
    noted = [line.rstrip("\n") + ("," + "a" * 3_000_000 if n == 20 else ",-") + "\n" for n, line in enumerate(lines)]
    parsed = parse_predictions((lines[0] + "".join(noted[1:])).encode(), "eval/predictions.csv")
    assert len(parsed.predictions.y_true) == len(ROWS)
