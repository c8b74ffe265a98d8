"""`mlgate monitor`: judge the production log's new windows, keep the history on a branch, update the tracking issue."""

from __future__ import annotations

import json
from typing import Any

import click

from mlgate.cli.context import Settings, driver_options, finish, github_api_options, pass_settings


@click.command()
@click.option("--log", default=None, help="The production log: a CSV/Parquet file or a folder [monitor.log].")
@click.option("--data-command", default=None, help="Command that fetches the log first [monitor.data_command].")
@click.option("--window", default=None, help="Window length: 30m, 6h, 1d, 1w [monitor.window; 1d].")
@click.option("--environment", default=None, help="Registry stage of the deployed version [monitor.environment].")
@click.option("--branch", default=None, help="Branch holding the history [monitor.branch; mlgate/monitoring].")
@click.option("--as-of", default=None, help="ISO 8601 time: windows ending by then are complete [now].")
@click.option("--remote", default="origin", show_default=True, help="Git remote the history branch is pushed to.")
@driver_options("the tracking issue and its comments")
@click.option("--json", "as_json", is_flag=True, help="Print the run's result (latest window, alerts) as JSON.")
@github_api_options
@pass_settings
def monitor(settings: Settings, driver_name: str, as_json: bool, **options: Any) -> int:
    """Judge the production log window by window against the deployed model; history on a branch, one issue."""
    from mlgate.results import finite_json
    from mlgate.steps import monitor as step
    from mlgate.steps.actions import publish

    result = step.run(step.Inputs(driver=driver_name, **options), settings.project)
    if as_json and result.error is None:
        publish(result, settings.results_dir)  # the step outputs and annotations, without the lines
        click.echo(json.dumps(finite_json(result.to_dict()), indent=2, sort_keys=True, default=str))
        return 0 if result.verdict in ("pass", "warn", "skipped") else 1
    return finish(result, settings)
