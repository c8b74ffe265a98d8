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
    from mlgate.steps import seeds, stage_outputs

    cfg = project.config
    command = inputs.command or cfg.train.command
    repo = dvc_repo.open_project(cfg.root)
    outputs = stage_outputs.load(cfg)  # a bad schema file costs no training
    param = seeds.seed_param(project)
    files = [repo.relative(cfg.resolve(f)) for f in cfg.metrics.files]
    other_seeds = seeds.train_other_seeds(project, command, param, files, repo) if cfg.train.seeds else []
    kept = seeds.first_seed_command(project, command, param)
    seed_env = {seeds.SEED_ENV: str(cfg.train.seeds[0])} if cfg.train.seeds else None
    shown = kept if isinstance(kept, str) else " ".join(kept)
    with gha.group(f"mlgate train: {shown}"):
        record = monitor.run_monitored(
            kept,
            cwd=cfg.root,
            log_file=project.results_dir / "train.log",
            tail_lines=inputs.log_tail,
            extra_env=seed_env,
        )
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
    seeded = None
    if cfg.train.seeds and not problems:
        seed = cfg.train.seeds[0]
        first = seeds.SeedRun(seed, snapshot.metrics, seeds.keep_predictions(project, seed), record.wall_seconds)
        gated = [rule.metric for rule in cfg.metrics.metric_rules]
        seeded = seeds.evidence([first, *other_seeds], cfg.train.seed_param, gated)
        summary = f"{summary}; {seeded['summary']}"
    audit = None
    if cfg.train.repeat > 1 and not problems:
        audit = _audit(project, command, snapshot.metrics, files, repo, seed_env)
        if audit.nondeterministic:
            verdict, summary = "warn", f"{summary}; {audit.summary()}"
    checked = stage_outputs.check(cfg, outputs)  # after every run: the data the kept run left
    notes = []
    for output in checked:
        flagged = [finding for finding in output["findings"] if finding["severity"] != "pass"]
        if flagged:
            verdict = "fail" if output["verdict"] == "fail" else "warn" if verdict == "pass" else verdict
            summary = f"{summary}; {flagged[0]['message']}"
            summary += f" (and {len(flagged) - 1} more)" if len(flagged) > 1 else ""
        for finding in flagged:
            level = "error" if finding["severity"] == "fail" else "warning"
            message = f"data.outputs {finding['message']}"
            notes.append(Note(level, message, finding["file"], finding["line"], "mlgate train"))
    evidence = record.to_dict() | {
        "metrics": snapshot.metrics,
        "params": snapshot.params,
        "data_versions": snapshot.data_versions,
        "metrics_missing": snapshot.missing,
        "metrics_errors": {path: error.reason for path, error in snapshot.errors.items()},
        "environment": _environment(project, inputs.base),
        "determinism": audit.to_dict() if audit is not None else None,
        "seeds": seeded,
        "data_outputs": checked,
        "findings": [finding for output in checked for finding in output["findings"]],
    }
    failed = verdict == "fail"
    if verdict != "pass":
        notes.insert(0, Note("error" if failed else "warning", f"mlgate train: {summary}"))
    return project.record(
        StepResult(
            "train",
            verdict,
            summary,
            {"head": project.head_sha()},
            evidence,
            lines=(f"train: {verdict}: {summary}",),
            err_lines=tuple(f"  | {line}" for line in record.log_tail[-20:]) if problems else (),
            notes=tuple(notes),
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


def _prediction_rows(project: Project) -> list[list[str]] | None:
    import csv

    if project.config.metrics.predictions is None:
        return None
    path = project.config.resolve(project.config.metrics.predictions)
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return list(csv.reader(handle))


def _audit(
    project: Project,
    command: list[str] | str,
    first: dict[str, Any],
    files: list[str],
    repo: Any,
    seed_env: dict[str, str] | None,
) -> Any:
    """Train train.repeat − 1 more times with the same seed (the same params) and compare every run's metrics
    and predictions with the first's; a run that fails or produces no metrics is an error."""
    from mlgate.compare.determinism import audit
    from mlgate.steps.seeds import forced, train_again

    cfg = project.config
    metrics, predictions = [first], [_prediction_rows(project)]
    again = forced(command)
    for number in range(2, cfg.train.repeat + 1):
        _, snapshot = train_again(
            project, again, files, repo, group=f"determinism run {number} of {cfg.train.repeat}",
            what=f"determinism run {number} of {cfg.train.repeat} (train.repeat)",
            log_name=f"train.repeat-{number}.log", env=seed_env,
        )  # fmt: skip
        metrics.append(snapshot.metrics)
        predictions.append(_prediction_rows(project))
    rows = None if any(run is None for run in predictions) else predictions
    return audit(metrics, rows)
