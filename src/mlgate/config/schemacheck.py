"""A small JSON Schema (2020-12) checker for the keywords our published schemas use.

Why not the `jsonschema` package: importing it costs 0.2–3 s (it compiles format grammars at import time),
paid by every command that reads mlgate.yml. Our schemas use a fixed, small set of keywords; a keyword
outside that set makes the schema itself an error here, so the published schema and this checker cannot
silently disagree (tests also run check-jsonschema on the same files).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "errorMessage", "default", "examples"})
ASSERTIONS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "uniqueItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "pattern",
        "oneOf",
        "anyOf",
    }
)


@dataclass(frozen=True)
class SchemaError:
    """One failed assertion, with the attributes our message builder reads (as jsonschema names them)."""

    absolute_path: tuple[str | int, ...]
    validator: str
    validator_value: Any
    schema: Mapping[str, Any]
    instance: Any
    message: str


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return checks[kind](value)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class SchemaChecker:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self._check_keywords(schema)

    def _check_keywords(self, schema: Any) -> None:
        if not isinstance(schema, Mapping):
            return
        unknown = set(schema) - ANNOTATIONS - ASSERTIONS
        if unknown:
            raise ValueError(f"schema keyword(s) not supported by this checker: {', '.join(sorted(unknown))}")
        for key in ("properties", "$defs"):
            for sub in schema.get(key, {}).values():
                self._check_keywords(sub)
        for key in ("items", "additionalProperties"):
            self._check_keywords(schema.get(key))
        for key in ("oneOf", "anyOf"):
            for sub in schema.get(key, []):
                self._check_keywords(sub)

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        yield from self._errors(instance, self.root, ())

    def _errors(self, value: Any, schema: Mapping[str, Any], path: tuple) -> Iterator[SchemaError]:
        def fail(keyword: str, message: str = "") -> SchemaError:
            return SchemaError(path, keyword, schema.get(keyword), schema, value, message)

        if "$ref" in schema:
            yield from self._errors(value, self._resolve(schema["$ref"]), path)
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                matches = sum(not any(self._errors(value, sub, path)) for sub in schema[keyword])
                if (matches != 1) if keyword == "oneOf" else (matches == 0):
                    yield fail(keyword)
                    return
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, kind) for kind in kinds):
                yield fail("type")
                return  # the other keywords would only repeat the type problem
        if "enum" in schema and value not in schema["enum"]:
            yield fail("enum")
        if "const" in schema and value != schema["const"]:
            yield fail("const")
        if isinstance(value, int | float) and not isinstance(value, bool):
            bounds = {
                "minimum": lambda limit: value >= limit,
                "maximum": lambda limit: value <= limit,
                "exclusiveMinimum": lambda limit: value > limit,
                "exclusiveMaximum": lambda limit: value < limit,
            }
            for keyword, holds in bounds.items():
                if keyword in schema and not holds(schema[keyword]):
                    yield fail(keyword)
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                yield fail("minLength")
            if "pattern" in schema and not _compiled(schema["pattern"]).search(value):
                yield fail("pattern")
        if isinstance(value, list):
            if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
                yield fail("uniqueItems")
            if "items" in schema:
                for index, item in enumerate(value):
                    yield from self._errors(item, schema["items"], (*path, index))
        if isinstance(value, dict):
            for name in schema.get("required", ()):
                if name not in value:
                    yield fail("required", f"'{name}' is a required property")
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            if extra is False and set(value) - set(properties):
                yield fail("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    yield from self._errors(item, properties[key], (*path, key))
                elif isinstance(extra, Mapping):
                    yield from self._errors(item, extra, (*path, key))
