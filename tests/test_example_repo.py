"""The example ML repository: `dvc repro` in a real git + DVC repository gives the metrics and predictions
mlgate compares, deterministically, quickly, and a params change can make the model measurably worse."""

import json
import resource
import time
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from bench.example_fixtures import EXAMPLE_DIR, dvc, git, make_branch, run_in
from scipy.stats import binomtest

pytestmark = pytest.mark.slow

METRIC_NAMES = {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "n_test", "train"}
SIZE_FEATURES = ["mean_radius", "mean_perimeter", "mean_area"]


def read_metrics(repo: Path) -> dict[str, float]:
    return json.loads((repo / "metrics.json").read_text(encoding="utf-8"))


def predictions_at(repo: Path, rev: str) -> pd.DataFrame:
    return pd.read_csv(StringIO(git(repo, "show", f"{rev}:eval/predictions.csv")))


def test_main_commit_holds_metrics_and_predictions_while_dvc_tracks_data_and_model(example_repo: Path):
    assert git(example_repo, "status", "--porcelain") == ""
    tracked = set(git(example_repo, "ls-files").splitlines())
    assert {"dvc.lock", "metrics.json", "eval/predictions.csv", "params.yaml", "mlgate.yml"} <= tracked
    assert not tracked & {"data/train.csv", "data/test.csv", "model.pkl"}
    ignored = git(example_repo, "check-ignore", "data/train.csv", "data/test.csv", "model.pkl").splitlines()
    assert ignored == ["data/train.csv", "data/test.csv", "model.pkl"]
    # examples/.gitignore already ignores every cached output, so `dvc repro` never has to edit it.
    assert (example_repo / ".gitignore").read_bytes() == (EXAMPLE_DIR / ".gitignore").read_bytes()
    lock = (example_repo / "dvc.lock").read_text(encoding="utf-8")
    assert all(f"path: {out}" in lock for out in ("data/train.csv", "data/test.csv", "model.pkl"))
    assert json.loads(dvc(example_repo, "status", "--json")) == {}

    metrics = read_metrics(example_repo)
    assert set(metrics) == METRIC_NAMES
    assert metrics["n_test"] == 171
    assert metrics["accuracy"] > 0.9
    assert metrics["roc_auc"] > 0.95
    assert all(0.5 < metrics[name] <= 1 for name in ("precision", "recall", "f1"))
    assert 0 < metrics["log_loss"] < 0.3

    predictions = pd.read_csv(example_repo / "eval/predictions.csv")
    test = pd.read_csv(example_repo / "data/test.csv")
    assert list(predictions.columns) == ["row_id", "y_true", "y_pred", "y_score"]
    assert predictions["row_id"].tolist() == test["row_id"].tolist()
    assert predictions["y_true"].tolist() == test["target"].tolist()
    assert predictions["y_score"].between(0, 1).all()
    assert (predictions["y_pred"] == (predictions["y_score"] >= 0.5)).all()
    accuracy = (predictions["y_true"] == predictions["y_pred"]).mean()
    assert accuracy == pytest.approx(metrics["accuracy"], abs=1e-6)


def test_prepare_splits_the_bundled_dataset_with_row_ids_and_a_size_band(example_repo: Path):
    train = pd.read_csv(example_repo / "data/train.csv")
    test = pd.read_csv(example_repo / "data/test.csv")
    assert list(train.columns) == list(test.columns)
    assert train.columns[0] == "row_id"
    assert train.columns[-1] == "target"
    assert len(train.columns) == 33  # row_id, 30 numeric features, size_band, target
    assert set(train["size_band"]) == {"small", "medium", "large"}
    assert set(train["row_id"]).isdisjoint(test["row_id"])
    assert sorted([*train["row_id"], *test["row_id"]]) == list(range(569))
    # Stratified: both sets keep the dataset's share of benign cases (357 of 569).
    assert train["target"].mean() == pytest.approx(357 / 569, abs=0.01)
    assert test["target"].mean() == pytest.approx(357 / 569, abs=0.01)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_repro_is_deterministic_and_fast(example_repo: Path):
    started, cpu_before = time.monotonic(), children_cpu_seconds()
    dvc(example_repo, "repro", "--force", "--quiet")
    cpu = children_cpu_seconds() - cpu_before
    print(f"dvc repro --force (3 stages): {time.monotonic() - started:.1f} s wall, {cpu:.1f} s CPU")
    # Byte-identical metrics, predictions and dvc.lock (whose hashes cover the data and model.pkl).
    assert git(example_repo, "status", "--porcelain") == ""
    # The stages run one after another, so CPU time is the wall time on an idle machine; wall time on a
    # shared CI runner says more about its neighbours than about the pipeline.
    assert cpu < 30


def test_dvc_metrics_show_reads_metrics_json(example_repo: Path):
    shown = json.loads(dvc(example_repo, "metrics", "show", "--json"))
    assert shown[""]["data"]["metrics.json"]["data"] == read_metrics(example_repo)


def test_fewer_features_regress_the_model_significantly(example_repo: Path):
    base = read_metrics(example_repo)
    make_branch(example_repo, "pr/regress", {"train": {"n_features": 3}})

    changed = set(git(example_repo, "diff", "--name-only", "main").splitlines())
    assert changed == {"params.yaml", "dvc.lock", "metrics.json", "eval/predictions.csv", "train_curve.csv"}
    assert git(example_repo, "status", "--porcelain") == ""
    head = read_metrics(example_repo)
    assert base["accuracy"] - head["accuracy"] >= 0.08
    assert head["log_loss"] > base["log_loss"]
    diff = json.loads(dvc(example_repo, "metrics", "diff", "main", "--json"))["metrics.json"]
    assert diff["accuracy"]["old"] == base["accuracy"]
    assert diff["accuracy"]["new"] == head["accuracy"]
    params = json.loads(dvc(example_repo, "params", "diff", "main", "--json"))["params.yaml"]
    assert params == {"train.n_features": {"old": 30, "new": 3, "diff": -27}}

    # The base commit's predictions pair row by row with the head's; an exact McNemar test on the cases
    # only one of the two models gets right finds the drop significant.
    paired = predictions_at(example_repo, "main").merge(
        predictions_at(example_repo, "HEAD"), on="row_id", suffixes=("_base", "_head")
    )
    assert len(paired) == base["n_test"]
    base_right = paired["y_pred_base"] == paired["y_true_base"]
    head_right = paired["y_pred_head"] == paired["y_true_head"]
    only_base = int((base_right & ~head_right).sum())
    only_head = int((head_right & ~base_right).sum())
    assert binomtest(only_base, only_base + only_head).pvalue < 0.01


def test_fetch_writes_a_fresh_batch_that_prepare_uses(example_repo: Path):
    base_train = pd.read_csv(example_repo / "data/train.csv")
    run_in(example_repo, "python", "src/fetch.py", env={"FETCH_SEED": "3", "FETCH_SHIFT": "1.5"})
    fresh = (example_repo / "raw/fresh.csv").read_bytes()
    run_in(example_repo, "python", "src/fetch.py", env={"FETCH_SEED": "3", "FETCH_SHIFT": "1.5"})
    assert (example_repo / "raw/fresh.csv").read_bytes() == fresh

    assert "prepare" in json.loads(dvc(example_repo, "status", "--json"))
    dvc(example_repo, "repro", "--quiet")
    train = pd.read_csv(example_repo / "data/train.csv")
    # Same cases, split the same way, but the size features moved by about 1.5 standard deviations.
    assert train["row_id"].tolist() == base_train["row_id"].tolist()
    shift = (train[SIZE_FEATURES].mean() - base_train[SIZE_FEATURES].mean()) / base_train[SIZE_FEATURES].std()
    assert shift.between(1.2, 1.8).all()
    assert train["mean_texture"].mean() == pytest.approx(base_train["mean_texture"].mean(), rel=0.02)
    assert read_metrics(example_repo)["accuracy"] > 0.9


def test_bad_params_stop_the_pipeline_with_a_clear_message(example_repo: Path):
    params_file = example_repo / "params.yaml"
    params = params_file.read_text(encoding="utf-8")
    params_file.write_text(params.replace("model: logreg", "model: svm"), encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"train\.model must be 'logreg' or 'forest', got 'svm'"):
        dvc(example_repo, "repro", "--quiet")


def production_days(repo: Path) -> dict[str, pd.DataFrame]:
    return {folder.name: pd.read_csv(folder / "requests.csv") for folder in sorted((repo / "production").iterdir())}


def test_production_log_drifts_from_its_day_labels_arrive_two_days_late_and_days_5_6_are_slow(example_repo: Path):
    """src/production_log.py (monitor.data_command): the days the monitoring tests rely on."""
    run_in(example_repo, "python", "src/production_log.py", env={"PRODUCTION_TODAY": "10"})
    days = production_days(example_repo)
    assert list(days) == [f"date=2026-01-{day:02d}" for day in range(1, 11)]
    frames = list(days.values())
    assert {len(frame) for frame in frames} == {250}
    for day, frame in enumerate(frames, start=1):
        stamps = pd.to_datetime(frame["ts"])
        assert stamps.is_monotonic_increasing and (stamps.dt.day == day).all()
    # Labels: known up to day 8 (today minus two), empty on days 9 and 10.
    assert [int(frame["label"].notna().sum()) for frame in frames] == [250] * 8 + [0, 0]
    # Drift from day 8: the mean and worst features move by about 1.5 test-split deviations, the others stay.
    test = pd.read_csv(example_repo / "data/test.csv")
    spread = test[SIZE_FEATURES].std()
    shifts = [((frame[SIZE_FEATURES].mean() - test[SIZE_FEATURES].mean()) / spread).min() for frame in frames]
    assert all(shift < 0.5 for shift in shifts[:7]) and all(shift > 1.0 for shift in shifts[7:]), shifts
    texture = [frame["texture_error"].mean() / test["texture_error"].mean() for frame in frames]
    assert all(0.85 < ratio < 1.15 for ratio in texture), texture
    # Latency: about 20 ms at the median, five times that on days 5 and 6.
    medians = [frame["latency_ms"].median() for frame in frames]
    assert [day for day, median in enumerate(medians, start=1) if median > 60] == [5, 6], medians
    assert all(15 < median < 25 for day, median in enumerate(medians, start=1) if day not in (5, 6)), medians
    errors = sum(int((frame["status"] >= 500).sum()) for frame in frames) / 2500
    assert 0 < errors < 0.02
    assert {int(frame["prediction"].isin([0, 1]).all()) for frame in frames} == {1}

    # Two days later the same days again, byte for byte, except that days 9 and 10 now have their labels.
    before = {name: (example_repo / "production" / name / "requests.csv").read_bytes() for name in days}
    run_in(example_repo, "python", "src/production_log.py", env={"PRODUCTION_TODAY": "12"})
    later = production_days(example_repo)
    assert len(later) == 12 and [int(later[n]["label"].notna().sum()) for n in list(later)[8:]] == [250, 250, 0, 0]
    for name in list(days)[:8]:
        assert (example_repo / "production" / name / "requests.csv").read_bytes() == before[name]
    for name in list(days)[8:]:
        assert later[name].drop(columns="label").equals(days[name].drop(columns="label"))


def test_production_log_settings_are_checked(example_repo: Path):
    with pytest.raises(RuntimeError, match="PRODUCTION_TODAY must be an integer, got 'ten'"):
        run_in(example_repo, "python", "src/production_log.py", env={"PRODUCTION_TODAY": "ten"})
    with pytest.raises(RuntimeError, match=r"PRODUCTION_SLOW_DAYS must be 'first-last', got '5\.\.6'"):
        run_in(example_repo, "python", "src/production_log.py", env={"PRODUCTION_SLOW_DAYS": "5..6"})
    assert not (example_repo / "production").exists()
