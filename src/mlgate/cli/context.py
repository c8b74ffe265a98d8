"""What every subcommand shares: the group's options and the lazily loaded mlgate.yml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from mlgate.config.model import Config


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


pass_settings = click.make_pass_decorator(Settings)


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
