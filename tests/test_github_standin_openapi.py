"""The stand-in's answers have GitHub's shapes: each checked against GitHub's published OpenAPI description
(@octokit/openapi, cut to the stand-in's operations by tests/tools/openapi_subset.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from bench.github_fixtures import pygithub_client
from bench.github_openapi import description, schema_errors
from bench.github_standin import GitHubStandIn


def call(standin: GitHubStandIn, method: str, path: str, body: Any = None, token: str = "ghs_test") -> tuple[int, Any]:
    """One request outside PyGithub, so the status and the body are exactly what was sent."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{standin.base_url}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def conforming(standin: GitHubStandIn, method: str, path: str, body: Any = None, token: str = "ghs_test") -> tuple:
    status, answer = call(standin, method, path, body, token)
    assert schema_errors(method, path, status, answer) == []
    return status, answer


def test_the_subset_names_its_source_and_covers_the_new_operations() -> None:
    source = description()["x-source"]

    assert source["package"] == "@octokit/openapi@23.0.2"
    assert len(source["sha256"]) == 64
    for path in (
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
        "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun",
    ):
        assert path in description()["paths"]


def test_the_checker_catches_a_wrong_shape() -> None:
    path = "/repos/octo/demo/issues/comments/1/reactions"

    assert schema_errors("POST", path, 201, {"id": 1, "node_id": "x", "user": None, "content": "eyes"}) == [
        "(body): 'created_at' is a required property"
    ]
    assert (
        "'smile' is not one of"
        in schema_errors(
            "POST",
            path,
            201,
            {"id": 1, "node_id": "x", "user": None, "content": "smile", "created_at": "2026-01-01T00:00:00Z"},
        )[0]
    )
    assert schema_errors("POST", path, 204, None) == [
        f"GitHub does not answer 204 to POST {path} (it answers 200, 201, 422)"
    ]


@pytest.mark.parametrize(
    ("login", "role", "permission", "role_name"),
    [
        ("octo", None, "admin", "admin"),  # the owner
        ("mia", "maintain", "write", "maintain"),  # legacy permission reads maintain as write
        ("tri", "triage", "read", "triage"),
        ("wes", "write", "write", "write"),
        ("rita", "read", "read", "read"),
        ("stranger", None, "read", "read"),  # anyone may read a public repository
    ],
)
def test_collaborator_permission_has_githubs_shape(
    github: GitHubStandIn, login: str, role: str | None, permission: str, role_name: str
) -> None:
    github.add_user(login)
    if role:
        github.add_collaborator(login, role)

    status, answer = conforming(github, "GET", f"/repos/octo/demo/collaborators/{login}/permission")

    assert (status, answer["permission"], answer["role_name"], answer["user"]["login"]) == (
        200,
        permission,
        role_name,
        login,
    )
    flags = answer["user"]["permissions"]
    assert flags["push"] is (role_name in ("write", "maintain", "admin"))
    assert flags["maintain"] is (role_name in ("maintain", "admin"))


def test_collaborator_permission_on_a_private_repo_and_of_an_unknown_user(github: GitHubStandIn) -> None:
    github.add_repo("octo/secret", private=True)
    github.add_user("stranger")

    _, answer = conforming(github, "GET", "/repos/octo/secret/collaborators/stranger/permission")
    status, _ = conforming(github, "GET", "/repos/octo/demo/collaborators/nobody-at-all/permission")

    assert (answer["permission"], answer["role_name"]) == ("none", "none")
    assert status == 404


def test_reactions_create_201_then_200_list_and_validate(github: GitHubStandIn) -> None:
    github.add_pull()
    (comment,) = github.add_comments(1, issue=1, body="/mlgate rerun")
    path = f"/repos/octo/demo/issues/comments/{comment.id}/reactions"

    first, created = conforming(github, "POST", path, {"content": "eyes"})
    again, existing = conforming(github, "POST", path, {"content": "eyes"})
    other, _ = conforming(github, "POST", path, {"content": "+1"})
    bad, refusal = conforming(github, "POST", path, {"content": "smile"})
    _, listed = conforming(github, "GET", path)
    _, eyes_only = conforming(github, "GET", f"{path}?content=eyes")
    _, shown = conforming(github, "GET", f"/repos/octo/demo/issues/comments/{comment.id}")

    assert (first, again, other, bad) == (201, 200, 201, 422)
    assert existing["id"] == created["id"] and created["user"]["login"] == "github-actions[bot]"
    assert [r["content"] for r in listed] == ["eyes", "+1"] and [r["content"] for r in eyes_only] == ["eyes"]
    assert shown["reactions"]["eyes"] == 1 and shown["reactions"]["total_count"] == 2
    assert refusal["status"] == "422"


def test_reactions_through_pygithub(github: GitHubStandIn) -> None:
    github.add_pull()
    (seeded,) = github.add_comments(1, issue=1)
    comment = pygithub_client(github).get_repo("octo/demo").get_issue(1).get_comment(seeded.id)

    comment.create_reaction("eyes")

    assert [(r.content, r.user.login) for r in comment.get_reactions()] == [("eyes", "github-actions[bot]")]


def test_workflows_runs_rerun_and_dispatch_have_githubs_shapes(github: GitHubStandIn) -> None:
    pull = github.add_pull()
    gate = github.add_workflow("mlgate-pr.yml", name="mlgate")
    retrain = github.add_workflow("mlgate-retrain.yml", name="mlgate retrain", dispatch_inputs=("when", "check-only"))
    run = github.add_workflow_run(gate, head_sha=pull.head_sha, head_branch="feature", pulls=(1,))
    base = "/repos/octo/demo/actions"

    conforming(github, "GET", f"{base}/workflows/mlgate-pr.yml")
    _, runs = conforming(
        github, "GET", f"{base}/workflows/mlgate-pr.yml/runs?head_sha={pull.head_sha}&event=pull_request"
    )
    rerun, _ = conforming(github, "POST", f"{base}/runs/{run.id}/rerun")
    busy, _ = call(github, "POST", f"{base}/runs/{run.id}/rerun")
    plain, _ = conforming(github, "POST", f"{base}/workflows/mlgate-retrain.yml/dispatches", {"ref": "main"})
    detailed, details = conforming(
        github,
        "POST",
        f"{base}/workflows/{retrain.id}/dispatches",
        {"ref": "main", "inputs": {"when": "always"}, "return_run_details": True},
    )
    unknown, message = call(
        github, "POST", f"{base}/workflows/mlgate-retrain.yml/dispatches", {"ref": "main", "inputs": {"x": 1}}
    )
    no_trigger, _ = call(github, "POST", f"{base}/workflows/mlgate-pr.yml/dispatches", {"ref": "main"})

    assert [r["id"] for r in runs["workflow_runs"]] == [run.id] and runs["total_count"] == 1
    assert runs["workflow_runs"][0]["pull_requests"][0]["number"] == 1
    assert (rerun, busy, plain, detailed, unknown, no_trigger) == (201, 403, 204, 200, 422, 422)
    assert message["message"] == 'Unexpected inputs provided: ["x"]'
    dispatched = github.repo().runs[details["workflow_run_id"]]
    assert (dispatched.event, dispatched.inputs, dispatched.head_branch) == (
        "workflow_dispatch",
        {"when": "always"},
        "main",
    )
    assert details["html_url"] == f"{github.server_url}/octo/demo/actions/runs/{dispatched.id}"
    assert github.repo().runs[run.id].run_attempt == 2


def test_actions_routes_need_the_actions_permission(github: GitHubStandIn) -> None:
    github.add_workflow("mlgate-retrain.yml", dispatch_inputs=())
    github.add_token("ghs_issues_only", permissions={"issues": "write"})

    status, answer = call(
        github,
        "POST",
        "/repos/octo/demo/actions/workflows/mlgate-retrain.yml/dispatches",
        {"ref": "main"},
        "ghs_issues_only",
    )

    assert (status, answer["message"]) == (403, "Resource not accessible by integration")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/repos/octo/demo/issues/1"),
        ("GET", "/repos/octo/demo/pulls/1"),
        ("GET", "/repos/octo/demo/issues/comments/{id}"),
    ],
)
def test_issue_pull_and_comment_reads_have_githubs_shapes(github: GitHubStandIn, method: str, path: str) -> None:
    github.add_pull()
    (comment,) = github.add_comments(1, issue=1)

    conforming(github, method, path.format(id=comment.id))


def test_issues_are_created_listed_by_label_and_edited_in_githubs_shapes(github: GitHubStandIn) -> None:
    status, created = conforming(
        github, "POST", "/repos/octo/demo/issues", {"title": "t", "body": "b", "labels": ["x"]}
    )
    assert status == 201 and created["labels"][0]["name"] == "x" and created["body"] == "b"
    conforming(github, "POST", "/repos/octo/demo/issues", {"title": "other"})
    status, missing = call(github, "POST", "/repos/octo/demo/issues", {"body": "no title"})
    assert status == 422 and missing["errors"][0] == {"resource": "Issue", "code": "missing_field", "field": "title"}
    status, listed = conforming(github, "GET", "/repos/octo/demo/issues?labels=x&state=open")
    assert [issue["number"] for issue in listed] == [created["number"]]
    status, edited = conforming(github, "PATCH", f"/repos/octo/demo/issues/{created['number']}", {"body": "new"})
    assert status == 200 and edited["body"] == "new"
    repo = pygithub_client(github).get_repo("octo/demo")
    (found,) = repo.get_issues(state="open", labels=["x"])
    found.edit(state="closed")
    assert list(repo.get_issues(state="open", labels=["x"])) == []
    assert [i.title for i in repo.get_issues(state="all")] == ["other", "t"]
