"""The retrain step: refresh the data, check its drift against the default branch, retrain, open one pull request.

1. Preconditions, before anything changes: a clean checkout of the default branch's tip, a remote to push to,
   a driver for the pull request, the default branch's data (the drift reference).
2. `retrain.data_command` refreshes the data; when `data.train` is a DVC pipeline output, the stage producing
   it is reproduced too, so the drift check sees the new data before any training.
3. Drift of the refreshed `data.train` against the default branch's decides (`retrain.when`); `--check-only`
   stops here and reports (job summary, optionally a comment on a tracking issue).
4. The train step, then a commit of only what changed among data pointers, params, metrics, predictions (and
   the schema with --update-schema) on top of the default branch, then the compare step on that commit.
5. `dvc push` (when a DVC remote is configured), then one atomic, leased `git push` of the retrain branch, then
   the pull request (label mlgate:retrain) is opened or updated; if it cannot be, the branch is put back.
Whatever happens, the user's checkout is left as it was found: HEAD, index and tracked files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError, MlgateError
from mlgate.results import Note, StepResult
from mlgate.steps.base import Project as StepProject
from mlgate.steps.base import Wanted, guarded, obtain

if TYPE_CHECKING:
    from mlgate.adapters.dvc_repo import Project
    from mlgate.adapters.monitor import RunRecord
    from mlgate.config.model import Config
    from mlgate.drivers.pulls import PullDriver
    from mlgate.ghcontext import GitHubContext
    from mlgate.report.render import ReportContext
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

    project: StepProject
    repo: Project
    remote: str
    branch: str
    info: RunInfo
    check_only: bool
    context: ReportContext
    evidence: dict[str, Any] = field(default_factory=dict)
    commits: dict[str, str] = field(default_factory=dict)

    lines: list[str] = field(default_factory=list)
    err_lines: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.repo.git_root

    def record(self, verdict: str, summary: str, outcome: str, *notes: Note) -> StepResult:
        self.evidence["outcome"] = outcome
        commits = {"base": self.info.base_sha, **self.commits}
        result = StepResult(
            "retrain",
            verdict,
            summary,
            commits,
            self.evidence,
            lines=tuple(self.lines),
            err_lines=tuple(self.err_lines),
            notes=notes,
        )
        return self.project.record(result)

    def shown(self, result: StepResult) -> StepResult:
        """A sub-step's result, its lines kept for the caller to print with retrain's own."""
        self.lines += result.lines
        self.err_lines += result.err_lines
        return result


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


def _reference(project: Project, base_sha: str, relative: str, *, checked_out: bool) -> Any:
    """The default branch's data.train, the drift reference: at the branch's tip, checked out, the workspace's
    file (made present as validation does); else that commit's, from git or DVC's cache or remote."""
    from mlgate.adapters.datafiles import read_table_at

    if checked_out:
        return _read_table(project.root / relative, f"{relative} at {base_sha[:7]}")
    missing = (
        "data.train is not in the default branch's commit, neither in git nor in DVC's cache or remote "
        "(run `dvc pull` before retraining)"
    )
    return read_table_at(project, base_sha, relative, missing)


# ----------------------------------------------------------------------------------------------- steps


def _run_step(run: _Run, command: list[str] | str, log: str, what: str) -> RunRecord:
    from mlgate import gha
    from mlgate.adapters import monitor

    shown = command if isinstance(command, str) else " ".join(command)
    with gha.group(f"mlgate retrain: {what}: {shown}"):
        return monitor.run_monitored(command, cwd=run.repo.root, log_file=run.project.results_dir / log)


def _refresh(run: _Run, config: Config, data_command: str, train_path: Path) -> RunRecord:
    """The data command, then the DVC stage producing data.train (if any), so data.train is the new data."""
    from mlgate.adapters import dvc_stages

    record = _run_step(run, data_command, "retrain-data.log", "data command")
    run.evidence["data_command"] = record.to_dict()
    if record.exit_code == 0 and run.repo.is_dvc:
        stage = dvc_stages.producing_stage(run.repo.root, train_path)
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

    project = run.repo
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

    own = [run.project.results_dir.resolve(), (run.repo.root / ".mlgate").resolve()]
    return [
        p for p in git_publish.changed(run.root) if not any((run.root / p).resolve().is_relative_to(o) for o in own)
    ]


def _update_schema(run: _Run, train_path: Path) -> Path:
    from mlgate.steps import validate

    config = run.project.config
    target = config.resolve(config.data.schema) if config.data.schema else Path(validate.DEFAULT_SCHEMA_FILE)
    run.lines.append(validate.write_schema(validate.Inputs(train=train_path, schema=target), run.project))
    return target


def _with_head(run: _Run, result: StepResult, sha: str) -> StepResult:
    """A step's result re-pointed at the retrain commit (training ran in the workspace that commit records)."""
    return run.project.record(dataclasses.replace(result, commits={**result.commits, "head": sha}))


def _push_data(run: _Run) -> str:
    """`dvc push` of the retrained data and model before any git push, so the pull request never points at
    data nobody can pull; a note when there is nowhere to push."""
    from mlgate.adapters import dvc_stages

    if not run.repo.is_dvc:
        return ""
    remote = dvc_stages.default_remote(run.repo.root)
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


def _finish(run: _Run, driver: PullDriver, decision: Decision, verdict: str, headline: str, outcome: str) -> StepResult:
    """A run that opens no pull request: retrain.json, the summary (and why)."""
    from mlgate.retrain.message import outcome_summary

    run.evidence["decision"] = {"retrain": decision.retrain, "reason": decision.reason}
    driver.write_summary(SUMMARY_KEY, outcome_summary(headline, decision, run.evidence.get("drift", {})))
    run.lines.append(f"retrain: {headline}: {decision.reason}")
    return run.record(verdict, f"{headline}: {decision.reason}", outcome)


def _failed(
    run: _Run,
    driver: PullDriver,
    step: str,
    message: str,
    log_tail: Sequence[str] = (),
    *,
    error: MlgateError | None = None,
) -> StepResult:
    """A step failed: no pull request; retrain.json and the summary say which and why, with the log's tail.
    With `error` (what stopped the run, exit 2) the caller's error handler reports it, so no annotation here."""
    from mlgate.report.markdown import fenced, text

    markdown = f"### mlgate retrain: {step} failed, no pull request\n\n{text(message)}\n"
    if log_tail:
        markdown += "\n" + fenced("text", "\n".join(log_tail[-LOG_LINES:])) + "\n"
    driver.write_summary(SUMMARY_KEY, markdown)
    notes = () if error is not None else (Note("error", f"mlgate retrain: {step} failed: {message}"),)
    summary = f"{step} failed: {message}; no pull request"
    result = run.record("error", summary, f"{step.replace(' ', '-')}-failed", *notes)
    return dataclasses.replace(result, error=error)


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


@dataclass(frozen=True)
class Inputs:
    """How to retrain; None takes mlgate.yml's `retrain` value (or the default)."""

    data_command: str | None = None  # retrain.data_command
    when: str | None = None  # retrain.when: drift | always
    branch: str | None = None  # retrain.branch
    base: str | None = None  # the default branch to start from and compare with; default: the repository's
    check_only: bool = False  # only refresh the data and report its drift; no training, no pull request
    tracking_issue: int | None = None  # with check_only: comment on this issue when the data drifted
    drift_share: float | None = None  # retrain.drift_share, else data.checks.drift's
    update_schema: bool = False  # re-infer data.schema from the refreshed data and commit it
    remote: str = "origin"
    driver: str = "auto"  # where the pull request goes: auto | github | local
    token: str | None = None  # default: GITHUB_TOKEN
    retry_budget: float = 300.0
    api_timeout: int = 15


def run(inputs: Inputs, project: StepProject) -> StepResult:
    """Refresh the data, check drift against the default branch, retrain and open (or update) one pull request;
    the result (also retrain.json) says what happened. A gate that failed on the retrained model is
    `evidence["gate"]` (the pull request is opened all the same, for a reviewer to see)."""
    return guarded("retrain", project, lambda: _start(inputs, project))


def _start(inputs: Inputs, project: StepProject) -> StepResult:
    from mlgate.adapters import dvc_repo, git, git_publish
    from mlgate.drivers import choose_driver
    from mlgate.drivers.pulls import make_pull_driver
    from mlgate.report.render import ReportContext
    from mlgate.retrain.message import RunInfo

    config = project.config
    env = project.env
    data_command = inputs.data_command or config.retrain.data_command
    if not data_command:
        raise InputError("no data command: pass --data-command or set retrain.data_command in mlgate.yml")
    when = inputs.when or config.retrain.when
    branch = inputs.branch or config.retrain.branch
    drift_share = config.retrain.drift_share if inputs.drift_share is None else inputs.drift_share
    check_only, remote = inputs.check_only, inputs.remote
    if inputs.tracking_issue is not None and not check_only:
        raise InputError("--tracking-issue goes with --check-only (a retraining run reports in its pull request)")
    if config.data.train is None:
        raise InputError("no data.train in mlgate.yml: retraining needs the data whose drift decides it")
    if inputs.update_schema and check_only:
        raise InputError("--update-schema commits the schema: it does not go with --check-only")

    gh = project.github
    token = inputs.token or env.get("GITHUB_TOKEN") or None
    driver = make_pull_driver(
        choose_driver(inputs.driver, env, token), gh, token, budget=inputs.retry_budget, timeout=inputs.api_timeout
    )
    repo = dvc_repo.open_project(config.root)
    root = repo.git_root
    if not check_only and not git_publish.has_remote(root, remote):
        raise InputError(f"this repository has no remote '{remote}' to push the retrain branch to (see --remote)")
    base_branch = _default_branch(inputs.base, gh, env, root, remote)
    if branch == base_branch:
        raise InputError(f"the retrain branch must not be the default branch '{base_branch}' (see retrain.branch)")
    _require_clean(root)
    base_sha = _base_tip(root, remote, base_branch)
    train_path = config.resolve(config.data.train)
    checked_out = git.rev_parse(root, "HEAD") == base_sha
    # A clean checkout of the branch's tip: data.train is made present as validation does (pulled, or its stage
    # reproduced) before the data command replaces it; another base is read at that commit (DVC cache, remote).
    obtained = obtain(project, [Wanted.of(config, ("data", "train"), config.data.train)]) if checked_out else []
    reference = _reference(repo, base_sha, repo.relative(train_path), checked_out=checked_out)
    info = RunInfo(base_branch, base_sha, data_command, when, datetime.now(UTC).strftime("%Y-%m-%d"), gh.run_url)
    commit_url = f"{gh.server_url}/{gh.repository}/commit/" if gh.repository else None
    context = ReportContext(name="retrain", run_url=gh.run_url, commit_url=commit_url, base_branch=base_branch)
    run = _Run(project, repo, remote, branch, info, check_only, context)
    run.evidence.update(mode="check-only" if check_only else "retrain", when=when, branch=branch)
    run.evidence["files"] = [item.to_dict() for item in obtained]
    run.lines += [f"file {item.line}" for item in obtained if item.way != "workspace"]
    try:
        return _retrain(
            run, driver, config, train_path, reference, drift_share, inputs.update_schema, inputs.tracking_issue
        )
    finally:
        # The retrained files went to the retrain branch (or nowhere): the checkout is left as it was found.
        git_publish.restore(root, git_publish.modified_tracked(root))


def _retrain(
    run: _Run,
    driver: PullDriver,
    config: Config,
    train_path: Path,
    reference: Any,
    drift_share: float | None,
    update_schema: bool,
    tracking_issue: int | None,
) -> StepResult:
    from mlgate import gha
    from mlgate.adapters import git_publish
    from mlgate.drivers.protocol import CommentRequest, DriverError
    from mlgate.retrain import message
    from mlgate.retrain.commitset import select
    from mlgate.retrain.decision import Decision, decide
    from mlgate.steps import compare, train

    record = _refresh(run, config, run.info.data_command, train_path)
    if record.exit_code != 0:
        failed = f"{record.command} exited with code {record.exit_code}"
        return _failed(run, driver, "data command", failed, record.log_tail)
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
        result = _finish(run, driver, decision, "warn" if check.summary.detected else "pass", headline, "check-only")
        return dataclasses.replace(result, error=failure)
    if not decision.retrain:
        return _finish(run, driver, decision, "skipped", "no retraining, no pull request", "no-drift")

    schema = _update_schema(run, train_path) if update_schema else None
    trained = run.shown(train.run(train.Inputs(), run.project))
    if trained.error is not None:
        raise trained.error
    if trained.verdict != "pass":
        return _failed(run, driver, "training", trained.summary, trained.evidence.get("log_tail") or ())
    selection: Selection = select(_changed(run), _commit_rules(run, config, schema))
    run.evidence["commit"] = {"files": list(selection.commit), "left_out": list(selection.left_out)}
    if selection.empty:
        nothing = Decision(False, f"{decision.reason}, but retraining changed no data pointer, params or metrics")
        return _finish(run, driver, nothing, "skipped", "nothing changed, no pull request", "nothing-changed")

    env = git_publish.identity_env(run.root, gha.in_actions())
    commit_text = message.commit_message(decision, check.summary, run.info)
    sha = git_publish.commit_onto(run.root, run.info.base_sha, selection.commit, commit_text, env)
    run.commits["head"] = sha
    run.evidence["commit"]["sha"] = sha
    compared = run.shown(compare.run(compare.Inputs(base=run.info.base_sha, head=sha), run.project))
    if compared.error is not None:
        raise compared.error
    results = [_with_head(run, trained, sha), compared]
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
        return _failed(run, driver, "publishing", exc.message, error=exc)
    run.evidence["decision"] = {"retrain": True, "reason": decision.reason}
    run.evidence["pull"] = {"action": pull.action, "number": pull.number, "url": pull.url}
    gate = run.evidence["gate"] = compared.verdict
    headline = f"### mlgate retrain: pull request #{pull.number} {pull.action} ({pull.url})"
    driver.write_summary(SUMMARY_KEY, "\n\n".join(part for part in (headline, data_note, body) if part) + "\n")
    run.lines.append(f"retrain: pull request #{pull.number} {pull.action}: {pull.url} (gate: {gate})")
    return run.record("pass", f"pull request #{pull.number} {pull.action}: {decision.reason}", "pull-request")
