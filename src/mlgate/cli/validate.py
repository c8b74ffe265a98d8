"""`mlgate validate`: schema, quality, drift, PII and deepchecks suites over the train/test data."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli.context import Settings, finish, pass_settings
from mlgate.errors import EXIT_OK

FILE = click.Path(path_type=Path, dir_okay=False)
DATA = click.Path(path_type=Path)  # a file, or a folder of partition files


@click.command()
@click.option("--train", type=DATA, help="Reference data, CSV or Parquet, a file or a folder [data.train].")
@click.option("--test", type=DATA, help="Test/current data [data.test].")
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
@click.option(
    "--partition",
    metavar="I/N",
    help="Summarize only partition I of N of the data into a sketch file in the results directory (streamed).",
)
@click.option(
    "--merge",
    "merge_dirs",
    is_flag=True,
    help="Merge the partition sketches found in DIRS into one validation.json.",
)
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@pass_settings
def validate(
    settings: Settings,
    train: Path | None,
    test: Path | None,
    label: str | None,
    schema: Path | None,
    predictions: Path | None,
    write_schema: bool,
    partition: str | None,
    merge_dirs: bool,
    dirs: tuple[Path, ...],
) -> int:
    """Validate the data: schema, quality, drift, PII and deepchecks suites; writes validation.json.

    With --partition I/N, summarize one part of the data for a matrix of runners; with --merge DIRS..., merge
    their sketch files into the one validation.json a single pass would write."""
    from mlgate.steps import validate as step

    inputs = step.Inputs(train=train, test=test, label=label, schema=schema, predictions=predictions)
    if dirs and not merge_dirs:
        raise click.UsageError("folders are arguments of --merge only")
    if merge_dirs and (partition or write_schema or not dirs):
        raise click.UsageError(
            "--merge takes one or more folders of sketch files, and no --partition or --write-schema"
        )
    if write_schema:
        click.echo(step.write_schema(inputs, settings.project))
        return EXIT_OK
    if partition is not None:
        from mlgate.steps import validate_stream
        from mlgate.stream.scan import Partition

        click.echo(validate_stream.write_partition(inputs, settings.project, Partition.parse(partition)))
        return EXIT_OK
    if merge_dirs:
        from mlgate.steps import validate_stream

        return finish(validate_stream.merge(inputs, settings.project, dirs), settings)
    return finish(step.run(inputs, settings.project), settings)
