"""Runs a real composite `action.yml` against a workspace the way GitHub's runner does.

    result = run_action(REPO / "actions" / "setup", {"version": "1.2"}, workspace=repo_dir)
    assert result.ok, result.log
    assert result.outputs["version"] == "1.2"

What is modelled (each pinned by tests/test_action_runner.py):
- inputs: declared names only (case-insensitive), `required:`, `default:` (may use github/runner contexts);
- expressions: the full `${{ }}` language of the runner (see bench.gh_expressions), status functions in
  `if:`, which needs no `${{ }}` and means `success() && (...)` without a status function;
- `run:` steps: bash (`bash --noprofile --norc -eo pipefail {0}`), sh (`sh -e {0}`), python, or a custom
  `cmd ... {0}` template; `working-directory`; step `env:` over the caller's env over $GITHUB_ENV values;
  fresh $GITHUB_OUTPUT/$GITHUB_ENV/$GITHUB_PATH/$GITHUB_STEP_SUMMARY/$GITHUB_STATE files per step, with
  `name=value` and `name<<DELIM` heredoc lines; the GITHUB_*/RUNNER_* variables; CI=true; the host's
  GITHUB_*/RUNNER_* variables and the test suite's own virtualenv are kept out of the steps;
- workflow commands on stdout/stderr (`::error`/`::warning`/`::notice` annotations, groups, `::add-mask::`
  masking of later log lines and summaries, `::stop-commands::`, deprecated `::set-output`);
- failure handling: a failed step makes `success()` false for later steps, `continue-on-error`;
- `uses:` of actions/cache, actions/upload-artifact and actions/download-artifact via local recorders
  (bench.action_recorders); any other `uses:` is refused when the action is loaded;
- `outputs:` mapped through their `value:` expressions after the steps.
Not modelled, and refused rather than guessed: the strategy/matrix/job/vars contexts, problem matchers,
pwsh/cmd shells, `timeout-minutes` (GitHub rejects it in composite steps too).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.action_errors import (
    ActionDefinitionError,
    ActionInputError,
    ActionRunnerError,
    ActionTimeout,
    ExpressionError,
    ExpressionEvaluationError,
    UnsupportedExpression,
)
from bench.action_recorders import CacheRecord, RecordedAction, RecorderIO, StepFailure, resolve_uses
from bench.gh_expressions import (
    INPUT_DEFAULT_SITE,
    OUTPUT_SITE,
    STEP_SITE,
    CaseInsensitiveDict,
    EvalContext,
    Node,
    Site,
    Template,
    fold_case,
    format_number,
    is_truthy,
    parse_condition,
    parse_template,
    to_context_value,
    to_str,
)
from bench.gh_glob import GlobError, hash_files
from bench.workflow_commands import (
    DEPRECATED_COMMAND,
    DISABLED_COMMAND,
    SecretMasker,
    int_property,
    parse_command,
    parse_file_command,
    split_lines,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN",
    "ActionDefinitionError",
    "ActionInputError",
    "ActionResult",
    "ActionRunnerError",
    "ActionSpec",
    "ActionTimeout",
    "Annotation",
    "CacheRecord",
    "ExpressionError",
    "ExpressionEvaluationError",
    "StepResult",
    "UnsupportedExpression",
    "load_action",
    "run_action",
]

DEFAULT_TOKEN = "ghs_0123456789abcdefghijklmnopqrstuvwxyz"
DEFAULT_TIMEOUT = 600.0
SUMMARY_LIMIT = 1024 * 1024
_DEFAULT_SHELL_ARGS = {
    "bash": "--noprofile --norc -eo pipefail {0}",
    "sh": "-e {0}",
    "python": "{0}",
}
_SCRIPT_EXTENSIONS = {"bash": ".sh", "sh": ".sh", "python": ".py"}
_STEP_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_RUN_STEP_KEYS = frozenset({"name", "id", "if", "run", "shell", "env", "working-directory", "continue-on-error"})
_USES_STEP_KEYS = frozenset({"name", "id", "if", "uses", "with", "env", "continue-on-error"})
_INPUT_KEYS = frozenset({"description", "required", "default", "deprecationMessage"})
_OUTPUT_KEYS = frozenset({"description", "value"})
_ACTION_KEYS = frozenset({"name", "author", "description", "inputs", "outputs", "runs", "branding"})
# Variables of the machine running the tests that must not leak into the simulated runner.
_HOST_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_")
_HOST_VARIABLES = frozenset({"CI", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"})
# github context keys the runner exports as GITHUB_<KEY> (its allowlist; `token` is not among them).
_EXPORTED_GITHUB_KEYS = (
    "action",
    "action_path",
    "action_ref",
    "action_repository",
    "actor",
    "actor_id",
    "api_url",
    "base_ref",
    "env",
    "event_name",
    "event_path",
    "graphql_url",
    "head_ref",
    "job",
    "output",
    "path",
    "ref",
    "ref_name",
    "ref_protected",
    "ref_type",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "retention_days",
    "run_attempt",
    "run_id",
    "run_number",
    "server_url",
    "sha",
    "state",
    "step_summary",
    "triggering_actor",
    "workflow",
    "workflow_ref",
    "workflow_sha",
    "workspace",
)
_DERIVED_GITHUB_KEYS = frozenset(
    {"event", "event_name", "event_path", "workspace", "action", "action_path"}
    | {"env", "path", "output", "state", "step_summary"}
)


# ---------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Annotation:
    """An `::error`/`::warning`/`::notice` (or a runner-generated one, e.g. a non-zero exit)."""

    level: str
    message: str
    step: str
    title: str | None = None
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    col: int | None = None
    end_column: int | None = None


@dataclass
class StepResult:
    id: str | None  # the `id:` from action.yml, None for steps without one
    name: str  # display name, as GitHub shows it
    outcome: str  # success | failure | skipped
    conclusion: str  # outcome after continue-on-error
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    log: str = ""
    exit_code: int | None = None  # run steps that started a process


@dataclass
class ActionResult:
    ok: bool
    outputs: dict[str, str]
    steps: list[StepResult]
    summary: str  # all step summaries, in order (masked like GitHub does)
    log: str  # full masked log, post steps included
    annotations: list[Annotation]
    env_after: dict[str, str]  # variables exported through $GITHUB_ENV, seen by later workflow steps
    path_after: list[str]  # directories added through $GITHUB_PATH, first one first on PATH
    caches: list[CacheRecord]
    runner_temp: Path
    artifacts_dir: Path
    cache_dir: Path
    event_path: Path

    def step(self, step_id: str) -> StepResult:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"no step with id {step_id!r}; ids: {[s.id for s in self.steps if s.id]}")

    def annotations_of(self, level: str) -> list[Annotation]:
        return [annotation for annotation in self.annotations if annotation.level == level]


# ---------------------------------------------------------------------------------------------------
# Loading action.yml


class _ActionYamlLoader(yaml.SafeLoader):
    """YAML 1.2 core scalars like GitHub's parser (`on`/`yes` stay strings); duplicate keys are errors."""

    yaml_implicit_resolvers: dict = {}  # noqa: RUF012  (PyYAML's registry, replaced for this loader)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"'{key}' is already defined", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_number(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    lowered = text.lower()
    if lowered.lstrip("+-") == ".inf":
        return float("-inf") if text.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    if text.startswith("0o"):
        return float(int(text[2:], 8))
    if text.startswith("0x"):
        return float(int(text[2:], 16))
    return float(text)


_NUMBER_TAG = "tag:mlgate.bench,2024:number"
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", ["t", "T", "f", "F"]),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_NUMBER_TAG, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (_NUMBER_TAG, r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", list("-+.0123456789")),
    (_NUMBER_TAG, r"^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$", list("-+.")),
):
    _ActionYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
_ActionYamlLoader.add_constructor(_NUMBER_TAG, _construct_number)


@dataclass(frozen=True)
class _Input:
    name: str
    default: Template | None
    required: bool
    deprecation: str | None


@dataclass(frozen=True)
class _Step:
    id: str | None
    where: str  # "runs.steps[2] (id 'x')" for messages
    context_name: str  # GITHUB_ACTION / github.action
    name: Template | None
    condition: Node
    env: tuple[tuple[str, Template], ...]
    continue_on_error: bool | Template
    run: Template | None = None
    shell: Template | None = None
    working_directory: Template | None = None
    uses: str | None = None
    recorder: RecordedAction | None = None
    with_inputs: tuple[tuple[str, Template], ...] = ()


@dataclass(frozen=True)
class ActionSpec:
    """A loaded and validated composite action."""

    path: Path
    directory: Path
    name: str
    inputs: Mapping[str, _Input]  # keyed by fold_case(name)
    outputs: tuple[tuple[str, Template], ...]
    steps: tuple[_Step, ...]

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs.values()]


def _scalar_text(value: object, where: str) -> str:
    """A YAML scalar as the string GitHub sees: numbers print like the runner's numbers (3.10 -> '3.1')."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    raise ActionDefinitionError(f"{where}: expected a string, found {type(value).__name__}")


def _mapping(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ActionDefinitionError(f"{where}: expected a mapping")
    return value


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, where: str, message: str) -> ActionDefinitionError:
        return ActionDefinitionError(f"{self.path}: {where}: {message}")

    def template(self, value: object, where: str, site: Site = STEP_SITE) -> Template:
        try:
            return parse_template(_scalar_text(value, f"{self.path}: {where}"), site)
        except UnsupportedExpression as error:
            raise UnsupportedExpression(f"{self.path}: {where}: {error}") from error
        except ExpressionError as error:
            raise ExpressionError(f"{self.path}: {where}: {error}") from error

    def load(self) -> ActionSpec:
        try:
            document = yaml.load(self.path.read_text(encoding="utf-8"), Loader=_ActionYamlLoader)
        except yaml.YAMLError as error:
            raise ActionDefinitionError(f"{self.path}: invalid YAML: {error}") from error
        root = _mapping(document, str(self.path))
        if unknown := set(root) - _ACTION_KEYS:
            raise self.error("top level", f"unknown key(s) {sorted(unknown)}")
        runs = _mapping(root.get("runs"), f"{self.path}: runs")
        if runs.get("using") != "composite":
            raise self.error("runs.using", f"the bench runs composite actions only, found {runs.get('using')!r}")
        if unknown := set(runs) - {"using", "steps"}:
            raise self.error("runs", f"unknown key(s) {sorted(unknown)} for a composite action")
        raw_steps = runs.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.error("runs.steps", "a composite action needs a non-empty list of steps")
        steps = tuple(self.step(number, raw) for number, raw in enumerate(raw_steps))
        ids = [fold_case(step.id) for step in steps if step.id]
        if duplicates := sorted({step_id for step_id in ids if ids.count(step_id) > 1}):
            raise self.error("runs.steps", f"duplicate step id(s) {duplicates} (ids ignore case)")
        return ActionSpec(
            path=self.path,
            directory=self.path.parent,
            name=_scalar_text(root.get("name"), f"{self.path}: name"),
            inputs=self.inputs(_mapping(root.get("inputs"), f"{self.path}: inputs")),
            outputs=self.outputs(_mapping(root.get("outputs"), f"{self.path}: outputs")),
            steps=steps,
        )

    def inputs(self, raw: dict) -> dict[str, _Input]:
        inputs: dict[str, _Input] = {}
        for name, spec in raw.items():
            where = f"inputs.{name}"
            spec = _mapping(spec, f"{self.path}: {where}")
            if unknown := set(spec) - _INPUT_KEYS:
                raise self.error(where, f"unknown key(s) {sorted(unknown)}")
            required = spec.get("required", False)
            if not isinstance(required, bool):
                raise self.error(f"{where}.required", f"expected true or false, found {required!r}")
            if fold_case(str(name)) in inputs:
                raise self.error(where, "declared twice (input names ignore case)")
            default = spec.get("default")
            inputs[fold_case(str(name))] = _Input(
                name=str(name),
                default=None
                if "default" not in spec
                else self.template(default, f"{where}.default", INPUT_DEFAULT_SITE),
                required=required,
                deprecation=spec.get("deprecationMessage"),
            )
        return inputs

    def outputs(self, raw: dict) -> tuple[tuple[str, Template], ...]:
        outputs = []
        for name, spec in raw.items():
            where = f"outputs.{name}"
            spec = _mapping(spec, f"{self.path}: {where}")
            if unknown := set(spec) - _OUTPUT_KEYS:
                raise self.error(where, f"unknown key(s) {sorted(unknown)}")
            if "value" not in spec:
                raise self.error(where, "outputs of a composite action need `value:`")
            outputs.append((str(name), self.template(spec["value"], f"{where}.value", OUTPUT_SITE)))
        return tuple(outputs)

    def step(self, number: int, raw: object) -> _Step:
        raw = _mapping(raw, f"{self.path}: runs.steps[{number}]")
        step_id = raw.get("id")
        where = f"runs.steps[{number}]" + (f" (id '{step_id}')" if step_id is not None else "")
        if step_id is not None and not (isinstance(step_id, str) and _STEP_ID.fullmatch(step_id)):
            raise self.error(where, "an id must start with a letter or '_' and contain only [A-Za-z0-9_-]")
        if ("run" in raw) == ("uses" in raw):
            raise self.error(where, "a step needs exactly one of `run:` and `uses:`")
        allowed = _RUN_STEP_KEYS if "run" in raw else _USES_STEP_KEYS
        if unknown := set(raw) - allowed:
            hint = " (GitHub does not support it in composite actions)" if "timeout-minutes" in unknown else ""
            raise self.error(where, f"unknown key(s) {sorted(unknown)}{hint}")
        condition_text = _scalar_text(raw.get("if", ""), f"{self.path}: {where}.if")
        try:
            condition = parse_condition(condition_text)
        except ExpressionError as error:
            raise type(error)(f"{self.path}: {where}.if: {error}") from error
        continue_on_error = raw.get("continue-on-error", False)
        common = {
            "id": step_id,
            "where": where,
            "name": self.template(raw["name"], f"{where}.name") if "name" in raw else None,
            "condition": condition,
            "env": tuple(
                (str(key), self.template(value, f"{where}.env.{key}"))
                for key, value in self.env_mapping(raw.get("env"), where).items()
            ),
            "continue_on_error": continue_on_error
            if isinstance(continue_on_error, bool)
            else self.template(continue_on_error, f"{where}.continue-on-error"),
        }
        if "run" in raw:
            if "shell" not in raw:
                raise self.error(where, "a `run:` step of a composite action needs `shell:`")
            return _Step(
                context_name=step_id or f"__run{'' if number == 0 else f'_{number + 1}'}",
                run=self.template(raw["run"], f"{where}.run"),
                shell=self.template(raw["shell"], f"{where}.shell"),
                working_directory=self.template(raw["working-directory"], f"{where}.working-directory")
                if "working-directory" in raw
                else None,
                **common,
            )
        uses = _scalar_text(raw["uses"], f"{self.path}: {where}.uses")
        try:
            recorder = resolve_uses(uses)
        except ValueError as error:
            raise self.error(where, str(error)) from error
        with_inputs = _mapping(raw.get("with"), f"{self.path}: {where}.with")
        if unknown := set(map(str, with_inputs)) - set(recorder.inputs):
            raise self.error(
                f"{where}.with",
                f"{recorder.name} has no input(s) {sorted(unknown)}; its inputs: {sorted(recorder.inputs)}",
            )
        return _Step(
            context_name=step_id or "__" + recorder.name.replace("/", "_").replace("-", "_"),
            uses=uses,
            recorder=recorder,
            with_inputs=tuple(
                (str(key), self.template(value, f"{where}.with.{key}")) for key, value in with_inputs.items()
            ),
            **common,
        )

    def env_mapping(self, raw: object, where: str) -> dict:
        if isinstance(raw, str):
            raise UnsupportedExpression(f"{self.path}: {where}.env: an env given as one expression is not modelled")
        return _mapping(raw, f"{self.path}: {where}.env")


def load_action(action: Path | str) -> ActionSpec:
    """Loads `action.yml`/`action.yaml` from a directory (or the file itself) and validates it."""
    path = Path(action)
    if path.is_dir():
        candidates = [path / "action.yml", path / "action.yaml"]
        existing = [candidate for candidate in candidates if candidate.is_file()]
        if not existing:
            raise ActionDefinitionError(f"{path}: no action.yml or action.yaml")
        path = existing[0]
    if not path.is_file():
        raise ActionDefinitionError(f"{path}: no such action file")
    return _Loader(path.resolve()).load()


# ---------------------------------------------------------------------------------------------------
# Running


def _host_environment() -> dict[str, str]:
    """The test machine's environment minus what a GitHub runner would not have: GITHUB_*/RUNNER_*...
    variables, and the test suite's own virtualenv, so an action cannot pass by using our installation."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_HOST_PREFIXES) and key not in _HOST_VARIABLES
    }
    virtualenvs = {os.environ.get("VIRTUAL_ENV"), sys.prefix if sys.prefix != sys.base_prefix else None}
    venv_bins = {os.path.join(venv, "bin") for venv in virtualenvs if venv}
    entries = environment.get("PATH", "").split(os.pathsep)
    kept = [entry for entry in entries if os.path.normpath(entry) not in venv_bins]
    environment["PATH"] = os.pathsep.join(kept)
    return environment


def _runner_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64", "i686": "X86"}.get(
        machine, "ARM" if machine.startswith("arm") else machine.upper()
    )


def _git_head(workspace: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(workspace), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _ref_name(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/", "refs/pull/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _github_context(
    event: Mapping[str, object], event_name: str, workspace: Path, extra: Mapping[str, str]
) -> dict[str, str]:
    """The github.* strings: GitHub-like defaults derived from the event, overridden by `extra`."""
    if reserved := sorted(set(extra) & _DERIVED_GITHUB_KEYS):
        raise ActionInputError(f"github context keys {reserved} are set by run_action's own parameters")
    if not_strings := sorted(key for key, value in extra.items() if not isinstance(value, str)):
        raise ActionInputError(f"github context values must be strings: {not_strings}")
    repository = event.get("repository")
    pull_request = event.get("pull_request")
    sender = event.get("sender")
    context = {
        "repository": repository.get("full_name", "octo-org/octo-repo")
        if isinstance(repository, Mapping)
        else "octo-org/octo-repo",
        "sha": _git_head(workspace) or "0" * 40,
        "actor": sender.get("login", "octocat") if isinstance(sender, Mapping) else "octocat",
        "server_url": "https://github.com",
        "api_url": "https://api.github.com",
        "graphql_url": "https://api.github.com/graphql",
        "run_id": "1",
        "run_number": "1",
        "run_attempt": "1",
        "retention_days": "90",
        "workflow": "bench",
        "job": "bench",
        "token": DEFAULT_TOKEN,
        "head_ref": "",
        "base_ref": "",
    }
    if event_name in ("pull_request", "pull_request_target") and isinstance(pull_request, Mapping):
        head, base = pull_request.get("head"), pull_request.get("base")
        context["head_ref"] = str(head.get("ref", "")) if isinstance(head, Mapping) else ""
        context["base_ref"] = str(base.get("ref", "")) if isinstance(base, Mapping) else ""
        if event_name == "pull_request":
            context["ref"] = f"refs/pull/{event.get('number', pull_request.get('number', 1))}/merge"
        else:
            context["ref"] = f"refs/heads/{context['base_ref'] or 'main'}"
    else:
        context["ref"] = str(event.get("ref", "refs/heads/main"))
    context.update(extra)
    context.setdefault("ref_name", _ref_name(context["ref"]))
    context.setdefault("ref_type", "tag" if context["ref"].startswith("refs/tags/") else "branch")
    context.setdefault("repository_owner", context["repository"].split("/")[0])
    context.setdefault("triggering_actor", context["actor"])
    return context


def _input_value(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(float(value))
    raise ActionInputError(f"input {name!r}: values are strings (or bool/number), got {type(value).__name__}")


class _StepFailed(Exception):
    """Ends the current step with outcome failure; the message becomes an error annotation."""


@dataclass
class _Run:
    """State of one run_action call (one job, from the bench's point of view)."""

    spec: ActionSpec
    workspace: Path
    runner_temp: Path
    artifacts_dir: Path
    cache_dir: Path
    event_path: Path
    github: dict[str, str]
    runner: dict[str, str]
    event: object
    caller_env: dict[str, str]
    deadline: float
    timeout: float
    inputs: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    masker: SecretMasker = field(default_factory=SecretMasker)
    global_env: dict[str, str] = field(default_factory=dict)
    prepend_path: list[str] = field(default_factory=list)
    steps_context: dict[str, CaseInsensitiveDict] = field(default_factory=dict)
    results: list[StepResult] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    caches: list[CacheRecord] = field(default_factory=list)
    posts: list[tuple[str, RecorderIO]] = field(default_factory=list)
    process_groups: list[int] = field(default_factory=list)
    failed: bool = False

    # -- contexts -----------------------------------------------------------------------------------

    def env_context(self, step_env: Mapping[str, str] | None = None) -> dict[str, str]:
        # Precedence as in the runner: $GITHUB_ENV < the calling step's env < this step's env.
        return {**self.global_env, **self.caller_env, **(step_env or {})}

    def eval_context(self, github: Mapping[str, str], env: Mapping[str, str]) -> EvalContext:
        return EvalContext(
            contexts={
                "github": to_context_value({**github, "event": self.event}),
                "runner": to_context_value(self.runner),
                "inputs": self.inputs,
                "steps": CaseInsensitiveDict(list(self.steps_context.items())),
                "env": dict(env),
            },
            failed=self.failed,
            hash_files=self.hash_files,
        )

    def hash_files(self, patterns: str, follow_symlinks: bool) -> str:
        try:
            return hash_files(patterns, self.workspace, follow_symlinks)
        except GlobError as error:
            raise ExpressionEvaluationError(f"hashFiles('{patterns}') failed: {error}") from error

    # -- inputs -------------------------------------------------------------------------------------

    def resolve_inputs(self, given: Mapping[str, object]) -> None:
        spec = self.spec
        values: dict[str, str] = {}
        for name, value in given.items():
            declared = spec.inputs.get(fold_case(name))
            if declared is None:
                raise ActionInputError(
                    f"{spec.path}: input {name!r} is not declared; the action's inputs: {spec.input_names}"
                )
            values[declared.name] = _input_value(name, value)
            if declared.deprecation:
                self.annotate("warning", f"Input '{name}' has been deprecated with message: {declared.deprecation}", "")
        ctx = self.eval_context(self.github, {})
        resolved: list[tuple[str, object]] = []
        for declared in spec.inputs.values():
            if declared.name in values:
                resolved.append((declared.name, values[declared.name]))
            elif declared.default is not None:
                resolved.append((declared.name, declared.default.render(ctx)))
            elif declared.required:
                raise ActionInputError(f"{spec.path}: required input {declared.name!r} was not given")
            else:
                resolved.append((declared.name, ""))
        self.inputs = CaseInsensitiveDict(resolved)

    # -- logging ------------------------------------------------------------------------------------

    def annotate(self, level: str, message: str, step: str, properties: Mapping[str, str] | None = None) -> None:
        properties = properties or {}
        self.annotations.append(
            Annotation(
                level=level,
                message=self.masker.mask(message),
                step=step,
                title=properties.get("title"),
                file=properties.get("file"),
                line=int_property(properties, "line"),
                end_line=int_property(properties, "endLine"),
                col=int_property(properties, "col"),
                end_column=int_property(properties, "endColumn"),
            )
        )

    # -- steps --------------------------------------------------------------------------------------

    def run_steps(self) -> None:
        for step in self.spec.steps:
            self.log.append(self.run_step(step))

    def run_step(self, step: _Step) -> str:
        files_dir = self.runner_temp / "_runner_file_commands"
        files_dir.mkdir(parents=True, exist_ok=True)
        suffix = uuid.uuid4().hex
        files = {
            kind: files_dir / f"{prefix}_{suffix}"
            for kind, prefix in (
                ("output", "set_output"),
                ("env", "set_env"),
                ("path", "add_path"),
                ("step_summary", "step_summary"),
                ("state", "save_state"),
            )
        }
        for path in files.values():
            path.write_bytes(b"")
        github = {
            **self.github,
            "action": step.context_name,
            "action_path": str(self.spec.directory),
            **{kind: str(path) for kind, path in files.items()},
        }
        label = step.id or step.where
        result = StepResult(id=step.id, name=step.where, outcome="success", conclusion="success")
        lines: list[str] = []
        continue_on_error = False
        try:
            ctx = self.eval_context(github, self.env_context())
            if not is_truthy(step.condition.evaluate(ctx)):
                result.outcome = result.conclusion = "skipped"
                result.name = self.display_name(step, ctx)
                self.finish(step, result, {})
                return ""
            step_env = {key: value.render(ctx) for key, value in step.env}
            ctx = self.eval_context(github, self.env_context(step_env))
            result.name = self.display_name(step, ctx)
            continue_on_error = self.continue_on_error(step, ctx)
            if step.recorder is not None:
                self.run_recorder(step, ctx, result, lines)
            else:
                self.run_script(step, ctx, github, step_env, result, lines)
        except (_StepFailed, ExpressionEvaluationError, StepFailure) as failure:
            lines.append(self.masker.mask(f"##[error]{failure}"))
            self.annotate("error", str(failure), label)
            result.outcome = "failure"
        try:
            outputs = self.process_file_commands(files, result)
        except ValueError as error:
            lines.append(self.masker.mask(f"##[error]Unable to process file command: {error}"))
            self.annotate("error", f"Unable to process file command: {error}", label)
            result.outcome, outputs = "failure", {}
        result.outputs.update(outputs)
        if result.outcome == "failure":
            result.conclusion = "success" if continue_on_error else "failure"
            self.failed = self.failed or not continue_on_error
        result.log = "\n".join(lines) + ("\n" if lines else "")
        self.finish(step, result, result.outputs)
        return result.log

    def finish(self, step: _Step, result: StepResult, outputs: Mapping[str, str]) -> None:
        self.results.append(result)
        if step.id:
            self.steps_context[step.id] = CaseInsensitiveDict(
                [
                    ("outputs", CaseInsensitiveDict(list(outputs.items()), replace=True)),
                    ("outcome", result.outcome),
                    ("conclusion", result.conclusion),
                ]
            )

    def display_name(self, step: _Step, ctx: EvalContext) -> str:
        if step.name is not None:
            try:
                return step.name.render(ctx)
            except ExpressionEvaluationError:
                return step.name.raw
        if step.uses:
            return f"Run {step.uses}"
        first_line = step.run.raw.strip().split("\n")[0] if step.run else ""
        return f"Run {first_line}"

    def continue_on_error(self, step: _Step, ctx: EvalContext) -> bool:
        if isinstance(step.continue_on_error, bool):
            return step.continue_on_error
        value = step.continue_on_error.evaluate(ctx)
        if not isinstance(value, bool):
            raise _StepFailed(f"Unexpected value '{to_str(value)}' for continue-on-error (expected a boolean)")
        return value

    def process_file_commands(self, files: Mapping[str, Path], result: StepResult) -> dict[str, str]:
        for name, value in parse_file_command(files["env"].read_text(encoding="utf-8"), "env").items():
            self.global_env[name] = value
        for line in re.split(r"\r\n|\r|\n", files["path"].read_text(encoding="utf-8")):
            if line:
                self.prepend_path = [entry for entry in self.prepend_path if entry != line] + [line]
        outputs = parse_file_command(files["output"].read_text(encoding="utf-8"), "output")
        summary = files["step_summary"].read_bytes()
        if len(summary) > SUMMARY_LIMIT:
            self.annotate(
                "error",
                "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of "
                f"{SUMMARY_LIMIT // 1024}k, got {len(summary) // 1024}k.",
                result.id or result.name,
            )
        elif summary:
            text = summary.decode("utf-8", errors="replace")
            result.summary = "".join(self.masker.mask(line) + "\n" for line in split_lines(text))
        return outputs

    # -- uses: recorders ----------------------------------------------------------------------------

    def run_recorder(self, step: _Step, ctx: EvalContext, result: StepResult, lines: list[str]) -> None:
        assert step.recorder is not None
        given = {key: value.render(ctx) for key, value in step.with_inputs}
        inputs = {name: given.get(name, default or "") for name, default in step.recorder.inputs.items()}
        lines.append(f"##[group]Run {step.uses}")
        lines.extend(self.masker.mask(f"  {key}: {value}") for key, value in given.items())
        lines.append("##[endgroup]")
        io = RecorderIO(
            step=step.id or step.where,
            workspace=self.workspace,
            home=Path(self.caller_env.get("HOME") or os.environ.get("HOME") or Path.home()),
            artifacts_dir=self.artifacts_dir,
            cache_dir=self.cache_dir,
            github=self.github,
            cache_records=self.caches,
        )
        try:
            step.recorder.run(inputs, io)
        finally:
            lines.extend(self.masker.mask(line) for line in io.lines)
            for warning in io.warnings:
                lines.append(self.masker.mask(f"##[warning]{warning}"))
                self.annotate("warning", warning, io.step)
            result.outputs.update(io.outputs)
        if io.post is not None:
            self.posts.append((f"Post {result.name}", io))

    def run_posts(self) -> None:
        # Post steps run at the end of the job, last registered first.
        for title, io in reversed(self.posts):
            already = len(io.lines)
            assert io.post is not None
            io.post(not self.failed)
            self.log.append(f"##[group]{title}\n##[endgroup]\n")
            self.log.extend(self.masker.mask(line) + "\n" for line in io.lines[already:])

    # -- run: scripts -------------------------------------------------------------------------------

    def run_script(
        self,
        step: _Step,
        ctx: EvalContext,
        github: Mapping[str, str],
        step_env: Mapping[str, str],
        result: StepResult,
        lines: list[str],
    ) -> None:
        assert step.run is not None and step.shell is not None
        script = step.run.render(ctx)
        env = self.process_environment(github, step_env)
        argv, extension = self.shell_command(step.shell.render(ctx), env["PATH"], step)
        working_directory = self.workspace
        if step.working_directory is not None:
            working_directory = self.workspace / step.working_directory.render(ctx)
        script_path = self.runner_temp / f"{uuid.uuid4()}{extension}"
        script_path.write_text(script, encoding="utf-8")
        argv = [part.replace("{0}", str(script_path)) for part in argv]
        lines.append(self.masker.mask(f"##[group]Run {script.splitlines()[0] if script.strip() else ''}"))
        lines.extend(self.masker.mask(line) for line in script.rstrip("\n").split("\n"))
        lines.append("##[endgroup]")
        if not working_directory.is_dir():
            raise _StepFailed(
                f"An error occurred trying to start process '{argv[0]}' with working directory "
                f"'{working_directory}'. No such file or directory"
            )
        exit_code, output = self.execute(argv, working_directory, env, step)
        result.exit_code = exit_code
        self.process_output(split_lines(output.decode("utf-8", errors="replace")), step, result, lines)
        if exit_code != 0:
            raise _StepFailed(f"Process completed with exit code {exit_code}.")

    def process_environment(self, github: Mapping[str, str], step_env: Mapping[str, str]) -> dict[str, str]:
        env = {**_host_environment(), "CI": "true", "GITHUB_ACTIONS": "true"}
        env.update(self.env_context(step_env))
        if self.prepend_path:
            env["PATH"] = os.pathsep.join([*reversed(self.prepend_path), env.get("PATH", "")])
        env.setdefault("PATH", "")
        for key in _EXPORTED_GITHUB_KEYS:
            if key in github:
                env[f"GITHUB_{key.upper()}"] = github[key]
        for key, value in self.runner.items():
            env[f"RUNNER_{key.upper()}"] = value
        return env

    def shell_command(self, shell: str, path: str, step: _Step) -> tuple[list[str], str]:
        command, _, arguments = shell.strip().partition(" ")
        arguments = arguments.strip()
        if not arguments:
            if command not in _DEFAULT_SHELL_ARGS:
                raise ActionDefinitionError(
                    f"{self.spec.path}: {step.where}: shell {shell!r} is not modelled; use bash, sh, python "
                    "or a custom template containing {0}"
                )
            arguments = _DEFAULT_SHELL_ARGS[command]
        elif "{0}" not in arguments:
            raise ActionDefinitionError(f"{self.spec.path}: {step.where}: custom shell {shell!r} lacks {{0}}")
        executable = shutil.which(command, path=path)
        if executable is None:
            raise _StepFailed(f"File not found: '{command}'")
        return [executable, *shlex.split(arguments)], _SCRIPT_EXTENSIONS.get(command, "")

    def execute(self, argv: list[str], cwd: Path, env: Mapping[str, str], step: _Step) -> tuple[int, bytes]:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.process_groups.append(process.pid)
        assert process.stdout is not None
        output = self.read_until_exit(process)
        if output is None:
            self.kill_group(process.pid)
            process.wait()
            raise ActionTimeout(
                f"{self.spec.path}: {step.where} did not finish within the bench timeout of {self.timeout}s; "
                "log so far:\n" + "".join(self.log)
            )
        process.stdout.close()
        return process.wait(), output

    def read_until_exit(self, process: subprocess.Popen) -> bytes | None:
        """All output until the process exits; None on timeout. Background children holding the pipe open
        do not keep the step running (as on GitHub)."""
        assert process.stdout is not None
        descriptor = process.stdout.fileno()
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(descriptor, selectors.EVENT_READ)
            while True:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if selector.select(min(remaining, 0.05)):
                    chunk = os.read(descriptor, 65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                elif process.poll() is not None:
                    chunks.extend(self.drain(descriptor))
                    break
        try:
            process.wait(timeout=max(self.deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            return None
        return b"".join(chunks)

    @staticmethod
    def drain(descriptor: int, max_reads: int = 64) -> list[bytes]:
        """What is already buffered in the pipe, without waiting for a writer that is still running."""
        os.set_blocking(descriptor, False)
        chunks = []
        with contextlib.suppress(BlockingIOError):
            for _ in range(max_reads):
                chunk = os.read(descriptor, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return chunks

    @staticmethod
    def kill_group(process_group: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process_group, signal.SIGKILL)

    def process_output(self, output: list[str], step: _Step, result: StepResult, lines: list[str]) -> None:
        label = step.id or step.where
        stop_token: str | None = None
        for line in output:
            if stop_token is not None:
                if line.strip() == f"::{stop_token}::":
                    stop_token = None
                else:
                    lines.append(self.masker.mask(line))
                continue
            command = parse_command(line)
            if command is None:
                lines.append(self.masker.mask(line))
                continue
            name, data = command.name, command.data
            if name == "add-mask":
                self.masker.add(data)
            elif name in ("error", "warning", "notice"):
                lines.append(self.masker.mask(f"##[{name}]{data}"))
                self.annotate(name, data, label, command.properties)
            elif name in ("group", "endgroup"):
                lines.append(self.masker.mask(f"##[{name}]{data}"))
            elif name == "stop-commands":
                stop_token = data or None
            elif name in ("set-output", "save-state"):
                message = DEPRECATED_COMMAND.format(name=name)
                lines.append(f"##[warning]{message}")
                self.annotate("warning", message, label)
                if name == "set-output" and command.properties.get("name"):
                    result.outputs[command.properties["name"]] = data
            elif name in ("set-env", "add-path"):
                # Like the runner: the command fails the step, later output is still processed.
                message = f"Unable to process command '{line.strip()}' successfully. " + DISABLED_COMMAND.format(
                    name=name
                )
                lines.append(self.masker.mask(f"##[error]{message}"))
                self.annotate("error", message, label)
                result.outcome = "failure"
            elif name in ("add-matcher", "remove-matcher"):
                raise ActionRunnerError(f"{self.spec.path}: {step.where}: problem matchers are not modelled")
            # debug and echo only change what GitHub prints with step debugging enabled.

    # -- outputs ------------------------------------------------------------------------------------

    def action_outputs(self) -> dict[str, str]:
        ctx = self.eval_context(self.github, self.env_context())
        outputs: dict[str, str] = {}
        for name, template in self.spec.outputs:
            try:
                outputs[name] = template.render(ctx)
            except ExpressionEvaluationError as error:
                self.annotate("error", f"outputs.{name}: {error}", "")
                self.failed = True
        return outputs


def _bench_dirs(
    runner_temp: Path | None, artifacts_dir: Path | None, cache_dir: Path | None
) -> tuple[Path, Path, Path, Path]:
    """Runner temp, tool cache, artifacts and cache dirs; missing ones go under one fresh temp dir."""
    fresh_root: list[Path] = []

    def fresh(name: str) -> Path:
        if not fresh_root:
            fresh_root.append(Path(tempfile.mkdtemp(prefix="action-bench-")))
        return fresh_root[0] / name

    temp = runner_temp or fresh("_temp")
    directories = (
        temp,
        temp.parent / "_tool",
        artifacts_dir or fresh("_artifacts"),
        cache_dir or fresh("_cache"),
    )
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
    resolved = [directory.resolve() for directory in directories]
    return resolved[0], resolved[1], resolved[2], resolved[3]


def run_action(
    action_dir: Path | str,
    inputs: Mapping[str, object],
    *,
    workspace: Path | str,
    env: Mapping[str, str] | None = None,
    event: Mapping[str, object] | None = None,
    event_name: str = "pull_request",
    github: Mapping[str, str] | None = None,
    runner_temp: Path | None = None,
    artifacts_dir: Path | None = None,
    cache_dir: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ActionResult:
    """Runs the composite action in `action_dir` (a folder with action.yml, or the file) as one job step.

    `inputs`: the step's `with:` (strings; bools and numbers are converted like YAML scalars).
    `env`: the calling step's env (workflow + job + step `env:`), case-sensitive.
    `event`: the webhook payload (github.event, written to $GITHUB_EVENT_PATH); `event_name` its name.
    `github`: extra or overriding github.* strings (repository, sha, ref, server_url, api_url, run_id,
    token, actor...). Defaults: repository octo-org/octo-repo, sha = the workspace's git HEAD,
    ref from the event, token DEFAULT_TOKEN (masked in logs, as GitHub masks its token).
    `runner_temp`, `artifacts_dir`, `cache_dir`: bench state; share them between calls to model one job
    (runner temp) or one workflow run (artifacts) or the repository's cache; missing ones are fresh.
    `timeout`: wall-clock seconds for the whole run; exceeding it kills the step and raises ActionTimeout.
    Raises ActionDefinitionError / ExpressionError / UnsupportedExpression for an action.yml the bench
    refuses, ActionInputError for a bad call; a failing action is a result with ok=False.
    """
    spec = load_action(action_dir)
    workspace_path = Path(workspace).resolve()
    if not workspace_path.is_dir():
        raise ActionInputError(f"workspace {workspace_path} is not a directory")
    temp, tool_cache, artifacts, caches = _bench_dirs(runner_temp, artifacts_dir, cache_dir)
    payload = dict(event or {})
    event_path = temp / "_github_workflow" / "event.json"
    event_path.parent.mkdir(parents=True, exist_ok=True)
    event_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    context = _github_context(payload, event_name, workspace_path, github or {})
    context.update(
        event_name=event_name,
        event_path=str(event_path),
        workspace=str(workspace_path),
        action_path=str(spec.directory),
    )
    caller_env = dict(env or {})
    if bad := sorted(key for key, value in caller_env.items() if not isinstance(value, str)):
        raise ActionInputError(f"env values must be strings: {bad}")
    run = _Run(
        spec=spec,
        workspace=workspace_path,
        runner_temp=temp,
        artifacts_dir=artifacts,
        cache_dir=caches,
        event_path=event_path,
        github=context,
        runner={
            "os": "Linux",
            "arch": _runner_arch(),
            "name": "bench",
            "temp": str(temp),
            "tool_cache": str(tool_cache),
            "environment": "github-hosted",
        },
        event=payload,
        caller_env=caller_env,
        deadline=time.monotonic() + timeout,
        timeout=timeout,
    )
    run.masker.add(context["token"])
    run.resolve_inputs(inputs)
    try:
        run.run_steps()
        outputs = run.action_outputs()
        run.run_posts()
    finally:
        for group in run.process_groups:
            run.kill_group(group)  # GitHub cleans up orphan processes when the job ends
    return ActionResult(
        ok=not run.failed,
        outputs=outputs,
        steps=run.results,
        summary="".join(step.summary for step in run.results),
        log="".join(run.log),
        annotations=run.annotations,
        env_after=dict(run.global_env),
        path_after=list(reversed(run.prepend_path)),
        caches=run.caches,
        runner_temp=temp,
        artifacts_dir=artifacts,
        cache_dir=caches,
        event_path=event_path,
    )
