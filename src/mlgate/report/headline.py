"""The first screen: the decision. One headline — the verdict and the first failing (or most at-risk) rule in
plain words — the evidence behind it on one line, and what else went wrong, counted and named once.

Also the check run's title (the same decision as plain text) and the one short phrase per step of the step
table, so that no sentence of the report appears twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.report import evidence, wording
from mlgate.report.markdown import bytes_size, code, duration, text
from mlgate.results import StepResult

ICONS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "error": "⛔", "skipped": "⏭️"}
PAST = {"fail": "failed", "warn": "warned", "error": "errored", "pass": "passed", "skipped": "skipped"}
MAX_NAMED = 5  # names listed in "also failed: …"; past that, a count


@dataclass(frozen=True)
class Reason:
    kind: str  # rule | check | step
    short: str  # inline markdown: "`accuracy` fell 9.36 pts"
    evidence: str = ""  # inline markdown: "0.98246 → 0.88889 · 95% CI … · McNemar exact p = 3.1e−5"
    name: str = ""  # what the "also" list calls it: the metric, the check, the step


def _where(result: StepResult) -> str:
    return f"{code(result.label)}: " if result.label else ""


def _finding_short(finding: evidence.Finding) -> str:
    return text(finding.check) + (f" on {code(finding.column)}" if finding.column else "")


def reasons(results: Sequence[StepResult], verdict: str) -> list[Reason]:
    """What made the verdict what it is, most important first: errored steps, then the rules and data checks
    with that verdict, else the steps' own summaries."""
    if verdict in ("pass", "skipped"):
        return []
    found: list[Reason] = []
    for result in sorted(results, key=lambda r: r.step != "compare"):  # the gate's rules lead
        if result.verdict != verdict:
            continue
        where = _where(result)
        if verdict == "error":
            found.append(Reason("step", f"{where}{code(result.step)} errored", text(result.summary), result.step))
            continue
        specific = [
            Reason("rule", where + wording.short(row), wording.evidence(row), row.metric)
            for row in evidence.gate_rows(result)
            if row.verdict == verdict
        ] + [
            Reason(
                "check",
                f"{where}data check {_finding_short(finding)} {PAST[verdict]}",
                text(finding.message),
                finding.check,
            )
            for finding in evidence.failed_findings(result)
            if finding.status.lower() == verdict
        ]
        found += specific or [Reason("step", f"{where}{code(result.step)} {PAST[verdict]}", text(result.summary))]
    return found


def most_at_risk(results: Sequence[StepResult]) -> tuple[Reason, float] | None:
    """The rule that used the largest share of its allowance (and that share), when any rule used some."""
    ranked = [
        (risk, result, row)
        for result in results
        for row in evidence.gate_rows(result)
        if (risk := wording.risk(row)) is not None and risk > 0
    ]
    if not ranked:
        return None
    share, result, row = max(ranked, key=lambda item: item[0])
    return Reason("rule", _where(result) + wording.short(row), wording.evidence(row), row.metric), share


def _rule_count(results: Sequence[StepResult]) -> int:
    return sum(len(evidence.gate_rows(result)) for result in results)


def _also(rest: Sequence[Reason], verdict: str) -> str:
    """`Also failed: 3 rules (`roc_auc`, `f1`, `log_loss`) and 1 data check (nulls).`"""
    groups: list[str] = []
    for kind, singular in (("rule", "rule"), ("check", "data check"), ("step", "step")):
        names = [reason.name for reason in rest if reason.kind == kind]
        if not names:
            continue
        shown = ", ".join(code(name) if kind != "check" else text(name) for name in names[:MAX_NAMED] if name)
        more = f", … {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
        count = f"{len(names)} {singular}{'s' if len(names) > 1 else ''}"
        groups.append(f"{count} ({shown}{more})" if shown else count)
    if not groups:
        return ""
    joined = ", ".join(groups[:-1]) + (" and " if len(groups) > 1 else "") + groups[-1]
    return f"**Also {PAST[verdict]}:** {joined}."


def headline(results: Sequence[StepResult], verdict: str, name: str) -> str:
    """The heading and at most two lines under it."""
    found = reasons(results, verdict)
    title = f"## {ICONS[verdict]} mlgate{name}: **{verdict}**"
    if found:
        first, rest = found[0], found[1:]
        lines = [f"{title} · {first.short}", ""]
        if first.evidence:
            lines += [first.evidence, ""]
        if also := _also(rest, verdict):
            lines.append(also)
        return "\n".join(lines).strip()
    rules = _rule_count(results)
    summary = f"all {rules} gate rule{'s' if rules != 1 else ''} passed" if rules else f"all steps {PAST[verdict]}"
    lines = [f"{title} · {summary}"]
    if (at_risk := most_at_risk(results)) is not None:
        risk, share = at_risk
        lines += ["", f"Closest to its limit ({share:.0%} of its allowance used): {risk.short}"]
        lines[-1] += f" · {risk.evidence}" if risk.evidence else ""
    return "\n".join(lines)


def _plain(markdown: str) -> str:
    """Inline markdown as the plain text of a check run's title (code spans and escapes removed)."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown.replace("`", "").replace("**", ""))


def check_title(results: Sequence[StepResult], verdict: str) -> str:
    """The check run's title: the verdict once, then the first reason, then how many more."""
    found = reasons(results, verdict)
    if not found:
        rules = _rule_count(results)
        return f"{verdict}: all {rules} gate rules passed" if rules else verdict
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    return _plain(f"{verdict}: {found[0].short}{more}")


def step_phrase(result: StepResult) -> str:
    """One short phrase per step for the step table; an errored step shows its message."""
    if result.verdict == "error":
        return f"error: {text(result.summary)}"
    if result.step == "compare" and (rows := evidence.gate_rows(result)):
        counts = {verdict: sum(row.verdict == verdict for row in rows) for verdict in ("fail", "warn")}
        parts = [f"{count} of {len(rows)} rules {PAST[v]}" for v, count in counts.items() if count]
        return ", ".join(parts) if parts else f"all {len(rows)} rules passed"
    if result.step == "validation":
        failed = evidence.failed_findings(result)
        drift = evidence.drift(result)
        parts = []
        if failed:
            names = sorted({finding.check for finding in failed})
            parts.append(f"{len(failed)} finding{'s' if len(failed) > 1 else ''}: {text(', '.join(names))}")
        if drift is not None:
            parts.append(f"{sum(row.drifted for row in drift.rows)} of {len(drift.rows)} columns drifted")
        return "; ".join(parts) if parts else text(result.summary)
    if result.step == "tests" and result.verdict != "skipped":
        ran = evidence.tests(result)
        outcomes = ("passed", "failed", "errors", "skipped")
        shown = [f"{ran.counts[name]} {name}" for name in outcomes if ran.counts.get(name)]
        if shown:
            return ", ".join(shown) + (f" in {duration(ran.seconds)}" if ran.seconds is not None else "")
    if result.step == "serving":
        rows = {row.metric: row for row in evidence.serving_rows(result)}
        p95, size = rows.get("serving.latency_p95_ms"), rows.get("serving.model_size_mb")
        if p95 is not None and p95.head is not None:
            moved = f"{p95.base:.3g} → {p95.head:.3g}" if p95.base is not None else f"{p95.head:.3g}"
            sized = f", model {size.head:.3g} MB" if size is not None and size.head is not None else ""
            return f"p95 latency {moved} ms{sized}"
    if result.step == "train" and result.verdict == "pass":
        used = evidence.resources(result)
        parts = [duration(used.wall_seconds), f"peak {bytes_size(used.peak_rss_bytes)}"]
        if used.wall_seconds is not None:
            return "; ".join([", ".join(parts), *evidence.train_checks(result)])
    return text(result.summary)
