"""The local driver's outbox: comments, check runs, deployments and PRs as files under `.mlgate/outbox/`.

Each record is one JSON file written atomically, named by kind and key, so re-running a step replaces its
record instead of piling up duplicates (the same contract as a sticky comment on GitHub).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.fsutil import atomic_write_text

DEFAULT_OUTBOX = Path(".mlgate/outbox")
KINDS = ("comment", "summary", "check", "status", "deployment", "pull", "tag", "issue", "dispatch")
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._@#-]+")


def safe_key(key: str) -> str:
    """A file-name-safe key: no separators or traversal, whatever the key came from."""
    cleaned = _SAFE_KEY.sub("_", key).strip("._") or "_"
    return cleaned[:120]


@dataclass(frozen=True)
class Outbox:
    root: Path = DEFAULT_OUTBOX

    def path(self, kind: str, key: str) -> Path:
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        return self.root / kind / f"{safe_key(key)}.json"

    def put(self, kind: str, key: str, record: Mapping[str, Any]) -> Path:
        path = self.path(kind, key)
        atomic_write_text(path, json.dumps(dict(record), indent=2, sort_keys=True, default=str) + "\n")
        return path

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        path = self.path(kind, key)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def list(self, kind: str) -> list[dict[str, Any]]:
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
