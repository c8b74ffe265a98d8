"""The monitor step: judge the production log window by window against the deployed model, keep the history
on a git branch, and show it in one tracking issue.

1. The history (`history.jsonl` on `monitor.branch`, from the remote when there is one) is read and verified
   first: a rewritten history stops the run before anything changes.
2. `monitor.data_command` fetches the log; the deployed version is the registry's current version in
   `monitor.environment`; its reference is data.train (and metrics.predictions, the metrics) at its commit.
3. The log is read once, in record batches. Each complete window (its end at or before --as-of) not yet in
   the history is judged once; windows already judged whose labels arrived since get their quality filled.
   A complete window without rows is bad input (the log did not arrive), as are unknown columns and
   unparsable or backwards timestamps.
4. One commit on the history branch, pushed with a lease on the value read in 1 (a concurrent run's push
   is never overwritten); nothing new, no commit: a rerun changes nothing.
5. The tracking issue's body is regenerated; a comment when an alert started or ended; the job summary;
   `.mlgate/monitoring/metrics.prom`; with `monitor.on_alert: retrain`, a workflow_dispatch of the retrain
   workflow when input drift starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError, MlgateError
from mlgate.results import StepResult
from mlgate.steps.base import Project as StepProject
from mlgate.steps.base import guarded

if TYPE_CHECKING:
    from mlgate.adapters.dvc_repo import Project
    from mlgate.config.model import Config
    from mlgate.drivers.issues import TrackingDriver
    from mlgate.monitor.judge import Policy, Reference
    from mlgate.monitor.window_stats import WindowStats
    from mlgate.monitor.windows import Window

SUMMARY_KEY = "monitor"
METRICS_FILE = Path(".mlgate/monitoring/metrics.prom")
FETCHED_REF = "refs/mlgate/monitoring-fetched"
DEFAULT_STAGE = "production"


@dataclass(frozen=True)
class Inputs:
    """How to monitor; None takes mlgate.yml's `monitor` value (or the default)."""

    log: str | None = None  # monitor.log
    data_command: str | None = None  # monitor.data_command
    window: str | None = None  # monitor.window
    environment: str | None = None  # monitor.environment
    branch: str | None = None  # monitor.branch
    as_of: str | None = None  # ISO 8601: windows ending by then are complete; default: now
    remote: str = "origin"
    driver: str = "auto"  # auto | github | local
    token: str | None = None
    retry_budget: float = 300.0
    api_timeout: int = 15


def run(inputs: Inputs, project: StepProject) -> StepResult:
    """Judge the production log's new windows, append them to the history, update the tracking issue."""
    return guarded("monitor", project, lambda: _start(inputs, project))


# ----------------------------------------------------------------------------------------------- inputs


def _as_of(value: str | None) -> float:
    if value is None:
        return time.time()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--as-of {value!r} is not an ISO 8601 time (e.g. 2026-01-15 or 2026-01-15T06:00Z)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass
class _History:
    branch: str
    remote: str | None  # None: the branch lives in this repository only
    sha: str | None  # the branch's commit when it was read (the lease)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"


def _read_history(root: Path, branch: str, remote: str) -> _History:
    from mlgate.adapters import git, git_publish
    from mlgate.monitor.history import HISTORY_FILE, parse_history

    on_remote = git_publish.has_remote(root, remote)
    ref = f"refs/heads/{branch}"
    sha = git_publish.fetch_ref(root, remote, ref, FETCHED_REF) if on_remote else git.rev_parse(root, ref)
    history = _History(branch, remote if on_remote else None, sha)
    if sha is not None:
        content = git.read_blobs(root, [(sha, HISTORY_FILE)])[(sha, HISTORY_FILE)]
        where = f"{HISTORY_FILE} on branch {branch}" + (f" of {remote}" if on_remote else "")
        if content is None:
            raise InputError(
                f"branch {branch} has no {HISTORY_FILE}: it is not mlgate's monitoring history "
                "(set monitor.branch to another name)"
            )
        history.records = parse_history(content.decode("utf-8", "replace"), where)
    return history


def _check_against_issue(driver: TrackingDriver, history: _History, model: str) -> None:
    """The open tracking issue names the last record it was written from; the history must still hold it."""
    from mlgate.monitor import render
    from mlgate.monitor.history import check_head

    issue = driver.open_issue(render.issue_marker(model), render.ISSUE_LABEL)
    if issue is not None:
        where = f"branch {history.branch}" + (f" of {history.remote}" if history.remote else "")
        check_head(history.records, issue.body, where, f"#{issue.number}")


def _write_history(root: Path, history: _History, records: list[dict[str, Any]], message: str) -> str:
    from mlgate import gha
    from mlgate.adapters import git_publish
    from mlgate.adapters.git_publish import RefUpdate
    from mlgate.monitor.history import HISTORY_FILE, serialize

    env = git_publish.identity_env(root, gha.in_actions())
    content = serialize(records)
    sha = git_publish.commit_file_onto(root, history.sha, HISTORY_FILE, content, message, env)
    if history.remote is None:
        git_publish.update_local_ref(root, history.ref, sha, history.sha)
    else:
        git_publish.push(root, history.remote, [RefUpdate(history.ref, sha, history.sha)])
    return sha


@dataclass(frozen=True)
class _Deployed:
    model: str
    stage: str
    version: str | None
    commit: str
    note: str | None = None


def _deployed(config: Config, root: Path, stage: str, remote: str) -> _Deployed:
    """The version in `stage` of the registry (git tags), else HEAD, said so."""
    from mlgate.adapters import git, gittags

    name = config.deploy.name
    head = git.rev_parse(root, "HEAD")
    if head is None:
        raise InputError("the repository has no commit yet: nothing is deployed to monitor")
    if name is None:
        return _Deployed("model", stage, None, head, "no deploy.name in mlgate.yml: the reference is HEAD's data")
    if gittags.has_remote(root, remote):
        gittags.fetch_tags(root, remote)
    artifact = gittags.read_registry(root).artifact(name)
    version = artifact.current(stage)
    state = artifact.version(version) if version else None
    if state is None:
        note = f"no version of {name} is in stage {stage} of the registry: the reference is HEAD's data"
        return _Deployed(name, stage, None, head, note)
    return _Deployed(name, stage, state.version, state.commit)


def _features(config: Config, reference: Any, log_columns: list[str], roles_taken: set[str]) -> dict[str, str]:
    from mlgate.monitor.sketches import column_kind

    listed = config.monitor.columns.features
    if listed is not None:
        present = set(reference.column_names)
        missing = [name for name in listed if name not in present]
        if missing:
            raise config.error(
                ("monitor", "columns", "features"), f"feature '{missing[0]}' is not a column of data.train"
            )
        names = list(listed)
    else:
        names = [c for c in reference.column_names if c in log_columns and c not in roles_taken]
        names = [c for c in names if c != config.data.label]
    kinds = {}
    for name in names:
        kind = column_kind(name, reference.column(name))
        if kind is not None:
            kinds[name] = kind.kind
    if not kinds:
        raise config.error(
            ("monitor", "columns", "features"),
            "no feature of data.train is in the production log: name them (monitor.columns.features)",
        )
    return kinds


def _reference(config: Config, repo: Project, deployed: _Deployed, kinds_for: Any) -> tuple[Reference, dict]:
    """Sketches of data.train at the deployed commit, its test predictions and its metrics."""
    import pyarrow as pa

    from mlgate.adapters import dvc_repo
    from mlgate.adapters.datafiles import read_table_at
    from mlgate.compare.predictions import PredictionsError, parse_predictions
    from mlgate.monitor.judge import Reference
    from mlgate.monitor.sketches import NumericSketch, column_kind, new_sketch, sketch_table

    if config.data.train is None:
        raise config.error(("data", "train"), "is required for mlgate monitor: it is the drift reference")
    relative = repo.relative(config.resolve(config.data.train))
    missing = (
        f"data.train is not in the deployed commit {deployed.commit[:7]}, neither in git nor in DVC's cache or "
        "remote (run `dvc pull` first)"
    )
    table = read_table_at(repo, deployed.commit, relative, missing)
    kinds = kinds_for(table)
    prediction = score = None
    prediction_kind = "categorical"
    if config.metrics.predictions:
        path = repo.relative(config.resolve(config.metrics.predictions))
        data = dvc_repo.read_file(repo, deployed.commit, path)
        if data is not None:
            try:
                parsed = parse_predictions(data, path).predictions
            except PredictionsError as exc:
                raise InputError(f"{exc} (at the deployed commit {deployed.commit[:7]})", file=path) from None
            if parsed.y_pred is not None:
                kind = column_kind("prediction", pa.chunked_array([pa.array(parsed.y_pred)]))
                prediction_kind = kind.kind if kind is not None else "categorical"
                prediction = new_sketch(prediction_kind)
                prediction.update(pa.array(parsed.y_pred))
            if parsed.y_score is not None:
                score = NumericSketch()
                score.update(pa.array(parsed.y_score))
    files = [repo.relative(config.resolve(f)) for f in config.metrics.files]
    metrics = dvc_repo.read_snapshot(repo, deployed.commit, files).metrics
    described = {
        "model": deployed.model,
        "stage": deployed.stage,
        "version": deployed.version,
        "commit": deployed.commit,
        "data": relative,
        "rows": table.num_rows,
    }
    reference = Reference(sketch_table(table, kinds), prediction, score, metrics, described)
    return reference, {"prediction_kind": prediction_kind, "kinds": kinds}


# ----------------------------------------------------------------------------------------------- the log


def _accumulate(
    batches: Iterable[Any], wanted: dict[int, WindowStats], seconds: int
) -> tuple[float | None, dict[int, int]]:
    """Feed every batch's rows to the stats of their window (the wanted ones); the first timestamp and the
    row count of every window seen."""
    import numpy as np

    first: float | None = None
    counts: dict[int, int] = {}
    for batch in batches:
        if first is None:
            first = float(batch.timestamps[0])
        starts = (batch.timestamps // seconds).astype(np.int64) * seconds
        bounds = np.flatnonzero(np.diff(starts)) + 1
        for begin, end in zip([0, *bounds.tolist()], [*bounds.tolist(), len(starts)], strict=True):
            start = int(starts[begin])
            counts[start] = counts.get(start, 0) + end - begin
            stats = wanted.get(start)
            if stats is not None:
                stats.add({name: column.slice(begin, end - begin) for name, column in batch.columns.items()})
    return first, counts


@dataclass
class _Plan:
    """What this run judges: new windows, and old ones whose labels may have arrived."""

    new: dict[int, WindowStats]
    refresh: dict[int, WindowStats]


def _plan(
    history: list[dict[str, Any]], first_start: int | None, as_of: float, seconds: int, make: Any, recent: int
) -> _Plan:
    """New windows: complete, after the last judged one. Labels are looked for in the last `recent` judged
    windows only (the ones the issue shows), so a run's work does not grow with the history."""
    from mlgate.monitor.windows import Window, complete_windows

    judged = {record["window"]: record for record in history[-recent:]}
    last = history[-1]["start"] if history else ""
    new, refresh = {}, {}
    if first_start is None:
        return _Plan(new, refresh)
    for window in complete_windows(Window(first_start, seconds), as_of):
        record = judged.get(window.key)
        if window.iso()[0] > last:  # the history only grows forward
            new[window.start] = make(window, full=True)
        elif record is not None and (record.get("quality") or {}).get("label_coverage", 0) < 1:
            refresh[window.start] = make(window, full=False)
    return _Plan(new, refresh)


def _first_timestamp(files: list[Path], root: Path, timestamp: str) -> float | None:
    from mlgate.adapters import production_log

    for batch in production_log.read_batches(files, root, timestamp, []):
        return float(batch.timestamps[0])
    return None


# ----------------------------------------------------------------------------------------------- the command


def _start(inputs: Inputs, project: StepProject) -> StepResult:
    from mlgate.adapters import dvc_repo, production_log
    from mlgate.config.model import MonitorColumns
    from mlgate.drivers import choose_driver
    from mlgate.drivers.issues import make_tracking_driver
    from mlgate.monitor.window_stats import Roles, WindowStats
    from mlgate.monitor.windows import parse_window

    config = project.config
    settings = config.monitor
    log_name = inputs.log or settings.log
    if not log_name:
        raise config.error(("monitor", "log"), "is required for mlgate monitor (or pass --log): the production log")
    timestamp = settings.columns.timestamp
    if not timestamp:
        raise config.error(("monitor", "columns", "timestamp"), "is required: the column holding each request's time")
    seconds = parse_window(inputs.window or settings.window)
    as_of = _as_of(inputs.as_of)
    branch = inputs.branch or settings.branch
    stage = (
        inputs.environment
        or settings.environment
        or (config.deploy.environments[-1] if config.deploy.environments else DEFAULT_STAGE)
    )
    token = inputs.token or project.env.get("GITHUB_TOKEN") or None
    gh = project.github
    driver = make_tracking_driver(
        choose_driver(inputs.driver, project.env, token),
        gh,
        token,
        budget=inputs.retry_budget,
        timeout=inputs.api_timeout,
    )
    repo = dvc_repo.open_project(config.root)
    root = repo.git_root
    history = _read_history(root, branch, inputs.remote)
    _check_against_issue(driver, history, config.deploy.name or "model")
    evidence: dict[str, Any] = {
        "window": inputs.window or settings.window,
        "branch": branch,
        "as_of": datetime.fromtimestamp(as_of, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    lines: list[str] = []
    command = inputs.data_command or settings.data_command
    if command:
        _data_command(project, repo, command, evidence)

    log_path = config.resolve(log_name)
    files = production_log.log_files(log_path)
    c = settings.columns
    mapping = {
        key: getattr(c, key)
        for key in ("timestamp", "prediction", "score", "label", "latency_ms", "status", "error", "request_bytes")
        if getattr(c, key)
    }
    if c.features:
        mapping["features"] = list(c.features)
    production_log.require_columns(files, mapping, log_name)
    log_columns = production_log.column_names(files[0])
    deployed = _deployed(config, root, stage, inputs.remote)
    taken = {v for k, v in mapping.items() if isinstance(v, str)}
    reference, known = _reference(config, repo, deployed, lambda table: _features(config, table, log_columns, taken))
    roles = Roles(known["kinds"], settings.columns, known["prediction_kind"])
    policy = _policy(config)

    c = settings.columns
    quality_columns = MonitorColumns(prediction=c.prediction, score=c.score, label=c.label)
    label_roles = Roles({}, quality_columns, roles.prediction_kind)

    def make(window: Window, *, full: bool) -> WindowStats:
        return WindowStats(
            window, roles if full else label_roles, settings.quality_rows, config.metrics.significance.seed
        )

    first = _first_timestamp(files, root, timestamp)
    first_start = None if first is None else int(first // seconds) * seconds
    if history.records:  # windows before the last judged one are never new
        last = history.records[-1]
        last_start = int(datetime.fromisoformat(last["start"].replace("Z", "+00:00")).timestamp())
        first_start = last_start if first_start is None else min(first_start, last_start)
    plan = _plan(history.records, first_start, as_of, seconds, make, settings.history_windows)
    wanted = {**plan.new, **plan.refresh}
    batches = production_log.read_batches(files, root, timestamp, roles.names())
    _, counts = _accumulate(batches, wanted, seconds)
    for start, stats in sorted(plan.new.items()):
        if not counts.get(start):
            raise InputError(
                f"window {stats.window.key} ({inputs.window or settings.window}) has no rows in the production log "
                f"{log_name}: the log did not arrive for it (check monitor.data_command); nothing was recorded"
            )
    return _judge_and_publish(project, driver, history, plan, reference, policy, deployed, evidence, lines, root)


def _data_command(project: StepProject, repo: Project, command: str, evidence: dict[str, Any]) -> None:
    from mlgate import gha
    from mlgate.adapters import monitor

    with gha.group(f"mlgate monitor: data command: {command}"):
        record = monitor.run_monitored(command, cwd=repo.root, log_file=project.results_dir / "monitor-data.log")
    evidence["data_command"] = record.to_dict()
    if record.exit_code != 0:
        tail = " / ".join(record.log_tail[-3:])
        raise MlgateError(
            f"monitor.data_command {command!r} exited with code {record.exit_code}: {tail}; nothing was recorded"
        )


def _policy(config: Config) -> Policy:
    from mlgate.monitor.judge import Policy

    checks, settings = config.data.checks, config.monitor
    alerts = settings.alerts
    share = alerts.drift_share if alerts.drift_share is not None else checks.max_drifted_share
    method = settings.drift_method or checks.drift_method
    threshold = settings.drift_threshold if settings.drift_threshold is not None else checks.drift_threshold
    return Policy(method, threshold, share, alerts, config.metrics.metric_rules, config.metrics.significance)


def _judge_and_publish(
    project: StepProject,
    driver: TrackingDriver,
    history: _History,
    plan: _Plan,
    reference: Reference,
    policy: Policy,
    deployed: _Deployed,
    evidence: dict[str, Any],
    lines: list[str],
    root: Path,
) -> StepResult:
    from mlgate.monitor import history as hist
    from mlgate.monitor.judge import judge, quality

    records = history.records
    updated = list(records)
    filled = []
    for _, stats in sorted(plan.refresh.items()):
        record = next(r for r in updated if r["window"] == stats.window.key)
        if hist.needs_quality(record, stats.labelled.rows):
            found = quality(stats, reference, policy)
            if found is not None:
                updated = hist.with_quality(updated, stats.window.key, found)
                filled.append(stats.window.key)
    run_url = project.github.run_url
    judged = [judge(stats, reference, policy) for _, stats in sorted(plan.new.items())]
    if run_url:  # which run judged a window: the tracking issue links it
        judged = [{**record, "run": run_url} for record in judged]
    updated = hist.append(updated, judged)
    evidence.update(
        model=deployed.model,
        stage=deployed.stage,
        version=deployed.version,
        reference=reference.described,
        judged=[r["window"] for r in judged],
        quality_filled=filled,
    )
    if deployed.note:
        evidence["reference_note"] = deployed.note
        lines.append(f"monitor: {deployed.note}")
    commit = None
    if updated != records:
        what = ", ".join(evidence["judged"]) or "none"
        message = f"mlgate monitor: {deployed.model}: windows {what}" + (
            f"; quality of {', '.join(filled)}" if filled else ""
        )
        commit = _write_history(root, history, updated, message)
    evidence["history"] = {
        "branch": history.branch,
        "remote": history.remote,
        "records": len(updated),
        "commit": commit or history.sha,
        "changed": commit is not None,
    }
    if not updated:
        lines.append("monitor: no complete window in the production log yet; nothing recorded")
        return project.record(
            StepResult("monitor", "skipped", "no complete window yet", {}, evidence, lines=tuple(lines))
        )
    return _publish(project, driver, records, updated, evidence, lines)


def _publish(
    project: StepProject,
    driver: TrackingDriver,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    evidence: dict[str, Any],
    lines: list[str],
) -> StepResult:
    from mlgate.drivers.issues import IssueSpec
    from mlgate.drivers.protocol import CommentRequest
    from mlgate.fsutil import atomic_write_text
    from mlgate.monitor import history as hist
    from mlgate.monitor import render

    config = project.config
    settings = config.monitor
    model = evidence["model"]
    run_url = project.github.run_url
    alerts = settings.alerts
    thresholds = {
        "drift_share": after[-1]["drift"]["max_drifted_share"],
        "latency_p95_ms": alerts.latency_p95_ms,
        "error_rate": alerts.error_rate,
    }
    body = render.issue_body(
        model,
        after,
        window=evidence["window"],
        branch=evidence["history"]["branch"],
        history_windows=settings.history_windows,
        thresholds=thresholds,
    )
    spec = IssueSpec(render.issue_title(model), body, render.issue_marker(model), render.ISSUE_LABEL)
    issue = driver.upsert_issue(spec)
    evidence["issue"] = {"number": issue.number, "url": issue.url, "action": issue.action}
    changes = hist.alert_changes(before, after)
    if changes.any:
        comment = render.alert_comment(model, changes, run_url)
        posted = driver.upsert_comment(CommentRequest(issue.number, comment, render.alert_marker(model), "append"))
        evidence["comment"] = posted.url
    evidence["started"] = [a.name for a in changes.started]
    evidence["ended"] = [a.name for a in changes.ended]
    active = hist.active_alerts(after)
    evidence["alerts"] = [{"name": a.name, "window": a.window, "message": a.message} for a in active.values()]
    if settings.on_alert == "retrain" and any(a.name == "input_drift" for a in changes.started):
        ref = project.github.default_branch or project.env.get("GITHUB_REF_NAME") or "main"
        dispatched = driver.dispatch(settings.retrain_workflow, ref, {})
        evidence["dispatch"] = {"workflow": dispatched.workflow, "ref": dispatched.ref, "url": dispatched.url}
        lines.append(f"monitor: input drift started: dispatched {dispatched.workflow} on {dispatched.ref}")
    metrics_path = config.root / METRICS_FILE
    atomic_write_text(metrics_path, render.prometheus(model, after))
    evidence["metrics_file"] = str(metrics_path)
    evidence["latest"] = after[-1]
    driver.write_summary(SUMMARY_KEY, body)
    judged = evidence["judged"]
    status = f"{len(active)} alert(s): {', '.join(active)}" if active else "no alerts"
    lines.append(
        f"monitor: judged {len(judged)} window(s) ({', '.join(judged) or 'none new'}); {status}; "
        f"tracking issue #{issue.number} {issue.action}"
    )
    verdict = "warn" if active else "pass"
    return project.record(StepResult("monitor", verdict, status, {}, evidence, lines=tuple(lines)))
