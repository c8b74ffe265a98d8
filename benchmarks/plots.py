"""DVC plots in the report: mlgate's plots (read through DVC's API, Mermaid data, every chart rendered to PNG)
vs `dvc plots diff <base> --json` alone and vs what a CML workflow runs to put the same charts in a PR
(`dvc plots diff --json`, then each Vega-Lite spec rendered, here by vl-convert, as `vl2png` would).

Two projects: the example (a training curve and a confusion matrix, main vs the `pr` branch) and a 20-plot
project (16 curves of 500 steps, 2 confusion matrices of 500 rows, 2 images; 4 plots in a smoke run), base
commit vs the workspace.

    python -m benchmarks.plots build DIR [CURVES CONFUSIONS IMAGES]   # the 20-plot project
    python -m benchmarks.plots mlgate REPO BASE OUT
    python -m benchmarks.plots cml REPO BASE
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.example_repo import BASE_BRANCH, repo_env, repository
from benchmarks.harness import (
    Case,
    Context,
    Row,
    Section,
    interleave,
    median_rss,
    median_wall,
    mib,
    times,
    wall_summary,
)

NAME = "plots"
TITLE = "DVC plots in the report: mlgate vs `dvc plots diff` (+ rendering each chart, as a CML workflow does)"
REPEATS = 5
STEPS = 500
# curves, confusion matrices and images of the many-plots project (a smoke run only proves the harness)
FULL_SIZES, SMOKE_SIZES = (16, 2, 2), (2, 1, 1)


def _write_plot_files(repo: Path, sizes: tuple[int, int, int], shift: float) -> None:
    import math

    curves, confusions, images = sizes
    for i in range(curves):
        rows = ["step,loss"] + [f"{s},{math.exp(-s / (60 + 7 * i)) + shift * (i + 1) / 100:.6f}" for s in range(STEPS)]
        (repo / "curves" / f"c{i}.csv").write_text("\n".join(rows) + "\n")
    for i in range(confusions):
        rows = ["actual,predicted"]
        rows += [f"{s % 3},{(s + (s % (5 + i + int(shift * 10)) == 0)) % 3}" for s in range(STEPS)]
        (repo / "matrices" / f"m{i}.csv").write_text("\n".join(rows) + "\n")
    import vl_convert

    for i in range(images):
        spec = {"data": {"values": [{"a": k, "b": k * (i + 1 + shift)} for k in range(10)]}, "mark": "bar"}
        spec["encoding"] = {"x": {"field": "a", "type": "ordinal"}, "y": {"field": "b", "type": "quantitative"}}
        (repo / "images" / f"i{i}.png").write_bytes(vl_convert.vegalite_to_png(vl_spec=spec))


def build(repo: Path, sizes: tuple[int, int, int]) -> None:
    """A git + DVC project declaring many top-level plots; its base commit on main, a changed workspace."""
    curves, confusions, images = sizes
    import yaml

    # not a folder named "confusion": DVC would take it for the template of that name
    for folder in ("curves", "matrices", "images"):
        (repo / folder).mkdir(parents=True)
    plots: list[object] = [{f"curves/c{i}.csv": {"x": "step", "y": "loss"}} for i in range(curves)]
    plots += [
        {f"matrices/m{i}.csv": {"template": "confusion", "x": "actual", "y": "predicted"}} for i in range(confusions)
    ]
    plots += [f"images/i{i}.png" for i in range(images)]
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"plots": plots}, sort_keys=False))
    _write_plot_files(repo, sizes, 0.0)
    env = repo_env(repo)
    for argv in (["git", "init", "-q", "-b", BASE_BRANCH], ["dvc", "init", "-q"]):
        subprocess.run(argv, cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", f"{len(plots)} plots"], cwd=repo, env=env, check=True)
    _write_plot_files(repo, sizes, 0.3)


def mlgate_plots(repo: Path, base: str, out: Path) -> None:
    """What the compare step and the report do for plots: collect base vs workspace, draw every block."""
    from mlgate.adapters.dvc_plots import collect
    from mlgate.report import plots
    from mlgate.results import StepResult

    sha = subprocess.run(["git", "rev-parse", base], cwd=repo, check=True, capture_output=True, text=True)
    found = collect(repo, sha.stdout.strip(), None, None, out)
    if not found["items"] or found["errors"]:
        raise SystemExit(f"plots not collected: {found['errors']}")
    result = StepResult("compare", "pass", "", evidence={"plots": found})
    for block in plots.blocks([result]):
        plots.render_block(block, lambda _path: None, "not published")


def cml_plots(repo: Path, base: str) -> None:
    """`dvc plots diff <base> --json`, then every Vega-Lite spec rendered to PNG."""
    import vl_convert

    done = subprocess.run(["dvc", "plots", "diff", base, "--json"], cwd=repo, check=True, capture_output=True)
    shown = json.loads(done.stdout).get("data", {})
    rendered = 0
    for entries in shown.values():
        for entry in entries:
            if entry.get("type") == "vega":
                vl_convert.vegalite_to_png(vl_spec=entry["content"])
                rendered += 1
    if not rendered:
        raise SystemExit("dvc plots diff gave no vega plots")


def _project(ctx: Context, sizes: tuple[int, int, int]) -> Path:
    name = f"plots-{'-'.join(map(str, sizes))}"
    cached = ctx.cache_dir / name / "repo"
    if not (cached / ".git").exists():
        shutil.rmtree(cached.parent, ignore_errors=True)
        cached.parent.mkdir(parents=True)
        argv = ctx.module(NAME, "build", str(cached), *map(str, sizes))
        subprocess.run(argv, env=repo_env(cached), check=True)
    copy = ctx.work_dir / name / "repo"
    if not copy.exists():
        shutil.copytree(cached, copy, symlinks=True)
    return copy


def _rows(ctx: Context, label: str, repo: Path, base: str, repeats: int) -> list[Row]:
    env = repo_env(repo)
    out = ctx.work_dir / f"plots-out-{label}"
    cases = {
        "mlgate": Case(ctx.module(NAME, "mlgate", str(repo), base, str(out)), cwd=repo, env=env),
        "dvc": Case([ctx.tool("dvc"), "plots", "diff", base, "--json"], cwd=repo, env=env),
        "cml": Case(ctx.module(NAME, "cml", str(repo), base), cwd=repo, env=env),
    }
    runs = interleave(cases, repeats=repeats, warmup=0 if ctx.smoke else 1)
    ours = median_wall(runs["mlgate"])
    command = f"`python -m benchmarks.plots mlgate REPO {base} OUT` vs `dvc plots diff {base} --json` ({label})"
    return [
        Row(
            f"{label}: wall time",
            wall_summary(runs["mlgate"]),
            f"dvc plots diff: {wall_summary(runs['dvc'])}",
            times(ours / median_wall(runs["dvc"])),
            command=command,
        ),
        Row(
            f"{label}: wall time vs dvc + rendering each chart (a CML workflow)",
            wall_summary(runs["mlgate"]),
            f"dvc + vl-convert: {wall_summary(runs['cml'])}",
            times(ours / median_wall(runs["cml"])),
            command=f"`python -m benchmarks.plots cml REPO {base}`",
        ),
        Row(
            f"{label}: peak RSS",
            mib(median_rss(runs["mlgate"])),
            f"dvc plots diff: {mib(median_rss(runs['dvc']))}",
            times(median_rss(runs["mlgate"]) / median_rss(runs["dvc"])),
            command="same runs",
        ),
    ]


def run(ctx: Context) -> Section:
    repeats = 1 if ctx.smoke else REPEATS
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    example = repository(ctx, 2)
    section.rows += _rows(ctx, "example (2 plots, main vs pr)", example, BASE_BRANCH, repeats)
    sizes = SMOKE_SIZES if ctx.smoke else FULL_SIZES
    label = f"{sum(sizes)}-plot project (base vs workspace)"
    section.rows += _rows(ctx, label, _project(ctx, sizes), BASE_BRANCH, repeats)
    section.notes.append(
        f"Median of {repeats} interleaved runs, each a fresh process. mlgate reads the plots at both revisions "
        "through DVC's own API and templates (what `dvc plots diff` calls), keeps Mermaid-ready data with the "
        "extremes of each curve, renders every chart to PNG with vl-convert and draws the report's blocks; "
        "`dvc plots diff --json` only fills the templates. The CML column adds the rendering a CML workflow "
        "does (`dvc plots diff --show-vega | vl2png`), with the same renderer at vl2png's default scale 1; "
        "mlgate renders at scale 2 (four times the pixels, sharp on high-density screens), which is most of "
        "its extra time. No target: the issue asks for the ratio."
    )
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plots")
    sub = parser.add_subparsers(dest="what", required=True)
    builder = sub.add_parser("build")
    builder.add_argument("dir", type=Path)
    builder.add_argument("sizes", type=int, nargs="*", default=list(FULL_SIZES))
    ours = sub.add_parser("mlgate")
    ours.add_argument("repo", type=Path)
    ours.add_argument("base")
    ours.add_argument("out", type=Path)
    theirs = sub.add_parser("cml")
    theirs.add_argument("repo", type=Path)
    theirs.add_argument("base")
    args = parser.parse_args(argv)
    if args.what == "build":
        curves, confusions, images = args.sizes
        build(args.dir, (curves, confusions, images))
    elif args.what == "mlgate":
        mlgate_plots(args.repo, args.base, args.out)
    else:
        cml_plots(args.repo, args.base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
