"""The action surface users run with write tokens: every action.yml and workflow (templates for users, and
this repository's own) is read as data and held to the rules that keep a pull request's text out of shells
and a fork's code away from write tokens.

- No `${{ }}` inside `run:` (or github-script's `script:`): an expression is pasted into the script before
  the shell parses it, so a branch name or PR title like `a"; curl … | sh; "` runs. Values go through `env:`.
- Least privilege: every workflow declares `permissions:` (top level, or on every job); none grants
  `write-all`/`read-all`; the top level grants nothing to write (writes are per job, where they are needed).
- No `pull_request_target`; a `workflow_run` job (the fork report poster, which holds a write token) never
  checks out the triggering run's code and never persists credentials for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = sorted([*ROOT.glob("action.yml"), *ROOT.glob("actions/*/action.yml")])
WORKFLOWS = sorted(
    [
        *ROOT.glob("workflows-templates/*.yml"),
        *ROOT.glob("workflows-templates/*.yaml"),
        *ROOT.glob(".github/workflows/*.yml"),
        *ROOT.glob(".github/workflows/*.yaml"),
    ]
)
EXPRESSION = re.compile(r"\$\{\{")


def load(path: Path) -> Mapping[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); map it back so triggers are found by name.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return {("on" if key is True else key): value for key, value in data.items()}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def steps_of(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, step) for each step of a composite action or of every job of a workflow."""
    runs = document.get("runs")
    if isinstance(runs, Mapping):
        for index, step in enumerate(runs.get("steps") or []):
            yield f"runs.steps[{index}]", step
    for job_id, job in (document.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            yield f"jobs.{job_id}.steps[{index}]", step


def script_injections(document: Mapping[str, Any]) -> list[str]:
    found = []
    for where, step in steps_of(document):
        if isinstance(step.get("run"), str) and EXPRESSION.search(step["run"]):
            found.append(f"{where}.run")
        uses = str(step.get("uses", ""))
        script = (step.get("with") or {}).get("script")
        if uses.startswith("actions/github-script") and isinstance(script, str) and EXPRESSION.search(script):
            found.append(f"{where}.with.script")
    return found


def triggers(workflow: Mapping[str, Any]) -> set[str]:
    on = workflow.get("on")
    if isinstance(on, str):
        return {on}
    return set(on or ())


def test_the_surface_is_not_empty() -> None:
    """The checks below parametrize over what exists; the report action at least must be among it."""
    assert ROOT / "actions" / "report" / "action.yml" in ACTIONS


@pytest.mark.parametrize("path", [*ACTIONS, *WORKFLOWS], ids=rel)
def test_no_expression_inside_a_script(path: Path) -> None:
    assert script_injections(load(path)) == [], f"{rel(path)}: pass these values through env: instead"


def test_the_injection_check_catches_what_it_should() -> None:
    """The check itself, on the two shapes it must reject and the one it must accept."""
    bad = {
        "runs": {"steps": [{"run": 'echo "${{ github.event.pull_request.title }}"', "shell": "bash"}]},
        "jobs": {
            "x": {"steps": [{"uses": "actions/github-script@v7", "with": {"script": "f('${{ github.head_ref }}')"}}]}
        },
    }
    good = {"runs": {"steps": [{"run": 'echo "$TITLE"', "env": {"TITLE": "${{ github.event.pull_request.title }}"}}]}}
    assert script_injections(bad) == ["runs.steps[0].run", "jobs.x.steps[0].with.script"]
    assert script_injections(good) == []


@pytest.mark.parametrize("path", ACTIONS, ids=rel)
def test_action_tokens_reach_scripts_only_through_env(path: Path) -> None:
    """A token input is never echoed into an output, and the step that gets it gets it through `env:`."""
    document = load(path)
    outputs = document.get("outputs") or {}
    for name, output in outputs.items():
        assert "inputs.token" not in str(output.get("value", "")), f"{rel(path)}: output {name} exposes the token"
    for where, step in steps_of(document):
        if "inputs.token" in str(step.get("with", "")):
            continue  # handed to another action's input, which masks it the same way
        mentions = [key for key, value in (step.get("env") or {}).items() if "inputs.token" in str(value)]
        assert "inputs.token" not in str({k: v for k, v in step.items() if k != "env"}), f"{rel(path)} {where}"
        assert len(mentions) <= 1, f"{rel(path)} {where}: the token under several names: {mentions}"


def permission_problems(workflow: Mapping[str, Any]) -> list[str]:
    problems = []
    top = workflow.get("permissions")
    jobs = workflow.get("jobs") or {}
    blocks = {"(top level)": top} | {f"jobs.{job_id}": job.get("permissions") for job_id, job in jobs.items()}
    for where, block in blocks.items():
        if isinstance(block, str):
            problems.append(f"{where}: permissions: {block} (grant scopes one by one)")
    if isinstance(top, Mapping) and any(level == "write" for level in top.values()):
        problems.append("(top level): grants write to every job; grant it on the job that needs it")
    if top is None:
        problems += [f"jobs.{job_id}: no permissions" for job_id, job in jobs.items() if "permissions" not in job]
    return problems


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_workflows_declare_least_privilege(path: Path) -> None:
    assert permission_problems(load(path)) == []


def test_the_permission_check_catches_what_it_should() -> None:
    assert permission_problems({"permissions": "write-all", "jobs": {"a": {}}}) == [
        "(top level): permissions: write-all (grant scopes one by one)"
    ]
    assert permission_problems({"permissions": {"contents": "write"}, "jobs": {"a": {}}}) == [
        "(top level): grants write to every job; grant it on the job that needs it"
    ]
    assert permission_problems({"jobs": {"a": {"permissions": {}}, "b": {}}}) == ["jobs.b: no permissions"]
    assert permission_problems({"permissions": {}, "jobs": {"a": {"permissions": {"issues": "write"}}}}) == []


def privileged_checkouts(workflow: Mapping[str, Any]) -> list[str]:
    """Checkout steps of a workflow that runs with the base repository's token on a fork's behalf."""
    if not triggers(workflow) & {"workflow_run", "pull_request_target"}:
        return []
    found = []
    for where, step in steps_of(workflow):
        if str(step.get("uses", "")).startswith("actions/checkout"):
            options = step.get("with") or {}
            if "ref" in options or "repository" in options or options.get("persist-credentials") is not False:
                found.append(where)
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_untrusted_runs_get_no_write_token_and_no_fork_code(path: Path) -> None:
    workflow = load(path)
    assert "pull_request_target" not in triggers(workflow), "use pull_request + a workflow_run poster instead"
    assert privileged_checkouts(workflow) == []


def test_the_checkout_check_catches_what_it_should() -> None:
    poster = {"on": {"workflow_run": {"workflows": ["CI"]}}, "jobs": {"post": {"steps": []}}}
    poster["jobs"]["post"]["steps"] = [
        {"uses": "actions/checkout@v4", "with": {"ref": "${{ github.event.workflow_run.head_sha }}"}},
        {"uses": "actions/checkout@v4", "with": {"persist-credentials": False}},
        {"uses": "actions/checkout@v4"},
    ]
    assert privileged_checkouts(poster) == ["jobs.post.steps[0]", "jobs.post.steps[2]"]
