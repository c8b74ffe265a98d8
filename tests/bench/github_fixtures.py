"""Fixtures for the GitHub stand-in: `github` is a fresh stand-in with repository octo/demo and the write
token ghs_test; `pygithub_client` builds a PyGithub client talking to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from bench.github_standin import GitHubStandIn

if TYPE_CHECKING:
    import github as pygithub

DEMO_REPO = "octo/demo"
DEMO_TOKEN = "ghs_test"


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn() as standin:
        standin.add_repo(DEMO_REPO)
        standin.add_token(DEMO_TOKEN)
        yield standin
        assert not standin.internal_errors, "\n".join(standin.internal_errors)


def pygithub_client(standin: GitHubStandIn, token: str | None = DEMO_TOKEN, **options: Any) -> pygithub.Github:
    """A PyGithub client for the stand-in, without PyGithub's default pacing (0.25 s per request, 1 s per
    write). `options` go to `github.Github` (e.g. retry=, timeout=, per_page=); token None is anonymous."""
    import github as pygithub

    options = {"seconds_between_requests": None, "seconds_between_writes": None} | options
    auth = pygithub.Auth.Token(token) if token is not None else None
    return pygithub.Github(base_url=standin.base_url, auth=auth, **options)
