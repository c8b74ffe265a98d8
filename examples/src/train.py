"""train: data/train.csv -> model.pkl, a scikit-learn pipeline chosen by params.yaml `train`.

train.model: logreg (C) or forest (n_estimators); train.n_features: use only the first N numeric features
(plus size_band), so a pull request can make the model genuinely worse; train.seed seeds the forest.
"""

import pickle
from pathlib import Path

import pandas as pd
from common import LABEL, SIZE_BAND, fail, load_params, numeric_features
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TRAIN_DATA = Path("data/train.csv")
MODEL_FILE = Path("model.pkl")


def build_classifier(params: dict) -> LogisticRegression | RandomForestClassifier:
    if params["model"] == "logreg":
        return LogisticRegression(C=params["C"], max_iter=5000)
    if params["model"] == "forest":
        return RandomForestClassifier(n_estimators=params["n_estimators"], random_state=params["seed"], n_jobs=1)
    fail(f"params.yaml: train.model must be 'logreg' or 'forest', got {params['model']!r}")


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


if __name__ == "__main__":
    main()
