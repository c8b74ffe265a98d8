"""6. Overhead of the whole PR pipeline on the example repository: `mlgate pr` minus its training step (warm venv).

Each run gets a fresh copy of the example repository's pull-request checkout (50 commits of history) with a
train param changed and not yet reproduced, as CI sees a pushed change, so the training really runs. The
training step's own wall time is what mlgate's train step records (train.json `wall_seconds`, the project's
own timing); as a cross-check, the training command alone (`dvc repro`) runs on another fresh copy of the
same state, interleaved. The environment counts as activated (VIRTUAL_ENV), as when mlgate is installed into
the project's own venv, so the training command finds the example's dependencies.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

import yaml

from benchmarks.example_repo import BASE_BRANCH, repo_env, repository
from benchmarks.harness import (
    Case,
    Context,
    Row,
    Section,
    at_most,
    has_command,
    interleave,
    median_cpu,
    median_wall,
    not_measurable,
    seconds,
    wall_summary,
)
from benchmarks.profiles import profile

NAME = "pr_overhead"
TITLE = "PR pipeline overhead: `mlgate pr` minus its training step"
MAX_OVERHEAD_S = 20.0
COMMITS = 50
SMOKE_COMMITS = 1  # main compared with itself: proves the harness, builds in one `dvc repro`
REPEATS = 3
TRAINING = ("dvc", "repro")  # examples/mlgate.yml's train.command
CHANGE = {"C": 3.0}  # a train param the history never used, so the training really runs


def _fresh_checkout(source: Path, target: Path) -> Callable[[], None]:
    """Before each run: `target` becomes a copy of `source` with CHANGE applied to params.yaml, uncommitted."""

    def prepare() -> None:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, symlinks=True)
        params_file = target / "params.yaml"
        params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        params["train"].update(CHANGE)
        params_file.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")

    return prepare


def _env(ctx: Context, checkout: Path) -> dict[str, str]:
    return repo_env(checkout) | {"VIRTUAL_ENV": str(ctx.python.parent.parent)}


def run(ctx: Context) -> Section:
    figure, target = "`mlgate pr` total minus its training step", f"≤ {MAX_OVERHEAD_S:.0f} s"
    if not has_command(ctx, "pr"):
        why = "`mlgate pr` is not on this build yet, so there is nothing to time"
        return not_measurable(NAME, TITLE, ctx, figure, target, why)
    commits = SMOKE_COMMITS if ctx.smoke else COMMITS
    source = repository(ctx, commits)
    checkouts = {name: ctx.work_dir / f"pr-{name}" / "repo" for name in ("pipeline", "training", "profile")}
    pipeline_argv = [ctx.tool("mlgate"), "pr", "--base", BASE_BRANCH, "--driver", "local"]
    train_steps: list[float] = []

    def collect_train_step() -> None:
        train = json.loads((checkouts["pipeline"] / ".mlgate/results/train.json").read_text(encoding="utf-8"))
        train_steps.append(float(train["evidence"]["wall_seconds"]))

    cases = {
        "pipeline": Case(
            pipeline_argv,
            cwd=checkouts["pipeline"],
            env=_env(ctx, checkouts["pipeline"]),
            ok_codes=(0, 1),  # 1: the gate failed, a valid outcome
            prepare=_fresh_checkout(source, checkouts["pipeline"]),
            after=collect_train_step,
        ),
        "training": Case(
            [ctx.tool(TRAINING[0]), *TRAINING[1:]],
            cwd=checkouts["training"],
            env=_env(ctx, checkouts["training"]),
            prepare=_fresh_checkout(source, checkouts["training"]),
        ),
    }
    repeats = 1 if ctx.smoke else REPEATS
    runs = interleave(cases, repeats=repeats, warmup=0)
    overheads = [run.wall_s - step for run, step in zip(runs["pipeline"], train_steps, strict=True)]
    overhead = statistics.median(overheads)
    cross_check = median_wall(runs["pipeline"]) - median_wall(runs["training"])
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    shown = ctx.display(pipeline_argv)
    section.rows += [
        Row(
            figure,
            seconds(overhead),
            f"`{shown}` {wall_summary(runs['pipeline'])} (CPU {seconds(median_cpu(runs['pipeline']))}); its train "
            f"step {seconds(statistics.median(train_steps))}",
            target=target,
            verdict=at_most(overhead, MAX_OVERHEAD_S, seconds),
            command=f"`{shown}` in the example repo ({commits} commits) with train.C changed, not reproduced",
        ),
        Row(
            "cross-check: `mlgate pr` minus the training command run alone",
            seconds(cross_check),
            f"`{' '.join(TRAINING)}` alone: {wall_summary(runs['training'])} "
            f"(CPU {seconds(median_cpu(runs['training']))})",
            command=f"`{' '.join(TRAINING)}` on an identical fresh checkout, interleaved",
        ),
    ]
    section.notes.append(
        f"Median of {repeats} runs of each, interleaved, every run on a fresh copy of the checkout. The pipeline "
        "runs what examples/mlgate.yml configures: validate (built-in checks and the deepchecks suites "
        "data_integrity and train_test_validation), train (`dvc repro`), compare with main (significance from the "
        "predictions), and the report to the local outbox."
    )
    if section.misses and not ctx.smoke:
        argv = ["-m", "mlgate", *pipeline_argv[1:]]
        fresh = _fresh_checkout(source, checkouts["profile"])
        env = _env(ctx, checkouts["profile"])
        text = profile(ctx, argv, cwd=checkouts["profile"], env=env, ok_codes=(0, 1), prepare=fresh)
        section.notes.append(f"What dominates `mlgate pr` besides training:\n\n{text}")
    return section
