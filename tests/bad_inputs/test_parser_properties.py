"""Property-based tests (Hypothesis) over the parsers of what users and pull requests hand mlgate (issue #17):
mlgate.yml, the data schema, metrics files, predictions files, the event payload and a results file.

For each: random valid documents round-trip (what is written is what is read), and random invalid ones,
arbitrary bytes or wrong shapes, end in the parser's input error (the CLI's exit 2 with one sentence), never in
any other exception (the CLI's "internal error"). In-process, so a few hundred examples take seconds; the example
budget is fixed and the runs derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgate.adapters.dvc_repo import FileFormatError, _metrics
from mlgate.checks.schema import DataSchema, schema_to_document
from mlgate.compare.predictions import PredictionsError, parse_predictions
from mlgate.config.loader import load_config
from mlgate.errors import MlgateError
from mlgate.ghcontext import context_from_env
from mlgate.results import StepResult, read_result, write_result
from mlgate.steps.validate import load_schema

BUDGET = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
plain_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
garbage = st.binary(max_size=300) | json_values.map(lambda value: json.dumps(value).encode())


def written(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read_or_refused(read: Callable[[Path], object], path: Path) -> None:
    """`read(path)` returns, or raises the input error that names the file; any other exception fails."""
    try:
        read(path)
    except MlgateError as exc:
        assert exc.message and exc.file and exc.file.endswith(path.name)


# ------------------------------------------------------------------------------------------------ mlgate.yml

rules = st.fixed_dictionaries(
    {"direction": st.sampled_from(["higher", "lower"])},
    optional={"min": st.floats(0, 1), "required": st.booleans()},
)


@BUDGET
@given(gate=st.dictionaries(plain_names, rules, min_size=1, max_size=5))
def test_a_valid_gate_round_trips(gate: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    path = written(tmp_path, "mlgate.yml", yaml.safe_dump({"metrics": {"gate": gate}}).encode())
    config = load_config(path, explicit=True)
    assert {rule.metric: rule.direction for rule in config.metrics.gate} == {k: v["direction"] for k, v in gate.items()}


@BUDGET
@given(content=garbage | json_values.map(lambda value: yaml.safe_dump({"metrics": value}).encode()))
def test_any_mlgate_yml_is_a_config_or_an_input_error(content: bytes, tmp_path: Path) -> None:
    read_or_refused(lambda path: load_config(path, explicit=True), written(tmp_path, "mlgate.yml", content))


# --------------------------------------------------------------------------------------------- data schema

columns = st.fixed_dictionaries(
    {"dtype": st.sampled_from(["integer", "number", "boolean", "string", "datetime"]), "nullable": st.booleans()}
)


@BUDGET
@given(spec=st.dictionaries(names, columns, min_size=1, max_size=6), label=st.none() | names)
def test_a_valid_schema_round_trips(spec: dict[str, dict[str, Any]], label: str | None, tmp_path: Path) -> None:
    document = {"version": 1, "columns": spec} | ({"label": label} if label is not None else {})
    schema, _ = load_schema(written(tmp_path, "schema.yml", yaml.safe_dump(document, allow_unicode=True).encode()))
    assert isinstance(schema, DataSchema)
    assert schema_to_document(schema) == {"version": 1, **({"label": label} if label else {}), "columns": spec}


@BUDGET
@given(content=garbage | json_values.map(lambda value: yaml.safe_dump({"version": 1, "columns": value}).encode()))
def test_any_schema_file_is_a_schema_or_an_input_error(content: bytes, tmp_path: Path) -> None:
    read_or_refused(load_schema, written(tmp_path, "schema.yml", content))


# -------------------------------------------------------------------------------------------- metrics files

metric_trees = st.recursive(
    finite | st.integers(-(10**9), 10**9),
    lambda inner: st.dictionaries(plain_names, inner, min_size=1, max_size=4),
    max_leaves=12,
).filter(lambda tree: isinstance(tree, dict))


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat |= leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return flat


@BUDGET
@given(tree=metric_trees, suffix=st.sampled_from([".json", ".yaml"]))
def test_valid_metrics_round_trip(tree: dict[str, Any], suffix: str) -> None:
    text = json.dumps(tree) if suffix == ".json" else yaml.safe_dump(tree)
    assert _metrics(text.encode(), f"metrics{suffix}", named=True) == leaves(tree)


@BUDGET
@given(content=garbage, suffix=st.sampled_from([".json", ".yaml", ".toml", ".csv"]))
def test_any_metrics_file_is_metrics_or_a_format_error(content: bytes, suffix: str) -> None:
    try:
        values = _metrics(content, f"metrics{suffix}", named=True)
    except FileFormatError as exc:
        assert str(exc)
    else:
        assert isinstance(values, dict)


# ---------------------------------------------------------------------------------------- predictions files

rows = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 1), st.floats(0, 1).map(lambda score: round(score, 6))),
    min_size=1,
    max_size=30,
)


@BUDGET
@given(rows=rows)
def test_valid_predictions_round_trip(rows: list[tuple[int, int, float]]) -> None:
    text = "row_id,y_true,y_pred,y_score\n" + "".join(f"{n},{t},{p},{s}\n" for n, (t, p, s) in enumerate(rows))
    parsed = parse_predictions(text.encode(), "eval/predictions.csv")
    assert parsed.ids is not None and parsed.ids.tolist() == list(range(len(rows)))
    assert parsed.predictions.y_true.tolist() == [t for t, _, _ in rows]
    assert parsed.predictions.y_pred.tolist() == [p for _, p, _ in rows]
    assert all(math.isclose(a, s) for a, (*_, s) in zip(parsed.predictions.y_score.tolist(), rows, strict=True))


cells = st.sampled_from(["", "0", "1", "-1", "0.5", "1.7", "nan", "inf", "yes", " y_true", "y_pred", '"', "a,b"])
tables = st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=8).map(
    lambda lines: ("y_true,y_pred,y_score\n" + "\n".join(",".join(line) for line in lines)).encode()
)


@BUDGET
@given(content=garbage | tables, suffix=st.sampled_from([".csv", ".tsv", ".parquet"]))
def test_any_predictions_file_is_predictions_or_a_predictions_error(content: bytes, suffix: str) -> None:
    try:
        parse_predictions(content, f"predictions{suffix}")
    except PredictionsError as exc:
        assert str(exc).startswith(f"predictions{suffix}: ")


# -------------------------------------------------------------------------------------------- event payload

shas = st.text("0123456789abcdef", min_size=40, max_size=40)


@BUDGET
@given(number=st.integers(1, 10**6), head=shas, base=shas, ref=plain_names)
def test_a_valid_pull_request_event_round_trips(number: int, head: str, base: str, ref: str, tmp_path: Path) -> None:
    event = {"pull_request": {"number": number, "head": {"sha": head}, "base": {"sha": base, "ref": ref}}}
    path = written(tmp_path, "event.json", json.dumps(event).encode())
    context = context_from_env({"GITHUB_EVENT_PATH": str(path)})
    assert (context.pr_number, context.sha, context.base_sha, context.base_ref) == (number, head, base, ref)


@BUDGET
@given(content=garbage | json_values.map(lambda value: json.dumps({"pull_request": value}).encode()))
def test_any_event_payload_is_a_context_or_an_input_error(content: bytes, tmp_path: Path) -> None:
    event = written(tmp_path, "event.json", content)
    read_or_refused(lambda path: context_from_env({"GITHUB_EVENT_PATH": str(path)}), event)


# --------------------------------------------------------------------------------------------- results file

results = st.builds(
    StepResult,
    step=st.sampled_from(["validation", "train", "compare", "deploy"]),
    verdict=st.sampled_from(["pass", "warn", "fail", "error", "skipped"]),
    summary=st.text(max_size=40),
    commits=st.dictionaries(st.sampled_from(["base", "head"]), st.none() | shas),
    evidence=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    label=st.none() | st.text(max_size=10),
)


@BUDGET
@given(result=results)
def test_a_results_file_round_trips(result: StepResult, tmp_path: Path) -> None:
    assert read_result(write_result(tmp_path, result)).to_dict() == result.to_dict()


@BUDGET
@given(content=garbage | json_values.map(lambda value: json.dumps({"schema_version": 1, "step": value}).encode()))
def test_any_results_file_is_a_result_or_an_input_error(content: bytes, tmp_path: Path) -> None:
    read_or_refused(read_result, written(tmp_path, "compare.json", content))
