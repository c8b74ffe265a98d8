"""Run the user's training command in the user's environment and measure what it used.

mlgate runs from its own venv; the training command must not: it gets the environment mlgate was started
with, minus our venv (PATH entries, VIRTUAL_ENV, PYTHONHOME, PYTHONPATH entries pointing into it) unless the
user activated that venv themselves, plus — at the END of PATH, so the user's own copy wins — a directory
holding only a `dvc` link, because the default command is `dvc repro`.

Resources: wall and CPU time (the child's wait4 rusage), peak RSS of the whole process tree (sampled
with psutil, and at least the largest child's own peak), GPU memory and utilisation from nvidia-smi when the
user's PATH has it, and the tail of the merged stdout/stderr log. Beside the totals, a timeline: CPU %, RSS,
disk read/write bytes (and GPU) of the process tree once a second, merged pairwise whenever it would pass
MAX_TIMELINE_POINTS, so a run of any length keeps a bounded, evenly spaced series.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

SAMPLE_SECONDS = 0.2
GPU_SAMPLE_SECONDS = 1.0
VENV_VARIABLES = ("VIRTUAL_ENV", "PYTHONHOME", "__PYVENV_LAUNCHER__", "CONDA_PREFIX")
# The token the action hands mlgate for its report (and the assets branch push): the PR's own code that
# trains never gets it.
CREDENTIAL_VARIABLES = ("GITHUB_TOKEN",)
GPU_QUERY = "--query-gpu=memory.used,utilization.gpu"
TIMELINE_SECONDS = 1.0
MAX_TIMELINE_POINTS = 600


def _inside(path: str, prefix: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(prefix)
    except (OSError, ValueError):
        return False


def user_environment(env: Mapping[str, str], venv: Path | None, tool_dir: Path | None) -> dict[str, str]:
    """`env` without mlgate's GitHub token and anything that points into `venv` (None: nothing to remove);
    `tool_dir` appended to PATH."""
    clean = {name: value for name, value in env.items() if name not in CREDENTIAL_VARIABLES}
    if venv is not None:
        venv = venv.resolve()
        for name in VENV_VARIABLES:
            if name in clean and (name == "PYTHONHOME" or not clean[name] or _inside(clean[name], venv)):
                del clean[name]
        for name in ("PATH", "PYTHONPATH"):
            if name in clean:
                kept = [p for p in clean[name].split(os.pathsep) if p and not _inside(p, venv)]
                clean[name] = os.pathsep.join(kept)
                if not kept:
                    del clean[name]
    if tool_dir is not None:
        clean["PATH"] = os.pathsep.join([*filter(None, [clean.get("PATH")]), str(tool_dir)])
    return clean


def own_venv(env: Mapping[str, str]) -> Path | None:
    """The venv mlgate runs from, to keep out of training; None for a base interpreter or a venv the user
    activated (VIRTUAL_ENV names it): mlgate installed into the project's own environment is that environment."""
    if sys.prefix == sys.base_prefix:
        return None
    prefix = Path(sys.prefix).resolve()
    activated = env.get("VIRTUAL_ENV")
    return None if activated and Path(activated).resolve() == prefix else prefix


@dataclass
class GpuUsage:
    peak_memory_mib: float = 0.0
    peak_utilization_percent: float = 0.0
    mean_utilization_percent: float = 0.0
    samples: int = 0

    def add(self, rows: list[tuple[float, float]]) -> None:
        memory = sum(m for m, _ in rows)
        utilization = max((u for _, u in rows), default=0.0)
        self.peak_memory_mib = max(self.peak_memory_mib, memory)
        self.peak_utilization_percent = max(self.peak_utilization_percent, utilization)
        total = self.mean_utilization_percent * self.samples + utilization
        self.samples += 1
        self.mean_utilization_percent = total / self.samples


def parse_nvidia_smi(text: str) -> list[tuple[float, float]]:
    """(memory MiB, utilisation %) per GPU from `nvidia-smi --format=csv,noheader,nounits` output."""
    rows = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        try:
            rows.append((float(parts[0]), float(parts[1])))
        except (IndexError, ValueError):
            continue  # "[N/A]" on GPUs that do not report a field
    return rows


@dataclass
class TreeSample:
    """Cumulative counters of the process tree at one moment (CPU seconds and disk bytes only grow)."""

    rss_bytes: int = 0
    cpu_seconds: float = 0.0
    read_bytes: int = 0
    write_bytes: int = 0


def tree_sample(pid: int) -> TreeSample:
    """RSS, CPU and disk I/O of `pid` and its descendants. A process' counters include its reaped children
    (getrusage and /proc/<pid>/io both fold them in), so summing over live processes loses only what exited
    without being waited for."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return TreeSample()
    sample = TreeSample()
    for process in processes:
        try:
            with process.oneshot():
                sample.rss_bytes += process.memory_info().rss
                times = process.cpu_times()
                sample.cpu_seconds += times.user + times.system + times.children_user + times.children_system
                io = process.io_counters() if hasattr(process, "io_counters") else None
        except psutil.Error:  # exited between listing and reading
            continue
        if io is not None:
            sample.read_bytes += io.read_bytes
            sample.write_bytes += io.write_bytes
    return sample


TIMELINE_FIELDS = ("t", "cpu_percent", "rss_bytes", "read_bytes", "write_bytes")
GPU_FIELDS = ("gpu_utilization_percent", "gpu_memory_mib")


@dataclass
class Timeline:
    """One point per `interval_seconds`: CPU % (100 = one core busy), the largest RSS seen, bytes read and
    written during the interval, and GPU utilisation (mean) and memory (largest) when sampled.

    Past MAX_TIMELINE_POINTS, adjacent pairs merge (means of rates, maxima of levels, sums of bytes) and the
    interval doubles, so the series stays bounded and evenly spaced however long training runs."""

    interval_seconds: float = TIMELINE_SECONDS
    points: list[dict[str, float]] = field(default_factory=list)
    limit: int = MAX_TIMELINE_POINTS

    def add(self, point: dict[str, float]) -> None:
        self.points.append(point)
        if len(self.points) > self.limit:
            self.points = [self._merge(self.points[i : i + 2]) for i in range(0, len(self.points), 2)]
            self.interval_seconds *= 2

    @staticmethod
    def _merge(pair: list[dict[str, float]]) -> dict[str, float]:
        merged = dict(pair[0])
        for name in ("cpu_percent", "gpu_utilization_percent"):
            if name in merged:
                merged[name] = sum(p.get(name, 0.0) for p in pair) / len(pair)
        for name in ("rss_bytes", "gpu_memory_mib"):
            if name in merged:
                merged[name] = max(p.get(name, 0.0) for p in pair)
        for name in ("read_bytes", "write_bytes"):
            merged[name] = sum(p.get(name, 0) for p in pair)
        return merged

    def to_dict(self) -> dict[str, Any]:
        """Columns (t, cpu_percent, …), each a list of one value per point: compact in train.json."""
        names = TIMELINE_FIELDS + tuple(n for n in GPU_FIELDS if self.points and n in self.points[0])
        columns: dict[str, Any] = {"interval_seconds": self.interval_seconds}
        for name in names:
            rounded = [p.get(name, 0) for p in self.points]
            columns[name] = [round(v, 1) if isinstance(v, float) else v for v in rounded]
        return columns


@dataclass
class RunRecord:
    command: list[str] | str
    exit_code: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    log_tail: list[str]
    log_file: str
    gpu: GpuUsage | None = None
    env_removed: list[str] = field(default_factory=list)  # variables and PATH entries of mlgate's venv
    timeline: Timeline | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "wall_seconds": round(self.wall_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_bytes": self.peak_rss_bytes,
            "gpu": None if self.gpu is None else vars(self.gpu),
            "log_tail": self.log_tail,
            "log_file": self.log_file,
            "env_removed": self.env_removed,
            "timeline": None if self.timeline is None else self.timeline.to_dict(),
        }


class _Sampler(threading.Thread):
    """Samples the process tree's summed RSS every SAMPLE_SECONDS (for the peak), and once per timeline
    interval its CPU, disk I/O (and GPUs) into a Timeline, until stopped."""

    def __init__(self, pid: int, nvidia_smi: str | None) -> None:
        super().__init__(daemon=True)
        self.pid, self.nvidia_smi = pid, nvidia_smi
        self.peak_rss = 0
        self.gpu = GpuUsage() if nvidia_smi else None
        self.timeline = Timeline()
        self.stop = threading.Event()
        self._gpu_now: tuple[float, float] | None = None  # (memory MiB, utilisation %) of the last reading

    def _sample_gpu(self) -> None:
        assert self.nvidia_smi is not None and self.gpu is not None
        try:
            out = subprocess.run(
                [self.nvidia_smi, GPU_QUERY, "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return
        rows = parse_nvidia_smi(out.stdout) if out.returncode == 0 else []
        if rows:
            self.gpu.add(rows)
            self._gpu_now = (sum(m for m, _ in rows), max(u for _, u in rows))

    def run(self) -> None:
        started = last_at = time.monotonic()
        last = tree_sample(self.pid)
        self.peak_rss = bucket_rss = last.rss_bytes
        next_gpu = 0.0
        while not self.stop.wait(SAMPLE_SECONDS):
            now = time.monotonic()
            if self.nvidia_smi and now >= next_gpu:
                self._sample_gpu()
                next_gpu = time.monotonic() + GPU_SAMPLE_SECONDS
            sample = tree_sample(self.pid)
            self.peak_rss, bucket_rss = max(self.peak_rss, sample.rss_bytes), max(bucket_rss, sample.rss_bytes)
            if now - last_at < self.timeline.interval_seconds:
                continue
            point = {
                "t": round(last_at - started, 1),
                # Counters of an exited, not yet reaped process vanish for a moment: never a negative rate.
                "cpu_percent": max(0.0, sample.cpu_seconds - last.cpu_seconds) / (now - last_at) * 100,
                "rss_bytes": bucket_rss,
                "read_bytes": max(0, sample.read_bytes - last.read_bytes),
                "write_bytes": max(0, sample.write_bytes - last.write_bytes),
            }
            if self._gpu_now is not None:
                point["gpu_memory_mib"], point["gpu_utilization_percent"] = self._gpu_now
            self.timeline.add(point)
            last = TreeSample(
                sample.rss_bytes,
                max(last.cpu_seconds, sample.cpu_seconds),
                max(last.read_bytes, sample.read_bytes),
                max(last.write_bytes, sample.write_bytes),
            )
            last_at, bucket_rss = now, sample.rss_bytes


def _pump(stream: IO[bytes], log: IO[bytes], echo: IO[bytes] | None, tail: collections.deque[str]) -> None:
    """Copy the command's output to the log file (and our stdout) line by line, keeping the last lines."""
    for line in iter(stream.readline, b""):
        log.write(line)
        if echo is not None:
            echo.write(line)
            echo.flush()
        tail.append(line.decode("utf-8", "replace").rstrip("\r\n"))


def _dvc_link_dir(workdir: Path) -> Path | None:
    """A directory holding only a `dvc` link to ours, so `dvc repro` works where the user has no DVC."""
    ours = Path(sys.prefix) / "bin" / "dvc"
    if not ours.exists():
        found = shutil.which("dvc")
        if found is None:
            return None
        ours = Path(found)
    directory = Path(tempfile.mkdtemp(prefix="mlgate-tools-", dir=workdir))
    (directory / "dvc").symlink_to(ours.resolve() if ours.is_symlink() else ours)
    return directory


def run_monitored(
    command: Sequence[str] | str,
    *,
    cwd: Path,
    log_file: Path,
    tail_lines: int = 50,
    extra_env: Mapping[str, str] | None = None,
) -> RunRecord:
    """Run `command` (a string runs through the shell, like a dvc.yaml `cmd`) and record what it used; its
    output goes to `log_file` and, as it comes, to our stdout (the job log). `extra_env` is added to the
    environment it gets."""
    base_env = dict(os.environ) | dict(extra_env or {})
    venv = own_venv(base_env)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlgate-run-") as scratch:
        tools = _dvc_link_dir(Path(scratch))
        run_env = user_environment(base_env, venv, tools)
        removed = sorted(k for k in base_env if k not in run_env)
        for name in ("PATH", "PYTHONPATH"):
            kept = run_env.get(name, "").split(os.pathsep)
            dropped = [p for p in base_env.get(name, "").split(os.pathsep) if p and p not in kept]
            removed += [f"{name}={p}" for p in dict.fromkeys(dropped)] if name in run_env else []
        nvidia_smi = shutil.which("nvidia-smi", path=run_env.get("PATH"))
        tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
        started = time.perf_counter()
        with open(log_file, "wb") as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=cwd,
                    env=run_env,
                    shell=isinstance(command, str),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:  # the program itself does not exist or cannot run
                message = f"cannot run {command if isinstance(command, str) else command[0]!r}: {exc.strerror}"
                log.write((message + "\n").encode())
                return RunRecord(list(command) if not isinstance(command, str) else command, 127, 0.0, 0.0, 0,
                                 [message], str(log_file), None, removed)  # fmt: skip
            sampler = _Sampler(process.pid, nvidia_smi)
            sampler.start()
            assert process.stdout is not None
            _pump(process.stdout, log, getattr(sys.stdout, "buffer", None), tail)
            # wait4 gives this child's own rusage: CPU of its reaped process tree and its largest process' peak.
            _, status, usage = os.wait4(process.pid, 0)
            exit_code = process.returncode = os.waitstatus_to_exitcode(status)
            sampler.stop.set()
            sampler.join()
        wall = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    # ru_maxrss (KiB on Linux) is the largest single process' peak: a floor for the sampled tree total, and the
    # whole answer for commands too short for a sample.
    peak = max(sampler.peak_rss, usage.ru_maxrss * 1024)
    return RunRecord(
        command if isinstance(command, str) else list(command),
        exit_code,
        wall,
        cpu,
        peak,
        list(tail),
        str(log_file),
        sampler.gpu if sampler.gpu is not None and sampler.gpu.samples else None,
        removed,
        sampler.timeline,
    )
