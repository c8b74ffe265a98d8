"""The report step: render the results bundle; sticky PR comment, job summary, check run; fork-safe artifact.

Its result (step `report`, the bundle's overall verdict) is returned, not written: the bundle is its input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlgate import gha
from mlgate.drivers import choose_driver
from mlgate.drivers.protocol import CheckRequest, CommentRequest, Driver, DriverError, ReadOnlyToken
from mlgate.errors import EXIT_GATE_FAILED, EXIT_OK, InputError
from mlgate.ghcontext import GitHubContext, load_event
from mlgate.report import artifact as artifacts
from mlgate.report.annotations import annotations
from mlgate.report.fit import CHECK_TEXT_LIMIT, COMMENT_LIMIT, utf8_length
from mlgate.report.marker import Marker
from mlgate.report.render import ReportContext, check_title, overall_verdict, render
from mlgate.results import Note, StepResult, read_bundle
from mlgate.steps import report_images
from mlgate.steps.base import Project, guarded

FAIL_ON = {"fail": ("fail", "error"), "warn": ("warn", "fail", "error"), "never": ()}


def exit_code(verdict: str, fail_on: str = "fail") -> int:
    """1 when the overall verdict is as bad as `fail_on` says (after the report went out), else 0."""
    return EXIT_GATE_FAILED if verdict in FAIL_ON[fail_on] else EXIT_OK


# Events whose commit may be a pull request's head without the payload saying which pull request.
COMMIT_EVENTS = ("push", "schedule", "workflow_run", "workflow_dispatch", "repository_dispatch")


def _make_driver(
    kind: str, ctx: GitHubContext, token: str | None, authors: Sequence[str], budget: float, timeout: int
) -> Driver:
    if kind == "local":
        from mlgate.drivers.local import LocalDriver
        from mlgate.drivers.outbox import Outbox

        return LocalDriver(Outbox())
    repository, token = ctx.credentials(token)
    from mlgate.drivers.github import ACTIONS_BOT, GitHubDriver, RetryPolicy

    return GitHubDriver(
        api_url=ctx.api_url,
        repository=repository,
        token=token,
        comment_authors=authors or (ACTIONS_BOT,),
        policy=RetryPolicy(budget=budget),
        timeout=timeout,
    )


def _workflow_run(env: Mapping[str, str]) -> Mapping[str, object]:
    """The triggering run of a workflow_run event (GitHub sets it, so a fork cannot forge it)."""
    if env.get("GITHUB_EVENT_NAME") != "workflow_run" or not env.get("GITHUB_EVENT_PATH"):
        return {}
    run = load_event(Path(env["GITHUB_EVENT_PATH"])).get("workflow_run")
    return run if isinstance(run, dict) else {}


def _head_sha(ctx: GitHubContext, env: Mapping[str, str], results: Sequence[StepResult]) -> str | None:
    """The commit the report is about: the PR head, the triggering run's head, else what the steps recorded."""
    triggering = _workflow_run(env).get("head_sha")
    if isinstance(triggering, str) and triggering:
        return triggering
    recorded = next((r.commits.get("head") for r in results if isinstance(r.commits.get("head"), str)), None)
    return ctx.sha or recorded


def _summary_budget(env: Mapping[str, str]) -> int:
    used = 0
    target = env.get("GITHUB_STEP_SUMMARY")
    if target and Path(target).is_file():
        used = Path(target).stat().st_size
    return max(gha.SUMMARY_LIMIT_BYTES - used, 4096)


def _posted(line: str, evidence: Mapping[str, str]) -> StepResult:
    return StepResult("report", "pass", line, evidence=evidence, lines=(line,))


def _post_artifact(
    directory: Path, driver_kind: str, env: Mapping[str, str], driver_for: Driver, mode: str
) -> StepResult:
    """`from_artifact`: post a fork run's comment after checking it against what GitHub says now."""
    if not artifacts.has_pending_comment(directory):
        if (directory / artifacts.REPORT_FILE).is_file():
            return _posted(f"{directory}: the run posted its report itself; nothing to post.", {})
        raise InputError("not an mlgate-report artifact (no meta.json)", file=directory)
    pending = artifacts.read_artifact(directory)
    if driver_kind != "github":
        raise InputError("--from-artifact posts to GitHub: run it in Actions with a token, or pass --driver github")
    triggering = _workflow_run(env)
    if triggering:
        if triggering.get("head_sha") != pending.head_sha:
            raise InputError(
                f"refusing the artifact: it speaks of commit {pending.head_sha[:12]}, but the run that made it "
                f"tested {str(triggering.get('head_sha'))[:12]}",
                file=directory / artifacts.META_FILE,
            )
        if triggering.get("name") != pending.marker.workflow:
            raise InputError(
                f"refusing the artifact: its marker names workflow {pending.marker.workflow!r}, but it was made "
                f"by {triggering.get('name')!r}",
                file=directory / artifacts.META_FILE,
            )
    current = driver_for.pull_head_sha(pending.pr_number)
    if current != pending.head_sha:
        raise InputError(
            f"refusing the artifact: pull request #{pending.pr_number} is now at {current[:12]}, not at "
            f"{pending.head_sha[:12]} (a newer push, or an artifact made for another pull request)",
            file=directory / artifacts.META_FILE,
        )
    outcome = driver_for.upsert_comment(CommentRequest(pending.pr_number, pending.body, str(pending.marker), mode))
    driver_for.write_summary(pending.marker.name, f"Posted the report of a fork's run to #{pending.pr_number}.")
    line = f"comment {outcome.action} on #{pending.pr_number}: {outcome.url}"
    return _posted(line, {"comment-url": outcome.url or ""})


@dataclass(frozen=True)
class Inputs:
    results_dirs: tuple[Path, ...] = ()  # default: the project's results folder
    name: str = "mlgate"  # one sticky comment per workflow and name
    mode: str = "update"  # update | recreate | append
    driver: str = "auto"  # auto | github | local
    token: str | None = None  # default: GITHUB_TOKEN
    pr_number: int | None = None  # default: the event's pull request
    check_name: str = "mlgate"
    no_check: bool = False
    comment_authors: tuple[str, ...] = ()  # default: github-actions[bot]
    output: Path = Path(".mlgate/report.md")
    artifact_dir: Path = Path(".mlgate/mlgate-report")
    from_artifact: Path | None = None  # post the comment a fork's run left in this artifact folder
    retry_budget: float = 300.0
    api_timeout: int = 15


def run(inputs: Inputs, project: Project) -> StepResult:
    """Render the bundle as the PR comment, job summary and check run. The result's verdict is the bundle's
    overall verdict; `result.error` is set when the report could not be published (exit 2)."""
    return guarded("report", project, lambda: _report(inputs, project))


def _report(inputs: Inputs, project: Project) -> StepResult:
    env, name, output = project.env, inputs.name, inputs.output
    token = inputs.token or env.get("GITHUB_TOKEN") or None  # the github driver masks it before any use
    ctx = project.github
    kind = choose_driver(inputs.driver, env, token)
    if not name.strip():
        raise InputError("--name must not be empty")
    driver = _make_driver(kind, ctx, token, inputs.comment_authors, inputs.retry_budget, inputs.api_timeout)
    if inputs.from_artifact is not None:
        return _post_artifact(inputs.from_artifact, kind, env, driver, inputs.mode)

    directories = inputs.results_dirs or (project.results_dir,)
    results = read_bundle(directories)
    if not results:
        where = ", ".join(str(d) for d in directories)
        raise InputError(f"no results to report: {where} holds no step results (validation.json, train.json, …)")
    marker = Marker(ctx.workflow or "local", name)
    sha = _head_sha(ctx, env, results)
    prs = [inputs.pr_number] if inputs.pr_number else [ctx.pr_number] if ctx.pr_number else []
    if not prs and sha and ctx.event_name in COMMIT_EVENTS:
        prs = driver.pulls_for_commit(sha)
    notes: list[Note] = []
    images = report_images.place(
        report_images.find(results, directories),
        report_images.Where(
            kind, ctx, project, prs[0] if prs else None, sha, inputs.artifact_dir, output.parent, token
        ),
        notes,
    )
    context = ReportContext(
        name=name,
        run_url=ctx.run_url,
        commit_url=f"{ctx.server_url}/{ctx.repository}/commit/" if ctx.repository else None,
        base_branch=ctx.base_ref or ctx.default_branch,
        max_plots=project.config.report.max_charts,
        images=images,
    )
    full = render(results, context, limit=_summary_budget(env), measure=utf8_length)
    comment = render(results, context, limit=COMMENT_LIMIT, prefix=f"{marker}\n")
    from mlgate.fsutil import atomic_write_text

    atomic_write_text(output, full.text)
    driver.write_summary(name, full.text)  # first, so that it exists whatever happens to the API calls below

    verdict = overall_verdict(results)
    evidence = {"report": str(output), "verdict": verdict}
    lines: list[str] = []
    if not prs:
        lines.append(f"no pull request for this run; the report is in the job summary and {output}")

    errors: list[DriverError] = []
    pending: artifacts.Artifact | None = None
    comment_url = ""
    for number in prs:
        try:
            outcome = driver.upsert_comment(CommentRequest(number, comment.text, str(marker), inputs.mode))
        except ReadOnlyToken as exc:
            if sha is None:
                raise
            pending = artifacts.Artifact(number, sha, marker, comment.text)
            notes.append(
                Note(
                    "notice",
                    f"{exc.message}; the comment is left in the {artifacts.ARTIFACT_NAME} artifact "
                    "for a workflow_run workflow to post (mlgate report --from-artifact)",
                )
            )
            continue
        except DriverError as exc:
            errors.append(exc)
            continue
        comment_url = outcome.url or comment_url
        lines.append(f"comment {outcome.action} on #{number}: {outcome.url}")
    artifacts.write_artifact(inputs.artifact_dir, full.text, pending)
    evidence |= {"artifact": str(inputs.artifact_dir), "comment-url": comment_url}

    check_name = inputs.check_name
    if sha and not inputs.no_check and pending is None:
        checked = render(results, context, limit=CHECK_TEXT_LIMIT)
        request = CheckRequest(
            name=check_name,
            head_sha=sha,
            verdict=verdict,
            title=check_title(results),
            summary=checked.text,
            details_url=ctx.run_url,
            annotations=tuple(annotations(results)),
        )
        try:
            published = driver.publish_check(request)
            lines.append(f"{published.kind.replace('_', ' ')} {check_name!r}: {request.conclusion} ({published.url})")
        except DriverError as exc:
            errors.append(exc)
    return StepResult(
        "report",
        verdict,
        check_title(results),
        evidence=evidence,
        lines=tuple(lines),
        notes=tuple(notes),
        error=errors[0] if errors else None,
    )
