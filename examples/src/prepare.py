"""prepare: raw data -> data/train.csv and data/test.csv (stratified split seeded by params.yaml `prepare`).

The raw data is raw/fresh.csv when src/fetch.py has written one, else the bundled breast-cancer dataset.
Adds one derived categorical column, size_band, from mean_radius.
"""

from pathlib import Path

import pandas as pd
from common import LABEL, SIZE_BAND, base_dataset, fail, load_params
from sklearn.model_selection import train_test_split

FRESH_DATA = Path("raw/fresh.csv")
OUT_DIR = Path("data")
# Mean-radius cut points (mm) of the size bands; the dataset's radii run from about 7 to 28.
SIZE_BAND_EDGES = [0.0, 12.0, 16.0, float("inf")]
SIZE_BAND_NAMES = ["small", "medium", "large"]


def add_size_band(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with size_band: small, medium or large by mean_radius (a band includes its upper edge)."""
    banded = frame.copy()
    banded[SIZE_BAND] = pd.cut(banded["mean_radius"], SIZE_BAND_EDGES, labels=SIZE_BAND_NAMES).astype(str)
    return banded


def main() -> None:
    params = load_params("prepare", {"seed": int, "test_size": float})
    if not 0.0 < params["test_size"] < 1.0:
        fail(f"params.yaml: prepare.test_size must be between 0 and 1, got {params['test_size']!r}")
    raw = pd.read_csv(FRESH_DATA) if FRESH_DATA.exists() else base_dataset()
    raw = add_size_band(raw)
    columns = [column for column in raw.columns if column != LABEL] + [LABEL]
    train, test = train_test_split(
        raw[columns], test_size=params["test_size"], stratify=raw[LABEL], random_state=params["seed"]
    )
    OUT_DIR.mkdir(exist_ok=True)
    train.to_csv(OUT_DIR / "train.csv", index=False)
    test.to_csv(OUT_DIR / "test.csv", index=False)


if __name__ == "__main__":
    main()
