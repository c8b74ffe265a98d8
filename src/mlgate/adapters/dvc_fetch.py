"""Make the files mlgate.yml names present in the workspace before a step reads them, and say which way each came.

A CI job starts from `actions/checkout`: only what git tracks is there, while DVC-managed data, models and
predictions live in the DVC cache, a DVC remote, or nowhere yet (a stage makes them). For each missing file the
first way that works is taken, in the order a user would try by hand:

 1. already in the workspace;
 2. tracked by git: restored from the index (`git checkout -- FILE`);
 3. the DVC cache: `dvc checkout FILE`;
 4. the default DVC remote: `dvc pull` of exactly the files still missing;
 5. `dvc repro` of the stages that produce them (with their upstream stages), unless one of those stages
    produces a file the caller protects: validation runs before training, so it never trains to get its data,
    and a deployment never rebuilds the model the gate approved.

When none works, DvcReadError carries one sentence naming the file, the stage or `.dvc` file behind it, and the
fix (configure a DVC remote, `dvc push`, or commit the file).
"""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gha
from mlgate.adapters import git
from mlgate.adapters.dvc_outputs import DvcReadError, describe

if TYPE_CHECKING:
    from mlgate.adapters.dvc_repo import Project

WORKSPACE, GIT, CACHE, REMOTE, REPRODUCED = "workspace", "git", "cache", "remote", "reproduced"
_REPRO_TAIL = 20  # lines of a failed `dvc repro` kept for its error sentence
NO_REMOTE_FIX = "configure the DVC remote that holds it (`dvc remote add -d NAME URL`), or commit the file to git"


@dataclass(frozen=True)
class Obtained:
    """How one file came to be in the workspace."""

    path: str  # relative to the project root
    way: str  # workspace | git | cache | remote | reproduced
    detail: str  # "reproduced stage prepare"

    @property
    def line(self) -> str:
        return f"{self.path}: {self.detail}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "way": self.way, "detail": self.detail}


def make_present(
    project: Project,
    paths: Sequence[Path],
    *,
    protect: Mapping[Path, str] | None = None,
    reproduce: bool = True,
    optional: Sequence[Path] = (),
    why_not: str = "",
    from_git: bool = True,
) -> list[Obtained]:
    """Bring every one of `paths` into the workspace, in the order of the module's docstring; one Obtained each.

    `protect` maps files (the model, the metrics) to what names them (`deploy.model`): a stage producing one of
    them, or upstream of one that does, is never run. `reproduce=False` runs no stage at all; `why_not` then
    says why, in the error. A file of `optional` that nothing tracks is left absent (and not listed) instead
    of being an error: the caller reports it in its own words. `from_git=False` leaves a git-tracked file that
    was deleted from the workspace deleted (a step reading what training left must not bring back the old one).
    """
    wanted = list(dict.fromkeys(project.relative(path) for path in paths))
    absent_ok = {project.relative(path) for path in optional}
    found: dict[str, Obtained] = {}
    missing = _present(project, wanted, found)
    if from_git:
        missing = _restore_from_git(project, missing, found)
    if missing and project.is_dvc:
        with _Pipeline(project) as pipeline:
            missing = pipeline.provide(missing, found, protect or {}, reproduce, absent_ok, why_not)
    for path in missing:
        if path not in absent_ok:
            raise DvcReadError(
                path,
                "does not exist, and neither git nor DVC tracks it: commit it, or make it a DVC output (a dvc.yaml "
                "stage or `dvc add`) and push it to a DVC remote",
            )
    return [found[path] for path in wanted if path in found]


def _present(project: Project, paths: Sequence[str], found: dict[str, Obtained]) -> list[str]:
    missing = []
    for path in paths:
        if (project.root / path).exists():
            found[path] = Obtained(path, WORKSPACE, "in the workspace")
        else:
            missing.append(path)
    return missing


def _restore_from_git(project: Project, paths: Sequence[str], found: dict[str, Obtained]) -> list[str]:
    """Restore the files git tracks (as `git checkout -- FILE` does, from the index); the rest, still missing."""
    if not paths:
        return []
    in_git = [project.prefix + path for path in paths]
    listed = git.run_git(project.git_root, "ls-files", "-z", "--full-name", "--", *in_git)
    tracked = {p[len(project.prefix) :] for p in listed.decode("utf-8", "surrogateescape").split("\0") if p}
    restore = [path for path in paths if path in tracked]
    if restore:
        git.run_git(project.git_root, "checkout", "--", *(project.prefix + path for path in restore))
    for path in restore:
        found[path] = Obtained(path, GIT, "restored from git")
    return [path for path in paths if path not in tracked]


class _Pipeline:
    """The DVC project opened once for the cache, remote and reproduce phases."""

    def __init__(self, project: Project) -> None:
        from dvc.repo import Repo

        self.project = project
        try:
            self.repo = Repo(str(project.root))
        except Exception as exc:
            raise DvcReadError(str(project.root), f"is not a DVC repository DVC can open ({describe(exc)})") from None
        self.remote: str | None = self.repo.config["core"].get("remote") or None

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.repo.close()

    def _out(self, path: str) -> Any | None:
        """The DVC output that is `path` or holds it (an output folder), None when DVC does not track it."""
        from dvc.exceptions import OutputNotFoundError

        try:
            outs = self.repo.find_outs_by_path(str(self.project.root / path), strict=False)
        except OutputNotFoundError:
            return None
        return outs[0]

    def provide(
        self,
        paths: Sequence[str],
        found: dict[str, Obtained],
        protect: Mapping[Path, str],
        reproduce: bool,
        absent_ok: set[str],
        why_not: str,
    ) -> list[str]:
        """Cache, then remote, then reproduce; what DVC does not track at all is handed back still missing."""
        outs = {path: out for path in paths if (out := self._out(path)) is not None}
        untracked = [path for path in paths if path not in outs]
        missing = [path for path in outs if not self._checkout(path)]
        for path in outs:
            if path not in missing:
                found[path] = Obtained(path, CACHE, "checked out from the DVC cache")
        pulled = ""
        if missing and self.remote is not None:
            pulled = self._pull(missing)
            for path in missing:
                if (self.project.root / path).exists():
                    found[path] = Obtained(path, REMOTE, f"pulled from DVC remote '{self.remote}'")
            missing = [path for path in missing if path not in found]
        if missing:
            self._reproduce(missing, outs, found, protect, reproduce, pulled, why_not)
        return untracked

    def _checkout(self, path: str) -> bool:
        """`dvc checkout FILE`: True when the cache held it."""
        try:
            self.repo.checkout(targets=[str(self.project.root / path)])
        except Exception:  # CheckoutError when not in the cache; anything else is a cache DVC cannot use either
            return False
        return (self.project.root / path).exists()

    def _pull(self, paths: Sequence[str]) -> str:
        """`dvc pull` of exactly `paths` (a log group of its own: the job's time spent restoring files shows);
        DVC's reason when some of them could not be pulled, else ""."""
        with gha.group(f"mlgate: dvc pull {' '.join(paths)}"):
            try:
                self.repo.pull(targets=[str(self.project.root / path) for path in paths])
            except Exception as exc:  # some targets missing from the remote, or the remote unreachable
                return describe(exc)
        return ""

    def _where(self, pulled: str) -> str:
        if self.remote is None:
            return "not in the DVC cache, and no DVC remote is configured"
        return f"in neither the DVC cache nor DVC remote '{self.remote}'" + (f" ({pulled})" if pulled else "")

    def _fix(self, made_by: str) -> str:
        if self.remote is None:
            return NO_REMOTE_FIX
        return f"`dvc push` it from where it was {made_by}, or commit the file to git"

    def _reproduce(
        self,
        paths: Sequence[str],
        outs: Mapping[str, Any],
        found: dict[str, Obtained],
        protect: Mapping[Path, str],
        reproduce: bool,
        pulled: str,
        why_not: str,
    ) -> None:
        from dvc.stage import PipelineStage

        where = self._where(pulled)
        stages: dict[str, Any] = {}
        for path in paths:
            stage = outs[path].stage
            if not isinstance(stage, PipelineStage):  # `dvc add` / `dvc import`: nothing to rerun
                raise DvcReadError(path, f"is tracked by {stage.relpath} but is {where}: {self._fix('added')}")
            if not reproduce:
                raise DvcReadError(
                    path, f"is an output of stage '{stage.addressing}' and is {where}{why_not}: {self._fix('produced')}"
                )
            stages.setdefault(stage.addressing, stage)
        guarded = self._protected_stages(protect)
        for path in paths:
            stage = outs[path].stage
            for upstream in self._upstream(stage):
                if upstream.addressing in guarded:
                    produced, named = guarded[upstream.addressing]
                    runs = f"would run stage '{upstream.addressing}'" + (
                        f" (upstream of '{stage.addressing}')" if upstream is not stage else ""
                    )
                    raise DvcReadError(
                        path,
                        f"is an output of stage '{stage.addressing}' and is {where}; reproducing it {runs}, which "
                        f"produces {produced} ({named}), and mlgate does not train to get a file it must check "
                        f"first: {self._fix('produced')}",
                    )
        failure = _run_repro(self.project.root, list(stages), pull=self.remote is not None)
        for path in paths:
            stage = outs[path].stage.addressing
            if failure is not None or not (self.project.root / path).exists():
                failed = failure or "it did not write the file"
                raise DvcReadError(
                    path,
                    f"is an output of stage '{stage}' and is {where}, and `dvc repro {stage}` failed ({failed}): "
                    f"fix the stage, or {self._fix('produced')}",
                )
            found[path] = Obtained(path, REPRODUCED, f"reproduced stage {stage}")

    def _upstream(self, stage: Any) -> list[Any]:
        """`stage` and every stage it depends on, transitively: what `dvc repro STAGE` may run."""
        graph = self.repo.index.graph  # edges point from a stage to the stages it depends on
        seen, queue = [stage], deque([stage])
        while queue:
            for dependency in graph.successors(queue.popleft()):
                if dependency not in seen:
                    seen.append(dependency)
                    queue.append(dependency)
        return seen

    def _protected_stages(self, protect: Mapping[Path, str]) -> dict[str, tuple[str, str]]:
        """The stages producing a protected file, or any DVC metrics file (evaluating needs a model): stage
        address -> (the file, what names it)."""
        guarded: dict[str, tuple[str, str]] = {}
        for stage in self.repo.index.stages:
            metric = next((out for out in stage.outs if out.metric), None)
            if metric is not None and hasattr(stage, "addressing"):
                guarded[stage.addressing] = (str(metric.def_path), "a DVC metrics file")
        for path, named in protect.items():
            relative = self.project.relative(path)
            out = self._out(relative)
            if out is not None and out.stage is not None and hasattr(out.stage, "addressing"):
                guarded.setdefault(out.stage.addressing, (relative, named))
        return guarded


def _run_repro(root: Path, stages: Sequence[str], *, pull: bool) -> str | None:
    """`dvc repro STAGE…` (with `--pull` when a remote can serve unchanged upstream outputs), its output on
    stderr; None on success, else the reason in one line."""
    command = [sys.executable, "-m", "dvc", "repro", *(["--pull"] if pull else []), *stages]
    tail: deque[str] = deque(maxlen=_REPRO_TAIL)
    with gha.group(f"mlgate: dvc repro {' '.join(stages)}"):
        try:
            process = subprocess.Popen(  # stdin empty: a stage that asks for input fails instead of waiting
                command,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        assert process.stdout is not None
        for line in process.stdout:
            sys.stderr.write(line)
            if line.strip():
                tail.append(line.strip())
        code = process.wait()
    if code == 0:
        return None
    last = next((line for line in reversed(tail) if line.startswith("ERROR")), tail[-1] if tail else "")
    return f"exit {code}" + (f": {last}" if last else "")
