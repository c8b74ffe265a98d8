"""The `mlgate-report` artifact: how a fork PR's report reaches the PR without a write token in the fork's run.

The run of a fork PR gets a read-only token, so it writes the comment body, the PR number, the head sha and
the marker here; a `workflow_run` workflow with a write token then runs `mlgate report --from-artifact`.
The fork controls everything in that run, including this artifact, so reading it trusts nothing: regular
files only (a symlink could make us post a runner secret), sizes bounded before reading, every field
type-checked, the body carrying the marker it claims. The caller checks the PR's current head sha.
The artifact never carries a conclusion to publish: a fork must not be able to pass its own check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError
from mlgate.fsutil import atomic_write_text
from mlgate.inputfile import read_regular
from mlgate.report.fit import COMMENT_LIMIT, github_length
from mlgate.report.marker import Marker, parse_marker

ARTIFACT_NAME = "mlgate-report"
BODY_FILE = "body.md"
META_FILE = "meta.json"
REPORT_FILE = "report.md"  # the full report, always written; not read back
ARTIFACT_VERSION = 1
MAX_META_BYTES = 16 * 1024
MAX_BODY_BYTES = 4 * COMMENT_LIMIT  # UTF-8 needs at most 4 bytes per character
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Artifact:
    pr_number: int
    head_sha: str
    marker: Marker
    body: str


def write_artifact(directory: Path, full_report: str, pending: Artifact | None) -> None:
    """The full report, plus the comment still to post when this run could not post it itself."""
    atomic_write_text(directory / REPORT_FILE, full_report)
    if pending is None:
        for name in (BODY_FILE, META_FILE):  # a comment already posted must not be posted again later
            (directory / name).unlink(missing_ok=True)
        return
    meta = {
        "version": ARTIFACT_VERSION,
        "pr_number": pending.pr_number,
        "head_sha": pending.head_sha,
        "marker": str(pending.marker),
    }
    atomic_write_text(directory / BODY_FILE, pending.body)
    atomic_write_text(directory / META_FILE, json.dumps(meta, indent=2) + "\n")


def _text(path: Path, limit: int) -> str:
    try:  # a symlink could make us post a runner secret: refused, not followed
        return read_regular(path, limit, "artifact file", follow_symlinks=False).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("artifact file is not UTF-8 text", file=path) from None


def has_pending_comment(directory: Path) -> bool:
    return (directory / META_FILE).exists() or (directory / META_FILE).is_symlink()


def read_artifact(directory: Path) -> Artifact:
    """The pending comment of an untrusted artifact directory, or an InputError naming what is wrong."""
    if directory.is_symlink() or not directory.is_dir():
        raise InputError("artifact directory does not exist (or is a symlink)", file=directory)
    meta_path, body_path = directory / META_FILE, directory / BODY_FILE
    try:
        meta = json.loads(_text(meta_path, MAX_META_BYTES))
    except json.JSONDecodeError as exc:
        raise InputError(f"artifact metadata is not valid JSON ({exc.msg})", file=meta_path, line=exc.lineno) from None
    except RecursionError:
        raise InputError("artifact metadata is nested too deeply", file=meta_path) from None
    if not isinstance(meta, dict):
        raise InputError("artifact metadata is not a JSON object", file=meta_path)
    if meta.get("version") != ARTIFACT_VERSION:
        raise InputError(
            f"artifact key 'version' is {meta.get('version')!r:.20}; this mlgate reads version {ARTIFACT_VERSION}",
            file=meta_path,
        )
    pr_number = meta.get("pr_number")
    if not isinstance(pr_number, int) or isinstance(pr_number, bool) or pr_number < 1:
        raise InputError(f"artifact key 'pr_number' must be a positive integer (got {pr_number!r:.40})", file=meta_path)
    head_sha = meta.get("head_sha")
    if not isinstance(head_sha, str) or not SHA_RE.match(head_sha):
        raise InputError(f"artifact key 'head_sha' must be a 40-hex commit sha (got {head_sha!r:.60})", file=meta_path)
    raw_marker = meta.get("marker")
    marker = parse_marker(raw_marker) if isinstance(raw_marker, str) else None
    if marker is None or str(marker) != raw_marker:
        raise InputError("artifact key 'marker' is not an mlgate report marker", file=meta_path)
    body = _text(body_path, MAX_BODY_BYTES)
    if github_length(body) > COMMENT_LIMIT:
        raise InputError(f"artifact comment body is longer than GitHub's {COMMENT_LIMIT:,} characters", file=body_path)
    if not body.startswith(str(marker)):
        raise InputError("artifact comment body does not start with the marker of its metadata", file=body_path)
    return Artifact(pr_number, head_sha, marker, body)
