"""The train–test gap at base and head: overfitting at a glance.

Pairs are found by name, within one metrics file: a key with a `train` segment (`train.accuracy`,
`train_loss`, `accuracy.train`, `train/auc`) against the same key with `test` (else `val`, `valid`,
`validation`, `eval`) in its place, else against the key without the segment (`train_accuracy` vs
`accuracy`: the unmarked metric is the held-out one, as most training scripts write it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mlgate.compare.diff import ValueDiff, finite_number

HELD_OUT = ("test", "val", "valid", "validation", "eval")
_TRAIN = re.compile(r"(?:^|(?<=[._/-]))train(?=$|[._/-])")


@dataclass(frozen=True)
class Gap:
    file: str
    train: str
    test: str
    base: float | None  # |train - test| at base
    head: float | None
    widened: bool

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "train": self.train, "test": self.test, "base": self.base, "head": self.head,
                "widened": self.widened}  # fmt: skip


def _held_out_names(key: str) -> list[str]:
    match = _TRAIN.search(key)
    if match is None:
        return []
    start, end = match.span()
    names = [key[:start] + name + key[end:] for name in HELD_OUT]
    bare = (key[:start].rstrip("._/-") + key[end:]) if end == len(key) else key[:start] + key[end:].lstrip("._/-")
    return [*names, bare] if bare else names


def _gap(train: Any, test: Any) -> float | None:
    a, b = finite_number(train), finite_number(test)
    return abs(a - b) if a is not None and b is not None else None


def gaps(diffs: Iterable[ValueDiff], max_widening: float) -> list[Gap]:
    """Each train/held-out pair's absolute gap at base and head; `widened` when head's gap exceeds base's by
    more than `max_widening`."""
    rows = list(diffs)
    by_key = {(row.file, row.key): row for row in rows}
    found = []
    for row in rows:
        partner = next((by_key[(row.file, n)] for n in _held_out_names(row.key) if (row.file, n) in by_key), None)
        if partner is None:
            continue
        base, head = _gap(row.old, partner.old), _gap(row.new, partner.new)
        widened = base is not None and head is not None and head - base > max_widening
        found.append(Gap(row.file, row.key, partner.key, base, head, widened))
    return found
