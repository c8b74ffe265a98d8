"""12. Serving probe: its own overhead, how many requests its p95 needs to be stable within 5%, and how the gate
built on it decides here (equal models pass serving.latency_p95_ms, a model doing 3x the work fails it).

The model is what the tests serve: a scaled logistic regression on scikit-learn's breast-cancer data, in a
pickle, one row per request. The alternative to the probe is the loop a user would write: load the pickle and
time `predict` on each row with `time.perf_counter`. Each figure is a fresh process of the measured interpreter.

    python -m benchmarks.serving models DIR                 # write base.pkl, slow.pkl (3x the work) and rows.csv
    python -m benchmarks.serving loop DIR REQUESTS          # the user's loop: median latency (ms), as JSON
    python -m benchmarks.serving decide DIR 50,100 REPEATS RUNS  # p95 spread of equal models per request count;
                                                                 # RUNS probes of equal and 3x models, judged
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from benchmarks.harness import Case, Context, Row, Section, at_least, at_most, interleave, median_wall, seconds, times

NAME = "serving"
TITLE = "Serving probe: overhead, p95 stability, the latency gate's decisions"
REQUESTS = 200
STABLE_WITHIN = 0.05  # the p95's spread (half the central 80% range over repeats) relative to its median
REQUEST_COUNTS = (50, 100, 200, 400, 800)
SMOKE_REQUEST_COUNTS = (20,)
REPEATS = 10
RUNS = 40
MIN_PASS_RATE = 0.95
MAX_OVERHEAD = 1.5  # probe process wall vs the user's loop, same requests (the probe also loads twice and batches)


class Repeated:
    """A model that answers like the one it wraps after predicting `times` times: real, deterministic work."""

    def __init__(self, inner: object, times: int) -> None:
        self.inner, self.times = inner, times

    def predict(self, rows: object) -> object:
        for _ in range(self.times - 1):
            self.inner.predict(rows)  # type: ignore[attr-defined]
        return self.inner.predict(rows)  # type: ignore[attr-defined]


def write_models(folder: Path) -> None:
    import pickle

    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = load_breast_cancer(as_frame=True).frame
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(frame.drop(columns=["target"]), frame["target"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.pkl").write_bytes(pickle.dumps(Repeated(model, 1)))
    (folder / "slow.pkl").write_bytes(pickle.dumps(Repeated(model, 3)))
    frame.sample(100, random_state=0).drop(columns=["target"]).to_csv(folder / "rows.csv", index=False)


def spec(folder: Path, head: str, requests: int) -> dict[str, object]:
    return {
        "models": [{"side": "base", "path": str(folder / "base.pkl")}, {"side": "head", "path": str(folder / head)}],
        "data": str(folder / "rows.csv"),
        "drop": [],
        "requests": requests,
        "warmup": 20,
        "batch_rows": 1000,
        "batch_repeats": 5,
        "output": str(folder / "probe.json"),
    }


def user_loop(folder: Path, requests: int) -> float:
    """The loop a user writes: load the pickle, time predict on each row; the median latency in ms."""
    import pickle
    import time

    import pandas

    model = pickle.loads((folder / "base.pkl").read_bytes())
    frame = pandas.read_csv(folder / "rows.csv")
    times_ms = []
    for i in range(requests):
        row = frame.iloc[[i % len(frame)]]
        started = time.perf_counter()
        model.predict(row)
        times_ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(times_ms)


def p95_spread(folder: Path, requests: int, repeats: int) -> dict[str, float]:
    """Equal models probed `repeats` times: the median p95 and its spread (half the central 80% range) over it."""
    import numpy as np

    from mlgate.serving import probe

    values = [
        float(np.percentile(probe.measure(spec(folder, "base.pkl", requests))["head"]["latencies_ms"], 95))
        for _ in range(repeats)
    ]
    low, middle, high = np.percentile(values, [10, 50, 90])
    return {"median_p95_ms": float(middle), "spread": float((high - low) / 2 / middle)}


def gate_runs(folder: Path, head: str, runs: int) -> dict[str, object]:
    """`runs` probes of base vs `head` at the default requests, each judged by serving.latency_p95_ms with the
    example's tolerance (10%, no max): how many regressed."""
    from mlgate.config.model import GateRule, Significance, Tolerance
    from mlgate.serving import probe
    from mlgate.serving.metrics import judge

    rule = GateRule("serving.latency_p95_ms", "lower", max_increase=Tolerance(0.10, relative=True))
    statuses = []
    for _ in range(runs):
        measured = probe.measure(spec(folder, head, REQUESTS))
        _, [result] = judge([rule], measured, {"base": 1, "head": 1}, Significance())
        statuses.append(result.status)
    return {"runs": runs, "regressed": sum(s == "regressed" for s in statuses)}


def run(ctx: Context) -> Section:
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    folder = ctx.work_dir / "serving"
    models = Case(ctx.module(NAME, "models", str(folder)))
    interleave({"models": models}, repeats=1, warmup=0)
    requests = 40 if ctx.smoke else REQUESTS
    probe_file = Path(__file__).resolve().parents[1] / "src/mlgate/serving/probe.py"
    (folder / "spec.json").write_text(json.dumps(spec(folder, "base.pkl", requests)))
    probe_argv = [str(ctx.python), str(probe_file), str(folder / "spec.json")]
    loop_argv = ctx.module(NAME, "loop", str(folder), str(2 * requests))  # the probe sends each request twice
    cases = {
        "probe": Case(probe_argv),
        "loop": Case(loop_argv),
    }
    runs = interleave(cases, repeats=1 if ctx.smoke else 5, warmup=0 if ctx.smoke else 1)
    probe_wall, loop_wall = median_wall(runs["probe"]), median_wall(runs["loop"])
    ratio = probe_wall / loop_wall
    section.rows.append(
        Row(
            f"process wall, {requests} requests x 2 models (probe) vs {2 * requests} in the user's loop",
            seconds(probe_wall),
            seconds(loop_wall),
            times(ratio),
            f"<= {MAX_OVERHEAD:g}x",
            at_most(ratio, MAX_OVERHEAD),
            ctx.display(probe_argv),
        )
    )
    probed = json.loads((folder / "probe.json").read_text())["sides"]["base"]["latencies_ms"]
    looped = json.loads(runs["loop"][-1].stdout)["median_ms"]
    per_request = statistics.median(probed) / looped
    section.rows.append(
        Row(
            "median single-row latency: probe's timing vs the user's loop",
            f"{statistics.median(probed):.3f} ms",
            f"{looped:.3f} ms",
            times(per_request),
            "<= 1.1x",
            at_most(per_request, 1.1),
            ctx.display(loop_argv),
        )
    )
    repeats = 2 if ctx.smoke else REPEATS
    counts = SMOKE_REQUEST_COUNTS if ctx.smoke else REQUEST_COUNTS
    gate_count = 2 if ctx.smoke else RUNS
    argv = ctx.module(NAME, "decide", str(folder), ",".join(map(str, counts)), str(repeats), str(gate_count))
    [measured] = interleave({"decide": Case(argv)}, repeats=1, warmup=0)["decide"]
    decided = json.loads(measured.stdout)
    stable = None
    for count in counts:
        found = decided["p95"][str(count)]
        if stable is None and found["spread"] <= STABLE_WITHIN:
            stable = count
        section.rows.append(
            Row(
                f"p95 over {count} requests: spread over {repeats} probes of equal models",
                f"{found['spread'] * 100:.1f}% of {found['median_p95_ms']:.3f} ms",
                target=f"<= {STABLE_WITHIN * 100:g}%",
                verdict=at_most(found["spread"], STABLE_WITHIN, lambda v: f"{v * 100:.1f} pp"),
                command=ctx.display(argv),
            )
        )
    section.notes.append(
        f"The p95 is stable within {STABLE_WITHIN * 100:g}% from {stable} requests per model here."
        if stable is not None
        else f"No request count tried kept the p95 within {STABLE_WITHIN * 100:g}% here."
    )
    for head, label, wanted in (("base.pkl", "equal models pass", True), ("slow.pkl", "3x the work fails", False)):
        found = decided["gate"][head]
        rate = (found["runs"] - found["regressed"]) / found["runs"] if wanted else found["regressed"] / found["runs"]
        section.rows.append(
            Row(
                f"serving.latency_p95_ms (+10%, Mann-Whitney): {label}, {found['runs']} probes",
                f"{rate * 100:.0f}% ({found['regressed']} regressed)",
                target=f">= {MIN_PASS_RATE * 100:g}%",
                verdict=at_least(rate, MIN_PASS_RATE, lambda v: f"{v * 100:.0f} pp"),
                command=ctx.display(argv),
            )
        )
    return section


def main(argv: list[str]) -> None:
    command, folder = argv[0], Path(argv[1])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # pickles name benchmarks.serving.Repeated
    if command == "models":
        from benchmarks import serving  # not __main__: the pickles must name a module the probe can import

        serving.write_models(folder)
    elif command == "loop":
        print(json.dumps({"median_ms": user_loop(folder, int(argv[2]))}))
    elif command == "decide":
        counts, repeats, runs = [int(c) for c in argv[2].split(",")], int(argv[3]), int(argv[4])
        decided = {
            "p95": {str(count): p95_spread(folder, count, repeats) for count in counts},
            "gate": {head: gate_runs(folder, head, runs) for head in ("base.pkl", "slow.pkl")},
        }
        print(json.dumps(decided))


if __name__ == "__main__":
    main(sys.argv[1:])
