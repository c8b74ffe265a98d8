"""11. The PR template under a real Actions runner: workflows-templates/mlgate-pr.yml run by nektos/act, part by part.

A harmless pull request of the example repository (train.C changed, not reproduced, as a developer pushes it)
runs through the same act bench as tests/test_templates_act.py: host mode, a clean `actions/checkout` of a bare
remote, stand-ins for GitHub's own actions, the GitHub stand-in on loopback, and mlgate's real install
(actions/setup's install.sh: pip installs the pinned uv, uv installs locks/all.txt with hash checking).

- cold: the install finds an empty uv cache (every locked wheel comes from the package index, as on a
  runner's first run, or after its cache was evicted);
- warm: the uv cache holds them (a runner whose cache was restored, every run after the first);

both with main's data and model in a local-directory DVC remote (what the README asks of a user), so restore
is files on demand's `dvc pull` of the data; and once more warm without a DVC remote, as the example comes:
its data from `dvc repro` of prepare (restore), and the base commit's model, which nothing holds, from
reproducing the base in the job (compare.base: auto; its own part).

Parts: act's own timing of each step (executionTime), and inside the one `mlgate pr` step the time between
mlgate's `::group::` markers, from act's per-line timestamps (1 s resolution). What a user would run without
mlgate is at least the training itself: its cost is the train step's own wall time (its CLI line), so the
ratio is the whole job over the training it wraps.
"""

from __future__ import annotations

import re
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO_ROOT, Context, Row, Section, at_most, not_measurable, seconds

sys.path.insert(0, str(REPO_ROOT / "tests"))

NAME = "act_pr"
TITLE = "The PR template under a real Actions runner (act): cold and warm, part by part"
COLD, WARM, NO_REMOTE = "cold", "warm", "warm, no DVC remote"
FIGURES = {
    COLD: "cold job, wall time",
    NO_REMOTE: "warm job without a DVC remote (data by prepare, base reproduced), wall time",
}
WARM_REPEATS = 1  # the cold run costs minutes of downloads; one of each keeps the section affordable
# (with a DVC remote?, its jobs): the setup the README asks users for, cold and warm; then the example as it comes.
SCENARIOS = ((True, [COLD] + [WARM] * WARM_REPEATS), (False, [NO_REMOTE]))
TRAINED = re.compile(r"^train: \w+: trained in ([\d.]+) s", re.MULTILINE)
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
def _pull_request(ctx: Context, bench_root: Path, *, dvc_remote: bool) -> Iterator[tuple[Any, Any]]:
    from bench.act_bench import ActBench
    from bench.example_fixtures import EXAMPLE_DIR, commit_reproduction, dvc, git
    from bench.github_fixtures import DEMO_REPO, DEMO_TOKEN
    from bench.github_standin import GitHubStandIn
    from bench.workflow_fixtures import ci_repository

    bench = ActBench.at(bench_root)
    scenario = "remote" if dvc_remote else "no-remote"
    example = ctx.work_dir / f"act-example-{scenario}" / "demo"
    shutil.copytree(EXAMPLE_DIR, example, ignore=shutil.ignore_patterns("__pycache__", ".mlgate"))
    git(example, "init", "--quiet", "-b", "main")
    dvc(example, "init", "--quiet")
    commit_reproduction(example, "Example ML repository, reproduced")
    with GitHubStandIn() as github:
        github.add_repo(DEMO_REPO)
        github.add_token(DEMO_TOKEN)
        with ci_repository(example, ctx.work_dir / f"act-ci-{scenario}", github, bench) as repo:
            repo.allow_a_loaded_machine()
            if dvc_remote:
                repo.add_dvc_remote()
            yield repo, repo.open_pull("pr/tune", {"train": {"C": 0.8}})


def _group_part(message: str) -> str | None:
    """The part a `::group::` line of `mlgate pr` opens: its step (`mlgate train: dvc repro` belongs to train),
    deepchecks for validation's deepchecks suites (most of its time), the base commit's reproduction
    (compare.base), or restore for files on demand (`mlgate: dvc pull ...`, `mlgate: dvc repro prepare`)."""
    title = message.split("::group::", 1)[1].strip()
    if title.startswith("mlgate: reproducing the base commit"):
        return "base reproduction"
    if title.startswith("mlgate: "):
        return "restore"
    if not title.startswith("mlgate "):
        return None
    step, _, detail = title.removeprefix("mlgate ").partition(": ")
    return "deepchecks" if step == "validate" and detail.startswith("deepchecks") else step


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


def _shown(part: str, value: float) -> str:
    """A part's time as precise as it was measured: act's step timings to the ms, `mlgate pr`'s groups (and so
    what is left over) to the second."""
    if part in SETUP_STEPS.values():
        return seconds(value)
    return f"{value:.0f} s" if value >= 0.5 else "<1 s"


def _training_seconds(result: Any) -> float:
    """The training's own wall time, from the CLI line of `mlgate pr` (`train: pass: trained in 3.9 s; …`): act
    removes the job's workspace, train.json with it, when the job ends."""
    found = TRAINED.search(result.step("mlgate/mlgate@v1").output)
    if found is None:
        raise RuntimeError(f"no training time in the job's log:\n{result.log[-3000:]}")
    return float(found.group(1))


def _measure(ctx: Context, repo: Any, pull: Any, kind: str, run_id: int) -> tuple[float, dict[str, float], float]:
    """One job: its wall time, its parts, its training's own time."""
    env: dict[str, str] = {}
    if kind == COLD:
        uv_cache = tempfile.mkdtemp(prefix="uv-cache-", dir=ctx.work_dir)
        env = {"UV_CACHE_DIR": uv_cache, "UV_OFFLINE": "0", "PIP_NO_INDEX": "0", "PIP_NO_CACHE_DIR": "1"}
    started = datetime.now()
    result = repo.run_pull(pull, env=env, run_id=run_id)
    wall = (datetime.now() - started).total_seconds()
    if not result.ok:
        raise RuntimeError(f"the {kind} run failed:\n{result.log[-3000:]}")
    parts = _parts(result)
    # What no step or group accounts for: act's job set-up, mlgate's start-up, the time between groups.
    parts["other"] = max(0.0, wall - sum(parts.values()))
    return wall, parts, _training_seconds(result)


def run(ctx: Context) -> Section:
    figure, target = "warm job minus its training", f"≤ {MAX_WARM_OVERHEAD_S:.0f} s"
    if ctx.smoke:
        why = "not run in smoke mode: one act run takes minutes; tests/test_templates_act.py runs the template"
        return not_measurable(NAME, TITLE, ctx, figure, target, why)
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    runs: dict[str, list[tuple[float, dict[str, float], float]]] = {}
    run_ids = count(900)
    for dvc_remote, kinds in SCENARIOS:
        with _pull_request(ctx, ctx.cache_dir / "act-bench", dvc_remote=dvc_remote) as (repo, pull):
            for kind in kinds:
                runs.setdefault(kind, []).append(_measure(ctx, repo, pull, kind, next(run_ids)))
    for kind, measured in runs.items():
        wall = statistics.median(w for w, _, _ in measured)
        training = statistics.median(t for _, _, t in measured)
        names = list(dict.fromkeys(name for _, parts, _ in measured for name in parts))
        shown = ", ".join(f"{n} {_shown(n, statistics.median(p.get(n, 0.0) for _, p, _ in measured))}" for n in names)
        command = f"`act pull_request` of mlgate-pr.yml ({len(measured)} run(s)); parts: {shown}"
        ratio = f"{wall / training:.1f}×" if training else "—"
        alternative = f"its training (`dvc repro`): {seconds(training)}"
        if kind == WARM:
            verdict = at_most(wall - training, MAX_WARM_OVERHEAD_S, seconds)
            row = Row(f"{figure} (job {seconds(wall)})", seconds(wall - training), alternative, ratio, target, verdict)
        else:
            row = Row(FIGURES[kind], seconds(wall), alternative, ratio)
        section.rows.append(Row(row.figure, row.mlgate, row.alternative, row.ratio, row.target, row.verdict, command))
    section.notes.append(
        "One job of mlgate-pr.yml on a harmless PR of the example repository, with a DVC remote (cold, warm) and "
        "without one (its data by `dvc repro` of prepare, its base reproduced in the job); act's step timings give "
        "the setup parts, the `::group::` markers of `mlgate pr` the rest (1 s resolution; restore is files on "
        "demand), other what neither covers (act's job set-up, mlgate's start-up). The ratio is the job over the "
        "training it wraps, the least a user runs without mlgate."
    )
    return section
