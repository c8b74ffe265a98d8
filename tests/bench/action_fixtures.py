"""pytest fixtures for running composite actions through bench.action_runner.

    def test_setup(run_action):
        result = run_action(REPO_ROOT / "actions" / "setup", {"version": "0.1.0"})
        assert result.ok, result.log

`run_action` is bound to fresh per-test directories laid out like a GitHub runner: the workspace, the
runner temp dir and tool cache of one job, the artifacts of one workflow run and the repository's
cache. Every call in a test shares them (one job), so an action can use what an earlier one left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.action_runner import DEFAULT_TIMEOUT, ActionResult, run_action

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ActionBench:
    """run_action bound to one test's directories; keyword arguments override them per call."""

    workspace: Path
    runner_temp: Path
    artifacts_dir: Path
    cache_dir: Path

    def __call__(
        self,
        action_dir: Path | str,
        inputs: Mapping[str, object] | None = None,
        *,
        workspace: Path | None = None,
        env: Mapping[str, str] | None = None,
        event: Mapping[str, object] | None = None,
        event_name: str = "pull_request",
        github: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ActionResult:
        return run_action(
            action_dir,
            inputs or {},
            workspace=workspace or self.workspace,
            env=env,
            event=event,
            event_name=event_name,
            github=github,
            runner_temp=self.runner_temp,
            artifacts_dir=self.artifacts_dir,
            cache_dir=self.cache_dir,
            timeout=timeout,
        )


@pytest.fixture(name="run_action")
def run_action_fixture(tmp_path: Path) -> ActionBench:
    """Callable like bench.action_runner.run_action, minus the directories (see ActionBench)."""
    root = tmp_path / "runner"
    directories = {
        "workspace": root / "work" / "repo" / "repo",
        "runner_temp": root / "work" / "_temp",
        "artifacts_dir": root / "artifacts",
        "cache_dir": root / "cache",
    }
    for directory in directories.values():
        directory.mkdir(parents=True)
    return ActionBench(**directories)
