"""The composite-action runner executes tiny action.yml files the way GitHub's runner does."""

import hashlib
import json
import os
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from bench.action_fixtures import ActionBench
from bench.action_runner import (
    DEFAULT_TOKEN,
    ActionDefinitionError,
    ActionInputError,
    ActionTimeout,
    ExpressionError,
    UnsupportedExpression,
    load_action,
)


@pytest.fixture
def make_action(tmp_path: Path):
    """Writes an action.yml (dedented) into a fresh folder and returns the folder."""
    counter = iter(range(1000))

    def write(text: str) -> Path:
        directory = tmp_path / f"action{next(counter)}"
        directory.mkdir()
        (directory / "action.yml").write_text(textwrap.dedent(text))
        return directory

    return write


def steps_action(make_action, steps: str, header: str = "") -> Path:
    """An action whose `runs.steps` is `steps` (YAML list at column 0) after an optional header."""
    body = textwrap.indent(textwrap.dedent(steps), "    ")
    return make_action(f"name: t\ndescription: t\n{textwrap.dedent(header)}runs:\n  using: composite\n  steps:\n{body}")


# ---------------------------------------------------------------------------------------------------
# inputs


INPUTS_ACTION = """
    name: inputs
    description: inputs
    inputs:
      who:
        description: required, no default
        required: true
      token:
        description: defaults to an expression
        default: ${{ github.token }}
      repo:
        description: default mixing text and expressions
        default: repo=${{ github.repository }} os=${{ runner.os }}
      Flag:
        description: bool
        default: false
      version:
        description: a YAML number, printed like GitHub prints numbers
        default: 3.10
      word:
        description: YAML 1.2, so `on` stays a string
        default: on
      optional:
        description: nothing
    outputs:
      all:
        description: every input
        value: ${{ toJSON(inputs) }}
    runs:
      using: composite
      steps:
        - run: "true"
          shell: bash
"""


def test_inputs_defaults_and_declared_names(make_action, run_action: ActionBench) -> None:
    result = run_action(make_action(INPUTS_ACTION), {"who": "bob", "flag": True}, github={"repository": "me/x"})
    assert result.ok, result.log
    assert json.loads(result.outputs["all"]) == {
        "who": "bob",
        "token": DEFAULT_TOKEN,
        "repo": "repo=me/x os=Linux",
        "Flag": "true",
        "version": "3.1",
        "word": "on",
        "optional": "",
    }


def test_missing_required_input_is_an_error(make_action, run_action: ActionBench) -> None:
    with pytest.raises(ActionInputError, match="required input 'who'"):
        run_action(make_action(INPUTS_ACTION), {})


def test_undeclared_input_is_an_error(make_action, run_action: ActionBench) -> None:
    with pytest.raises(ActionInputError, match="input 'whom' is not declared"):
        run_action(make_action(INPUTS_ACTION), {"who": "a", "whom": "b"})


def test_input_values_must_be_scalars(make_action, run_action: ActionBench) -> None:
    with pytest.raises(ActionInputError, match="values are strings"):
        run_action(make_action(INPUTS_ACTION), {"who": ["a"]})


# ---------------------------------------------------------------------------------------------------
# expressions inside steps, outputs


def test_outputs_map_step_outputs_through_value_expressions(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - id: calc
          shell: bash
          run: |
            echo "n=41" >> "$GITHUB_OUTPUT"
            echo "label=Ready" >> "$GITHUB_OUTPUT"
            echo "Case=first" >> "$GITHUB_OUTPUT"
            echo "CASE=second" >> "$GITHUB_OUTPUT"
        """,
        header="""
        outputs:
          next:
            description: arithmetic is not a thing, but format and comparison are
            value: ${{ format('{0}+1', steps.calc.outputs.n) }}
          ready:
            description: a boolean printed as text
            value: ${{ steps.calc.outputs.label == 'READY' }}
          outcome:
            description: step status
            value: ${{ steps.calc.outcome }}/${{ steps.calc.conclusion }}
          missing:
            description: unknown step
            value: ${{ steps.nope.outputs.x }}
          case:
            description: output names ignore case, the last value wins
            value: ${{ steps.calc.outputs.case }}
        """,
    )
    result = run_action(action)
    assert result.outputs == {
        "next": "41+1",
        "ready": "true",
        "outcome": "success/success",
        "missing": "",
        "case": "second",
    }
    assert result.step("calc").outputs == {"n": "41", "label": "Ready", "Case": "first", "CASE": "second"}


def test_expressions_in_run_env_and_name(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - name: Greet ${{ inputs.who }}
          id: greet
          shell: bash
          env:
            WHO: ${{ inputs.who }}
            PR_SHA: ${{ github.event.pull_request.head.sha }}
            IS_PR: ${{ github.event_name == 'pull_request' }}
          run: echo "out=$WHO|$PR_SHA|$IS_PR|${{ runner.os }}|${{ env.CALLER }}" >> "$GITHUB_OUTPUT"
        """,
        header="""
        inputs:
          who:
            description: x
        """,
    )
    result = run_action(
        action,
        {"who": "ann"},
        env={"CALLER": "workflow"},
        event={"pull_request": {"head": {"sha": "f00"}}},
    )
    assert result.step("greet").name == "Greet ann"
    assert result.step("greet").outputs["out"] == "ann|f00|true|Linux|workflow"


def test_unsupported_expression_fails_loading(make_action) -> None:
    action = steps_action(make_action, "- run: echo ${{ matrix.python }}\n  shell: bash\n")
    with pytest.raises(UnsupportedExpression, match=r"runs.steps\[0\].run.*matrix"):
        load_action(action)


def test_unknown_function_fails_loading(make_action) -> None:
    action = steps_action(make_action, "- if: fromYAML('x')\n  run: echo\n  shell: bash\n")
    with pytest.raises(ExpressionError, match="Unrecognized function: 'fromYAML'"):
        load_action(action)


# ---------------------------------------------------------------------------------------------------
# run steps: files, environment, shells


def test_heredoc_output_keeps_lines_that_only_resemble_the_delimiter(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - id: notes
          shell: bash
          run: |
            {
              echo "body<<EOF_1"
              echo "first line with a=b and x<<y"
              echo "EOF_1 "
              echo " EOF_1"
              echo "EOF_12"
              echo ""
              echo "EOF_1"
              echo "after=plain"
            } >> "$GITHUB_OUTPUT"
        """,
    )
    result = run_action(action)
    assert result.step("notes").outputs == {
        "body": "first line with a=b and x<<y\nEOF_1 \n EOF_1\nEOF_12\n",
        "after": "plain",
    }


def test_unterminated_heredoc_fails_the_step(make_action, run_action: ActionBench) -> None:
    action = steps_action(make_action, "- shell: bash\n  run: printf 'x<<END\\nvalue\\n' >> \"$GITHUB_OUTPUT\"\n")
    result = run_action(action)
    assert not result.ok
    assert "Matching delimiter not found 'END'" in result.annotations_of("error")[0].message


def test_github_env_and_path_apply_to_later_steps(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - shell: bash
          run: |
            mkdir -p "$RUNNER_TEMP/bin1" "$RUNNER_TEMP/bin2"
            printf '#!/bin/sh\\necho tool-one\\n' > "$RUNNER_TEMP/bin1/tool"
            printf '#!/bin/sh\\necho tool-two\\n' > "$RUNNER_TEMP/bin2/tool"
            chmod +x "$RUNNER_TEMP/bin1/tool" "$RUNNER_TEMP/bin2/tool"
            echo "$RUNNER_TEMP/bin1" >> "$GITHUB_PATH"
            echo "STAGE=one" >> "$GITHUB_ENV"
            echo "CALLER=from-github-env" >> "$GITHUB_ENV"
            printf 'MULTI<<X\\nl1\\nl2\\nX\\n' >> "$GITHUB_ENV"
            test -z "${STAGE:-}"   # not visible in the step that wrote it
        - id: second
          shell: bash
          env:
            OVERRIDE: ${{ env.STAGE }}-seen
          run: |
            echo "$RUNNER_TEMP/bin2" >> "$GITHUB_PATH"
            echo "tool=$(tool)|$STAGE|$OVERRIDE|$CALLER|$MULTI" | tr '\\n' ' ' >> "$GITHUB_OUTPUT"
        - id: third
          shell: bash
          run: echo "tool=$(tool)" >> "$GITHUB_OUTPUT"
        """,
    )
    result = run_action(action, env={"CALLER": "from-workflow"})
    assert result.ok, result.log
    # The caller's env wins over $GITHUB_ENV (GitHub's precedence); a step's own env wins over both.
    assert result.step("second").outputs["tool"] == "tool-one|one|one-seen|from-workflow|l1 l2 "
    assert result.step("third").outputs["tool"] == "tool-two"
    assert result.env_after == {"STAGE": "one", "CALLER": "from-github-env", "MULTI": "l1\nl2"}
    temp = result.runner_temp
    assert result.path_after == [f"{temp}/bin2", f"{temp}/bin1"]


def test_step_summaries_are_per_step_files(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - id: a
          shell: bash
          run: |
            echo "$GITHUB_STEP_SUMMARY" > "$RUNNER_TEMP/first-summary-path"
            printf '## A\\nno trailing newline' >> "$GITHUB_STEP_SUMMARY"
        - id: quiet
          shell: bash
          run: "true"
        - id: b
          shell: bash
          run: |
            test "$(cat "$RUNNER_TEMP/first-summary-path")" != "$GITHUB_STEP_SUMMARY"
            test ! -s "$GITHUB_STEP_SUMMARY"
            echo "## B" >> "$GITHUB_STEP_SUMMARY"
        """,
    )
    result = run_action(action)
    assert result.ok, result.log
    assert [step.summary for step in result.steps] == ["## A\nno trailing newline\n", "", "## B\n"]
    assert result.summary == "## A\nno trailing newline\n## B\n"


def test_github_variables_and_event_file(make_action, run_action: ActionBench, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "host-token-must-not-leak")
    monkeypatch.setenv("RUNNER_DEBUG", "1")
    action = steps_action(
        make_action,
        """
        - id: vars
          shell: python
          run: |
            import json, os
            names = ["GITHUB_ACTION_PATH", "GITHUB_WORKSPACE", "GITHUB_EVENT_NAME", "GITHUB_REPOSITORY",
                     "GITHUB_SHA", "GITHUB_REF", "GITHUB_SERVER_URL", "GITHUB_API_URL", "GITHUB_RUN_ID",
                     "RUNNER_TEMP", "RUNNER_OS", "CI", "GITHUB_ACTIONS", "GITHUB_TOKEN", "RUNNER_DEBUG"]
            values = {name: os.environ.get(name) for name in names}
            values["event"] = json.load(open(os.environ["GITHUB_EVENT_PATH"]))
            values["cwd"] = os.getcwd()
            with open(os.environ["GITHUB_OUTPUT"], "a") as out:
                out.write("json=" + json.dumps(values) + "\\n")
        """,
    )
    event = {"number": 5, "pull_request": {"number": 5}}
    result = run_action(
        action,
        event=event,
        github={
            "repository": "acme/ml",
            "sha": "1" * 40,
            "api_url": "http://127.0.0.1:9/api",
            "run_id": "77",
        },
    )
    assert result.ok, result.log
    values = json.loads(result.step("vars").outputs["json"])
    workspace = str(run_action.workspace.resolve())
    assert values == {
        "GITHUB_ACTION_PATH": str(action.resolve()),
        "GITHUB_WORKSPACE": workspace,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REPOSITORY": "acme/ml",
        "GITHUB_SHA": "1" * 40,
        "GITHUB_REF": "refs/pull/5/merge",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "http://127.0.0.1:9/api",
        "GITHUB_RUN_ID": "77",
        "RUNNER_TEMP": str(result.runner_temp),
        "RUNNER_OS": "Linux",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": None,
        "RUNNER_DEBUG": None,
        "event": event,
        "cwd": workspace,
    }


def test_the_test_suites_virtualenv_is_not_on_the_runners_path(
    make_action, run_action: ActionBench, monkeypatch, tmp_path: Path
) -> None:
    fake_venv = tmp_path / "venv"
    (fake_venv / "bin").mkdir(parents=True)
    (fake_venv / "bin" / "only-in-venv").write_text("#!/bin/sh\necho leaked\n")
    (fake_venv / "bin" / "only-in-venv").chmod(0o755)
    monkeypatch.setenv("VIRTUAL_ENV", str(fake_venv))
    monkeypatch.setenv("PATH", f"{fake_venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    action = steps_action(
        make_action,
        """
        - id: probe
          shell: bash
          run: |
            echo "found=$(command -v only-in-venv || echo none)|${VIRTUAL_ENV:-unset}|${PYTHONPATH:-unset}" \\
              >> "$GITHUB_OUTPUT"
        """,
    )
    assert run_action(action).step("probe").outputs["found"] == "none|unset|unset"


def test_sha_defaults_to_the_workspace_head(make_action, run_action: ActionBench) -> None:
    workspace = run_action.workspace
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(workspace),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "c",
        ],
        check=True,
    )
    head = subprocess.run(["git", "-C", str(workspace), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    action = steps_action(make_action, '- id: s\n  shell: bash\n  run: echo "sha=$GITHUB_SHA" >> $GITHUB_OUTPUT\n')
    assert run_action(action).step("s").outputs["sha"] == head.strip()


@pytest.mark.parametrize(
    ("shell", "script", "ok"),
    [
        ("bash", "false | true\necho unreachable", False),  # -o pipefail
        ("bash", "false\necho unreachable", False),  # -e
        ("bash {0}", "false\necho reached", True),  # a custom template drops the default options
        ("sh", "false\necho unreachable", False),  # sh -e
        ("python", "import sys; sys.exit(0)", True),
        ("python", "raise SystemExit(4)", False),
    ],
)
def test_shells(make_action, run_action: ActionBench, shell: str, script: str, ok: bool) -> None:
    run = textwrap.indent(script, "    ")
    action = steps_action(make_action, f"- shell: {shell}\n  run: |\n{run}\n")
    result = run_action(action)
    assert result.ok is ok, result.log
    assert ("unreachable" in result.log.split("##[endgroup]")[1]) is False


def test_run_step_without_shell_is_rejected(make_action) -> None:
    with pytest.raises(ActionDefinitionError, match=r"runs.steps\[0\].*needs `shell:`"):
        load_action(steps_action(make_action, "- run: echo hi\n"))


def test_timeout_minutes_is_rejected_like_github(make_action) -> None:
    action = steps_action(make_action, "- run: echo hi\n  shell: bash\n  timeout-minutes: 1\n")
    with pytest.raises(ActionDefinitionError, match="timeout-minutes"):
        load_action(action)


def test_working_directory(make_action, run_action: ActionBench) -> None:
    (run_action.workspace / "sub" / "dir").mkdir(parents=True)
    action = steps_action(
        make_action,
        """
        - id: here
          shell: bash
          working-directory: sub/${{ 'dir' }}
          run: echo "pwd=$PWD" >> "$GITHUB_OUTPUT"
        - shell: bash
          working-directory: missing
          run: echo never
        """,
    )
    result = run_action(action)
    assert result.step("here").outputs["pwd"] == str((run_action.workspace / "sub" / "dir").resolve())
    assert not result.ok
    assert "working directory" in result.annotations_of("error")[0].message


# ---------------------------------------------------------------------------------------------------
# failures and conditions


def test_failure_skips_later_steps_unless_their_if_says_so(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - id: ok
          shell: bash
          run: echo fine
        - id: boom
          shell: bash
          run: exit 3
        - id: next
          shell: bash
          run: echo skipped
        - id: cleanup
          if: always()
          shell: bash
          run: echo "status=${{ steps.boom.outcome }}" >> "$GITHUB_OUTPUT"
        - id: on-failure
          if: failure() && steps.boom.conclusion == 'failure'
          shell: bash
          run: echo handled
        - id: guarded
          if: ${{ steps.ok.outcome == 'success' }}
          shell: bash
          run: echo implicit success() makes this skip
        """,
    )
    result = run_action(action)
    assert not result.ok
    assert [(s.id, s.outcome) for s in result.steps] == [
        ("ok", "success"),
        ("boom", "failure"),
        ("next", "skipped"),
        ("cleanup", "success"),
        ("on-failure", "success"),
        ("guarded", "skipped"),
    ]
    assert result.step("boom").exit_code == 3
    assert result.step("cleanup").outputs == {"status": "failure"}
    assert [a.message for a in result.annotations_of("error")] == ["Process completed with exit code 3."]


def test_continue_on_error(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - id: flaky
          continue-on-error: true
          shell: bash
          run: exit 1
        - id: chosen
          continue-on-error: ${{ inputs.tolerate == 'yes' }}
          shell: bash
          run: exit 2
        - id: after
          shell: bash
          run: echo "seen=${{ steps.flaky.outcome }}/${{ steps.flaky.conclusion }}" >> "$GITHUB_OUTPUT"
        """,
        header="""
        inputs:
          tolerate:
            description: x
        """,
    )
    tolerated = run_action(action, {"tolerate": "yes"})
    assert tolerated.ok, tolerated.log
    assert tolerated.step("after").outputs == {"seen": "failure/success"}
    assert run_action(action, {"tolerate": "no"}).step("after").outcome == "skipped"


def test_continue_on_error_needs_a_boolean(make_action, run_action: ActionBench) -> None:
    action = steps_action(make_action, "- continue-on-error: ${{ 'true' }}\n  shell: bash\n  run: echo\n")
    result = run_action(action)
    assert not result.ok
    assert "continue-on-error" in result.annotations_of("error")[0].message


# ---------------------------------------------------------------------------------------------------
# workflow commands: annotations, masks, groups


def test_annotations_masks_and_groups(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - id: talk
          shell: bash
          env:
            SECRET: ${{ inputs.secret }}
          run: |
            echo "before the mask: $SECRET"
            echo "::add-mask::$SECRET"
            echo "after the mask: $SECRET"
            echo "::group::Details"
            echo "::error file=src/a.py,line=3,col=5,endLine=4,title=Bad%2C really::bad: $SECRET%0Aline 2"
            echo "::endgroup::"
            echo "::warning::watch out" >&2
            echo "::notice title=FYI::note"
            echo "token ${{ github.token }}"
            echo "summary $SECRET" >> "$GITHUB_STEP_SUMMARY"
            echo "::unknown::stays a plain line"
        """,
        header="""
        inputs:
          secret:
            description: x
        """,
    )
    result = run_action(action, {"secret": "hunter2-xyz"})
    assert result.ok, result.log
    assert "before the mask: hunter2-xyz" in result.log  # masks apply to later lines only, as on GitHub
    assert "after the mask: ***" in result.log
    assert "hunter2-xyz" not in result.log.split("before the mask")[-1].split("\n", 1)[1]
    assert f"token {DEFAULT_TOKEN}" not in result.log and "token ***" in result.log
    assert "##[group]Details" in result.log and "##[endgroup]" in result.log
    assert "::unknown::stays a plain line" in result.log
    assert result.summary == "summary ***\n"
    error, warning, notice = result.annotations
    assert (error.level, error.file, error.line, error.col, error.end_line, error.title) == (
        "error",
        "src/a.py",
        3,
        5,
        4,
        "Bad, really",
    )
    assert error.message == "bad: ***\nline 2"
    assert (warning.level, warning.message, warning.step) == ("warning", "watch out", "talk")
    assert (notice.level, notice.title, notice.message) == ("notice", "FYI", "note")


def test_stop_commands_and_disabled_commands(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - shell: bash
          run: |
            echo "::stop-commands::pause-token"
            echo "::error::not an annotation while stopped"
            echo "::pause-token::"
            echo "::set-env name=X::y"
            echo "::notice::processed again"
        """,
    )
    result = run_action(action)
    assert "::error::not an annotation while stopped" in result.log
    assert [a.level for a in result.annotations] == ["error", "notice"]
    assert "`set-env` command is disabled" in result.annotations[0].message
    assert not result.ok


def test_deprecated_set_output_still_works_with_a_warning(make_action, run_action: ActionBench) -> None:
    action = steps_action(make_action, "- id: old\n  shell: bash\n  run: echo '::set-output name=v::a%0Ab'\n")
    result = run_action(action)
    assert result.step("old").outputs == {"v": "a\nb"}
    assert "`set-output` command is deprecated" in result.annotations_of("warning")[0].message


def test_yaml_scalars_become_strings_like_on_github(make_action, run_action: ActionBench) -> None:
    action = steps_action(
        make_action,
        """
        - if: false
          shell: bash
          run: echo never
        - id: env
          shell: bash
          env:
            NUMBER: 1.50
            FLAG: true
            WORD: yes
          run: echo "v=$NUMBER|$FLAG|$WORD" >> "$GITHUB_OUTPUT"
        """,
    )
    result = run_action(action)
    assert result.steps[0].outcome == "skipped"
    assert result.step("env").outputs == {"v": "1.5|true|yes"}


# ---------------------------------------------------------------------------------------------------
# uses: recorders


CACHE_ACTION = """
- id: cache
  uses: actions/cache@v4
  with:
    path: |
      .venv-cache
      ${{ runner.temp }}/tools
    key: deps-${{ inputs.key }}
    restore-keys: |
      deps-
- id: fill
  if: steps.cache.outputs.cache-hit != 'true'
  shell: bash
  run: |
    mkdir -p .venv-cache/lib "$RUNNER_TEMP/tools"
    echo "${{ inputs.key }}" > .venv-cache/lib/marker
    echo tool > "$RUNNER_TEMP/tools/t"
- shell: bash
  run: exit ${{ inputs.exit }}
"""
CACHE_HEADER = """
inputs:
  key:
    description: x
  exit:
    description: x
    default: "0"
outputs:
  hit:
    description: x
    value: ${{ steps.cache.outputs.cache-hit }}
"""


def test_cache_restores_exact_and_prefix_keys_and_saves_after_success(make_action, run_action: ActionBench) -> None:
    action = steps_action(make_action, CACHE_ACTION, CACHE_HEADER)
    marker = run_action.workspace / ".venv-cache" / "lib" / "marker"

    failed = run_action(action, {"key": "a", "exit": "1"})
    assert not failed.ok and failed.outputs["hit"] == "" and not failed.caches[0].saved  # saves on success only

    first = run_action(action, {"key": "a"})
    assert first.outputs["hit"] == ""  # a miss leaves cache-hit unset, like actions/cache
    assert first.caches[0].saved and "Cache saved with key: deps-a" in first.log

    shutil.rmtree(run_action.workspace / ".venv-cache")
    shutil.rmtree(run_action.runner_temp / "tools")
    exact = run_action(action, {"key": "a"})
    assert exact.outputs["hit"] == "true"
    assert exact.step("fill").outcome == "skipped"
    assert marker.read_text() == "a\n" and (run_action.runner_temp / "tools" / "t").exists()
    assert not exact.caches[0].saved  # an exact hit is not saved again

    prefix = run_action(action, {"key": "b"})
    assert prefix.outputs["hit"] == "false"
    assert prefix.caches[0].matched_key == "deps-a"
    assert marker.read_text() == "b\n"  # restored, then refreshed by the fill step
    assert prefix.caches[0].saved


def test_cache_is_versioned_by_its_paths(make_action, run_action: ActionBench) -> None:
    (run_action.workspace / "x").write_text("x")
    save = steps_action(make_action, "- uses: actions/cache@v4\n  with:\n    path: x\n    key: k\n")
    other_paths = steps_action(
        make_action,
        "- id: c\n  uses: actions/cache@v4\n  with:\n    path: y\n    key: k\n",
        "outputs:\n  hit:\n    description: x\n    value: ${{ steps.c.outputs.cache-hit }}\n",
    )
    assert run_action(save).caches[0].saved
    assert run_action(other_paths).outputs["hit"] == ""


UPLOAD_ACTION = """
- id: up
  uses: actions/upload-artifact@v4
  with:
    name: ${{ inputs.name }}
    path: |
      out/reports/*.md
      out/metrics
      !out/metrics/skip.json
    if-no-files-found: ${{ inputs.missing }}
    overwrite: ${{ inputs.overwrite }}
"""
UPLOAD_HEADER = """
inputs:
  name:
    description: x
  missing:
    description: x
    default: warn
  overwrite:
    description: x
    default: "false"
outputs:
  id:
    description: x
    value: ${{ steps.up.outputs.artifact-id }}
"""


def test_upload_artifact_layout_and_options(make_action, run_action: ActionBench) -> None:
    out = run_action.workspace / "out"
    (out / "reports").mkdir(parents=True)
    (out / "metrics" / "deep").mkdir(parents=True)
    (out / "reports" / "r.md").write_text("report")
    (out / "reports" / "r.txt").write_text("not matched")
    (out / "metrics" / "m.json").write_text("{}")
    (out / "metrics" / "skip.json").write_text("excluded")
    (out / "metrics" / "deep" / "d.json").write_text("[]")
    (out / "metrics" / ".hidden").write_text("hidden files are left out by default")
    action = steps_action(make_action, UPLOAD_ACTION, UPLOAD_HEADER)

    result = run_action(action, {"name": "results"})
    assert result.ok, result.log
    stored = run_action.artifacts_dir / "results"
    assert sorted(str(p.relative_to(stored)) for p in stored.rglob("*") if p.is_file()) == [
        "metrics/deep/d.json",
        "metrics/m.json",
        "reports/r.md",
    ]
    assert result.outputs["id"] == "1"

    again = run_action(action, {"name": "results"})
    assert not again.ok and "409" in again.annotations_of("error")[0].message
    assert run_action(action, {"name": "results", "overwrite": "true"}).ok

    empty = run_action.workspace / "elsewhere"
    empty.mkdir()
    warned = run_action(action, {"name": "none"}, workspace=empty)
    assert warned.ok and "No files were found" in warned.annotations_of("warning")[0].message
    assert not run_action(action, {"name": "none", "missing": "error"}, workspace=empty).ok
    assert not (run_action.artifacts_dir / "none").exists()


def test_single_file_upload_and_download(make_action, run_action: ActionBench) -> None:
    (run_action.workspace / "build").mkdir()
    (run_action.workspace / "build" / "model.pkl").write_bytes(b"\x00model")
    upload = steps_action(
        make_action,
        """
        - uses: actions/upload-artifact@v4.4.0
          with:
            name: model
            path: build/model.pkl
        - uses: actions/upload-artifact@v4
          with:
            name: notes
            path: build
        """,
    )
    assert run_action(upload).ok
    assert (run_action.artifacts_dir / "model" / "model.pkl").read_bytes() == b"\x00model"
    download = steps_action(
        make_action,
        """
        - id: one
          uses: actions/download-artifact@v4
          with:
            name: model
            path: fetched/one
        - id: all
          uses: actions/download-artifact@v4
          with:
            path: fetched/all
        - uses: actions/download-artifact@v4
          with:
            pattern: no*
            path: fetched/filtered
        - uses: actions/download-artifact@v4
          with:
            merge-multiple: true
            path: fetched/merged
        - uses: actions/download-artifact@v4
          with:
            name: absent
        """,
    )
    result = run_action(download)
    fetched = run_action.workspace / "fetched"
    assert (fetched / "one" / "model.pkl").read_bytes() == b"\x00model"
    assert (fetched / "all" / "model" / "model.pkl").exists() and (fetched / "all" / "notes" / "model.pkl").exists()
    assert result.step("one").outputs["download-path"] == str(fetched / "one")
    assert [p.name for p in (fetched / "filtered").iterdir()] == ["notes"]
    assert [p.name for p in (fetched / "merged").iterdir()] == ["model.pkl"]
    assert not result.ok
    assert "Artifact not found for name: absent" in result.annotations_of("error")[0].message


@pytest.mark.parametrize(
    ("uses", "message"),
    [
        ("actions/checkout@v4", "not allowed"),
        ("./actions/helper", "not allowed"),
        ("docker://alpine:3", "not allowed"),
        ("actions/cache@v3", "no longer run"),
        ("actions/cache@main", "pin a release tag"),
    ],
)
def test_other_uses_are_refused_naming_the_step(make_action, uses: str, message: str) -> None:
    action = steps_action(make_action, f"- run: echo\n  shell: bash\n- id: fetch\n  uses: {uses}\n")
    with pytest.raises(ActionDefinitionError, match=rf"runs.steps\[1\] \(id 'fetch'\).*{message}"):
        load_action(action)


def test_unknown_input_of_a_recorded_action_is_refused(make_action) -> None:
    action = steps_action(make_action, "- uses: actions/cache@v4\n  with:\n    key: k\n    paths: x\n")
    with pytest.raises(ActionDefinitionError, match=r"no input\(s\) \['paths'\]"):
        load_action(action)


# ---------------------------------------------------------------------------------------------------
# hashFiles, process handling


def test_hash_files_matches_githubs_digest_of_digests(make_action, run_action: ActionBench) -> None:
    workspace = run_action.workspace
    (workspace / "req").mkdir()
    (workspace / "req" / "b.txt").write_text("bbb")
    (workspace / "req" / "a.txt").write_text("aaa")
    (workspace / "req" / "skip.md").write_text("no")
    action = steps_action(
        make_action,
        """
        - id: h
          shell: bash
          run: |
            echo "v=${{ hashFiles('req/*.txt') }}" >> "$GITHUB_OUTPUT"
            echo "none=${{ hashFiles('nothing/**') }}" >> "$GITHUB_OUTPUT"
        """,
    )
    outputs = run_action(action).step("h").outputs
    digests = b"".join(hashlib.sha256(text).digest() for text in (b"aaa", b"bbb"))  # byte order of names
    assert outputs == {"v": hashlib.sha256(digests).hexdigest(), "none": ""}


def test_background_processes_do_not_hold_the_step(make_action, run_action: ActionBench) -> None:
    action = steps_action(make_action, "- shell: bash\n  run: |\n    sleep 30 &\n    echo started\n")
    started = time.monotonic()
    result = run_action(action)
    assert result.ok and "started" in result.log
    assert time.monotonic() - started < 10


def test_the_bench_timeout_kills_a_hanging_step(make_action, run_action: ActionBench) -> None:
    action = steps_action(make_action, "- shell: bash\n  run: sleep 30\n")
    started = time.monotonic()
    with pytest.raises(ActionTimeout, match="did not finish"):
        run_action(action, timeout=0.5)
    assert time.monotonic() - started < 10


def test_yaml_duplicate_keys_are_rejected(make_action) -> None:
    action = steps_action(make_action, "- run: echo\n  run: echo again\n  shell: bash\n")
    with pytest.raises(ActionDefinitionError, match="already defined"):
        load_action(action)
