"""Metric, param and data-version differences between two revisions, with DVC's exact semantics.

Values are flattened the way DVC flattens them (`a.b.c`), metrics keep only numbers, strings and booleans
(DVC drops lists and nulls), params turn lists into their `str()`, and a numeric change is `new - old` in
Python arithmetic, so every number equals what `dvc metrics diff --json` / `dvc params diff --json` print.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# file -> flattened key -> value
FileValues = Mapping[str, Mapping[str, Any]]


def flatten(data: Any) -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`; empty mappings vanish; a bare scalar document becomes key ""."""
    if not isinstance(data, Mapping):
        return {"": data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{sub}": v for sub, v in flatten(value).items()})
        else:
            flat[str(key)] = value
    return flat


def _metric_values(data: Any) -> Any:
    """DVC keeps numbers, strings and booleans; nested mappings recurse; anything else (lists, null) is dropped."""
    if isinstance(data, int | float | str):
        return data
    if not isinstance(data, Mapping):
        return None
    kept = {key: _metric_values(value) for key, value in data.items()}
    return {key: value for key, value in kept.items() if value not in (None, {})}


def metrics_values(document: Any) -> dict[str, Any]:
    """The flattened metrics of one parsed metrics file, as DVC reports them."""
    kept = _metric_values(document)
    return flatten(kept) if kept else {}  # DVC reads a falsy document (0, "", {}) as no metrics


def _params_format(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: _params_format(value) for key, value in data.items()}
    return str(data) if isinstance(data, list) else data


def params_values(document: Any) -> dict[str, Any]:
    """The flattened params of one parsed params file (lists as their `str()`, as DVC shows them)."""
    if not document:
        return {}
    return flatten(_params_format(document)) if isinstance(document, Mapping) else {"": _params_format(document)}


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
