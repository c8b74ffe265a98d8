"""The validate step: schema, quality, drift, PII and deepchecks suites over the train/test data.

Writes `validation.json` to the results directory: the verdict and its evidence (every finding, the drift
table, PII findings with masked examples only, what was sampled). Every input is read and checked before
anything is written, so a bad input (exit 2) leaves the workspace as it was.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.results import Note, StepResult, result_path
from mlgate.steps.base import Project, Wanted, guarded, obtain

if TYPE_CHECKING:
    from mlgate.adapters.datafiles import DataFile
    from mlgate.adapters.deepchecks_suites import Predictions, SuiteOutcome
    from mlgate.adapters.dvc_fetch import Obtained
    from mlgate.checks import Finding
    from mlgate.checks.schema import DataSchema
    from mlgate.checks.validation import BuiltinResult, CheckOptions
    from mlgate.config.model import Config
    from mlgate.config.yamlsource import YamlDocument

DEFAULT_SCHEMA_FILE = "mlgate.schema.yml"
DATA_SCHEMA = "mlgate.dataschema.json"
SCHEMA_HEADER = """\
# mlgate data schema: train and test data are held against it by `mlgate validate`.
# Inferred from {source} ({rows:,} rows) by `mlgate validate --write-schema`. Review it, widen or narrow
# the rules, and commit it. Numeric ranges are the observed range widened by half its span on each side;
# `categories` lists every allowed value of a text column; `nullable: false` rejects any missing value.
"""
SAMPLING_SCOPE = "drift and deepchecks use the sample; schema, nulls, duplicates, leakage, label and PII see every row"


class _Inputs:
    """Resolved paths: a flag is relative to the current directory, a mlgate.yml value to that file's folder."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def wanted(self, flag: Path | None, key: tuple[str, ...], value: str | None) -> Wanted | None:
        """The file to make present before it is read (see steps.base.obtain)."""
        if flag is not None:
            return Wanted(flag, None, str(flag))
        return None if value is None else Wanted.of(self.config, key, value)

    def path(self, flag: Path | None, key: tuple[str, ...], value: str | None) -> Path | None:
        if flag is not None:
            return flag
        # The data may be a folder of partition files (the streaming path reads it).
        folder = key in (("data", "train"), ("data", "test"))
        return None if value is None else self.config.require_file(key, value, folder=folder)

    def required(self, flag: Path | None, key: tuple[str, ...], value: str | None, option: str) -> Path:
        path = self.path(flag, key, value)
        if path is None:
            raise InputError(f"no {key[-1]} data: pass {option} or set {'.'.join(key)} in mlgate.yml")
        return path


def _read_data(train_path: Path, test_path: Path | None, label: str) -> tuple[DataFile, DataFile | None]:
    from mlgate.adapters.datafiles import read_data_file, require_label, require_shared_columns

    train = read_data_file(train_path)
    require_label(train, label)
    test = None
    if test_path is not None:
        test = read_data_file(test_path)
        require_shared_columns(train, test)
        require_label(test, label)
    return train, test


def load_schema(path: Path) -> tuple[DataSchema, YamlDocument]:
    from mlgate.checks.schema import schema_from_document
    from mlgate.config.validation import validate_document
    from mlgate.config.yamlsource import read_yaml_file

    document = read_yaml_file(path, what="schema file")
    if document.data is None:
        raise InputError("schema file is empty", file=path)
    validate_document(document, DATA_SCHEMA, path)
    for name, rule in document.data["columns"].items():
        if rule.get("min") is not None and rule.get("max") is not None and rule["min"] > rule["max"]:
            raise InputError(
                f"columns.{name}: min {rule['min']} is above max {rule['max']}",
                file=path,
                line=document.line_of(("columns", name, "min")),
            )
    return schema_from_document(document.data), document


def _write_schema(train: DataFile, label: str, target: Path) -> str:
    import yaml

    from mlgate.checks.schema import infer_schema, schema_to_document
    from mlgate.fsutil import atomic_write_text

    document = schema_to_document(infer_schema(train.table, label=label))
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    atomic_write_text(target, SCHEMA_HEADER.format(source=train.name, rows=train.rows) + body)
    return f"wrote {target}: {len(document['columns'])} columns inferred from {train.name}; review and commit it"


def _predictions(
    config: Config, flag: Path | None, suites: Sequence[str], test: DataFile | None, label: str
) -> Predictions | None:
    """The predictions model_evaluation needs, or None when it is not configured."""
    from mlgate.adapters.deepchecks_suites import read_predictions

    if "model_evaluation" not in suites:
        return None
    key = ("data", "checks", "deepchecks")
    if test is None:
        raise config.error(key, "model_evaluation needs test data: pass --test or set data.test")
    path = _Inputs(config).path(flag, ("metrics", "predictions"), config.metrics.predictions)
    if path is None:
        raise config.error(
            key, "model_evaluation needs a predictions file: pass --predictions or set metrics.predictions"
        )
    return read_predictions(path, test, label)


def _run_deepchecks(
    suites: Sequence[str],
    builtin: BuiltinResult,
    train: DataFile,
    test: DataFile | None,
    label: str,
    predictions: Predictions | None,
    report_dir: Path,
) -> list[SuiteOutcome]:
    from mlgate.adapters.deepchecks_suites import run_suites
    from mlgate.checks.columns import kind_of

    train_frame = builtin.samples["train"].apply(train.table).to_pandas()
    test_frame = builtin.samples["test"].apply(test.table).to_pandas() if test is not None else None
    if predictions is not None:
        predictions = predictions.take(builtin.samples["test"].indices)
    categorical = [
        field.name
        for field in train.table.schema
        if field.name != label and kind_of(field.type) in ("string", "boolean")
    ]
    return run_suites(
        suites,
        train_frame,
        test_frame,
        label=label,
        cat_features=categorical,
        predictions=predictions,
        report_dir=report_dir,
    )


def _clip(text: str, limit: int = 300) -> str:
    """Findings stay one readable line; the full details are in the evidence's deepchecks section."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _deepchecks_findings(outcomes: Sequence[SuiteOutcome]) -> list[Finding]:
    from mlgate.checks import Finding

    severity = {"fail": "fail", "warn": "warn", "error": "warn"}  # a crashed check is worth a look, not a block
    findings = []
    for suite in outcomes:
        for check in suite.checks:
            if check.status in severity:
                verb = "raised an error" if check.status == "error" else "condition not met"
                findings.append(
                    Finding(
                        "deepchecks",
                        severity[check.status],
                        f"deepchecks {suite.suite} / {check.check}: {verb}: {_clip(check.details)}",
                        numbers={"suite": suite.suite, "status": check.status},
                        rule=("config", "data", "checks", "deepchecks"),
                    )
                )
        if not any(check.status in severity for check in suite.checks):
            findings.append(Finding("deepchecks", "pass", f"deepchecks {suite.suite}: no condition failed"))
    return findings


def _repo_path(path: Path) -> str:
    """A path as annotations want it: relative to the workspace when inside it."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        resolved, root = path.resolve(), Path(workspace).resolve()
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return path.as_posix()


class _Annotator:
    """Points each finding at the rule's line (mlgate.yml or the schema file) or else at the data file."""

    def __init__(self, config: Config, schema: tuple[Path, YamlDocument] | None, data: dict[str, Path]) -> None:
        self.config, self.schema, self.data = config, schema, data

    def where(self, finding: Finding) -> tuple[str | None, int | None]:
        rule = finding.rule or ()
        if rule[:1] == ("config",) and self.config.source is not None:
            key = tuple(rule[1:])
            for end in range(len(key), 1, -1):
                if key[:end] in self.config.lines:
                    return _repo_path(self.config.source), self.config.lines[key[:end]]
        if rule[:1] == ("schema",) and self.schema is not None:
            path, document = self.schema
            return _repo_path(path), document.line_of(tuple(rule[1:]))
        path = self.data.get(finding.dataset or "") or self.data.get("train")
        return (_repo_path(path) if path else None), None

    def notes(self, findings: Sequence[Finding], drifted: Sequence[str]) -> list[Note]:
        notes = []
        for finding in findings:
            if finding.severity in ("fail", "warn"):
                file, line = self.where(finding)
                level = "error" if finding.severity == "fail" else "warning"
                notes.append(Note(level, f"{finding.check}: {finding.message}", file, line, "mlgate validate"))
        for column in drifted:
            notes.append(Note("notice", f"drift: column '{column}' drifted", _repo_path(self.data["test"])))
        return notes


def _evidence(
    train: DataFile,
    test: DataFile | None,
    label: str,
    schema_path: Path | None,
    builtin: BuiltinResult,
    findings: Sequence[Finding],
    suites: Sequence[SuiteOutcome],
    config: Config,
) -> dict[str, Any]:
    from mlgate.checks import worst
    from mlgate.checks.drift import DEFAULT_THRESHOLDS

    checks = config.data.checks
    by_check: dict[str, list[str]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding.severity)
    drift_rows = [result.to_dict() for result in builtin.drift]
    drifted = sum(result.drifted for result in builtin.drift)
    return {
        "label": label,
        "inputs": {
            name: {"path": data.name, "format": data.format, "rows": data.rows, "columns": len(data.columns)}
            for name, data in (("train", train), ("test", test))
            if data is not None
        },
        "schema": {"file": str(schema_path), "mode": "strict"} if schema_path else {"file": None, "mode": "inferred"},
        "sampling": {name: sample.to_dict() for name, sample in builtin.samples.items()} | {"scope": SAMPLING_SCOPE},
        "checks": {name: worst(severities) for name, severities in by_check.items()},
        "findings": [finding.to_dict() for finding in findings],
        "drift": {
            "method": checks.drift_method,
            "threshold": checks.drift_threshold,
            "default_thresholds": DEFAULT_THRESHOLDS,
            "conventions": (
                "auto: numeric KS (p < 0.05) up to 1000 reference rows, normed Wasserstein (>= 0.1) above; "
                "categorical chi-square or z-test (p < 0.05) up to 1000 rows, Jensen-Shannon (>= 0.1) above; "
                "psi on request (>= 0.1 drift, >= 0.2 significant)"
            ),
            "columns": drift_rows,
            "drifted_columns": drifted,
            "drifted_share": drifted / len(drift_rows) if drift_rows else 0.0,
            "max_drifted_share": checks.max_drifted_share,
            "sample": builtin.samples["test"].statement if test is not None else None,
        },
        "pii": [
            {"dataset": f.dataset, "column": f.column, **f.numbers}
            for f in findings
            if f.check == "pii" and f.column is not None
        ],
        "deepchecks": [suite.to_dict() for suite in suites],
    }


def _summary(findings: Sequence[Finding], train: DataFile, test: DataFile | None) -> str:
    failed = sorted({f.check for f in findings if f.severity == "fail"})
    warned = sorted({f.check for f in findings if f.severity == "warn"})
    data = f"{train.rows:,} train rows" + (f", {test.rows:,} test rows" if test is not None else "")
    # The verdict is said beside the summary ("fail: nulls, pii; warnings: schema"): the checks of the verdict
    # come first, unlabelled, so that no line says the verdict twice ("fail: failed: …").
    named = ", ".join(failed or warned) or "all checks passed"
    if failed and warned:
        named += f"; warnings: {', '.join(warned)}"
    return f"{named} ({data}, {len(train.columns)} columns)"


@dataclass(frozen=True)
class Inputs:
    """What to validate; None takes mlgate.yml's value. A path given here is relative to the current directory,
    one from mlgate.yml to that file's folder."""

    train: Path | None = None  # data.train
    test: Path | None = None  # data.test
    label: str | None = None  # data.label
    schema: Path | None = None  # data.schema
    predictions: Path | None = None  # metrics.predictions (deepchecks model_evaluation)


def wanted_files(inputs: Inputs, config: Config) -> list[Wanted]:
    """Every file validation reads: the data, the schema, and the predictions model_evaluation needs."""
    named = _Inputs(config)
    files = [
        named.wanted(inputs.train, ("data", "train"), config.data.train),
        named.wanted(inputs.test, ("data", "test"), config.data.test),
        named.wanted(inputs.schema, ("data", "schema"), config.data.schema),
    ]
    if "model_evaluation" in config.data.checks.deepchecks:
        files.append(named.wanted(inputs.predictions, ("metrics", "predictions"), config.metrics.predictions))
    return [item for item in files if item is not None]


def _train_and_label(inputs: Inputs, config: Config) -> tuple[Path, str]:
    train_path = _Inputs(config).required(inputs.train, ("data", "train"), config.data.train, "--train")
    return train_path, resolve_label(inputs, config)


def resolve_label(inputs: Inputs, config: Config) -> str:
    label = inputs.label or config.data.label
    if not label:
        raise InputError("no label column: pass --label or set data.label in mlgate.yml")
    return label


def write_schema(inputs: Inputs, project: Project) -> str:
    """Infer the data schema from the train data and write it to `inputs.schema` (else data.schema, else
    mlgate.schema.yml); what was written, as one line."""
    config = project.config
    obtain(project, wanted_files(inputs, config)[:1])
    train_path, label = _train_and_label(inputs, config)
    target = inputs.schema or (config.resolve(config.data.schema) if config.data.schema else Path(DEFAULT_SCHEMA_FILE))
    return _write_schema(_read_data(train_path, None, label)[0], label, target)


def run(inputs: Inputs, project: Project) -> StepResult:
    """Validate the data; the result (verdict pass, warn, fail, or error) is also written as validation.json."""
    return guarded("validation", project, lambda: _validate(inputs, project))


def check_options(config: Config) -> CheckOptions:
    from mlgate.checks.validation import CheckOptions

    checks = config.data.checks
    return CheckOptions(
        nulls_max_fraction=checks.nulls_max_fraction,
        drift_method=checks.drift_method,
        drift_threshold=checks.drift_threshold,
        max_drifted_share=checks.max_drifted_share,
        pii_allow_columns=checks.pii_allow_columns,
        sample_rows=config.data.sample_rows,
    )


@dataclass(frozen=True)
class Resolved:
    """The step's inputs found: data paths, label, and the schema file read and checked."""

    train: Path
    test: Path | None
    label: str
    schema_path: Path | None
    schema: tuple[DataSchema, YamlDocument] | None

    @property
    def rules(self) -> DataSchema | None:
        return self.schema[0] if self.schema else None


def resolve(inputs: Inputs, config: Config) -> Resolved:
    train_path, label = _train_and_label(inputs, config)
    test_path = _Inputs(config).path(inputs.test, ("data", "test"), config.data.test)
    return Resolved(train_path, test_path, label, *resolve_schema(inputs, config))


def resolve_schema(inputs: Inputs, config: Config) -> tuple[Path | None, tuple[DataSchema, YamlDocument] | None]:
    """The schema file's path and its rules, read and checked (None, None without one)."""
    path = _Inputs(config).path(inputs.schema, ("data", "schema"), config.data.schema)
    return path, load_schema(path) if path is not None else None


def _validate(inputs: Inputs, project: Project) -> StepResult:
    from mlgate import gha
    from mlgate.checks.validation import run_checks
    from mlgate.steps import validate_stream

    config = project.config
    obtained = obtain(project, wanted_files(inputs, config))
    resolved = resolve(inputs, config)
    engine = validate_stream.choose_path(config, resolved.train, resolved.test)
    if engine.streaming:
        return validate_stream.validate(resolved, engine, project, obtained)
    train_data, test_data = _read_data(resolved.train, resolved.test, resolved.label)
    suites = config.data.checks.deepchecks
    prediction_rows = _predictions(config, inputs.predictions, suites, test_data, resolved.label)
    with gha.group("mlgate validate: built-in checks"):
        builtin = run_checks(
            train_data.table,
            test_data.table if test_data is not None else None,
            label=resolved.label,
            schema=resolved.rules,
            options=check_options(config),
        )
    outcomes = []
    if suites:
        with gha.group(f"mlgate validate: deepchecks {', '.join(suites)}"):
            outcomes = _run_deepchecks(
                suites, builtin, train_data, test_data, resolved.label, prediction_rows, project.results_dir
            )
    evidence = {"engine": engine.to_dict()}
    return conclude(resolved, project, train_data, test_data, builtin, outcomes, evidence, obtained)


def conclude(
    resolved: Resolved,
    project: Project,
    train: DataFile,
    test: DataFile | None,
    builtin: BuiltinResult,
    outcomes: Sequence[SuiteOutcome],
    evidence: dict[str, Any],
    obtained: Sequence[Obtained],
) -> StepResult:
    """The verdict, summary, annotations and evidence of the checks' results, recorded as validation.json.

    `train`/`test` are the files read (or their streamed summaries); `evidence` adds to the standard sections;
    `obtained` says how each input file came to be present."""
    from mlgate.checks import worst

    config = project.config
    findings = [*builtin.findings, *_deepchecks_findings(outcomes)]
    verdict = worst(finding.severity for finding in findings)
    summary = _summary(findings, train, test)
    data_paths = {"train": resolved.train} | ({"test": resolved.test} if resolved.test is not None else {})
    schema = (resolved.schema_path, resolved.schema[1]) if resolved.schema and resolved.schema_path else None
    annotator = _Annotator(config, schema, data_paths)
    dataset_drift = any(f.check == "drift" and f.severity == "fail" for f in findings)
    notes = annotator.notes(findings, [] if dataset_drift else [r.column for r in builtin.drift if r.drifted])
    label, schema_path = resolved.label, resolved.schema_path
    evidence = _evidence(train, test, label, schema_path, builtin, findings, outcomes, config) | evidence
    evidence["files"] = [item.to_dict() for item in obtained]
    lines = (
        f"validate: {verdict}: {summary}",
        *(f"file {item.line}" for item in obtained if item.way != "workspace"),
        f"results: {result_path(project.results_dir, 'validation')}",
    )
    commits = {"head": project.github.sha}
    return project.record(
        StepResult("validation", verdict, summary, commits, evidence, lines=lines, notes=tuple(notes))
    )
