"""`mlgate tests`: run the project's own tests and summarise their JUnit XML."""

from __future__ import annotations

import click

from mlgate.cli.context import Settings, finish, pass_settings


@click.command()
@click.option("--command", "command_text", default=None, help="Test command [default: tests.command, pytest].")
@click.option("--required/--not-required", default=None, help="A failing test fails [default: tests.required].")
@pass_settings
def tests(settings: Settings, command_text: str | None, required: bool | None) -> int:
    """Run the project's tests in its environment; failures are annotated at the failing line."""
    from mlgate.steps import tests as step

    return finish(step.run(step.Inputs(command=command_text, required=required), settings.project), settings)
