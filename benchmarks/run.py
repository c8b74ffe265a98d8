"""Run mlgate's benchmarks side by side with what users would otherwise run; write RESULTS.md.

    python benchmarks/run.py                 # everything, writes benchmarks/RESULTS.md (what `make bench` runs)
    python benchmarks/run.py --only startup  # one section (repeatable), written to benchmarks/.cache/
    python benchmarks/run.py --smoke         # tiny sizes, about a minute: proves the harness works (CI)

The interpreter running this script is the one measured: its `mlgate` and `dvc` scripts, its packages.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks.*` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import BENCH_DIR, Context, LoadSampler, Row, Section, Verdict, build_of, installed, machine
from benchmarks.report import render

# Section order in RESULTS.md; each name is a module of this package with NAME, TITLE and run(ctx) -> Section.
BENCHMARKS = (
    "startup",
    "validation",
    "significance",
    "compare",
    "sticky_comment",
    "pr_overhead",
    "plots",
    "monitor",
    "setup_install",
    "streaming",
    "act_pr",
    "serving",
)
DEFAULT_OUT = BENCH_DIR / "RESULTS.md"
DEFAULT_CACHE = BENCH_DIR / ".cache"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and one repetition: proves the harness")
    parser.add_argument("--out", type=Path, help=f"Markdown output [default: {DEFAULT_OUT.name} for a full run]")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated data is kept")
    return parser.parse_args(argv)


def run_section(name: str, ctx: Context) -> Section:
    """One benchmark; a failure becomes an error row in its section instead of ending the whole run."""
    module = importlib.import_module(f"benchmarks.{name}")
    print(f"[bench] {name}: {module.TITLE}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        section = module.run(ctx)
    except Exception as exc:
        traceback.print_exc()
        section = Section(name, module.TITLE, ctx.rerun(name))
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        section.rows.append(Row("benchmark run", "—", verdict=Verdict(False, f"error: {first_line}")))
    print(f"[bench] {name}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return section


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    if args.out:
        out = args.out
    elif args.smoke or args.only:  # a partial run never overwrites the committed RESULTS.md
        out = args.cache / ("RESULTS.smoke.md" if args.smoke else "RESULTS.partial.md")
    else:
        out = DEFAULT_OUT
    args.cache.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-") as work, LoadSampler() as load:
        ctx = Context(
            smoke=args.smoke, python=Path(sys.executable), cache_dir=args.cache.resolve(), work_dir=Path(work)
        )
        stack = installed(ctx)["versions"]
        build = build_of(ctx)
        sections = {BENCHMARKS.index(name) + 1: run_section(name, ctx) for name in names}
    flags = [f"--only {name}" for name in args.only or ()] + (["--smoke"] if args.smoke else [])
    command = " ".join(["python benchmarks/run.py", *flags])
    text = render(
        sections,
        machine=machine(),
        stack=stack,
        build=build,
        load=load.summary(),
        started=started_at,
        duration_s=time.perf_counter() - started,
        command=command,
        smoke=args.smoke,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"[bench] wrote {out}", file=sys.stderr)
    errors = [row for section in sections.values() for row in section.rows if row.verdict.text.startswith("error:")]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
