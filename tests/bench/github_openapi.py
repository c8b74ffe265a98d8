"""Checks a response of the GitHub stand-in against GitHub's published OpenAPI description.

The description is the subset of @octokit/openapi that tests/tools/openapi_subset.py cut for the stand-in's
operations (tests/bench/github_openapi.json). OpenAPI 3.0 schemas are JSON Schema with `nullable`; that one
keyword is rewritten to JSON Schema's null type, then jsonschema validates.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

SUBSET = Path(__file__).with_name("github_openapi.json")


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is not True:
        return converted
    if "enum" in converted:
        converted["enum"] = [*converted["enum"], None]
    if isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@functools.cache
def description() -> dict[str, Any]:
    return _nullable(json.loads(SUBSET.read_text(encoding="utf-8")))


def _operation(method: str, path: str) -> dict[str, Any]:
    """The operation whose path template matches `path` (e.g. /repos/octo/demo/issues/comments/7/reactions)."""
    path = path.partition("?")[0]
    for template, item in description()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of GitHub's OpenAPI description (subset)")


def schema_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """What is wrong with `body` as GitHub's answer `status` to `method path`: [] when it conforms. A status
    the description does not list for the operation is itself an error."""
    from jsonschema import Draft202012Validator

    responses = _operation(method, path)["responses"]
    response = responses.get(str(status))
    if response is None:
        return [f"GitHub does not answer {status} to {method} {path} (it answers {', '.join(sorted(responses))})"]
    if "$ref" in response:
        response = description()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return [] if body in (None, "", b"") else [f"GitHub sends no body with {status} to {method} {path}"]
    root = {key: value for key, value in description().items() if key != "paths"}
    validator = Draft202012Validator(root | content["schema"])
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(body)]
