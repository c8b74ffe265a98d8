"""Run deepchecks' tabular suites and map their outcome onto mlgate's pass/warn/fail vocabulary.

Model evaluation never loads a model: the per-row predictions of the test rows (the file `metrics.predictions`
names) are handed to deepchecks as static predictions (`y_pred_*` / `y_proba_*`), so no pickled model crosses
from the user's environment into ours.

Mapping: a check's worst condition category gives pass/warn/fail (a check without conditions passes); a
CheckFailure whose exception says the check does not fit the data or task (ModelValidationError,
DatasetValidationError, DeepchecksNotSupportedError, NotEnoughSamplesError, or a missing feature importance,
which static predictions cannot give) is "not applicable"; any other exception is "error".
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.adapters.datafiles import DataFile, read_data_file
from mlgate.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SUITES = ("data_integrity", "train_test_validation", "model_evaluation")
STATUSES = ("pass", "warn", "fail", "not_applicable", "error")
_CONDITION_STATUS = {"PASS": "pass", "WARN": "warn", "FAIL": "fail", "ERROR": "error"}
_NOT_APPLICABLE = (
    "ModelValidationError",
    "DatasetValidationError",
    "DeepchecksNotSupportedError",
    "NotEnoughSamplesError",
)
# Static predictions carry no feature importance, and small data cannot train Weak Segments' error model: in both
# cases the check cannot apply to this input, which is what "not applicable" means (not a crash of the check).
_CANNOT_APPLY = ("Feature Importance is not available", "unable to train an error model")
PROBA_PREFIX = "y_proba_"


@dataclass(frozen=True)
class CheckOutcome:
    check: str
    status: str
    details: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "details": self.details}


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    checks: tuple[CheckOutcome, ...]
    report: Path | None

    def to_dict(self) -> dict[str, Any]:
        counts = {status: sum(check.status == status for check in self.checks) for status in STATUSES}
        return {
            "suite": self.suite,
            "report": str(self.report) if self.report else None,
            "counts": counts,
            "checks": [check.to_dict() for check in self.checks],
        }


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions in test-row order; `proba` columns follow `classes` (sorted)."""

    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: list[Any] | None

    def take(self, indices: np.ndarray | None) -> Predictions:
        if indices is None:
            return self
        proba = None if self.proba is None else self.proba[indices]
        return Predictions(self.y_pred[indices], proba, self.classes)


def read_predictions(path: Path, test: DataFile, label: str) -> Predictions:
    """Read the per-row predictions file (y_pred, optional y_true, y_score or y_proba_<class> columns)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    data = read_data_file(path)
    columns = data.columns
    if "y_pred" not in columns:
        raise InputError("predictions file has no 'y_pred' column", file=path)
    if data.rows != test.rows:
        raise InputError(
            f"has {data.rows} prediction rows but {test.name} has {test.rows} rows: one prediction per test row",
            file=path,
        )
    if "y_true" in columns:
        truth, label_values = data.table.column("y_true"), test.table.column(label)
        try:
            same = pc.equal(truth.cast(label_values.type), label_values)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InputError(
                f"y_true holds values that cannot be labels of '{label}' in {test.name}", file=path
            ) from None
        differing = data.rows - (pc.sum(same).as_py() or 0)
        if differing:
            raise InputError(
                f"y_true differs from {test.name}'s '{label}' in {differing} rows: rows must follow the test order",
                file=path,
            )
    y_pred = data.table.column("y_pred").to_numpy()
    proba_columns = [name for name in columns if name.startswith(PROBA_PREFIX)]
    if proba_columns:
        names = pa.array([name[len(PROBA_PREFIX) :] for name in proba_columns])
        try:
            typed = pc.cast(names, test.table.column(label).type).to_pylist()
        except pa.ArrowInvalid:
            raise InputError(
                f"the classes named by its {PROBA_PREFIX}<class> columns are not values of '{label}'", file=path
            ) from None
        order = np.argsort(typed)
        proba = np.column_stack([data.table.column(proba_columns[i]).to_numpy() for i in order])
        return Predictions(y_pred, proba, [typed[i] for i in order])
    if "y_score" in columns:
        score = data.table.column("y_score").to_numpy().astype(float)
        classes = sorted(set(np.unique(y_pred).tolist()) | set(pc.unique(test.table.column(label)).to_pylist()))
        if len(classes) != 2:
            raise InputError("y_score (positive-class probability) needs a binary label", file=path)
        return Predictions(y_pred, np.column_stack([1 - score, score]), classes)
    return Predictions(y_pred, None, None)


def _outcome(result: Any) -> CheckOutcome:
    from deepchecks.core.check_result import CheckFailure

    header = result.get_header()
    if isinstance(result, CheckFailure):
        kind = type(result.exception).__name__
        cannot_apply = any(text in str(result.exception) for text in _CANNOT_APPLY)
        status = "not_applicable" if kind in _NOT_APPLICABLE or cannot_apply else "error"
        return CheckOutcome(header, status, f"{kind}: {result.exception}")
    conditions = result.conditions_results
    if not conditions:
        return CheckOutcome(header, "pass", "no condition")
    order = ("error", "fail", "warn", "pass")
    statuses = [_CONDITION_STATUS[condition.category.value] for condition in conditions]
    status = min(statuses, key=order.index)
    details = "; ".join(
        f"{condition.name}: {condition.details}"
        for condition in conditions
        if _CONDITION_STATUS[condition.category.value] == status
    )
    return CheckOutcome(header, status, details)


def _save_report(result: Any, target: Path) -> Path:
    """Write the HTML report, replacing any previous one atomically.

    deepchecks' save_as_html never overwrites: given an existing name it writes `name (1).html`. So it writes
    into a fresh private directory, and the file is renamed over the target.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".deepchecks-", dir=target.parent))
    try:
        written = result.save_as_html(str(scratch / target.name), as_widget=False, connected=False)
        os.replace(written, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def run_suites(
    names: Sequence[str],
    train: pd.DataFrame,
    test: pd.DataFrame | None,
    *,
    label: str,
    cat_features: Sequence[str],
    predictions: Predictions | None,
    report_dir: Path | None,
) -> list[SuiteOutcome]:
    """Run each named suite on the given frames; write `deepchecks-<suite>.html` under report_dir."""
    outcomes = []
    with _quiet():
        from deepchecks.tabular import Dataset, suites

        train_ds = Dataset(train, label=label, cat_features=list(cat_features))
        test_ds = Dataset(test, label=label, cat_features=list(cat_features)) if test is not None else None
        for name in names:
            suite = getattr(suites, name)()
            if name == "model_evaluation":
                result = _evaluate_model(suite, test_ds, predictions, with_display=report_dir is not None)
            else:
                result = suite.run(train_ds, test_ds, with_display=report_dir is not None)
            report = _save_report(result, report_dir / f"deepchecks-{name}.html") if report_dir is not None else None
            checks = tuple(_outcome(check) for check in result.results)
            if name == "model_evaluation":  # its one dataset is the test set, whatever deepchecks calls it
                checks = tuple(replace(c, check=c.check.removesuffix(" - Train Dataset")) for c in checks)
            outcomes.append(SuiteOutcome(name, checks, report))
    return outcomes


def _evaluate_model(suite: Any, test: Any, predictions: Predictions | None, *, with_display: bool) -> Any:
    """Model evaluation on the test rows alone, from their predictions.

    deepchecks' static-prediction model answers only for rows it has predictions for, and every check that
    sees train asks it about train rows. So the test data goes into deepchecks' single-dataset slot with its
    predictions; the train-vs-test checks (overfit, prediction drift) come out "not applicable".
    """
    if test is None or predictions is None:
        raise InputError("deepchecks model_evaluation needs test data and a predictions file")
    arguments: dict[str, Any] = {"y_pred_train": predictions.y_pred, "model_classes": predictions.classes}
    if predictions.proba is not None:
        arguments["y_proba_train"] = predictions.proba
    return suite.run(train_dataset=test, with_display=with_display, **arguments)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Mute deepchecks' progress bars, warnings and logger: mlgate reports the findings itself."""
    logger = logging.getLogger("deepchecks")
    level = logger.level
    logger.setLevel(logging.ERROR)
    # Worker processes deepchecks spawns import it afresh and warn on their own stderr; the variable reaches them.
    saved_warnings = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        if saved_warnings is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = saved_warnings
