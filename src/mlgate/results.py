"""The results bundle: one JSON document per step under `.mlgate/results/`, the only input of `report`.

Each document carries `schema_version`, the commits it speaks of, a verdict and its evidence. Writes are
atomic, so a step killed mid-write leaves the previous document intact.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlgate import __version__
from mlgate.errors import InputError, MlgateError
from mlgate.fsutil import atomic_write_text
from mlgate.inputfile import read_regular

SCHEMA_VERSION = 1
STEPS = ("validation", "train", "tests", "serving", "compare", "deploy", "retrain", "monitor")
# Steps whose result is returned to the caller but is not a document of the bundle (report renders the bundle).
UNRECORDED_STEPS = ("report", "chatops")  # their record is on GitHub (the comment; the reply, reactions)
VERDICTS = ("pass", "warn", "fail", "error", "skipped")
DEFAULT_RESULTS_DIR = Path(".mlgate/results")
# A results file is small; anything far larger is not ours (or is an attack through a fork's artifact).
MAX_RESULT_BYTES = 50 * 1024 * 1024
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Note:
    """A workflow-command annotation a step asks for (`::error file=…,line=…::`); stderr outside Actions."""

    level: str  # error | warning | notice
    message: str
    file: str | None = None
    line: int | None = None
    title: str | None = None


@dataclass(frozen=True)
class StepResult:
    """One step's outcome. The fields up to `schema_version` are the bundle's JSON document; the ones after it
    are for the caller of the step only (what to print, annotate, and the error that stopped the step)."""

    step: str
    verdict: str
    summary: str
    commits: Mapping[str, str | None] = field(default_factory=dict)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None
    created_at: str = field(default_factory=_utc_now)
    mlgate_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    lines: tuple[str, ...] = field(default=(), compare=False, repr=False)  # for stdout
    err_lines: tuple[str, ...] = field(default=(), compare=False, repr=False)  # for stderr
    notes: tuple[Note, ...] = field(default=(), compare=False, repr=False)
    error: Exception | None = field(default=None, compare=False, repr=False)  # set when verdict is error

    def __post_init__(self) -> None:
        if self.step not in STEPS + UNRECORDED_STEPS:
            raise ValueError(f"unknown step {self.step!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "step": self.step,
            "verdict": self.verdict,
            "summary": self.summary,
            "label": self.label,
            "commits": dict(self.commits),
            "evidence": dict(self.evidence),
            "created_at": self.created_at,
            "mlgate_version": self.mlgate_version,
        }


def finite_json(value: Any) -> Any:
    """Strict JSON has no NaN/Infinity; consumers (jq, GitHub) reject them, so they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def error_result(step: str, error: Exception, commits: Mapping[str, str | None] | None = None) -> StepResult:
    """The result of a step that stopped on bad input or a crash: verdict `error`, the one-sentence message as
    its summary, and where it points (file, line) as evidence, so the report shows the step and why."""
    if isinstance(error, MlgateError):
        where = {"message": error.message, "file": error.file, "line": error.line}
        summary = str(error)
    else:
        summary = f"internal error: {type(error).__name__}: {error}"
        where = {"message": summary, "file": None, "line": None}
    evidence = {"error": where}
    return StepResult(step, "error", summary, commits=dict(commits or {}), evidence=evidence, error=error)


def result_path(results_dir: Path, step: str) -> Path:
    return results_dir / f"{step}.json"


def write_result(results_dir: Path, result: StepResult) -> Path:
    path = result_path(results_dir, result.step)
    text = json.dumps(finite_json(result.to_dict()), indent=2, sort_keys=True, allow_nan=False, default=str)
    atomic_write_text(path, text + "\n")
    return path


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path) -> Any:
    if key not in data:
        raise InputError(f"results file is missing key '{key}'", file=path)
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InputError(f"results key '{key}' has the wrong type ({type(value).__name__})", file=path)
    return value


def parse_result(data: Any, path: Path) -> StepResult:
    if not isinstance(data, Mapping):
        raise InputError("results file is not a JSON object", file=path)
    version = _require(data, "schema_version", int, path)
    if version != SCHEMA_VERSION:
        raise InputError(
            f"results schema_version {version} is not supported (this mlgate reads {SCHEMA_VERSION})", file=path
        )
    step = _require(data, "step", str, path)
    verdict = _require(data, "verdict", str, path)
    if step not in STEPS:
        raise InputError(f"results key 'step' is {step!r}, expected one of {', '.join(STEPS)}", file=path)
    if verdict not in VERDICTS:
        raise InputError(f"results key 'verdict' is {verdict!r}, expected one of {', '.join(VERDICTS)}", file=path)
    label = data.get("label")
    if label is not None and not isinstance(label, str):
        raise InputError("results key 'label' must be a string", file=path)
    commits = _require(data, "commits", dict, path)
    for role in ("base", "head"):  # they become check-run shas and commit links
        sha = commits.get(role)
        if sha is not None and not (isinstance(sha, str) and SHA_RE.match(sha)):
            raise InputError(f"results key 'commits.{role}' is not a 40-character commit sha", file=path)
    return StepResult(
        step=step,
        verdict=verdict,
        summary=_require(data, "summary", str, path),
        commits=commits,
        evidence=_require(data, "evidence", dict, path),
        label=label,
        created_at=str(data.get("created_at", "")),
        mlgate_version=str(data.get("mlgate_version", "")),
        schema_version=version,
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not strict JSON")


def read_result(path: Path) -> StepResult:
    raw = read_regular(path, MAX_RESULT_BYTES, "results file")
    try:
        # write_result never writes NaN or Infinity; a file holding them was not written by mlgate.
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise InputError("results file is nested too deeply", file=path) from None
    except UnicodeDecodeError:
        raise InputError("results file is not UTF-8 text", file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"results file is not valid JSON ({exc.msg})", file=path, line=exc.lineno) from None
    except ValueError as exc:  # NaN or Infinity
        raise InputError(f"results file is not valid JSON ({exc})", file=path) from None
    return parse_result(data, path)


def read_results_dir(results_dir: Path) -> list[StepResult]:
    """Every step result in one directory, in pipeline order; a missing directory is an input error."""
    if not results_dir.is_dir():
        raise InputError("results directory does not exist", file=results_dir)
    results = []
    for step in STEPS:
        path = result_path(results_dir, step)
        if not (path.exists() or path.is_symlink()):  # a dangling link or a folder is an error, not "no result"
            continue
        result = read_result(path)
        if result.step != step:
            raise InputError(f"results key 'step' is {result.step!r}, but the file is {path.name}", file=path)
        results.append(result)
    return results


def _no_results(directory: Path) -> StepResult:
    """A matrix job's folder that is missing or empty: that job stopped before any step recorded its result (its
    setup failed, or it was cancelled), which the merged report must show rather than leave out."""
    error = InputError(
        "holds no step results: its job stopped before any step recorded one (see that job's log)", file=directory
    )
    return dataclasses.replace(error_result("report", error), label=directory.name)


def read_bundle(results_dirs: Iterable[Path]) -> list[StepResult]:
    """Results of several directories (matrix jobs) in one list.

    With more than one directory, a result without a `label` is labelled by its directory's name, so a matrix
    job's bundle downloaded as `results/<job>/` names its job in the merged report, and a directory that is
    missing or holds no result is an errored row of that name.
    """
    directories = list(results_dirs)
    merged = []
    for directory in directories:
        found = read_results_dir(directory) if len(directories) == 1 or directory.is_dir() else []
        if not found and len(directories) > 1:
            merged.append(_no_results(directory))
        for result in found:
            if result.label is None and len(directories) > 1:
                result = dataclasses.replace(result, label=directory.name)
            merged.append(result)
    return merged
