"""The serving step: the base and the head model measured in this one job, as a service would call them.

The head model is the workspace's (as training left it); the base model is the same file at the base commit
(git, else DVC's cache or remote). mlgate's built-in probe (mlgate/serving/probe.py) loads both in the
project's Python and interleaves their requests; `serving.command` is the project's own script instead, run
once per model and round, alternating (base, head, head, base, …), writing {latencies_ms: [...],
throughput_rows_per_s?, peak_memory_bytes?} to $MLGATE_SERVING_OUTPUT. metrics.gate rules named
`serving.<metric>` are judged here; a latency change must be significant (Mann–Whitney U) to regress.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.results import Note, StepResult
from mlgate.steps.base import Project, guarded
from mlgate.steps.baseline import base_of

MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".onnx")
SIDES = ("base", "head")


@dataclass(frozen=True)
class Inputs:
    base: str | None = None  # default: the PR's base, else the merge-base with the default branch
    requests: int | None = None  # None: serving.requests


def run(inputs: Inputs, project: Project) -> StepResult:
    """Measure both models and judge the serving.* gate rules; the result is also serving.json."""
    return guarded("serving", project, lambda: _serving(inputs, project))


def _probe_files(project: Project, model: str, base_rev: str, scratch: Path) -> dict[str, Path]:
    """side → the model file to load: the workspace's at head, the base's at `base_rev` (the base commit, or
    the commit its reproduction made), written to `scratch`."""
    from mlgate.adapters import dvc_repo
    from mlgate.adapters.dvc_outputs import DvcReadError

    cfg = project.config
    head = cfg.require_file(("serving", "model"), model)
    files = {"head": head}
    repo = dvc_repo.open_project(cfg.root)
    try:
        data = dvc_repo.read_file(repo, base_rev, repo.relative(head))
    except DvcReadError as exc:
        raise InputError(f"the base commit's model is unreadable: {exc.reason}", file=model) from None
    if data is not None:
        files["base"] = scratch / f"base{head.suffix}"
        files["base"].write_bytes(data)
    return files


def _run_json(
    project: Project, command: list[str] | str, env: dict[str, str], output: Path, what: str
) -> tuple[Any, Any]:
    """Run `command` in the project's environment (with `env` added): the JSON it wrote to `output`, and its
    run record."""
    from mlgate.adapters import monitor

    output.unlink(missing_ok=True)
    record = monitor.run_monitored(
        command, cwd=project.config.root, log_file=project.results_dir / "serving.log", extra_env=env
    )
    if record.exit_code != 0 or not output.is_file():
        last = record.log_tail[-1] if record.log_tail else "no output"
        raise InputError(f"{what} exited with code {record.exit_code} and wrote no results: {last}")
    try:
        return json.loads(output.read_text(encoding="utf-8")), record
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} wrote results that are not JSON ({exc})", file=output) from None


def _built_in(
    project: Project, files: dict[str, Path], data: Path, drop: list[str], requests: int, scratch: Path
) -> dict[str, Any]:
    """side → what mlgate's probe measured of that model, both loaded in one process of the project's Python."""
    from importlib import resources

    settings = project.config.serving
    output = scratch / "probe.json"
    spec = {
        "models": [{"side": side, "path": str(files[side])} for side in SIDES if side in files],
        "data": str(data),
        "drop": drop,
        "requests": requests,
        "warmup": settings.warmup,
        "batch_rows": settings.batch_rows,
        "batch_repeats": settings.batch_repeats,
        "output": str(output),
    }
    (scratch / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    probe = resources.files("mlgate.serving").joinpath("probe.py")
    found, _ = _run_json(project, ["python", str(probe), str(scratch / "spec.json")], {}, output, "the serving probe")
    return found["sides"]


def _user_command(project: Project, files: dict[str, Path], data: Path, scratch: Path) -> dict[str, Any]:
    """serving.command run per model and round, alternating; its samples pooled per model."""
    settings = project.config.serving
    assert settings.command is not None
    sides = [side for side in SIDES if side in files]
    measured: dict[str, dict[str, Any]] = {side: {"latencies_ms": [], "throughputs": [], "peaks": []} for side in sides}
    for round_ in range(settings.rounds):
        for side in sides if round_ % 2 == 0 else sides[::-1]:
            output = scratch / f"{side}-{round_}.json"
            env = {"MLGATE_SERVING_MODEL": str(files[side]), "MLGATE_SERVING_DATA": str(data),
                   "MLGATE_SERVING_OUTPUT": str(output), "MLGATE_SERVING_SIDE": side}  # fmt: skip
            found, record = _run_json(project, settings.command, env, output, f"serving.command `{settings.command}`")
            latencies = found.get("latencies_ms") if isinstance(found, dict) else None
            if (
                not isinstance(latencies, list)
                or not all(isinstance(v, int | float) for v in latencies)
                or not latencies
            ):
                raise InputError('serving.command must write {"latencies_ms": [numbers, …]} to $MLGATE_SERVING_OUTPUT')
            measured[side]["latencies_ms"] += latencies
            if isinstance(found.get("throughput_rows_per_s"), int | float):
                measured[side]["throughputs"].append(found["throughput_rows_per_s"])
            measured[side]["peaks"].append(found.get("peak_memory_bytes") or record.peak_rss_bytes)
    return {
        side: {
            "latencies_ms": got["latencies_ms"],
            "throughputs_rows_per_s": got["throughputs"],
            "memory": {"peak_bytes": max(got["peaks"])},
        }
        for side, got in measured.items()
    }


def _serving(inputs: Inputs, project: Project) -> StepResult:
    from mlgate.adapters import git
    from mlgate.compare.policy import gate_verdict, summarize
    from mlgate.serving.metrics import judge

    cfg = project.config
    settings = cfg.serving
    commits = {"head": project.head_sha()}
    if not settings.enabled:
        return project.record(StepResult("serving", "skipped", "no serving section in mlgate.yml", commits))
    model = settings.model or cfg.deploy.model
    if model is None:
        raise cfg.error(("serving", "model"), "names no model file (set serving.model or deploy.model)")
    if settings.command is None and not model.endswith(MODEL_SUFFIXES):
        raise cfg.error(
            ("serving", "model"),
            f"'{model}' is not a model the built-in probe loads ({', '.join(MODEL_SUFFIXES)}); set serving.command",
        )
    data = cfg.require_file(("serving", "data") if settings.data else ("data", "test"), settings.data or cfg.data.test)
    ctx = project.github
    root = cfg.repository_root()
    base = git.resolve_base(root, inputs.base, ctx.base_sha, ctx.base_ref or ctx.default_branch, 1)
    commits["base"] = base.sha
    requests = inputs.requests or settings.requests
    base_side = base_of(project, base.sha)
    with tempfile.TemporaryDirectory(prefix="mlgate-serving-") as folder:
        scratch = Path(folder)
        files = _probe_files(project, model, base_side.rev, scratch)
        sizes = {side: path.stat().st_size for side, path in files.items()}
        if settings.command is None:
            drop = [cfg.data.label] if cfg.data.label and settings.data is None else []  # data.test: its label out
            measured = _built_in(project, files, data, drop, requests, scratch)
        else:
            measured = _user_command(project, files, data, scratch)
    note = None if "base" in measured else f"the base commit {base.sha[:12]} has no {model}"
    values, results = judge(cfg.metrics.serving_rules, measured, sizes, cfg.metrics.significance, note)
    verdict = gate_verdict(results) if results else "pass"
    head = values["head"]
    shape = f"p95 {head['latency_p95_ms']:.3g} ms over {len(measured['head']['latencies_ms'])} requests"
    summary = summarize(results, baseline="base" in values, note=note) if results else f"{shape}; no serving rules"
    if base_side.said is not None:
        summary = f"{base_side.said}; {summary}"
    evidence = {
        "model": model,
        "probe": "built-in" if settings.command is None else settings.command,
        "base_source": base.how,
        "base": base_side.to_dict(),
        "requests": {side: len(measured[side]["latencies_ms"]) for side in measured},
        "figures": values,
        "memory": {side: measured[side].get("memory") for side in measured},
        "model_bytes": sizes,
        "rules": [r.to_dict() for r in results],
    }
    failed = [r for r in results if r.outcome != "pass"]
    return project.record(
        StepResult(
            "serving",
            verdict,
            summary,
            commits,
            evidence,
            lines=(f"serving: {verdict}: {summary}", *(f"  {r.outcome:4}  {r.status:16} {r.reason}" for r in results)),
            notes=tuple(
                Note("error" if r.outcome == "fail" else "warning", f"mlgate serving: {r.reason}") for r in failed
            ),
        )
    )
