"""`mlgate train`: run the training command under monitoring, then collect metrics, params and data versions."""

from __future__ import annotations

import click

from mlgate.cli.context import Settings, finish, pass_settings


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--command",
    "command_text",
    default=None,
    envvar="MLGATE_TRAIN_COMMAND",
    help="Training command [default: train.command, dvc repro].",
)
@click.option("--log-tail", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Log lines kept.")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@pass_settings
def train(settings: Settings, command_text: str | None, log_tail: int, argv: tuple[str, ...]) -> int:
    """Run the training command (or the one after `--`) and record its resources and results."""
    from mlgate.steps import train as step

    inputs = step.Inputs(command=list(argv) if argv else command_text, log_tail=log_tail)
    return finish(step.run(inputs, settings.project), settings)
