"""`mlgate validate`: schema, quality, drift, PII and deepchecks suites over the train/test data."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli.context import Settings, finish, pass_settings
from mlgate.errors import EXIT_OK

FILE = click.Path(path_type=Path, dir_okay=False)


@click.command()
@click.option("--train", type=FILE, help="Reference data, CSV or Parquet [data.train].")
@click.option("--test", type=FILE, help="Test/current data [data.test].")
@click.option("--label", help="Label column [data.label].")
@click.option("--schema", type=FILE, help="Data schema file [data.schema].")
@click.option(
    "--predictions", type=FILE, help="Per-row test predictions for deepchecks model_evaluation [metrics.predictions]."
)
@click.option(
    "--write-schema",
    is_flag=True,
    help="Infer the schema from the train data, write it to --schema [default: mlgate.schema.yml] and stop.",
)
@pass_settings
def validate(
    settings: Settings,
    train: Path | None,
    test: Path | None,
    label: str | None,
    schema: Path | None,
    predictions: Path | None,
    write_schema: bool,
) -> int:
    """Validate the data: schema, quality, drift, PII and deepchecks suites; writes validation.json."""
    from mlgate.steps import validate as step

    inputs = step.Inputs(train=train, test=test, label=label, schema=schema, predictions=predictions)
    if write_schema:
        click.echo(step.write_schema(inputs, settings.project))
        return EXIT_OK
    return finish(step.run(inputs, settings.project), settings)
