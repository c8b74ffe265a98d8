"""Bad-input corpus of `mlgate report`: results files, GitHub event payloads and fork report artifacts.

tests/test_report_local.py and tests/test_report_github.py pin a few of these (a missing key, a tampered
artifact); this corpus is the breadth: every way a file can be truncated, mistyped, mis-encoded, huge,
non-finite or a link out of the workspace, each leaving the workspace and the runner's files untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench.faults_fixtures import (
    BadInput,
    Content,
    Fifo,
    Folder,
    Link,
    Sparse,
    bad_input_params,
    check_bad_input,
)
from bench.report_fixtures import HEAD_SHA, bundle

RESULTS = ".mlgate/results"
GOOD_RESULTS: dict[str, Content] = {f"{RESULTS}/{r.step}.json": json.dumps(r.to_dict()) for r in bundle("pass")}
COMPARE = json.loads(str(GOOD_RESULTS[f"{RESULTS}/compare.json"]))


def compare_with(**changes: Any) -> str:
    return json.dumps(COMPARE | changes)


def results(
    id: str, content: Content, culprit: str | tuple[str, ...] = "compare.json", name: str = "compare.json"
) -> BadInput:
    args = ("report", RESULTS, "gpu", "--driver", "local", "--pr", "7")
    return BadInput(id, {f"{RESULTS}/{name}": content, "gpu/train.json": GOOD_TRAIN}, args, culprit)


GOOD_TEXT = str(GOOD_RESULTS[f"{RESULTS}/compare.json"])
GOOD_TRAIN = json.dumps(json.loads(str(GOOD_RESULTS[f"{RESULTS}/train.json"])) | {"label": "gpu"})
RESULT_CASES = [
    results("truncated", GOOD_TEXT[: len(GOOD_TEXT) // 2]),
    results("empty", ""),
    results("top-level-array", json.dumps([COMPARE])),
    results("schema-version-as-text", compare_with(schema_version="1"), "schema_version"),
    results("schema-version-from-the-future", compare_with(schema_version=2), "schema_version"),
    results("unknown-verdict", compare_with(verdict="maybe"), "verdict"),
    results("step-of-another-file", compare_with(step="validation"), "step"),
    results("commits-as-list", compare_with(commits=[HEAD_SHA]), "commits"),
    results("head-commit-not-a-sha", compare_with(commits={"head": "../../etc/passwd"}), "commits.head"),
    results("evidence-as-text", compare_with(evidence="all good"), "evidence"),
    results("summary-as-number", compare_with(summary=3), "summary"),
    results("label-as-number", compare_with(label=7), "label"),
    results("nan-literal", GOOD_TEXT.replace('"head": 0.9386', '"head": NaN', 1), "NaN"),
    results("infinity-literal", GOOD_TEXT.replace('"delta": ', '"delta": -Infinity, "x": ', 1), "Infinity"),
    results("verdict-as-number", compare_with(verdict=1), "verdict"),
    results("step-missing", json.dumps({k: v for k, v in COMPARE.items() if k != "step"}), "step"),
    results("base-commit-as-number", compare_with(commits={"base": 1, "head": HEAD_SHA}), "commits.base"),
    results("in-a-matrix-folder", GOOD_TEXT[:-2], "gpu/compare.json", name="../../gpu/compare.json"),
    results("utf16", GOOD_TEXT.encode("utf-16"), "not UTF-8"),
    results("latin1", GOOD_TEXT.replace("pass", "pass\xe9").encode("latin-1"), "not UTF-8"),
    results("huge", Sparse(60 * 1024 * 1024, b"{"), "larger than"),
    results("deep-nesting", "[" * 100_000 + "]" * 100_000),
    results("a-directory", Folder(), "compare.json"),
    results("symlink-out-of-the-workspace", Link("../../../outside/secret.json"), "compare.json"),
    results("dangling-symlink", Link("nowhere.json"), "compare.json"),
    results("a-fifo", Fifo(), ("compare.json", "a FIFO")),
]

EVENT_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_EVENT_NAME": "pull_request",
    "GITHUB_EVENT_PATH": "{workspace}/event.json",
    "GITHUB_OUTPUT": "{runner}/gh_output",
    "GITHUB_STEP_SUMMARY": "{runner}/gh_summary",
    "GITHUB_REPOSITORY": "octo/demo",
    "GITHUB_WORKFLOW": "CI",
}
GOOD_EVENT = {
    "number": 7,
    "pull_request": {
        "number": 7,
        "head": {"sha": HEAD_SHA, "ref": "feature", "repo": {"full_name": "octo/demo"}},
        "base": {"sha": "1" * 40, "ref": "main", "repo": {"full_name": "octo/demo"}},
    },
}


def event(id: str, content: Content, culprit: str | tuple[str, ...] = "event.json") -> BadInput:
    return BadInput(id, {"event.json": content}, ("report", "--driver", "local"), culprit, env=EVENT_ENV)


def pull_with(**changes: Any) -> str:
    return json.dumps(GOOD_EVENT | {"pull_request": GOOD_EVENT["pull_request"] | changes})


GOOD_EVENT_TEXT = json.dumps(GOOD_EVENT)
EVENT_CASES = [
    event("truncated", GOOD_EVENT_TEXT[:40]),
    event("empty", ""),
    event("top-level-array", "[]"),
    event("pr-number-as-text", pull_with(number="7"), "pull_request.number"),
    event("pr-number-as-bool", pull_with(number=True), "pull_request.number"),
    event("pr-number-nan", pull_with(number=0).replace('"number": 0', '"number": NaN'), "pull_request.number"),
    event("pr-number-negative", pull_with(number=-7), "pull_request.number"),
    event("head-sha-traversal", pull_with(head={"sha": "../../../etc/passwd"}), "pull_request.head.sha"),
    event("head-as-text", pull_with(head="feature"), "pull_request.head"),
    event("utf16", GOOD_EVENT_TEXT.encode("utf-16"), "event.json"),
    event("huge", Sparse(26 * 1024 * 1024, b"{"), "larger than"),
    event("deep-nesting", "[" * 100_000 + "]" * 100_000),
    event("a-fifo", Fifo(), ("event.json", "GITHUB_EVENT_PATH", "a FIFO")),
    event("a-directory", Folder(), ("event.json", "GITHUB_EVENT_PATH", "a directory")),
    BadInput(
        "event-file-missing",
        {},
        ("report", "--driver", "local"),
        "missing.json",
        env=EVENT_ENV | {"GITHUB_EVENT_PATH": "{workspace}/missing.json"},
    ),
]

MARKER = "<!-- mlgate:report workflow=CI name=mlgate -->"
GOOD_META = {"version": 1, "pr_number": 7, "head_sha": HEAD_SHA, "marker": MARKER}
ARTIFACT_BASE: dict[str, Content] = {
    "run.json": json.dumps({"workflow_run": {"head_sha": HEAD_SHA, "name": "CI", "event": "pull_request"}}),
    "art/meta.json": json.dumps(GOOD_META),
    "art/body.md": MARKER + "\n## ✅ mlgate: **pass**\n",
}
ARTIFACT_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_EVENT_NAME": "workflow_run",
    "GITHUB_EVENT_PATH": "{workspace}/run.json",
    "GITHUB_OUTPUT": "{runner}/gh_output",
    "GITHUB_STEP_SUMMARY": "{runner}/gh_summary",
    "GITHUB_REPOSITORY": "octo/demo",
    "GITHUB_WORKFLOW": "Post mlgate report",
    "GITHUB_TOKEN": "ghs_poster",
    # Nothing listens there: an artifact that passed the checks by mistake fails on the API call instead,
    # with an error that does not name the artifact's file, so the case fails.
    "GITHUB_API_URL": "http://127.0.0.1:9/api/v3",
    "MLGATE_REPORT_RETRY_BUDGET": "0",
}


def artifact(id: str, files: dict[str, Content], culprit: str) -> BadInput:
    args = ("report", "--from-artifact", "art", "--driver", "github")
    return BadInput(id, files, args, culprit, env=ARTIFACT_ENV)


def meta(id: str, content: Content, culprit: str = "meta.json") -> BadInput:
    return artifact(id, {"art/meta.json": content}, culprit)


def meta_with(**changes: Any) -> str:
    return json.dumps(GOOD_META | changes)


ARTIFACT_CASES = [
    meta("meta-truncated", json.dumps(GOOD_META)[:30]),
    meta("meta-top-level-array", json.dumps([GOOD_META])),
    meta("meta-version-from-the-future", meta_with(version=2), "version"),
    meta("meta-pr-number-as-bool", meta_with(pr_number=True), "pr_number"),
    meta("meta-pr-number-zero", meta_with(pr_number=0), "pr_number"),
    meta("meta-pr-number-nan", meta_with(pr_number=0).replace('"pr_number": 0', '"pr_number": NaN'), "pr_number"),
    meta("meta-marker-with-injection", meta_with(marker=MARKER + "\n<img src=x onerror=alert(1)>"), "marker"),
    meta("meta-utf16", json.dumps(GOOD_META).encode("utf-16"), "not UTF-8"),
    meta("meta-deep-nesting", "[" * 16_000 + "]" * 16_000),
    meta("meta-huge", Sparse(1024 * 1024, b"{"), "larger than"),
    meta("meta-symlink-out", Link("../../outside/secret.json"), "not a regular file"),
    meta("meta-a-directory", Folder(), "not a regular file"),
    artifact("body-missing", {"art/body.md": Link("gone.md")}, "body.md"),
    artifact("body-latin1", {"art/body.md": (MARKER + "\ncaf\xe9\n").encode("latin-1")}, "not UTF-8"),
    artifact("body-huge", {"art/body.md": Sparse(300_000, MARKER.encode())}, "larger than"),
    artifact("body-a-directory", {"art/body.md": Folder()}, "not a regular file"),
    artifact("artifact-dir-symlink-out", {"art": Link("../outside/dir")}, "art"),
]


@pytest.mark.parametrize("case", bad_input_params(RESULT_CASES, "report"))
def test_bad_results_file(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, GOOD_RESULTS)


@pytest.mark.parametrize("case", bad_input_params(EVENT_CASES, "report"))
def test_bad_event_payload(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, {**GOOD_RESULTS, "event.json": GOOD_EVENT_TEXT})


@pytest.mark.parametrize("case", bad_input_params(ARTIFACT_CASES, "report"))
def test_bad_fork_artifact(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, ARTIFACT_BASE)
