"""The pull-request drivers on their own: GitHub through PyGithub and the stand-in, and the local outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.github_fixtures import DEMO_REPO, DEMO_TOKEN
from bench.github_standin import GitHubStandIn

from mlgate.drivers.github import RetryPolicy
from mlgate.drivers.outbox import Outbox
from mlgate.drivers.protocol import DriverError
from mlgate.drivers.pulls import GitHubPulls, LocalPulls, PullRequestSpec

SPEC = PullRequestSpec("mlgate/retrain", "main", "mlgate retrain: data drifted", "body", "mlgate:retrain")


def driver(github: GitHubStandIn, token: str = DEMO_TOKEN) -> GitHubPulls:
    return GitHubPulls(
        api_url=github.base_url,
        repository=DEMO_REPO,
        token=token,
        policy=RetryPolicy(base_delay=0.01),
        sleep=lambda seconds: None,
    )


def test_opens_then_leaves_alone_then_updates(github: GitHubStandIn) -> None:
    github.add_commit(branch="mlgate/retrain")
    pulls = driver(github)
    opened = pulls.upsert_pull(SPEC)
    [pull] = github.repo().pulls.values()
    assert (opened.action, opened.number) == ("created", pull.issue.number)
    assert opened.url == f"{github.server_url}/octo/demo/pull/{pull.issue.number}"
    assert pull.issue.labels == ["mlgate:retrain"] and pull.issue.title == SPEC.title

    assert pulls.upsert_pull(SPEC).action == "unchanged"
    assert not github.calls("PATCH") and len(github.calls("POST", r".*/labels")) == 1

    newer = PullRequestSpec(SPEC.head, SPEC.base, "mlgate retrain: scheduled retraining", "new body", SPEC.label)
    assert pulls.upsert_pull(newer).action == "updated"
    assert (pull.issue.title, pull.issue.body) == (newer.title, "new body") and len(github.repo().pulls) == 1


def test_an_unlabelled_pull_request_from_the_branch_is_adopted(github: GitHubStandIn) -> None:
    existing = github.add_pull(head_ref="mlgate/retrain", title="opened by hand", body="notes")
    outcome = driver(github).upsert_pull(SPEC)
    assert (outcome.action, outcome.number) == ("updated", existing.issue.number)
    assert existing.issue.labels == ["mlgate:retrain"] and existing.issue.body == "body"
    assert len(github.repo().pulls) == 1


def test_a_lost_create_response_does_not_open_a_second_pull_request(github: GitHubStandIn) -> None:
    github.add_commit(branch="mlgate/retrain")
    github.fault("POST", r"/repos/octo/demo/pulls", status=502, after_apply=True)  # created, answer lost
    outcome = driver(github).upsert_pull(SPEC)
    [pull] = github.repo().pulls.values()
    assert outcome.number == pull.issue.number and pull.issue.labels == ["mlgate:retrain"]


def test_a_token_that_may_not_open_pull_requests_gets_the_permissions_hint(github: GitHubStandIn) -> None:
    github.add_token("ghs_contents_only", permissions={"contents": "write"})
    github.add_commit(branch="mlgate/retrain")
    with pytest.raises(DriverError) as caught:
        driver(github, "ghs_contents_only").upsert_pull(SPEC)
    assert "`contents: write` and `pull-requests: write`" in caught.value.message
    assert not github.repo().pulls


def test_the_local_driver_keeps_one_record_per_branch(tmp_path: Path) -> None:
    pulls = LocalPulls(Outbox(tmp_path / "outbox"))
    first = pulls.upsert_pull(SPEC)
    assert (first.action, first.number) == ("created", 1)
    assert pulls.upsert_pull(SPEC).action == "unchanged"
    moved = PullRequestSpec(SPEC.head, SPEC.base, SPEC.title, "new body", SPEC.label, head_sha="b" * 40)
    assert pulls.upsert_pull(moved) == first.__class__("updated", 1, first.url)
    other = pulls.upsert_pull(PullRequestSpec("other/branch", "main", "t", "b", "x"))
    assert other.number == 2
    [record] = [r for r in Outbox(tmp_path / "outbox").list("pull") if r["head"] == SPEC.head]
    assert record["revision"] == 2 and record["body"] == "new body" and record["head_sha"] == "b" * 40
    assert record["labels"] == ["mlgate:retrain"] and record["state"] == "open"
