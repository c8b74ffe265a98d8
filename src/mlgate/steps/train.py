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
    evidence = record.to_dict() | {
        "metrics": snapshot.metrics,
        "params": snapshot.params,
        "data_versions": snapshot.data_versions,
        "metrics_missing": snapshot.missing,
        "metrics_errors": {path: error.reason for path, error in snapshot.errors.items()},
        "environment": _environment(project, inputs.base),
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
            notes=(Note("error", f"mlgate train: {summary}"),) if failed else (),
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
