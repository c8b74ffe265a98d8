"""The train step: run the training command under monitoring, then collect metrics, params and data versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate.errors import InputError
from mlgate.results import Note, StepResult
from mlgate.steps.base import Project, guarded


@dataclass(frozen=True)
class Inputs:
    command: list[str] | str | None = None  # an argv list, or a shell line; None: train.command (dvc repro)
    log_tail: int = 50  # log lines kept in train.json
    base: str | None = None  # whose pinned packages the environment is compared with (default: the PR's base)


def run(inputs: Inputs, project: Project) -> StepResult:
    """Train; the result (pass, fail when training or its metrics failed, or error) is also train.json."""
    return guarded("train", project, lambda: _train(inputs, project))


def _train(inputs: Inputs, project: Project) -> StepResult:
    from mlgate import gha
    from mlgate.adapters import dvc_repo, monitor

    cfg = project.config
    command = inputs.command or cfg.train.command
    repo = dvc_repo.open_project(cfg.root)
    shown = command if isinstance(command, str) else " ".join(command)
    with gha.group(f"mlgate train: {shown}"):
        record = monitor.run_monitored(
            command, cwd=cfg.root, log_file=project.results_dir / "train.log", tail_lines=inputs.log_tail
        )
    files = [repo.relative(cfg.resolve(f)) for f in cfg.metrics.files]
    snapshot = dvc_repo.read_snapshot(repo, None, files, from_dvc=False)  # what this run produced, not the cache

    problems = []
    if record.exit_code != 0:
        problems.append(f"the training command exited with code {record.exit_code}")
    problems += [f"{path} was not produced" for path in snapshot.missing]
    problems += [str(error) for error in snapshot.errors.values()]
    verdict = "fail" if problems else "pass"
    if problems:
        summary = "; ".join(problems)
    else:
        count = sum(len(values) for values in snapshot.metrics.values())
        files_read = len(snapshot.metrics)
        summary = f"trained in {record.wall_seconds:.1f} s; {count} metrics from {files_read} file"
        summary += "" if files_read == 1 else "s"
        if not snapshot.metrics_files:
            summary += " (no metrics files: declare them in dvc.yaml or metrics.files)"
    audit = None
    if cfg.train.repeat > 1 and not problems:
        audit = _audit(project, command, snapshot.metrics, files, repo)
        if audit.nondeterministic:
            verdict, summary = "warn", f"{summary}; {audit.summary()}"
    evidence = record.to_dict() | {
        "metrics": snapshot.metrics,
        "params": snapshot.params,
        "data_versions": snapshot.data_versions,
        "metrics_missing": snapshot.missing,
        "metrics_errors": {path: error.reason for path, error in snapshot.errors.items()},
        "environment": _environment(project, inputs.base),
        "determinism": audit.to_dict() if audit is not None else None,
    }
    failed = verdict == "fail"
    return project.record(
        StepResult(
            "train",
            verdict,
            summary,
            {"head": project.head_sha()},
            evidence,
            lines=(f"train: {verdict}: {summary}",),
            err_lines=tuple(f"  | {line}" for line in record.log_tail[-20:]) if failed else (),
            notes=(Note("error" if failed else "warning", f"mlgate train: {summary}"),) if verdict != "pass" else (),
        )
    )


def _environment(project: Project, base: str | None) -> dict[str, Any]:
    """The project's environment fingerprint, and the packages its requirements or lock file moved since the base
    (`changed`: None when there is no such file or no base to read it at)."""
    import os

    from mlgate.adapters import environment, git, monitor

    cfg = project.config
    env = monitor.user_environment(os.environ, monitor.own_venv(os.environ), None)
    lock = environment.lock_file({name for name in environment.LOCK_FILES if (cfg.root / name).is_file()})
    found = environment.fingerprint(cfg.root, env, lock)
    found["changed"] = None
    if lock is None:
        return found
    root = cfg.repository_root()
    ctx = project.github
    try:
        chosen = git.resolve_base(root, base, ctx.base_sha, ctx.base_ref or ctx.default_branch, 1)
    except InputError:
        return found
    path = (cfg.root / lock).resolve().relative_to(root.resolve()).as_posix()
    old = git.read_blobs(root, [(chosen.sha, path)])[(chosen.sha, path)]
    head = (cfg.root / lock).read_text(encoding="utf-8", errors="replace")
    base_pins = environment.pins(lock, old.decode("utf-8", "replace")) if old is not None else {}
    found["changed"] = {
        "base": chosen.sha,
        "file": path,
        "packages": environment.moved(base_pins, environment.pins(lock, head)),
    }
    return found


def _rerun_command(command: list[str] | str) -> list[str] | str:
    """The same training again: `dvc repro` would find every stage up to date (or in its run-cache), so it is
    forced to run each stage's command; any other command runs as it is."""
    words = command.split() if isinstance(command, str) else list(command)
    if words[:2] == ["dvc", "repro"]:
        extra = [flag for flag in ("--force", "--no-run-cache") if flag not in words]
        return f"{command} {' '.join(extra)}" if isinstance(command, str) else [*command, *extra]
    return command


def _prediction_rows(project: Project) -> list[list[str]] | None:
    import csv

    if project.config.metrics.predictions is None:
        return None
    path = project.config.resolve(project.config.metrics.predictions)
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return list(csv.reader(handle))


def _audit(project: Project, command: list[str] | str, first: dict[str, Any], files: list[str], repo: Any) -> Any:
    """Train train.repeat − 1 more times with the same seed (the same params) and compare every run's metrics
    and predictions with the first's; a run that fails or produces no metrics is an error."""
    from mlgate import gha
    from mlgate.adapters import dvc_repo, monitor
    from mlgate.compare.determinism import audit

    cfg = project.config
    metrics, predictions = [first], [_prediction_rows(project)]
    again = _rerun_command(command)
    for number in range(2, cfg.train.repeat + 1):
        shown = again if isinstance(again, str) else " ".join(again)
        with gha.group(f"mlgate train: determinism run {number} of {cfg.train.repeat}: {shown}"):
            record = monitor.run_monitored(
                again, cwd=cfg.root, log_file=project.results_dir / f"train.repeat-{number}.log"
            )
        snapshot = dvc_repo.read_snapshot(repo, None, files, from_dvc=False)
        if record.exit_code != 0 or snapshot.missing or snapshot.errors:
            last = record.log_tail[-1] if record.log_tail else "no output"
            raise InputError(
                f"determinism run {number} of {cfg.train.repeat} (train.repeat) failed: exit code {record.exit_code}"
                f"{', missing ' + ', '.join(snapshot.missing) if snapshot.missing else ''}; its last line: {last}"
            )
        metrics.append(snapshot.metrics)
        predictions.append(_prediction_rows(project))
    rows = None if any(run is None for run in predictions) else predictions
    return audit(metrics, rows)
