"""What every driver does, whoever calls it (report now; deploy and retrain reuse it): the records and the
Driver protocol. Records are plain frozen dataclasses, so the github and local drivers get the same input
and a test can compare their effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mlgate.errors import MlgateError

COMMENT_MODES = ("update", "recreate", "append")
# Check-run conclusions GitHub shows and branch protection reads. A warning is "neutral": it passes a
# required check (GitHub accepts success, neutral and skipped) but shows grey instead of green.
CHECK_CONCLUSIONS = {"pass": "success", "warn": "neutral", "fail": "failure", "error": "failure", "skipped": "skipped"}
# Commit statuses have no neutral: a warning passes.
STATUS_STATES = {"pass": "success", "warn": "success", "fail": "failure", "error": "error", "skipped": "success"}
# GitHub's three annotation levels, from what steps and workflow commands call them.
ANNOTATION_LEVELS = {
    "notice": "notice",
    "warning": "warning",
    "warn": "warning",
    "failure": "failure",
    "fail": "failure",
    "error": "failure",
}
MAX_ANNOTATIONS_PER_REQUEST = 50
# Each batch of 50 is one more write; past this many, more annotations help nobody and risk GitHub's
# secondary rate limit on content creation.
MAX_ANNOTATIONS_PER_CHECK = 500
MAX_STATUS_DESCRIPTION = 140


class DriverError(MlgateError):
    """A record could not be delivered (after retries); the message says what and why (exit 2)."""


class Forbidden(DriverError):
    """GitHub answered 403 for a reason other than a rate limit: this token may not do this here."""


class ReadOnlyToken(Forbidden):
    """GitHub said "Resource not accessible by integration": the token may read but not write (a fork PR)."""


@dataclass(frozen=True)
class CommentRequest:
    pr_number: int
    body: str  # starts with the marker
    marker: str
    mode: str = "update"


@dataclass(frozen=True)
class CommentOutcome:
    action: str  # created | updated | unchanged | recreated
    url: str | None
    comment_id: int | str | None = None


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    message: str
    level: str = "warning"  # notice | warning | failure
    end_line: int | None = None
    title: str | None = None

    def as_github(self) -> dict[str, str | int]:
        payload: dict[str, str | int] = {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line or self.start_line,
            "annotation_level": self.level,
            "message": self.message,
        }
        if self.title:
            payload["title"] = self.title[:255]
        return payload


@dataclass(frozen=True)
class CheckRequest:
    name: str
    head_sha: str
    verdict: str  # pass | warn | fail | error | skipped
    title: str
    summary: str  # markdown, within 65,535 characters
    text: str | None = None
    details_url: str | None = None
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)

    @property
    def conclusion(self) -> str:
        return CHECK_CONCLUSIONS[self.verdict]

    @property
    def status_state(self) -> str:
        return STATUS_STATES[self.verdict]


@dataclass(frozen=True)
class CheckOutcome:
    kind: str  # check_run | status
    url: str | None
    check_id: int | str | None = None


class Driver(Protocol):
    def pulls_for_commit(self, sha: str) -> list[int]:
        """Open pull requests whose head is `sha` (for push, schedule and workflow_run events)."""
        ...

    def pull_head_sha(self, pr_number: int) -> str:
        """The pull request's current head commit."""
        ...

    def upsert_comment(self, request: CommentRequest) -> CommentOutcome:
        """Create, update or recreate the one comment carrying `request.marker` (or append a new one)."""
        ...

    def publish_check(self, request: CheckRequest) -> CheckOutcome:
        """A check run with the verdict's conclusion, or a commit status where check runs are not allowed."""
        ...

    def write_summary(self, key: str, markdown: str) -> bool:
        """The job summary (and, locally, a record named `key`); False when it could not be written."""
        ...
