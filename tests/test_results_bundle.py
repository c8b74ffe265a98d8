"""The results bundle: typed round trip, strict JSON, atomic writes, clear errors on foreign files."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from mlgate.errors import InputError
from mlgate.results import StepResult, read_bundle, read_result, read_results_dir, result_path, write_result

HEAD, BASE = "a" * 40, "b" * 40


def sample(verdict: str = "pass", label: str | None = None, **evidence) -> StepResult:
    return StepResult(
        step="compare",
        verdict=verdict,
        summary="accuracy within tolerance",
        commits={"head": HEAD, "base": BASE},
        evidence=evidence or {"metrics": {"accuracy": {"base": 0.9, "head": 0.91}}},
        label=label,
    )


def test_round_trip(tmp_path: Path) -> None:
    written = sample()
    path = write_result(tmp_path, written)
    assert path == tmp_path / "compare.json"
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["commits"] == {"head": HEAD, "base": BASE}
    assert read_result(path) == written


def test_non_finite_numbers_become_null(tmp_path: Path) -> None:
    path = write_result(tmp_path, sample(values=[1.0, math.nan, math.inf], nested={"x": -math.inf}))
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert read_result(path).evidence == {"values": [1.0, None, None], "nested": {"x": None}}


def test_bundle_merges_directories_in_step_order(tmp_path: Path) -> None:
    for job in ("cpu", "gpu"):
        write_result(tmp_path / job, sample(label=job))
        write_result(tmp_path / job, StepResult(step="train", verdict="pass", summary="ok", label=job))
    merged = read_bundle([tmp_path / "cpu", tmp_path / "gpu"])
    assert [(r.label, r.step) for r in merged] == [
        ("cpu", "train"),
        ("cpu", "compare"),
        ("gpu", "train"),
        ("gpu", "compare"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "results file is not valid JSON"),
        ("[]", "results file is not a JSON object"),
        ('{"schema_version": 99}', "results schema_version 99 is not supported"),
        ('{"schema_version": 1, "step": "compare"}', "results file is missing key 'verdict'"),
        (
            '{"schema_version": 1, "step": "lunch", "verdict": "pass"}',
            "results key 'step' is 'lunch', expected one of",
        ),
        ('{"schema_version": true}', "results key 'schema_version' has the wrong type (bool)"),
    ],
)
def test_foreign_or_broken_files_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "compare.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        read_result(path)
    assert str(path) in str(info.value)


def test_bundle_labels_unlabelled_results_by_directory(tmp_path: Path) -> None:
    for job in ("logreg", "forest"):
        write_result(tmp_path / job, sample())
    assert [r.label for r in read_bundle([tmp_path / "logreg", tmp_path / "forest"])] == ["logreg", "forest"]
    assert [r.label for r in read_bundle([tmp_path / "logreg"])] == [None]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="results directory does not exist"):
        read_results_dir(tmp_path / "nope")


def _write_forever(directory: str, ready) -> None:
    big = {"rows": list(range(200_000))}
    ready.set()
    while True:
        write_result(Path(directory), sample(**big))


def test_killed_writer_never_leaves_a_partial_file(tmp_path: Path) -> None:
    write_result(tmp_path, sample(verdict="warn"))
    ctx = multiprocessing.get_context("spawn")
    for _ in range(5):
        ready = ctx.Event()
        writer = ctx.Process(target=_write_forever, args=(str(tmp_path), ready))
        writer.start()
        ready.wait(30)
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        # Whatever moment the kill hit, the file is a complete document (old or new) and parses.
        assert read_result(result_path(tmp_path, "compare")).step == "compare"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "compare.json"]
    assert all(name.startswith(".compare.json.") for name in leftovers)
