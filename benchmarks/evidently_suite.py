"""The other alternative to `mlgate validate` at scale: Evidently's data summary and data drift presets with
their default tests, on the benchmark's train file and its drifted copy, as a user would write it.

Evidently pins its own stack (pandas, numpy), so it runs from a virtualenv of its own:

    uv venv /tmp/evidently && uv pip install --python /tmp/evidently/bin/python evidently 'pandas<3' pyarrow
    /tmp/evidently/bin/python -m benchmarks.evidently_suite DIR      # DIR: benchmarks.validation's data folder
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def run_evidently(folder: Path) -> dict:
    started = time.perf_counter()
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    imported = time.perf_counter()
    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    loaded = time.perf_counter()
    result = Report([DataSummaryPreset(), DataDriftPreset()], include_tests=True).run(
        current_data=test, reference_data=train
    )
    finished = time.perf_counter()
    failed = [test["name"] for test in result.dict().get("tests", []) if test.get("status") == "FAIL"]
    return {
        "import_s": imported - started,
        "load_s": loaded - imported,
        "run_s": finished - loaded,
        "failed_tests": len(failed),
        "examples": failed[:5],
    }


if __name__ == "__main__":
    print(json.dumps(run_evidently(Path(sys.argv[1])), indent=2))
