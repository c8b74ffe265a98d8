"""The compare step: the head (workspace) against the pull request's base commit, through the metric gate."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.results import StepResult
from mlgate.steps.base import Project, Wanted, guarded, obtain
from mlgate.steps.baseline import base_of, stale_said

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def _predictions(project: Any, path: str | None, base_sha: str, head_rev: str | None) -> Any:
    """Parsed predictions at head and base; a missing or broken head file is an input error."""
    from mlgate.adapters import dvc_repo
    from mlgate.adapters.dvc_outputs import DvcReadError
    from mlgate.compare.gate import PredictionSides
    from mlgate.compare.predictions import PredictionsError, check_same_label_types, parse_predictions

    if path is None:
        return PredictionSides()
    try:
        head_data = dvc_repo.read_file(project, head_rev, path)
    except DvcReadError as exc:
        raise InputError(f"{exc.reason} (metrics.predictions, at head)", file=path) from None
    if head_data is None:
        raise InputError("predictions file does not exist at head (metrics.predictions)", file=path)
    try:
        head = parse_predictions(head_data, path)
    except PredictionsError as exc:
        raise InputError(str(exc).removeprefix(f"{path}: "), file=path) from None
    try:
        base_data = dvc_repo.read_file(project, base_sha, path)
    except DvcReadError as exc:
        note = f"base predictions unreadable ({exc.reason}): intervals are of head alone"
        return PredictionSides(head, None, (note,))
    if base_data is None:
        return PredictionSides(head, None, (f"the base has no {path}: intervals are of head alone",))
    try:
        base = parse_predictions(base_data, path)
    except PredictionsError as exc:
        return PredictionSides(head, None, (f"base predictions unusable ({exc}): intervals are of head alone",))
    try:
        check_same_label_types(base, head)
    except PredictionsError as exc:
        raise InputError(str(exc).removeprefix(f"{path}: "), file=path) from None
    return PredictionSides(head, base)


def _history(project: Any, base_sha: str, files: list[str], rules: Any, limit: int) -> list[dict[str, Any]]:
    """Gated metric values on the last `limit` base-branch commits that changed the metrics, oldest first."""
    from datetime import UTC, datetime

    from mlgate.adapters import dvc_repo
    from mlgate.compare.gate import locate

    points = []
    for commit, values in dvc_repo.read_history(project, base_sha, files, limit):
        found = {rule.metric: locate(values, rule.metric) for rule in rules}
        points.append(
            {
                "sha": commit.sha,
                "date": datetime.fromtimestamp(commit.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "subject": commit.subject,
                "values": {m: values[w[0][0]][w[0][1]] if len(w) == 1 else None for m, w in found.items()},
            }
        )
    return points


def _seed_runs(project: Project, head_sha: str | None) -> tuple[Any, str | None]:
    """train.seeds' runs of this head, from the train step's train.json (and the predictions it kept), or
    None and why not: the gate then tests the rows alone, and never passes without saying so."""
    from mlgate.compare.gate import SeedRuns
    from mlgate.compare.predictions import PredictionsError, parse_predictions
    from mlgate.errors import MlgateError
    from mlgate.results import read_result, result_path

    if not project.config.train.seeds:
        return None, None
    missing = "train.seeds is set but this run has no per-seed figures of the head"
    path = result_path(project.results_dir, "train")
    try:
        train = read_result(path) if path.is_file() else None
    except MlgateError as exc:
        return None, f"{missing} ({exc}): the seed-to-seed test did not run"
    seeded = train.evidence.get("seeds") if train is not None else None
    if train is None or not isinstance(seeded, dict) or train.commits.get("head") != head_sha:
        return None, f"{missing} (the train step's train.json of this commit): the seed-to-seed test did not run"
    runs = [run for run in seeded.get("runs", ()) if isinstance(run, dict)]
    predictions = []
    for run in runs:
        kept = run.get("predictions")
        try:
            data = (project.results_dir / kept).read_bytes() if isinstance(kept, str) else None
            predictions.append(parse_predictions(data, kept) if data is not None else None)
        except (OSError, PredictionsError):
            predictions.append(None)
    metrics = tuple(run.get("metrics") if isinstance(run.get("metrics"), dict) else {} for run in runs)
    every = tuple(p for p in predictions if p is not None)
    seeds = tuple(int(run.get("seed", -1)) for run in runs)
    return SeedRuns(seeds, metrics, every if len(every) == len(runs) else None), None


@dataclass(frozen=True)
class Inputs:
    """What to compare; None takes mlgate.yml's value (or the default)."""

    base: str | None = None  # default: the PR's base, else the merge-base with the default branch
    head: str | None = None  # default: the workspace, as training left it
    predictions: str | None = None  # metrics.predictions
    history: int | None = None  # metrics.history
    alpha: float | None = None  # metrics.significance.alpha
    resamples: int | None = None
    seed: int | None = None
    base_mode: str | None = None  # compare.base: auto | committed | reproduce


def _head_files(inputs: Inputs, cfg: Any) -> list[Wanted]:
    """The workspace files compare reads at head: the metrics files mlgate.yml names, and the predictions."""
    wanted = [Wanted.of(cfg, ("metrics", "files"), name) for name in cfg.metrics.files]
    if inputs.predictions is not None:
        wanted.append(Wanted(Path(inputs.predictions), None, inputs.predictions))
    elif cfg.metrics.predictions is not None:
        wanted.append(Wanted.of(cfg, ("metrics", "predictions"), cfg.metrics.predictions))
    return wanted


def run(inputs: Inputs, project: Project) -> StepResult:
    """Compare metrics, params and data versions with the base commit and apply the metric gate; the result
    (pass, warn, fail, or error) is also compare.json."""
    return guarded("compare", project, lambda: _compare(inputs, project))


def _compare(inputs: Inputs, project: Project) -> StepResult:
    from mlgate.adapters import dvc_plots, dvc_repo, git
    from mlgate.compare import diff, gap
    from mlgate.compare.gate import AmbiguousMetric, evaluate_gate
    from mlgate.compare.policy import gate_verdict, summarize

    cfg = project.config
    chosen_significance = {"alpha": inputs.alpha, "resamples": inputs.resamples, "seed": inputs.seed}
    significance = dataclasses.replace(
        cfg.metrics.significance, **{k: v for k, v in chosen_significance.items() if v is not None}
    )
    history = cfg.metrics.history if inputs.history is None else inputs.history
    repo = dvc_repo.open_project(cfg.root)
    ctx = project.github
    chosen = git.resolve_base(repo.git_root, inputs.base, ctx.base_sha, ctx.base_ref or ctx.default_branch, history + 1)
    head_rev = None
    if inputs.head is not None:
        head_rev = git.rev_parse(repo.git_root, inputs.head)
        if head_rev is None:
            raise InputError(f"--head '{inputs.head}' does not name a commit in this repository")
    head_sha = head_rev or ctx.sha or git.rev_parse(repo.git_root, "HEAD")
    # A base the fallback chose that is the head commit itself: in a pull request that is never the change under
    # review; elsewhere (a push run, a local branch) only the workspace can differ from it.
    base_is_head = chosen.how != "--base" and chosen.sha == (head_rev or git.rev_parse(repo.git_root, "HEAD"))
    files = [repo.relative(cfg.resolve(f)) for f in cfg.metrics.files]
    # The head is the workspace as training left it: DVC outputs missing there come from the cache or remote (a
    # compare-only job on a clean checkout); a committed file that training deleted stays deleted.
    obtained = obtain(project, _head_files(inputs, cfg), optional=True, from_git=False) if head_rev is None else []

    head_snap = dvc_repo.read_snapshot(repo, head_rev, files)
    commits = {"base": chosen.sha, "head": head_sha}

    def failed(error: InputError) -> StepResult:
        """Compare's verdict `error`, with where it stopped, so the report says why the gate did not run."""
        evidence = {"base_source": chosen.how}
        return project.record(StepResult("compare", "error", str(error), commits, evidence, error=error))

    if base_is_head and ctx.event_name in PULL_REQUEST_EVENTS and ctx.base_sha is None:
        return failed(
            InputError(
                f"no change to compare: the base fell back to the head commit {chosen.sha[:12]} itself "
                f"({chosen.how}) because the event payload (GITHUB_EVENT_PATH) has no pull_request.base.sha; "
                "a pull request gate that compared nothing must not pass"
            )
        )
    if (error := head_snap.unreadable("head")) is not None:
        return failed(error)
    try:
        base_side = base_of(project, chosen.sha, inputs.base_mode)
    except InputError as exc:
        return failed(exc)
    base_snap = dvc_repo.read_snapshot(repo, base_side.rev, files)
    base_snap.rev = chosen.sha  # a reproduced base is still the base commit's, and errors name that commit
    if (error := base_snap.unreadable("base")) is not None:
        return failed(error)

    baseline = bool(base_snap.metrics)
    base_note = None
    if not baseline:
        base_note = f"the base commit {chosen.sha[:12]} has no metrics files"
        if base_snap.missing:
            base_note = f"the base commit {chosen.sha[:12]} has no {', '.join(base_snap.missing)}"
    predictions_path = None
    if inputs.predictions is not None:
        predictions_path = repo.relative(Path(inputs.predictions))
    elif cfg.metrics.predictions is not None:
        predictions_path = repo.relative(cfg.resolve(cfg.metrics.predictions))
    seed_runs, seed_note = _seed_runs(project, head_sha) if head_rev is None else (None, None)
    try:
        sides = _predictions(repo, predictions_path, base_side.rev, head_rev)
        gate = evaluate_gate(
            cfg.metrics.metric_rules,
            base_snap.metrics if baseline else None,
            head_snap.metrics,
            sides,
            significance,
            base_note,
            split=cfg.metrics.predictions_split,
            seeds=seed_runs,
        )
    except AmbiguousMetric as exc:
        return failed(cfg.error(("metrics", "gate", exc.metric), str(exc)))
    except InputError as exc:
        return failed(exc)

    verdict = gate_verdict(gate.results)
    summary = summarize(gate.results, baseline=baseline, note=base_note)
    if seed_note is not None and gate.results:  # a lucky seed must not pass the PR unsaid
        verdict = "warn" if verdict == "pass" else verdict
        summary = f"{summary}; {seed_note}"
        gate.notes.append(seed_note)
    rules = [r.to_dict() for r in gate.results]
    # A base whose committed metrics are not what its code, params and data produce is no baseline to trust;
    # one reproduced here is (and says so).
    stale = base_side.stale if baseline and base_side.reproduction is None else ()
    if base_side.said is not None:
        summary = f"{base_side.said}; {summary}"
    elif baseline and base_side.unvouched is not None:
        verdict = "warn" if verdict == "pass" else verdict
        summary = f"{summary}; {base_side.unvouched} (so the base is not vouched for)"
    if stale:
        verdict = "warn" if verdict == "pass" else verdict
        summary = f"{stale_said(stale)}; {summary}"
        stages = ", ".join(s.stage for s in stale)
        for rule in rules:
            rule["reason"] = f"base is stale: {stages} changed; {rule['reason']}"
    if git.is_shallow(repo.git_root) and history:
        git.fetch_commit(repo.git_root, chosen.sha, history + 1)  # best effort: a shorter trend is fine
    metric_diffs = diff.diff_files(base_snap.metrics, head_snap.metrics)
    param_diffs = [d for d in diff.diff_files(base_snap.params, head_snap.params) if d.changed]
    data_diffs = diff.diff_data_versions(
        base_snap.data_versions, head_snap.data_versions, base_snap.data_groups | head_snap.data_groups
    )
    unchanged = (
        not param_diffs
        and all(not d.changed for d in metric_diffs)
        and all(d.status == "unchanged" for d in data_diffs)
    )
    if base_is_head and unchanged:  # stated, and never a plain pass: the commit was compared with itself
        verdict = "warn" if verdict == "pass" else verdict
        summary = f"no change to compare: the base commit {chosen.sha[:12]} ({chosen.how}) is the head; {summary}"
    evidence = {
        "base_source": chosen.how,
        "baseline": baseline,
        "head_is_workspace": head_rev is None,
        "base_is_head": base_is_head,
        "rules": rules,
        "base": base_side.to_dict(),
        "base_stale": [s.to_dict() for s in base_side.stale],
        "metrics": [d.to_dict() for d in metric_diffs],
        "params": [d.to_dict() for d in param_diffs],
        "data_versions": [d.to_dict() for d in data_diffs],
        "significance": dataclasses.asdict(significance)
        | {"predictions": predictions_path, "paired": gate.paired, "notes": gate.notes},
        "history": _history(repo, chosen.sha, base_snap.metrics_files, cfg.metrics.metric_rules, history),
        "base_errors": {p: e.reason for p, e in base_snap.errors.items()},
        "train_test_gap": [g.to_dict() for g in gap.gaps(metric_diffs, cfg.report.max_gap_widening)],
        "files": [item.to_dict() for item in obtained],
    }
    if cfg.report.plots and repo.is_dvc:
        names = cfg.report.plots if isinstance(cfg.report.plots, tuple) else None
        evidence["plots"] = dvc_plots.collect(repo.root, base_side.rev, head_rev, names, project.results_dir)
    lines = (
        f"compare: {verdict}: {summary}",
        *(f"  {rule['outcome']:4}  {rule['status']:16} {rule['reason']}" for rule in rules),
        *(f"file {item.line}" for item in obtained if item.way != "workspace"),
    )
    return project.record(StepResult("compare", verdict, summary, commits, evidence, lines=lines))
