"""The chatops step: answer one `/mlgate <command>` comment (an `issue_comment` event), once.

1. The comment's command, parsed strictly (`mlgate.chatops.commands`); a comment without one is left alone.
2. Idempotency: the reactions this token's identity left on the comment. GitHub keeps one reaction per user
   and content and says whether a POST created it (201) or found it (200), atomically, so `eyes` (accepted)
   or `-1` (refused) is claimed before anything runs, and a second delivery of the same event finds the claim
   and does nothing. Reactions need no extra permission, no refs to clean up, and show the state on the
   comment itself; a git ref per comment would need contents: write in every job and litter the repository.
3. Refusals (`mlgate.chatops.policy`): edited comments, bots, closed issues and pull requests, unknown words
   and environments, a commenter whose role (GitHub's collaborator permission) is below
   `chatops.permissions`; a refusal is a `-1` and one reply saying why, nothing runs.
4. The command, through the other steps: deploy (the pull request's head, once its `mlgate` check on that very
   commit is green, as an unregistered preview), promote (a registered version, by the deploy step), rollback
   (the deploy step), retrain (workflow_dispatch of the retrain workflow), rerun (re-run of the pull-request
   workflow's run on the head), help. Then `+1` or `-1`, and one reply with the outcome and its links.

Phases, for the template: `accept` claims and answers what needs no environment; a command that deploys
stops there with its environment as output, and `execute` (in a job bound to that GitHub environment, so its
required reviewers approve first) checks everything again and runs it. `all` does both in one go.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.chatops.commands import PREFIX, USAGE, Command, CommandRefused, parse_comment
from mlgate.chatops.policy import Comment, permission_refusal, refusal_before_permission, required_role, role_of
from mlgate.errors import InputError, MlgateError
from mlgate.results import StepResult
from mlgate.steps.base import Project, guarded

if TYPE_CHECKING:
    from mlgate.drivers.chatops import GitHubChatOps

PHASES = ("all", "accept", "execute")
DEPLOYING = ("deploy", "promote", "rollback")  # commands that change an environment
ACCEPTED, DONE, FAILED = "eyes", "+1", "-1"


@dataclass(frozen=True)
class Inputs:
    phase: str = "all"  # all | accept | execute
    remote: str = "origin"  # where the pull request's head is fetched from and registry tags pushed to
    gate_timeout: float = 0  # seconds the deploy waits for the mlgate check while it is missing or running
    bot_login: str = "github-actions[bot]"  # whose reactions mark a comment as taken (the token's identity)
    driver: str = "auto"  # auto | github (ChatOps answers on GitHub; there is no local one)
    token: str | None = None  # default: GITHUB_TOKEN
    retry_budget: float = 300.0
    api_timeout: int = 15


@dataclass
class Outcome:
    """What a command did: its verdict, one sentence, the links for the reply, and the step it ran."""

    ok: bool
    summary: str
    links: dict[str, str] = field(default_factory=dict)
    result: StepResult | None = None
    markdown: bool = False  # summary is markdown this module wrote from checked words; else free text, escaped


class _Run:
    def __init__(self, project: Project, inputs: Inputs, comment: Comment, driver: GitHubChatOps) -> None:
        self.project, self.inputs, self.comment, self.driver = project, inputs, comment, driver
        self.evidence: dict[str, Any] = {
            "comment": comment.html_url,
            "commenter": comment.author,
            "action": comment.action,
            "phase": inputs.phase,
        }

    def record(self, verdict: str, outcome: str, summary: str, error: Exception | None = None) -> StepResult:
        self.evidence["outcome"] = outcome
        head = self.evidence.get("head")
        result = self.project.record(StepResult("chatops", verdict, summary, {"head": head}, self.evidence))
        lines = (f"mlgate chatops: {outcome}: {summary}",)
        return dataclasses.replace(result, lines=lines, error=error)

    def reply(self, body: str) -> None:
        self.evidence["reply"] = self.driver.reply(self.comment.issue_number, self.comment.comment_id, body)

    def refuse(self, command: Command | None, reason: str) -> StepResult:
        from mlgate.drivers.chatops import Claim

        if self.driver.react(self.comment.comment_id, FAILED) != Claim.TAKEN:
            return self.record("skipped", "duplicate", "another delivery of this comment answered it")
        self.evidence["refused"] = reason
        self.reply(_reply(self.comment, command, "⛔ not run", reason, self.links(), markdown=True))
        return self.record("warn", "refused", reason)

    def links(self) -> dict[str, str]:
        run_url = self.project.github.run_url
        return {"Run": run_url} if run_url else {}


def _reply(
    comment: Comment,
    command: Command | None,
    status: str,
    summary: str,
    links: dict[str, str],
    *,
    markdown: bool = False,
) -> str:
    """The one reply: what was asked (rebuilt from checked words, never the comment's text), by whom, the
    outcome, and the links. Free text (another step's summary, GitHub's error) is escaped to inert markdown."""
    from mlgate.report.markdown import text

    what = f"`{command.text}`" if command is not None else "this command"
    lines = [f"**mlgate** {what} from @{comment.author}: **{status}**", "", summary if markdown else text(summary)]
    if links:
        lines += ["", " · ".join(f"[{label}]({url})" for label, url in links.items())]
    return "\n".join(lines) + "\n"


def _driver(inputs: Inputs, project: Project) -> GitHubChatOps:
    from mlgate.drivers import choose_driver
    from mlgate.drivers.chatops import GitHubChatOps
    from mlgate.drivers.github import RetryPolicy

    token = inputs.token or project.env.get("GITHUB_TOKEN") or None
    if choose_driver(inputs.driver, project.env, token) != "github":
        raise InputError(
            "mlgate chatops answers comments on GitHub: run it in GitHub Actions with a token (or pass "
            "--driver github with GITHUB_API_URL, GITHUB_REPOSITORY and a token)"
        )
    ctx = project.github
    repository, token = ctx.credentials(token)
    return GitHubChatOps(
        api_url=ctx.api_url,
        repository=repository,
        token=token,
        comment_authors=(inputs.bot_login,),
        policy=RetryPolicy(budget=inputs.retry_budget),
        timeout=inputs.api_timeout,
    )


def run(inputs: Inputs, project: Project) -> StepResult:
    """Answer the `issue_comment` event of GITHUB_EVENT_PATH; the result says what came of it (its record is on
    GitHub: reactions and the reply): evidence["outcome"] is none, ignored, duplicate, refused, accepted, done
    or failed."""
    return guarded("chatops", project, lambda: _chatops(inputs, project))


def _comment(project: Project) -> Comment:
    from mlgate.chatops.event import read_comment
    from mlgate.ghcontext import load_event

    env = project.env
    if env.get("GITHUB_EVENT_NAME") != "issue_comment":
        raise InputError(f"mlgate chatops answers issue_comment events, not {env.get('GITHUB_EVENT_NAME') or 'none'}")
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise InputError("GITHUB_EVENT_PATH is not set: mlgate chatops reads the comment from the event payload")
    return read_comment(load_event(Path(path)), Path(path))


def _chatops(inputs: Inputs, project: Project) -> StepResult:
    if inputs.phase not in PHASES:
        raise InputError(f"--phase must be one of {', '.join(PHASES)} (got {inputs.phase!r})")
    comment = _comment(project)
    cfg = project.config
    command: Command | None = None
    refusal: str | None = None
    try:
        command = parse_comment(comment.body, cfg.deploy.environments, cfg.deploy.name)
    except CommandRefused as exc:
        refusal = exc.message
    if command is None and refusal is None:
        return _record_without_driver(project, comment, "none", f"no `{PREFIX}` command in the comment")
    if comment.action == "deleted":  # nothing left to react to or to answer (GitHub answers 404 for it)
        return _record_without_driver(project, comment, "ignored", "the comment was deleted")
    state = _Run(project, inputs, comment, _driver(inputs, project))
    if command is not None:
        state.evidence |= {"command": command.name, "environment": command.environment}
    ours = state.driver.our_reactions(comment.comment_id)
    taken = inputs.phase != "execute" and bool(ours)
    unaccepted = inputs.phase == "execute" and (ACCEPTED not in ours or bool(ours & {DONE, FAILED}))
    if taken or unaccepted:
        why = "accepted or answered before" if taken else "not accepted by this workflow run, or answered already"
        return state.record("skipped", "duplicate", f"the comment was {why}: nothing to do")
    if command is not None:
        refusal = refusal_before_permission(cfg.chatops, comment, command)
    if command is not None and refusal is None:
        answer = state.driver.role_answer(comment.author)
        role = role_of(answer) if answer is not None else None
        state.evidence |= {"role": role, "required_role": required_role(cfg.chatops, command)}
        refusal = permission_refusal(cfg.chatops, command, comment.author, role)
    if refusal is not None or command is None:
        return state.refuse(command, refusal or "no command")
    return _accepted(state, command)


def _accepted(state: _Run, command: Command) -> StepResult:
    from mlgate.drivers.chatops import Claim

    if state.inputs.phase != "execute" and state.driver.react(state.comment.comment_id, ACCEPTED) != Claim.TAKEN:
        return state.record("skipped", "duplicate", "another delivery of this comment took it")
    if state.inputs.phase == "accept" and command.name in DEPLOYING:
        return state.record("skipped", "accepted", f"{command.text}: the {command.environment} job runs it")
    try:
        outcome = COMMANDS[command.name](state, command)
    except Exception as exc:  # the commenter is told, whatever stopped it; the job shows the error too
        message = exc.message if isinstance(exc, MlgateError) else f"internal error: {type(exc).__name__}: {exc}"
        outcome = Outcome(False, message)
        error: Exception | None = exc
    else:
        error = outcome.result.error if outcome.result is not None else None
    state.driver.react(state.comment.comment_id, DONE if outcome.ok else FAILED)
    links = state.links() | outcome.links
    status = "✅ done" if outcome.ok else "❌ failed"
    state.reply(_reply(state.comment, command, status, outcome.summary, links, markdown=outcome.markdown))
    state.evidence["links"] = links
    return state.record("pass" if outcome.ok else "fail", "done" if outcome.ok else "failed", outcome.summary, error)


def _record_without_driver(project: Project, comment: Comment, outcome: str, summary: str) -> StepResult:
    """A comment mlgate leaves alone, without a single API call."""
    evidence = {"comment": comment.html_url, "outcome": outcome}
    result = project.record(StepResult("chatops", "skipped", summary, {"head": None}, evidence))
    return dataclasses.replace(result, lines=(f"mlgate chatops: {outcome}: {summary}",))


# ------------------------------------------------------------------------------------------------ commands


def _help(state: _Run, command: Command) -> Outcome:
    from mlgate.report.markdown import code

    cfg = state.project.config
    rows = []
    for name, usage in USAGE.items():
        role = cfg.chatops.permissions[name]
        rows.append(f"- {code(usage)}: {role} or higher")
    production = ", ".join(cfg.chatops.production_environments)
    environments = ", ".join(cfg.deploy.environments) or "none listed (deploy.environments)"
    text = (
        "Commands, one per comment, on a line of their own:\n"
        + "\n".join(rows)
        + f"\n\nEnvironments: {environments}. Production ({production}) needs "
        + f"{cfg.chatops.permissions['production']} or higher, and takes promotions, not pull-request deploys."
    )
    return Outcome(True, text, markdown=True)


def _pull(state: _Run) -> Any:
    pull = state.driver.pull(state.comment.issue_number)
    if pull.state != "open":
        raise InputError(f"pull request #{pull.number} is {pull.state}; commands run only on open ones")
    state.evidence["head"] = pull.head_sha
    return pull


def _rerun(state: _Run, command: Command) -> Outcome:
    pull = _pull(state)
    workflow = state.project.config.chatops.pr_workflow
    run = state.driver.rerun(workflow, pull.head_sha)
    return Outcome(True, f"re-running {workflow} on {pull.head_sha[:7]} (run {run.id})", {"Re-run": run.html_url})


def _retrain(state: _Run, command: Command) -> Outcome:
    ctx = state.project.github
    branch = ctx.default_branch or "main"
    workflow = state.project.config.chatops.retrain_workflow
    run = state.driver.dispatch(workflow, branch, {"when": "always" if command.always else "drift"})
    links = {"Retrain run": run.html_url} if run is not None and run.html_url else {}
    mode = "always" if command.always else "on drift"
    return Outcome(True, f"started {workflow} on {branch} (retrain {mode})", links)


def _requester(state: _Run, pull_request: int | None = None) -> Any:
    from mlgate.deploy.policy import Requester

    return Requester(state.comment.author, state.comment.html_url, pull_request)


def _deploy_inputs(state: _Run, **options: Any) -> Any:
    from mlgate.steps import deploy

    inputs = state.inputs
    return deploy.Inputs(
        remote=inputs.remote,
        gate_timeout=inputs.gate_timeout,
        driver="github",
        token=inputs.token,
        retry_budget=inputs.retry_budget,
        api_timeout=inputs.api_timeout,
        **options,
    )


def _deployed(state: _Run, result: StepResult, environment: str) -> Outcome:
    ctx = state.project.github
    links = {}
    if result.evidence.get("environment_url"):
        links["Environment"] = str(result.evidence["environment_url"])
    if ctx.repository:
        links["Deployments"] = f"{ctx.server_url}/{ctx.repository}/deployments/{environment}"
    state.evidence["deploy"] = {key: result.evidence.get(key) for key in ("version", "deployment_id", "tags")}
    return Outcome(result.verdict == "pass", result.summary, links, result)


def _fetch_head(state: _Run, number: int, sha: str) -> None:
    """The pull request's head commit in this checkout (its model is read from it), and it must be the very
    commit GitHub named: a push since then means the gate checked was not this one."""
    from mlgate.adapters import git

    root = state.project.config.repository_root()
    if git.rev_parse(root, sha) is None:
        try:
            git.run_git(root, "fetch", "--quiet", "--no-tags", state.inputs.remote, f"refs/pull/{number}/head")
        except MlgateError as exc:
            raise InputError(f"cannot fetch pull request #{number}'s head from {state.inputs.remote}: {exc}") from None
        fetched = git.rev_parse(root, "FETCH_HEAD")
        if fetched != sha:
            raise InputError(
                f"pull request #{number}'s head moved from {sha[:7]} to {str(fetched)[:7]} meanwhile: comment again "
                "once its gate ran on the new head"
            )


def _preview(state: _Run, command: Command) -> Outcome:
    from mlgate.steps import deploy

    pull = _pull(state)
    if pull.head_repo != state.project.github.repository:
        raise InputError(
            f"pull request #{pull.number} comes from {pull.head_repo or 'a deleted fork'}: its model file is code from "
            "outside this repository (a pickle runs when it is loaded) and would meet this environment's secrets; "
            "push the branch to this repository to preview it"
        )
    _fetch_head(state, pull.number, pull.head_sha)
    inputs = _deploy_inputs(
        state, environment=command.environment, preview=pull.head_sha, requester=_requester(state, pull.number)
    )
    outcome = _deployed(state, deploy.run(inputs, state.project), str(command.environment))
    outcome.links["Pull request"] = pull.html_url
    return outcome


def _promoted_version(state: _Run, command: Command) -> str:
    from mlgate.adapters import gittags

    if command.version is not None:
        return command.version
    root = state.project.config.root
    if gittags.has_remote(root, state.inputs.remote):
        gittags.fetch_tags(root, state.inputs.remote)
    artifact = gittags.read_registry(root).artifact(str(command.artifact))
    current = artifact.current(str(command.stage))
    if current is None:
        raise InputError(f"stage `{command.stage}` of `{command.artifact}` holds no version: nothing to promote")
    held = artifact.version(current)
    if held is None or not held.registered:
        raise InputError(
            f"stage `{command.stage}` holds a pull-request preview (commit {current[:7]}), not a registered "
            "version: promote a version (name@v1.2.3) or the stage of a merged one"
        )
    return current


def _promote(state: _Run, command: Command) -> Outcome:
    from mlgate.steps import deploy

    version = _promoted_version(state, command)
    state.evidence["version"] = version
    inputs = _deploy_inputs(state, environment=command.environment, promote=version, requester=_requester(state))
    return _deployed(state, deploy.run(inputs, state.project), str(command.environment))


def _rollback(state: _Run, command: Command) -> Outcome:
    from mlgate.steps import deploy

    reason = f"{PREFIX} rollback by @{state.comment.author}"
    inputs = _deploy_inputs(state, rollback=command.environment, reason=reason, requester=_requester(state))
    return _deployed(state, deploy.run(inputs, state.project), str(command.environment))


COMMANDS: dict[str, Callable[[_Run, Command], Outcome]] = {
    "help": _help,
    "rerun": _rerun,
    "retrain": _retrain,
    "deploy": _preview,
    "promote": _promote,
    "rollback": _rollback,
}
