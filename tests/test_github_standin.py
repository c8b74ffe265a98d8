"""The GitHub stand-in, driven by PyGithub itself: shapes, pagination, validation, permissions and faults."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import warnings
from typing import Any

import pytest
import requests
from bench.github_fixtures import pygithub_client
from bench.github_standin import GitHubStandIn
from github import (
    BadCredentialsException,
    GithubException,
    GithubRetry,
    RateLimitExceededException,
    UnknownObjectException,
)


def raw_get(standin: GitHubStandIn, path: str, token: str = "ghs_test") -> tuple[int, dict[str, str], Any]:
    """A GET outside PyGithub, to see headers and bodies exactly as sent."""
    request = urllib.request.Request(f"{standin.base_url}{path}", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


# Keys GitHub sends only for other media types (body_html/body_text) or that re-serialise the object.
NOT_IN_DEFAULT_JSON = {"body_html", "body_text", "raw_data", "raw_headers"}


def read_properties(obj: object) -> None:
    """Read every public property PyGithub defines, so absent JSON keys show up as completion GETs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # e.g. CheckRun.check_suite_id
        for name, value in vars(type(obj)).items():
            if isinstance(value, property) and not name.startswith("_") and name not in NOT_IN_DEFAULT_JSON:
                getattr(obj, name)


# ----------------------------------------------------------------------------------- comments, pagination


def test_comments_page_through_link_headers_and_total_count(github: GitHubStandIn) -> None:
    pull = github.add_pull()
    github.add_comments(250, issue=pull.issue.number)
    client = pygithub_client(github, per_page=100)
    issue = client.get_repo("octo/demo").get_issue(1)

    bodies = [comment.body for comment in issue.get_comments()]

    assert bodies == [f"comment {i}" for i in range(1, 251)]
    listing = github.calls("GET", r"/repos/octo/demo/issues/1/comments")
    assert [call.query for call in listing] == [
        {"per_page": "100"},
        {"page": "2", "per_page": "100"},
        {"page": "3", "per_page": "100"},
    ]
    assert issue.get_comments().totalCount == 250
    assert github.requests[-1].query == {"per_page": "1"}


def test_link_header_is_rfc5988_and_omitted_on_a_single_page(github: GitHubStandIn) -> None:
    github.add_pull()
    github.add_comments(5, issue=1)
    path = "/repos/octo/demo/issues/1/comments"
    root = f"{github.base_url}{path}"

    _, first, items = raw_get(github, f"{path}?per_page=2")
    _, middle, _ = raw_get(github, f"{path}?per_page=2&page=2")
    _, single, _ = raw_get(github, path)

    assert len(items) == 2
    assert first["Link"] == f'<{root}?per_page=2&page=2>; rel="next", <{root}?per_page=2&page=3>; rel="last"'
    assert middle["Link"].split(", ") == [
        f'<{root}?per_page=2&page=3>; rel="next"',
        f'<{root}?per_page=2&page=3>; rel="last"',
        f'<{root}?per_page=2&page=1>; rel="first"',
        f'<{root}?per_page=2&page=1>; rel="prev"',
    ]
    assert "Link" not in single


def test_comment_create_update_delete_round_trip(github: GitHubStandIn) -> None:
    github.add_pull()
    pull = pygithub_client(github).get_repo("octo/demo").get_pull(1)

    comment = pull.create_issue_comment("<!-- mlgate -->\nfirst")
    comment.edit("<!-- mlgate -->\nsecond")

    listed = list(pull.get_issue_comments())
    assert [(c.id, c.body, c.user.login, c.user.type) for c in listed] == [
        (comment.id, "<!-- mlgate -->\nsecond", "github-actions[bot]", "Bot")
    ]
    assert comment.html_url == f"{github.server_url}/octo/demo/pull/1#issuecomment-{comment.id}"
    assert comment.created_at.tzinfo is not None
    assert (
        comment.raw_headers["location"]
        == comment.url
        == f"{github.base_url}/repos/octo/demo/issues/comments/{comment.id}"
    )
    create = github.calls("POST")[0]
    assert (create.status, create.body, create.token) == (201, {"body": "<!-- mlgate -->\nfirst"}, "ghs_test")
    comment.delete()
    assert github.calls("DELETE")[0].status == 204
    assert pull.get_issue_comments().totalCount == 0
    with pytest.raises(UnknownObjectException):
        pull.as_issue().get_comment(comment.id)


def test_comment_body_over_65536_characters_is_a_422(github: GitHubStandIn) -> None:
    github.add_pull()
    issue = pygithub_client(github).get_repo("octo/demo").get_issue(1)

    issue.create_comment("x" * 65536)
    with pytest.raises(GithubException) as caught:
        issue.create_comment("x" * 65537)

    assert caught.value.status == 422
    assert caught.value.message == "Validation Failed"
    assert caught.value.data["errors"][0]["field"] == "body"
    assert caught.value.data["status"] == "422"
    assert len(github.repo().comments) == 1


def test_listed_objects_carry_every_key_pygithub_reads(github: GitHubStandIn) -> None:
    pull = github.add_pull()
    github.add_comments(1, issue=1)
    github.add_check_run(head_sha=pull.head_sha)
    github.add_status(sha=pull.head_sha, context="ci")
    repo = pygithub_client(github).get_repo("octo/demo")
    deployment = repo.create_deployment(pull.head_sha, required_contexts=[], environment="staging")
    deployment.create_status("success")
    ref = repo.create_git_ref("refs/tags/m@v1", pull.head_sha)
    commit = repo.get_commit(pull.head_sha)
    issue = repo.get_issue(1)
    listed = [
        *issue.get_comments(),
        *commit.get_check_runs(),
        *commit.get_statuses(),
        commit.get_combined_status(),
        *repo.get_deployments(),
        *deployment.get_statuses(),
        *repo.get_git_matching_refs("tags/"),
        *issue.get_labels(),
    ]
    before = len(github.requests)

    for obj in listed:
        read_properties(obj)

    assert len(github.requests) == before  # no completion GET: every key PyGithub reads is present
    assert ref.object.type == "commit"


def test_listed_pulls_lack_merge_fields_like_github(github: GitHubStandIn) -> None:
    github.add_pull()
    repo = pygithub_client(github).get_repo("octo/demo")
    listed = next(iter(repo.get_pulls()))

    assert listed.head.ref == "feature"
    assert not github.calls("GET", r"/repos/octo/demo/pulls/1")
    assert listed.mergeable is True  # absent from the list shape, so PyGithub GETs the full PR
    assert len(github.calls("GET", r"/repos/octo/demo/pulls/1")) == 1


# ------------------------------------------------------------------------------------------ pull requests


def test_pulls_create_list_update_and_commit_association(github: GitHubStandIn) -> None:
    head = github.add_commit(branch="mlgate/retrain", parents=[github.repo().refs["refs/heads/main"]])
    repo = pygithub_client(github).get_repo("octo/demo")

    created = repo.create_pull(base="main", head="mlgate/retrain", title="Retrain", body="drift")
    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(base="main", head="mlgate/retrain", title="Retrain again")

    assert (created.number, created.head.sha, created.base.ref, created.user.login) == (
        1,
        head,
        "main",
        "github-actions[bot]",
    )
    assert duplicate.value.status == 422
    assert duplicate.value.data["errors"][0]["message"] == "A pull request already exists for octo:mlgate/retrain."
    assert [p.number for p in repo.get_pulls(head="octo:mlgate/retrain")] == [1]
    assert [p.number for p in repo.get_pulls(head="octo:other")] == []
    assert [c.sha for c in created.get_commits()] == [head]
    assert (created.draft, created.maintainer_can_modify, created.commits) == (False, False, 1)
    assert [p.number for p in repo.get_commit(head).get_pulls()] == [1]
    created.edit(title="Retrain (drift)", state="closed")
    assert repo.get_pull(1).title == "Retrain (drift)"
    assert [p.number for p in repo.get_pulls()] == []
    assert [p.state for p in repo.get_pulls(state="closed")] == ["closed"]
    github.add_pull(head_ref="wip", draft=True)
    github.add_pull(head_ref="old", state="closed")
    assert [(p.number, p.draft) for p in repo.get_pulls(state="all", direction="asc")] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    assert [p.number for p in repo.get_pulls(state="closed", sort="updated")] == [3, 1]
    assert github.calls("GET", r"/repos/octo/demo/commits/[0-9a-f]{40}")[0].query == {"page": "1"}


def test_fork_pull_head_lives_in_the_fork_and_is_not_in_check_run_pulls(github: GitHubStandIn) -> None:
    fork_pull = github.add_pull(fork=True, user="outsider", head_ref="patch")
    same_pull = github.add_pull(head_ref="feature")
    repo = pygithub_client(github).get_repo("octo/demo")

    pull = repo.get_pull(fork_pull.issue.number)
    fork_run = repo.create_check_run("mlgate", fork_pull.head_sha, status="in_progress")
    same_run = repo.create_check_run("mlgate", same_pull.head_sha, status="in_progress")

    assert (pull.head.repo.full_name, pull.head.repo.fork, pull.head.label) == (
        "outsider/demo",
        True,
        "outsider:patch",
    )
    assert pull.base.repo.full_name == "octo/demo"
    assert fork_run.pull_requests == []
    assert [p.number for p in same_run.pull_requests] == [same_pull.issue.number]
    assert [p.number for p in repo.get_pulls(head="outsider:patch")] == [fork_pull.issue.number]


def test_labels_add_list_remove(github: GitHubStandIn) -> None:
    github.add_pull()
    issue = pygithub_client(github).get_repo("octo/demo").get_issue(1)

    issue.add_to_labels("mlgate: pass", "model")
    issue.remove_from_labels("mlgate: pass")

    assert [label.name for label in issue.get_labels()] == ["model"]
    assert issue.repository.get_label("mlgate: pass").url.endswith("/labels/mlgate%3A%20pass")
    issue.set_labels("gate: fail")
    assert [label.name for label in issue.get_labels()] == ["gate: fail"]
    issue.delete_labels()
    assert list(issue.get_labels()) == []
    assert github.calls("POST")[0].body == ["mlgate: pass", "model"]
    assert github.calls("DELETE")[0].path == "/repos/octo/demo/issues/1/labels/mlgate: pass"
    with pytest.raises(GithubException) as absent:
        issue.remove_from_labels("absent")
    assert (absent.value.status, absent.value.message) == (404, "Label does not exist")


def test_commit_comment(github: GitHubStandIn) -> None:
    sha = github.add_commit(branch="main")
    commit = pygithub_client(github).get_repo("octo/demo").get_commit(sha)

    comment = commit.create_comment("gate: pass")

    assert (comment.commit_id, comment.body) == (sha, "gate: pass")
    assert [c.id for c in commit.get_comments()] == [comment.id]
    assert pygithub_client(github).get_repo("octo/demo").get_comment(comment.id).body == "gate: pass"


# ------------------------------------------------------------------------------------- checks, statuses


def test_check_run_annotations_append_in_batches_of_at_most_50(github: GitHubStandIn) -> None:
    sha = github.add_pull().head_sha
    repo = pygithub_client(github).get_repo("octo/demo")
    run = repo.create_check_run("mlgate", sha, status="in_progress", output={"title": "t", "summary": "s"})
    notes = [
        {
            "path": "data/train.csv",
            "start_line": i,
            "end_line": i,
            "annotation_level": "warning",
            "message": f"n{i}",
        }
        for i in range(1, 122)
    ]

    for start in range(0, 120, 50):
        run.edit(output={"title": "gate", "summary": "batch", "annotations": notes[start : min(start + 50, 120)]})
    with pytest.raises(GithubException) as too_many:
        run.edit(output={"title": "gate", "summary": "s", "annotations": notes[:51]})
    run.edit(conclusion="failure")

    assert [len(call.body["output"]["annotations"]) for call in github.calls("PATCH")[:3]] == [50, 50, 20]
    assert too_many.value.status == 422
    assert (run.status, run.conclusion, run.output.annotations_count) == ("completed", "failure", 120)
    assert run.completed_at is not None
    assert run.output.summary == "batch"  # an update without output keeps the previous one
    assert repo.get_check_run(run.id).output.annotations_count == 120
    annotations = list(run.get_annotations())
    assert [a.message for a in annotations] == [f"n{i}" for i in range(1, 121)]
    assert annotations[0].blob_href == f"{github.server_url}/octo/demo/blob/{sha}/data/train.csv"


def test_check_run_summary_over_65535_characters_is_a_422(github: GitHubStandIn) -> None:
    sha = github.add_pull().head_sha
    repo = pygithub_client(github).get_repo("octo/demo")

    with pytest.raises(GithubException) as caught:
        repo.create_check_run("mlgate", sha, conclusion="success", output={"title": "t", "summary": "s" * 70000})

    assert caught.value.status == 422
    assert caught.value.message == "Invalid request.\n\nOnly 65535 characters are allowed; 70000 were supplied."
    assert github.repo().check_runs == {}


def test_check_runs_for_ref_are_latest_per_name_unless_filter_all(github: GitHubStandIn) -> None:
    sha = github.add_pull().head_sha
    github.add_check_run(head_sha=sha, conclusion="failure")
    newest = github.add_check_run(head_sha=sha, conclusion="success")
    github.add_check_run(head_sha=sha, name="lint", status="in_progress", conclusion=None)
    commit = pygithub_client(github).get_repo("octo/demo").get_commit("feature")

    latest = list(commit.get_check_runs())

    assert [(run.name, run.conclusion) for run in latest] == [("lint", None), ("mlgate", "success")]
    assert commit.get_check_runs(check_name="mlgate")[0].id == newest.id
    assert commit.get_check_runs(filter="all").totalCount == 3
    assert [run.name for run in commit.get_check_runs(status="in_progress")] == ["lint"]


def test_statuses_and_combined_status(github: GitHubStandIn) -> None:
    sha = github.add_pull().head_sha
    commit = pygithub_client(github).get_repo("octo/demo").get_commit(sha)
    assert commit.get_combined_status().state == "pending"  # no statuses yet

    commit.create_status("pending", context="mlgate")
    commit.create_status("success", context="mlgate", description="gate passed")
    commit.create_status("failure", context="lint")
    failing = commit.get_combined_status()
    commit.create_status("success", context="LINT")  # contexts are case-insensitive
    passing = commit.get_combined_status()

    assert (failing.state, failing.total_count) == ("failure", 2)
    assert passing.state == "success"
    assert sorted((s.context, s.state) for s in passing.statuses) == [
        ("LINT", "success"),
        ("mlgate", "success"),
    ]
    assert [s.state for s in commit.get_statuses()] == ["success", "failure", "success", "pending"]
    created = github.calls("POST", r"/repos/octo/demo/statuses/[0-9a-f]{40}")
    assert created[1].body == {"state": "success", "context": "mlgate", "description": "gate passed"}


# ------------------------------------------------------------------------------------------- deployments


def test_deployment_required_contexts_are_checked_like_github(github: GitHubStandIn) -> None:
    sha = github.add_commit(branch="main")
    repo = pygithub_client(github).get_repo("octo/demo")
    github.add_status(sha=sha, context="ci", state="success")
    github.add_check_run(head_sha=sha, name="mlgate", conclusion="failure")

    with pytest.raises(GithubException) as omitted:
        repo.create_deployment(sha, auto_merge=False)
    with pytest.raises(GithubException) as missing:
        repo.create_deployment(sha, required_contexts=["ci", "data"], auto_merge=False)
    bypass = repo.create_deployment(sha, required_contexts=[], environment="staging")
    github.add_check_run(head_sha=sha, name="mlgate", conclusion="success")
    green = repo.create_deployment(sha, required_contexts=["mlgate"], auto_merge=False)

    assert omitted.value.status == 409
    assert omitted.value.message == f"Conflict: Commit status checks failed for {sha}."
    assert omitted.value.data["errors"][0]["contexts"] == [{"context": "mlgate", "state": "failure"}]
    assert missing.value.data["errors"][0]["contexts"] == [{"context": "data", "state": "missing"}]
    assert (bypass.environment, bypass.production_environment, bypass.sha) == ("staging", False, sha)
    assert (green.environment, green.production_environment, green.task) == ("production", True, "deploy")
    assert [d.id for d in repo.get_deployments()] == [green.id, bypass.id]
    assert [d.id for d in repo.get_deployments(environment="staging")] == [bypass.id]
    assert repo.get_deployment(green.id).creator.login == "github-actions[bot]"
    assert [call.status for call in github.calls("POST", r"/repos/octo/demo/deployments")] == [
        409,
        409,
        201,
        201,
    ]


def test_deployment_of_a_branch_behind_default_auto_merges_without_deploying(github: GitHubStandIn) -> None:
    github.add_pull(head_ref="topic")
    github.add_commit(branch="main")  # main moves ahead of topic
    repo = pygithub_client(github).get_repo("octo/demo")

    merged = repo.create_deployment("topic", required_contexts=[])
    deployed = repo.create_deployment("topic", required_contexts=[])

    assert merged.id is None  # GitHub's 202: the default branch was merged in, no deployment created
    assert github.calls("POST")[0].status == 202
    assert deployed.id is not None
    assert deployed.sha == github.repo().refs["refs/heads/topic"]


def test_deployment_statuses_newest_first_and_auto_inactive(github: GitHubStandIn) -> None:
    sha = github.add_commit(branch="main")
    repo = pygithub_client(github).get_repo("octo/demo")
    first = repo.create_deployment(sha, required_contexts=[], environment="staging")
    first.create_status("in_progress", target_url="https://ci.example/1")
    first.create_status("success", environment_url="https://staging.example")
    second = repo.create_deployment(sha, required_contexts=[], environment="staging")

    second.create_status("success")

    assert [s.state for s in first.get_statuses()] == ["inactive", "success", "in_progress"]
    assert [s.state for s in second.get_statuses()] == ["success"]
    assert second.get_status(next(iter(second.get_statuses())).id).environment == "staging"
    oldest = list(first.get_statuses())[-1]
    assert (oldest.target_url, oldest.log_url, oldest.environment) == ("https://ci.example/1",) * 2 + ("staging",)
    with pytest.raises(GithubException) as long_description:
        second.create_status("failure", description="d" * 141)
    assert long_description.value.status == 422


# ---------------------------------------------------------------------------------------------- git refs


def test_git_refs_with_hash_and_at_signs_round_trip(github: GitHubStandIn) -> None:
    sha = github.add_commit(branch="main")
    newer = github.add_commit(branch="main")
    repo = pygithub_client(github).get_repo("octo/demo")
    tag = repo.create_git_tag("churn-model@v1.4.0", "model churn-model v1.4.0", sha, "commit")

    repo.create_git_ref("refs/tags/churn-model@v1.4.0", tag.sha)
    repo.create_git_ref("refs/tags/churn-model#production#3", sha)
    with pytest.raises(GithubException) as exists:
        repo.create_git_ref("refs/tags/churn-model#production#3", sha)
    production = repo.get_git_ref("tags/churn-model#production#3")
    production.edit(newer, force=True)
    matching = repo.get_git_matching_refs("tags/churn-model")

    assert (exists.value.status, exists.value.message) == (422, "Reference already exists")
    assert [(r.ref, r.object.type) for r in matching] == [
        ("refs/tags/churn-model#production#3", "commit"),
        ("refs/tags/churn-model@v1.4.0", "tag"),
    ]
    assert production.object.sha == newer
    assert repo.get_git_tag(tag.sha).object.sha == sha
    assert repo.get_commit("churn-model@v1.4.0").sha == sha  # annotated tags peel to their commit
    assert [r.ref for r in repo.get_git_matching_refs("tags/churn-model@")] == ["refs/tags/churn-model@v1.4.0"]
    assert [r.ref for r in repo.get_git_refs()] == [
        "refs/heads/main",
        "refs/tags/churn-model#production#3",
        "refs/tags/churn-model@v1.4.0",
    ]
    production.delete()
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("tags/churn-model#production#3")
    assert [call.raw_path.split("/git/")[1] for call in github.calls(path=r".*/git/(ref|refs|matching-refs)/.*")] == [
        "ref/tags/churn-model%23production%233",
        "refs/tags/churn-model%23production%233",
        "matching-refs/tags%2Fchurn-model",
        "matching-refs/tags%2Fchurn-model%40",
        "refs/tags/churn-model%23production%233",
        "ref/tags/churn-model%23production%233",
    ]
    assert github.calls("DELETE")[0].path == "/repos/octo/demo/git/refs/tags/churn-model#production#3"


# ------------------------------------------------------------------------------------------- tokens, auth


def test_read_only_fork_token_cannot_write(github: GitHubStandIn) -> None:
    github.add_pull(fork=True)
    github.add_token("ghs_fork", read_only=True)
    issue = pygithub_client(github, token="ghs_fork").get_repo("octo/demo").get_issue(1)

    with pytest.raises(GithubException) as caught:
        issue.create_comment("report")

    assert (caught.value.status, caught.value.message) == (403, "Resource not accessible by integration")
    assert github.repo().comments == {}
    assert len(github.calls("POST")) == 1  # a plain 403 is not retried


def test_scoped_permissions_block_checks_but_allow_statuses(github: GitHubStandIn) -> None:
    sha = github.add_pull().head_sha
    github.add_token("ghs_narrow", permissions={"checks": "read", "statuses": "write", "contents": "read"})
    repo = pygithub_client(github, token="ghs_narrow").get_repo("octo/demo")

    with pytest.raises(GithubException) as caught:
        repo.create_check_run("mlgate", sha, conclusion="success")
    repo.get_commit(sha).create_status("success", context="mlgate")

    assert caught.value.status == 403
    assert [s.context for s in github.repo().statuses] == ["mlgate"]


def test_pat_identity_and_check_run_refusal(github: GitHubStandIn) -> None:
    sha = github.add_pull().head_sha
    github.add_token("ghp_personal", kind="pat", login="alice")
    pat = pygithub_client(github, token="ghp_personal")

    with pytest.raises(GithubException) as caught:
        pat.get_repo("octo/demo").create_check_run("mlgate", sha, conclusion="success")

    assert (caught.value.status, caught.value.message) == (403, "You must authenticate via a GitHub App.")
    assert pat.get_user().login == "alice"


def test_github_token_cannot_read_the_authenticated_user(github: GitHubStandIn) -> None:
    with pytest.raises(GithubException) as caught:
        _ = pygithub_client(github).get_user().login

    assert (caught.value.status, caught.value.message) == (403, "Resource not accessible by integration")
    assert pygithub_client(github).get_user("github-actions[bot]").type == "Bot"


def test_unknown_token_is_401_and_missing_objects_404(github: GitHubStandIn) -> None:
    with pytest.raises(BadCredentialsException):
        pygithub_client(github, token="ghs_wrong").get_repo("octo/demo")
    with pytest.raises(UnknownObjectException):
        pygithub_client(github).get_repo("octo/missing")
    with pytest.raises(UnknownObjectException):
        pygithub_client(github).get_repo("octo/demo").get_pull(99)
    with pytest.raises(GithubException) as anonymous:
        pygithub_client(github, token=None).get_repo("octo/demo").get_commit("main").create_status("success")

    assert anonymous.value.status == 401
    github.add_repo("octo/secret", private=True)
    with pytest.raises(UnknownObjectException):
        pygithub_client(github, token=None).get_repo("octo/secret")
    assert pygithub_client(github).get_repo("octo/secret").private is True
    status, _, body = raw_get(github, "/repos/octo/demo/nothing-here")
    assert (status, body["message"], body["status"]) == (404, "Not Found", "404")
    assert body["documentation_url"].startswith("https://docs.github.com/rest")


def test_rate_limit_headers_count_down_and_exhaust(github: GitHubStandIn) -> None:
    github.add_token("ghs_small", rate_limit=3)
    _, first, _ = raw_get(github, "/repos/octo/demo", token="ghs_small")
    _, second, _ = raw_get(github, "/repos/octo/demo", token="ghs_small")
    client = pygithub_client(github, token="ghs_small", retry=None)

    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"], first["X-RateLimit-Used"]) == (
        "3",
        "2",
        "1",
    )
    assert (second["X-RateLimit-Remaining"], second["X-RateLimit-Resource"]) == ("1", "core")
    assert int(second["X-RateLimit-Reset"]) > time.time()
    assert client.get_rate_limit().resources.core.remaining == 1  # GET /rate_limit is free
    client.get_repo("octo/demo")
    with pytest.raises(RateLimitExceededException):
        client.get_repo("octo/demo")
    assert client.rate_limiting == (0, 3)


def test_env_points_a_client_at_the_stand_in(github: GitHubStandIn) -> None:
    env = github.env()
    client = pygithub_client(github, token=env["GITHUB_TOKEN"])

    assert env["GITHUB_API_URL"] == github.base_url
    assert env["GITHUB_API_URL"].endswith("/api/v3")
    assert client.get_repo(env["GITHUB_REPOSITORY"]).html_url == f"{env['GITHUB_SERVER_URL']}/octo/demo"


# ------------------------------------------------------------------------------------------------ faults


def test_a_5xx_once_is_retried_by_pygithub_with_one_side_effect(github: GitHubStandIn) -> None:
    github.add_pull()
    issue = pygithub_client(github).get_repo("octo/demo").get_issue(1)
    fault = github.fault("POST", r"/repos/octo/demo/issues/\d+/comments", status=502)

    issue.create_comment("report")

    assert fault.hits == 1
    assert [call.status for call in github.calls("POST")] == [502, 201]
    assert len(github.repo().comments) == 1


def test_a_5xx_after_the_create_applied_makes_the_retry_duplicate_it(github: GitHubStandIn) -> None:
    github.add_pull()
    issue = pygithub_client(github).get_repo("octo/demo").get_issue(1)
    github.fault("POST", r"/repos/octo/demo/issues/1/comments", status=502, after_apply=True)

    issue.create_comment("report")

    assert [c.body for c in github.repo().comments.values()] == ["report", "report"]


def test_a_dropped_create_still_happened_and_a_relist_finds_it(github: GitHubStandIn) -> None:
    github.add_pull()
    issue = pygithub_client(github, retry=None).get_repo("octo/demo").get_issue(1)
    github.fault("POST", r"/repos/octo/demo/issues/1/comments", reset=True, after_apply=True)

    with pytest.raises(requests.exceptions.ConnectionError):
        issue.create_comment("<!-- mlgate -->")

    assert [c.body for c in issue.get_comments()] == ["<!-- mlgate -->"]
    assert github.calls("POST")[0].status is None


def test_a_reset_get_is_retried_by_pygithub(github: GitHubStandIn) -> None:
    github.fault("GET", r"/repos/octo/demo", reset=True)

    assert pygithub_client(github).get_repo("octo/demo").full_name == "octo/demo"
    assert len(github.calls("GET")) == 2


def test_retry_after_is_honoured(github: GitHubStandIn) -> None:
    github.add_pull()
    issue = pygithub_client(github).get_repo("octo/demo").get_issue(1)
    github.fault("POST", r".*/comments", rate_limit="secondary", retry_after=1)

    started = time.monotonic()
    issue.create_comment("report")

    assert time.monotonic() - started >= 1.0
    first = github.calls("POST")[0]
    assert (first.status, first.fault.headers["Retry-After"]) == (403, "1")
    assert len(github.repo().comments) == 1


def test_secondary_rate_limit_without_retry_after_waits_secondary_rate_wait(github: GitHubStandIn) -> None:
    github.add_pull()
    retry = GithubRetry(total=3, secondary_rate_wait=0.2)
    issue = pygithub_client(github, retry=retry).get_repo("octo/demo").get_issue(1)
    github.fault("POST", r".*/comments", rate_limit="secondary", times=None)

    with pytest.raises(requests.exceptions.RetryError):
        issue.create_comment("report")

    assert len(github.calls("POST")) == 4
    assert github.repo().comments == {}


def test_primary_rate_limit_waits_for_the_reset(github: GitHubStandIn) -> None:
    github.fault("GET", r"/repos/octo/demo", rate_limit="primary", reset_in=1)
    started = time.monotonic()

    assert pygithub_client(github).get_repo("octo/demo").name == "demo"

    assert time.monotonic() - started >= 1.0  # PyGithub sleeps until X-RateLimit-Reset plus one second
    assert [call.status for call in github.calls("GET")] == [403, 200]
    github.fault("GET", r"/repos/octo/demo", rate_limit="primary", reset_in=30)
    with pytest.raises(RateLimitExceededException) as caught:
        pygithub_client(github, retry=None).get_repo("octo/demo")
    assert caught.value.data["message"] == "API rate limit exceeded for installation ID 1."
    assert caught.value.headers["x-ratelimit-remaining"] == "0"
    assert int(caught.value.headers["x-ratelimit-reset"]) >= time.time() + 29


def test_patch_is_never_retried(github: GitHubStandIn) -> None:
    github.add_pull()
    comment = pygithub_client(github).get_repo("octo/demo").get_issue(1).create_comment("a")
    github.fault("PATCH", r".*", status=500, times=None)

    with pytest.raises(GithubException) as caught:
        comment.edit("b")

    assert caught.value.status == 500
    assert len(github.calls("PATCH")) == 1
    github.clear_faults()
    comment.edit("b")
    assert comment.body == "b"


def test_slow_responses_delay_and_time_out(github: GitHubStandIn) -> None:
    github.fault("GET", r"/repos/octo/demo", delay=0.3)
    started = time.monotonic()
    pygithub_client(github).get_repo("octo/demo")
    assert time.monotonic() - started >= 0.3

    github.add_pull()
    client = pygithub_client(github, timeout=1, retry=None)  # PyGithub asserts an int timeout
    issue = client.get_repo("octo/demo").get_issue(1)
    github.fault("POST", r".*/comments", delay=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        issue.create_comment("late")
    late = github.calls("POST")[0]
    deadline = time.monotonic() + 10
    while late.status is None and time.monotonic() < deadline:  # the server is still sleeping
        time.sleep(0.05)
    assert late.status == 201
    assert [c.body for c in github.repo().comments.values()] == ["late"]  # the server still applied it


def test_custom_fault_body_and_headers_reach_pygithub(github: GitHubStandIn) -> None:
    github.fault("GET", r"/repos/octo/demo", status=429, body={"message": "slow down"}, headers={"X-Why": "test"})

    with pytest.raises(GithubException) as caught:
        pygithub_client(github).get_repo("octo/demo")

    assert (caught.value.status, caught.value.message, caught.value.headers["x-why"]) == (
        429,
        "slow down",
        "test",
    )
    with pytest.raises(ValueError, match="needs status"):
        github.fault("GET", r".*")
