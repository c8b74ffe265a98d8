"""The `issue_comment` event's facts, read defensively from its payload (GITHUB_EVENT_PATH)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlgate.chatops.policy import Comment
from mlgate.errors import InputError
from mlgate.ghcontext import payload_value

ACTIONS = ("created", "edited", "deleted")


def read_comment(payload: Mapping[str, Any], source: Path) -> Comment:
    """The comment of an `issue_comment` payload; an InputError names the key that is missing or wrong."""

    def required(dotted: str, kind: type) -> Any:
        value = payload_value(payload, dotted, kind, source)
        if value is None:
            raise InputError(f"event payload has no '{dotted}': is this an issue_comment event?", file=source)
        return value

    action = required("action", str)
    if action not in ACTIONS:
        raise InputError(f"event payload key 'action' is {action!r}, not one of {', '.join(ACTIONS)}", file=source)
    issue = payload.get("issue")
    return Comment(
        action=action,
        comment_id=required("comment.id", int),
        body=payload_value(payload, "comment.body", str, source) or "",
        author=required("comment.user.login", str),
        author_type=payload_value(payload, "comment.user.type", str, source) or "User",
        html_url=required("comment.html_url", str),
        issue_number=required("issue.number", int),
        issue_state=required("issue.state", str),
        is_pull_request=isinstance(issue, Mapping) and isinstance(issue.get("pull_request"), Mapping),
    )
