"""The local driver: the same comments, checks and summaries as on GitHub, as records in the outbox.

The records follow GitHub's rules where a user would notice a difference: one comment per PR and marker
(updated in place, recreated or appended by mode), one check per name and commit, the verdict mapped to the
same conclusion GitHub would show.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from mlgate import gha
from mlgate.drivers.outbox import Outbox
from mlgate.drivers.protocol import (
    CheckOutcome,
    CheckRequest,
    CommentOutcome,
    CommentRequest,
    DriverError,
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalDriver:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def pulls_for_commit(self, sha: str) -> list[int]:
        return []  # there are no pull requests on a laptop; the caller names one with --pr if it wants

    def pull_head_sha(self, pr_number: int) -> str:
        raise DriverError("the local driver knows no pull requests; use --driver github to post an artifact")

    @staticmethod
    def _comment_key(request: CommentRequest) -> str:
        return f"pr-{request.pr_number}-{hashlib.sha256(request.marker.encode()).hexdigest()[:12]}"

    def upsert_comment(self, request: CommentRequest) -> CommentOutcome:
        key = self._comment_key(request)
        if request.mode == "append":
            existing = {record.get("key") for record in self.outbox.list("comment")}
            key = next(f"{key}-{n}" for n in range(1, len(existing) + 2) if f"{key}-{n}" not in existing)
        previous = self.outbox.get("comment", key)
        now = _now()
        record: dict[str, Any] = {
            "key": key,
            "pr_number": request.pr_number,
            "marker": request.marker,
            "body": request.body,
            "created_at": now,
            "updated_at": now,
            "revision": 1,
        }
        if previous is None:
            action = "created"
        elif request.mode == "recreate":
            action = "recreated"
        elif previous.get("body") == request.body:
            return CommentOutcome("unchanged", str(self.outbox.path("comment", key)), key)
        else:
            action = "updated"
            record |= {"created_at": previous.get("created_at", now), "revision": int(previous.get("revision", 0)) + 1}
        path = self.outbox.put("comment", key, record)
        return CommentOutcome(action, str(path), key)

    def publish_check(self, request: CheckRequest) -> CheckOutcome:
        key = f"{request.name}-{request.head_sha}"
        record = asdict(request) | {"conclusion": request.conclusion, "completed_at": _now()}
        path = self.outbox.put("check", key, record)
        return CheckOutcome("check_run", str(path), key)

    def write_summary(self, key: str, markdown: str) -> bool:
        self.outbox.put("summary", key, {"markdown": markdown, "written_at": _now()})
        gha.append_summary(markdown)  # a local driver forced inside Actions still fills the job summary
        return True
