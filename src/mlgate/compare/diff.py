"""Metric, param and data-version differences between two revisions, with DVC's exact semantics.

Values are flattened the way DVC flattens them (`a.b.c`), metrics keep only numbers, strings and booleans
(DVC drops lists and nulls), params turn lists into their `str()`, and a numeric change is `new - old` in
Python arithmetic, so every number equals what `dvc metrics diff --json` / `dvc params diff --json` print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# file -> flattened key -> value
FileValues = Mapping[str, Mapping[str, Any]]


class KeyCollision(ValueError):
    """Two keys of one document flatten to the same dotted name (`{"eval": {"acc": 1}, "eval.acc": 2}`): DVC keeps
    one of them silently, so a gate would judge whichever it kept."""

    def __init__(self, name: str, first: tuple[str, ...], second: tuple[str, ...]) -> None:
        shown = " and ".join(" > ".join(f"'{part}'" for part in path) for path in (first, second))
        super().__init__(f"keys {shown} both flatten to '{name}': rename one, or mlgate would judge only one of them")
        self.name = name


_DROP = object()


def flatten(data: Any, leaf: Callable[[Any], Any] = lambda value: value) -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}` in document order, each value through `leaf` (which returns `_DROP`
    to leave it out); empty mappings vanish; a bare scalar document becomes key "".

    Iterative, so a document nested thousands deep is data, not a stack overflow; KeyCollision when two keys
    become one name."""
    if not isinstance(data, Mapping):
        return {"": data}
    flat: dict[str, Any] = {}
    origin: dict[str, tuple[str, ...]] = {}
    stack: list[tuple[Iterator[tuple[Any, Any]], tuple[str, ...]]] = [(iter(data.items()), ())]
    while stack:
        items, path = stack[-1]
        for key, value in items:
            here = (*path, str(key))
            if isinstance(value, Mapping):
                stack.append((iter(value.items()), here))
                break
            value = leaf(value)
            if value is _DROP:
                continue
            name = ".".join(here)
            if name in flat:
                raise KeyCollision(name, origin[name], here)
            flat[name], origin[name] = value, here
        else:
            stack.pop()
    return flat


def _metric_value(value: Any) -> Any:
    """DVC keeps numbers, strings and booleans; anything else (lists, null) is dropped."""
    return value if isinstance(value, int | float | str) else _DROP


def metrics_values(document: Any) -> dict[str, Any]:
    """The flattened metrics of one parsed metrics file, as DVC reports them."""
    if not document:  # DVC reads a falsy document (0, "", {}) as no metrics
        return {}
    if not isinstance(document, Mapping):
        return {} if _metric_value(document) is _DROP else {"": document}
    return flatten(document, _metric_value)


def _params_value(value: Any) -> Any:
    return str(value) if isinstance(value, list) else value


def params_values(document: Any) -> dict[str, Any]:
    """The flattened params of one parsed params file (lists as their `str()`, as DVC shows them)."""
    if not document:
        return {}
    return flatten(document, _params_value) if isinstance(document, Mapping) else {"": _params_value(document)}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def finite_number(value: Any) -> float | None:
    """`value` as a float when it is a finite number (booleans are not metrics to gate on), else None."""
    if isinstance(value, bool) or not is_number(value):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class ValueDiff:
    file: str
    key: str
    old: Any
    new: Any

    @property
    def diff(self) -> Any:
        """`new - old` when both are numbers (DVC's own arithmetic), else None."""
        return self.new - self.old if is_number(self.old) and is_number(self.new) else None

    @property
    def changed(self) -> bool:
        return self.old != self.new  # NaN != NaN counts as a change, as in DVC

    def to_dict(self) -> dict[str, Any]:
        entry = {"file": self.file, "key": self.key, "old": self.old, "new": self.new, "changed": self.changed}
        return entry | ({"diff": self.diff} if self.diff is not None else {})


def diff_files(old: FileValues, new: FileValues) -> list[ValueDiff]:
    """Every key of every file at either side, sorted by file then key; a side without it has None."""
    diffs = []
    for file in sorted(set(old) | set(new)):
        before, after = old.get(file, {}), new.get(file, {})
        diffs.extend(ValueDiff(file, key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after)))
    return diffs


@dataclass(frozen=True)
class DataDiff:
    path: str
    old: str | None  # content hash at base
    new: str | None  # content hash at head
    group: str | None = None  # data | code | models/outputs | metrics & plots (mlgate.compare.datagroups)

    @property
    def status(self) -> str:
        if self.old == self.new:
            return "unchanged"
        return "added" if self.old is None else "removed" if self.new is None else "modified"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new, "status": self.status, "group": self.group}


def diff_data_versions(
    old: Mapping[str, str], new: Mapping[str, str], groups: Mapping[str, str] | None = None
) -> list[DataDiff]:
    groups = groups or {}
    return [DataDiff(path, old.get(path), new.get(path), groups.get(path)) for path in sorted(set(old) | set(new))]
