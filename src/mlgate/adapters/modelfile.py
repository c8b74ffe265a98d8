"""The model a deployment ships: the one the deployed commit pins, fetched by its recorded hash and verified.

What the gate approved is what the commit records: the md5 in dvc.lock (or the `.dvc` file) for a DVC output, the
blob for a model committed to git. For the checked-out commit the file is made present in the workspace the way
dvc_fetch does (git, DVC cache, DVC remote; never by rerunning a stage: a rebuilt model is not the approved one);
for an older commit (a rollback) it is read from that commit through git or DVC (cache, then remote) into a folder
of its own. Either way its md5, computed as DVC computes it, must equal the record before anything is deployed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mlgate.adapters import dvc_fetch, dvc_repo
from mlgate.adapters.dvc_outputs import DvcReadError
from mlgate.fsutil import atomic_write_bytes

NEVER_REBUILT = "; a deployment ships the model the gate approved, so mlgate never reruns the stage that makes it"


@dataclass(frozen=True)
class ModelFile:
    """The verified model: where it is, its md5, what recorded that md5, and how the file came."""

    path: Path
    md5: str
    recorded_in: str  # "dvc.lock stage 'train'", "model.pkl.dvc", "git"
    obtained: str  # "in the workspace", "pulled from DVC remote 'store'", "read from commit 1a2b3c4"

    def to_dict(self, relative: str) -> dict[str, str]:
        return {"path": relative, "md5": self.md5, "recorded_in": self.recorded_in, "obtained": self.obtained}


def dvc_md5(path: Path, name: str = "md5") -> str:
    """The hash DVC records for `path`: the md5 of a file's bytes, or of a folder's manifest (`….dir`).

    No state database: DVC's would answer from a file's mtime and inode, and this must see the bytes."""
    from dvc_data.hashfile.build import build
    from dvc_data.hashfile.db import HashFileDB
    from dvc_objects.fs.local import LocalFileSystem
    from dvc_objects.fs.memory import MemoryFileSystem

    scratch = HashFileDB(MemoryFileSystem(global_store=False), "/scratch")
    return str(build(scratch, str(path), LocalFileSystem(), name, dry_run=True)[2].hash_info.value)


def approved_model(project: dvc_repo.Project, model: Path, commit: str, dest_dir: Path | None = None) -> ModelFile:
    """The model `commit` pins, verified: in the workspace (`dest_dir` None: `commit` is checked out), else read
    from `commit` into `dest_dir`. DvcReadError (one sentence) when it cannot be had or its hash differs."""
    relative = project.relative(model)
    short = commit[:7]
    record = dvc_repo.recorded_out(project, commit, relative)
    blob = None
    if record is None:
        blob = dvc_repo.Tree(project, commit).read([relative])[relative]
        if blob is None:
            absent = "" if model.exists() else "does not exist, and "
            raise DvcReadError(
                relative,
                f"{absent}is neither committed to git nor recorded by DVC (dvc.lock or a .dvc file) at commit "
                f"{short}: mlgate deploys only a model the deployed commit pins",
            )
        expected, recorded_in = hashlib.md5(blob).hexdigest(), "git"
    elif record.path != relative:
        raise DvcReadError(
            relative,
            f"is inside the DVC output '{record.path}' of {record.source}: set deploy.model to the output itself, "
            "so that its recorded hash can be checked",
        )
    elif not record.digest:
        raise DvcReadError(
            relative, f"has no hash in {record.source} at commit {short}: run `dvc commit` and commit it"
        )
    else:
        expected = record.digest
        recorded_in = record.source + (f" stage '{record.stage}'" if record.stage else "")
    if dest_dir is None:
        [obtained] = dvc_fetch.make_present(project, [model], reproduce=False, why_not=NEVER_REBUILT)
        path, how = model, obtained.detail
    else:
        data = blob if record is None else project.outputs.read(commit, relative, record)
        path, how = dest_dir / Path(relative).name, f"read from commit {short}"
        atomic_write_bytes(path, data)
    actual = dvc_md5(path)
    if actual != expected and not (record is not None and dvc_md5(path, "md5-dos2unix") == expected):
        raise DvcReadError(  # DVC 2's dvc.lock (no `hash: md5`) recorded text files with line endings normalised
            relative,
            f"has md5 {actual}, not the {expected} that {recorded_in} records at commit {short}: it is not the model "
            "the gate approved (a tampered or stale DVC cache or remote, or a file changed after checkout), so "
            "nothing was deployed",
        )
    return ModelFile(path, expected, recorded_in, how)
