"""mlgate's built-in serving probe. It runs as a script in the PROJECT's Python (the one its stages and service
use, with their scikit-learn), never imports mlgate, and takes one argument: a JSON spec written by
mlgate.steps.serving — {models: [{side, path}], data, drop: [columns], requests, warmup, batch_rows,
batch_repeats, output}.

Both models are loaded in this one process and measured interleaved: request i goes to base then head (head
then base on odd i), on the same input row, so a noisy runner slows both sides alike. Per model it records
the single-row latency of every request, the rows per second of whole batches, and the memory that loading
the model and its first prediction allocated (tracemalloc: Python and NumPy allocations).
"""

import gc
import json
import os
import pickle
import sys
import time
import tracemalloc


class OnnxModel:
    """An ONNX file behind scikit-learn's `predict`: the frame's values as float32, the first output."""

    def __init__(self, path):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def predict(self, frame):
        import numpy

        return self.session.run(None, {self.input: numpy.asarray(frame, dtype=numpy.float32)})[0]


def load(path):
    if path.endswith(".onnx"):
        return OnnxModel(path)
    if path.endswith(".joblib"):
        import joblib

        return joblib.load(path)
    with open(path, "rb") as handle:
        return pickle.load(handle)


def read_rows(path, drop):
    import pandas

    try:
        frame = pandas.read_parquet(path) if path.endswith((".parquet", ".pq")) else pandas.read_csv(path)
    except Exception as exc:  # pandas' parser errors share no base class; the message names the file instead
        sys.exit(f"mlgate serving probe: {path}: cannot be read as rows to send ({type(exc).__name__}: {exc})")
    missing = [column for column in drop if column not in frame.columns]
    if missing:  # rows without the label mlgate was told to leave out are not the rows the model expects
        sys.exit(f"mlgate serving probe: {path}: label column {missing[0]!r} is not in the file")
    return frame.drop(columns=drop)


def loaded(path, first_rows):
    """The model, and what loading it and predicting once allocated (retained and peak bytes), and took. A first,
    untraced load imports the model's libraries, so neither side is charged for them (nor slowed by tracing)."""
    load(path).predict(first_rows)
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    model = load(path)
    model.predict(first_rows)
    seconds = time.perf_counter() - started
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return model, {"retained_bytes": retained, "peak_bytes": peak, "load_seconds": seconds}


def timed(predict, rows):
    started = time.perf_counter_ns()
    predict(rows)
    return (time.perf_counter_ns() - started) / 1e6


def measure(spec):
    """side → {latencies_ms, batch_rows, batch_ms, memory} of the spec's models, measured interleaved."""
    frame = read_rows(spec["data"], spec["drop"])
    if len(frame) == 0:
        sys.exit(f"mlgate serving probe: {spec['data']} has no rows to send")
    sides = [model["side"] for model in spec["models"]]
    models, memory = {}, {}
    for model in spec["models"]:
        models[model["side"]], memory[model["side"]] = loaded(model["path"], frame.iloc[:1])
    singles = [frame.iloc[[i]] for i in range(min(len(frame), spec["requests"]))]
    for i in range(spec["warmup"]):
        for side in sides:
            models[side].predict(singles[i % len(singles)])
    latencies = {side: [] for side in sides}
    for i in range(spec["requests"]):
        rows = singles[i % len(singles)]
        for side in sides if i % 2 == 0 else sides[::-1]:
            latencies[side].append(timed(models[side].predict, rows))
    repeats = -(-spec["batch_rows"] // len(frame))
    batch = frame if repeats == 1 else frame.loc[frame.index.repeat(repeats)]
    batch = batch.iloc[: spec["batch_rows"]]
    batches = {side: [] for side in sides}
    for i in range(spec["batch_repeats"]):
        for side in sides if i % 2 == 0 else sides[::-1]:
            batches[side].append(timed(models[side].predict, batch))
    result = {
        side: {
            "latencies_ms": latencies[side],
            "batch_rows": len(batch),
            "batch_ms": batches[side],
            "memory": memory[side],
        }
        for side in sides
    }
    return result


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path.insert(0, os.getcwd())  # a pickle may name the project's own modules, as its service imports them
    result = measure(spec)
    with open(spec["output"], "w", encoding="utf-8") as handle:
        json.dump({"python": sys.version.split()[0], "sides": result}, handle)


if __name__ == "__main__":
    main()
