"""`mlgate pr`: the whole pull-request pipeline in one command (validate → train → compare → report).

It is what the root action runs and what a user runs on a laptop; `mlgate.pipeline.pr` does the work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgate.cli.context import Settings, pass_settings, show
from mlgate.drivers import DRIVERS
from mlgate.drivers.protocol import COMMENT_MODES

if TYPE_CHECKING:
    from mlgate.results import StepResult


@click.command()
@click.option("--base", default=None, help="Commit to compare with [default: the PR's base, else merge-base].")
@click.option("--skip-validate", is_flag=True, help="Do not run the data checks.")
@click.option("--skip-train", is_flag=True, help="Do not train; compare what the workspace holds.")
@click.option("--driver", "driver_name", type=click.Choice(DRIVERS), default="auto", show_default=True)
@click.option("--token", default=None, help="GitHub token [default: $GITHUB_TOKEN].")
@click.option(
    "--pr", "pr_number", type=click.IntRange(min=1), default=None, help="Pull request [default: the event's]."
)
@click.option("--name", default="mlgate", show_default=True, help="Report name: one sticky comment per workflow+name.")
@click.option("--mode", type=click.Choice(COMMENT_MODES), default="update", show_default=True, help="Comment mode.")
@click.option(
    "--fail-on",
    type=click.Choice(("fail", "warn", "never")),
    default="fail",
    show_default=True,
    help="Exit 1 when the overall verdict is this bad (after the report is posted).",
)
@pass_settings
def pr(
    settings: Settings,
    base: str | None,
    skip_validate: bool,
    skip_train: bool,
    driver_name: str,
    token: str | None,
    pr_number: int | None,
    name: str,
    mode: str,
    fail_on: str,
) -> int:
    """Validate, train, compare with the base commit and report, as one pull-request run."""
    from mlgate import pipeline, steps

    project = settings.project  # a broken mlgate.yml stops here, before anything runs
    report = steps.report.Inputs(driver=driver_name, token=token, pr_number=pr_number, name=name, mode=mode)
    inputs = pipeline.PrInputs(base, skip_validate, skip_train, report, fail_on)

    def shown(item: StepResult | str) -> None:
        if isinstance(item, str):
            click.echo(item)
        else:
            show(item, settings)

    outcome = pipeline.pr(inputs, project, shown)
    for result in outcome.results:
        if result.error is not None and result.error is not outcome.error:
            click.echo(f"mlgate {result.step}: {result.error}", err=True)  # the first is printed as the error
    if outcome.error is not None:
        raise outcome.error
    return outcome.exit_code
