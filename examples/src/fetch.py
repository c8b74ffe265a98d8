"""fetch (mlgate.yml retrain.data_command): simulate a fresh batch of data arriving, as raw/fresh.csv.

Every case of the bundled breast-cancer dataset is measured again with seeded noise (5 % of each feature's
standard deviation); row ids stay the case ids. prepare.py uses raw/fresh.csv instead of the bundled data
whenever the file exists, and `dvc repro` notices it because the prepare stage depends on raw/.

Environment:
  FETCH_SEED   integer, default 1: which batch (same seed, same file).
  FETCH_SHIFT  number, default 0: add this many standard deviations to the size features (mean and worst
               radius, perimeter, area): a covariate drift for mlgate's drift check to find.
"""

import os
from pathlib import Path

import numpy as np
from common import LABEL, ROW_ID, base_dataset, fail, numeric_features

FRESH_DATA = Path("raw/fresh.csv")
NOISE_SCALE = 0.05
SIZE_WORDS = ("radius", "perimeter", "area")


def env_number(name: str, default: str, kind: type[int] | type[float]) -> int | float:
    text = os.environ.get(name, default)
    try:
        return kind(text)
    except ValueError:
        fail(f"environment variable {name} must be {'an integer' if kind is int else 'a number'}, got {text!r}")


def main() -> None:
    seed = env_number("FETCH_SEED", "1", int)
    shift = env_number("FETCH_SHIFT", "0", float)
    frame = base_dataset()
    features = numeric_features(frame)
    spread = frame[features].std()
    noise = np.random.default_rng(seed).normal(size=(len(frame), len(features)))
    frame[features] = frame[features] + noise * spread.to_numpy() * NOISE_SCALE
    size_features = [column for column in features if column.endswith(SIZE_WORDS)]
    frame[size_features] = frame[size_features] + shift * spread[size_features]
    # Measurements are non-negative; a negative shift must not produce impossible values.
    frame[features] = frame[features].clip(lower=0.0)
    FRESH_DATA.parent.mkdir(exist_ok=True)
    frame[[ROW_ID, *features, LABEL]].to_csv(FRESH_DATA, index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
