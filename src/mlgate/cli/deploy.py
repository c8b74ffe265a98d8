"""`mlgate deploy`: a gated deployment recorded as a GitHub Deployment and in the git-tag model registry."""

from __future__ import annotations

from typing import Any

import click

from mlgate.cli.context import Settings, finish, gate_timeout_option, github_api_options, pass_settings
from mlgate.registry.semver import BUMPS


@click.command()
@click.option("--environment", "-e", default=None, help="Environment (= registry stage) [default: first listed].")
@click.option("--rollback", default=None, metavar="ENV", help="Redeploy the version ENV held before the current one.")
@click.option("--reason", default=None, help="Why (recorded in the deployment payload; for --rollback).")
@click.option("--name", default=None, help="Registry artifact name [default: deploy.name].")
@click.option("--model", default=None, help="Model file, relative to mlgate.yml [default: deploy.model].")
@click.option("--command", "deploy_command", default=None, help="Deploy command [default: deploy.command].")
@click.option("--environment-url", default=None, help="URL of the deployed environment, shown on GitHub.")
@click.option("--bump", type=click.Choice(BUMPS), default="patch", show_default=True, help="Part a new version bumps.")
@click.option("--version", "version", default=None, help="Explicit version for a new registration, e.g. v1.2.0.")
@click.option("--ref", default=None, help="Ref being deployed [default: GITHUB_REF or the checked-out branch].")
@click.option("--remote", default="origin", show_default=True, help="Remote the registry tags are pushed to.")
@click.option("--push/--no-push", default=True, show_default=True, help="Push the registry tags to --remote.")
@gate_timeout_option
@click.option("--driver", default="auto", show_default=True, help="github | local | auto.")
@click.option("--token", default=None, help="GitHub token [default: GITHUB_TOKEN].")
@github_api_options
@pass_settings
def deploy(settings: Settings, **options: Any) -> int:
    """Deploy the checked-out commit (or --rollback an environment) once its gate passed."""
    from mlgate.steps import deploy as step

    return finish(step.run(step.Inputs(**options), settings.project), settings)
