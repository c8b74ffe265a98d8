"""The report's markdown, section by section, from the results bundle (a list of StepResult).

Verdict first, then the evidence a reviewer needs to trust it: metrics base → head with intervals, what
changed (params, data), what failed in the data, drift, training cost, charts, and a footer to reproduce.
Each section is a `fit.Section` with a priority, so `fit` can drop the least useful ones to stay in limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mlgate import __version__
from mlgate.compare.datagroups import DATA, GROUPS
from mlgate.report import charts, evidence, headline, plots, timeline, wording
from mlgate.report.fit import Fitted, Section, fit, github_length
from mlgate.report.headline import ICONS
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
COMMIT_ORDER = ("base", "head")
FOLD_ROWS = 10  # tables longer than this fold into <details>
MAX_NAMED = 6  # names listed on a section's visible line; the rest are in its folded table
MAX_CHARTS = 6


@dataclass(frozen=True)
class ReportContext:
    name: str = "mlgate"
    run_url: str | None = None
    commit_url: str | None = None  # "{server}/{owner}/{repo}/commit/" to link shas
    base_branch: str | None = None
    max_plots: int = MAX_CHARTS  # DVC plots drawn; the rest are named as left out
    images: Mapping[str, str] = field(default_factory=dict)  # stored image path → the URL it was published at
    images_elsewhere: str = "not published; see the mlgate-report artifact"


def overall_verdict(results: Iterable[StepResult]) -> str:
    """The worst verdict of all steps; a bundle of only skipped steps is skipped."""
    verdicts = {result.verdict for result in results}
    return next((verdict for verdict in VERDICT_ORDER if verdict in verdicts), "skipped")


def check_title(results: Sequence[StepResult]) -> str:
    return headline.check_title(results, overall_verdict(results))


def _icon(verdict: str | None) -> str:
    key = (verdict or "").lower().replace(" ", "_")
    return f"{ICONS[key]} {text(verdict)}" if key in ICONS else text(verdict or DASH)


def _heading(result: StepResult, title: str) -> str:
    return f"### {title}" + (f" · {code(result.label)}" if result.label else "")


def _folded(summary: str, block: str, rows: int) -> str:
    return details(f"{summary} ({rows})", block) if rows > FOLD_ROWS else block


def _of(results: Sequence[StepResult], step: str) -> list[StepResult]:
    return [result for result in results if result.step == step]


def _listed(items: Sequence[str], limit: int = MAX_NAMED) -> str:
    """Already formatted items, the first `limit` shown: `a, b, c and 4 more`."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _named(names: Sequence[str]) -> str:
    """`a`, `b`, `c` and 4 more."""
    return _listed([code(name) for name in names])


def header_section(results: Sequence[StepResult], context: ReportContext) -> Section:
    verdict = overall_verdict(results)
    name = "" if context.name == "mlgate" else f" · {text(context.name)}"
    return Section("verdict", "verdict", headline.headline(results, verdict, name), 0)


def steps_section(results: Sequence[StepResult]) -> Section:
    labelled = any(result.label for result in results)
    headers = ["step", *(["job"] if labelled else []), "verdict", "in short"]
    rows = [
        [
            result.step,
            *([code(result.label or DASH)] if labelled else []),
            _icon(result.verdict),
            headline.step_phrase(result),
        ]
        for result in results
    ]
    return Section("steps", "step table", table(headers, rows), 0)


def _interval_cell(row: evidence.MetricRow) -> str:
    shown = wording.bounds(row)
    if shown is None:
        return DASH
    said = (wording.interval_label(row), wording.p_value(row, named=False), wording.seeds_p_value(row))
    note = ", ".join(part for part in said if part)
    note = note.replace(" CI,", ",", 1)  # the column says it is an interval
    return f"{shown} <sub>{note}</sub>"


def _verdict_cell(row: evidence.MetricRow) -> str:
    shown = _icon(row.verdict)
    return f"{shown} · {text(row.status)}" if row.status and row.status != row.verdict else shown


def _gated_table(rows: Sequence[evidence.MetricRow]) -> str:
    cells = [
        [
            code(row.metric),
            *wording.base_and_head(row),
            wording.delta(row),
            _interval_cell(row),
            text(row.rule) if row.rule else DASH,
            _verdict_cell(row),
        ]
        for row in rows
    ]
    return table(["metric", "base", "head", "Δ", "interval of Δ", "rule", "verdict"], cells)


def _base_note(result: StepResult) -> list[str]:
    """How the base's side was had, when it is not what the base commit holds (compare.base)."""
    base = evidence.as_mapping(result.evidence.get("base"))
    if base.get("how") != "reproduced":
        return []
    stages = " ".join(str(stage) for stage in base.get("stages") or ())
    ran = f" ({code('dvc repro ' + stages)})" if stages else ""
    return [f"*Base reproduced in CI: {text(str(base.get('reason') or ''))}{ran}.*"]


def _seeds_table(rows: Sequence[evidence.SeedRow]) -> str:
    """Each gated metric per seed (train.seeds): the head is judged on their mean, against the seeds' spread."""
    seeds = rows[0].seeds
    cells = [
        [
            code(row.metric),
            *(number(value) for value in row.values),
            number(row.mean) if row.mean is not None else DASH,
            number(row.sd) if row.sd is not None else DASH,
            f"p = {row.p_value:.3g}" if row.p_value is not None else DASH,
        ]
        for row in rows
        if row.seeds == seeds
    ]
    headers = ["metric", *(f"seed {seed}" for seed in seeds), "mean", "sd", "vs seed-to-seed variance"]
    test = text(rows[0].test) if rows[0].test else "t-test"
    lead = f"Head trained with {len(seeds)} seeds (train.seeds); each rule is judged on the mean ({test}):"
    return f"{lead}\n\n{table(headers, cells)}"


def _compare_block(result: StepResult, *, headed: bool) -> str | None:
    gated, others = evidence.gate_rows(result), evidence.other_metrics(result)
    parts = []
    if gated:
        parts.append(_folded("gated metrics", _gated_table(gated), len(gated)))
    if seeded := evidence.seed_rows(result):
        parts.append(_seeds_table(seeded))
    if others:
        cells = [[code(row.metric), *wording.base_and_head(row), wording.delta(row)] for row in others]
        block = table(["metric", "base", "head", "Δ"], cells)
        folded = details(f"other metrics ({len(cells)})", block) if gated else _folded("metrics", block, len(cells))
        parts.append(folded)
    if not parts:
        return None
    if result.evidence.get("baseline") is False:
        parts.append("*No baseline: the base commit has no metrics, so only absolute limits apply.*")
    parts += _base_note(result)
    heading = [_heading(result, "Metrics: base → head")] if headed or result.label else []
    return "\n\n".join(heading + parts)


def metrics_section(results: Sequence[StepResult]) -> Section | None:
    """The gated metrics right under the headline (no heading of their own unless matrix jobs are labelled)."""
    compares = _of(results, "compare")
    blocks = [block for result in compares if (block := _compare_block(result, headed=False))]
    if not blocks:  # no comparison (first run, or compare did not run): show what training measured
        for result in _of(results, "train"):
            values = evidence.train_metrics(result)
            if values:
                cells = [[code(name), number(value)] for name, value in values.items()]
                block = _folded("metrics", table(["metric", "value"], cells), len(cells))
                blocks.append(f"{_heading(result, 'Metrics')}\n\n{block}")
    return Section("metrics", "metrics table", "\n\n".join(blocks), 1) if blocks else None


def checks_section(results: Sequence[StepResult]) -> Section | None:
    """validate's findings, then those of the data the pipeline's stages produced (train's data.outputs)."""
    blocks = []
    titles = {"validation": "Data checks", "train": "Pipeline outputs (data.outputs)"}
    for result in [*_of(results, "validation"), *_of(results, "train")]:
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
        named = _listed([text(f.check) + (f" on {code(f.column)}" if f.column else "") for f in failed])
        line = f"{len(failed)} did not pass: {named}."
        block = details(f"checks ({len(cells)})", table(["check", "column", "status", "details"], cells))
        blocks.append(f"{_heading(result, titles[result.step])}\n\n{line}\n\n{block}")
    return Section("checks", "data checks", "\n\n".join(blocks), 2) if blocks else None


def tests_section(results: Sequence[StepResult]) -> Section | None:
    """The project's own tests: the counts on one line, then each failing test with where and why."""
    blocks = []
    for result in _of(results, "tests"):
        if result.verdict in ("skipped", "error"):
            continue  # the step table says why
        ran = evidence.tests(result)
        command = f" ({code(ran.command)})" if ran.command else ""
        line = f"{headline.step_phrase(result)}{command}."
        if ran.failures:
            cells = [
                [
                    code(failure.test),
                    code(f"{failure.path}:{failure.line}" if failure.path and failure.line else failure.path or DASH),
                    text(failure.message) if failure.message else DASH,
                ]
                for failure in ran.failures
            ]
            names = _named([failure.test.rsplit("::", 1)[-1] for failure in ran.failures])
            line += f" Failing: {names}."
            line += "\n\n" + _folded("failing tests", table(["test", "where", "message"], cells), len(cells))
        blocks.append(f"{_heading(result, 'Tests')}\n\n{line}")
    return Section("tests", "tests", "\n\n".join(blocks), 2) if blocks else None


def serving_section(results: Sequence[StepResult]) -> Section | None:
    """The serving check: the gated serving rules, then every figure of both models."""
    blocks = []
    for result in _of(results, "serving"):
        rows = evidence.serving_rows(result)
        if result.verdict == "error" or not rows:
            continue
        gated = evidence.gate_rows(result)
        shown = {row.metric for row in gated}
        cells = [
            [code(row.metric), *wording.base_and_head(row), wording.delta(row)]
            for row in rows
            if row.metric not in shown
        ]
        probe = evidence.as_text(result.evidence.get("probe")) or "built-in"
        requests = evidence.as_mapping(result.evidence.get("requests"))
        line = (
            f"{headline.step_phrase(result)} ({text(probe)} probe, {number(requests.get('head'))} requests per model,"
        )
        line += " base and head interleaved in one job)."
        parts = [line, *_base_note(result)]
        if gated:
            parts.append(_gated_table(gated))
        if cells:
            parts.append(details(f"serving figures ({len(cells)})", table(["figure", "base", "head", "Δ"], cells)))
        blocks.append(f"{_heading(result, 'Serving')}\n\n" + "\n\n".join(parts))
    return Section("serving", "serving check", "\n\n".join(blocks), 2) if blocks else None


def files_section(results: Sequence[StepResult]) -> Section | None:
    """How each file a step read came to be there (restored from git, pulled, reproduced); one line."""
    seen: dict[str, str] = {}
    for result in results:
        for item in result.evidence.get("files") or ():
            if isinstance(item, dict) and item.get("way") != "workspace" and item.get("path"):
                seen.setdefault(str(item["path"]), str(item.get("detail", item.get("way", ""))))
    if not seen:
        return None
    return Section("files", "files", "Files: " + " · ".join(f"{code(p)} {text(d)}" for p, d in seen.items()), 3)


def _change_line(rows: Sequence[evidence.Change]) -> str:
    return _listed([f"{code(row.name)} {code(row.base or DASH)} → {code(row.head or DASH)}" for row in rows], 3)


def environment_section(results: Sequence[StepResult]) -> Section | None:
    """The packages the project's requirements or lock file moved since the base (the footer has the rest)."""
    for result in _of(results, "train"):
        found = evidence.environment(result)
        if found is None or not found.moved:
            continue
        cells = [[code(row.name), code(row.base or DASH), code(row.head or DASH)] for row in found.moved]
        lead = f"{len(cells)} package{'s' if len(cells) != 1 else ''} moved in {code(found.lock or DASH)}"
        body = f"### Environment changed\n\n{lead}: {_change_line(found.moved)}."
        body += "\n\n" + _folded("packages", table(["package", "base", "head"], cells), len(cells))
        return Section("environment", "environment changes", body, 3)
    return None


def changes_section(results: Sequence[StepResult]) -> Section | None:
    blocks = []
    for result in _of(results, "compare"):
        lines, folds = [], []
        for key, title, what in (("params", "Params", "param"), ("data_versions", "Data", "data")):
            rows = evidence.changes(result.evidence.get(key))
            if not rows:
                continue
            if key == "params":
                lines.append(f"**{title}:** {_change_line(rows)}.")
                cells = [[code(row.name), code(row.base or DASH), code(row.head or DASH)] for row in rows]
                folds.append(details(f"{what} changes ({len(cells)})", table([what, "base", "head"], cells)))
                continue
            grouped = {group: [row for row in rows if (row.group or DATA) == group] for group in GROUPS}
            for group, members in grouped.items():
                if members:
                    lines.append(f"**{group.capitalize()}:** {_named([row.name for row in members])} changed.")
            cells = [
                [text(group), code(row.name), code(row.base or DASH), code(row.head or DASH)]
                for group, members in grouped.items()
                for row in members
            ]
            folds.append(details(f"{what} changes ({len(cells)})", table(["kind", what, "base", "head"], cells)))
        if lines:
            body = "  \n".join(lines) + "\n\n" + "\n\n".join(folds)
            blocks.append(f"{_heading(result, 'What changed')}\n\n{body}")
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
        drifted = [row.column for row in found.rows if row.drifted]
        share = f" ({found.share * 100:.0f}%" if found.share is not None else ""
        limit = f", limit {found.max_share * 100:.0f}%" if found.max_share is not None else ""
        limit += ")" if share else ""
        line = f"{len(drifted)} of {len(found.rows)} columns drifted{share}{limit}"
        line += f": {_named(drifted)}." if drifted else "."
        if found.sample:
            line += f" Sample: {text(found.sample)}."
        block = table(["column", "method", "statistic", "p-value", "threshold", "drift"], cells)
        body = line + "\n\n" + details(f"per-column drift ({len(cells)})", block)
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
        gpus = []
        for gpu in used.gpus:
            mib = evidence.as_number(gpu.get("peak_memory_mib"))
            memory = bytes_size(mib * 2**20 if mib is not None else None)
            utilisation = evidence.as_number(gpu.get("peak_utilization_percent"))
            shown = f"{memory}, peak {utilisation:.0f}% busy" if utilisation is not None else memory
            cells.append(["GPU (all devices)", shown])
            gpus.append(f"GPU {shown}")
        series = timeline.columns(used.timeline)
        cells += timeline.figures(series)
        command = code(used.command) if used.command else "training"
        line = f"{command} took {duration(used.wall_seconds)} ({duration(used.cpu_seconds)} CPU), "
        line += ", ".join([f"peak memory {bytes_size(used.peak_rss_bytes)}", *gpus])
        if used.exit_code not in (None, 0):
            line += f"; exited with {used.exit_code}"
        block = line + ".\n\n" + details("resources", table(["", ""], cells))
        drawn = timeline.chart(series, evidence.as_number(evidence.as_mapping(used.timeline).get("interval_seconds")))
        if drawn:
            block += "\n\n" + drawn
        if used.log_tail and result.verdict in ("fail", "error"):
            block += "\n\n" + details("log tail", fenced("text", used.log_tail), open_=True)
        blocks.append(f"{_heading(result, 'Training resources')}\n\n{block}")
    return Section("resources", "training resources", "\n\n".join(blocks), 5) if blocks else None


def charts_section(results: Sequence[StepResult], context: ReportContext) -> Section | None:
    diagrams = []
    branch = context.base_branch or "base"
    for result in _of(results, "compare"):
        rows = evidence.gate_rows(result)
        by_metric = {row.metric: row for row in rows}
        series = evidence.history(result)
        trends = {
            metric: points
            for metric, points in series.items()
            if len(points) + (metric in by_metric and by_metric[metric].head is not None) >= charts.MIN_TREND_POINTS
        }
        for metric, points in trends.items():
            head = by_metric[metric].head if metric in by_metric else None
            diagrams.append(charts.trend_chart(metric, branch, points, head))
        compact = charts.gated_chart(
            [
                charts.scored(row.metric, row.delta, row.allowed, row.direction, row.interval, row.verdict != "pass")
                for row in rows
                if row.metric not in trends and row.delta is not None and row.allowed and row.direction
            ]
        )
        if compact:
            diagrams.append(compact)
    if not diagrams:
        return None
    shown = diagrams[:MAX_CHARTS]
    more = f"\n\n*{len(diagrams) - MAX_CHARTS} more charts left out.*" if len(diagrams) > MAX_CHARTS else ""
    return Section("charts", "charts", "### Charts\n\n" + "\n\n".join(shown) + more, 6)


def gap_section(results: Sequence[StepResult]) -> Section | None:
    blocks = []
    for result in _of(results, "compare"):
        rows = evidence.records(result.evidence.get("train_test_gap"), "train")
        cells = []
        for row in rows:
            base, head = evidence.as_number(row.get("base")), evidence.as_number(row.get("head"))
            change = head - base if base is not None and head is not None else None
            flag = "⚠️ widened" if row.get("widened") is True else "✅ no"
            cells.append([code(row.get("train")), code(row.get("test")), number(base), number(head), signed(change),
                          flag])  # fmt: skip
        if cells:
            block = table(["train", "held out", "gap base", "gap head", "Δ", "widened"], cells)
            blocks.append(f"{_heading(result, 'Train–test gap')}\n\n{_folded('gaps', block, len(cells))}")
    return Section("gap", "train–test gap", "\n\n".join(blocks), 3) if blocks else None


def plots_section(results: Sequence[StepResult], context: ReportContext) -> Section | None:
    compared = _of(results, "compare")
    found = plots.blocks(compared)
    notes = [text(note) for result in compared for note in plots.plot_notes(result)]
    if not found and not notes:
        return None
    shown = found[: context.max_plots]
    rendered = [
        details(block.title, plots.render_block(block, context.images.get, context.images_elsewhere), open_=i < 2)
        for i, block in enumerate(shown)
    ]
    if len(found) > len(shown):
        left = ", ".join(code(block.title) for block in found[len(shown) :])
        notes.append(f"{len(found) - len(shown)} more plots are in the job summary and the artifact: {left}")
    body = "\n\n".join([*rendered, *(f"*{note}.*" for note in notes)])
    return Section("plots", "DVC plots", f"### Plots: base vs head\n\n{body}", 6)


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
    trained = [found for found in map(evidence.environment, _of(results, "train")) if found and found.line]
    if trained:
        footer += f"<br><sub>environment: {text(trained[0].line)}</sub>"
    if hashes:
        cells = [[code(path), code(digest)] for path, digest in hashes.items()]
        footer = details(f"data versions ({len(cells)})", table(["data", "hash"], cells)) + "\n\n" + footer
    return Section("footer", "footer", footer, 0)


def sections(results: Sequence[StepResult], context: ReportContext) -> list[Section]:
    """Every section, in display order."""
    candidates = [
        header_section(results, context),
        metrics_section(results),
        steps_section(results),
        checks_section(results),
        tests_section(results),
        serving_section(results),
        files_section(results),
        changes_section(results),
        environment_section(results),
        drift_section(results),
        gap_section(results),
        resources_section(results),
        plots_section(results, context),
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
