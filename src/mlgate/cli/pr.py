"""`mlgate pr`: the whole pull-request pipeline in one command (validate → train → compare → report).

It is what the root action runs and what a user runs on a laptop. Every step runs even when an earlier one
failed its checks, so the report shows all the evidence; the report is always posted, and only then does
the gate decide the exit code (`--fail-on`).
"""

from __future__ import annotations

from pathlib import Path

import click

from mlgate import gha
from mlgate.cli.context import Settings, pass_settings
from mlgate.drivers import DRIVERS
from mlgate.drivers.protocol import COMMENT_MODES
from mlgate.errors import MlgateError
from mlgate.results import STEPS, result_path


def _clear_previous_results(results_dir: Path) -> None:
    """A re-run must not report a stale step that this run skipped or crashed in."""
    for step in STEPS:
        result_path(results_dir, step).unlink(missing_ok=True)


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
@click.pass_context
@pass_settings
def pr(
    settings: Settings,
    ctx: click.Context,
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
    from mlgate.cli.compare import compare
    from mlgate.cli.report import report
    from mlgate.cli.train import train
    from mlgate.cli.validate import validate

    config = settings.config  # a broken mlgate.yml stops here, before anything runs
    _clear_previous_results(settings.results_dir)
    stages: list[tuple[str, click.Command, dict]] = []
    if skip_validate:
        click.echo("validate: skipped (--skip-validate)")
    elif config.data.train is None:
        click.echo("validate: skipped (no data.train in mlgate.yml)")
    else:
        stages.append(("validate", validate, {}))
    if skip_train:
        click.echo("train: skipped (--skip-train)")
    else:
        stages.append(("train", train, {}))
    stages.append(("compare", compare, {"base": base, "exit_zero": True}))

    errors: list[MlgateError] = []
    for title, command, params in stages:
        with gha.group(f"mlgate {title}"):
            try:
                ctx.invoke(command, **params)
            except MlgateError as exc:
                # Bad input in one step: keep going so the report shows what did run, then exit 2.
                errors.append(exc)
                click.echo(f"mlgate {title}: {exc}", err=True)
    with gha.group("mlgate report"):
        code = ctx.invoke(
            report, driver_name=driver_name, token=token, pr_number=pr_number, name=name, mode=mode, fail_on=fail_on
        )
    if errors:
        raise errors[0]
    return code
