"""workflows-templates/mlgate-chatops.yml under nektos/act (see bench/act_bench.py): `/mlgate` comments on an
issue and a pull request of the example repository, each delivered as GitHub delivers an issue_comment event,
answered by the template's two jobs (claim and answer with the report install; deploy, promote and rollback in
a second job bound to the environment) against the GitHub stand-in and a bare origin.

One repository for every command, in the order a team would use them: help, retrain, rerun, a preview deploy
of the pull request, the same delivery again, a promotion to production and its rollback. The refusals share
another: each is its own event (one comment, one delivery), refused in the first job before any deploy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from bench.act_bench import ActResult
from bench.example_fixtures import git
from bench.github_fixtures import DEMO_REPO
from bench.github_openapi import schema_errors
from bench.github_standin import GitHubStandIn
from bench.github_state import IssueComment
from bench.retrain_fixtures import add_issue
from bench.workflow_fixtures import CiRepo

pytestmark = pytest.mark.slow

CHATOPS = "mlgate/mlgate/actions/chatops@v1"
MODEL = "breast-cancer-classifier"
BOT = "github-actions[bot]"
# The deploy command of mlgate.yml: records what it deployed (the execute job's environment reaches it).
DEPLOY_COMMAND = 'echo "$MLGATE_ENVIRONMENT $MLGATE_MODEL_VERSION $MLGATE_MODEL_MD5" >> "$DEPLOY_LOG"'


@dataclass
class Team:
    """The example repository on "GitHub" with its ChatOps: who may do what, an issue, a pull request."""

    ci_repo: CiRepo
    issue: int
    pull: int
    pull_head: str
    v1: str  # the commit of v1.0.0, which production held first
    v2: str  # the commit of v1.1.0

    def comment(self, body: str, user: str, *, on: int | None = None) -> IssueComment:
        (made,) = self.ci_repo.github.add_comments(1, issue=on or self.issue, user=user, body=body)
        return made

    def deliver(self, comment: IssueComment, action: str = "created") -> ActResult:
        """The issue_comment event of `comment`, run as GitHub runs the workflow (on the default branch). Both
        jobs install mlgate for real (the first the slim report install), from the session's warm uv cache."""
        event = self.ci_repo.github.comment_event(comment, action=action)
        main = self.ci_repo.head("main")
        return self.ci_repo.run(
            "mlgate-chatops.yml",
            "issue_comment",
            event,
            ref="refs/heads/main",
            sha=main,
            env={"DEPLOY_LOG": str(self.ci_repo.scratch / "deployed.txt")},
        )

    def reactions(self, comment: IssueComment) -> list[str]:
        return [r.content for r in self.ci_repo.github.repo().reactions.get(comment.id, [])]

    def replies(self) -> list[str]:
        return [c.body for c in self.ci_repo.github.repo().comments.values() if c.user == BOT]

    def deployed(self) -> list[str]:
        log = self.ci_repo.scratch / "deployed.txt"
        return log.read_text().splitlines() if log.exists() else []

    def deployments(self) -> list:
        return sorted(self.ci_repo.github.repo().deployments.values(), key=lambda d: d.id)

    def stage_tags(self) -> dict[str, str]:
        return {name: sha for name, sha in self.ci_repo.remote_refs().items() if "#" in name}


def team(ci_repo: CiRepo) -> Team:
    """v1.0.0 (in production) and v1.1.0 registered; a pull request whose mlgate check is green; a writer (wes),
    a maintainer (mia) and a reader (rita); the PR and retrain workflows GitHub knows of."""
    ci_repo.edit_config({"deploy": {"command": DEPLOY_COMMAND}})
    ci_repo.add_dvc_remote()  # the models of the commits deployed, for the execute job's clean checkout
    v1 = ci_repo.head("main~1")
    v2 = ci_repo.head("main")
    for version, commit in (("v1.0.0", v1), ("v1.1.0", v2)):
        git(ci_repo.dev, "tag", "-a", f"{MODEL}@{version}", commit, "-m", f"Registering {MODEL} {version}")
    git(ci_repo.dev, "tag", "-a", f"{MODEL}#production#1", v1, "-m", f"Assigning stage production to {MODEL}")
    git(ci_repo.dev, "push", "--quiet", "origin", "--tags")
    github = ci_repo.github
    for commit in (v1, v2):  # their gates were green when they were merged
        github.add_check_run(head_sha=commit, conclusion="success")
    for login, role in (("wes", "write"), ("mia", "maintain"), ("rita", "read")):
        github.add_collaborator(login, role)
    issue = add_issue(github, "Model questions")
    pull = ci_repo.open_pull("tune", {"train": {"C": 0.8}})
    github.add_check_run(head_sha=pull.head, conclusion="success")  # its mlgate gate was green
    gate = github.add_workflow("mlgate-pr.yml", name="mlgate")
    github.add_workflow_run(gate, head_sha=pull.head, head_branch="tune", pulls=(pull.number,))
    github.add_workflow("mlgate-retrain.yml", name="mlgate retrain", dispatch_inputs=("when", "check-only"))
    return Team(ci_repo, issue.number, pull.number, pull.head, v1, v2)


def check_githubs_shapes(github: GitHubStandIn) -> None:
    """Every answer mlgate got in these runs from the collaborator-permission and reactions endpoints has the
    shape GitHub's OpenAPI description (@octokit/openapi) gives it, each status one GitHub answers."""
    calls = github.calls(path=rf"/repos/{DEMO_REPO}/(collaborators/[^/]+/permission|issues/comments/\d+/reactions)")
    assert {(c.method, c.path.rsplit("/", 1)[-1]) for c in calls} == {
        ("GET", "permission"),
        ("GET", "reactions"),
        ("POST", "reactions"),
    }
    for call in calls:
        assert schema_errors(call.method, call.path, call.status, call.answer) == [], (call.method, call.path)


def answered(run: ActResult) -> dict[str, str]:
    """The first job's outputs (command, environment, outcome), and whether the second job ran."""
    outputs = run.outputs(CHATOPS, job="mlgate chatops/command")
    executed = [s for s in run.steps if s.job.endswith("/execute") and s.name.startswith(CHATOPS)]
    return outputs | {"executed": "yes" if executed else "no"}


def test_every_command_end_to_end_on_one_repository(ci_repo: CiRepo) -> None:
    t = team(ci_repo)
    github = ci_repo.github

    # help: the reply lists the commands and roles; nothing else happens
    asked = t.comment("How do I deploy?\n\n/mlgate help\n", "rita")
    run = t.deliver(asked)
    assert run.ok, run.log
    assert answered(run) == {"command": "help", "environment": "", "outcome": "done", "executed": "no"}
    (reply,) = t.replies()
    assert "`/mlgate promote <name>@<version|stage> to <environment>`: write or higher" in reply
    assert t.reactions(asked) == ["eyes", "+1"]

    # retrain --always: a workflow_dispatch of mlgate-retrain.yml on the default branch
    retrain = t.comment("/mlgate retrain --always", "wes")
    run = t.deliver(retrain)
    assert run.ok, run.log
    (dispatched,) = [r for r in github.repo().runs.values() if r.event == "workflow_dispatch"]
    assert (dispatched.head_branch, dispatched.inputs) == ("main", {"when": "always"})
    assert f"/octo/demo/actions/runs/{dispatched.id}" in t.replies()[-1]

    # rerun on the pull request: its mlgate run again, on the head
    rerun = t.comment("/mlgate rerun", "wes", on=t.pull)
    run = t.deliver(rerun)
    assert run.ok, run.log
    (gate_run,) = [r for r in github.repo().runs.values() if r.event == "pull_request"]
    assert gate_run.run_attempt == 2 and t.reactions(rerun) == ["eyes", "+1"]

    # deploy staging: the pull request's head model, in the second job, recorded as a preview
    preview = t.comment("/mlgate deploy staging", "wes", on=t.pull)
    run = t.deliver(preview)
    assert run.ok, run.log
    assert answered(run) == {"command": "deploy", "environment": "staging", "outcome": "accepted", "executed": "yes"}
    (deployment,) = t.deployments()
    assert (deployment.sha, deployment.environment) == (t.pull_head, "staging")
    assert deployment.payload["requested_by"]["login"] == "wes"
    assert deployment.payload["requested_by"]["comment_url"].endswith(f"/pull/{t.pull}#issuecomment-{preview.id}")
    assert sorted(t.stage_tags()) == [f"refs/tags/{MODEL}#production#1", f"refs/tags/{MODEL}#staging#2"]
    assert git(ci_repo.remote, "rev-list", "-n", "1", f"{MODEL}#staging#2") == t.pull_head
    assert [line.split()[:2] for line in t.deployed()] == [["staging", t.pull_head]]
    assert t.reactions(preview) == ["eyes", "+1"] and "**✅ done**" in t.replies()[-1]

    # the same delivery again (GitHub redelivers): the claim is found, nothing runs twice
    replies = len(t.replies())
    run = t.deliver(preview)
    assert run.ok, run.log
    assert answered(run)["outcome"] == "duplicate" and answered(run)["executed"] == "no"
    assert len(t.deployments()) == 1 and len(t.deployed()) == 1 and len(t.replies()) == replies

    # a maintainer promotes v1.1.0 to production, then rolls production back to v1.0.0
    promote = t.comment(f"/mlgate promote {MODEL}@v1.1.0 to production", "mia")
    run = t.deliver(promote)
    assert run.ok, run.log
    assert answered(run)["environment"] == "production" and answered(run)["executed"] == "yes"
    production = t.deployments()[-1]
    assert (production.environment, production.sha, production.payload["version"]) == ("production", t.v2, "v1.1.0")
    assert git(ci_repo.remote, "rev-list", "-n", "1", f"{MODEL}#production#3") == t.v2
    assert "requested by @mia" in git(ci_repo.remote, "tag", "-l", "--format=%(contents)", f"{MODEL}#production#3")

    rollback = t.comment("/mlgate rollback production", "mia")
    run = t.deliver(rollback)
    assert run.ok, run.log
    back = t.deployments()[-1]
    assert (back.environment, back.sha, back.payload["version"]) == ("production", t.v1, "v1.0.0")
    assert back.payload["rollback"]["reason"] == "/mlgate rollback by @mia"
    assert [line.split()[:2] for line in t.deployed()] == [
        ["staging", t.pull_head],
        ["production", "v1.1.0"],
        ["production", "v1.0.0"],
    ]
    assert t.reactions(rollback) == ["eyes", "+1"]
    check_githubs_shapes(github)


def test_refusals_run_nothing(ci_repo: CiRepo) -> None:
    t = team(ci_repo)
    github = ci_repo.github
    tags = t.stage_tags()

    def refused(comment: IssueComment, action: str = "created") -> str:
        before = len(t.replies())
        run = t.deliver(comment, action)
        assert run.ok, run.log
        outcome = answered(run)
        assert outcome["executed"] == "no", run.log
        assert github.repo().deployments == {} and t.deployed() == [] and t.stage_tags() == tags
        assert [r for r in github.repo().runs.values() if r.event == "workflow_dispatch"] == []
        new = t.replies()[before:]
        return new[0] if new else ""

    # a commenter with read permission
    reply = refused(reader := t.comment("/mlgate retrain", "rita"))
    assert "@rita has the read role on this repository; `/mlgate retrain` needs write or higher" in reply
    assert t.reactions(reader) == ["-1"] and "**⛔ not run**" in reply

    # an environment mlgate.yml does not list
    reply = refused(t.comment("/mlgate deploy qa", "wes", on=t.pull))
    assert "`qa` is not an environment of mlgate.yml (deploy.environments lists `staging`, `production`)" in reply

    # a production promotion by a writer, not a maintainer
    reply = refused(t.comment(f"/mlgate promote {MODEL}@v1.1.0 to production", "wes"))
    assert "`/mlgate promote` on a production environment needs maintain or higher" in reply

    # an edited comment: GitHub does not even start the template for one (it listens to `created` only; act
    # ignores activity types, the bench does not). mlgate's own check is test_chatops_github's.
    edited = t.comment("/mlgate retrain", "wes")
    run = t.deliver(edited, "edited")
    assert not run.started and t.reactions(edited) == [] and len(t.replies()) == 3
    check_githubs_shapes(github)
