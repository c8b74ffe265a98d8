"""`mlgate retrain`: refresh the data, check its drift against the default branch, retrain, open one pull request.

1. Preconditions, before anything changes: a clean checkout of the default branch's tip, a remote to push to,
   a driver for the pull request, the default branch's data (the drift reference).
2. `retrain.data_command` refreshes the data; when `data.train` is a DVC pipeline output, the stage producing
   it is reproduced too, so the drift check sees the new data before any training.
3. Drift of the refreshed `data.train` against the default branch's decides (`retrain.when`); `--check-only`
   stops here and reports (job summary, optionally a comment on a tracking issue).
4. `mlgate train`, then a commit of only what changed among data pointers, params, metrics, predictions (and
   the schema with --update-schema) on top of the default branch, then `mlgate compare` of that commit.
5. `dvc push` (when a DVC remote is configured), then one atomic, leased `git push` of the retrain branch, then
   the pull request (label mlgate:retrain) is opened or updated; if it cannot be, the branch is put back.
Whatever happens, the user's checkout is left as it was found: HEAD, index and tracked files.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlgate.cli.context import Settings, github_api_options, pass_settings
from mlgate.drivers import DRIVERS
from mlgate.errors import EXIT_GATE_FAILED, EXIT_OK, InputError, MlgateError
from mlgate.retrain.decision import WHEN

if TYPE_CHECKING:
    from mlgate.adapters.dvc_repo import Project
    from mlgate.adapters.monitor import RunRecord
    from mlgate.config.model import Config
    from mlgate.drivers.pulls import PullDriver
    from mlgate.ghcontext import GitHubContext
    from mlgate.report.render import ReportContext
    from mlgate.results import StepResult
    from mlgate.retrain.commitset import CommitRules, Selection
    from mlgate.retrain.decision import Decision
    from mlgate.retrain.drift import DriftCheck
    from mlgate.retrain.message import RunInfo

SUMMARY_KEY = "retrain"
LOG_LINES = 20  # of a failed step's log, in the summary
DEFAULT_BRANCH_EVENTS = ("schedule",)  # GitHub runs these on the default branch, GITHUB_REF_NAME names it


@dataclass
class _Run:
    """What the steps share, and what retrain.json records."""

    settings: Settings
    project: Project
    remote: str
    branch: str
    info: RunInfo
    check_only: bool
    context: ReportContext
    evidence: dict[str, Any] = field(default_factory=dict)
    commits: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.project.git_root

    def record(self, verdict: str, summary: str, outcome: str) -> Path:
        from mlgate.results import StepResult, write_result

        self.evidence["outcome"] = outcome
        result = StepResult("retrain", verdict, summary, {"base": self.info.base_sha, **self.commits}, self.evidence)
        return write_result(self.settings.results_dir, result)


# ----------------------------------------------------------------------------------------------- preconditions


def _default_branch(explicit: str | None, ctx: GitHubContext, env: Mapping[str, str], root: Path, remote: str) -> str:
    from mlgate.adapters import git, git_publish

    on_default = ctx.event_name in DEFAULT_BRANCH_EVENTS and env.get("GITHUB_REF_NAME")
    name = explicit or ctx.default_branch or on_default or git.default_branch(root, remote)
    name = name or git_publish.current_branch(root)
    if not name:
        raise InputError("cannot tell the default branch (HEAD is detached): pass --base")
    return name


def _base_tip(root: Path, remote: str, base: str) -> str:
    """HEAD, once it is known to be the default branch's tip: the retrain commit goes on top of it."""
    from mlgate.adapters import git

    tip_ref = next(
        (ref for ref in (f"refs/remotes/{remote}/{base}", f"refs/heads/{base}") if git.rev_parse(root, ref)), None
    )
    if tip_ref is None:
        raise InputError(f"the default branch '{base}' is not in this clone (neither {remote}/{base} nor {base})")
    tip, head = git.rev_parse(root, tip_ref), git.rev_parse(root, "HEAD")
    if head != tip:
        shown = tip_ref.removeprefix("refs/remotes/").removeprefix("refs/heads/")
        raise InputError(
            f"HEAD ({(head or 'none')[:12]}) is not the tip of {shown} ({str(tip)[:12]}): retraining starts from "
            f"the default branch's latest commit; check it out first"
        )
    return str(tip)


def _require_clean(root: Path) -> None:
    from mlgate.adapters import git_publish

    dirty = git_publish.modified_tracked(root)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise InputError(
            f"the checkout has uncommitted changes ({shown}): commit or stash them first, so that only what "
            "retraining changed goes into the retrain commit"
        )


def _read_table(path: Path, shown: str) -> Any:
    from mlgate.adapters.datafiles import read_data_file

    try:
        return read_data_file(path).table
    except InputError as exc:
        raise InputError(exc.message, file=shown) from None


def _reference(project: Project, base_sha: str, relative: str) -> Any:
    """The default branch's data.train, from git or DVC's cache/remote: the drift reference."""
    from mlgate.adapters import dvc_repo

    content = dvc_repo.read_file(project, base_sha, relative)
    shown = f"{relative} at {base_sha[:7]}"
    if content is None:
        raise InputError(
            "data.train is not in the default branch's commit, neither in git nor in DVC's cache or remote "
            "(run `dvc pull` before retraining)",
            file=shown,
        )
    with tempfile.TemporaryDirectory(prefix="mlgate-reference-") as scratch:
        copy = Path(scratch) / Path(relative).name
        copy.write_bytes(content)
        return _read_table(copy, shown)


# ----------------------------------------------------------------------------------------------- steps


def _run_step(run: _Run, command: list[str] | str, log: str, what: str) -> RunRecord:
    from mlgate import gha
    from mlgate.adapters import monitor

    shown = command if isinstance(command, str) else " ".join(command)
    with gha.group(f"mlgate retrain: {what}: {shown}"):
        return monitor.run_monitored(command, cwd=run.project.root, log_file=run.settings.results_dir / log)


def _refresh(run: _Run, config: Config, data_command: str, train_path: Path) -> RunRecord:
    """The data command, then the DVC stage producing data.train (if any), so data.train is the new data."""
    from mlgate.adapters import dvc_stages

    record = _run_step(run, data_command, "retrain-data.log", "data command")
    run.evidence["data_command"] = record.to_dict()
    if record.exit_code == 0 and run.project.is_dvc:
        stage = dvc_stages.producing_stage(run.project.root, train_path)
        if stage is not None:
            run.evidence["refreshed_stage"] = stage
            repro = _run_step(run, ["dvc", "repro", stage], "retrain-prepare.log", "data stage")
            if repro.exit_code != 0:
                return dataclasses.replace(repro, command=f"{data_command} && dvc repro {stage}")
    return record


def _drift(run: _Run, config: Config, reference: Any, train_path: Path, drift_share: float | None) -> DriftCheck:
    from mlgate.retrain.drift import DriftOptions, check_drift

    checks = config.data.checks
    options = DriftOptions(
        label=config.data.label,
        method=checks.drift_method,
        threshold=checks.drift_threshold,
        limit=checks.max_drifted_share if drift_share is None else drift_share,
        sample_rows=config.data.sample_rows,
    )
    current = _read_table(train_path, str(config.data.train))
    check = check_drift(reference, current, options)
    shown = f"{config.data.train} at {run.info.base_branch} ({run.info.base_sha[:7]})"
    run.evidence["drift"] = check.evidence(shown, f"{config.data.train} refreshed", options)
    run.evidence["drifted"] = check.summary.detected
    return check


def _commit_rules(run: _Run, config: Config, schema: Path | None) -> CommitRules:
    """Where data, params, metrics, predictions (and the schema) live, as paths from the top of the work tree."""
    from mlgate.adapters import dvc_repo, git
    from mlgate.retrain.commitset import CommitRules

    project = run.project
    files = [project.relative(config.resolve(f)) for f in config.metrics.files]
    snapshot = dvc_repo.read_snapshot(project, None, files)
    predictions = config.metrics.predictions
    data = [project.prefix + project.relative(config.resolve(p)) for p in (config.data.train, config.data.test) if p]
    return CommitRules(
        data=tuple(git.tracked_files(run.root, "HEAD", data)) if data else (),
        params=tuple(project.prefix + p for p in snapshot.params),
        metrics=tuple(project.prefix + p for p in snapshot.metrics_files),
        predictions=project.prefix + project.relative(config.resolve(predictions)) if predictions else None,
        schema=project.prefix + project.relative(schema) if schema is not None else None,
    )


def _changed(run: _Run) -> list[str]:
    """What differs from HEAD, but mlgate's own results and outbox (when they are not git-ignored)."""
    from mlgate.adapters import git_publish

    own = [run.settings.results_dir.resolve(), (run.project.root / ".mlgate").resolve()]
    return [
        p for p in git_publish.changed(run.root) if not any((run.root / p).resolve().is_relative_to(o) for o in own)
    ]


def _update_schema(run: _Run, train_path: Path) -> Path:
    from mlgate.steps import validate
    from mlgate.steps.base import Project

    config = run.settings.config
    target = config.resolve(config.data.schema) if config.data.schema else Path(validate.DEFAULT_SCHEMA_FILE)
    click.echo(validate.write_schema(validate.Inputs(train=train_path, schema=target), Project(config)))
    return target


def _with_head(run: _Run, step: str, sha: str) -> StepResult:
    """A step's result re-pointed at the retrain commit (training ran in the workspace that commit records)."""
    from mlgate.results import read_result, result_path, write_result

    result = read_result(result_path(run.settings.results_dir, step))
    result = dataclasses.replace(result, commits={**result.commits, "head": sha})
    write_result(run.settings.results_dir, result)
    return result


def _push_data(run: _Run) -> str:
    """`dvc push` of the retrained data and model before any git push, so the pull request never points at
    data nobody can pull; a note when there is nowhere to push."""
    from mlgate.adapters import dvc_stages

    if not run.project.is_dvc:
        return ""
    remote = dvc_stages.default_remote(run.project.root)
    if remote is None:
        return (
            "No DVC remote is configured: the retrained data and model stay in this run's DVC cache; configure "
            "one (`dvc remote add -d`) so reviewers can `dvc pull` them."
        )
    record = _run_step(run, ["dvc", "push"], "retrain-dvc-push.log", "data upload")
    run.evidence["dvc_push"] = {"remote": remote, "exit_code": record.exit_code}
    if record.exit_code != 0:
        tail = " / ".join(record.log_tail[-3:])
        raise MlgateError(f"dvc push to the DVC remote '{remote}' failed (exit {record.exit_code}): {tail}")
    return f"Data and model pushed to the DVC remote {remote!r}."


# ----------------------------------------------------------------------------------------------- outcomes


def _finish(run: _Run, driver: PullDriver, decision: Decision, verdict: str, headline: str, outcome: str) -> None:
    """A run that opens no pull request: retrain.json, the summary (and why), the outputs."""
    from mlgate import gha
    from mlgate.retrain.message import outcome_summary

    run.evidence["decision"] = {"retrain": decision.retrain, "reason": decision.reason}
    path = run.record(verdict, f"{headline}: {decision.reason}", outcome)
    driver.write_summary(SUMMARY_KEY, outcome_summary(headline, decision, run.evidence.get("drift", {})))
    gha.set_output("drifted", "true" if run.evidence.get("drifted") else "false")
    gha.set_output("pr-url", "")
    gha.set_output("results", str(path))
    click.echo(f"retrain: {headline}: {decision.reason}")


def _failed(
    run: _Run, driver: PullDriver, step: str, message: str, log_tail: Sequence[str] = (), *, annotate: bool = True
) -> None:
    """A step failed: no pull request; retrain.json and the summary say which and why, with the log's tail.
    `annotate` is False when the error is raised on, and so reported, by the CLI itself."""
    from mlgate import gha
    from mlgate.report.markdown import fenced, text

    path = run.record("error", f"{step} failed: {message}; no pull request", f"{step.replace(' ', '-')}-failed")
    markdown = f"### mlgate retrain: {step} failed, no pull request\n\n{text(message)}\n"
    if log_tail:
        markdown += "\n" + fenced("text", "\n".join(log_tail[-LOG_LINES:])) + "\n"
    driver.write_summary(SUMMARY_KEY, markdown)
    gha.set_output("drifted", "true" if run.evidence.get("drifted") else "false")
    gha.set_output("pr-url", "")
    gha.set_output("results", str(path))
    if annotate:
        gha.annotate("error", f"mlgate retrain: {step} failed: {message}")


def _publish(run: _Run, driver: PullDriver, sha: str, title: str, body: str) -> Any:
    """Push the branch, then open or update the pull request; if that fails, the branch is put back."""
    from mlgate.adapters import git_publish
    from mlgate.adapters.git_publish import RefUpdate
    from mlgate.drivers.protocol import DriverError
    from mlgate.drivers.pulls import PullRequestSpec
    from mlgate.retrain.message import RETRAIN_LABEL

    ref = f"refs/heads/{run.branch}"
    previous = git_publish.remote_ref(run.root, run.remote, ref)
    git_publish.push(run.root, run.remote, [RefUpdate(ref, sha, previous)])
    spec = PullRequestSpec(run.branch, run.info.base_branch, title, body, RETRAIN_LABEL, sha)
    try:
        return driver.upsert_pull(spec)
    except DriverError as exc:
        try:
            git_publish.push(run.root, run.remote, [RefUpdate(ref, previous, sha)])
            undone = f"{run.branch} on {run.remote} was put back as it was"
        except MlgateError as undo:
            undone = f"and putting {run.branch} back failed too ({undo.message})"
        raise DriverError(f"{exc.message}; {undone}") from exc


# ----------------------------------------------------------------------------------------------- the command


@click.command()
@click.option("--data-command", default=None, help="Command that refreshes the data [retrain.data_command].")
@click.option("--when", type=click.Choice(WHEN), default=None, help="Retrain on drift only, or always [retrain.when].")
@click.option("--branch", default=None, help="Head branch of the retrain pull request [retrain.branch].")
@click.option("--base", default=None, help="The default branch to start from and compare with [the repository's].")
@click.option("--check-only", is_flag=True, help="Only refresh the data and report its drift; no training, no PR.")
@click.option(
    "--tracking-issue",
    type=click.IntRange(min=1),
    default=None,
    help="With --check-only: comment on this issue when the data drifted.",
)
@click.option(
    "--drift-share",
    type=click.FloatRange(0, 1),
    default=None,
    help="Drift is more than this share of drifted columns [retrain.drift_share, else data.checks.drift].",
)
@click.option("--update-schema", is_flag=True, help="Re-infer data.schema from the refreshed data and commit it.")
@click.option("--remote", default="origin", show_default=True, help="Git remote the retrain branch is pushed to.")
@click.option(
    "--driver",
    "driver_name",
    type=click.Choice(DRIVERS),
    default="auto",
    show_default=True,
    help="Where the pull request goes: GitHub (inside Actions, with a token) or the local outbox.",
)
@click.option("--token", default=None, help="GitHub token [default: $GITHUB_TOKEN].")
@github_api_options
@click.pass_context
@pass_settings
def retrain(
    settings: Settings,
    ctx: click.Context,
    data_command: str | None,
    when: str | None,
    branch: str | None,
    base: str | None,
    check_only: bool,
    tracking_issue: int | None,
    drift_share: float | None,
    update_schema: bool,
    remote: str,
    driver_name: str,
    token: str | None,
    retry_budget: float,
    api_timeout: int,
) -> int:
    """Refresh the data, check drift against the default branch, retrain and open (or update) one pull request."""
    from mlgate.adapters import dvc_repo, git_publish
    from mlgate.drivers import choose_driver
    from mlgate.drivers.pulls import make_pull_driver
    from mlgate.ghcontext import context_from_env
    from mlgate.report.render import ReportContext
    from mlgate.retrain.message import RunInfo

    config = settings.config
    env = os.environ
    data_command = data_command or config.retrain.data_command
    if not data_command:
        raise InputError("no data command: pass --data-command or set retrain.data_command in mlgate.yml")
    when = when or config.retrain.when
    branch = branch or config.retrain.branch
    drift_share = config.retrain.drift_share if drift_share is None else drift_share
    if tracking_issue is not None and not check_only:
        raise InputError("--tracking-issue goes with --check-only (a retraining run reports in its pull request)")
    if config.data.train is None:
        raise InputError("no data.train in mlgate.yml: retraining needs the data whose drift decides it")
    if update_schema and check_only:
        raise InputError("--update-schema commits the schema: it does not go with --check-only")

    gh = context_from_env(env)
    token = token or env.get("GITHUB_TOKEN") or None
    driver = make_pull_driver(
        choose_driver(driver_name, env, token), gh, token, budget=retry_budget, timeout=api_timeout
    )
    project = dvc_repo.open_project(config.root)
    root = project.git_root
    if not check_only and not git_publish.has_remote(root, remote):
        raise InputError(f"this repository has no remote '{remote}' to push the retrain branch to (see --remote)")
    base_branch = _default_branch(base, gh, env, root, remote)
    if branch == base_branch:
        raise InputError(f"the retrain branch must not be the default branch '{base_branch}' (see retrain.branch)")
    _require_clean(root)
    base_sha = _base_tip(root, remote, base_branch)
    train_path = config.resolve(config.data.train)
    reference = _reference(project, base_sha, project.relative(train_path))
    info = RunInfo(base_branch, base_sha, data_command, when, datetime.now(UTC).strftime("%Y-%m-%d"), gh.run_url)
    commit_url = f"{gh.server_url}/{gh.repository}/commit/" if gh.repository else None
    context = ReportContext(name="retrain", run_url=gh.run_url, commit_url=commit_url, base_branch=base_branch)
    run = _Run(settings, project, remote, branch, info, check_only, context)
    run.evidence.update(mode="check-only" if check_only else "retrain", when=when, branch=branch)
    try:
        return _retrain(ctx, run, driver, config, train_path, reference, drift_share, update_schema, tracking_issue)
    finally:
        # The retrained files went to the retrain branch (or nowhere): the checkout is left as it was found.
        git_publish.restore(root, git_publish.modified_tracked(root))


def _retrain(
    ctx: click.Context,
    run: _Run,
    driver: PullDriver,
    config: Config,
    train_path: Path,
    reference: Any,
    drift_share: float | None,
    update_schema: bool,
    tracking_issue: int | None,
) -> int:
    from mlgate import gha
    from mlgate.adapters import git_publish
    from mlgate.cli.compare import compare as compare_command
    from mlgate.cli.train import train as train_command
    from mlgate.drivers.protocol import CommentRequest, DriverError
    from mlgate.results import read_result, result_path
    from mlgate.retrain import message
    from mlgate.retrain.commitset import select
    from mlgate.retrain.decision import Decision, decide

    record = _refresh(run, config, run.info.data_command, train_path)
    if record.exit_code != 0:
        _failed(run, driver, "data command", f"{record.command} exited with code {record.exit_code}", record.log_tail)
        return EXIT_GATE_FAILED
    check = _drift(run, config, reference, train_path, drift_share)
    decision = decide(run.info.when, check.summary, check_only=run.check_only)
    if run.check_only:
        failure: DriverError | None = None
        if check.summary.detected and tracking_issue is not None:
            body = message.monitor_comment(decision, run.info, run.evidence["drift"])
            try:
                posted = driver.upsert_comment(CommentRequest(tracking_issue, body, message.MONITOR_MARKER, "append"))
                run.evidence["tracking_comment"] = posted.url
            except DriverError as exc:  # the summary and retrain.json still tell what was found
                run.evidence["tracking_comment_error"] = exc.message
                failure = exc
        headline = "drift detected" if check.summary.detected else "no drift"
        _finish(run, driver, decision, "warn" if check.summary.detected else "pass", headline, "check-only")
        if failure is not None:
            raise failure
        return EXIT_OK
    if not decision.retrain:
        _finish(run, driver, decision, "skipped", "no retraining, no pull request", "no-drift")
        return EXIT_OK

    schema = _update_schema(run, train_path) if update_schema else None
    if ctx.invoke(train_command) != EXIT_OK:
        trained = read_result(result_path(run.settings.results_dir, "train"))
        _failed(run, driver, "training", trained.summary, trained.evidence.get("log_tail") or ())
        return EXIT_GATE_FAILED
    selection: Selection = select(_changed(run), _commit_rules(run, config, schema))
    run.evidence["commit"] = {"files": list(selection.commit), "left_out": list(selection.left_out)}
    if selection.empty:
        nothing = Decision(False, f"{decision.reason}, but retraining changed no data pointer, params or metrics")
        _finish(run, driver, nothing, "skipped", "nothing changed, no pull request", "nothing-changed")
        return EXIT_OK

    env = git_publish.identity_env(run.root, gha.in_actions())
    commit_text = message.commit_message(decision, check.summary, run.info)
    sha = git_publish.commit_onto(run.root, run.info.base_sha, selection.commit, commit_text, env)
    run.commits["head"] = sha
    run.evidence["commit"]["sha"] = sha
    ctx.invoke(compare_command, base=run.info.base_sha, head=sha, exit_zero=True)
    results = [_with_head(run, "train", sha), read_result(result_path(run.settings.results_dir, "compare"))]
    body = message.pr_body(
        decision,
        run.info,
        run.evidence["drift"],
        results,
        run.context,
        committed=selection.commit,
        left_out=selection.left_out,
    )
    try:
        data_note = _push_data(run)
        pull = _publish(run, driver, sha, message.pr_title(check.summary, run.info), body)
    except MlgateError as exc:
        _failed(run, driver, "publishing", exc.message, annotate=False)
        raise
    run.evidence["decision"] = {"retrain": True, "reason": decision.reason}
    run.evidence["pull"] = {"action": pull.action, "number": pull.number, "url": pull.url}
    gate = results[1].verdict
    path = run.record("pass", f"pull request #{pull.number} {pull.action}: {decision.reason}", "pull-request")
    headline = f"### mlgate retrain: pull request #{pull.number} {pull.action} ({pull.url})"
    driver.write_summary(SUMMARY_KEY, "\n\n".join(part for part in (headline, data_note, body) if part) + "\n")
    gha.set_output("drifted", "true" if check.summary.detected else "false")
    gha.set_output("pr-url", pull.url or "")
    gha.set_output("results", str(path))
    click.echo(f"retrain: pull request #{pull.number} {pull.action}: {pull.url} (gate: {gate})")
    return EXIT_GATE_FAILED if gate == "fail" else EXIT_OK
