"""Setup: actions/setup's install (uv, from the hash-locked files, and its cache) vs `pip install` of the same
packages from the same package index.

Every measured run is a fresh runner: a new MLGATE_HOME, empty uv and pip caches, the job's interpreter (the
base interpreter of the one running the benchmarks, never a venv), and whatever package index, extra indexes and
find-links pip is configured with on this machine, which install.sh hands to uv too. Each figure:

- cold (a cache miss): `install.sh install` with extras all vs what the setup step ran before the locks,
  `python -m venv V && V/bin/python -m pip install --no-compile -c constraints.txt 'SRC[all]'`;
- warm (a cache hit in a later job): `install.sh prepare`, the venv restored from the zstd tar actions/cache
  saves (`tar --use-compress-program unzstd`, as actions/cache extracts it), `install.sh install`; vs the cold
  pip install, which pip pays again in every job (its own cache, setup-python's `cache: pip`, still resolves
  and installs every package; this machine's index does not even let pip cache the downloads);
- slim (the fork-PR poster): `install.sh install` with extras report vs the whole stack the poster installed
  before (the cold pip install) and vs pip of the same three packages (`pip install -c constraints.txt SRC`).

The cache's download from GitHub is not part of the warm figures (there is no GitHub here); the compressed size
is stated so that it can be added at the runner's bandwidth.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import (
    REPO_ROOT,
    BenchError,
    Case,
    Context,
    Measurement,
    Row,
    Section,
    at_most,
    interleave,
    measure,
    median_cpu,
    median_wall,
    mib,
    not_measurable,
    seconds,
    times,
    wall_summary,
)

NAME = "setup_install"
TITLE = "Setup: actions/setup (uv, hash-locked, cached venv) vs `pip install` of the same packages"
INSTALL = REPO_ROOT / "actions" / "setup" / "install.sh"
MAX_COLD_VS_PIP = 0.4
MAX_WARM_S = 5.0
MAX_SLIM_S = 10.0
REPEATS = 3
COLD_REPEATS = 2  # a cold install of the whole stack downloads ~200 packages: minutes each at this index's speed
PIP_FLAGS = ("--disable-pip-version-check", "--no-input", "--progress-bar off", "--quiet", "--no-compile")
# What a clean runner environment leaves out: the benchmark's own venv and anything pointing mlgate elsewhere.
DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_CACHE_DIR", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR")


def job_python(ctx: Context) -> str:
    """The interpreter a job's setup-python would give: the base interpreter of the measured venv."""
    probe = "import sys, pathlib; print(pathlib.Path(sys.base_prefix, 'bin', 'python%d.%d' % sys.version_info[:2]))"
    return measure([str(ctx.python), "-c", probe]).stdout.strip()


class Runner:
    """One fresh runner's folders under `root`, and the environment its steps see."""

    def __init__(self, ctx: Context, root: Path, python: str) -> None:
        self.root, self.python = root, python
        self.home, self.uv_cache, self.pip_cache = root / "mlgate", root / "uv-cache", root / "pip-cache"
        self.venv, self.source = root / "venv", root / "src-copy"
        self._runs = itertools.count(1)
        venv_bin = str(ctx.python.parent)
        path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
        clean = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith(("MLGATE_", "GITHUB_"))}
        self.env = clean | {
            "PATH": path,
            "MLGATE_PYTHON": python,
            "MLGATE_HOME": str(self.home),
            "UV_CACHE_DIR": str(self.uv_cache),
            "PIP_CACHE_DIR": str(self.pip_cache),
            "DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY": "1",
        }

    def fresh(self) -> Callable[[], None]:
        """Before a run: nothing installed, no cache. The last run's folder is moved aside, not deleted: deleting
        a venv of ~50,000 files takes minutes on a busy disk, and would compete with the next measured run."""

        def prepare() -> None:
            if self.root.exists():
                self.root.rename(self.root.with_name(f"{self.root.name}-done-{next(self._runs)}"))
            self.root.mkdir(parents=True)
            self.source.mkdir()  # the action's sources as pip builds them (a copy: pip must not touch the repo)
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(REPO_ROOT / name, self.source / name)
            shutil.copytree(REPO_ROOT / "src", self.source / "src", ignore=shutil.ignore_patterns("__pycache__"))

        return prepare

    def mlgate(self, extras: str) -> Case:
        env = self.env | {"MLGATE_EXTRAS": extras}
        return Case([str(INSTALL), "install"], env=env, prepare=self.fresh())

    def mlgate_from_cache(self, extras: str, cached_venv: Path) -> Case:
        """The action's three steps on a cache hit: prepare, actions/cache's restore, install."""
        script = (
            '"$INSTALL" prepare >/dev/null && mkdir -p "$MLGATE_HOME" && '
            'tar -xf "$CACHED" -P -C "$MLGATE_HOME" --use-compress-program unzstd && "$INSTALL" install'
        )
        env = self.env | {"MLGATE_EXTRAS": extras, "INSTALL": str(INSTALL), "CACHED": str(cached_venv)}
        return Case(["bash", "-c", script], env=env, prepare=self.fresh())

    def pip(self, requirement: str) -> Case:
        """The venv and one pip install of `requirement` (SRC is the copy of the sources) under constraints.txt."""
        script = (
            '"$JOB_PYTHON" -m venv "$VENV" && "$VENV/bin/python" -m pip install '
            + " ".join(PIP_FLAGS)
            + f' -c "$CONSTRAINTS" "{requirement}"'
        )
        env = self.env | {
            "JOB_PYTHON": self.python,
            "VENV": str(self.venv),
            "SRC": str(self.source),
            "CONSTRAINTS": str(REPO_ROOT / "constraints.txt"),
            "PIP_ROOT_USER_ACTION": "ignore",
        }
        return Case(["bash", "-c", script], env=env, prepare=self.fresh())


def tar(folder: Path, into: Path) -> None:
    """`folder` as actions/cache saves it: a zstd-compressed tar, paths relative to its parent."""
    subprocess.run(
        [
            "tar",
            "--posix",
            "-cf",
            str(into),
            "-P",
            "-C",
            str(folder.parent),
            "--use-compress-program",
            "zstdmt",
            folder.name,
        ],
        check=True,
        timeout=900,
    )


def keep(source: Path, archive: Path) -> Callable[[], None]:
    """After a kept run: `source` saved once as actions/cache would save it."""

    def save() -> None:
        if not archive.exists():
            tar(source, archive)

    return save


def size(archive: Path) -> str:
    return mib(archive.stat().st_size / 2**20)


def cpu(runs: list[Measurement]) -> str:
    return f"CPU {seconds(median_cpu(runs))}"


def run(ctx: Context) -> Section:
    if ctx.smoke:
        why = "smoke mode installs nothing: each figure downloads the whole stack from the package index"
        return not_measurable(NAME, TITLE, ctx, "cold, warm and slim setup", "see `make bench`", why)
    python = job_python(ctx)
    cached_venv = ctx.work_dir / "mlgate-venv.tzst"
    mlgate_runner = Runner(ctx, ctx.work_dir / "runner-mlgate", python)
    pip_runner = Runner(ctx, ctx.work_dir / "runner-pip", python)
    # after a cold run: the venv as actions/cache saves it at the end of the job, for the warm runs
    saving = dataclasses.replace(mlgate_runner.mlgate("all"), after=keep(mlgate_runner.home / "venv", cached_venv))
    cold = interleave({"mlgate": saving, "pip": pip_runner.pip("$SRC[all]")}, repeats=COLD_REPEATS, warmup=0)
    warm = interleave({"mlgate": mlgate_runner.mlgate_from_cache("all", cached_venv)}, repeats=REPEATS, warmup=0)
    if any("is up to date" not in run.stdout for run in warm["mlgate"]):  # a reinstall is no cache hit
        raise BenchError("the restored venv was not taken as ready: did the sources change during the run?")
    slim = interleave(
        {"mlgate": mlgate_runner.mlgate("report"), "pip": pip_runner.pip("$SRC")}, repeats=REPEATS, warmup=0
    )

    pip_s = median_wall(cold["pip"])
    cold_ratio = median_wall(cold["mlgate"]) / pip_s
    warm_s, slim_s = median_wall(warm["mlgate"]), median_wall(slim["mlgate"])
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    pip_all = "`python -m venv V && V/bin/python -m pip install -c constraints.txt 'SRC[all]'`"
    pip_cell = f"pip: {wall_summary(cold['pip'])}; {cpu(cold['pip'])}"
    section.rows += [
        Row(
            "cold setup (cache miss), whole stack",
            f"{wall_summary(cold['mlgate'])}; {cpu(cold['mlgate'])}",
            pip_cell,
            times(cold_ratio),
            f"≤ {MAX_COLD_VS_PIP}× pip",
            at_most(cold_ratio, MAX_COLD_VS_PIP),
            f"`install.sh install` (extras all, empty uv and pip caches) vs {pip_all} (empty pip cache)",
        ),
        Row(
            "warm setup (cache hit), whole stack",
            f"{wall_summary(warm['mlgate'])}; {cpu(warm['mlgate'])}",
            pip_cell + " (pip installs again in every job)",
            times(warm_s / pip_s),
            f"≤ {MAX_WARM_S:.0f} s",
            at_most(warm_s, MAX_WARM_S, seconds),
            f"`install.sh prepare`, the saved venv ({size(cached_venv)} zstd) untarred as actions/cache restores "
            "it, `install.sh install`",
        ),
        Row(
            "slim setup (report poster), vs the whole stack it installed before",
            f"{wall_summary(slim['mlgate'])}; {cpu(slim['mlgate'])}",
            pip_cell,
            times(slim_s / pip_s),
            f"≤ {MAX_SLIM_S:.0f} s",
            at_most(slim_s, MAX_SLIM_S, seconds),
            f"`install.sh install` (extras report, empty caches) vs {pip_all}",
        ),
        Row(
            "slim setup vs pip of the same packages",
            wall_summary(slim["mlgate"]),
            f"pip: {wall_summary(slim['pip'])}; {cpu(slim['pip'])}",
            times(slim_s / median_wall(slim["pip"])),
            command="`install.sh install` (extras report) vs `python -m venv V && V/bin/python -m pip install -c "
            "constraints.txt SRC` (click, PyYAML, PyGithub)",
        ),
    ]
    section.notes.append(
        f"Median of {COLD_REPEATS} cold and {REPEATS} warm and slim runs, interleaved, each on a fresh runner "
        f"folder with empty caches, with the job's interpreter {python}. Both sides download from the same "
        "package index, so the figures move with its latency and with the machine's load; CPU time is the "
        "load-independent part."
    )
    return section
