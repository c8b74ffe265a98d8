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

import posixpath
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_FILE = "dvc.lock"
DVC_FILE_SUFFIX = ".dvc"


@dataclass(frozen=True)
class Record:
    """One dep or out DVC recorded with its content hash, and the file that records it."""

    path: str  # relative to the project root
    digest: str | None
    kind: str  # "dep" | "out"
    source: str  # dvc.lock or the .dvc file, relative to the project root
    stage: str | None = None  # the dvc.lock stage; None for a .dvc file


def lock_stages(document: Any) -> Mapping[str, Any]:
    """The stages of a dvc.lock: under `stages:` in schema 2 (DVC 2+), at the top level in DVC 1.x's schema 1."""
    if not isinstance(document, Mapping):
        return {}
    if "schema" in document or "stages" in document:
        stages = document.get("stages")
        return stages if isinstance(stages, Mapping) else {}
    return {name: stage for name, stage in document.items() if isinstance(stage, Mapping)}


def _digest(entry: Mapping[str, Any]) -> str | None:
    for key in ("md5", "etag", "checksum"):
        if entry.get(key):
            return str(entry[key])
    return None


def _entries(
    source: str, stage: str | None, groups: Iterable[tuple[str, Any]]
) -> Iterable[Record]:  # one .dvc file or lock stage
    directory = posixpath.dirname(source)
    for kind, entries in groups:
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, Mapping) and "path" in entry:
                path = posixpath.normpath(posixpath.join(directory, str(entry["path"])))
                yield Record(path, _digest(entry), kind, source, stage)


def records(documents: Mapping[str, Any]) -> list[Record]:
    """Every dep and out of the parsed dvc.lock and *.dvc documents (keyed by their path)."""
    found: list[Record] = []
    for source, document in documents.items():
        if not isinstance(document, Mapping):
            continue
        if source.endswith(DVC_FILE_SUFFIX):
            found.extend(_entries(source, None, [("out", document.get("outs")), ("dep", document.get("deps"))]))
            continue
        for name, stage in lock_stages(document).items():
            if isinstance(stage, Mapping):
                groups = [("dep", stage.get("deps")), ("out", stage.get("outs"))]
                found.extend(_entries(source, str(name), groups))
    return found


def holder(outs: Iterable[Record], path: str) -> Record | None:
    """The out that is `path`, or the output folder holding it."""
    for out in outs:
        if out.kind == "out" and (path == out.path or path.startswith(out.path.rstrip("/") + "/")):
            return out
    return None


class DvcReadError(Exception):
    """A DVC-tracked file that cannot be read; `reason` completes "<path> …"."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
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
                self._repo = Repo(str(self.root))
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

    def read(self, rev: str | None, path: str, out: Record) -> bytes:
        """`path` (inside `out`) at `rev` (None: the workspace, whose missing files come from the cache)."""
        repo = self._open()
        try:
            if rev is None:
                return repo.dvcfs.read_bytes(path)
            with repo.switch(rev):
                return repo.dvcfs.read_bytes(path)
        except IsADirectoryError:
            raise DvcReadError(path, "is a folder, not a file") from None
        except Exception as exc:
            raise DvcReadError(path, self._reason(out, exc)) from None

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
