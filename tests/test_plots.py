"""DVC plots base vs head (real DVC repo, `mlgate compare` then the report), the train–test gap, and the
downsampling that keeps Mermaid charts small: charts parse with the real mermaid package, PNGs are images."""

from __future__ import annotations

import io
import math
import subprocess

import pytest
from bench.metrics_repo_fixtures import MetricsRepo, read_json
from bench.report_fixtures import mermaid_blocks, parse_mermaid

from mlgate.compare import gap, plotdata
from mlgate.compare.diff import ValueDiff
from mlgate.report import plots
from mlgate.report.render import ReportContext, render
from mlgate.results import StepResult

DVC_YAML = """\
plots:
  - loss.csv:
      x: step
      y: loss
      title: Training loss
  - eval/predictions.csv:
      template: confusion
      x: y_true
      y: y_pred
  - importance.png
"""
# A 1x1 PNG: image plots are published as the files they are.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _curve(steps: int, scale: float) -> str:
    return "step,loss\n" + "".join(f"{i},{scale / (i + 1):.6f}\n" for i in range(steps))


def _predictions(wrong: int) -> str:
    rows = [(i % 3, i % 3 if i >= wrong else (i + 1) % 3) for i in range(60)]
    return "y_true,y_pred\n" + "".join(f"{t},{p}\n" for t, p in rows)


@pytest.fixture
def plots_repo(metrics_repo: MetricsRepo) -> MetricsRepo:
    """Base: 50 steps of loss, 3 wrong predictions. Head (workspace): stopped at 29 steps, 12 wrong."""
    subprocess.run(["dvc", "init", "-q"], cwd=metrics_repo.path, check=True)
    metrics_repo.write("dvc.yaml", DVC_YAML)
    metrics_repo.write("loss.csv", _curve(50, 1.0))
    metrics_repo.write("eval/predictions.csv", _predictions(3))
    (metrics_repo.path / "importance.png").write_bytes(TINY_PNG)
    metrics_repo.write_json("metrics.json", {"accuracy": 0.95, "train": {"accuracy": 0.96}})
    metrics_repo.commit("base")
    metrics_repo.write("loss.csv", _curve(29, 2.0))
    metrics_repo.write("eval/predictions.csv", _predictions(12))
    metrics_repo.write_json("metrics.json", {"accuracy": 0.90, "train": {"accuracy": 0.99}})
    return metrics_repo


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.verify()
    return Image.open(io.BytesIO(data)).size


def test_compare_records_dvc_plots_and_the_report_draws_them(plots_repo: MetricsRepo, invoke):
    run = invoke("compare", "--base", "main", "--base-mode", "committed", "--exit-zero", cwd=plots_repo.path)
    assert run.code == 0, run.out + run.err
    results = plots_repo.path / ".mlgate/results"
    compare = read_json(results / "compare.json")
    items = {item["id"]: item for item in compare["evidence"]["plots"]["items"]}
    assert set(items) == {"loss.csv", "eval/predictions.csv", "importance.png"}

    curve = items["loss.csv"]
    sides = {side["name"]: side for side in curve["sides"]}
    assert (sides["base"]["points"], sides["head"]["points"]) == (50, 29)  # the head stopped early
    assert [s["name"] for s in curve["chart"]["series"]] == ["base", "head"]
    assert len({len(s["values"]) for s in curve["chart"]["series"]}) == 1  # one grid for both sides
    for item in (curve, items["eval/predictions.csv"]):  # full fidelity: DVC's 300 px template at scale 2
        width, height = _png_size((results / item["png"]).read_bytes())
        assert width >= 600 and height >= 600
    assert {(results / p).read_bytes() for p in items["importance.png"]["images"].values()} == {TINY_PNG}

    confusion = items["eval/predictions.csv"]["confusion"]
    assert sum(cell["count"] for cell in confusion["base"]) == sum(cell["count"] for cell in confusion["head"]) == 60

    gaps = compare["evidence"]["train_test_gap"]
    assert gaps == [
        {"file": "metrics.json", "train": "train.accuracy", "test": "accuracy", "base": pytest.approx(0.01),
         "head": pytest.approx(0.09), "widened": True}
    ]  # fmt: skip

    report = render([StepResult("compare", "pass", "ok", {}, compare["evidence"])], ReportContext(), limit=65_536)
    text = report.text
    assert "### Plots: base vs head" in text and "### Train–test gap" in text and "⚠️ widened" in text
    diagrams = mermaid_blocks(text)
    assert diagrams and all(result["ok"] for result in parse_mermaid(diagrams))
    assert "base: 50 points, step 0–49" in text and "head: 29 points, step 0–28" in text
    # Largest change first: 9 more wrong predictions spread over the three (actual, predicted) pairs.
    rows = [line for line in text.splitlines() if line.startswith("| `") and "✗" in line]
    assert rows and rows[0].endswith("| +3 |")
    assert "per-class precision and recall" in text  # three classes
    assert "![" not in text  # nothing was published: no image is linked


def test_plots_false_and_a_list_of_names(plots_repo: MetricsRepo, invoke):
    plots_repo.write("mlgate.yml", "report:\n  plots: false\n")
    assert invoke("compare", "--base", "main", cwd=plots_repo.path).code == 0
    assert "plots" not in read_json(plots_repo.path / ".mlgate/results/compare.json")["evidence"]
    plots_repo.write("mlgate.yml", "report:\n  plots: [loss.csv]\n")
    assert invoke("compare", "--base", "main", cwd=plots_repo.path).code == 0
    items = read_json(plots_repo.path / ".mlgate/results/compare.json")["evidence"]["plots"]["items"]
    assert [item["id"] for item in items] == ["loss.csv"]


def test_a_bad_report_key_is_a_config_error(plots_repo: MetricsRepo, invoke):
    plots_repo.write("mlgate.yml", "report:\n  plots: maybe\n")
    run = invoke("compare", "--base", "main", cwd=plots_repo.path)
    assert run.code == 2 and "report.plots" in run.err


def test_a_10000_step_curve_is_downsampled_keeping_its_extremes():
    steps = range(10_000)
    noisy = [1 / (i + 1) + (0.5 if i == 7_777 else 0.0) - (0.3 if i == 4_321 else 0.0) for i in steps]
    series = [plotdata.Series("base", [float(i) for i in steps], noisy),
              plotdata.Series("head", [float(i) for i in range(5_000)], noisy[:5_000])]  # fmt: skip
    grid = plotdata.grid(series)
    assert grid is not None and (grid["x_min"], grid["x_max"]) == (0, 9_999)
    base, head = (entry["values"] for entry in grid["series"])
    assert len(base) == len(head) == plotdata.MAX_POINTS
    assert max(base) == max(noisy) and min(base) == min(noisy)  # the spike and the dip survive
    assert head[-1] == noisy[4_999]  # past its last step, the shorter side holds its last value
    assert all(math.isfinite(value) for value in base + head)


def test_evenly_spaced_shared_steps_are_kept_as_they_are():
    xs = [float(i) for i in range(1, 41)]
    grid = plotdata.grid([plotdata.Series("base", xs, xs), plotdata.Series("head", xs, [x * 2 for x in xs])])
    assert grid is not None and grid["series"][1]["values"] == [x * 2 for x in xs]


@pytest.mark.parametrize(
    ("train", "held_out"),
    [("train.accuracy", "test.accuracy"), ("train_loss", "val_loss"), ("auc.train", "auc"), ("train/f1", "f1")],
)
def test_train_and_held_out_metrics_pair_by_name(train: str, held_out: str):
    diffs = [ValueDiff("m.json", train, 0.9, 0.99), ValueDiff("m.json", held_out, 0.85, 0.8)]
    (found,) = gap.gaps(diffs, max_widening=0.05)
    assert (found.train, found.test, found.widened) == (train, held_out, True)
    assert found.base == pytest.approx(0.05) and found.head == pytest.approx(0.19)
    assert gap.gaps(diffs, max_widening=0.2)[0].widened is False


def test_confusion_table_without_a_base_and_binary_has_no_per_class_table():
    item = {"kind": "confusion", "confusion": {"head": [{"actual": "0", "predicted": "1", "count": 4}]}}
    table = plots.confusion_table(item)
    assert table is not None and "| — | 4 | — |" in table and "per-class" not in table
