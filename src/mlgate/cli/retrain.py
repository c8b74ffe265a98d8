"""`mlgate retrain`: refresh the data, check its drift against the default branch, retrain, open one pull request."""

from __future__ import annotations

from typing import Any

import click

from mlgate.cli.context import Settings, driver_options, finish, github_api_options, pass_settings
from mlgate.errors import EXIT_GATE_FAILED
from mlgate.retrain.decision import WHEN


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
@driver_options("the pull request")
@github_api_options
@pass_settings
def retrain(settings: Settings, driver_name: str, **options: Any) -> int:
    """Refresh the data, check drift against the default branch, retrain and open (or update) one pull request."""
    from mlgate.steps import retrain as step

    result = step.run(step.Inputs(driver=driver_name, **options), settings.project)
    code = finish(result, settings)
    return EXIT_GATE_FAILED if result.evidence.get("gate") == "fail" else code
