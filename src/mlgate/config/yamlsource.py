"""Parse YAML into plain data while remembering the line of every key, so errors can point at it.

PyYAML's composed node tree keeps marks; we walk it once, build the data ourselves, and reject duplicate
keys (safe_load silently keeps the last one, which hides typos in policy files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError

KeyPath = tuple[str | int, ...]


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
    except yaml.YAMLError as exc:
        raise InputError(f"is not valid YAML: {exc}", file=source) from None
    lines: dict[KeyPath, int] = {}
    constructor = yaml.SafeLoader("")

    def build(node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            constructor.flatten_mapping(node)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    raise InputError(
                        f"{format_path(path)}: key {key!r} must be a string",
                        file=source,
                        line=key_node.start_mark.line + 1,
                    )
                if key in result:
                    raise InputError(
                        f"{format_path((*path, key))}: duplicate key",
                        file=source,
                        line=key_node.start_mark.line + 1,
                    )
                lines[(*path, key)] = key_node.start_mark.line + 1
                result[key] = build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                items.append(build(item, (*path, index)))
            return items
        return constructor.construct_object(node, deep=True)

    if root is None:
        return YamlDocument(data=None, lines={})
    lines[()] = root.start_mark.line + 1
    try:
        data = build(root, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"is not valid YAML: {exc.problem}", file=source, line=line) from None
    return YamlDocument(data=data, lines=lines)


def read_yaml_file(path: Path, *, what: str = "file") -> YamlDocument:
    """Read and parse a YAML file; unreadable files are input errors naming the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} does not exist", file=path) from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory, not a file", file=path) from None
    except OSError as exc:
        raise InputError(f"{what} cannot be read ({exc.strerror})", file=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (bad byte at offset {exc.start})", file=path) from None
    return parse_yaml(text, path)
