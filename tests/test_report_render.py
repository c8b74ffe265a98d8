"""The report's markdown as GitHub will show it: cmark-gfm for the markdown, the real mermaid parser for charts."""

from __future__ import annotations

import re

import pytest
from bench.report_fixtures import (
    HEAD_SHA,
    bundle,
    compare_result,
    gfm_html,
    mermaid_blocks,
    parse_mermaid,
    train_result,
    validation_result,
)

from mlgate.report.annotations import annotations
from mlgate.report.fit import COMMENT_LIMIT, Section, cut_markdown, fit, github_length
from mlgate.report.marker import Marker, parse_marker
from mlgate.report.render import ReportContext, overall_verdict, render
from mlgate.results import StepResult

RUN_URL = "https://github.com/octo/demo/actions/runs/42"
CONTEXT = ReportContext(
    name="mlgate", run_url=RUN_URL, commit_url="https://github.com/octo/demo/commit/", base_branch="main"
)


def comment(results: list[StepResult], context: ReportContext = CONTEXT, limit: int = COMMENT_LIMIT) -> str:
    return render(results, context, limit=limit, prefix=f"{Marker('CI', 'mlgate')}\n").text


def tables(html: str) -> list[str]:
    return re.findall(r"<table>.*?</table>", html, re.DOTALL)


def headers(table_html: str) -> list[str]:
    return re.findall(r"<th>(.*?)</th>", table_html)


def test_verdict_comes_first_with_the_rule_that_decided_it() -> None:
    html = gfm_html(comment(bundle("fail")))
    first_heading = re.search(r"<h2>(.*?)</h2>", html)
    assert first_heading is not None
    assert first_heading.group(1) == "❌ mlgate: <strong>fail</strong> · <code>accuracy</code> fell 2.63 pts"
    evidence = html[first_heading.end() : html.index("<table>")]
    assert "0.9649 → 0.9386 · 95% CI [−4.50, −0.90] pts (paired bootstrap) · McNemar exact p = 0.004" in evidence
    assert "allowed −0.5 pts" in evidence
    assert "Also failed" not in evidence  # the only failing rule
    # The gated-metrics table follows the headline, before the step table and everything else.
    assert headers(tables(html)[0])[0] == "metric" and headers(tables(html)[2]) == ["step", "verdict", "in short"]
    assert html.index("<summary>other metrics (2)</summary>") < html.index("<th>step</th>")


def test_no_sentence_appears_twice_and_each_step_says_one_short_phrase() -> None:
    html = gfm_html(comment(bundle("fail")))
    steps = next(t for t in tables(html) if headers(t)[0] == "step")
    phrases = re.findall(r"<tr>\s*<td>(\w+)</td>\s*<td>.*?</td>\s*<td>(.*?)</td>", steps, re.DOTALL)
    assert phrases == [
        ("validation", "2 findings: nulls, pii; 1 of 3 columns drifted"),
        ("train", "12.3 s, peak 300.0 MiB"),
        ("compare", "1 of 3 rules failed, 1 of 3 rules warned"),
    ]
    sentences = [s.strip() for s in re.sub(r"<[^>]+>", " ", html).split(". ") if len(s.strip()) > 40]
    assert len(sentences) == len(set(sentences))


def test_p_values_are_honest_and_intervals_named_by_their_method() -> None:
    result = compare_result()
    rules = [dict(rule) for rule in result.evidence["rules"]]
    rules[1]["significance"] |= {"p_value": 0.0, "resamples": 2000, "test": "paired bootstrap", "paired": True}
    result = StepResult("compare", "fail", "x", result.commits, {**result.evidence, "rules": rules})
    html = gfm_html(comment([result]))
    row = re.search(r"<td><code>roc_auc</code></td>(.*?)</tr>", html, re.DOTALL)
    assert row is not None and "paired bootstrap, p &lt; 0.0005" in row.group(1) and "p = 0" not in row.group(1)
    accuracy = re.search(r"<td><code>accuracy</code></td>(.*?)</tr>", html, re.DOTALL)
    assert accuracy is not None and "95%, paired bootstrap, McNemar exact p = 0.004" in accuracy.group(1)


@pytest.mark.parametrize("verdict", ["pass", "warn", "fail"])
def test_overall_verdict_is_the_worst_step(verdict: str) -> None:
    results = bundle(verdict)
    assert overall_verdict(results) == verdict
    assert f"mlgate: <strong>{verdict}</strong>" in gfm_html(comment(results))


def test_tables_render_as_tables_with_their_columns() -> None:
    html = gfm_html(comment(bundle("fail")))
    found = {tuple(headers(table)) for table in tables(html)}
    assert ("metric", "base", "head", "Δ", "interval of Δ", "rule", "verdict") in found
    assert ("check", "column", "status", "details") in found
    assert ("param", "base", "head") in found
    assert ("column", "method", "statistic", "p-value", "threshold", "drift") in found
    metrics = next(table for table in tables(html) if headers(table)[0] == "metric" and len(headers(table)) == 7)
    accuracy_row = re.search(r"<tr>\s*<td><code>accuracy</code></td>(.*?)</tr>", metrics, re.DOTALL)
    assert accuracy_row is not None
    cells = re.findall(r"<td>(.*?)</td>", accuracy_row.group(1))
    assert cells[:3] == ["0.9649", "0.9386", "−2.63 pts"]
    assert "[−4.50, −0.90] pts" in cells[3] and "95%, paired bootstrap, McNemar exact p = 0.004" in cells[3]
    assert "fail" in cells[5]


def test_long_parts_fold_into_details_that_github_renders() -> None:
    results = [validation_result(verdict="fail", failed=30), train_result(), compare_result()]
    html = gfm_html(comment(results))
    folds = re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", html, re.DOTALL)
    summaries = [summary for summary, _ in folds]
    assert "checks (30)" in summaries and "per-column drift (3)" in summaries and "resources" in summaries
    assert not any('<pre lang="mermaid">' in body for _, body in folds)  # charts stay in view
    assert html.count('<pre lang="mermaid">') == 2  # a trend for each metric with history; no 2-point lines
    checks_fold = dict(folds)["checks (30)"]
    assert "<table>" in checks_fold and checks_fold.count("<tr>") == 31  # header + 30 rows: a table, not text
    assert html.count("<details") == html.count("</details>")


def test_every_mermaid_chart_parses_with_the_mermaid_package() -> None:
    weird = compare_result()
    weird_metrics = [dict(m) for m in weird.evidence["metrics"]]
    weird_metrics[0] |= {"metric": 'acc "quoted" [x] `tick`', "base": -0.5, "head": 1e-7}
    weird_history = {'acc "quoted" [x] `tick`': [{"sha": "f" * 40, "value": -2.5e-9}, {"sha": "e" * 40, "value": 0}]}
    weird = StepResult(
        "compare", "fail", "x", weird.commits, {**weird.evidence, "metrics": weird_metrics, "history": weird_history}
    )
    flat = compare_result(verdict="pass", history=False)
    flat_metrics = [dict(m, base=0.5, head=0.5) for m in flat.evidence["metrics"]]
    flat = StepResult("compare", "pass", "x", flat.commits, {**flat.evidence, "metrics": flat_metrics})
    markdown = "\n".join(comment(results) for results in (bundle("fail"), bundle("pass"), [weird], [flat]))
    diagrams = mermaid_blocks(markdown)
    assert len(diagrams) >= 6
    parsed = parse_mermaid(diagrams)
    failures = [(diagram, result) for diagram, result in zip(diagrams, parsed, strict=True) if not result["ok"]]
    assert not failures
    assert {result["type"] for result in parsed} == {"xychart"}


def test_a_broken_chart_is_caught_by_the_parser() -> None:
    """The check above would catch a real syntax error (and not pass on anything)."""
    parsed = parse_mermaid(["xychart-beta\n    x-axis [a, b\n    bar [1, 2]\n"])
    assert parsed[0]["ok"] is False and "Parse error" in parsed[0]["error"]


def test_user_text_cannot_break_tables_inject_html_or_mention() -> None:
    hostile = compare_result()
    rules = [dict(rule) for rule in hostile.evidence["rules"]]
    rules[0] |= {"metric": "acc|uracy `x` <script>", "reason": "see @octo/team | <img src=x onerror=1> [a](http://e)"}
    hostile = StepResult("compare", "fail", "**bold** @someone", hostile.commits, {**hostile.evidence, "rules": rules})
    html = gfm_html(comment([hostile]))
    assert "<script>" not in html and "<img" not in html
    assert '<a href="http://e">a</a>' not in html  # no crafted link text (a bare URL may still autolink)
    assert "@octo" not in html and "@someone" not in html  # a zero-width space follows every @
    metrics_table = next(t for t in tables(html) if headers(t)[:2] == ["metric", "base"])
    rows = re.findall(r"<tr>(.*?)</tr>", metrics_table, re.DOTALL)
    assert all(row.count("<td") == 7 for row in rows[1:])
    assert "<code>acc|uracy `x` &lt;script&gt;</code>" in metrics_table


def test_missing_or_mistyped_evidence_still_renders_the_verdict_and_summaries() -> None:
    odd = [
        StepResult("validation", "warn", "schema drifted", {"head": 5}, {"checks": "nope", "drift": {"columns": 3}}),
        StepResult("train", "pass", "trained", {}, {"metrics": [1, 2], "resources": None}),
        StepResult(
            "compare",
            "warn",
            "advisory rule",
            {},
            {"rules": [{"metric": None}, {"metric": "x", "base": "a", "significance": 3}]},
        ),
        StepResult("deploy", "skipped", "not a deploy run", {}, {}),
    ]
    html = gfm_html(comment(odd))
    assert "mlgate: <strong>warn</strong>" in html
    assert "schema drifted" in html and "advisory rule" in html and "not a deploy run" in html
    assert "<code>x</code>" in html  # the one metric row with a name survives


def test_without_a_comparison_the_training_metrics_are_shown() -> None:
    html = gfm_html(comment([train_result()]))
    table = next(t for t in tables(html) if headers(t) == ["metric", "value"])
    assert "<code>latency.p50_ms</code>" in table and "3.2" in table


def test_failed_training_shows_its_log_tail() -> None:
    html = gfm_html(comment([train_result(verdict="fail")]))
    assert "ValueError: boom" in html and "<details open><summary>log tail</summary>" in html


def test_training_resources_render_what_mlgate_train_records() -> None:
    """The evidence `mlgate train` writes (its RunRecord), not a hand-made shape."""
    from mlgate.adapters.monitor import GpuUsage, RunRecord

    record = RunRecord(
        command=["dvc", "repro"],
        exit_code=2,
        wall_seconds=61.5,
        cpu_seconds=90.0,
        peak_rss_bytes=3 * 2**30,
        log_tail=["epoch 1", "CUDA out of memory"],
        log_file=".mlgate/train.log",
    )
    record.gpu = GpuUsage(peak_memory_mib=2048, peak_utilization_percent=87, mean_utilization_percent=60, samples=5)
    result = StepResult("train", "fail", "training command exited with 2", {}, record.to_dict())
    html = gfm_html(comment([result]))
    assert "<code>dvc repro</code>" in html and "3.0 GiB" in html
    assert "2.0 GiB, peak 87% busy" in html
    assert "CUDA out of memory" in html and "<details open><summary>log tail</summary>" in html


def test_matrix_jobs_keep_their_labels() -> None:
    results = [compare_result(label="gpu-large"), compare_result(verdict="pass", label="cpu-small")]
    html = gfm_html(comment(results))
    assert "Metrics: base → head · <code>gpu-large</code>" in html
    assert "Metrics: base → head · <code>cpu-small</code>" in html
    assert "<th>job</th>" in html


def test_footer_has_shas_data_hashes_and_the_run_link() -> None:
    html = gfm_html(comment(bundle("fail")))
    footer = html[html.rindex("<sub>") :]
    assert f'href="https://github.com/octo/demo/commit/{"1" * 40}"' in footer
    assert footer.index("base") < footer.index("head")
    assert f'href="{RUN_URL}"' in footer
    data = html[html.index("<summary>data versions") :]
    assert "<code>data/train.csv</code></td>\n<td><code>bb22</code>" in data  # the head side of compare's diff


def test_a_200k_report_arrives_within_the_limit_with_the_pointer() -> None:
    huge = [validation_result(verdict="fail", failed=4000), train_result(), compare_result()]
    full = render(huge, CONTEXT, limit=10_000_000)
    assert github_length(full.text) > 200_000 and not full.dropped
    fitted = render(huge, CONTEXT, limit=COMMENT_LIMIT, prefix=f"{Marker('CI', 'mlgate')}\n")
    assert github_length(fitted.text) <= COMMENT_LIMIT
    assert fitted.text.startswith("<!-- mlgate:report workflow=CI name=mlgate -->")
    html = gfm_html(fitted.text)
    assert "mlgate: <strong>fail</strong>" in html and f'href="{RUN_URL}"' in html  # verdict and footer stay
    assert "Left out or cut to fit" in html and "job summary" in html and "mlgate-report" in html
    assert "data checks" in fitted.dropped or "charts" in fitted.dropped
    assert "charts" in fitted.dropped  # the least important goes first
    assert "<th>interval of Δ</th>" in html  # while the more important stays
    assert html.count("<details") == html.count("</details>")


def test_fit_cuts_an_oversized_required_section_cleanly() -> None:
    body = "## head\n\n<details><summary>x</summary>\n\n```text\n" + "line\n" * 50_000 + "```\n\n</details>"
    fitted = fit(
        [Section("a", "everything", body, 0), Section("f", "footer", "footer", 0)],
        10_000,
        lambda titles: f"> cut: {', '.join(titles)}",
    )
    assert github_length(fitted.text) <= 10_000 and fitted.dropped == ("everything",)
    assert fitted.text.rstrip().endswith("footer") and "> cut: everything" in fitted.text
    html = gfm_html(fitted.text)
    assert html.count("<details") == html.count("</details>") == 1 and "cut here to fit" in html


def test_cut_markdown_closes_an_open_fence() -> None:
    cut = cut_markdown("```\n" + "x\n" * 1000, 500)
    assert cut.count("```") == 2 and len(cut) <= 500


@pytest.mark.parametrize("workflow", ["CI", "models --> x", "a b%20c", "名前", "name=evil -->"])
def test_marker_round_trips_and_never_matches_another(workflow: str) -> None:
    marker = Marker(workflow, "mlgate")
    assert parse_marker(f"text\n{marker}\nmore") == marker
    assert str(marker).count("-->") == 1
    # The drivers look for the marker as a substring: no other workflow's or name's marker may contain it.
    assert str(Marker(workflow, "mlgate-2")) not in str(marker)
    assert str(marker) not in str(Marker(workflow, "mlgate-2"))
    assert str(Marker(workflow + "x", "mlgate")) not in str(marker)
    assert str(marker) not in str(Marker("x" + workflow, "mlgate"))


def test_annotations_come_from_located_findings_and_explicit_lists() -> None:
    result = validation_result(verdict="fail", failed=0)
    notes = [{"path": "data/schema.yml", "line": n, "level": "error", "message": f"bad {n}"} for n in range(1, 121)]
    result = StepResult("validation", "fail", "x", {"head": HEAD_SHA}, {**result.evidence, "annotations": notes})
    found = annotations([result])
    assert len(found) == 120 and found[0].level == "failure" and found[0].as_github()["end_line"] == 1


def test_the_checks_line_names_the_first_failures_and_counts_the_rest() -> None:
    text = comment([validation_result(verdict="fail", failed=9), *bundle("pass")[1:]])
    [line] = [row for row in text.splitlines() if "did not pass:" in row]
    assert line.startswith("9 did not pass: nulls on `col_0`, pii on `col_1`,")
    assert line.count(" on `col_") == 6 and line.endswith(" and 3 more.")
