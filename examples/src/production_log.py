"""production_log (mlgate.yml monitor.data_command): simulate the deployed model's production log, one CSV
per day under production/date=YYYY-MM-DD/requests.csv, as a serving system would write it.

Each day's requests are test-split cases (data/test.csv) drawn with seeded noise, scored by model.pkl. From
the drift day on, the mean and worst features grow by DRIFT_SHIFT standard deviations (the standard errors
stay), so two thirds of the inputs drift and, the true labels being the cases' own, the predictions get worse.
Labels arrive LABEL_DELAY days late: a day's `label` column stays empty until then (its file is rewritten).
Latency is log-normal around 20 ms, five times slower on the slow days; about 0.5% of requests fail (500).

Environment:
  PRODUCTION_START       first day, default 2026-01-01
  PRODUCTION_TODAY       days written so far (day 1 .. today), default 14
  PRODUCTION_DRIFT_DAY   first drifted day, default 8 (0: never)
  PRODUCTION_SLOW_DAYS   slow days, "first-last", default 5-6 (empty: none)
  PRODUCTION_LABEL_DELAY days until labels arrive, default 2
  PRODUCTION_ROWS        requests per day, default 250
"""

import os
import pickle
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from common import LABEL, ROW_ID, SIZE_BAND, fail, numeric_features

TEST_DATA = Path("data/test.csv")
MODEL_FILE = Path("model.pkl")
OUT_DIR = Path("production")
DRIFTING = ("mean_", "worst_")
DRIFT_SHIFT = 1.5
NOISE_SCALE = 0.05
SLOW_FACTOR = 5.0
ERROR_RATE = 0.005
# The size bands of prepare.py, recomputed from the (possibly drifted) mean radius.
SIZE_BAND_EDGES = [0.0, 12.0, 16.0, float("inf")]
SIZE_BAND_NAMES = ["small", "medium", "large"]


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


def integer(name: str, default: str) -> int:
    text = setting(name, default)
    try:
        return int(text)
    except ValueError:
        fail(f"environment variable {name} must be an integer, got {text!r}")


def slow_days() -> range:
    text = setting("PRODUCTION_SLOW_DAYS", "5-6")
    if not text:
        return range(0)
    first, _, last = text.partition("-")
    try:
        return range(int(first), int(last or first) + 1)
    except ValueError:
        fail(f"PRODUCTION_SLOW_DAYS must be 'first-last', got {text!r}")


def one_day(test: pd.DataFrame, model, day: int, moment: date, rows: int, drift_day: int, slow: range):
    rng = np.random.default_rng([20260101, day])
    cases = test.iloc[rng.integers(0, len(test), rows)].reset_index(drop=True)
    features = numeric_features(test)
    spread = test[features].std().to_numpy()
    cases[features] = cases[features] + rng.normal(size=(rows, len(features))) * spread * NOISE_SCALE
    if drift_day and day >= drift_day:
        grown = [column for column in features if column.startswith(DRIFTING)]
        cases[grown] = cases[grown] + test[grown].std().to_numpy() * DRIFT_SHIFT
    cases[SIZE_BAND] = pd.cut(cases["mean_radius"], SIZE_BAND_EDGES, labels=SIZE_BAND_NAMES).astype(str)
    score = model.predict_proba(cases.drop(columns=[LABEL]))[:, 1]
    seconds = np.sort(rng.uniform(0, 86400, rows))
    start = datetime(moment.year, moment.month, moment.day)
    latency = rng.lognormal(np.log(20.0), 0.35, rows) * (SLOW_FACTOR if day in slow else 1.0)
    log = pd.DataFrame(
        {
            "ts": [(start + timedelta(seconds=float(s))).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for s in seconds],
            "request_id": [f"{moment:%Y%m%d}-{i:05d}" for i in range(rows)],
        }
    )
    log = pd.concat([log, cases.drop(columns=[ROW_ID, LABEL])], axis=1)
    log["prediction"] = (score >= 0.5).astype(int)
    log["score"] = score.round(6)
    log["label"] = cases[LABEL]
    log["latency_ms"] = latency.round(2)
    log["status"] = np.where(rng.random(rows) < ERROR_RATE, 500, 200)
    log["request_bytes"] = rng.integers(900, 1400, rows)
    return log


def main() -> None:
    try:
        first = date.fromisoformat(setting("PRODUCTION_START", "2026-01-01"))
    except ValueError:
        fail(f"PRODUCTION_START must be a date (YYYY-MM-DD), got {setting('PRODUCTION_START', '')!r}")
    today = integer("PRODUCTION_TODAY", "14")
    drift_day = integer("PRODUCTION_DRIFT_DAY", "8")
    delay = integer("PRODUCTION_LABEL_DELAY", "2")
    rows = integer("PRODUCTION_ROWS", "250")
    slow = slow_days()
    test = pd.read_csv(TEST_DATA)
    model = pickle.loads(MODEL_FILE.read_bytes())
    for day in range(1, today + 1):
        moment = first + timedelta(days=day - 1)
        log = one_day(test, model, day, moment, rows, drift_day, slow)
        if day > today - delay:  # not yet known
            log["label"] = pd.NA
        folder = OUT_DIR / f"date={moment:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        log.to_csv(folder / "requests.csv", index=False)


if __name__ == "__main__":
    main()
