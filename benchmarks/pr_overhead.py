"""6. Overhead of the whole PR pipeline on the example repository: `mlgate pr` minus the training command itself
(warm venv).

Each measurement gets a fresh copy of the example repository's pull-request checkout with a params change not
yet reproduced, as CI sees a pushed change. `mlgate pr` runs the pipeline there (validate, train with the
configured `dvc repro`, compare, report to the local outbox); the training command alone runs on another fresh
copy of the same state. The overhead is the difference of the two medians, runs interleaved.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from benchmarks.example_repo import repo_env, repository
from benchmarks.harness import (
    Case,
    Context,
    Row,
    Section,
    at_most,
    has_command,
    interleave,
    median_wall,
    not_measurable,
    seconds,
    wall_summary,
)

NAME = "pr_overhead"
TITLE = "PR pipeline overhead: `mlgate pr` minus the training command"
MAX_OVERHEAD_S = 20.0
COMMITS = 50
SMOKE_COMMITS = 1  # main compared with itself: proves the harness, builds in one `dvc repro`
REPEATS = 3
TRAINING = ["dvc", "repro"]  # examples/mlgate.yml's train.command
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


def run(ctx: Context) -> Section:
    figure, target = "`mlgate pr` total minus the training step", f"≤ {MAX_OVERHEAD_S:.0f} s"
    if not has_command(ctx, "pr"):
        why = "`mlgate pr` is not on this build yet, so there is nothing to time"
        return not_measurable(NAME, TITLE, ctx, figure, target, why)
    source = repository(ctx, SMOKE_COMMITS if ctx.smoke else COMMITS)
    checkouts = {name: ctx.work_dir / f"pr-{name}" / "repo" for name in ("pipeline", "training")}
    training = [ctx.tool(TRAINING[0]), *TRAINING[1:]]
    cases = {
        "pipeline": Case(
            [ctx.tool("mlgate"), "pr"],
            cwd=checkouts["pipeline"],
            env=repo_env(checkouts["pipeline"]),
            ok_codes=(0, 1),  # 1: the gate failed, a valid outcome
            prepare=_fresh_checkout(source, checkouts["pipeline"]),
        ),
        "training": Case(
            training,
            cwd=checkouts["training"],
            env=repo_env(checkouts["training"]),
            prepare=_fresh_checkout(source, checkouts["training"]),
        ),
    }
    repeats = 1 if ctx.smoke else REPEATS
    runs = interleave(cases, repeats=repeats, warmup=0)
    overhead = median_wall(runs["pipeline"]) - median_wall(runs["training"])
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    section.rows.append(
        Row(
            figure,
            seconds(overhead),
            f"`mlgate pr` {wall_summary(runs['pipeline'])}; `{' '.join(TRAINING)}` alone "
            f"{wall_summary(runs['training'])}",
            target=target,
            verdict=at_most(overhead, MAX_OVERHEAD_S, seconds),
            command=f"`mlgate pr` vs `{' '.join(TRAINING)}` on the example repo's `pr` checkout with train.C changed",
        )
    )
    section.notes.append(
        f"Median of {repeats} interleaved runs each; every run starts from a fresh copy of the checkout, so both "
        "really train."
    )
    return section
