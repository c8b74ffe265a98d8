"""`mlgate config`: validate mlgate.yml and print the effective policy (defaults filled in)."""

from __future__ import annotations

import dataclasses
import json

import click

from mlgate.cli.context import Settings, pass_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the effective configuration as JSON.")
@pass_settings
def config(settings: Settings, as_json: bool) -> int:
    """Check mlgate.yml (line-numbered errors, exit 2) and print the effective policy."""
    cfg = settings.config
    source = str(cfg.source) if cfg.source else "no config file (all defaults)"
    if as_json:
        effective = {
            section: dataclasses.asdict(getattr(cfg, section))
            for section in ("data", "train", "tests", "metrics", "compare", "deploy", "retrain", "chatops")
        }
        click.echo(json.dumps({"source": source, **effective}, indent=2, default=str))
    else:
        click.echo(f"{source}: valid")
        for rule in cfg.metrics.gate:
            limits = [f"{rule.direction} is better"]
            if rule.tolerance is not None:
                limits.append(f"worsening ≤ {rule.tolerance}")
            limits += [
                f"{name} {value:g}" for name, value in (("min", rule.min), ("max", rule.max)) if value is not None
            ]
            advisory = "" if rule.required else " (advisory)"
            click.echo(f"  gate {rule.metric}: {', '.join(limits)}{advisory}")
    return 0
