"""Data the pipeline's stages produce, held against a schema per output (`data.outputs`), after training.

The schema files are read and checked before anything trains, so a bad one is exit 2 naming its
`data.outputs.<path>` key at no training cost; what training then produces is the data under test, so an
output that is missing, unreadable or off its schema is a finding of the train step, never an input error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.checks import Finding, worst
from mlgate.errors import InputError

if TYPE_CHECKING:
    from mlgate.checks.schema import DataSchema
    from mlgate.config.model import Config
    from mlgate.config.yamlsource import YamlDocument


@dataclass(frozen=True)
class Output:
    """One `data.outputs` entry: the data file, its schema (read), and the stage that produces it."""

    path: str  # as mlgate.yml names it
    schema_file: str
    schema: DataSchema
    document: YamlDocument
    stage: str | None


def load(config: Config) -> list[Output]:
    """Each data.outputs entry with its schema read and checked; a bad entry is an InputError at its key."""
    from mlgate.adapters import dvc_stages
    from mlgate.steps.validate import load_schema

    outputs = []
    root = config.repository_root().resolve()
    for path, schema_file in config.data.outputs:
        key = ("data", "outputs", path)
        if not config.resolve(path).resolve().is_relative_to(root):
            raise config.error(key, f"'{path}' is outside the repository at {root}; mlgate reads only files in it")
        schema_path = config.require_file(key, schema_file)
        try:
            schema, document = load_schema(schema_path)
        except InputError as exc:
            raise config.error(key, f"schema file {exc}") from None
        stage = dvc_stages.producing_stage(config.root, config.resolve(path)) if (root / ".dvc").is_dir() else None
        outputs.append(Output(path, schema_file, schema, document, stage))
    return outputs


def _label(output: Output) -> str:
    return f"{output.path} (stage {output.stage})" if output.stage else output.path


def check(config: Config, outputs: list[Output]) -> list[dict[str, Any]]:
    """Hold each output, as training left it, against its schema: one record per output with its findings."""
    from mlgate.adapters.datafiles import read_data_file
    from mlgate.checks.schema import ArrowColumn, check_schema_from
    from mlgate.inputfile import check_regular

    checked = []
    for output in outputs:
        dataset = _label(output)
        target = config.resolve(output.path)
        findings: list[Finding]
        if not target.exists():
            findings = [Finding("schema", "fail", "was not produced by training", dataset)]
        else:
            try:
                check_regular(target, f"file '{output.path}'")
                table = read_data_file(target).table
            except InputError as exc:
                findings = [Finding("schema", "fail", f"cannot be read: {exc.message}", dataset)]
            else:
                columns = {name: ArrowColumn(table.column(name)) for name in table.column_names}
                findings = check_schema_from(table.num_rows, columns, output.schema, dataset=dataset, strict=True)
        checked.append(
            {
                "path": output.path,
                "schema": output.schema_file,
                "stage": output.stage,
                "verdict": worst(f.severity for f in findings),
                "findings": [
                    f.to_dict() | {"message": f"{dataset}: {f.message}"} | _where(config, output, f) for f in findings
                ],
            }
        )
    return checked


def _where(config: Config, output: Output, finding: Finding) -> dict[str, Any]:
    """Where an annotation of the finding goes, relative to the repository: the schema file's line that set the
    rule it enforces, else the data file."""
    rule = finding.rule or ()
    line = output.document.line_of(tuple(rule[1:])) if rule[:1] == ("schema",) else None
    name = output.schema_file if line is not None else output.path
    root = config.repository_root().resolve()
    return {"file": config.resolve(name).resolve().relative_to(root).as_posix(), "line": line}
