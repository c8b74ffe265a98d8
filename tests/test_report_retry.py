"""The github driver's retry policy: what it waits for, how long, and when it gives up (stand-in + PyGithub)."""

from __future__ import annotations

import time

import pytest
from bench.github_standin import GitHubStandIn
from bench.report_fixtures import HEAD_SHA
from github import GithubException

from mlgate.drivers.github import GitHubDriver, RetryPolicy, classify
from mlgate.drivers.protocol import CommentRequest, DriverError, ReadOnlyToken

COMMENTS = r"/repos/octo/demo/issues/\d+/comments"
MARKER = "<!-- mlgate:report workflow=CI name=mlgate -->"
POLICY = RetryPolicy()


def driver(github: GitHubStandIn, waits: list[float], **policy: float) -> GitHubDriver:
    return GitHubDriver(
        api_url=github.base_url,
        repository="octo/demo",
        token="ghs_test",
        policy=RetryPolicy(**policy),  # type: ignore[arg-type]
        timeout=2,
        sleep=waits.append,  # record the waits instead of sleeping them
    )


@pytest.mark.parametrize(
    ("status", "message", "headers", "wait", "ambiguous"),
    [
        (502, "Bad Gateway", {}, 0.5, True),
        (503, "Unavailable", {"Retry-After": "7"}, 7.0, True),
        (
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            {},
            60,
            False,
        ),
        (403, "You have exceeded a secondary rate limit.", {"retry-after": "3"}, 3.0, False),
        (429, "Too Many Requests", {}, 60.0, False),
    ],
)
def test_retryable_answers_and_their_waits(
    status: int, message: str, headers: dict[str, str], wait: float, ambiguous: bool
) -> None:
    retry = classify(GithubException(status, {"message": message}, headers), 1, POLICY)
    assert retry is not None and retry.wait == pytest.approx(wait) and retry.ambiguous is ambiguous


def test_primary_limit_waits_until_the_reset() -> None:
    reset = str(int(time.time()) + 30)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    retry = classify(
        GithubException(403, {"message": "API rate limit exceeded for installation ID 1."}, headers), 1, POLICY
    )
    assert retry is not None and 29 <= retry.wait <= 32


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, "Resource not accessible by integration"),
        (401, "Bad credentials"),
        (404, "Not Found"),
        (422, "Validation Failed"),
    ],
)
def test_answers_that_retrying_cannot_fix(status: int, message: str) -> None:
    assert classify(GithubException(status, {"message": message}, {}), 1, POLICY) is None


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3, 8, 9)] == [0.5, 1.0, 2.0, 30.0, 30.0]


def test_secondary_limit_without_retry_after_waits_a_minute(github: GitHubStandIn) -> None:
    pull = github.add_pull(head_sha=HEAD_SHA)
    github.fault("POST", COMMENTS, rate_limit="secondary")
    waits: list[float] = []
    outcome = driver(github, waits).upsert_comment(CommentRequest(pull.issue.number, MARKER + "\nx", MARKER))
    assert outcome.action == "created" and waits == [60.0]


def test_gives_up_within_attempts_and_budget(github: GitHubStandIn) -> None:
    pull = github.add_pull(head_sha=HEAD_SHA)
    github.fault("POST", COMMENTS, status=500, times=None)
    waits: list[float] = []
    with pytest.raises(DriverError, match=r"failed after 4 attempt\(s\): HTTP 500"):
        driver(github, waits, attempts=4).upsert_comment(CommentRequest(pull.issue.number, MARKER + "\nx", MARKER))
    assert waits == [0.5, 1.0, 2.0]
    github.clear_faults()
    github.fault("POST", COMMENTS, rate_limit="secondary", times=None)
    waits.clear()
    with pytest.raises(DriverError, match="retry budget of 100 s"):
        driver(github, waits, budget=100).upsert_comment(CommentRequest(pull.issue.number, MARKER + "\nx", MARKER))
    assert waits == [60.0]  # a second minute would pass the budget: it fails instead of sleeping it
    assert not github.repo().comments


def test_a_timed_out_create_is_found_again_not_repeated(github: GitHubStandIn) -> None:
    """GitHub ends any request at 10 s and the client waits 15 s, so a timed-out create has settled by the
    time the driver looks again; here: 2 s timeout, the server applies the create at 2.2 s, the retry
    backoff (really slept) ends at 2.5 s, and the re-listing finds the comment."""
    pull = github.add_pull(head_sha=HEAD_SHA)
    github.fault("POST", COMMENTS, delay=2.2)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    slow = GitHubDriver(api_url=github.base_url, repository="octo/demo", token="ghs_test", timeout=2, sleep=sleep)
    outcome = slow.upsert_comment(CommentRequest(pull.issue.number, MARKER + "\nx", MARKER))
    assert outcome.action == "created" and len(github.repo().comments) == 1
    assert len(github.calls("POST", COMMENTS)) == 1 and waits == [0.5]


def test_read_only_token_is_reported_as_such(github: GitHubStandIn) -> None:
    github.add_token("ghs_fork", read_only=True)
    pull = github.add_pull(head_sha=HEAD_SHA)
    fork = GitHubDriver(api_url=github.base_url, repository="octo/demo", token="ghs_fork", sleep=lambda _: None)
    with pytest.raises(ReadOnlyToken, match="Resource not accessible by integration"):
        fork.upsert_comment(CommentRequest(pull.issue.number, MARKER + "\nx", MARKER))
