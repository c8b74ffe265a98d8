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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.config.model import DEFAULT_CONFIG, Config
from mlgate.config.yamlsource import KeyPath
from mlgate.errors import InputError, MlgateError
from mlgate.ghcontext import GitHubContext, context_from_env
from mlgate.results import DEFAULT_RESULTS_DIR, UNRECORDED_STEPS, StepResult, error_result, write_result

if TYPE_CHECKING:
    from mlgate.adapters.dvc_fetch import Obtained


@dataclass(frozen=True)
class Project:
    """The repository a step works on: its policy (mlgate.yml), where results go, and the environment it reads
    (GitHub's variables and event payload, MLGATE_* settings)."""

    config: Config
    results_dir: Path = DEFAULT_RESULTS_DIR
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    debug: bool = False
    # What steps of one run share, computed once (the base side serving and compare both read).
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

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


@dataclass(frozen=True)
class Wanted:
    """A file a step reads: where it is, and the mlgate.yml key naming it (None: a command-line flag)."""

    path: Path
    key: KeyPath | None
    value: str  # as the user wrote it

    @classmethod
    def of(cls, config: Config, key: KeyPath, value: str) -> Wanted:
        return cls(config.resolve(value), key, value)


def _resolved(config: Config, item: Wanted) -> Path:
    """The file with its links followed; a symlink loop is the one-sentence error at its mlgate.yml key."""
    from mlgate.inputfile import resolve

    try:
        return resolve(item.path, f"file '{item.value}'")
    except InputError as exc:
        raise (config.error(item.key, exc.message) if item.key is not None else exc) from None


def obtain(
    project: Project, wanted: Sequence[Wanted], *, optional: bool = False, from_git: bool = True
) -> list[Obtained]:
    """Make the files present (workspace, git, DVC cache, DVC remote, reproducing their stages: see
    mlgate.adapters.dvc_fetch) and say how each came. The model and the metrics are protected: no stage that
    produces them runs. A file nothing can provide is an InputError at its mlgate.yml key; with `optional`, one
    nothing tracks is left for the step to report; `from_git=False` does not bring back a tracked file that was
    deleted from the workspace."""
    from mlgate.adapters import dvc_fetch, dvc_repo
    from mlgate.adapters.dvc_outputs import DvcReadError

    config = project.config
    try:
        repo = dvc_repo.open_project(config.root)
    except InputError:  # not in a git repository: the files are what is on disk, and nothing can bring more
        return [
            dvc_fetch.Obtained(item.value, dvc_fetch.WORKSPACE, "in the workspace")
            for item in wanted
            if item.path.exists()
        ]
    inside = [item for item in wanted if _resolved(config, item).is_relative_to(repo.root)]  # others: require_file says
    protect = {config.resolve(config.deploy.model): "deploy.model"} if config.deploy.model else {}
    protect |= {config.resolve(name): "metrics.files" for name in config.metrics.files}
    paths = [item.path for item in inside]
    try:
        return dvc_fetch.make_present(
            repo, paths, protect=protect, optional=paths if optional else (), from_git=from_git
        )
    except DvcReadError as exc:
        item = next((item for item in inside if repo.relative(item.path) == exc.path), None)
        if item is None:
            raise InputError(exc.reason, file=exc.path) from None
        if item.key is None:
            raise InputError(exc.reason, file=item.value) from None
        raise config.error(item.key, f"file '{item.value}' {exc.reason}") from None
