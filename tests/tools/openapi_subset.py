"""Cut GitHub's OpenAPI description down to the operations the GitHub stand-in serves, for its shape tests.

The full description (npm package @octokit/openapi, generated/api.github.com.json) is 13 MB of a 385 MB
package; the tests need only the stand-in's operations and the schemas they reference, so that subset is
committed (tests/bench/github_openapi.json) with the package version and the source file's sha256, and this
script makes it again:

    npm i @octokit/openapi@23.0.2 --prefix /tmp/octo
    .venv/bin/python tests/tools/openapi_subset.py /tmp/octo/node_modules/@octokit/openapi/generated/api.github.com.json

Operations are matched to the stand-in's routes with the parameter names ignored ({number} and
{issue_number} are the same segment).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from bench.github_standin import ROUTES  # noqa: E402

OUTPUT = TESTS / "bench" / "github_openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/"))


def _without_examples(node: Any) -> Any:
    """Examples are documentation, not shape: dropped, which halves the file."""
    if isinstance(node, dict):
        return {k: _without_examples(v) for k, v in node.items() if k not in ("example", "examples")}
    if isinstance(node, list):
        return [_without_examples(v) for v in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def subset(spec: dict[str, Any]) -> dict[str, Any]:
    served = {(route.method.lower(), "/" + "/".join(route.segments)) for route in ROUTES}
    wanted = {(method, _shape(path)) for method, path in served}
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item and (method, _shape(path)) in wanted:
                kept = ("operationId", "responses", "requestBody")
                operation = {key: item[method][key] for key in kept if key in item[method]}
                paths.setdefault(path, {})[method] = _without_examples(operation)
    components: dict[str, dict[str, Any]] = {}
    todo: set[str] = set()
    _refs(paths, todo)
    done: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in done:
            continue
        done.add(ref)
        _, _, kind, name = ref.split("/", 3)
        target = _without_examples(_resolve(spec, ref))
        components.setdefault(kind, {})[name] = target
        _refs(target, todo)
    missing = sorted(f"{m.upper()} {p}" for m, p in wanted - {(m, _shape(p)) for p, i in paths.items() for m in i})
    return {"openapi": spec["openapi"], "paths": paths, "components": components, "x-not-in-openapi": missing}


def main(source: str) -> None:
    raw = Path(source).read_bytes()
    spec = json.loads(raw)
    document = subset(spec)
    document["x-source"] = {
        "package": f"@octokit/openapi@{spec['info']['version']}",
        "file": "generated/api.github.com.json",
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    OUTPUT.write_text(json.dumps(document, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{OUTPUT}: {len(document['paths'])} paths, {sum(map(len, document['components'].values()))} components")


if __name__ == "__main__":
    main(sys.argv[1])
