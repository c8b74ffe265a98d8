"""What the pipeline's stages share: the parameters, the bundled dataset and the column roles."""

import sys
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import yaml

PARAMS_FILE = Path("params.yaml")
ROW_ID = "row_id"
LABEL = "target"
SIZE_BAND = "size_band"


def fail(message: str) -> NoReturn:
    sys.exit(f"error: {message}")


def load_params(section: str, types: dict[str, type]) -> dict[str, Any]:
    """One section of params.yaml with each key in `types` present and of that type (an int passes as float).

    The stages run from the repository root, as `dvc repro` runs them.
    """
    values = (yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8")) or {}).get(section)
    if not isinstance(values, dict):
        fail(f"{PARAMS_FILE}: section '{section}' is missing")
    for key, kind in types.items():
        value = values.get(key)
        accepted = (int, float) if kind is float else kind
        if isinstance(value, bool) or not isinstance(value, accepted):
            fail(f"{PARAMS_FILE}: {section}.{key} must be a {kind.__name__}, got {value!r}")
    return values


def base_dataset() -> pd.DataFrame:
    """scikit-learn's bundled breast-cancer data (no download): row_id, 30 features, target (1 = benign)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [name.replace(" ", "_") for name in frame.columns]
    frame.insert(0, ROW_ID, frame.index)
    return frame


def numeric_features(frame: pd.DataFrame) -> list[str]:
    return [column for column in frame.columns if column not in (ROW_ID, LABEL, SIZE_BAND)]
