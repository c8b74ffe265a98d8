"""4. Comparison with the base commit: `mlgate compare` vs `dvc metrics diff` + `dvc params diff`, on the example
repository with 50 commits of history (benchmarks/example_repo.py), the pull-request branch checked out.

mlgate does more in the same call (the policy gate, paired bootstrap intervals from the predictions, the
metric history), which the target accepts: it must still cost no more than the two DVC commands together.
"""

from __future__ import annotations

import shlex

from benchmarks.example_repo import BASE_BRANCH, repo_env, repository
from benchmarks.harness import (
    Case,
    Context,
    Row,
    Section,
    at_most,
    has_command,
    interleave,
    median_rss,
    median_wall,
    mib,
    not_measurable,
    times,
    wall_summary,
)
from benchmarks.profiles import profile

NAME = "compare"
TITLE = "Comparison with base: `mlgate compare` vs `dvc metrics diff` + `dvc params diff`"
COMMITS = 50
SMOKE_COMMITS = 1  # main compared with itself: proves the harness, builds in one `dvc repro`
REPEATS = 7
MAX_VS_DVC = 1.0


def run(ctx: Context) -> Section:
    if not has_command(ctx, "compare"):
        return not_measurable(
            NAME, TITLE, ctx, "wall time vs DVC", f"≤ {MAX_VS_DVC:.1f}× dvc", "`mlgate compare` is not on this build"
        )
    commits = SMOKE_COMMITS if ctx.smoke else COMMITS
    repo = repository(ctx, commits)
    env = repo_env(repo)
    results = ctx.work_dir / "compare-results"
    mlgate_argv = [ctx.tool("mlgate"), "--results-dir", str(results), "compare", "--base", BASE_BRANCH]
    dvc = shlex.quote(ctx.tool("dvc"))
    dvc_script = f"{dvc} metrics diff {BASE_BRANCH} && {dvc} params diff {BASE_BRANCH}"
    cases = {
        "mlgate": Case(mlgate_argv, cwd=repo, env=env, ok_codes=(0, 1)),  # 1: the gate failed, a valid outcome
        "dvc": Case(["/bin/sh", "-c", dvc_script], cwd=repo, env=env),
    }
    repeats, warmup = (1, 0) if ctx.smoke else (REPEATS, 1)
    runs = interleave(cases, repeats=repeats, warmup=warmup)
    ours, theirs = median_wall(runs["mlgate"]), median_wall(runs["dvc"])
    shown_dvc = f"dvc metrics diff {BASE_BRANCH} && dvc params diff {BASE_BRANCH}"
    checkout = "`pr`" if commits > 1 else "main itself"
    command = f"`{ctx.display(mlgate_argv)}` vs `{shown_dvc}` in the example repo ({commits} commits, on {checkout})"
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    section.rows += [
        Row(
            f"wall time ({commits} commits of history)",
            wall_summary(runs["mlgate"]),
            f"dvc: {wall_summary(runs['dvc'])}",
            times(ours / theirs),
            f"≤ {MAX_VS_DVC:.1f}× dvc",
            at_most(ours / theirs, MAX_VS_DVC),
            command,
        ),
        Row(
            "peak RSS",
            mib(median_rss(runs["mlgate"])),
            f"dvc: {mib(median_rss(runs['dvc']))} (the larger of the two commands)",
            times(median_rss(runs["mlgate"]) / median_rss(runs["dvc"])),
            command="same runs",
        ),
    ]
    section.notes.append(
        f"Median of {repeats} interleaved runs after {warmup} warm-up round. The DVC side is both commands run "
        "one after the other, as a user would to see metrics and params changes; mlgate also gates the change, "
        "computes the configured significance intervals from the predictions files at both commits and reads "
        "the metric history."
    )
    if section.misses and not ctx.smoke:
        argv = ["-m", "mlgate", "--results-dir", str(results), "compare", "--base", BASE_BRANCH]
        section.notes.append(
            "What dominates `mlgate compare`:\n\n" + profile(ctx, argv, cwd=repo, env=env, ok_codes=(0, 1))
        )
    return section
