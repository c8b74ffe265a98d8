"""`mlgate chatops`: answer the `/mlgate <command>` comment of an issue_comment event."""

from __future__ import annotations

from typing import Any

import click

from mlgate.cli.context import Settings, finish, gate_timeout_option, github_api_options, pass_settings
from mlgate.steps.chatops import PHASES


@click.command()
@click.option(
    "--phase",
    type=click.Choice(PHASES),
    default="all",
    show_default=True,
    help="accept: claim and answer, stopping before a deploy; execute: run an accepted deploy; all: both.",
)
@click.option("--remote", default="origin", show_default=True, help="Remote of the PR heads and registry tags.")
@gate_timeout_option
@click.option(
    "--bot-login",
    default="github-actions[bot]",
    show_default=True,
    help="The token's identity, whose reactions mark a comment as answered.",
)
@click.option("--driver", default="auto", show_default=True, help="github | auto.")
@click.option("--token", default=None, help="GitHub token [default: GITHUB_TOKEN].")
@github_api_options
@pass_settings
def chatops(settings: Settings, **options: Any) -> int:
    """Answer the /mlgate command of the issue_comment event in GITHUB_EVENT_PATH: once, if the commenter's role
    allows it, with reactions and one reply."""
    from mlgate.steps import chatops as step

    return finish(step.run(step.Inputs(**options), settings.project), settings)
