"""The deploy step: a gated deployment recorded as a GitHub Deployment and in the git-tag model registry.

Nothing changes anywhere until every precondition held:
 1. the ref may deploy (the default branch or a release tag, or `deploy.allowed_refs`) and the commit's gate is
    green (the `mlgate` check on GitHub; locally, the results bundle's compare verdict);
 2. the model: the one the commit pins, fetched by the md5 dvc.lock (or its .dvc file, or git) records there
    and verified (mlgate.adapters.modelfile); a mismatch stops here. The md5 goes into the tag messages, the
    Deployment's payload (`model_md5`), deploy.json (`model_file`) and the command's MLGATE_MODEL_MD5;
 3. the version: the one the commit already carries, else a new one, tagged and pushed before the deploy
    command runs so the command sees its final number (a rerun for the same commit reuses it);
 4. the Deployment (required_contexts ["mlgate"], payload: model, version, key metrics), status in_progress;
 5. the deploy command, with MLGATE_MODEL_NAME/VERSION/PATH/MD5/COMMIT, MLGATE_ENVIRONMENT and
    MLGATE_DEPLOYMENT_ID in its environment;
 6. success: the stage tag, then status success; failure: status failure with the run's log URL, no stage tag.
    When another deploy changed the stage while this one ran, its tag stands and this deploy fails, saying so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gha
from mlgate.adapters import gittags
from mlgate.config.model import Config
from mlgate.deploy.policy import (
    Gate,
    Requester,
    Rollback,
    default_allowed_refs,
    deployment_payload,
    key_metrics,
    ref_allowed,
)
from mlgate.drivers import choose_driver
from mlgate.drivers.deployments import (
    Deployment,
    DeploymentRefused,
    DeploymentRequest,
    Deployments,
    DeploymentStatus,
    GitHubDeployments,
    LocalDeployments,
)
from mlgate.drivers.github import RetryPolicy
from mlgate.drivers.outbox import Outbox
from mlgate.errors import InputError, MlgateError
from mlgate.ghcontext import GitHubContext
from mlgate.registry.plan import (
    StageChange,
    StageMoved,
    check_stage_unchanged,
    last_stage_tag,
    plan_assign,
    plan_assign_commit,
    plan_register,
    plan_rollback,
    registered_version,
)
from mlgate.registry.state import Registry
from mlgate.registry.tags import is_valid_artifact, is_valid_name
from mlgate.results import Note, StepResult, read_results_dir
from mlgate.steps.base import Project, guarded

if TYPE_CHECKING:
    from mlgate.adapters.modelfile import ModelFile

ROLLBACK_DIR = Path(".mlgate/rollback")


@dataclass(frozen=True)
class Inputs:
    """What to deploy where; None takes mlgate.yml's `deploy` value (or the default)."""

    environment: str | None = None  # deploy.environments[0]
    rollback: str | None = None  # an environment: redeploy the version it held before the current one
    reason: str | None = None  # why (recorded in the deployment payload; for rollback)
    name: str | None = None  # deploy.name: the registry artifact
    model: str | None = None  # deploy.model, relative to mlgate.yml
    deploy_command: str | None = None  # deploy.command
    environment_url: str | None = None  # deploy.environment_url
    bump: str = "patch"  # the part a new version bumps
    version: str | None = None  # an explicit version for a new registration, e.g. v1.2.0
    ref: str | None = None  # the ref being deployed; default: GITHUB_REF or the checked-out branch
    remote: str = "origin"  # where the registry tags are pushed
    push: bool = True
    gate_timeout: float = 0  # seconds to wait for the commit's mlgate check while it is missing or running
    driver: str = "auto"  # auto | github | local
    token: str | None = None  # default: GITHUB_TOKEN
    retry_budget: float = 300.0
    api_timeout: int = 15
    promote: str | None = None  # deploy this registered version (its commit's model) instead of the checkout
    preview: str | None = None  # deploy this commit (a pull request's head) as an unregistered preview
    requester: Requester | None = None  # who asked, and where (ChatOps): in the payload and the stage tag


@dataclass(frozen=True)
class Target:
    name: str
    environment: str
    model: str
    command: str | None
    environment_url: str | None
    rollback: bool


def _target(cfg: Config, inputs: Inputs) -> Target:
    name = inputs.name or cfg.deploy.name
    if name is None:
        raise cfg.error(("deploy", "name"), "is required for mlgate deploy (or pass --name)")
    if not is_valid_artifact(name):
        raise InputError(f"--name '{name}' is not a valid GTO artifact name (letters, digits, '-', '_', '/')")
    chosen, rollback = inputs.environment, inputs.rollback
    if chosen and rollback and chosen != rollback:
        raise InputError(f"--environment {chosen} and --rollback {rollback} name different environments")
    environment = rollback or chosen or (cfg.deploy.environments[0] if cfg.deploy.environments else None)
    if environment is None:
        raise InputError("--environment is required (or list deploy.environments in mlgate.yml)")
    if cfg.deploy.environments and environment not in cfg.deploy.environments:
        listed = ", ".join(cfg.deploy.environments)
        raise cfg.error(("deploy", "environments"), f"does not list '{environment}' (it lists {listed})")
    if not is_valid_name(environment):
        raise InputError(f"environment '{environment}' is not a valid stage name (letters, digits, '-', '_', '/')")
    model = inputs.model or cfg.deploy.model
    if model is None:
        raise cfg.error(("deploy", "model"), "is required for mlgate deploy (or pass --model)")
    return Target(
        name=name,
        environment=environment,
        model=model,
        command=inputs.deploy_command or cfg.deploy.command,
        environment_url=inputs.environment_url or cfg.deploy.environment_url,
        rollback=rollback is not None,
    )


def _ref(root: Path, ctx: GitHubContext, given: str | None, sha: str, patterns: tuple[str, ...]) -> str:
    """What is deployed: --ref, GITHUB_REF, the checked-out branch, or a tag at HEAD (an allowed one first)."""
    named = given or ctx.ref
    if named:
        return named if named.startswith("refs/") else f"refs/heads/{named}"
    branch = gittags.current_branch_ref(root)
    if branch:
        return branch
    tags = sorted(f"refs/tags/{t}" for t in gittags.tags_at(root, sha))
    tags.sort(key=lambda t: not ref_allowed(t, patterns))
    if tags:
        return tags[0]
    raise InputError("HEAD is detached and no tag points at it: pass --ref to say what is being deployed")


def _off_ref(root: Path, ref: str, sha: str, remote: str) -> str | None:
    """Why `sha` is not what `ref` names (a tag: its commit; a branch: a commit on it), or None. A ref this
    checkout does not have (a shallow checkout of the commit alone) cannot be checked here and is trusted."""
    local = gittags.resolve_commit(root, ref)
    if local is None and ref.startswith("refs/heads/"):
        local = gittags.resolve_commit(root, f"refs/remotes/{remote}/{ref.removeprefix('refs/heads/')}")
    if local is None:
        return None
    on_ref = local == sha if ref.startswith("refs/tags/") else gittags.is_ancestor(root, sha, local)
    return None if on_ref else f"commit {sha[:7]} is not on {ref} (at {local[:7]})"


def _remote(root: Path, remote: str, push: bool, notes: list[Note]) -> str | None:
    if not push:
        return None
    if gittags.has_remote(root, remote):
        return remote
    notes.append(Note("warning", f"this repository has no remote '{remote}': the registry tags stay local"))
    return None


def _bundle(results_dir: Path) -> list[StepResult]:
    return read_results_dir(results_dir) if results_dir.is_dir() else []


def _deployments(
    kind: str, ctx: GitHubContext, token: str | None, bundle: list[StepResult], budget: float, timeout: int
) -> Deployments:
    if kind == "local":
        return LocalDeployments(Outbox(), bundle)
    repository, token = ctx.credentials(token)
    return GitHubDeployments(
        api_url=ctx.api_url, repository=repository, token=token, policy=RetryPolicy(budget=budget), timeout=timeout
    )


def _await_gate(records: Deployments, sha: str, timeout: float) -> Gate:
    """The gate's verdict, waiting up to `timeout` seconds while it is undecided (a gate workflow started by
    the same push may still be running)."""
    deadline = time.monotonic() + timeout
    interval = min(15.0, max(1.0, timeout / 20))
    while True:
        gate = records.gate(sha)
        if not gate.pending or time.monotonic() + interval > deadline:
            return gate
        print(f"mlgate deploy: waiting for the gate: {gate.detail}", file=sys.stderr, flush=True)
        time.sleep(interval)


def _run_command(command: str | None, root: Path, variables: Mapping[str, str], notes: list[Note]) -> int:
    if command is None:
        notes.append(
            Note("notice", "no deploy.command configured: the deployment is recorded without running anything")
        )
        return 0
    with gha.group(f"deploy command: {command}"):
        return subprocess.run(
            command, shell=True, cwd=root, env={**os.environ, **variables}, stdin=subprocess.DEVNULL, check=False
        ).returncode


class Report:
    """The deploy step's result: its evidence and notes as they accumulate, then the document."""

    def __init__(self, project: Project, evidence: dict[str, Any]) -> None:
        self.project, self.evidence = project, evidence
        self.notes: list[Note] = []

    def record(self, verdict: str, summary: str, commit: str, error: Exception | None = None) -> StepResult:
        result = StepResult("deploy", verdict, summary, {"head": commit}, self.evidence, notes=tuple(self.notes))
        return dataclasses.replace(self.project.record(result), error=error)

    def finish(self, verdict: str, summary: str, commit: str) -> StepResult:
        """Record the outcome and say it: a line on success, an error annotation (stderr locally) otherwise."""
        if verdict != "pass":
            self.notes.append(Note("error", f"mlgate deploy: {summary}"))
        result = self.record(verdict, summary, commit)
        return dataclasses.replace(result, lines=(f"mlgate deploy: {summary}",)) if verdict == "pass" else result


class DeployFlow:
    """Steps 2 to 5 for one target, keeping the deployment record true to what happened."""

    def __init__(
        self,
        cfg: Config,
        target: Target,
        remote: str | None,
        records: Deployments,
        report: Report,
        ctx: GitHubContext,
        model: ModelFile,
        requester: Requester | None = None,
    ) -> None:
        self.cfg, self.target, self.root, self.remote, self.model = cfg, target, cfg.root, remote, model
        self.records, self.report, self.run_url = records, report, ctx.run_url
        self.requester = requester
        self.note = (
            f"mlgate deploy of {target.name} to {target.environment}"
            + (f": {ctx.run_url}" if ctx.run_url else "")
            + f"\nmodel {target.model} md5 {model.md5} ({model.recorded_in})"
        )
        if requester is not None:
            self.note += f"\n{requester.note}"

    def register(self, commit: str, version: str | None, bump: str) -> str:
        def plan(registry: Registry):
            now, name = int(time.time()), self.target.name
            return plan_register(registry, name, commit, now=now, version=version, bump=bump, note=self.note)

        published = gittags.publish(self.root, plan, remote=self.remote)
        self.report.evidence |= {"tags": [t.name for t in published.plan.tags], "races_lost": published.races_lost}
        return published.plan.version

    def run(self, version: str, commit: str, rollback: Rollback | None) -> StepResult:
        target, evidence = self.target, self.report.evidence
        evidence["version"] = version
        seen = last_stage_tag(gittags.read_registry(self.root), target.name, target.environment)
        metrics = key_metrics(_bundle(self.report.project.results_dir), [rule.metric for rule in self.cfg.metrics.gate])
        payload = deployment_payload(
            target.name, version, commit, metrics, rollback, uuid.uuid4().hex, self.model.md5, self.requester
        )
        what = f"{target.name} {version} to {target.environment}"
        description = f"{'Roll back' if rollback else 'Deploy'} {what}"
        request = DeploymentRequest(commit, target.environment, payload, description)
        try:
            deployment = self.records.create_deployment(request)
        except DeploymentRefused as exc:
            evidence["refused"] = exc.message
            return self.report.finish("fail", f"refused by GitHub: {exc.message}", commit)
        evidence |= {"deployment_id": deployment.id, "deployment_url": deployment.url, "payload": payload}
        try:
            return self._deploy(deployment, version, commit, rollback, seen, what)
        except Exception as exc:  # no deployment may stay "in progress" forever; the caller shows the error
            message = exc.message if isinstance(exc, MlgateError) else f"{type(exc).__name__}: {exc}"
            evidence["error"] = message
            with contextlib.suppress(Exception):  # best effort: the original error is the one to see
                self._status(deployment, "error", f"{what} failed: {message}")
            return self.report.record("error", f"{what}: {message}", commit, error=exc)

    def _status(self, deployment: Deployment, state: str, description: str, url: str | None = None) -> None:
        status = DeploymentStatus(state, description, log_url=self.run_url, environment_url=url)
        self.records.set_deployment_status(deployment, status)
        self.report.evidence.setdefault("statuses", []).append(state)

    def _deploy(
        self,
        deployment: Deployment,
        version: str,
        commit: str,
        rollback: Rollback | None,
        seen: str | None,
        what: str,
    ) -> StepResult:
        target, evidence = self.target, self.report.evidence
        self._status(deployment, "in_progress", f"Deploying {what}")
        variables = {
            "MLGATE_MODEL_NAME": target.name,
            "MLGATE_MODEL_VERSION": version,
            "MLGATE_MODEL_PATH": str(self.model.path.resolve()),
            "MLGATE_MODEL_MD5": self.model.md5,
            "MLGATE_MODEL_COMMIT": commit,
            "MLGATE_ENVIRONMENT": target.environment,
            "MLGATE_DEPLOYMENT_ID": str(deployment.id),
        }
        code = _run_command(target.command, self.root, variables, self.report.notes)
        evidence["exit_code"] = code
        if code != 0:
            self._status(deployment, "failure", f"Deploy command exited {code}: {what} not deployed")
            return self.report.finish("fail", f"the deploy command exited {code}; {what} was not deployed", commit)
        try:
            plan = self._stage_plan(version, commit, seen, rollback)
            published = gittags.publish(self.root, plan, remote=self.remote)
        except StageMoved as exc:
            self._status(deployment, "failure", f"{target.environment} changed meanwhile: {version} not recorded")
            evidence["lost_to"] = exc.message
            return self.report.finish("fail", exc.message, commit)
        evidence["tags"] = [*evidence.get("tags", []), *(t.name for t in published.plan.tags)]
        evidence["races_lost"] = evidence.get("races_lost", 0) + published.races_lost
        evidence["environment_url"] = target.environment_url
        self._status(deployment, "success", f"Deployed {what}", target.environment_url)
        verb = "rolled back" if rollback else "deployed"
        return self.report.finish("pass", f"{verb} {what} (deployment {deployment.id})", commit)

    def _stage_plan(
        self, version: str, commit: str, seen: str | None, rollback: Rollback | None
    ) -> Callable[[Registry], StageChange]:
        name, stage = self.target.name, self.target.environment

        def plan(registry: Registry) -> StageChange:
            if not check_stage_unchanged(registry, name, stage, seen, version):
                return StageChange(stage, version, commit, version, ())  # a concurrent deploy of it did it already
            now = int(time.time())
            if rollback is not None:
                return plan_rollback(registry, name, stage, now=now, note=f"{rollback.reason}\n{self.note}")
            if version == commit:  # a preview: the commit itself holds the stage, unregistered
                return plan_assign_commit(registry, name, commit, stage, now=now, note=self.note)
            return plan_assign(registry, name, version, stage, now=now, note=self.note)

        return plan


def _approved_model(cfg: Config, target: Target, commit: str, version: str | None) -> ModelFile:
    """The model `commit` pins, fetched by its recorded hash and verified: the checked-out one in the workspace
    (`version` None), another commit's (a rollback, promotion or preview) read from it into its own folder."""
    from mlgate.adapters import dvc_repo
    from mlgate.adapters.dvc_outputs import DvcReadError
    from mlgate.adapters.modelfile import approved_model

    folder = cfg.root / ROLLBACK_DIR / target.name / version if version is not None else None
    try:
        return approved_model(dvc_repo.open_project(cfg.root), cfg.resolve(target.model), commit, folder)
    except DvcReadError as exc:
        raise cfg.error(("deploy", "model"), f"file '{target.model}' {exc.reason}") from None


def run(inputs: Inputs, project: Project) -> StepResult:
    """Deploy the checked-out commit (or roll an environment back) once its gate passed; the result (pass, fail
    when refused or the deploy command failed, or error) is also deploy.json."""
    return guarded("deploy", project, lambda: _deploy(inputs, project))


def _deploy(inputs: Inputs, project: Project) -> StepResult:
    cfg = project.config
    chosen = [
        name
        for name, value in (("rollback", inputs.rollback), ("promote", inputs.promote), ("preview", inputs.preview))
        if value is not None
    ]
    if len(chosen) > 1:
        raise InputError(f"{' and '.join(chosen)} exclude each other: one deploy does one of them")
    target = _target(cfg, inputs)
    root = cfg.root
    if not gittags.is_repository(root):
        raise InputError("is not inside a git repository", file=root)
    head = gittags.resolve_commit(root, "HEAD")
    if head is None:
        raise InputError("the repository has no commit to deploy")
    ctx = project.github
    token = inputs.token or project.env.get("GITHUB_TOKEN")
    kind = choose_driver(inputs.driver, project.env, token)
    bundle = _bundle(project.results_dir)
    records = _deployments(kind, ctx, token, bundle, inputs.retry_budget, inputs.api_timeout)
    notes: list[Note] = []
    remote = _remote(root, inputs.remote, inputs.push, notes)
    if remote:
        gittags.fetch_tags(root, remote)
    default_branch = ctx.default_branch or gittags.default_branch(root, inputs.remote) or "main"
    patterns = cfg.deploy.allowed_refs or default_allowed_refs(default_branch)
    ref = _ref(root, ctx, inputs.ref, head, patterns)
    evidence: dict[str, Any] = {"model": target.name, "environment": target.environment, "ref": ref, "driver": kind}
    report = Report(project, evidence)
    report.notes += notes

    # 1. preconditions: no tag, no deployment, no command before all of them held
    if inputs.preview is None:  # a preview's commit is a pull request's head, checked by the caller (ChatOps)
        refusal = (
            f"ref {ref} may not deploy (allowed: {', '.join(patterns)})"
            if not ref_allowed(ref, patterns)
            else _off_ref(root, ref, head, inputs.remote)
        )
        if refusal:
            evidence["refused"] = refusal
            return report.finish("fail", f"refused: {refusal}", head)
    change = None
    if target.rollback:
        change = plan_rollback(gittags.read_registry(root), target.name, target.environment, now=int(time.time()))
        evidence["rollback"] = {"from_version": change.replaced, "to_version": change.version}
    elif inputs.promote is not None:
        commit = registered_version(gittags.read_registry(root), target.name, inputs.promote)
        change = StageChange(target.environment, inputs.promote, commit, None, ())
        evidence["promote"] = inputs.promote
    commit = change.commit if change else inputs.preview or head
    if change and kind == "local":  # the bundle speaks of HEAD; a registered version passed its gate before
        gate = Gate(True, f"{change.version} was registered after its gate passed")
    else:
        gate = _await_gate(records, commit, inputs.gate_timeout)
    evidence["gate"] = gate.detail
    if not gate.passed:
        evidence["refused"] = gate.detail
        return report.finish("fail", f"refused: {gate.detail}", commit)

    elsewhere = change is not None or inputs.preview is not None  # a rollback, promotion or preview
    version = change.version if change else commit
    model = _approved_model(cfg, target, commit, version if elsewhere else None)  # before any tag or deployment
    evidence["model_file"] = model.to_dict(target.model)
    flow = DeployFlow(cfg, target, remote, records, report, ctx, model, inputs.requester)
    if change is not None and target.rollback:
        reason = inputs.reason or f"rollback of {target.environment} requested"
        return flow.run(change.version, commit, Rollback(str(change.replaced), reason))
    if elsewhere:  # a promotion, or a preview: that commit's model
        return flow.run(version, commit, None)
    return flow.run(flow.register(commit, inputs.version, inputs.bump), commit, None)
