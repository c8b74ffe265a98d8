"""The bench's `${{ }}` engine against GitHub's documented (and the runner's implemented) semantics."""

import math

import pytest
from bench.action_errors import ExpressionError, ExpressionEvaluationError, UnsupportedExpression
from bench.gh_expressions import (
    INPUT_DEFAULT_SITE,
    OUTPUT_SITE,
    STEP_SITE,
    CaseInsensitiveDict,
    EvalContext,
    format_number,
    parse_condition,
    parse_expression,
    parse_number,
    parse_template,
    to_context_value,
)

EVENT = {
    "number": 7,
    "pull_request": {"head": {"sha": "abc123", "ref": "feature"}, "draft": False},
    "labels": [{"name": "bug"}, {"name": "Docs"}],
    "commits": [{"id": "c1", "files": ["a.py", "b.py"]}, {"id": "c2", "files": ["c.py"]}],
}


def contexts() -> dict[str, object]:
    return {
        "github": to_context_value({"event_name": "pull_request", "repository": "o/r", "event": EVENT}),
        "inputs": CaseInsensitiveDict([("mode", "fast"), ("count", "3"), ("empty", "")]),
        "steps": to_context_value({"build": {"outputs": {"path": "dist/x.whl"}, "outcome": "success"}}),
        "runner": to_context_value({"os": "Linux", "temp": "/tmp/r"}),
        "env": {"Mixed": "case-sensitive"},
    }


def evaluate(expression: str, failed: bool = False) -> object:
    return parse_expression(expression, STEP_SITE).evaluate(EvalContext(contexts(), failed=failed))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'it''s'", "it's"),
        ("1.5", 1.5),
        ("-2", -2.0),
        ("0x1F", 31.0),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(expression: str, expected: object) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Different types compare as numbers: null -> 0, booleans -> 0/1, strings parsed (junk is NaN).
        ("1 == '1'", True),
        ("'' == 0", True),
        ("null == 0", True),
        ("null == ''", True),
        ("true == 1", True),
        ("true == '1'", True),
        ("false == ''", True),
        ("'true' == true", False),
        ("'abc' == 0", False),
        ("' 0x10 ' == 16", True),
        ("NaN == NaN", False),
        # Strings compare ignoring case.
        ("'Pull_Request' == github.event_name", True),
        ("'abc' != 'ABC'", False),
        # Objects are equal only to themselves.
        ("github.event == github.event", True),
        ("fromJSON('{}') == fromJSON('{}')", False),
        ("github.event == 'Object'", False),
        # Ordering.
        ("'10' > 9", True),
        ("'a' < 'B'", True),
        ("2 >= 2", True),
        ("null <= 0", True),
        ("true > false", True),
        ("'abc' < 1", False),
        ("1 < 'abc'", False),
    ],
)
def test_loose_comparison(expression: str, expected: bool) -> None:
    assert evaluate(expression) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 && 'x'", "x"),
        ("0 && 'x'", 0.0),
        ("'' || 'fallback'", "fallback"),
        ("0 || null", None),
        ("inputs.mode == 'fast' && 'yes' || 'no'", "yes"),
        ("inputs.mode == 'slow' && 'yes' || 'no'", "no"),
        ("!inputs.empty", True),
        ("!'0'", False),
        ("true || false && false", True),
        ("(true || false) && false", False),
        ("!(1 == 2)", True),
        ("!1 == false", True),
        ("1 == 1 == true", True),
    ],
)
def test_logical_operators_return_operands_and_respect_precedence(expression: str, expected: object) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("github.event.pull_request.head.sha", "abc123"),
        ("github['event']['pull_request'].head['sha']", "abc123"),
        ("GitHub.Event.Pull_Request.HEAD.SHA", "abc123"),
        ("github.event.missing.deeper", None),
        ("github.event.labels[1].name", "Docs"),
        ("github.event.labels['1'].name", "Docs"),
        ("github.event.labels[1.7].name", "Docs"),
        ("github.event.labels[5]", None),
        ("github.event.labels[-1]", None),
        ("github.event.labels.*.name", ["bug", "Docs"]),
        ("github.event.commits.*.files.*", ["a.py", "b.py", "c.py"]),
        ("github.event.number", 7.0),
        ("steps.build.outputs.path", "dist/x.whl"),
        ("steps.absent.outputs.path", None),
        ("inputs.MODE", "fast"),
        ("runner.os", "Linux"),
        ("env.Mixed", "case-sensitive"),
        ("env.MIXED", None),
    ],
)
def test_property_access(expression: str, expected: object) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("contains('Hello World', 'WORLD')", True),
        ("contains(github.event.labels.*.name, 'docs')", True),
        ("contains(github.event.labels.*.name, 'doc')", False),
        ("contains(fromJSON('[1, 2]'), '2')", True),
        ("contains(github.event, 'bug')", False),
        ("startsWith('refs/heads/main', 'REFS/')", True),
        ("endsWith('report.MD', '.md')", True),
        ("startsWith(github.event, 'O')", False),
        ("format('{0} and {1}', 'a', 1.50)", "a and 1.5"),
        ("format('{{literal}} {0}', null)", "{literal} "),
        ("format('{1}{0}{1}', 'x', 'y')", "yxy"),
        ("join(github.event.labels.*.name, ', ')", "bug, Docs"),
        ("join(github.event.labels.*.name)", "bug,Docs"),
        ("join('single', '-')", "single"),
        ("join(github.event, '-')", ""),
        ('fromJSON(\'{"a": [1, "x"]}\').A[0]', 1.0),
        ("fromJSON('true')", True),
        ("toJSON('a\"b')", '"a\\"b"'),
        ("toJSON(1)", "1"),
    ],
)
def test_functions(expression: str, expected: object) -> None:
    assert evaluate(expression) == expected


def test_to_json_indents_like_the_runner() -> None:
    value = evaluate('toJSON(fromJSON(\'{"a": [1, "x", true, null, 0.5], "b": {}, "c": []}\'))')
    assert value == ('{\n  "a": [\n    1,\n    "x",\n    true,\n    null,\n    0.5\n  ],\n  "b": {},\n  "c": []\n}')


def test_format_evaluates_only_referenced_arguments() -> None:
    assert evaluate("format('{0}', 'ok', fromJSON('not json'))") == "ok"


@pytest.mark.parametrize(
    "expression",
    ["format('{0}')", "format('{x}', 1)", "format('a}b')", "format('{0:x}', 1)", "fromJSON('{bad')"],
)
def test_runtime_errors_fail_instead_of_guessing(expression: str) -> None:
    with pytest.raises(ExpressionEvaluationError):
        evaluate(expression)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        ("  42  ", 42.0),
        ("-1.5e2", -150.0),
        ("1.", 1.0),
        ("0xff", 255.0),
        ("0xFFFFFFFF", -1.0),
        ("0o17", 15.0),
        ("Infinity", math.inf),
        ("-infinity", -math.inf),
        ("1,000", math.nan),
        ("abc", math.nan),
    ],
)
def test_string_to_number_coercion(text: str, expected: float) -> None:
    number = parse_number(text)
    assert number == expected or (math.isnan(expected) and math.isnan(number))


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),
        (1e21, "1E+21"),
        (1e-5, "1E-05"),
        (-0.0, "-0"),
        (math.nan, "NaN"),
    ],
)
def test_numbers_print_with_the_runner_g15_format(number: float, text: str) -> None:
    assert format_number(number) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("${{ inputs.count }}", "3"),
        ("v${{ 1.0 }}-${{ inputs.mode }}-${{ null }}!", "v1-fast-!"),
        ("${{ format('}}') }}", "}"),
        ("${{ 'a}}b' }}", "a}}b"),
        ("${{ github.event }}", "Object"),
        ("${{ github.event.labels }}", "Array"),
    ],
)
def test_templates_embed_expressions_in_text(raw: str, expected: str) -> None:
    assert parse_template(raw, STEP_SITE).render(EvalContext(contexts())) == expected


def test_single_expression_template_keeps_its_type() -> None:
    assert parse_template("${{ 1 == 1 }}", STEP_SITE).evaluate(EvalContext(contexts())) is True


@pytest.mark.parametrize(
    ("condition", "failed", "expected"),
    [
        ("", False, True),
        ("", True, False),
        ("inputs.mode == 'fast'", False, True),
        ("inputs.mode == 'fast'", True, False),  # implicit success() &&
        ("${{ inputs.mode == 'fast' }}", False, True),
        ("always()", True, True),
        ("failure()", True, True),
        ("failure()", False, False),
        ("success() || inputs.mode == 'x'", True, False),
        ("!cancelled() && inputs.mode == 'fast'", True, True),
        ("cancelled()", True, False),
        # GitHub's well-known trap: text around ${{ }} makes a non-empty string, which is truthy.
        ("${{ inputs.mode }} == 'slow'", False, True),
    ],
)
def test_if_conditions(condition: str, failed: bool, expected: bool) -> None:
    value = parse_condition(condition).evaluate(EvalContext(contexts(), failed=failed))
    assert bool(value) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "foo()",
        "toYAML(1)",
        "secrets.TOKEN",
        "needs.build.outputs.x",
        "a ==",
        "'open",
        "a = b",
        "1 2",
        "(1",
        "x.1",
    ],
)
def test_invalid_expressions_are_rejected_at_load(expression: str) -> None:
    with pytest.raises(ExpressionError) as error:
        parse_expression(expression, STEP_SITE)
    assert not isinstance(error.value, UnsupportedExpression)


@pytest.mark.parametrize("expression", ["matrix.python", "strategy.job-index", "job.status", "vars.NAME"])
def test_contexts_the_bench_does_not_model_raise_unsupported(expression: str) -> None:
    with pytest.raises(UnsupportedExpression, match="not modelled"):
        parse_expression(expression, STEP_SITE)


def test_each_site_allows_only_githubs_contexts_and_functions() -> None:
    with pytest.raises(ExpressionError, match="Unrecognized named-value: 'inputs'"):
        parse_expression("inputs.x", INPUT_DEFAULT_SITE)
    with pytest.raises(ExpressionError, match="Unrecognized function: 'success'"):
        parse_expression("success()", STEP_SITE)
    with pytest.raises(ExpressionError, match="Unrecognized function: 'hashFiles'"):
        parse_expression("hashFiles('x')", OUTPUT_SITE)
    with pytest.raises(ExpressionError, match="Too many parameters"):
        parse_expression("contains('a', 'b', 'c')", STEP_SITE)


def test_unclosed_template_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="not closed"):
        parse_template("echo ${{ inputs.x", STEP_SITE)
