"""Files DVC tracks instead of git, at any revision, read the way DVC reads them — and failing closed.

Which output holds a path comes from the revision's own records: dvc.lock (schema 2, and DVC 1.x's schema 1
with the stages at the top level) and the `*.dvc` files of `dvc add` / `dvc import`. Its bytes come through
DVC's filesystem: the local cache, else the default remote (streamed, nothing checked out). A file inside an
output folder (`outs: - eval`, `metrics: - eval/metrics.json`) is read through the folder's manifest.

Where DVC itself shows nothing (`dvc metrics diff` prints `"old": null` when the base is not in the cache),
mlgate raises DvcReadError with one sentence naming the file, the revision, the output and the fix. Every DVC,
dvc-data and scmrepo exception ends up as such a sentence, never as a traceback.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError

LOCK_FILE = "dvc.lock"
LEGACY_HASH = "md5-dos2unix"  # the hash DVC 1.x and 2.x named objects by (the md5 of text without CRLF)
DVC_FILE_SUFFIX = ".dvc"


@dataclass(frozen=True)
class Record:
    """One dep or out DVC recorded with its content hash, and the file that records it."""

    path: str  # relative to the project root
    digest: str | None
    kind: str  # "dep" | "out"
    source: str  # dvc.lock or the .dvc file, relative to the project root
    stage: str | None = None  # the dvc.lock stage; None for a .dvc file
    schema1: bool = False  # from a DVC 1.x dvc.lock, which today's DVC refuses to load: read by its hash


def lock_stages(document: Any) -> Mapping[str, Any]:
    """The stages of a dvc.lock: under `stages:` in schema 2 (DVC 2+), at the top level in DVC 1.x's schema 1."""
    if not isinstance(document, Mapping):
        return {}
    if not is_schema1(document):
        stages = document.get("stages")
        return stages if isinstance(stages, Mapping) else {}
    return {name: stage for name, stage in document.items() if isinstance(stage, Mapping)}


def _digest(entry: Mapping[str, Any]) -> str | None:
    for key in ("md5", "etag", "checksum"):
        if entry.get(key):
            return str(entry[key])
    return None


def is_schema1(document: Any) -> bool:
    """A DVC 1.x dvc.lock: no `schema:` key, the stages at the top level."""
    return isinstance(document, Mapping) and "schema" not in document and "stages" not in document


def _entries(
    source: str, stage: str | None, groups: Iterable[tuple[str, Any]], schema1: bool = False
) -> Iterable[Record]:  # one .dvc file or lock stage
    directory = posixpath.dirname(source)
    for kind, entries in groups:
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, Mapping) and "path" in entry:
                path = posixpath.normpath(posixpath.join(directory, str(entry["path"])))
                yield Record(path, _digest(entry), kind, source, stage, schema1)


def records(documents: Mapping[str, Any]) -> list[Record]:
    """Every dep and out of the parsed dvc.lock and *.dvc documents (keyed by their path)."""
    found: list[Record] = []
    for source, document in documents.items():
        if not isinstance(document, Mapping):
            continue
        if source.endswith(DVC_FILE_SUFFIX):
            found.extend(_entries(source, None, [("out", document.get("outs")), ("dep", document.get("deps"))]))
            continue
        schema1 = is_schema1(document)
        for name, stage in lock_stages(document).items():
            if isinstance(stage, Mapping):
                groups = [("dep", stage.get("deps")), ("out", stage.get("outs"))]
                found.extend(_entries(source, str(name), groups, schema1))
    return found


def holder(outs: Iterable[Record], path: str) -> Record | None:
    """The out that is `path`, or the output folder holding it."""
    for out in outs:
        if out.kind == "out" and (path == out.path or path.startswith(out.path.rstrip("/") + "/")):
            return out
    return None


class DvcReadError(InputError):
    """A DVC-tracked file that cannot be read; `reason` completes "<path> …". An input error (exit 2, one
    sentence) wherever no caller words it better."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason, file=path)
        self.path, self.reason = path, reason


def describe(exc: BaseException) -> str:
    """One line for any exception DVC, dvc-data or scmrepo raises: its type and the first line of its text."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if len(text) > 300:
        text = text[:297] + "..."
    name = type(exc).__name__
    return f"{name}: {text}" if text and not text.startswith(name) else text or name


def _missing(exc: BaseException) -> bool:
    """The object is not where DVC looked (cache, then remote), as opposed to DVC failing to look."""
    from dvc.exceptions import PathMissingError

    name = type(exc).__name__
    return isinstance(exc, FileNotFoundError | PathMissingError) or name in ("DataIndexDirError", "ObjectFormatError")


def workspace_remotes(root: Path) -> dict[str, Any] | None:
    """The workspace's DVC remotes and its default remote, local folders' URLs resolved as in the workspace.

    Reading another commit, DVC loads that commit's .dvc/config from git: a relative folder URL
    (`url = ../storage`) is resolved against the git tree's root, `/storage`, where nothing is ever found, and
    a commit made before the remote was configured has no remote at all (a version registered before the team
    added its DVC remote, rolled back to later). Giving DVC the workspace's remotes (the checkout's own config,
    as `dvc pull` uses it) makes every revision's outputs readable from where they are kept now.
    """
    from dvc.config import Config

    config = Config(dvc_dir=str(root / ".dvc"))
    remotes = {name: dict(section) for name, section in config["remote"].items()}
    found: dict[str, Any] = {"remote": remotes} if remotes else {}
    default = config["core"].get("remote")
    if default and default in remotes:
        found["core"] = {"remote": default}
    return found or None


class OutputReader:
    """One DVC repository opened on first use and kept for every read of a run (base, head, history)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._repo: Any = None
        self._finalizer: weakref.finalize | None = None

    def _open(self) -> Any:
        if self._repo is None:
            from dvc.repo import Repo

            try:
                self._repo = Repo(str(self.root), config=workspace_remotes(self.root))
            except Exception as exc:
                raise DvcReadError(str(self.root), f"is not a DVC repository DVC can open ({describe(exc)})") from None
            self._finalizer = weakref.finalize(self, self._repo.close)
        return self._repo

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._repo = self._finalizer = None

    def remote(self) -> str | None:
        """The default DVC remote (`core.remote`), None when none is configured."""
        try:
            return self._open().config["core"].get("remote") or None
        except DvcReadError:
            return None

    def resolve(self, rev: str | None, path: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """The dvc.yaml `path` (a templated one: `${…}`, `vars`, `foreach`, `matrix`) as DVC resolves it at `rev`
        (None: the workspace), its `vars` files read at that revision: every stage expanded and interpolated
        (`train@0`), the top-level metrics, params and plots interpolated — a plain dvc.yaml saying the same."""
        from dvc.parsing import DataResolver

        repo = self._open()
        try:
            with repo.switch(rev) if rev is not None else contextlib.nullcontext():
                wdir = repo.fs.join(repo.root_dir, *posixpath.dirname(path).split("/"))
                resolver = DataResolver(repo, wdir, dict(document))
                return {
                    "stages": resolver.resolve()["stages"],
                    "metrics": resolver.resolve_metrics(),
                    "params": resolver.resolve_params(),
                    "plots": resolver.resolve_plots(),
                }
        except Exception as exc:  # DVC's ResolveError, and whatever the vars files' parsers raise
            raise DvcReadError(path, f"cannot be resolved by DVC ({describe(exc)})") from None

    def read(self, rev: str | None, path: str, out: Record) -> bytes:
        """`path` (inside `out`) at `rev` (None: the workspace, whose missing files come from the cache)."""
        repo = self._open()
        try:
            if out.schema1:
                return self._read_by_hash(path, out)
            if rev is None:
                return repo.dvcfs.read_bytes(path)
            with repo.switch(rev):
                return repo.dvcfs.read_bytes(path)
        except IsADirectoryError:
            raise DvcReadError(path, "is a folder, not a file") from None
        except Exception as exc:
            raise DvcReadError(path, self._reason(out, exc)) from None

    def _read_by_hash(self, path: str, out: Record) -> bytes:
        """`path` of an output a DVC 1.x dvc.lock recorded, from the object its hash names (for a folder, the
        file's entry in the folder's manifest): today's DVC reads such objects, but refuses the lock itself."""
        from dvc_data.hashfile.tree import Tree

        if out.digest is None:
            raise FileNotFoundError(path)
        if not out.digest.endswith(".dir"):
            return self._object(out.digest)
        manifest = json.loads(self._object(out.digest))
        if not isinstance(manifest, list):
            raise ValueError(f"the manifest of folder '{out.path}' ({out.digest}) is not a list of files")
        entry = Tree.from_list(manifest, hash_name=LEGACY_HASH).get(tuple(posixpath.relpath(path, out.path).split("/")))
        if entry is None or entry[1] is None or not entry[1].value:
            raise FileNotFoundError(path)
        return self._object(entry[1].value)

    def _object(self, oid: str) -> bytes:
        """The 1.x/2.x-layout object `oid` from the cache, else from the default remote."""
        repo = self._open()
        stores = [lambda: repo.cache.legacy]
        if self.remote() is not None:
            stores.append(lambda: repo.cloud.get_remote_odb(None, "fetch", hash_name=LEGACY_HASH))
        for store in stores:
            odb = store()
            try:
                return odb.fs.cat_file(odb.oid_to_path(oid))
            except FileNotFoundError:
                continue
        raise FileNotFoundError(oid)

    def unavailable(self, rev: str, out: Record) -> str | None:
        """Why the object `out` records at `rev` is in neither the DVC cache nor the default remote, as `read`
        would look (checked by its hash, nothing read: a model may be large); None when one of them holds it."""
        repo = self._open()
        if out.digest is None or out.schema1:
            return None if out.digest and self._holds(repo, out.digest) else self._reason(out, FileNotFoundError())
        try:
            with repo.switch(rev):  # that revision's remote, as `read` uses it
                held = self._holds(repo, out.digest)
        except Exception:  # a revision DVC cannot switch to: reading it says why, in its own sentence
            return None
        return None if held else self._reason(out, FileNotFoundError(out.path))

    @staticmethod
    def _holds(repo: Any, oid: str) -> bool:
        stores = [lambda: repo.cache.local, lambda: repo.cache.legacy]  # DVC 3's md5 layout, and 1.x/2.x's
        if repo.config["core"].get("remote"):
            stores += [
                lambda: repo.cloud.get_remote_odb(None, "fetch"),
                lambda: repo.cloud.get_remote_odb(None, "fetch", hash_name=LEGACY_HASH),
            ]
        for store in stores:
            with contextlib.suppress(Exception):  # a store DVC cannot open holds nothing we can read either
                odb = store()
                if odb.fs.exists(odb.oid_to_path(oid)):
                    return True
        return False

    def _reason(self, out: Record, exc: BaseException) -> str:
        recorded = f"output '{out.path}' of {out.source}" + (f" stage '{out.stage}'" if out.stage else "")
        remote = self.remote()
        if not _missing(exc):
            return f"is DVC-tracked ({recorded}) but DVC could not read it ({describe(exc)})"
        if remote is None:
            return (
                f"is DVC-tracked ({recorded}) and is not in the DVC cache, and no DVC remote is "
                "configured: configure the remote that holds it (`dvc remote add -d NAME URL`), or `dvc pull` "
                "it into this cache"
            )
        return (
            f"is DVC-tracked ({recorded}) and is in neither the DVC cache nor remote '{remote}': "
            f"`dvc push` it from where it was produced ({describe(exc)})"
        )
