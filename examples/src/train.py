"""train: data/train.csv -> model.pkl and train_curve.csv, a scikit-learn pipeline chosen by params.yaml `train`.

train.model: logreg (C) or forest (n_estimators); train.n_features: use only the first N numeric features
(plus size_band), so a pull request can make the model genuinely worse; train.seed seeds the forest.
The training curve (a DVC plot) is the training set's log loss after each solver iteration (logreg) or each
batch of trees (forest), from a warm-started copy of the classifier: the saved model is fitted as before.
"""

import csv
import pickle
import warnings
from pathlib import Path

import pandas as pd
from common import LABEL, SIZE_BAND, fail, load_params, numeric_features
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TRAIN_DATA = Path("data/train.csv")
MODEL_FILE = Path("model.pkl")
CURVE_FILE = Path("train_curve.csv")
CURVE_STEPS = 40


def build_classifier(params: dict) -> LogisticRegression | RandomForestClassifier:
    if params["model"] == "logreg":
        return LogisticRegression(C=params["C"], max_iter=5000)
    if params["model"] == "forest":
        return RandomForestClassifier(n_estimators=params["n_estimators"], random_state=params["seed"], n_jobs=1)
    fail(f"params.yaml: train.model must be 'logreg' or 'forest', got {params['model']!r}")


def training_curve(classifier, features, y) -> list[tuple[int, float]]:
    """(step, training log loss) for CURVE_STEPS warm-started steps of a copy of `classifier`."""
    stepped = clone(classifier)
    forest = isinstance(stepped, RandomForestClassifier)
    trees = max(1, stepped.n_estimators // CURVE_STEPS) if forest else 0
    stepped.set_params(warm_start=True, **({"n_estimators": 0} if forest else {"max_iter": 1}))
    curve = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one iteration per fit is the point
        for step in range(1, CURVE_STEPS + 1):
            if forest:
                stepped.set_params(n_estimators=step * trees)
            stepped.fit(features, y)
            curve.append((step, round(log_loss(y, stepped.predict_proba(features), labels=[0, 1]), 6)))
    return curve


def main() -> None:
    params = load_params("train", {"model": str, "C": float, "n_estimators": int, "n_features": int, "seed": int})
    train = pd.read_csv(TRAIN_DATA)
    numeric = numeric_features(train)
    n_features = params["n_features"]
    if not 1 <= n_features <= len(numeric):
        fail(f"params.yaml: train.n_features must be from 1 to {len(numeric)}, got {n_features}")
    features = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric[:n_features]),
            ("size_band", OneHotEncoder(handle_unknown="ignore"), [SIZE_BAND]),
        ]
    )
    model = Pipeline([("features", features), ("classifier", build_classifier(params))])
    model.fit(train.drop(columns=[LABEL]), train[LABEL])
    MODEL_FILE.write_bytes(pickle.dumps(model))
    encoded = model.named_steps["features"].transform(train.drop(columns=[LABEL]))
    with CURVE_FILE.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "loss"])
        writer.writerows(training_curve(model.named_steps["classifier"], encoded, train[LABEL]))


if __name__ == "__main__":
    main()
