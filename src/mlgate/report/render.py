"""The report's markdown, section by section, from the results bundle (a list of StepResult).

Verdict first, then the evidence a reviewer needs to trust it: metrics base → head with intervals, what
changed (params, data), what failed in the data, drift, training cost, charts, and a footer to reproduce.
Each section is a `fit.Section` with a priority, so `fit` can drop the least useful ones to stay in limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mlgate import __version__, numbers
from mlgate.report import charts, evidence
from mlgate.report.fit import Fitted, Section, fit, github_length
from mlgate.report.markdown import (
    DASH,
    bytes_size,
    code,
    details,
    duration,
    fenced,
    number,
    signed,
    table,
    text,
)
from mlgate.results import StepResult

VERDICT_ORDER = ("error", "fail", "warn", "pass", "skipped")  # worst first
ICONS = {
    "pass": "✅",
    "warn": "⚠️",
    "fail": "❌",
    "error": "⛔",
    "skipped": "⏭️",
}
COMMIT_ORDER = ("base", "head")
FOLD_ROWS = 10  # tables longer than this fold into <details>
MAX_REASONS = 10
MAX_CHARTS = 6


@dataclass(frozen=True)
class ReportContext:
    name: str = "mlgate"
    run_url: str | None = None
    commit_url: str | None = None  # "{server}/{owner}/{repo}/commit/" to link shas
    base_branch: str | None = None


def overall_verdict(results: Iterable[StepResult]) -> str:
    """The worst verdict of all steps; a bundle of only skipped steps is skipped."""
    verdicts = {result.verdict for result in results}
    return next((verdict for verdict in VERDICT_ORDER if verdict in verdicts), "skipped")


def _icon(verdict: str | None) -> str:
    key = (verdict or "").lower().replace(" ", "_")
    return f"{ICONS[key]} {text(verdict)}" if key in ICONS else text(verdict or DASH)


def _heading(result: StepResult, title: str) -> str:
    return f"### {title}" + (f" · {code(result.label)}" if result.label else "")


def _folded(summary: str, block: str, rows: int) -> str:
    return details(f"{summary} ({rows})", block) if rows > FOLD_ROWS else block


def _of(results: Sequence[StepResult], step: str) -> list[StepResult]:
    return [result for result in results if result.step == step]


def _reasons(results: Sequence[StepResult], verdict: str) -> list[str]:
    """Why the verdict is what it is: the rules and checks that decided it, else the deciding steps' summaries."""
    reasons: list[str] = []
    deciding = {verdict} if verdict != "pass" else set()
    for result in results:
        if result.verdict not in deciding:
            continue
        where = f"{code(result.label)}: " if result.label else ""
        specific = [
            f"{where}{text(row.reason)}"
            if row.reason
            else f"{where}{code(row.metric)}: {text(row.status or row.verdict)}"
            for row in evidence.gate_rows(result)
            if row.verdict in deciding
        ] + [
            f"{where}{text(finding.check)}"
            + (f" on {code(finding.column)}" if finding.column else "")
            + (f" — {text(finding.message)}" if finding.message else "")
            for finding in evidence.failed_findings(result)
            if finding.status.lower() in deciding
        ]
        reasons += specific or [f"{where}{result.step}: {text(result.summary)}"]
    if len(reasons) > MAX_REASONS:
        reasons = [*reasons[:MAX_REASONS], f"… and {len(reasons) - MAX_REASONS} more below"]
    return reasons


def header_section(results: Sequence[StepResult], context: ReportContext) -> Section:
    verdict = overall_verdict(results)
    name = "" if context.name == "mlgate" else f" · {text(context.name)}"
    lines = [f"## {ICONS[verdict]} mlgate{name}: **{verdict}**", ""]
    lines += [f"- {reason}" for reason in _reasons(results, verdict)]
    labelled = any(result.label for result in results)
    headers = ["step", *(["job"] if labelled else []), "verdict", "summary"]
    rows = [
        [result.step, *([code(result.label or DASH)] if labelled else []), _icon(result.verdict), text(result.summary)]
        for result in results
    ]
    lines += ["", table(headers, rows)]
    return Section("verdict", "verdict", "\n".join(lines).strip(), 0)


def _interval_cell(row: evidence.MetricRow) -> str:
    if row.interval is None:
        return DASH
    low, high = row.interval
    about = [f"{row.level * 100:g}%" if row.level is not None else "", text(row.method) if row.method else ""]
    note = " ".join(part for part in about if part)
    if row.p_value is not None:
        note = f"{note}, p={number(row.p_value)}" if note else f"p={number(row.p_value)}"
    return f"[{signed(low)}, {signed(high)}]" + (f" <sub>{note}</sub>" if note else "")


def _base_and_head(row: evidence.MetricRow) -> list[str]:
    """Base and head at one precision, enough to tell them apart whenever they differ."""
    digits = numbers.digits_to_tell_apart([row.base, row.head])
    return [number(row.base, digits), number(row.head, digits)]


def _verdict_cell(row: evidence.MetricRow) -> str:
    shown = _icon(row.verdict)
    return f"{shown} · {text(row.status)}" if row.status and row.status != row.verdict else shown


def _compare_block(result: StepResult) -> str | None:
    gated, others = evidence.gate_rows(result), evidence.other_metrics(result)
    parts = []
    if gated:
        cells = [
            [
                code(row.metric),
                *_base_and_head(row),
                signed(row.delta),
                _interval_cell(row),
                text(row.rule) if row.rule else DASH,
                _verdict_cell(row),
            ]
            for row in gated
        ]
        block = table(["metric", "base", "head", "Δ", "interval", "rule", "verdict"], cells)
        parts.append(_folded("gated metrics", block, len(cells)))
    if others:
        cells = [[code(row.metric), *_base_and_head(row), signed(row.delta)] for row in others]
        block = table(["metric", "base", "head", "Δ"], cells)
        parts.append(
            details(f"other metrics ({len(cells)})", block) if gated else _folded("metrics", block, len(cells))
        )
    if not parts:
        return None
    if result.evidence.get("baseline") is False:
        parts.append("*No baseline: the base commit has no metrics, so only absolute limits apply.*")
    return f"{_heading(result, 'Metrics: base → head')}\n\n" + "\n\n".join(parts)


def metrics_section(results: Sequence[StepResult]) -> Section | None:
    blocks = [block for result in _of(results, "compare") if (block := _compare_block(result))]
    if not blocks:  # no comparison (first run, or compare did not run): show what training measured
        for result in _of(results, "train"):
            values = evidence.train_metrics(result)
            if values:
                cells = [[code(name), number(value)] for name, value in values.items()]
                block = _folded("metrics", table(["metric", "value"], cells), len(cells))
                blocks.append(f"{_heading(result, 'Metrics')}\n\n{block}")
    return Section("metrics", "metrics table", "\n\n".join(blocks), 1) if blocks else None


def checks_section(results: Sequence[StepResult]) -> Section | None:
    blocks = []
    for result in _of(results, "validation"):
        failed = evidence.failed_findings(result)
        if not failed:
            continue
        cells = [
            [
                text(finding.check),
                code(finding.column) if finding.column else DASH,
                _icon(finding.status),
                text(finding.message) if finding.message else DASH,
            ]
            for finding in failed
        ]
        block = table(["check", "column", "status", "details"], cells)
        blocks.append(f"{_heading(result, 'Data checks that did not pass')}\n\n{_folded('checks', block, len(cells))}")
    return Section("checks", "data checks", "\n\n".join(blocks), 2) if blocks else None


def changes_section(results: Sequence[StepResult]) -> Section | None:
    blocks = []
    for result in _of(results, "compare"):
        for key, title, what in (("params", "Params changed", "param"), ("data_versions", "Data changed", "data")):
            rows = evidence.changes(result.evidence.get(key))
            if rows:
                cells = [[code(row.name), code(row.base or DASH), code(row.head or DASH)] for row in rows]
                block = table([what, "base", "head"], cells)
                blocks.append(f"{_heading(result, title)}\n\n{_folded(title.lower(), block, len(cells))}")
    return Section("changes", "params and data changes", "\n\n".join(blocks), 3) if blocks else None


def drift_section(results: Sequence[StepResult]) -> Section | None:
    blocks = []
    for result in _of(results, "validation"):
        found = evidence.drift(result)
        if found is None:
            continue
        ordered = sorted(found.rows, key=lambda row: not row.drifted)
        cells = [
            [
                code(row.column),
                text(row.method) if row.method else DASH,
                number(row.statistic),
                number(row.p_value),
                number(row.threshold),
                "❌ drifted" if row.drifted else "✅ no",
            ]
            for row in ordered
        ]
        drifted = sum(row.drifted for row in found.rows)
        share = f" ({found.share * 100:.0f}%)" if found.share is not None else ""
        limit = f", limit {found.max_share * 100:.0f}%" if found.max_share is not None else ""
        lines = [f"{drifted} of {len(found.rows)} columns drifted{share}{limit}."]
        if found.sample:
            lines.append(f"Sample: {text(found.sample)}.")
        block = table(["column", "method", "statistic", "p-value", "threshold", "drift"], cells)
        body = " ".join(lines) + "\n\n" + details(f"per-column drift ({len(cells)})", block)
        blocks.append(f"{_heading(result, 'Drift')}\n\n{body}")
    return Section("drift", "drift table", "\n\n".join(blocks), 4) if blocks else None


def resources_section(results: Sequence[StepResult]) -> Section | None:
    blocks = []
    for result in _of(results, "train"):
        used = evidence.resources(result)
        cells = [
            ["command", code(used.command) if used.command else DASH],
            ["exit code", number(used.exit_code)],
            ["wall time", duration(used.wall_seconds)],
            ["CPU time", duration(used.cpu_seconds)],
            ["peak memory (RSS)", bytes_size(used.peak_rss_bytes)],
        ]
        for gpu in used.gpus:
            mib = evidence.as_number(gpu.get("peak_memory_mib"))
            memory = bytes_size(mib * 2**20 if mib is not None else None)
            utilisation = evidence.as_number(gpu.get("peak_utilization_percent"))
            shown = f"{memory}, peak {utilisation:.0f}% busy" if utilisation is not None else memory
            cells.append(["GPU (all devices)", shown])
        block = table(["", ""], cells)
        if used.log_tail and result.verdict in ("fail", "error"):
            block += "\n\n" + details("log tail", fenced("text", used.log_tail), open_=True)
        blocks.append(f"{_heading(result, 'Training resources')}\n\n{block}")
    return Section("resources", "training resources", "\n\n".join(blocks), 5) if blocks else None


def charts_section(results: Sequence[StepResult], context: ReportContext) -> Section | None:
    diagrams = []
    branch = context.base_branch or "base"
    for result in _of(results, "compare"):
        rows = {row.metric: row for row in evidence.gate_rows(result)}
        series = evidence.history(result)
        for metric, points in series.items():
            head = rows[metric].head if metric in rows else None
            diagrams.append(charts.history_chart(metric, branch, points, head))
        for row in rows.values():
            if row.metric not in series and row.base is not None and row.head is not None:
                diagrams.append(charts.base_head_chart(row.metric, row.base, row.head))
    if not diagrams:
        return None
    shown = diagrams[:MAX_CHARTS]
    more = f"\n\n*{len(diagrams) - MAX_CHARTS} more charts left out.*" if len(diagrams) > MAX_CHARTS else ""
    body = details(f"charts ({len(shown)})", "\n\n".join(shown) + more)
    return Section("charts", "charts", f"### Charts\n\n{body}", 6)


def _sha(sha: str, context: ReportContext) -> str:
    short = code(sha[:7])
    return f"[{short}]({context.commit_url}{sha})" if context.commit_url else short


def footer_section(results: Sequence[StepResult], context: ReportContext) -> Section:
    commits: dict[str, str] = {}
    for result in results:
        for role, sha in result.commits.items():
            if isinstance(sha, str) and sha:
                commits.setdefault(role, sha)
    ordered = sorted(commits.items(), key=lambda item: COMMIT_ORDER.index(item[0]) if item[0] in COMMIT_ORDER else 2)
    parts = [" → ".join(f"{text(role)} {_sha(sha, context)}" for role, sha in ordered)] if commits else []
    hashes = evidence.data_hashes(list(results))
    if context.run_url:
        parts.append(f"[workflow run]({context.run_url})")
    parts.append(f"mlgate {text(__version__)}")
    footer = "<sub>" + " · ".join(part for part in parts if part) + "</sub>"
    if hashes:
        cells = [[code(path), code(digest)] for path, digest in hashes.items()]
        footer = details(f"data versions ({len(cells)})", table(["data", "hash"], cells)) + "\n\n" + footer
    return Section("footer", "footer", footer, 0)


def sections(results: Sequence[StepResult], context: ReportContext) -> list[Section]:
    """Every section, in display order."""
    candidates = [
        header_section(results, context),
        metrics_section(results),
        checks_section(results),
        changes_section(results),
        drift_section(results),
        resources_section(results),
        charts_section(results, context),
        footer_section(results, context),
    ]
    return [section for section in candidates if section is not None and section.body]


def left_out_note(context: ReportContext) -> Callable[[Sequence[str]], str]:
    def note(titles: Sequence[str]) -> str:
        where = f" of [the workflow run]({context.run_url})" if context.run_url else ""
        return (
            f"> [!NOTE]\n> Left out or cut to fit GitHub's size limit: {text(', '.join(titles))}. "
            f"The full report is in the job summary and the `mlgate-report` artifact{where}."
        )

    return note


def render(
    results: Sequence[StepResult],
    context: ReportContext,
    *,
    limit: int,
    prefix: str = "",
    measure: Callable[[str], int] = github_length,
) -> Fitted:
    """The report within `limit` characters (as `measure` counts), `prefix` (the marker) first."""
    return fit(sections(results, context), limit, left_out_note(context), prefix=prefix, measure=measure)
