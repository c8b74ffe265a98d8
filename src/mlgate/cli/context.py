"""What every subcommand shares: the group's options and the lazily loaded mlgate.yml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
