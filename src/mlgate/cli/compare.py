"""`mlgate compare`: the head (workspace) against the pull request's base commit, through the metric gate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from mlgate.cli.context import Settings, pass_settings
from mlgate.errors import EXIT_GATE_FAILED, EXIT_OK, InputError


def _predictions(project: Any, path: str | None, base_sha: str, head_rev: str | None) -> Any:
    """Parsed predictions at head and base; a missing or broken head file is an input error."""
    from mlgate.adapters import dvc_repo
    from mlgate.adapters.dvc_outputs import DvcReadError
    from mlgate.compare.gate import PredictionSides
    from mlgate.compare.predictions import PredictionsError, parse_predictions

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
        return PredictionSides(head, parse_predictions(base_data, path))
    except PredictionsError as exc:
        return PredictionSides(head, None, (f"base predictions unusable ({exc}): intervals are of head alone",))


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


@click.command()
@click.option("--base", default=None, help="Commit to compare with [default: the PR's base, else merge-base].")
@click.option("--head", default=None, help="Commit to compare [default: the workspace, as training left it].")
@click.option("--predictions", default=None, help="Per-row predictions file [default: metrics.predictions].")
@click.option("--history", type=click.IntRange(0, 200), default=None, help="Commits of metric history.")
@click.option("--alpha", type=click.FloatRange(0, 0.5, min_open=True), default=None, help="Significance level.")
@click.option("--resamples", type=click.IntRange(100, 100_000), default=None, help="Bootstrap resamples.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Bootstrap seed.")
@click.option("--exit-zero", is_flag=True, default=False, help="Exit 0 even when the gate fails.")
@pass_settings
def compare(
    settings: Settings,
    base: str | None,
    head: str | None,
    predictions: str | None,
    history: int | None,
    alpha: float | None,
    resamples: int | None,
    seed: int | None,
    exit_zero: bool,
) -> int:
    """Compare metrics, params and data versions with the base commit and apply the metric gate."""
    import dataclasses

    from mlgate import gha
    from mlgate.adapters import dvc_plots, dvc_repo, git
    from mlgate.compare import diff, gap
    from mlgate.compare.gate import AmbiguousMetric, evaluate_gate
    from mlgate.compare.policy import gate_verdict, summarize
    from mlgate.ghcontext import context_from_env
    from mlgate.results import StepResult, write_result

    cfg = settings.config
    significance = dataclasses.replace(
        cfg.metrics.significance,
        **{k: v for k, v in {"alpha": alpha, "resamples": resamples, "seed": seed}.items() if v is not None},
    )
    history = cfg.metrics.history if history is None else history
    project = dvc_repo.open_project(cfg.root)
    ctx = context_from_env(os.environ)
    chosen = git.resolve_base(project.git_root, base, ctx.base_sha, ctx.base_ref or ctx.default_branch, history + 1)
    head_rev = None
    if head is not None:
        head_rev = git.rev_parse(project.git_root, head)
        if head_rev is None:
            raise InputError(f"--head '{head}' does not name a commit in this repository")
    head_sha = head_rev or ctx.sha or git.rev_parse(project.git_root, "HEAD")
    files = [project.relative(cfg.resolve(f)) for f in cfg.metrics.files]

    base_snap = dvc_repo.read_snapshot(project, chosen.sha, files)
    head_snap = dvc_repo.read_snapshot(project, head_rev, files)
    commits = {"base": chosen.sha, "head": head_sha}

    def failed(error: InputError) -> InputError:
        """The error, recorded first as compare's verdict `error` so the report says why the gate did not run."""
        evidence = {"base_source": chosen.how}
        write_result(settings.results_dir, StepResult("compare", "error", str(error), commits, evidence))
        return error

    for side, snapshot in (("head", head_snap), ("base", base_snap)):
        if (error := snapshot.unreadable(side)) is not None:
            raise failed(error)

    baseline = bool(base_snap.metrics)
    base_note = None
    if not baseline:
        base_note = f"the base commit {chosen.sha[:12]} has no metrics files"
        if base_snap.missing:
            base_note = f"the base commit {chosen.sha[:12]} has no {', '.join(base_snap.missing)}"
    predictions_path = None
    if predictions is not None:
        predictions_path = project.relative(Path(predictions))
    elif cfg.metrics.predictions is not None:
        predictions_path = project.relative(cfg.resolve(cfg.metrics.predictions))
    try:
        sides = _predictions(project, predictions_path, chosen.sha, head_rev)
        gate = evaluate_gate(
            cfg.metrics.gate,
            base_snap.metrics if baseline else None,
            head_snap.metrics,
            sides,
            significance,
            base_note,
            split=cfg.metrics.predictions_split,
        )
    except AmbiguousMetric as exc:
        raise failed(cfg.error(("metrics", "gate", exc.metric), str(exc))) from None
    except InputError as exc:
        raise failed(exc) from None

    verdict = gate_verdict(gate.results)
    if git.is_shallow(project.git_root) and history:
        git.fetch_commit(project.git_root, chosen.sha, history + 1)  # best effort: a shorter trend is fine
    metric_diffs = diff.diff_files(base_snap.metrics, head_snap.metrics)
    evidence = {
        "base_source": chosen.how,
        "baseline": baseline,
        "head_is_workspace": head_rev is None,
        "rules": [r.to_dict() for r in gate.results],
        "metrics": [d.to_dict() for d in metric_diffs],
        "params": [d.to_dict() for d in diff.diff_files(base_snap.params, head_snap.params) if d.changed],
        "data_versions": [
            d.to_dict()
            for d in diff.diff_data_versions(
                base_snap.data_versions, head_snap.data_versions, base_snap.data_groups | head_snap.data_groups
            )
        ],
        "significance": dataclasses.asdict(significance)
        | {"predictions": predictions_path, "paired": gate.paired, "notes": gate.notes},
        "history": _history(project, chosen.sha, base_snap.metrics_files, cfg.metrics.gate, history),
        "base_errors": {p: e.reason for p, e in base_snap.errors.items()},
        "train_test_gap": [g.to_dict() for g in gap.gaps(metric_diffs, cfg.report.max_gap_widening)],
    }
    if cfg.report.plots and project.is_dvc:
        names = cfg.report.plots if isinstance(cfg.report.plots, tuple) else None
        evidence["plots"] = dvc_plots.collect(project.root, chosen.sha, head_rev, names, settings.results_dir)
    summary = summarize(gate.results, baseline=baseline, note=base_note)
    path = write_result(settings.results_dir, StepResult("compare", verdict, summary, commits, evidence))
    gha.set_output("gate", verdict)
    gha.set_output("results", str(path))
    click.echo(f"compare: {verdict}: {summary}")
    for result in gate.results:
        click.echo(f"  {result.outcome:4}  {result.status:16} {result.reason}")
    return EXIT_GATE_FAILED if verdict == "fail" and not exit_zero else EXIT_OK
