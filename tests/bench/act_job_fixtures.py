"""`run_jobs`: our composite actions run by act in small workflows (see act_jobs.py), against the test's
GitHub stand-in, on the session's act bench."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # fixture modules are plugins: importing one from another at load time defeats assert rewriting
    from bench.act_bench import ActBench
    from bench.act_jobs import JobsRunner
    from bench.github_standin import GitHubStandIn


@pytest.fixture
def run_jobs(act_bench: ActBench, tmp_path: Path, github: GitHubStandIn) -> JobsRunner:
    from bench.act_jobs import JobsRunner

    return JobsRunner(act_bench, tmp_path / "act", github.base_url, github.server_url)
