"""What a reviewer reads about a retraining run: the commit message, the pull request's title and body, the
job summary, and the drift alert on a tracking issue.

The body is the full mlgate report (verdict, metrics against the default branch, gate, resources, footer) with
the reason for the pull request and the drift table on top, fitted to GitHub's size limit by the report's own
rules: the least useful sections go first, the reason and the verdict never.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.report.fit import COMMENT_LIMIT, Section, fit, github_length
from mlgate.report.markdown import code, text
from mlgate.report.render import ReportContext, drift_section, left_out_note, sections
from mlgate.results import StepResult
from mlgate.retrain.decision import Decision, DriftSummary

RETRAIN_LABEL = "mlgate:retrain"
MONITOR_MARKER = "<!-- mlgate:drift-monitor -->"
MAX_LISTED_COLUMNS = 8
MAX_LISTED_FILES = 20


@dataclass(frozen=True)
class RunInfo:
    base_branch: str
    base_sha: str
    data_command: str
    when: str
    date: str  # YYYY-MM-DD, the day of the run
    run_url: str | None = None


def _columns(drift: DriftSummary) -> str:
    shown = ", ".join(drift.drifted[:MAX_LISTED_COLUMNS])
    more = len(drift.drifted) - MAX_LISTED_COLUMNS
    return shown + (f" and {more} more" if more > 0 else "")


def pr_title(drift: DriftSummary, info: RunInfo) -> str:
    if drift.detected:
        return f"mlgate retrain: data drifted ({len(drift.drifted)} of {drift.columns} columns), retrained {info.date}"
    return f"mlgate retrain: scheduled retraining {info.date}"


def commit_message(decision: Decision, drift: DriftSummary, info: RunInfo) -> str:
    lines = [
        "mlgate retrain: refresh the data and retrain",
        "",
        f"Why: {decision.reason}.",
        f"Data command: {info.data_command}",
    ]
    if drift.drifted:
        lines.append(f"Drifted columns: {_columns(drift)}")
    if info.run_url:
        lines.append(f"Run: {info.run_url}")
    return "\n".join(lines) + "\n"


def _file_list(paths: Sequence[str]) -> str:
    shown = ", ".join(code(path) for path in paths[:MAX_LISTED_FILES])
    more = len(paths) - MAX_LISTED_FILES
    return shown + (f" and {more} more" if more > 0 else "")


def _reason_section(decision: Decision, info: RunInfo, committed: Sequence[str], left_out: Sequence[str]) -> Section:
    lines = [
        "## 🔁 mlgate retrain",
        "",
        f"**Why:** {text(decision.reason)}.",
        "",
        f"Fresh data from {code(info.data_command)}, compared with and retrained on top of "
        f"{code(info.base_branch)} ({code(info.base_sha[:7])}). Review the drift, the metrics and the gate "
        "below; merging adopts the retrained model and its data.",
    ]
    if committed:
        lines += ["", f"Committed: {_file_list(committed)}."]
    if left_out:
        lines += [
            "",
            f"Changed but not committed (not data, data pointers, params or metrics): {_file_list(left_out)}. If the "
            "pipeline needs any of them, track them with `dvc add` in the data command, so that this pull "
            "request can be reproduced.",
        ]
    return Section("retrain", "reason", "\n".join(lines), 0)


def drift_markdown(drift_evidence: dict[str, object]) -> Section | None:
    """The report's drift table for the refreshed data (validate's evidence shape, so rendered identically)."""
    as_validation = StepResult(step="validation", verdict="pass", summary="", evidence={"drift": drift_evidence})
    found = drift_section([as_validation])
    return dataclasses.replace(found, priority=1) if found is not None else None


def pr_body(
    decision: Decision,
    info: RunInfo,
    drift_evidence: dict[str, object],
    results: Sequence[StepResult],
    context: ReportContext,
    *,
    committed: Sequence[str] = (),
    left_out: Sequence[str] = (),
    limit: int = COMMENT_LIMIT,
) -> str:
    top = [_reason_section(decision, info, committed, left_out), drift_markdown(drift_evidence)]
    parts = [section for section in top if section is not None] + sections(results, context)
    return fit(parts, limit, left_out_note(context), measure=github_length).text


def outcome_summary(headline: str, decision: Decision, drift_evidence: dict[str, object]) -> str:
    """The job summary of a run that opened no pull request: what happened, why, and the drift table."""
    lines = [f"### mlgate retrain: {text(headline)}", "", f"{text(decision.reason)}."]
    table = drift_markdown(drift_evidence)
    if table is not None:
        lines += ["", table.body]
    return "\n".join(lines) + "\n"


def monitor_comment(decision: Decision, info: RunInfo, drift_evidence: dict[str, object]) -> str:
    """The drift alert posted on a tracking issue by a check-only run."""
    run = f" ([workflow run]({info.run_url}))" if info.run_url else ""
    lines = [
        MONITOR_MARKER,
        f"### mlgate drift monitor: drift in {code(info.base_branch)}'s data{run}",
        "",
        f"{text(decision.reason)}. Fresh data from {code(info.data_command)} on {info.date}.",
    ]
    table = drift_markdown(drift_evidence)
    if table is not None:
        lines += ["", table.body]
    return "\n".join(lines) + "\n"
