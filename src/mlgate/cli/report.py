"""`mlgate report`: render the results bundle; sticky PR comment, job summary, check run; fork-safe artifact."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from mlgate import gha
from mlgate.cli.context import Settings, github_api_options, pass_settings
from mlgate.drivers import DRIVERS, choose_driver
from mlgate.drivers.protocol import COMMENT_MODES, CheckRequest, CommentRequest, Driver, DriverError, ReadOnlyToken
from mlgate.errors import EXIT_GATE_FAILED, EXIT_OK, InputError
from mlgate.ghcontext import GitHubContext, context_from_env, load_event
from mlgate.report import artifact as artifacts
from mlgate.report.annotations import annotations
from mlgate.report.fit import CHECK_TEXT_LIMIT, COMMENT_LIMIT, utf8_length
from mlgate.report.marker import Marker
from mlgate.report.render import ReportContext, check_title, overall_verdict, render
from mlgate.results import StepResult, read_bundle

FAIL_ON = {"fail": ("fail", "error"), "warn": ("warn", "fail", "error"), "never": ()}
# Events whose commit may be a pull request's head without the payload saying which pull request.
COMMIT_EVENTS = ("push", "schedule", "workflow_run", "workflow_dispatch", "repository_dispatch")


def _make_driver(
    kind: str, ctx: GitHubContext, token: str | None, authors: Sequence[str], budget: float, timeout: int
) -> Driver:
    if kind == "local":
        from mlgate.drivers.local import LocalDriver
        from mlgate.drivers.outbox import Outbox

        return LocalDriver(Outbox())
    if not token:
        raise InputError("the github driver needs a token: set the token input or GITHUB_TOKEN")
    if not ctx.repository:
        raise InputError("the github driver needs GITHUB_REPOSITORY (owner/name)")
    from mlgate.drivers.github import ACTIONS_BOT, GitHubDriver, RetryPolicy

    return GitHubDriver(
        api_url=ctx.api_url,
        repository=ctx.repository,
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


def _summary_budget() -> int:
    used = 0
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target and Path(target).is_file():
        used = Path(target).stat().st_size
    return max(gha.SUMMARY_LIMIT_BYTES - used, 4096)


def _post_artifact(directory: Path, driver_kind: str, ctx: GitHubContext, driver_for: Driver, mode: str) -> int:
    """`--from-artifact`: post a fork run's comment after checking it against what GitHub says now."""
    if not artifacts.has_pending_comment(directory):
        if (directory / artifacts.REPORT_FILE).is_file():
            click.echo(f"{directory}: the run posted its report itself; nothing to post.")
            return EXIT_OK
        raise InputError("not an mlgate-report artifact (no meta.json)", file=directory)
    pending = artifacts.read_artifact(directory)
    if driver_kind != "github":
        raise InputError("--from-artifact posts to GitHub: run it in Actions with a token, or pass --driver github")
    triggering = _workflow_run(os.environ)
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
    click.echo(f"comment {outcome.action} on #{pending.pr_number}: {outcome.url}")
    gha.set_output("comment-url", outcome.url or "")
    return EXIT_OK


@click.command()
@click.argument("results_dirs", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default="mlgate", show_default=True, help="Report name: one sticky comment per workflow+name.")
@click.option("--mode", type=click.Choice(COMMENT_MODES), default="update", show_default=True, help="Comment mode.")
@click.option("--driver", "driver_name", type=click.Choice(DRIVERS), default="auto", show_default=True)
@click.option("--token", default=None, help="GitHub token [default: $GITHUB_TOKEN].")
@click.option(
    "--pr", "pr_number", type=click.IntRange(min=1), default=None, help="Pull request [default: the event's]."
)
@click.option("--check-name", default="mlgate", show_default=True, help="Check run (or commit status) name.")
@click.option("--no-check", is_flag=True, help="Do not publish a check run or commit status.")
@click.option(
    "--comment-author",
    "comment_authors",
    multiple=True,
    help="Login the token posts as (repeatable) [default: github-actions[bot]]; only its comments are updated.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".mlgate/report.md"),
    show_default=True,
    help="Where to write the full report (markdown).",
)
@click.option(
    "--artifact-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".mlgate/mlgate-report"),
    show_default=True,
    help="The mlgate-report artifact's folder.",
)
@click.option(
    "--from-artifact",
    type=click.Path(path_type=Path),
    default=None,
    help="Post the comment a fork's run left in this mlgate-report artifact folder (untrusted).",
)
@click.option(
    "--fail-on",
    type=click.Choice(tuple(FAIL_ON)),
    default="fail",
    show_default=True,
    help="Exit 1 when the verdict is this bad.",
)
@github_api_options
@pass_settings
def report(
    settings: Settings,
    results_dirs: tuple[Path, ...],
    name: str,
    mode: str,
    driver_name: str,
    token: str | None,
    pr_number: int | None,
    check_name: str,
    no_check: bool,
    comment_authors: tuple[str, ...],
    output: Path,
    artifact_dir: Path,
    from_artifact: Path | None,
    fail_on: str,
    retry_budget: float,
    api_timeout: int,
) -> int:
    """Render the results (one or more results folders) as a PR comment, job summary and check run."""
    env = os.environ
    token = token or env.get("GITHUB_TOKEN") or None  # the github driver masks it before any use
    ctx = context_from_env(env)
    kind = choose_driver(driver_name, env, token)
    if not name.strip():
        raise InputError("--name must not be empty")
    driver = _make_driver(kind, ctx, token, comment_authors, retry_budget, api_timeout)
    if from_artifact is not None:
        return _post_artifact(from_artifact, kind, ctx, driver, mode)

    results = read_bundle(results_dirs or (settings.results_dir,))
    if not results:
        where = ", ".join(str(d) for d in results_dirs or (settings.results_dir,))
        raise InputError(f"no results to report: {where} holds no step results (validation.json, train.json, …)")
    marker = Marker(ctx.workflow or "local", name)
    context = ReportContext(
        name=name,
        run_url=ctx.run_url,
        commit_url=f"{ctx.server_url}/{ctx.repository}/commit/" if ctx.repository else None,
        base_branch=ctx.base_ref or ctx.default_branch,
    )
    full = render(results, context, limit=_summary_budget(), measure=utf8_length)
    comment = render(results, context, limit=COMMENT_LIMIT, prefix=f"{marker}\n")
    from mlgate.fsutil import atomic_write_text

    atomic_write_text(output, full.text)
    gha.set_output("report", str(output))
    driver.write_summary(name, full.text)  # first, so that it exists whatever happens to the API calls below

    verdict = overall_verdict(results)
    gha.set_output("verdict", verdict)
    sha = _head_sha(ctx, env, results)
    prs = [pr_number] if pr_number else [ctx.pr_number] if ctx.pr_number else []
    if not prs and sha and ctx.event_name in COMMIT_EVENTS:
        prs = driver.pulls_for_commit(sha)
    if not prs:
        click.echo(f"no pull request for this run; the report is in the job summary and {output}")

    errors: list[DriverError] = []
    pending: artifacts.Artifact | None = None
    comment_url = ""
    for number in prs:
        try:
            outcome = driver.upsert_comment(CommentRequest(number, comment.text, str(marker), mode))
        except ReadOnlyToken as exc:
            if sha is None:
                raise
            pending = artifacts.Artifact(number, sha, marker, comment.text)
            gha.annotate(
                "notice",
                f"{exc.message}; the comment is left in the {artifacts.ARTIFACT_NAME} artifact "
                "for a workflow_run workflow to post (mlgate report --from-artifact)",
            )
            continue
        except DriverError as exc:
            errors.append(exc)
            continue
        comment_url = outcome.url or comment_url
        click.echo(f"comment {outcome.action} on #{number}: {outcome.url}")
    artifacts.write_artifact(artifact_dir, full.text, pending)
    gha.set_output("artifact", str(artifact_dir))
    gha.set_output("comment-url", comment_url)

    if sha and not no_check and pending is None:
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
            click.echo(f"{published.kind.replace('_', ' ')} {check_name!r}: {request.conclusion} ({published.url})")
        except DriverError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    return EXIT_GATE_FAILED if verdict in FAIL_ON[fail_on] else EXIT_OK
