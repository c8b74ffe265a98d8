"""What every subcommand shares: the group's options and the lazily loaded mlgate.yml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlgate.config.model import Config
from mlgate.errors import EXIT_GATE_FAILED, EXIT_OK

if TYPE_CHECKING:
    from mlgate.results import StepResult
    from mlgate.steps.base import Project


@dataclass
class Settings:
    config_path: Path
    config_explicit: bool
    results_dir: Path
    debug: bool
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from mlgate.config import load_config

            self._config = load_config(self.config_path, explicit=self.config_explicit)
        return self._config

    @property
    def project(self) -> Project:
        """What the steps run on; a broken mlgate.yml stops the command here, before any step runs."""
        from mlgate.steps.base import Project

        return Project(self.config, self.results_dir, debug=self.debug)


pass_settings = click.make_pass_decorator(Settings)


def show(result: StepResult, settings: Settings) -> None:
    """Print what a step said, and hand its annotations, outputs and summary to GitHub Actions."""
    from mlgate.steps.actions import publish

    for line in result.lines:
        click.echo(line)
    for line in result.err_lines:
        click.echo(line, err=True)
    publish(result, settings.results_dir)


def finish(result: StepResult, settings: Settings) -> int:
    """Show the result, then the exit code: the error that stopped the step (exit 2, one sentence), else 1
    for a failed (or errored) verdict, else 0."""
    show(result, settings)
    if result.error is not None:
        raise result.error
    return EXIT_GATE_FAILED if result.verdict in ("fail", "error") else EXIT_OK


gate_timeout_option = click.option(
    "--gate-timeout",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Seconds to wait for the commit's mlgate check while it is missing or running.",
)


def github_api_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--retry-budget and --api-timeout, for every command that calls the GitHub API (the github driver)."""
    command = click.option(
        "--api-timeout",
        type=click.IntRange(min=1),
        default=15,
        show_default=True,
        help="Seconds before a GitHub API request times out.",
    )(command)
    return click.option(
        "--retry-budget",
        type=click.FloatRange(min=0),
        default=300.0,
        show_default=True,
        help="Seconds the GitHub driver may spend waiting on retries and rate limits.",
    )(command)


def driver_options(records: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--driver (as `driver_name`) and --token, for commands whose `records` go to GitHub or the local outbox."""
    from mlgate.drivers import DRIVERS

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option("--token", default=None, help="GitHub token [default: $GITHUB_TOKEN].")(command)
        return click.option(
            "--driver",
            "driver_name",
            type=click.Choice(DRIVERS),
            default="auto",
            show_default=True,
            help=f"Where {records} go: GitHub (inside Actions, with a token) or the local outbox.",
        )(command)

    return decorate
