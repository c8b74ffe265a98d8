"""What dominates a missed target: `python -X importtime` for start-up, cProfile for everything else.

Both run the measured interpreter in a fresh process and return a short Markdown table for RESULTS.md.
"""

from __future__ import annotations

import pstats
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Context, measure


@dataclass(frozen=True)
class ImportLine:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(stderr: str) -> list[ImportLine]:
    """`-X importtime` lines in their printed order (a module's imports come before it, one level deeper)."""
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        self_us, cumulative_us, name = raw.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        lines.append(ImportLine(name.strip(), int(self_us), int(cumulative_us), depth))
    return lines


def import_chain(lines: Sequence[ImportLine], index: int) -> list[str]:
    """The modules that pulled lines[index] in, outermost first: each parent is the next line one level up."""
    chain = [lines[index].module]
    depth = lines[index].depth
    for line in lines[index + 1 :]:
        if line.depth < depth:
            chain.append(line.module)
            depth = line.depth
    return chain[::-1]


def importtime_table(
    ctx: Context,
    python_args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
    top: int = 8,
) -> str:
    """The `top` imports by own time of `python -X importtime <python_args>`, each with the chain of imports
    that pulled it in."""
    run = measure([str(ctx.python), "-X", "importtime", *python_args], cwd=cwd, env=env, ok_codes=ok_codes)
    lines = parse_importtime(run.stderr)
    total = sum(line.self_us for line in lines)
    ranked = sorted(range(len(lines)), key=lambda i: lines[i].self_us, reverse=True)[:top]
    rows = [
        f"| {lines[i].self_us / 1000:.1f} ms | {lines[i].cumulative_us / 1000:.1f} ms | "
        f"{' → '.join(import_chain(lines, i))} |"
        for i in ranked
    ]
    return "\n".join(
        [
            f"`{ctx.display([str(ctx.python), '-X', 'importtime', *python_args])}`: {len(lines)} modules imported in "
            f"{total / 1e6:.2f} s of the run's {run.wall_s:.2f} s:",
            "",
            "| self | cumulative | imported through |",
            "|---:|---:|---|",
            *rows,
        ]
    )


# Frames that only pass the time on: the interpreter's import machinery, click's dispatch, runpy, the profiler.
_PLUMBING = ("<frozen", "click/", "runpy", "cProfile", "profile.py", "mlgate/cli/__init__.py", "mlgate/__main__.py")


def cprofile_table(
    ctx: Context,
    python_args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
    top: int = 12,
) -> str:
    """The `top` functions by cumulative time of `python -m cProfile <python_args>`, plumbing left out."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "profile.out"
        argv = [str(ctx.python), "-m", "cProfile", "-o", str(output), *python_args]
        run = measure(argv, cwd=cwd, env=env, ok_codes=ok_codes)
        stats = pstats.Stats(str(output))
    entries = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in entries:
        if function.startswith("<") or any(part in filename for part in _PLUMBING) or filename == "~":
            continue
        rows.append(f"| {cumulative:.2f} s | {own:.2f} s | {calls:,} | `{function}` ({_short_path(filename)}:{line}) |")
        if len(rows) == top:
            break
    return "\n".join(
        [
            f"`{ctx.display([str(ctx.python), '-m', 'cProfile', *python_args])}` ({run.wall_s:.2f} s under the "
            "profiler), the functions that took longest, imports included:",
            "",
            "| cumulative | own | calls | function |",
            "|---:|---:|---:|---|",
            *rows,
        ]
    )


def profile(
    ctx: Context,
    python_args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
    prepare: Callable[[], None] | None = None,
) -> str:
    """What dominates a run: its slowest imports, then its slowest functions (`prepare` runs before each)."""
    tables = []
    for table in (importtime_table, cprofile_table):
        if prepare is not None:
            prepare()
        tables.append(table(ctx, python_args, cwd=cwd, env=env, ok_codes=ok_codes))
    return "\n\n".join(tables)


def _short_path(filename: str) -> str:
    """site-packages/x/y.py → x/y.py; src/mlgate/x.py → mlgate/x.py."""
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" else tail
    return filename
