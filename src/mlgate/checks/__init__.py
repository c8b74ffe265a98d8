"""Pure, vectorized data checks: schema, quality, drift and PII over Arrow tables, returning findings.

No file I/O here: the adapters read the data, the `validate` command writes the results. Heavy libraries
(pyarrow, numpy, pandas, scipy) are imported inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("pass", "warn", "fail")
KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """One result of one check; `rule` is the key path of the setting it enforced, in its source file.

    `rule[0]` names the source: "config" (mlgate.yml) or "schema" (the data schema file); the rest is the
    key path inside it, so the command can point an annotation at the line that set the rule.
    """

    check: str
    severity: str
    message: str
    dataset: str | None = None
    column: str | None = None
    numbers: Mapping[str, Any] = field(default_factory=dict)
    rule: KeyPath | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "dataset": self.dataset,
            "column": self.column,
            "numbers": dict(self.numbers),
        }


def worst(severities: Iterable[str]) -> str:
    """The most severe of pass < warn < fail (pass when empty)."""
    return max(severities, key=SEVERITIES.index, default="pass")
