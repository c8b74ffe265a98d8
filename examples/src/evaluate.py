"""evaluate: model.pkl + data/test.csv -> metrics.json and eval/predictions.csv (one row per test case).

metrics.json also holds `train.accuracy` and `train.log_loss` (the same model on data/train.csv), so the
report can show the train–test gap.
"""

import json
import pickle
from pathlib import Path

import pandas as pd
from common import LABEL, ROW_ID
from sklearn import metrics

TEST_DATA = Path("data/test.csv")
TRAIN_DATA = Path("data/train.csv")
MODEL_FILE = Path("model.pkl")
METRICS_FILE = Path("metrics.json")
PREDICTIONS_FILE = Path("eval/predictions.csv")
# Fixed precision keeps the committed files byte-identical across re-runs and platforms.
DIGITS = 6


def main() -> None:
    test = pd.read_csv(TEST_DATA)
    model = pickle.loads(MODEL_FILE.read_bytes())
    features = test.drop(columns=[LABEL])
    y_true = test[LABEL]
    y_score = model.predict_proba(features)[:, 1]
    y_pred = (y_score >= 0.5).astype(int)
    scores = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "precision": metrics.precision_score(y_true, y_pred, zero_division=0),
        "recall": metrics.recall_score(y_true, y_pred),
        "f1": metrics.f1_score(y_true, y_pred),
        "roc_auc": metrics.roc_auc_score(y_true, y_score),
        "log_loss": metrics.log_loss(y_true, y_score, labels=[0, 1]),
    }
    train = pd.read_csv(TRAIN_DATA)
    train_score = model.predict_proba(train.drop(columns=[LABEL]))[:, 1]
    on_train = {
        "accuracy": metrics.accuracy_score(train[LABEL], (train_score >= 0.5).astype(int)),
        "log_loss": metrics.log_loss(train[LABEL], train_score, labels=[0, 1]),
    }
    report = {name: round(float(value), DIGITS) for name, value in scores.items()} | {"n_test": len(test)}
    report["train"] = {name: round(float(value), DIGITS) for name, value in on_train.items()}
    METRICS_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    PREDICTIONS_FILE.parent.mkdir(exist_ok=True)
    pd.DataFrame({ROW_ID: test[ROW_ID], "y_true": y_true, "y_pred": y_pred, "y_score": y_score.round(DIGITS)}).to_csv(
        PREDICTIONS_FILE, index=False, float_format=f"%.{DIGITS}f"
    )


if __name__ == "__main__":
    main()
