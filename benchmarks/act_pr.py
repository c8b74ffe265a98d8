"""11. The PR template under a real Actions runner: workflows-templates/mlgate-pr.yml run by nektos/act, part by part.

A harmless pull request of the example repository (train.C changed, not reproduced, as a developer pushes it)
runs through the same act bench as tests/test_templates_act.py: host mode, a clean `actions/checkout` of a
bare remote, stand-ins for GitHub's own actions, the GitHub stand-in on loopback, and mlgate's real install
(actions/setup's install.sh: pip installs the pinned uv, uv installs locks/all.txt with hash checking).
The example has no DVC remote: its data come from `dvc repro` of prepare (restore), and the base commit's
model, which nothing holds, from reproducing the base in the job (compare.base: auto; its own part).

- cold: the install finds an empty uv cache (every locked wheel comes from the package index, as on a
  runner's first run, or after its cache was evicted);
- warm: the uv cache holds them (a runner whose cache was restored, every run after the first).

Parts: act's own timing of each step (executionTime), and inside the one `mlgate pr` step the time between
mlgate's `::group::` markers, from act's per-line timestamps (1 s resolution). What a user would run without
mlgate is at least the training itself: its cost is the train step's own wall time (train.json), so the
ratio is the whole job over the training it wraps.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO_ROOT, Context, Row, Section, at_most, not_measurable, seconds

sys.path.insert(0, str(REPO_ROOT / "tests"))

NAME = "act_pr"
TITLE = "The PR template under a real Actions runner (act): cold and warm, part by part"
WARM_REPEATS = 2
MAX_WARM_OVERHEAD_S = 90.0  # the job minus its training, warm: install, validation, compare, report
SETUP_STEPS = {  # act's step name prefix -> the part it is
    "actions/checkout": "checkout",
    "actions/setup-python": "setup-python",
    "pip install -r requirements.txt": "requirements",
    '"$GITHUB_ACTION_PATH/actions/setup/install.sh" prepare': "mlgate install",
    "actions/cache": "mlgate install",
    '"$GITHUB_ACTION_PATH/actions/setup/install.sh" install': "mlgate install",
    "actions/upload-artifact": "report artifact",
}


@contextmanager
def _pull_request(ctx: Context, bench_root: Path) -> Iterator[tuple[Any, Any]]:
    from bench.act_bench import ActBench
    from bench.example_fixtures import EXAMPLE_DIR, commit_reproduction, dvc, git
    from bench.github_fixtures import DEMO_REPO, DEMO_TOKEN
    from bench.github_standin import GitHubStandIn
    from bench.workflow_fixtures import ci_repository

    bench = ActBench.at(bench_root)
    example = ctx.work_dir / "act-example" / "demo"
    shutil.copytree(EXAMPLE_DIR, example, ignore=shutil.ignore_patterns("__pycache__", ".mlgate"))
    git(example, "init", "--quiet", "-b", "main")
    dvc(example, "init", "--quiet")
    commit_reproduction(example, "Example ML repository, reproduced")
    with GitHubStandIn() as github:
        github.add_repo(DEMO_REPO)
        github.add_token(DEMO_TOKEN)
        with ci_repository(example, ctx.work_dir / "act-ci", github, bench) as repo:
            repo.allow_a_loaded_machine()
            yield repo, repo.open_pull("pr/tune", {"train": {"C": 0.8}})


def _group_part(message: str) -> str | None:
    """The part a `::group::` line of `mlgate pr` opens: its step (`mlgate train: dvc repro` belongs to train),
    the base commit's reproduction (compare.base), or restore for files on demand (`mlgate: dvc pull ...`,
    `mlgate: dvc repro prepare`)."""
    title = message.split("::group::", 1)[1].strip()
    if title.startswith("mlgate: reproducing the base commit"):
        return "base reproduction"
    if title.startswith("mlgate: "):
        return "restore"
    return title.removeprefix("mlgate ").split(":", 1)[0] if title.startswith("mlgate ") else None


def _parts(result: Any) -> dict[str, float]:
    """Seconds per part of one run: setup steps from act's step timing, mlgate's steps from its groups (the time
    between two group boundaries goes to the innermost open part)."""
    parts: dict[str, float] = {}
    for step in result.steps:
        for prefix, part in SETUP_STEPS.items():
            if step.stage == "Main" and step.name.startswith(prefix):
                parts[part] = parts.get(part, 0.0) + step.seconds
    open_parts: list[str | None] = []
    last: datetime | None = None
    for event in result.events:
        message = event["msg"]
        opens, closes = "::group::" in message, "::endgroup::" in message
        if not (opens or closes or "Run Main actions/upload-artifact" in message):
            continue
        moment = datetime.fromisoformat(event["time"])
        named = [part for part in open_parts if part]
        if last is not None and named:
            parts[named[-1]] = parts.get(named[-1], 0.0) + (moment - last).total_seconds()
        last = moment
        if opens:
            open_parts.append(_group_part(message))
        elif closes and open_parts:
            open_parts.pop()
        else:
            break  # the report artifact: `mlgate pr` is over
    return parts


def _training_seconds(result: Any) -> float:
    results = result.outputs("mlgate/mlgate@v1").get("results", "")
    train = Path(results) / "train.json"
    return float(json.loads(train.read_text(encoding="utf-8"))["evidence"]["wall_seconds"]) if train.is_file() else 0.0


def run(ctx: Context) -> Section:
    figure, target = "warm job minus its training", f"≤ {MAX_WARM_OVERHEAD_S:.0f} s"
    if ctx.smoke:
        why = "not run in smoke mode: one act run takes minutes; tests/test_templates_act.py runs the template"
        return not_measurable(NAME, TITLE, ctx, figure, target, why)
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    runs: dict[str, list[tuple[float, dict[str, float], float]]] = {"cold": [], "warm": []}
    with _pull_request(ctx, ctx.cache_dir / "act-bench") as (repo, pull):
        order = ["cold"] + ["warm"] * WARM_REPEATS
        for number, kind in enumerate(order):
            env: dict[str, str] = {}
            if kind == "cold":
                uv_cache = tempfile.mkdtemp(prefix="uv-cache-", dir=ctx.work_dir)
                env = {"UV_CACHE_DIR": uv_cache, "UV_OFFLINE": "0", "PIP_NO_INDEX": "0", "PIP_NO_CACHE_DIR": "1"}
            started = datetime.now()
            result = repo.run(
                "mlgate-pr.yml",
                "pull_request",
                pull.event,
                ref=f"refs/pull/{pull.number}/merge",
                sha=pull.merge,
                env=env,
                run_id=900 + number,
            )
            wall = (datetime.now() - started).total_seconds()
            if not result.ok:
                raise RuntimeError(f"the {kind} run failed:\n{result.log[-3000:]}")
            runs[kind].append((wall, _parts(result), _training_seconds(result)))
    for kind, measured in runs.items():
        wall = statistics.median(w for w, _, _ in measured)
        training = statistics.median(t for _, _, t in measured)
        names = list(dict.fromkeys(name for _, parts, _ in measured for name in parts))
        shown = ", ".join(f"{n} {seconds(statistics.median(p.get(n, 0.0) for _, p, _ in measured))}" for n in names)
        command = f"`act pull_request` of mlgate-pr.yml ({len(measured)} run(s)); parts: {shown}"
        ratio = f"{wall / training:.1f}×" if training else "—"
        row = Row(f"{kind} job, wall time", seconds(wall), f"its training (`dvc repro`): {seconds(training)}", ratio)
        if kind == "warm":
            verdict = at_most(wall - training, MAX_WARM_OVERHEAD_S, seconds)
            row = Row(
                f"{figure} (job {seconds(wall)})", seconds(wall - training), row.alternative, ratio, target, verdict
            )
        section.rows.append(Row(row.figure, row.mlgate, row.alternative, row.ratio, row.target, row.verdict, command))
    section.notes.append(
        "One job of mlgate-pr.yml on a harmless PR of the example repository; act's step timings give the setup "
        "parts, the `::group::` markers of `mlgate pr` the rest (1 s resolution). The ratio is the job over the "
        "training it wraps, the least a user runs without mlgate."
    )
    return section
