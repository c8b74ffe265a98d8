"""1. Start-up: `mlgate --help` vs `dvc --help` vs the floor `python -c "import click"` (wall time, interleaved)."""

from __future__ import annotations

from benchmarks.harness import (
    Case,
    Context,
    Row,
    Section,
    at_most,
    interleave,
    median_rss,
    median_wall,
    mib,
    times,
    wall_summary,
)
from benchmarks.profiles import importtime_table

NAME = "startup"
TITLE = 'Start-up: `mlgate --help` vs `dvc --help` vs `python -c "import click"`'
MAX_VS_DVC = 0.6
MAX_VS_FLOOR = 2.0


def run(ctx: Context) -> Section:
    cases = {
        "mlgate": Case([ctx.tool("mlgate"), "--help"]),
        "dvc": Case([ctx.tool("dvc"), "--help"]),
        "floor": Case([str(ctx.python), "-c", "import click"]),
    }
    repeats, warmup = (1, 0) if ctx.smoke else (21, 2)
    runs = interleave(cases, repeats=repeats, warmup=warmup)
    mlgate, dvc, floor = (median_wall(runs[name]) for name in ("mlgate", "dvc", "floor"))
    commands = {name: ctx.display(case.argv) for name, case in cases.items()}
    versus_dvc = at_most(mlgate / dvc, MAX_VS_DVC)
    versus_floor = at_most(mlgate / floor, MAX_VS_FLOOR)
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    section.rows += [
        Row(
            "wall time, mlgate vs dvc",
            wall_summary(runs["mlgate"]),
            f"dvc: {wall_summary(runs['dvc'])}",
            times(mlgate / dvc),
            f"≤ {MAX_VS_DVC}× dvc",
            versus_dvc,
            f"`{commands['mlgate']}` vs `{commands['dvc']}`",
        ),
        Row(
            "wall time, mlgate vs the floor",
            wall_summary(runs["mlgate"]),
            f"floor: {wall_summary(runs['floor'])}",
            times(mlgate / floor),
            f"≤ {MAX_VS_FLOOR}× floor",
            versus_floor,
            f"`{commands['mlgate']}` vs `{commands['floor']}`",
        ),
        Row(
            "peak RSS",
            mib(median_rss(runs["mlgate"])),
            f"dvc: {mib(median_rss(runs['dvc']))}; floor: {mib(median_rss(runs['floor']))}",
            times(median_rss(runs["mlgate"]) / median_rss(runs["dvc"])) + " of dvc",
            command="same runs",
        ),
    ]
    section.notes.append(
        f"Median of {repeats} runs per command after {warmup} warm-up rounds, run round-robin with a rotating "
        "start. The floor is the interpreter plus click, which any click CLI pays."
    )
    if section.misses and not ctx.smoke:
        section.notes.append(
            "What dominates mlgate's start-up beyond the floor (the imports `mlgate --help` does):\n\n"
            + importtime_table(ctx, ["-c", "from mlgate.cli import main; main(['--help'])"])
        )
    return section
