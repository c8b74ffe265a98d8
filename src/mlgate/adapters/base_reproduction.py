"""The base commit re-run in this job: `dvc repro` of the stages producing its model, metrics and predictions.

A temporary git worktree of the base commit shares the project's DVC cache (and so DVC's run-cache: a stage
whose deps, params and command ran before is restored, not re-run) and its DVC remotes. The data the stages
need comes as the head's does (mlgate.adapters.dvc_fetch: cache, then remote); then `dvc repro STAGE…` runs in
the project's own environment, as training does. What it produced is kept as a commit on top of the base
(its dvc.lock and git-tracked outputs; cached outputs are in the shared DVC cache under the hashes that
dvc.lock records), named by the ref `refs/mlgate/reproduced/<base sha>`, so every reader of a revision reads
it as it reads any commit, and a later step of the same job (or a re-run) finds it instead of re-running.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import gha
from mlgate.adapters import git
from mlgate.adapters.dvc_outputs import DvcReadError, describe, workspace_remotes
from mlgate.errors import InputError

REF_PREFIX = "refs/mlgate/reproduced/"
IDENTITY = ("-c", "user.name=mlgate", "-c", "user.email=mlgate@users.noreply.github.com")


@dataclass(frozen=True)
class Reproduction:
    """The base commit as this job reproduced it."""

    base: str  # the base commit
    commit: str  # base + what `dvc repro` wrote (dvc.lock, git-tracked outputs)
    stages: tuple[str, ...]  # what `dvc repro` was asked for
    reason: str  # why the base was reproduced, as the report says it
    reused: bool = False  # made earlier (another step of this job, or a previous run) and found by its ref

    def to_dict(self) -> dict[str, Any]:
        return {"reproduction": self.commit, "stages": list(self.stages), "reused": self.reused}


def _message(base: str, reason: str, stages: Sequence[str], files: Sequence[str]) -> str:
    """The reproduction commit's message; its last lines are what `earlier` reads back."""
    listed = f"Stages: {json.dumps(list(stages))}\nFiles: {json.dumps(list(files))}"
    return f"mlgate: base {base[:12]} reproduced\n\n{reason}\n\n{listed}\n"


def earlier(git_root: Path, base: str, files: Sequence[str]) -> Reproduction | None:
    """The reproduction of `base` an earlier step or run made for at least `files`, if its ref exists."""
    commit = git.rev_parse(git_root, REF_PREFIX + base)
    if commit is None:
        return None
    body = git.run_git(git_root, "log", "-1", "--format=%b", commit).decode("utf-8", "replace").strip()
    fields = {}
    for line in body.splitlines():
        name, _, value = line.partition(": ")
        if name in ("Stages", "Files"):
            with contextlib.suppress(json.JSONDecodeError):
                fields[name] = json.loads(value)
    if not set(files) <= set(fields.get("Files", ())):
        return None  # made for fewer files (no serving model then): reproduced again, the ref moves
    reason = body.split("\n\n")[0].strip()
    return Reproduction(base, commit, tuple(fields.get("Stages", ())), reason, reused=True)


def _share_cache_and_remotes(project_root: Path, worktree_root: Path) -> bool:
    """Point the worktree's DVC at the project's cache (run-cache included) and remotes; True when a default
    remote is configured."""
    from dvc.config import Config
    from dvc.repo import Repo

    with Repo(str(project_root)) as repo:
        cache_dir = repo.cache.local_cache_dir
    shared = workspace_remotes(project_root) or {}  # what every other read of a revision is given too
    config = Config(dvc_dir=str(worktree_root / ".dvc"), validate=False)
    with config.edit("local") as local:
        local.setdefault("cache", {})["dir"] = str(cache_dir)
        for name, section in shared.get("remote", {}).items():
            local.setdefault("remote", {}).setdefault(name, {}).update(section)
        if default := shared.get("core", {}).get("remote"):
            local.setdefault("core", {})["remote"] = default
    return bool(default)


def _stages_and_sources(root: Path, files: Sequence[str]) -> tuple[list[str], list[Path]]:
    """The addresses of the pipeline stages producing `files` (relative to `root`), and the outputs of the
    data sources (`dvc add`, `dvc import` files) upstream of them, which `dvc repro` cannot make."""
    import networkx as nx
    from dvc.exceptions import OutputNotFoundError
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    stages: dict[str, Any] = {}
    with Repo(str(root)) as repo:  # DVC's errors (a lock it will not load) are the caller's one sentence
        for path in files:
            try:
                outs = repo.find_outs_by_path(str(root / path), strict=False)
            except OutputNotFoundError:
                continue
            stage = outs[0].stage
            if isinstance(stage, PipelineStage):  # addressed from the worktree's root, where dvc repro runs
                address = stage.name if stage.path_in_repo == "dvc.yaml" else f"{stage.path_in_repo}:{stage.name}"
                stages.setdefault(address, stage)
        graph = repo.index.graph  # edges from a stage to the stages it depends on
        upstream = {dep for stage in stages.values() for dep in nx.descendants(graph, stage)}
        sources = [
            Path(str(out.fs_path)) for stage in upstream if not isinstance(stage, PipelineStage) for out in stage.outs
        ]
    return list(stages), sources


def _failure(log_tail: Sequence[str], code: int) -> str:
    """DVC's own error line (`ERROR: failed to reproduce 'train': …`), else the last line it printed."""
    error = next((line.strip() for line in reversed(log_tail) if line.strip().startswith("ERROR")), None)
    last = error or next((line.strip() for line in reversed(log_tail) if line.strip()), "no output")
    return f"exit {code}: {last}"


def reproduce(
    git_root: Path, project_root: Path, base: str, files: Sequence[str], reason: str, log_file: Path
) -> Reproduction:
    """Re-run, at `base`, the stages producing `files` (paths relative to the project root); InputError naming
    the stage and DVC's error when that fails."""
    from mlgate.adapters import dvc_fetch, dvc_repo, monitor

    prefix = project_root.resolve().relative_to(git_root.resolve()).as_posix()
    scratch = Path(tempfile.mkdtemp(prefix="mlgate-base-"))
    worktree = scratch / "base"
    short = base[:12]
    try:
        # No hooks: DVC's own (`dvc install`) would `dvc checkout` into a cache the worktree does not share yet.
        git.run_git(
            git_root, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--quiet", "--detach", str(worktree), base
        )
    except git.GitError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise InputError(f"the base commit {short} cannot be checked out to reproduce it: {exc}") from None
    try:
        root = worktree if prefix == "." else worktree / prefix
        pull = _share_cache_and_remotes(project_root, root)
        try:
            stages, sources = _stages_and_sources(root, files)
        except Exception as exc:  # DvcException, and the YAML validation errors of a lock DVC 3 refuses
            raise InputError(
                f"the base commit {short} cannot be reproduced: DVC cannot read its pipeline ({describe(exc)})"
            ) from None
        if not stages:
            raise InputError(
                f"the base commit {short} cannot be reproduced: no dvc.yaml stage there produces "
                f"{', '.join(files)}; commit them, or push them to a DVC remote"
            )
        try:
            dvc_fetch.make_present(dvc_repo.open_project(root), sources, reproduce=False)
        except DvcReadError as exc:
            raise InputError(f"the base commit {short} cannot be reproduced: its {exc.path} {exc.reason}") from None
        command = ["dvc", "repro", *(["--pull"] if pull else []), *stages]
        with gha.group(f"mlgate: reproducing the base commit {short}: {' '.join(command)}"):
            record = monitor.run_monitored(command, cwd=root, log_file=log_file)
        if record.exit_code != 0:
            raise InputError(
                f"the base commit {short} could not be reproduced ({reason}): `{' '.join(command)}` failed "
                f"({_failure(record.log_tail, record.exit_code)})"
            )
        git.run_git(worktree, "add", "--all")
        tree = git.run_git(worktree, "write-tree").decode().strip()
        message = _message(base, reason, stages, files).encode()
        commit = git.run_git(worktree, *IDENTITY, "commit-tree", tree, "-p", base, input_bytes=message)
        sha = commit.decode().strip()
        git.run_git(git_root, "update-ref", REF_PREFIX + base, sha)
        return Reproduction(base, sha, tuple(stages), reason)
    except git.GitError as exc:
        raise InputError(f"the base commit {short} was reproduced but cannot be recorded in git: {exc}") from None
    except OSError as exc:
        raise InputError(f"the base commit {short} cannot be reproduced: {describe(exc)}") from None
    finally:
        try:
            git.run_git(git_root, "worktree", "remove", "--force", str(worktree))
        except git.GitError:
            git.run_git(git_root, "worktree", "prune")
        shutil.rmtree(scratch, ignore_errors=True)
