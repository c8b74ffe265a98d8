"""The significance machinery against reference implementations and by simulation.

- point values equal scikit-learn's;
- paired bootstrap intervals equal scipy.stats.bootstrap(paired=True, method="percentile") on the same data
  within 0.002 (the same resampling distribution; what differs is Monte Carlo noise, whose standard deviation
  here is below 0.0005 for every metric: 3,000 rows, 4,000 resamples on each side);
- McNemar p-values equal statsmodels' exact McNemar;
- simulated pull requests: the gate's false-failure rate on noise-only changes stays within alpha plus two
  binomial standard errors of the simulation, and a real 2-point accuracy drop on 5,000 rows is caught at least
  80% of the time.

The simulations use 300 PRs (the false-failure estimate's standard error at alpha = 0.05 is 0.013) and, for
bootstrap-decided metrics, 1,000 resamples: a PR's decision depends only on which side of 0 the interval's
end falls, and the 2.5% quantile of 1,000 resamples moves by a fraction of a standard error.
"""

from __future__ import annotations

import numpy as np
import pytest
from bench.metrics_repo_fixtures import simulate
from scipy import stats as scipy_stats
from sklearn import metrics as sk

from mlgate.compare.policy import Measured, evaluate_rule
from mlgate.compare.stats import (
    Predictions,
    StatsError,
    align,
    mcnemar_exact,
    metric_kind,
    paired_interval,
    point_value,
    unpaired_interval,
)
from mlgate.config.model import GateRule, Tolerance

ALPHA = 0.05
SIMULATED_PRS = 300
MARGIN = 2 * np.sqrt(ALPHA * (1 - ALPHA) / SIMULATED_PRS)


def binary_pair(n: int, seed: int) -> tuple[Predictions, Predictions]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base_pred, base_score = simulate(rng, y, 0.85)
    base_score = np.clip(0.6 * base_score + 0.4 * y * rng.random(n), 0.001, 0.999).round(4)
    head_pred, head_score = simulate(rng, y, 0.83, like=base_pred, keep=0.6)
    head_score = np.clip(0.6 * head_score + 0.4 * y * rng.random(n), 0.001, 0.999).round(4)
    return Predictions(y, base_pred, base_score), Predictions(y, head_pred, head_score)


def test_point_values_equal_scikit_learn():
    base, _ = binary_pair(800, seed=1)
    y, p, s = base.y_true, base.y_pred, base.y_score
    assert point_value("accuracy", base) == pytest.approx(sk.accuracy_score(y, p), abs=1e-12)
    assert point_value("precision", base) == pytest.approx(sk.precision_score(y, p), abs=1e-12)
    assert point_value("recall", base) == pytest.approx(sk.recall_score(y, p), abs=1e-12)
    assert point_value("f1", base) == pytest.approx(sk.f1_score(y, p), abs=1e-12)
    assert point_value("roc_auc", base) == pytest.approx(sk.roc_auc_score(y, s), abs=1e-12)
    assert point_value("log_loss", base) == pytest.approx(sk.log_loss(y, s), abs=1e-12)

    rng = np.random.default_rng(2)
    labels = np.array(["cat", "dog", "emu"])
    truth = labels[rng.integers(0, 3, 600)]
    guess = np.where(rng.random(600) < 0.7, truth, labels[rng.integers(0, 3, 600)])
    multiclass = Predictions(truth, guess)
    for name, fn in (("precision", sk.precision_score), ("recall", sk.recall_score), ("f1", sk.f1_score)):
        assert point_value(name, multiclass) == pytest.approx(fn(truth, guess, average="macro"), abs=1e-12)

    target = rng.normal(size=500)
    regression = Predictions(target, target + rng.normal(scale=0.4, size=500))
    assert point_value("mae", regression) == pytest.approx(sk.mean_absolute_error(target, regression.y_pred))
    assert point_value("rmse", regression) == pytest.approx(np.sqrt(sk.mean_squared_error(target, regression.y_pred)))
    assert point_value("r2", regression) == pytest.approx(sk.r2_score(target, regression.y_pred))


def test_balanced_accuracy_mcc_and_average_precision_equal_scikit_learn():
    base, head = binary_pair(900, seed=3)
    for preds in (base, head):
        y, p, s = preds.y_true, preds.y_pred, preds.y_score
        assert point_value("balanced_accuracy", preds) == pytest.approx(sk.balanced_accuracy_score(y, p), abs=1e-12)
        assert point_value("mcc", preds) == pytest.approx(sk.matthews_corrcoef(y, p), abs=1e-12)
        assert point_value("average_precision", preds) == pytest.approx(sk.average_precision_score(y, s), abs=1e-12)
    coarse = Predictions(base.y_true, base.y_pred, base.y_score.round(1))  # many tied scores
    expected = sk.average_precision_score(coarse.y_true, coarse.y_score)
    assert point_value("average_precision", coarse) == pytest.approx(expected, abs=1e-12)

    rng = np.random.default_rng(4)
    labels = np.array(["cat", "dog", "emu", "gnu"])
    truth = labels[rng.integers(0, 3, 700)]  # gnu is predicted now and then but never true
    guess = np.where(rng.random(700) < 0.6, truth, labels[rng.integers(0, 4, 700)])
    multiclass = Predictions(truth, guess)
    with pytest.warns(UserWarning, match="classes not in y_true"):  # recall averages over y_true's classes
        expected = sk.balanced_accuracy_score(truth, guess)
    assert point_value("balanced_accuracy", multiclass) == pytest.approx(expected, abs=1e-12)
    assert point_value("mcc", multiclass) == pytest.approx(sk.matthews_corrcoef(truth, guess), abs=1e-12)
    constant = Predictions(truth, np.full(700, "cat"))
    assert point_value("mcc", constant) == sk.matthews_corrcoef(truth, constant.y_pred) == 0.0


@pytest.mark.parametrize("metric", ["balanced_accuracy", "mcc", "average_precision"])
def test_paired_intervals_of_the_added_metrics_hold_the_observed_delta(metric: str):
    base, head = binary_pair(1500, seed=5)
    interval = paired_interval(metric, base, head, alpha=ALPHA, resamples=2000, seed=11)
    observed = point_value(metric, head) - point_value(metric, base)
    assert interval.delta == pytest.approx(observed, abs=1e-12)
    assert interval.low < observed < interval.high
    assert interval.high - interval.low < 0.2


def test_metric_names_resolve_through_nesting_and_aliases():
    assert metric_kind("eval.test.accuracy") == "accuracy"
    assert metric_kind("metrics.json:auc") == "roc_auc"
    assert metric_kind("val.F1_score") == "f1"
    assert metric_kind("latency_ms") is None


def _scipy_delta(name: str):
    """The paired delta head - base as a vectorized statistic over (y, base, head) resamples, for scipy."""

    def auc(y, score):
        ranks = scipy_stats.rankdata(score, axis=-1)
        positives = y.sum(axis=-1)
        negatives = y.shape[-1] - positives
        return ((ranks * y).sum(axis=-1) - positives * (positives + 1) / 2) / (positives * negatives)

    def f1(y, pred):
        tp = (y * pred).sum(axis=-1)
        return 2 * tp / (2 * tp + ((1 - y) * pred).sum(axis=-1) + (y * (1 - pred)).sum(axis=-1))

    def log_loss(y, score):
        return -(y * np.log(score) + (1 - y) * np.log(1 - score)).mean(axis=-1)

    single = {
        "accuracy": lambda y, pred: (y == pred).mean(axis=-1),
        "f1": f1,
        "roc_auc": auc,
        "log_loss": log_loss,
        "rmse": lambda y, pred: np.sqrt(((y - pred) ** 2).mean(axis=-1)),
        "r2": lambda y, pred: 1 - ((y - pred) ** 2).sum(axis=-1) / ((y - y.mean(axis=-1, keepdims=True)) ** 2).sum(-1),
    }[name]
    return lambda y, base, head, axis=-1: single(y, head) - single(y, base)


@pytest.mark.parametrize("metric", ["accuracy", "f1", "roc_auc", "log_loss", "rmse", "r2"])
def test_paired_interval_agrees_with_scipy_bootstrap(metric: str):
    n, resamples = 3000, 4000
    base, head = binary_pair(n, seed=11)
    column = "y_score" if metric in ("roc_auc", "log_loss") else "y_pred"
    if metric in ("rmse", "r2"):
        rng = np.random.default_rng(12)
        y = rng.normal(size=n)
        base = Predictions(y, y + rng.normal(scale=0.5, size=n))
        head = Predictions(y, y + rng.normal(scale=0.48, size=n))
    ours = paired_interval(metric, base, head, alpha=ALPHA, resamples=resamples, seed=3)
    reference = scipy_stats.bootstrap(
        (base.y_true, getattr(base, column), getattr(head, column)),
        _scipy_delta(metric),
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        batch=500,
        method="percentile",
        confidence_level=1 - ALPHA,
        random_state=np.random.default_rng(4),
    )
    assert ours.low == pytest.approx(reference.confidence_interval.low, abs=0.002)
    assert ours.high == pytest.approx(reference.confidence_interval.high, abs=0.002)
    assert ours.delta == pytest.approx(_scipy_delta(metric)(base.y_true, getattr(base, column), getattr(head, column)))


@pytest.mark.parametrize(("b", "c"), [(0, 0), (5, 5), (8, 4), (0, 7), (1, 30), (120, 80), (3000, 2901)])
def test_mcnemar_equals_statsmodels_exact(b: int, c: int):
    from statsmodels.stats.contingency_tables import mcnemar

    both, neither = 50, 20
    base_correct = np.array([True] * both + [True] * b + [False] * c + [False] * neither)
    head_correct = np.array([True] * both + [False] * b + [True] * c + [False] * neither)
    ours = mcnemar_exact(base_correct, head_correct)
    table = [[both, b], [c, neither]]
    assert (ours.base_only, ours.head_only) == (b, c)
    assert ours.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12, abs=1e-300)


def test_intervals_are_seeded_and_deterministic():
    base, head = binary_pair(1000, seed=5)
    first = paired_interval("roc_auc", base, head, alpha=ALPHA, resamples=500, seed=1)
    assert paired_interval("roc_auc", base, head, alpha=ALPHA, resamples=500, seed=1) == first
    other = paired_interval("roc_auc", base, head, alpha=ALPHA, resamples=500, seed=2)
    assert (other.low, other.high) != (first.low, first.high)


def test_unpaired_intervals():
    base, head = binary_pair(1500, seed=6)
    shifted = Predictions(head.y_true[::-1].copy(), head.y_pred[::-1].copy(), head.y_score[::-1].copy())
    both = unpaired_interval("accuracy", base, shifted, base_value=None, alpha=ALPHA, resamples=2000, seed=0)
    assert both.test == "unpaired bootstrap" and not both.paired
    assert both.low < both.delta < both.high
    head_only = unpaired_interval("accuracy", None, head, base_value=0.9, alpha=ALPHA, resamples=2000, seed=0)
    assert head_only.n_base is None
    assert head_only.delta == pytest.approx(point_value("accuracy", head) - 0.9)
    # Without base predictions the base value is taken as exact: the interval is narrower than with both.
    assert head_only.high - head_only.low < both.high - both.low


def test_predictions_that_cannot_give_a_metric_say_why():
    y = np.ones(50, dtype=int)
    with pytest.raises(StatsError, match="roc_auc needs exactly two classes in y_true"):
        point_value("roc_auc", Predictions(y, y, np.full(50, 0.7)))
    with pytest.raises(StatsError, match="log_loss needs a 'y_score' column"):
        point_value("log_loss", Predictions(np.r_[y, 0 * y], np.r_[y, y]))


def test_align_pairs_rows_by_id():
    base_ids, head_ids = np.array([3, 1, 2]), np.array([2, 3, 1])
    base_order, head_order = align(base_ids, head_ids)
    assert base_ids[base_order].tolist() == head_ids[head_order].tolist() == [1, 2, 3]
    assert align(np.array([1, 2, 3]), np.array([1, 2, 4])) is None
    assert align(np.array([1, 1, 2]), np.array([1, 2, 1])) is None


def _gate_fails(rule: GateRule, interval) -> bool:
    measured = Measured("metrics.json", rule.metric, interval.base, interval.head, head_present=True)
    return evaluate_rule(rule, measured, interval).outcome == "fail"


ANY_DROP = Tolerance(0.0)


@pytest.mark.parametrize(("metric", "rows", "resamples"), [("accuracy", 1000, 1000), ("roc_auc", 500, 1000)])
def test_noise_only_paired_prs_rarely_fail(metric: str, rows: int, resamples: int):
    """Two retrained models of the same quality (errors shared on 60% of rows), any drop gated."""
    rule = GateRule(metric, "higher", max_drop=ANY_DROP)
    rng = np.random.default_rng(100)
    failures = 0
    for pr in range(SIMULATED_PRS):
        y = rng.integers(0, 2, rows)
        base_pred, base_score = simulate(rng, y, 0.85)
        head_pred, head_score = simulate(rng, y, 0.85, like=base_pred, keep=0.6)
        base, head = Predictions(y, base_pred, base_score), Predictions(y, head_pred, head_score)
        interval = paired_interval(metric, base, head, alpha=ALPHA, resamples=resamples, seed=pr)
        failures += _gate_fails(rule, interval)
    assert failures / SIMULATED_PRS <= ALPHA + MARGIN, failures


def test_noise_only_prs_on_resampled_eval_sets_rarely_fail():
    """The same model evaluated on two eval sets drawn from one population: unpaired intervals."""
    rule = GateRule("accuracy", "higher", max_drop=ANY_DROP)
    rng = np.random.default_rng(200)
    population = rng.integers(0, 2, 50_000)
    population_pred, population_score = simulate(rng, population, 0.85)
    failures = 0
    for pr in range(SIMULATED_PRS):
        sides = []
        for _ in range(2):
            rows = rng.integers(0, len(population), 1000)
            sides.append(Predictions(population[rows], population_pred[rows], population_score[rows]))
        interval = unpaired_interval(
            "accuracy", sides[0], sides[1], base_value=None, alpha=ALPHA, resamples=1000, seed=pr
        )
        failures += _gate_fails(rule, interval)
    assert failures / SIMULATED_PRS <= ALPHA + MARGIN, failures


@pytest.mark.parametrize("paired", [True, False])
def test_a_two_point_accuracy_drop_on_5000_rows_is_caught(paired: bool):
    """accuracy 0.90 -> 0.88 with the example's tolerance (max_drop 0.01): paired (McNemar on the same rows)
    and unpaired (a fresh eval set for head)."""
    rule = GateRule("accuracy", "higher", max_drop=Tolerance(0.01))
    rng = np.random.default_rng(300)
    caught, prs = 0, 200
    for pr in range(prs):
        y = rng.integers(0, 2, 5000)
        base_pred, base_score = simulate(rng, y, 0.90)
        base = Predictions(y, base_pred, base_score)
        if paired:
            # Half the rows keep base's correctness; the other half are right with p = 0.86: 0.88 overall.
            head_pred, head_score = simulate(rng, y, 0.86, like=base_pred, keep=0.5)
            head = Predictions(y, head_pred, head_score)
            interval = paired_interval("accuracy", base, head, alpha=ALPHA, resamples=1000, seed=pr)
        else:
            fresh = rng.integers(0, 2, 5000)
            head = Predictions(fresh, *simulate(rng, fresh, 0.88))
            interval = unpaired_interval("accuracy", base, head, base_value=None, alpha=ALPHA, resamples=1000, seed=pr)
        caught += _gate_fails(rule, interval)
    assert caught / prs >= 0.8, caught
