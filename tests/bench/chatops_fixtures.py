"""A ChatOps scene: a deployable git repository (bare origin) whose pull request #1 lives in the GitHub stand-in,
comments on it, and `mlgate chatops` run on each comment's issue_comment event as GitHub Actions would."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # fixture modules are plugins: importing one from another at load time defeats assert rewriting
    from bench.github_standin import GitHubStandIn
    from bench.github_state import IssueComment
    from bench.registry_fixtures import DeployRepo

PR_MODEL = "model-pr"


@dataclass
class Scene:
    repo: DeployRepo
    github: GitHubStandIn
    events: Path
    main: str  # the default branch's head
    pr_head: str  # pull request #1's head commit (its model.pkl is PR_MODEL)

    def comment(self, body: str, *, user: str = "alice", role: str | None = "write", issue: int = 1) -> IssueComment:
        if role is not None:
            self.github.add_collaborator(user, role)
        (made,) = self.github.add_comments(1, issue=issue, user=user, body=body)
        return made

    def env(self, comment: IssueComment, action: str = "created") -> dict[str, str]:
        event = self.events / f"{comment.id}-{action}.json"
        event.write_text(json.dumps(self.github.comment_event(comment, action=action)))
        return {
            **self.github.env(),
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "issue_comment",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": self.main,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_RUN_ID": "77",
            "GITHUB_OUTPUT": str(self.events / "outputs.txt"),
            "DEPLOY_LOG": str(self.repo.log),
        }

    def chatops(self, comment: IssueComment, *args: str, action: str = "created") -> subprocess.CompletedProcess[str]:
        from bench.registry_fixtures import mlgate_in_process

        return mlgate_in_process("chatops", *args, cwd=self.repo.path, env=self.env(comment, action))

    def reactions(self, comment: IssueComment) -> list[str]:
        return [r.content for r in self.github.repo().reactions.get(comment.id, [])]

    def replies(self) -> list[str]:
        return [c.body for c in self.github.repo().comments.values() if c.user == "github-actions[bot]"]

    def outputs(self) -> dict[str, str]:
        path = self.events / "outputs.txt"
        lines = path.read_text().splitlines() if path.exists() else []
        return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def scene(deploy_repo: DeployRepo, github: GitHubStandIn, tmp_path: Path) -> Scene:
    for sha in deploy_repo.git("rev-list", "--reverse", "HEAD").split():
        github.add_commit(sha, branch="main")
    main = deploy_repo.head()
    deploy_repo.git("checkout", "--quiet", "-b", "feature")
    pr_head = deploy_repo.commit("a better model", {"model.pkl": PR_MODEL})
    # GitHub serves every pull request's head as refs/pull/N/head
    deploy_repo.git("push", "--quiet", "origin", "HEAD:refs/heads/feature", "HEAD:refs/pull/1/head")
    deploy_repo.git("checkout", "--quiet", "main")
    deploy_repo.git("branch", "--quiet", "-D", "feature")  # the workflow's checkout has main only
    github.add_pull(head_ref="feature", base_sha=main, commits=[pr_head], user="contributor")
    events = tmp_path / "events"
    events.mkdir()
    return Scene(deploy_repo, github, events, main, pr_head)
