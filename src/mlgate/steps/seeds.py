"""Train once per seed (`train.seeds`): how the seed reaches the project's training, and each run's figures.

Each run gets its seed as the environment variable MLGATE_SEED and, when `train.seed_param` names one, as
that DVC param, set in the params file exactly as `dvc exp run --set-param train.seed=N` sets it (DVC's
own Hydra override) and put back byte for byte afterwards. The param is what DVC users expect: dvc.lock
records it, `dvc repro` retrains because it changed and restores a seed already trained from the run-cache.
An environment variable DVC cannot see, so without a param every run is forced past DVC's up-to-date and
run-cache checks. The first seed is the run the PR keeps: it trains last, so the workspace, dvc.lock and
the params file agree when the step ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.steps.base import Project

SEED_ENV = "MLGATE_SEED"
DEFAULT_PARAMS_FILE = "params.yaml"
SEEDS_DIR = "seeds"  # under the results folder: each seed's predictions, for compare's tests


@dataclass(frozen=True)
class SeedParam:
    file: Path
    shown: str  # as mlgate.yml names it
    key: str  # dotted key inside the file


def _lookup(document: Any, key: str) -> Any:
    value = document
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(part)
        value = value[part]
    return value


def seed_param(project: Project) -> SeedParam | None:
    """train.seed_param, checked before anything trains: its file and key exist and hold train.seeds[0]."""
    from dvc.fs import LocalFileSystem
    from dvc.utils.serialize import ParseError, load_path

    cfg = project.config
    named = cfg.train.seed_param
    if named is None:
        return None
    key_path = ("train", "seed_param")
    file, _, key = named.rpartition(":")
    param = SeedParam(cfg.resolve(file or DEFAULT_PARAMS_FILE), file or DEFAULT_PARAMS_FILE, key)
    cfg.require_file(key_path, param.shown)
    try:
        committed = _lookup(load_path(str(param.file), LocalFileSystem()), key)
    except ParseError as exc:
        raise cfg.error(key_path, f"cannot read {param.shown}: {exc}") from None
    except KeyError:
        raise cfg.error(key_path, f"{param.shown} has no key '{key}' (named as `dvc exp run -S` names it)") from None
    first = cfg.train.seeds[0]
    if isinstance(committed, bool) or committed != first:
        raise cfg.error(
            ("train", "seeds"),
            f"the first seed is the run the PR keeps, so it must be the one {param.shown} holds: {key} is "
            f"{committed!r} there and train.seeds starts with {first} (list {committed!r} first)",
        )
    return param


@contextmanager
def _seeded(param: SeedParam | None, seed: int) -> Iterator[None]:
    """The params file with the seed set, as `dvc exp run -S` would; its exact bytes back afterwards."""
    if param is None:
        yield
        return
    from dvc.utils.hydra import apply_overrides

    original = param.file.read_bytes()
    try:
        apply_overrides(param.file, [f"{param.key}={seed}"])
        yield
    finally:
        param.file.write_bytes(original)


def forced(command: list[str] | str) -> list[str] | str:
    """The same training again: `dvc repro` would find every stage up to date (or in its run-cache), so it is
    forced to run each stage's command; any other command runs as it is."""
    words = command.split() if isinstance(command, str) else list(command)
    if words[:2] == ["dvc", "repro"]:
        extra = [flag for flag in ("--force", "--no-run-cache") if flag not in words]
        return f"{command} {' '.join(extra)}" if isinstance(command, str) else [*command, *extra]
    return command


@dataclass
class SeedRun:
    seed: int
    metrics: dict[str, Any]
    predictions: str | None  # the copy of the predictions file, relative to the results folder
    wall_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "metrics": self.metrics,
            "predictions": self.predictions,
            "wall_seconds": round(self.wall_seconds, 3),
        }


def keep_predictions(project: Project, seed: int) -> str | None:
    """A copy of this run's predictions file for compare (the next seed's run overwrites the workspace's)."""
    predictions = project.config.metrics.predictions
    if predictions is None or not project.config.resolve(predictions).is_file():
        return None
    relative = f"{SEEDS_DIR}/{seed}{Path(predictions).suffix}"
    target = project.results_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(project.config.resolve(predictions), target)
    return relative


def train_again(
    project: Project,
    command: list[str] | str,
    files: list[str],
    repo: Any,
    *,
    group: str,
    what: str,
    log_name: str,
    env: dict[str, str] | None,
) -> tuple[Any, Any]:
    """One more training run (another seed, or a determinism run): its record and the metrics it left; a run that
    fails or produces no metrics is an error naming `what` it was."""
    from mlgate import gha
    from mlgate.adapters import dvc_repo, monitor

    shown = command if isinstance(command, str) else " ".join(command)
    with gha.group(f"mlgate train: {group}: {shown}"):
        record = monitor.run_monitored(
            command, cwd=project.config.root, log_file=project.results_dir / log_name, extra_env=env
        )
    snapshot = dvc_repo.read_snapshot(repo, None, files, from_dvc=False)
    if record.exit_code != 0 or snapshot.missing or snapshot.errors:
        last = record.log_tail[-1] if record.log_tail else "no output"
        raise InputError(
            f"{what} failed: exit code {record.exit_code}"
            f"{', missing ' + ', '.join(snapshot.missing) if snapshot.missing else ''}; its last line: {last}"
        )
    return record, snapshot


def train_other_seeds(
    project: Project, command: list[str] | str, param: SeedParam | None, files: list[str], repo: Any
) -> list[SeedRun]:
    """Train with each seed after the first (the first is the run the step keeps, trained after these); a run
    that fails or produces no metrics is an error naming its seed."""
    runs = []
    run_command = command if param is not None else forced(command)
    for seed in project.config.train.seeds[1:]:
        with _seeded(param, seed):
            record, snapshot = train_again(
                project, run_command, files, repo, group=f"seed {seed} (train.seeds)",
                what=f"the training with seed {seed} (train.seeds)", log_name=f"train.seed-{seed}.log",
                env={SEED_ENV: str(seed)},
            )  # fmt: skip
            kept = keep_predictions(project, seed)
        runs.append(SeedRun(seed, snapshot.metrics, kept, record.wall_seconds))
    return runs


def first_seed_command(project: Project, command: list[str] | str, param: SeedParam | None) -> list[str] | str:
    """The kept run's command: as it is when DVC sees the seed as a param, else forced (see `forced`)."""
    return command if param is not None or not project.config.train.seeds else forced(command)


def evidence(runs: list[SeedRun], param: str | None, gated: list[str]) -> dict[str, Any]:
    """train.json's `seeds`: how the seed reached the training, and each run's figures in train.seeds' order."""
    from mlgate.compare.seeds import spread_summary

    return {
        "param": param,
        "env": SEED_ENV,
        "runs": [run.to_dict() for run in runs],
        "summary": spread_summary([(run.seed, run.metrics) for run in runs], gated),
    }
