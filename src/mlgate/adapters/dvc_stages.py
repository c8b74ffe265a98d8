"""What DVC knows about a project's pipeline that git alone cannot say: which stage produces a file, whether
data can be pushed anywhere, and whether a commit's outputs are what its code, params and data produce."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import InputError


def producing_stage(root: Path, path: Path) -> str | None:
    """The address (`prepare`, `sub/dvc.yaml:prepare`) of the dvc.yaml stage whose outs hold `path`, for
    `dvc repro`; None when no pipeline stage produces it (a `dvc add`/`dvc import` file, or not DVC's)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    try:
        with Repo(str(root.resolve())) as repo:
            outs = repo.find_outs_by_path(str(path.resolve()))
    except DvcException:
        return None
    stages = [out.stage for out in outs if isinstance(out.stage, PipelineStage)]
    return stages[0].addressing if stages else None


def default_remote(root: Path) -> str | None:
    """The DVC remote `dvc push` uses without `-r`, or None when none is configured."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(root.resolve())) as repo:
            return repo.config["core"].get("remote") or None
    except DvcException:
        return None


@dataclass(frozen=True)
class StaleStage:
    """A pipeline stage whose dvc.lock entry does not match the files committed beside it."""

    stage: str  # its address: `train`, or `sub/dvc.yaml:train`
    changed: tuple[str, ...]  # what differs: `train.py modified`, `params.yaml: train.c modified`, `command changed`

    def to_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "changed": list(self.changed)}


def _changes(status: Mapping[str, object]) -> list[str]:
    """`dvc status` entries of one dep or out ({path: state} or, for params, {file: {key: state}})."""
    found = []
    for path, state in status.items():
        if isinstance(state, Mapping):
            found += [f"{path}: {key} {value}" for key, value in state.items()]
        else:
            found.append(f"{path} {state}")
    return found


def stale_stages(root: Path, rev: str) -> list[StaleStage]:
    """The stages of the commit `rev` that `dvc status` would call changed there: a dep (code, data, params) or a
    git-tracked out (a metrics file edited by hand) whose content is not what dvc.lock recorded, or a command
    that changed. DVC's own status, on the commit's git tree. Cached outs are not in git (the cache and remote
    hold them under the hash dvc.lock records), so their absence is not staleness; neither is a dep that
    is not in git at all (data DVC tracks, or a file only the workspace had)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    try:
        with Repo(str(root.resolve())) as repo, repo.switch(rev):
            found = []
            for stage in repo.index.stages:
                if not isinstance(stage, PipelineStage) or stage.frozen:
                    continue
                changed = ["command changed"] if stage.changed_stage() else []
                for dep in stage.deps:
                    changed += [c for c in _changes(dep.status()) if not c.endswith((" deleted", " not in cache"))]
                for out in stage.outs:
                    if not out.use_cache:
                        changed += [c for c in _changes(out.status()) if not c.endswith(" not in cache")]
                if changed:
                    address = stage.name if stage.path_in_repo == "dvc.yaml" else f"{stage.path_in_repo}:{stage.name}"
                    found.append(StaleStage(address, tuple(changed)))
            return found
    except DvcException as exc:
        raise InputError(f"DVC cannot tell whether the base commit {rev[:12]} is up to date: {exc}") from None
