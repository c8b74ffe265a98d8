"""Parse YAML into plain data while remembering the line of every key, so errors can point at it.

PyYAML's composed node tree keeps marks; we walk it once, build the data ourselves, and reject duplicate
keys (safe_load silently keeps the last one, which hides typos in policy files).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.inputfile import read_regular

KeyPath = tuple[str | int, ...]
# A policy or schema file is small; these bound what a hostile one (a fork's PR) can make us spend: bytes read,
# and values built, which YAML aliases can multiply exponentially from a few lines ("billion laughs").
MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_YAML_VALUES = 200_000


@dataclass(frozen=True)
class YamlDocument:
    data: Any
    lines: dict[KeyPath, int]  # 1-based line of each key (or list item) by its path

    def line_of(self, path: KeyPath) -> int | None:
        """Line of the deepest known ancestor of `path` (a missing key is reported at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def format_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_yaml(text: str, source: Path) -> YamlDocument:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"is not valid YAML: {exc.problem or exc.context}", file=source, line=line) from None
    except yaml.reader.ReaderError as exc:  # a control character; its str() spans two lines
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(
            f"is not valid YAML: {exc.reason} character {exc.character!r}", file=source, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"is not valid YAML: {' '.join(str(exc).split())}", file=source) from None
    except RecursionError:
        raise InputError("is not valid YAML: it is nested too deeply", file=source) from None
    lines: dict[KeyPath, int] = {}
    constructor = yaml.SafeLoader("")
    built = 0

    def merged(node: yaml.Node, path: KeyPath) -> dict[str, Any]:
        """The keys a `<<:` merge key brings in: a mapping, or a list of them where the first one that has a
        key gives it (YAML's merge-key rule)."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not all(isinstance(item, yaml.MappingNode) for item in sources):
            raise InputError(
                f"{format_path(path)}: '<<' (a YAML merge key) must be a mapping or a list of mappings",
                file=source,
                line=node.start_mark.line + 1,
            )
        result: dict[str, Any] = {}
        for mapping in reversed(sources):
            result.update(build_mapping(mapping, path))
        return result

    def build_mapping(node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        """A mapping; a key its own entries repeat is a duplicate, but one of them overriding a key that a merge
        key (`<<: *anchor`) brought in is what the merge is for."""
        result: dict[str, Any] = {}
        own: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                result |= {key: value for key, value in merged(value_node, path).items() if key not in own}
                continue
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise InputError(
                    f"{format_path(path)}: key {key!r} must be a string", file=source, line=key_node.start_mark.line + 1
                )
            if key in own:
                raise InputError(
                    f"{format_path((*path, key))}: duplicate key", file=source, line=key_node.start_mark.line + 1
                )
            own.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = build(value_node, (*path, key))
        return result

    def build(node: yaml.Node, path: KeyPath) -> Any:
        nonlocal built
        built += 1
        if built > MAX_YAML_VALUES:
            raise InputError(
                f"holds more than {MAX_YAML_VALUES:,} values (expanded YAML aliases?)",
                file=source,
                line=node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            return build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                items.append(build(item, (*path, index)))
            return items
        value = constructor.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(
                f"{format_path(path)}: {node.value} is not a finite number", file=source, line=node.start_mark.line + 1
            )
        return value

    if root is None:
        return YamlDocument(data=None, lines={})
    lines[()] = root.start_mark.line + 1
    try:
        data = build(root, ())
    except RecursionError:
        raise InputError("is not valid YAML: it is nested too deeply", file=source) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"is not valid YAML: {exc.problem}", file=source, line=line) from None
    return YamlDocument(data=data, lines=lines)


def read_yaml_file(path: Path, *, what: str = "file") -> YamlDocument:
    """Read and parse a YAML file; unreadable files are input errors naming the file."""
    raw = read_regular(path, MAX_YAML_BYTES, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (bad byte at offset {exc.start})", file=path) from None
    return parse_yaml(text, path)
