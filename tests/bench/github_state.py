"""In-memory records of the GitHub stand-in and the JSON shapes GitHub gives them.

Records hold only what the stand-in needs to behave like GitHub; `Shapes` renders them with every key GitHub
documents (null where there is no value), because PyGithub re-fetches an object whenever a key it reads is
absent. Every URL PyGithub may request points at the stand-in (it asserts that), `html_url`s at its web root.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

# Identity GitHub gives the Actions GITHUB_TOKEN and its app (recurring in recorded responses).
ACTIONS_BOT_LOGIN = "github-actions[bot]"
ACTIONS_BOT_ID = 41898282
ACTIONS_APP = {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"}

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
REACTIONS_ZERO = {"total_count": 0} | dict.fromkeys(REACTIONS, 0)
ROLES = ("read", "triage", "write", "maintain", "admin")


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int) -> str:
    """Legacy global node id, e.g. MDQ6VXNlcjE= for User 1 (base64 of "04:User1")."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def url_part(text: str) -> str:
    """Escape what breaks a URL PyGithub reuses verbatim: '#', '?', '%', spaces, brackets; keep / and @."""
    return quote(text, safe="/@")


@dataclass
class User:
    login: str
    id: int
    type: str  # "User" | "Organization" | "Bot"
    created_at: datetime


@dataclass
class Token:
    value: str
    login: str
    kind: str  # "app" (GITHUB_TOKEN, installation) | "pat"
    permissions: dict[str, str]  # scope -> "none" | "read" | "write"
    rate_limit: int
    used: int = 0


@dataclass
class Commit:
    sha: str
    message: str
    parents: list[str]
    author_name: str
    author_email: str
    date: datetime


@dataclass
class TagObject:
    sha: str
    tag: str
    message: str
    object_sha: str
    object_type: str
    tagger: dict[str, str] | None


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    closed_at: datetime | None = None
    labels: list[str] = field(default_factory=list)  # lower-cased label names
    is_pull: bool = False


@dataclass
class Pull:
    id: int
    issue: Issue  # title, body, state, labels and author live on the issue, as on GitHub
    head_repo: str  # full name; differs from the base repo for a fork PR
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    commits: list[str]
    draft: bool = False
    maintainer_can_modify: bool = False


@dataclass
class IssueComment:
    id: int
    issue_number: int
    body: str
    user: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Reaction:
    id: int
    content: str
    user: str
    created_at: datetime


@dataclass
class Workflow:
    id: int
    path: str  # .github/workflows/<file>
    name: str
    created_at: datetime
    dispatch_inputs: tuple[str, ...] | None  # the workflow_dispatch inputs; None: no workflow_dispatch trigger


@dataclass
class WorkflowRun:
    id: int
    workflow_id: int
    run_number: int
    event: str
    head_sha: str
    head_branch: str | None
    actor: str
    created_at: datetime
    status: str = "completed"
    conclusion: str | None = "success"
    run_attempt: int = 1
    inputs: dict[str, Any] | None = None  # workflow_dispatch inputs, as dispatched
    pull_numbers: list[int] = field(default_factory=list)


@dataclass
class CommitComment:
    id: int
    commit_id: str
    body: str
    path: str | None
    position: int | None
    line: int | None
    user: str
    created_at: datetime
    updated_at: datetime


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    check_suite_id: int
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    details_url: str | None
    external_id: str | None
    title: str | None
    summary: str | None
    text: str | None
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime


@dataclass
class DeploymentStatus:
    id: int
    state: str
    description: str
    environment: str
    environment_url: str
    log_url: str
    creator: str
    created_at: datetime


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    task: str
    payload: Any
    environment: str
    description: str | None
    creator: str
    transient: bool
    production: bool
    created_at: datetime
    statuses: list[DeploymentStatus] = field(default_factory=list)  # oldest first


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    private: bool
    parent: str | None  # full name of the repository this one is a fork of
    created_at: datetime
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    tags: dict[str, TagObject] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: dict[int, IssueComment] = field(default_factory=dict)
    commit_comments: dict[int, CommitComment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)  # oldest first
    deployments: dict[int, Deployment] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # lower-cased login -> role (ROLES)
    reactions: dict[int, list[Reaction]] = field(default_factory=dict)  # issue comment id -> oldest first
    workflows: dict[int, Workflow] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class Shapes:
    """Renders records as GitHub's REST JSON, URLs under `api` (the base URL) and `web` (html_url root)."""

    def __init__(self, api: str, web: str, users: dict[str, User]) -> None:
        self.api = api
        self.web = web
        self.users = users

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_web(self, repo: Repo) -> str:
        return f"{self.web}/{repo.full_name}"

    def user(self, login: str) -> dict[str, Any]:
        user = self.users[login.lower()]
        url = f"{self.api}/users/{url_part(user.login)}"
        bot_app = user.type == "Bot" and user.login.endswith("[bot]")
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id(user.type, user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/apps/{user.login[:-5]}" if bot_app else f"{self.web}/{url_part(user.login)}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def full_user(self, login: str) -> dict[str, Any]:
        user = self.users[login.lower()]
        stamp = timestamp(user.created_at)
        details = {
            "name": None,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
        }
        details |= {
            "bio": None,
            "twitter_username": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
        }
        return self.user(login) | details | {"following": 0, "created_at": stamp, "updated_at": stamp}

    def app(self) -> dict[str, Any]:
        owner = {"login": "github", "id": 9919, "type": "Organization"}
        return ACTIONS_APP | {
            "node_id": node_id("App", ACTIONS_APP["id"]),
            "owner": owner | {"node_id": node_id("Organization", 9919), "url": f"{self.api}/users/github"},
            "description": "Automate your workflow from idea to production",
            "external_url": "https://help.github.com/en/actions",
            "html_url": f"{self.web}/apps/github-actions",
            "created_at": "2018-07-30T09:30:17Z",
            "updated_at": "2019-12-10T19:04:12Z",
            "permissions": {"checks": "write", "contents": "write", "deployments": "write", "issues": "write"}
            | {"metadata": "read", "pull_requests": "write", "statuses": "write"},
            "events": [],
        }

    def repo(self, repo: Repo, parents: dict[str, Repo] | None = None) -> dict[str, Any]:
        """Repository JSON; `parents` (full name -> repo) adds parent/source of forks, as GET /repos does."""
        api, web = self.repo_api(repo), self.repo_web(repo)
        stamp = timestamp(repo.created_at)
        open_issues = sum(issue.state == "open" for issue in repo.issues.values())
        templated = {
            "keys_url": "keys{/key_id}",
            "collaborators_url": "collaborators{/collaborator}",
            "issue_events_url": "issues/events{/number}",
            "assignees_url": "assignees{/user}",
            "branches_url": "branches{/branch}",
            "blobs_url": "git/blobs{/sha}",
            "git_tags_url": "git/tags{/sha}",
            "git_refs_url": "git/refs{/sha}",
            "trees_url": "git/trees{/sha}",
            "statuses_url": "statuses/{sha}",
            "subscription_url": "subscription",
            "commits_url": "commits{/sha}",
            "git_commits_url": "git/commits{/sha}",
            "comments_url": "comments{/number}",
            "issue_comment_url": "issues/comments{/number}",
            "contents_url": "contents/{+path}",
            "compare_url": "compare/{base}...{head}",
            "archive_url": "{archive_format}{/ref}",
            "issues_url": "issues{/number}",
            "pulls_url": "pulls{/number}",
            "milestones_url": "milestones{/number}",
            "notifications_url": "notifications{?since,all,participating}",
            "labels_url": "labels{/name}",
            "releases_url": "releases{/id}",
        }
        plain = ["forks", "teams", "hooks", "events", "tags", "languages", "stargazers", "contributors"]
        plain += ["subscribers", "merges", "downloads", "deployments"]
        data: dict[str, Any] = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": web,
            "description": None,
            "fork": repo.parent is not None,
            "url": api,
        }
        data |= {f"{name}_url": f"{api}/{name}" for name in plain}
        data |= {key: f"{api}/{suffix}" for key, suffix in templated.items()}
        data |= {
            "created_at": stamp,
            "updated_at": stamp,
            "pushed_at": stamp,
            "git_url": f"git://{web.split('://', 1)[1]}.git",
            "ssh_url": f"git@{self.web.split('://', 1)[1]}:{repo.full_name}.git",
            "clone_url": f"{web}.git",
            "svn_url": web,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }
        if parents is None:
            return data
        data |= {
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
            "temp_clone_token": None,
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_update_branch": False,
            "use_squash_pr_title_as_default": False,
            "squash_merge_commit_message": "COMMIT_MESSAGES",
            "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
            "merge_commit_message": "PR_TITLE",
            "merge_commit_title": "MERGE_MESSAGE",
            "network_count": 0,
            "subscribers_count": 0,
        }
        if repo.parent is not None:
            parent = parents[repo.parent.lower()]
            data["parent"] = data["source"] = self.repo(parent)
        return data

    def commit(self, repo: Repo, commit: Commit, *, with_stats: bool = True) -> dict[str, Any]:
        api, web = self.repo_api(repo), self.repo_web(repo)
        person = {"name": commit.author_name, "email": commit.author_email, "date": timestamp(commit.date)}
        tree_sha = commit.sha[::-1]  # a stable, distinct 40-hex value; nothing reads trees from the stand-in
        data: dict[str, Any] = {
            "sha": commit.sha,
            "node_id": base64.b64encode(f"06:Commit{repo.id}:{commit.sha}".encode()).decode(),
            "commit": {
                "author": person,
                "committer": person,
                "message": commit.message,
                "tree": {"sha": tree_sha, "url": f"{api}/git/trees/{tree_sha}"},
                "url": f"{api}/git/commits/{commit.sha}",
                "comment_count": sum(c.commit_id == commit.sha for c in repo.commit_comments.values()),
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None}
                | {"verified_at": None},
            },
            "url": f"{api}/commits/{commit.sha}",
            "html_url": f"{web}/commit/{commit.sha}",
            "comments_url": f"{api}/commits/{commit.sha}/comments",
            "author": None,
            "committer": None,
            "parents": [
                {"sha": sha, "url": f"{api}/commits/{sha}", "html_url": f"{web}/commit/{sha}"} for sha in commit.parents
            ],
        }
        if with_stats:
            data |= {"stats": {"total": 0, "additions": 0, "deletions": 0}, "files": []}
        return data

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.repo_api(repo)}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
        }

    def association(self, repo: Repo, login: str) -> str:
        return "OWNER" if login.lower() == repo.owner.lower() else "NONE"

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        data: dict[str, Any] = {
            "url": api,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.repo_web(repo)}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, repo.labels[name]) for name in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": sum(c.issue_number == issue.number for c in repo.comments.values()),
            "created_at": timestamp(issue.created_at),
            "updated_at": timestamp(issue.updated_at),
            "closed_at": timestamp(issue.closed_at),
            "author_association": self.association(repo, issue.user),
            "type": None,
            "active_lock_reason": None,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "issue_dependencies_summary": {"blocked_by": 0, "blocking": 0, "total_blocked_by": 0}
            | {"total_blocking": 0},
            "body": issue.body,
            "closed_by": None,
            "reactions": REACTIONS_ZERO | {"url": f"{api}/reactions"},
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if issue.state == "closed" else None,
        }
        if issue.is_pull:
            pull = repo.pulls[issue.number]
            web = f"{self.repo_web(repo)}/pull/{issue.number}"
            data["draft"] = pull.draft
            data["pull_request"] = {
                "url": f"{self.repo_api(repo)}/pulls/{issue.number}",
                "html_url": web,
                "diff_url": f"{web}.diff",
                "patch_url": f"{web}.patch",
                "merged_at": None,
            }
        return data

    def pull_part(self, repos: dict[str, Repo], full_name: str, ref: str, sha: str) -> dict[str, Any]:
        repo = repos[full_name.lower()]
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull(self, repos: dict[str, Repo], repo: Repo, pull: Pull, *, simple: bool = False) -> dict[str, Any]:
        """Pull Request JSON; `simple` gives the list shape, which lacks merged/mergeable/counters."""
        issue, api = pull.issue, f"{self.repo_api(repo)}/pulls/{pull.issue.number}"
        web = f"{self.repo_web(repo)}/pull/{issue.number}"
        issue_api = f"{self.repo_api(repo)}/issues/{issue.number}"
        statuses = f"{self.repo_api(repo)}/statuses/{pull.head_sha}"
        links = {
            "self": api,
            "html": web,
            "issue": issue_api,
            "comments": f"{issue_api}/comments",
            "review_comments": f"{api}/comments",
            "review_comment": f"{self.repo_api(repo)}/pulls/comments{{/number}}",
            "commits": f"{api}/commits",
            "statuses": statuses,
        }
        data: dict[str, Any] = {
            "url": api,
            "id": pull.id,
            "node_id": node_id("PullRequest", pull.id),
            "html_url": web,
            "diff_url": f"{web}.diff",
            "patch_url": f"{web}.patch",
            "issue_url": issue_api,
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "created_at": timestamp(issue.created_at),
            "updated_at": timestamp(issue.updated_at),
            "closed_at": timestamp(issue.closed_at),
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self.label(repo, repo.labels[name]) for name in issue.labels],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": statuses,
            "head": self.pull_part(repos, pull.head_repo, pull.head_ref, pull.head_sha),
            "base": self.pull_part(repos, repo.full_name, pull.base_ref, pull.base_sha),
            "_links": {name: {"href": href} for name, href in links.items()},
            "author_association": self.association(repo, issue.user),
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if simple:
            return data
        is_open = issue.state == "open"
        return data | {
            "merged": False,
            "mergeable": True if is_open else None,
            "rebaseable": True if is_open else None,
            "mergeable_state": "clean" if is_open else "unknown",
            "merged_by": None,
            "comments": sum(c.issue_number == issue.number for c in repo.comments.values()),
            "review_comments": 0,
            "maintainer_can_modify": pull.maintainer_can_modify,
            "commits": len(pull.commits),
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }

    def issue_comment(self, repo: Repo, comment: IssueComment) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/issues/comments/{comment.id}"
        issue = repo.issues[comment.issue_number]
        kind = "pull" if issue.is_pull else "issues"
        return {
            "url": api,
            "html_url": f"{self.repo_web(repo)}/{kind}/{issue.number}#issuecomment-{comment.id}",
            "issue_url": f"{self.repo_api(repo)}/issues/{issue.number}",
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "user": self.user(comment.user),
            "created_at": timestamp(comment.created_at),
            "updated_at": timestamp(comment.updated_at),
            "author_association": self.association(repo, comment.user),
            "body": comment.body,
            "reactions": self.reaction_counts(repo.reactions.get(comment.id, [])) | {"url": f"{api}/reactions"},
            "performed_via_github_app": None,
        }

    @staticmethod
    def reaction_counts(reactions: list[Reaction]) -> dict[str, int]:
        counts = dict(REACTIONS_ZERO, total_count=len(reactions))
        for reaction in reactions:
            counts[reaction.content] += 1
        return counts

    def reaction(self, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": node_id("Reaction", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": timestamp(reaction.created_at),
        }

    def collaborator_permission(self, login: str, role: str | None) -> dict[str, Any]:
        """GET .../collaborators/{user}/permission: the legacy `permission` reads maintain as write and triage
        as read; `user.permissions` has one flag per role at or below the user's."""
        rank = ROLES.index(role) if role in ROLES else -1
        legacy = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
        flags = {"pull": 0, "triage": 1, "push": 2, "maintain": 3, "admin": 4}
        user = self.user(login) | {
            "permissions": {flag: rank >= needed for flag, needed in flags.items()},
            "role_name": role or "none",
        }
        return {"permission": legacy.get(role or "", "none"), "role_name": role or "none", "user": user}

    def workflow(self, repo: Repo, workflow: Workflow) -> dict[str, Any]:
        stamp = timestamp(workflow.created_at)
        file = workflow.path.rsplit("/", 1)[-1]
        return {
            "id": workflow.id,
            "node_id": node_id("Workflow", workflow.id),
            "name": workflow.name,
            "path": workflow.path,
            "state": "active",
            "created_at": stamp,
            "updated_at": stamp,
            "url": f"{self.repo_api(repo)}/actions/workflows/{workflow.id}",
            "html_url": f"{self.repo_web(repo)}/blob/{repo.default_branch}/{workflow.path}",
            "badge_url": f"{self.repo_web(repo)}/workflows/{url_part(workflow.name)}/badge.svg?file={file}",
        }

    def workflow_run(self, repo: Repo, run: WorkflowRun) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/actions/runs/{run.id}"
        workflow = repo.workflows[run.workflow_id]
        commit = repo.commits[run.head_sha]
        stamp = timestamp(run.created_at)
        person = {"name": commit.author_name, "email": commit.author_email}
        return {
            "id": run.id,
            "name": workflow.name,
            "node_id": node_id("WorkflowRun", run.id),
            "check_suite_id": run.id + 1,
            "check_suite_node_id": node_id("CheckSuite", run.id + 1),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": workflow.path,
            "run_number": run.run_number,
            "run_attempt": run.run_attempt,
            "referenced_workflows": [],
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": workflow.id,
            "url": api,
            "html_url": f"{self.repo_web(repo)}/actions/runs/{run.id}",
            "pull_requests": [self.pull_minimal(repo, repo.pulls[number]) for number in run.pull_numbers],
            "created_at": stamp,
            "updated_at": stamp,
            "actor": self.user(run.actor),
            "triggering_actor": self.user(run.actor),
            "run_started_at": stamp,
            "jobs_url": f"{api}/jobs",
            "logs_url": f"{api}/logs",
            "check_suite_url": f"{self.repo_api(repo)}/check-suites/{run.id + 1}",
            "artifacts_url": f"{api}/artifacts",
            "cancel_url": f"{api}/cancel",
            "rerun_url": f"{api}/rerun",
            "previous_attempt_url": f"{api}/attempts/{run.run_attempt - 1}" if run.run_attempt > 1 else None,
            "workflow_url": f"{self.repo_api(repo)}/actions/workflows/{workflow.id}",
            "head_commit": {
                "id": commit.sha,
                "tree_id": commit.sha[::-1],
                "message": commit.message,
                "timestamp": timestamp(commit.date),
                "author": person,
                "committer": person,
            },
            "repository": self.repo(repo),
            "head_repository": self.repo(repo),
            "display_title": commit.message.splitlines()[0] if commit.message else workflow.name,
        }

    def commit_comment(self, repo: Repo, comment: CommitComment) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/comments/{comment.id}"
        return {
            "html_url": f"{self.repo_web(repo)}/commit/{comment.commit_id}#commitcomment-{comment.id}",
            "url": api,
            "id": comment.id,
            "node_id": node_id("CommitComment", comment.id),
            "body": comment.body,
            "path": comment.path,
            "position": comment.position,
            "line": comment.line,
            "commit_id": comment.commit_id,
            "user": self.user(comment.user),
            "created_at": timestamp(comment.created_at),
            "updated_at": timestamp(comment.updated_at),
            "author_association": self.association(repo, comment.user),
            "reactions": REACTIONS_ZERO | {"url": f"{api}/reactions"},
        }

    def pull_minimal(self, repo: Repo, pull: Pull) -> dict[str, Any]:
        short = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
        return {
            "id": pull.id,
            "number": pull.issue.number,
            "url": f"{self.repo_api(repo)}/pulls/{pull.issue.number}",
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": short},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": short},
        }

    def check_run(self, repo: Repo, run: CheckRun) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/check-runs/{run.id}"
        # Check runs list only same-repository PRs: pushes to forks are not detected (GitHub docs).
        pulls = [
            self.pull_minimal(repo, pull)
            for pull in repo.pulls.values()
            if pull.head_sha == run.head_sha and pull.head_repo == repo.full_name and pull.issue.state == "open"
        ]
        return {
            "id": run.id,
            "name": run.name,
            "node_id": node_id("CheckRun", run.id),
            "head_sha": run.head_sha,
            "external_id": run.external_id,
            "url": api,
            "html_url": f"{self.repo_web(repo)}/runs/{run.id}",
            "details_url": run.details_url,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": timestamp(run.started_at),
            "completed_at": timestamp(run.completed_at),
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": len(run.annotations),
                "annotations_url": f"{api}/annotations",
            },
            "check_suite": {"id": run.check_suite_id},
            "app": self.app(),
            "pull_requests": pulls,
            "deployment": None,
        }

    def annotation(self, repo: Repo, run: CheckRun, item: dict[str, Any]) -> dict[str, Any]:
        keys = ["path", "start_line", "end_line", "start_column", "end_column", "annotation_level", "title"]
        data = {key: item.get(key) for key in [*keys, "message", "raw_details"]}
        return data | {"blob_href": f"{self.repo_web(repo)}/blob/{run.head_sha}/{url_part(item['path'])}"}

    def status(self, repo: Repo, status: Status) -> dict[str, Any]:
        return {
            "url": f"{self.repo_api(repo)}/statuses/{status.sha}",
            "avatar_url": f"{self.web}/avatars/u/{ACTIONS_BOT_ID}?v=4",
            "id": status.id,
            "node_id": node_id("StatusContext", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": timestamp(status.created_at),
            "updated_at": timestamp(status.created_at),
            "creator": self.user(status.creator),
        }

    def combined_status(self, repo: Repo, sha: str, state: str, latest: list[Status]) -> dict[str, Any]:
        items = [
            {key: value for key, value in self.status(repo, status).items() if key != "creator"} | {"required": None}
            for status in latest
        ]
        return {
            "state": state,
            "statuses": items,
            "sha": sha,
            "total_count": len(items),
            "repository": self.repo(repo),
            "commit_url": f"{self.repo_api(repo)}/commits/{sha}",
            "url": f"{self.repo_api(repo)}/commits/{sha}/status",
        }

    def deployment(self, repo: Repo, deployment: Deployment) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/deployments/{deployment.id}"
        return {
            "url": api,
            "id": deployment.id,
            "node_id": node_id("Deployment", deployment.id),
            "sha": deployment.sha,
            "ref": deployment.ref,
            "task": deployment.task,
            "payload": deployment.payload,
            "original_environment": deployment.environment,
            "environment": deployment.environment,
            "description": deployment.description,
            "creator": self.user(deployment.creator),
            "created_at": timestamp(deployment.created_at),
            "updated_at": timestamp(
                deployment.statuses[-1].created_at if deployment.statuses else deployment.created_at
            ),
            "statuses_url": f"{api}/statuses",
            "repository_url": self.repo_api(repo),
            "transient_environment": deployment.transient,
            "production_environment": deployment.production,
            "performed_via_github_app": None,
        }

    def deployment_status(self, repo: Repo, deployment: Deployment, status: DeploymentStatus) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/deployments/{deployment.id}"
        return {
            "url": f"{api}/statuses/{status.id}",
            "id": status.id,
            "node_id": node_id("DeploymentStatus", status.id),
            "state": status.state,
            "creator": self.user(status.creator),
            "description": status.description,
            "environment": status.environment,
            "target_url": status.log_url,
            "log_url": status.log_url,
            "environment_url": status.environment_url,
            "created_at": timestamp(status.created_at),
            "updated_at": timestamp(status.created_at),
            "deployment_url": api,
            "repository_url": self.repo_api(repo),
            "performed_via_github_app": None,
        }

    def git_object(self, repo: Repo, sha: str) -> dict[str, Any]:
        kind = "tag" if sha in repo.tags else "commit"
        return {"sha": sha, "type": kind, "url": f"{self.repo_api(repo)}/git/{kind}s/{sha}"}

    def git_ref(self, repo: Repo, name: str) -> dict[str, Any]:
        return {
            "ref": name,
            "node_id": base64.b64encode(f"03:Ref{repo.id}:{name}".encode()).decode(),
            "url": f"{self.repo_api(repo)}/git/{url_part(name)}",
            "object": self.git_object(repo, repo.refs[name]),
        }

    def git_tag(self, repo: Repo, tag: TagObject) -> dict[str, Any]:
        return {
            "node_id": base64.b64encode(f"03:Tag{repo.id}:{tag.sha}".encode()).decode(),
            "sha": tag.sha,
            "url": f"{self.repo_api(repo)}/git/tags/{tag.sha}",
            "tag": tag.tag,
            "message": tag.message,
            "tagger": tag.tagger,
            "object": self.git_object(repo, tag.object_sha) | {"type": tag.object_type},
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None}
            | {"verified_at": None},
        }
