"""Setup under a real Actions runner (act): actions/setup (uv, hash-locked, cached venv) vs `pip install` of the
same packages from the same package index, each a step of a one-job workflow that nektos/act runs.

The runner is the template tests' act bench (tests/bench/act_bench.py: host mode, the runner image's CPython 3.12
as python3, this checkout as mlgate/mlgate@v1, the actions/cache stand-in speaking act's cache server with GNU
tar + zstd as actions/cache does). Unlike the template tests, every measured run here goes to the network: a new
uv cache, a new pip cache, no offline flags, and the package index, extra indexes and find-links pip is
configured with on this machine, which install.sh hands to uv too. Each figure is act's own time of the step:

- cold (a cache miss): `uses: mlgate/mlgate/actions/setup@v1` (extras all; its prepare, the cache lookup and
  install.sh install) vs what the setup step ran before the locks, `python3 -m venv V && V/bin/python -m pip
  install --no-compile -c constraints.txt 'SRC[all]'`; the cold job also pays the cache save at its end (post
  step, stated apart);
- warm (a cache hit in a later job): the same setup step in a new act run whose cache server holds what the cold
  job saved; vs the cold pip install, which pip pays again in every job (its own cache, setup-python's
  `cache: pip`, still resolves and installs every package);
- slim (the fork-PR poster): the setup step with extras report (no cache service) vs the whole stack the poster
  installed before (the cold pip install) and vs pip of the same three packages (`pip install -c constraints.txt
  SRC`).

GitHub gives every job of a runner the same RUNNER_TEMP (/home/runner/work/_temp), so a venv saved by one job is
restored at the path it was built at; act's host mode gives each job a new one, so MLGATE_HOME is one path for all
runs here (moved aside between them). The cache's download from GitHub is not part of the warm figures (act's
cache server is on loopback); the archive's size is stated so that it can be added at the runner's bandwidth.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Mapping
from itertools import count
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    REPO_ROOT,
    BenchError,
    Context,
    Measurement,
    Row,
    Section,
    at_most,
    median_cpu,
    median_wall,
    mib,
    not_measurable,
    seconds,
    times,
    wall_summary,
)

sys.path.insert(0, str(REPO_ROOT / "tests"))

NAME = "setup_install"
TITLE = "Setup under act: actions/setup (uv, hash-locked, cached venv) vs `pip install` of the same packages"
MAX_COLD_VS_PIP = 0.4
MAX_WARM_S = 5.0
MAX_SLIM_S = 10.0
REPEATS = 5
PIP_SLIM_REPEATS = 3  # pip of the report packages: its figure is a side note, not a target
COLD_REPEATS = 2  # a cold install of the whole stack downloads ~200 packages: minutes each at this index's speed
SETUP = "mlgate/mlgate/actions/setup@v1"
PIP_STEP = "pip install"
PIP_FLAGS = "--disable-pip-version-check --no-input --progress-bar off --quiet --no-compile"
WORKFLOW = """name: setup benchmark
on: workflow_dispatch
jobs:
  setup:
    runs-on: ubuntu-latest
    steps:
"""
SETUP_STEPS = f"""      - uses: {SETUP}
        with:
          extras: {{extras}}
"""
PIP_STEPS = f"""      - name: {PIP_STEP}
        env:
          PIP_ROOT_USER_ACTION: ignore
        run: >-
          python3 -m venv "$RUNNER_TEMP/venv" &&
          "$RUNNER_TEMP/venv/bin/python" -m pip install {PIP_FLAGS} -c "$SRC/constraints.txt" "$SRC{{extras}}"
"""


class ActSetup:
    """One-job workflows run by the act bench, each in a new folder, with new package caches (a cold runner)."""

    def __init__(self, ctx: Context) -> None:
        from bench.act_bench import ActBench

        self.root = ctx.work_dir / "act-setup"
        self.bench = ActBench.at(self.root / "bench")  # its release copy is this checkout, as it is now
        self.home = self.root / "mlgate-home"  # MLGATE_HOME: one path for every job (see the module docstring)
        self.loads: list[float] = []
        self._runs = count(1)

    def run(self, steps: str, *, cache: Path | None = None) -> tuple[Any, float, float]:
        """The workflow with these steps, from a fresh runner; (act's result, act's wall time, its CPU time)."""
        number = next(self._runs)
        folder = self.root / f"run-{number}"
        workflow = folder / "setup.yml"
        workflow.parent.mkdir(parents=True)
        workflow.write_text(WORKFLOW + steps, encoding="utf-8")
        source = folder / "src"  # what pip builds mlgate from: a copy of the action's sources
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "constraints.txt"):
            shutil.copy(REPO_ROOT / name, source / name)
        shutil.copytree(REPO_ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        if self.home.exists():  # moved aside, not deleted: deleting ~40,000 files would load the next run's disk
            self.home.rename(self.root / f"mlgate-home-{number}")
        env = {
            "MLGATE_HOME": str(self.home),
            "SRC": str(source),
            # cold caches, and the package index instead of the bench's offline sources
            "UV_CACHE_DIR": str(folder / "uv-cache"),
            "PIP_CACHE_DIR": str(folder / "pip-cache"),
            "UV_OFFLINE": "0",
            "PIP_NO_INDEX": "0",
            "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", ""),  # the machine's, not the bench's uv wheel
        }
        self.loads.append(os.getloadavg()[0])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = self.bench.run(
            workflow,
            "workflow_dispatch",
            {},
            workspace=folder / "work" / "demo" / "demo",
            api_url="http://127.0.0.1:9/api/v3",  # nothing here talks to GitHub
            server_url="http://127.0.0.1:9",
            git_remotes=folder / "remotes",
            artifacts=folder / "artifacts",
            token="ghs_setup_benchmark",
            cache=cache,
            env=env,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if not result.ok:
            raise BenchError(f"act run {number} failed:\n{result.log[-3000:]}")
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return result, wall, cpu

    def setup(self, extras: str, *, cache: Path | None = None) -> tuple[Measurement, dict[str, float]]:
        """The setup step's time, and its parts: the cache restore (its actions/cache step) and, when there is a
        cache service, the cache save at the end of the job (the post steps)."""
        result, _, cpu = self.run(SETUP_STEPS.format(extras=extras), cache=cache)
        step = result.step(SETUP)
        inner = [s for s in result.steps if s.within == step.within and s.name.startswith("actions/cache@")]
        parts = {
            "restore": sum(s.seconds for s in inner if s.stage == "Main"),
            "save": sum(s.seconds for s in inner if s.stage == "Post"),
        }
        return Measurement(step.seconds, float("nan"), 0, step.output, "", cpu_s=cpu), parts

    def pip(self, extras: str) -> Measurement:
        result, _, cpu = self.run(PIP_STEPS.format(extras=extras))
        step = result.step(PIP_STEP)
        return Measurement(step.seconds, float("nan"), 0, step.output, "", cpu_s=cpu)


def cpu(runs: list[Measurement]) -> str:
    return f"CPU {seconds(median_cpu(runs))}"


def run(ctx: Context) -> Section:
    if ctx.smoke:
        why = "smoke mode installs nothing: each figure downloads the whole stack from the package index"
        return not_measurable(NAME, TITLE, ctx, "cold, warm and slim setup", "see `make bench`", why)
    act = ActSetup(ctx)
    cold: dict[str, list[Measurement]] = {"mlgate": [], "pip": []}
    saves: list[float] = []
    caches = [act.root / f"cache-server-{n}" for n in range(COLD_REPEATS)]
    for number, cache in enumerate(caches):  # interleaved, the starting side alternating
        for side in ("mlgate", "pip") if number % 2 == 0 else ("pip", "mlgate"):
            if side == "pip":
                cold["pip"].append(act.pip("[all]"))
            else:
                measured, parts = act.setup("all", cache=cache)
                cold["mlgate"].append(measured)
                saves.append(parts["save"])
    archive = max((p for p in caches[0].rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    # warm and slim runs interleaved, round-robin with a rotating start: a burst of load hits each alike
    warm_runs: list[tuple[Measurement, dict[str, float]]] = []
    slim: dict[str, list[Measurement]] = {"mlgate": [], "pip": []}
    measure = {
        "warm": lambda: warm_runs.append(act.setup("all", cache=caches[0])),
        "slim": lambda: slim["mlgate"].append(act.setup("report")[0]),
        "pip": lambda: slim["pip"].append(act.pip("")),
    }
    names = list(measure)
    for number in range(REPEATS):
        for name in names[number % 3 :] + names[: number % 3]:
            if name != "pip" or number < PIP_SLIM_REPEATS:
                measure[name]()
    warm, restores = [run for run, _ in warm_runs], [parts["restore"] for _, parts in warm_runs]
    if any("is up to date" not in run.stdout for run in warm):  # a reinstall is no cache hit
        raise BenchError("the restored venv was not taken as ready: was the cache not hit?")
    return section(ctx, act, cold, saves, archive, (warm, restores), slim)


def section(
    ctx: Context,
    act: ActSetup,
    cold: Mapping[str, list[Measurement]],
    saves: list[float],
    archive: Path,
    warm_runs: tuple[list[Measurement], list[float]],
    slim: Mapping[str, list[Measurement]],
) -> Section:
    warm, restores = warm_runs
    rest = [run.wall_s - restore for run, restore in zip(warm, restores, strict=True)]
    pip_s = median_wall(cold["pip"])
    cold_ratio = median_wall(cold["mlgate"]) / pip_s
    warm_s, slim_s = median_wall(warm), median_wall(slim["mlgate"])
    result = Section(NAME, TITLE, ctx.rerun(NAME))
    step = f"act's time of the `uses: {SETUP}` step"
    pip_all = "`python3 -m venv V && V/bin/python -m pip install -c constraints.txt 'SRC[all]'` (a `run:` step)"
    pip_cell = f"pip: {wall_summary(cold['pip'])}; {cpu(cold['pip'])}"
    result.rows += [
        Row(
            "cold setup (cache miss), whole stack",
            f"{wall_summary(cold['mlgate'])}; {cpu(cold['mlgate'])}",
            pip_cell,
            times(cold_ratio),
            f"≤ {MAX_COLD_VS_PIP}× pip",
            at_most(cold_ratio, MAX_COLD_VS_PIP),
            f"{step} (extras all, empty uv and pip caches) vs {pip_all} (empty pip cache); the cold job's cache "
            f"save at its end (post step): {seconds(statistics.median(saves))}",
        ),
        Row(
            "warm setup (cache hit), whole stack",
            f"{wall_summary(warm)}; {cpu(warm)}",
            pip_cell + " (pip installs again in every job)",
            times(warm_s / pip_s),
            f"≤ {MAX_WARM_S:.0f} s",
            at_most(warm_s, MAX_WARM_S, seconds),
            f"{step} in a later job: the venv the cold job saved ({mib(archive.stat().st_size / 2**20)} zstd) "
            f"restored by the actions/cache step ({seconds(statistics.median(restores))} of it), then install.sh "
            f"finds it ready (its prepare and install steps: {seconds(statistics.median(rest))})",
        ),
        Row(
            "slim setup (report poster), vs the whole stack it installed before",
            f"{wall_summary(slim['mlgate'])}; {cpu(slim['mlgate'])}",
            pip_cell,
            times(slim_s / pip_s),
            f"≤ {MAX_SLIM_S:.0f} s",
            at_most(slim_s, MAX_SLIM_S, seconds),
            f"{step} (extras report, empty caches, no cache service) vs {pip_all}",
        ),
        Row(
            "slim setup vs pip of the same packages",
            wall_summary(slim["mlgate"]),
            f"pip: {wall_summary(slim['pip'])}; {cpu(slim['pip'])}",
            times(slim_s / median_wall(slim["pip"])),
            command=f"{step} (extras report) vs `python3 -m venv V && V/bin/python -m pip install -c "
            "constraints.txt SRC` (click, PyYAML, PyGithub)",
        ),
    ]
    loads = act.loads
    result.notes.append(
        f"Median of {COLD_REPEATS} cold, {REPEATS} warm and slim runs ({PIP_SLIM_REPEATS} of pip's slim install), "
        "interleaved, each a new act run on a "
        "fresh runner folder with empty uv and pip caches, the runner image's python3 (CPython "
        f"{act.bench.python_version}). Wall time is act's time of the step; CPU time is the whole act run's "
        "(user + system of act and every process it waited for), the load-independent part. Both sides download "
        "from the same package index, so the figures move with its latency and with the machine's load: the "
        f"1-minute load average was {statistics.median(loads):.1f} (min {min(loads):.1f}, max {max(loads):.1f}) "
        "at the start of the runs."
    )
    return result
