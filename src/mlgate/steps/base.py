"""What every step shares: the project it runs in, and the rule that a step never escapes with an error.

A step is `run(inputs, project) -> StepResult`. When it stops on bad input (an MlgateError) or a crash, the
result it returns, and writes to the bundle, has verdict `error` and the message; the exception rides along in
`result.error` so the command line can exit 2 with the one sentence.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlgate.config.model import DEFAULT_CONFIG, Config
from mlgate.errors import MlgateError
from mlgate.ghcontext import GitHubContext, context_from_env
from mlgate.results import DEFAULT_RESULTS_DIR, UNRECORDED_STEPS, StepResult, error_result, write_result


@dataclass(frozen=True)
class Project:
    """The repository a step works on: its policy (mlgate.yml), where results go, and the environment it reads
    (GitHub's variables and event payload, MLGATE_* settings)."""

    config: Config
    results_dir: Path = DEFAULT_RESULTS_DIR
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    debug: bool = False

    @classmethod
    def load(
        cls,
        config: Path | str = DEFAULT_CONFIG,
        *,
        results_dir: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        debug: bool = False,
    ) -> Project:
        """The project of a mlgate.yml (the default one missing: all defaults); results go to `results_dir`, by
        default `.mlgate/results` beside the mlgate.yml."""
        from mlgate.config import load_config

        path = Path(config)
        loaded = load_config(path, explicit=path != DEFAULT_CONFIG)
        folder = Path(results_dir) if results_dir is not None else loaded.root / DEFAULT_RESULTS_DIR
        return cls(loaded, folder, os.environ if env is None else env, debug)

    @property
    def github(self) -> GitHubContext:
        return context_from_env(self.env)

    def head_sha(self) -> str | None:
        """The commit under test: the event's (a PR's head), else HEAD of the repository."""
        from mlgate.adapters import git

        return self.github.sha or git.rev_parse(self.config.repository_root(), "HEAD")

    def record(self, result: StepResult) -> StepResult:
        """Write the result to the bundle (atomically) and hand it back."""
        if result.step not in UNRECORDED_STEPS:
            write_result(self.results_dir, result)
        return result


def guarded(step: str, project: Project, body: Callable[[], StepResult]) -> StepResult:
    """`body()`'s result, or, when it raises, the step's `error` result, written to the bundle when possible."""
    try:
        return body()
    except Exception as exc:
        if project.debug and not isinstance(exc, MlgateError):
            traceback.print_exc(file=sys.stderr)
        try:
            head = project.head_sha()
        except (MlgateError, OSError):  # the event payload itself may be what is broken
            head = None
        result = error_result(step, exc, {"head": head})
        # The results folder may be what is broken (unwritable, a file): then the original error is the one to see.
        with contextlib.suppress(MlgateError, OSError):
            project.record(result)
        return result
