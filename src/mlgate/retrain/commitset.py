"""Which of the files a retraining run changed go into the retrain commit.

Only what describes the new model and its data: DVC's data pointers (`*.dvc`, `dvc.lock`, and the `.gitignore`
files DVC maintains beside them), the data files themselves where git (not DVC) tracks them, params files,
metrics files, the predictions file and, when asked, the data schema. Anything else the data command or the
pipeline touched (scratch files, caches, raw data that belongs in DVC) stays out and is listed, so a reviewer
never gets a surprise file in a bot's pull request.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

POINTER_SUFFIX = ".dvc"
LOCK_FILE = "dvc.lock"
GITIGNORE = ".gitignore"


@dataclass(frozen=True)
class CommitRules:
    """Paths relative to the git work tree; a metrics entry may be a directory (DVC allows that)."""

    data: tuple[str, ...] = ()  # data.train / data.test, when git tracks them (they are their own pointer)
    params: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    predictions: str | None = None
    schema: str | None = None  # only when the run was asked to refresh the schema


@dataclass(frozen=True)
class Selection:
    commit: tuple[str, ...]
    left_out: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.commit


def _is_pointer(path: str) -> bool:
    name = posixpath.basename(path)
    return name == LOCK_FILE or (name.endswith(POINTER_SUFFIX) and name != POINTER_SUFFIX)


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def select(changed: Sequence[str], rules: CommitRules) -> Selection:
    """Split the changed paths into those the retrain commit carries and those it leaves out, both sorted."""
    named = [*rules.data, *rules.params, *rules.metrics, *(p for p in (rules.predictions, rules.schema) if p)]
    chosen = {path for path in changed if _is_pointer(path) or _under(path, named)}
    if any(_is_pointer(path) for path in chosen):
        # DVC adds the data it tracks to a .gitignore when it writes a pointer; the two belong together.
        chosen |= {path for path in changed if posixpath.basename(path) == GITIGNORE}
    return Selection(tuple(sorted(chosen)), tuple(sorted(set(changed) - chosen)))
