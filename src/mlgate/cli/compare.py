"""`mlgate compare`: the head (workspace) against the pull request's base commit, through the metric gate."""

from __future__ import annotations

from typing import Any

import click

from mlgate.cli.context import Settings, finish, pass_settings
from mlgate.config.model import BASE_MODES
from mlgate.errors import EXIT_OK


@click.command()
@click.option("--base", default=None, help="Commit to compare with [default: the PR's base, else merge-base].")
@click.option("--head", default=None, help="Commit to compare [default: the workspace, as training left it].")
@click.option("--predictions", default=None, help="Per-row predictions file [default: metrics.predictions].")
@click.option("--history", type=click.IntRange(0, 200), default=None, help="Commits of metric history.")
@click.option("--alpha", type=click.FloatRange(0, 0.5, min_open=True), default=None, help="Significance level.")
@click.option("--resamples", type=click.IntRange(100, 100_000), default=None, help="Bootstrap resamples.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Bootstrap seed.")
@click.option(
    "--base-mode",
    type=click.Choice(BASE_MODES),
    default=None,
    help="How the base's outputs are had (committed, reproduce, auto) [default: compare.base].",
)
@click.option("--exit-zero", is_flag=True, default=False, help="Exit 0 even when the gate fails.")
@pass_settings
def compare(settings: Settings, exit_zero: bool, **options: Any) -> int:
    """Compare metrics, params and data versions with the base commit and apply the metric gate."""
    from mlgate.steps import compare as step

    code = finish(step.run(step.Inputs(**options), settings.project), settings)
    return EXIT_OK if exit_zero else code
