"""Shared measurement helpers: one fresh process per measurement, interleaved repetitions, medians, targets.

Every measured command runs in its own child process: wall time is `time.perf_counter` around spawn-to-reap,
and peak RSS is the child's own maximum resident set size from `/usr/bin/time -f %M` (the kernel's ru_maxrss
of the command, which covers the processes it waited for). Not the harness's `os.wait4`: a child forked from
a Python process inherits that process's RSS high-water mark, which would inflate small figures.
The machine is shared, so alternatives are run round-robin (A B C, B C A, ...) and compared as ratios of
medians: a burst of load hits every contender alike instead of one of them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# GNU time's %M is the measured command's own peak RSS; without it, the fallback is this process's largest
# child so far (RUSAGE_CHILDREN), which is only right while each measurement outgrows the ones before it.
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


class BenchError(RuntimeError):
    """A measured command failed or gave an answer the benchmark cannot use."""


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False  # stopped at its timeout: wall_s is a lower bound, peak RSS unknown (nan)
    cpu_s: float = math.nan  # user + system time of the command and its children: what load cannot inflate


@dataclass(frozen=True)
class Context:
    """What every benchmark gets: the size mode, the interpreter whose tools are measured, and where to work."""

    smoke: bool
    python: Path
    cache_dir: Path
    work_dir: Path

    def tool(self, name: str) -> str:
        """A console script installed beside the measured interpreter (mlgate, dvc)."""
        return str(self.python.parent / name)

    def rerun(self, name: str) -> str:
        """The command that reproduces a whole section."""
        return f"python benchmarks/run.py --only {name}" + (" --smoke" if self.smoke else "")

    def display(self, argv: Sequence[str]) -> str:
        """A command as a user types it: the interpreter and the scripts beside it by their plain names, the
        cache relative to the repository, and the run's scratch directory as WORK."""
        shown = list(argv)
        if shown[0] == str(self.python):
            shown[0] = "python"
        elif shown[0].startswith(f"{self.python.parent}/"):
            shown[0] = Path(shown[0]).name
        cache = self.cache_dir.relative_to(REPO_ROOT) if self.cache_dir.is_relative_to(REPO_ROOT) else self.cache_dir
        places = ((str(self.cache_dir), str(cache)), (str(self.work_dir), "WORK"))
        for place, name in places:
            shown = [arg.replace(place, name) for arg in shown]
        return shlex.join(shown)

    def module(self, module: str, *args: str) -> list[str]:
        """A benchmark module's worker entry point, run by the measured interpreter."""
        return [str(self.python), "-m", f"benchmarks.{module}", *args]


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every measured process: this one, no telemetry, and the repository importable."""
    env = dict(os.environ)
    env["DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY"] = "1"
    env["DVC_NO_ANALYTICS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("GITHUB_ACTIONS", None)  # measure the plain CLI, not its Actions side channels
    return env | dict(extra or {})


def measure(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    ok_codes: Sequence[int] = (0,),
    may_time_out: bool = False,
) -> Measurement:
    """Run `argv` once in a fresh process; its wall time, peak RSS and output. Raises BenchError on a bad exit,
    and on a timeout unless `may_time_out` (then the measurement says it was stopped)."""
    with tempfile.TemporaryDirectory(prefix="measure-") as scratch:
        rss_file = Path(scratch) / "maxrss"
        wrapped = [TIME, "-f", "%M %U %S", "-o", str(rss_file), *argv] if TIME else list(argv)
        with open(Path(scratch) / "out", "w+b") as out, open(Path(scratch) / "err", "w+b") as err:
            start = time.perf_counter()
            process = subprocess.Popen(
                wrapped, cwd=cwd, env=dict(env or bench_env()), stdout=out, stderr=err, start_new_session=True
            )
            timed_out = False
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                timed_out = True
            wall = time.perf_counter() - start
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if timed_out:
            if may_time_out:
                return Measurement(wall, math.nan, process.returncode, stdout, stderr, timed_out=True)
            raise BenchError(f"`{shlex.join(argv)}` still ran after {timeout:.0f} s\n{stderr[-2000:]}")
        if TIME:  # the last line: GNU time puts "Command exited with non-zero status N" before it
            peak, user, system = rss_file.read_text().split("\n")[-2].split()
            peak_kib, cpu = int(peak), float(user) + float(system)
        else:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            peak_kib, cpu = usage.ru_maxrss, math.nan  # children's CPU so far: not this command's alone
    result = Measurement(wall, peak_kib / 1024, process.returncode, stdout, stderr, cpu_s=cpu)
    if result.returncode not in ok_codes:
        raise BenchError(
            f"`{shlex.join(argv)}` exited {result.returncode} (expected {list(ok_codes)})\n"
            f"{stdout[-2000:]}{stderr[-4000:]}"
        )
    return result


@dataclass(frozen=True)
class Case:
    argv: Sequence[str]
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    ok_codes: Sequence[int] = (0,)
    prepare: Callable[[], None] | None = None  # run before each measurement, outside the timed region
    after: Callable[[], None] | None = None  # run after each kept measurement (to collect what it wrote)
    runs: int | None = None  # at most this many measurements (an expensive alternative), None: every round
    timeout: float = 1800
    may_time_out: bool = False  # a run stopped at `timeout` is a result (a lower bound), not an error


def interleave(cases: Mapping[str, Case], repeats: int, warmup: int = 1) -> dict[str, list[Measurement]]:
    """Measure every case `repeats` times, round-robin with a rotating start; warm-up rounds are dropped."""
    names = list(cases)
    results: dict[str, list[Measurement]] = {name: [] for name in names}
    for round_number in range(warmup + repeats):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            case = cases[name]
            if case.runs is not None and round_number >= warmup + case.runs:
                continue
            if case.prepare is not None:
                case.prepare()
            measurement = measure(
                case.argv,
                cwd=case.cwd,
                env=case.env,
                ok_codes=case.ok_codes,
                timeout=case.timeout,
                may_time_out=case.may_time_out,
            )
            if round_number >= warmup:
                results[name].append(measurement)
                if case.after is not None:
                    case.after()
    return results


def median_wall(runs: Sequence[Measurement]) -> float:
    return statistics.median(run.wall_s for run in runs)


def median_cpu(runs: Sequence[Measurement]) -> float:
    return statistics.median(run.cpu_s for run in runs)


def median_rss(runs: Sequence[Measurement]) -> float:
    return statistics.median(run.peak_rss_mib for run in runs)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def wall_summary(runs: Sequence[Measurement]) -> str:
    """`median (min–max, n=…)` of the wall times."""
    walls = [run.wall_s for run in runs]
    if len(walls) == 1:
        return seconds(walls[0])
    return f"{seconds(statistics.median(walls))} ({seconds(min(walls))}–{seconds(max(walls))}, n={len(walls)})"


def mib(value: float) -> str:
    return f"{value:,.0f} MiB" if value >= 10 else f"{value:.1f} MiB"


def times(value: float) -> str:
    return f"{value:.2f}×"


# ---- targets and verdicts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    met: bool | None  # None: no target, or nothing measured yet
    text: str


NOT_MEASURABLE = Verdict(None, "not yet measurable")
NO_TARGET = Verdict(None, "—")


def at_most(value: float, limit: float, show: Callable[[float], str] = times) -> Verdict:
    """Met when value ≤ limit; a miss says by how much, relative to the limit."""
    if value <= limit:
        return Verdict(True, "met")
    return Verdict(False, f"**missed** by {show(value - limit)} ({(value / limit - 1) * 100:.0f}% over)")


def at_least(value: float, limit: float, show: Callable[[float], str] = times) -> Verdict:
    if value >= limit:
        return Verdict(True, "met")
    return Verdict(False, f"**missed** by {show(limit - value)} ({(1 - value / limit) * 100:.0f}% short)")


def both(*verdicts: Verdict) -> Verdict:
    """Met only when every part is; the misses are listed."""
    misses = [v.text for v in verdicts if v.met is False]
    if misses:
        return Verdict(False, "; ".join(misses))
    if any(v.met is None for v in verdicts):
        return NOT_MEASURABLE
    return Verdict(True, "met")


@dataclass(frozen=True)
class Row:
    figure: str
    mlgate: str
    alternative: str = "—"
    ratio: str = "—"
    target: str = "—"
    verdict: Verdict = NO_TARGET
    command: str = ""


@dataclass
class Section:
    name: str
    title: str
    rerun: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def misses(self) -> list[Row]:
        return [row for row in self.rows if row.verdict.met is False]


def not_measurable(name: str, title: str, ctx: Context, figure: str, target: str, why: str) -> Section:
    """A section whose figures cannot be measured yet: one row that says so and why, never a number."""
    section = Section(name, title, ctx.rerun(name))
    section.rows.append(Row(figure, "—", target=target, verdict=NOT_MEASURABLE, command=why))
    return section


# ---- facts about the measured installation ---------------------------------------------------------------


def installed(ctx: Context) -> dict[str, object]:
    """Versions of the measured stack and the mlgate commands that exist, asked of the measured interpreter."""
    probe = (
        "import json, importlib.metadata as m, os, mlgate\n"
        "from mlgate.cli import COMMANDS\n"
        "names = ('mlgate', 'click', 'dvc', 'deepchecks', 'scipy', 'numpy', 'pandas', 'pyarrow', 'PyGithub')\n"
        "def version(name):\n"
        "    try:\n"
        "        return m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "versions = {n: version(n) for n in names}\n"
        "where = os.path.dirname(mlgate.__file__)\n"
        "print(json.dumps({'versions': versions, 'commands': sorted(COMMANDS), 'where': where}))\n"
    )
    return json.loads(measure([str(ctx.python), "-c", probe]).stdout)


def build_of(ctx: Context) -> str:
    """The git commit of the measured mlgate source, and whether its tree has uncommitted changes."""
    where = str(installed(ctx)["where"])
    git = ["git", "-C", where]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return f"mlgate installed at {where} (not a git checkout)"
    changes = " + uncommitted changes" if dirty.stdout.strip() else ""
    return f"mlgate source at commit {commit.stdout.strip()}{changes} ({where})"


def has_command(ctx: Context, name: str) -> bool:
    """Whether the measured build's `mlgate` has the subcommand `name` (listed only once it works)."""
    return name in installed(ctx)["commands"]  # type: ignore[operator]


def module_exists(ctx: Context, module: str) -> bool:
    probe = (
        "import importlib.util, sys\n"
        "try:\n"
        f"    found = importlib.util.find_spec({module!r}) is not None\n"
        "except ModuleNotFoundError:  # a parent package is missing\n"
        "    found = False\n"
        "sys.exit(0 if found else 3)\n"
    )
    return measure([str(ctx.python), "-c", probe], ok_codes=(0, 3)).returncode == 0


def memory_mib() -> float:
    """This machine's total memory."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    raise BenchError("no MemTotal in /proc/meminfo")


def machine() -> dict[str, str]:
    """Cores, memory, CPU and OS of this machine, as RESULTS.md states them."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable by this run)",
        "memory": f"{memory_mib() / 1024:.1f} GiB",
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_version()} ({sys.executable})",
    }


class LoadSampler:
    """Samples the 1-minute load average in the background during the run, to state how busy the machine was."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(every_s,), daemon=True)

    def _loop(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> str:
        values = self.samples
        return (
            f"1-minute load average during the run: median {statistics.median(values):.2f}, "
            f"min {min(values):.2f}, max {max(values):.2f} ({len(values)} samples)"
        )


def generate_or_alternative(
    argv: list[str] | None,
    prog: str,
    generate: Callable[[int, Path], None],
    alternative_name: str,
    alternative: Callable[[Path], object],
) -> int:
    """The command line of a benchmark module: `generate ROWS DIR` makes its data, `<alternative> DIR` runs the
    tool it is compared with and prints that tool's answer as one JSON line."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate")
    make.add_argument("rows", type=int)
    make.add_argument("out", type=Path)
    commands.add_parser(alternative_name).add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.rows, args.out)
    else:
        print(json.dumps(alternative(args.folder)))
    return 0
