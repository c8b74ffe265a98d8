"""Validate parsed YAML against a JSON Schema and turn the first problem into one line-numbered sentence."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mlgate.config.yamlsource import KeyPath, YamlDocument, format_path
from mlgate.errors import InputError

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "empty",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("mlgate.config").joinpath(name).read_text(encoding="utf-8"))


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return repr(value)


def _message(error: Any) -> tuple[KeyPath, str]:
    """(path, sentence) for one failed schema assertion."""
    path: KeyPath = tuple(error.absolute_path)
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return (*path, unknown[0]), f"unknown key '{unknown[0]}'{hint}"
    if custom:
        return path, f"{custom} (got {_describe(error.instance)})"
    if kind == "required":
        missing = error.message.split("'")[1]
        return path, f"missing required key '{missing}'"
    if kind == "enum":
        return path, f"must be one of {', '.join(map(str, error.validator_value))} (got {_describe(error.instance)})"
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
        return path, f"must be {names} (got {_describe(error.instance)})"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }
        return path, f"must be {words[kind]} {error.validator_value} (got {_describe(error.instance)})"
    if kind == "uniqueItems":
        return path, "must not repeat items"
    if kind == "minLength":
        return path, "must not be empty"
    if kind == "pattern":
        return path, f"does not match the pattern {error.validator_value} (got {_describe(error.instance)})"
    return path, error.message


def validate_document(document: YamlDocument, schema_name: str, source: Path) -> None:
    """Raise InputError naming file, line and key path for the first problem (in file order)."""
    from mlgate.config.schemacheck import SchemaChecker

    validator = SchemaChecker(load_schema(schema_name))
    problems = []
    for error in validator.iter_errors(document.data):
        path, sentence = _message(error)
        problems.append((document.line_of(path) or 0, format_path(path), sentence))
    if not problems:
        return
    problems.sort()
    line, where, sentence = problems[0]
    more = f" ({len(problems) - 1} more problem(s) after this one)" if len(problems) > 1 else ""
    raise InputError(f"{where}: {sentence}{more}", file=source, line=line or None)
