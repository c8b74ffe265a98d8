"""`mlgate report`: render the results bundle; sticky PR comment, job summary, check run; fork-safe artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlgate.cli.context import Settings, github_api_options, pass_settings, show
from mlgate.drivers import DRIVERS
from mlgate.drivers.protocol import COMMENT_MODES

FAIL_ON = ("fail", "warn", "never")


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
    type=click.Choice(FAIL_ON),
    default="fail",
    show_default=True,
    help="Exit 1 when the verdict is this bad.",
)
@github_api_options
@pass_settings
def report(settings: Settings, fail_on: str, driver_name: str, **options: Any) -> int:
    """Render the results (one or more results folders) as a PR comment, job summary and check run."""
    from mlgate.steps import report as step

    result = step.run(step.Inputs(driver=driver_name, **options), settings.project)
    show(result, settings)
    if result.error is not None:
        raise result.error
    return step.exit_code(result.verdict, fail_on)
