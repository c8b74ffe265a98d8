"""Metrics, params and data versions of a (DVC) repository at a git revision or in the workspace.

The fast path reads dvc.yaml, dvc.lock, *.dvc and the metrics/params files straight from git objects (one
`git cat-file --batch` per revision) and parses them as DVC does (ruamel YAML 1.2, JSON with NaN, TOML).
DVC's own API is used only where git alone cannot answer: templated dvc.yaml files (`${…}`, foreach, matrix)
and files DVC caches instead of committing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.adapters import dvc_outputs, git
from mlgate.adapters.dvc_outputs import DvcReadError, OutputReader, Record
from mlgate.compare.datagroups import Pipeline, groups
from mlgate.compare.diff import KeyCollision, metrics_values, params_values
from mlgate.errors import InputError
from mlgate.inputfile import read_regular, resolve

WORKSPACE = "workspace"
PROJECT_FILE = "dvc.yaml"
LOCK_FILE = dvc_outputs.LOCK_FILE
DVC_FILE_SUFFIX = dvc_outputs.DVC_FILE_SUFFIX
DEFAULT_PARAMS_FILE = "params.yaml"
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # dvc.yaml, dvc.lock, *.dvc, metrics and params files
MAX_FILE_BYTES = 4 * 1024 * 1024 * 1024  # any other file read whole (per-row predictions)


class FileFormatError(Exception):
    """A metrics/params file that does not parse; names the file, and the line when the parser knows it."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.line = path, reason, line


def _parse_yaml(text: str, path: str) -> Any:
    from ruamel.yaml import YAML, YAMLError  # DVC's parser: YAML 1.2, so `yes` stays a string as in DVC

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FileFormatError(path, f"is not valid YAML ({problem})", mark.line + 1 if mark else None) from None


def _scalar(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_table(text: str, path: str, delimiter: str) -> dict[str, Any]:
    """One data row -> {column: value}; several rows -> keyed by the first column: {row: {column: value}}."""
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [row for row in rows if row]
    if len(rows) < 2:
        raise FileFormatError(path, "needs a header row and at least one data row")
    header = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise FileFormatError(path, f"row has {len(row)} fields, the header has {len(header)}", number)
    if len(rows) == 2:
        return {name: _scalar(value) for name, value in zip(header, rows[1], strict=True)}
    return {row[0]: {name: _scalar(v) for name, v in zip(header[1:], row[1:], strict=True)} for row in rows[1:]}


def parse_document(data: bytes, path: str) -> Any:
    """Parse a metrics/params file by its suffix, as DVC does (anything unknown is YAML); CSV/TSV as tables."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileFormatError(path, "is not UTF-8 text") from None
    suffix = posixpath.splitext(path)[1].lower()
    if suffix == ".json":
        try:
            return json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise FileFormatError(path, f"is not valid JSON ({exc.msg})", exc.lineno) from None
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FileFormatError(path, f"is not valid TOML ({exc})") from None
    if suffix in (".csv", ".tsv"):
        return _parse_table(text, path, "," if suffix == ".csv" else "\t")
    return _parse_yaml(text, path)


@dataclass(frozen=True)
class Project:
    """Where the repository lives: the git work tree, and the directory DVC (or mlgate.yml) treats as root."""

    git_root: Path
    root: Path
    is_dvc: bool
    outputs: OutputReader = field(init=False, repr=False, compare=False)  # DVC opened once, on first use

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", OutputReader(self.root))

    @property
    def prefix(self) -> str:
        """`root` relative to the git work tree, as git paths spell it ("" at the top)."""
        relative = self.root.relative_to(self.git_root).as_posix()
        return "" if relative == "." else relative + "/"

    def relative(self, path: Path) -> str:
        """A path given relative to the current directory, as a path relative to `root`."""
        try:
            return resolve(path).relative_to(self.root).as_posix()
        except ValueError:
            raise InputError(f"is outside the project at {self.root}", file=path) from None


def open_project(start: Path) -> Project:
    """The project holding `start`: the nearest directory with `.dvc/` up to the git root, else `start`."""
    start = start.resolve()
    git_root = git.toplevel(start).resolve()
    for directory in (start, *start.parents):
        if (directory / ".dvc").is_dir():
            return Project(git_root, directory, True)
        if directory == git_root:
            break
    return Project(git_root, start, False)


class Tree:
    """The files of the project at one revision: a commit's git objects, or the workspace on disk."""

    def __init__(self, project: Project, rev: str | None) -> None:
        self.project = project
        self.rev = rev  # None: the workspace
        self._listing: list[str] | None = None

    @property
    def name(self) -> str:
        return self.rev or WORKSPACE

    def files(self) -> list[str]:
        """Every file of the project (relative to its root); the workspace counts untracked, unignored files."""
        if self._listing is None:
            root, prefix = self.project.git_root, self.project.prefix
            if self.rev is None:
                out = git.run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name")
                paths = [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
            else:
                paths = git.tracked_files(root, self.rev)
            self._listing = [p[len(prefix) :] for p in paths if p.startswith(prefix)]
        return self._listing

    def read(self, paths: Iterable[str], limit: int = MAX_DOCUMENT_BYTES) -> dict[str, bytes | None]:
        """Each path's bytes (None: not there); on disk, regular files of at most `limit` bytes only."""
        paths = list(paths)
        if self.rev is None:
            return {p: _read_disk(self.project.root / p, p, limit) for p in paths}
        blobs = git.read_blobs(self.project.git_root, [(self.rev, self.project.prefix + p) for p in paths])
        return {p: blobs[(self.rev, self.project.prefix + p)] for p in paths}


def _read_disk(path: Path, shown: str, limit: int) -> bytes | None:
    """None when nothing is there (a dangling link too: DVC's cache link of an output not pulled yet) or a
    folder (a caller may expand it); a FIFO, device, socket, symlink loop or oversized file is an InputError."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        pass  # a symlink loop or an unreadable file: read_regular says which
    if path.is_dir():
        return None
    return read_regular(path, limit, "file", shown=shown)


@dataclass(frozen=True)
class Declared:
    """What the dvc.yaml files declare: metrics files, and params files with the keys tracked (empty: all)."""

    metrics: tuple[str, ...] = ()
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plots: tuple[str, ...] = ()  # plot files, from stages and from top-level plot definitions
    outs: tuple[str, ...] = ()  # stage outputs that are neither metrics nor plots
    templated: bool = False  # uses ${...}, foreach or matrix: only DVC itself can resolve it


def _entries(items: Any) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """dvc.yaml lists hold `path` or `{path: {options}}`."""
    for item in items or ():
        if isinstance(item, str):
            yield item, {}
        elif isinstance(item, Mapping):
            for path, options in item.items():
                yield str(path), options if isinstance(options, Mapping) else {}


def _plot_files(items: Any) -> Iterable[str]:
    """Files of top-level `plots:`: a path, or a definition whose `y` maps files to columns (else its id is
    the file, as in DVC)."""
    for name, options in _entries(items):
        y = options.get("y")
        if isinstance(y, Mapping):
            yield from (str(path) for path in y)
        else:
            yield name


def _join(directory: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(directory, path))


def _declared(documents: Mapping[str, Any]) -> Declared:
    """Merge dvc.yaml documents keyed by their file path, following DVC's rules for params."""
    metrics: list[str] = []
    plots: list[str] = []
    outs: list[str] = []
    keys: dict[str, list[str]] = {}
    whole: set[str] = set()
    templated = False
    for dvc_yaml, document in documents.items():
        if not isinstance(document, Mapping):
            continue
        directory = posixpath.dirname(dvc_yaml)
        templated |= "${" in json.dumps(document, default=str)
        metrics.extend(_join(directory, path) for path, _ in _entries(document.get("metrics")))
        plots.extend(_join(directory, path) for path in _plot_files(document.get("plots")))
        whole.update(_join(directory, path) for path, _ in _entries(document.get("params")))
        for stage in (document.get("stages") or {}).values():
            if not isinstance(stage, Mapping):
                continue
            templated |= "foreach" in stage or "matrix" in stage
            wdir = _join(directory, str(stage.get("wdir", ".")))
            for kind in ("outs", "metrics", "plots"):
                for path, _ in _entries(stage.get(kind)):
                    {"outs": outs, "metrics": metrics, "plots": plots}[kind].append(_join(wdir, path))
            for item in stage.get("params") or ():
                if isinstance(item, str):  # a key of the default params file
                    keys.setdefault(_join(wdir, DEFAULT_PARAMS_FILE), []).append(item)
                elif isinstance(item, Mapping):
                    for path, tracked in item.items():
                        target = _join(wdir, str(path))
                        if tracked:
                            keys.setdefault(target, []).extend(str(k) for k in tracked)
                        else:
                            whole.add(target)
    params = {path: () if path in whole else tuple(dict.fromkeys(keys.get(path, ()))) for path in {*keys, *whole}}
    unique = dict.fromkeys
    return Declared(tuple(unique(metrics)), params, tuple(unique(plots)), tuple(unique(outs)), templated)


def _select(document: Any, key_paths: Sequence[str]) -> Any:
    """The parts of a params document under the dotted `key_paths` (DVC's dpath search), nested as they were."""
    if not key_paths or not isinstance(document, Mapping):
        return document
    selected: dict[str, Any] = {}
    for key_path in key_paths:
        parts = key_path.split(".")
        node: Any = document
        for part in parts:
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            target = selected
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = node
    return selected


@dataclass
class Snapshot:
    """Metrics, params and data versions at one revision; unreadable files are listed, not raised."""

    rev: str
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_versions: dict[str, str] = field(default_factory=dict)
    data_groups: dict[str, str] = field(default_factory=dict)  # path -> data | code | models/outputs | metrics …
    errors: dict[str, FileFormatError] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # metrics files declared but absent here
    metrics_files: list[str] = field(default_factory=list)

    def unreadable(self, side: str) -> InputError | None:
        """The first declared file that could not be read, as the error that stops the comparison: a base
        whose metrics cannot be read is not "no baseline", and a head's is not "missing"."""
        if not self.errors:
            return None
        error = next(iter(self.errors.values()))
        if self.rev == WORKSPACE:  # the file on disk: its name says where
            return InputError(error.reason, file=error.path, line=error.line)
        hint = (
            ""
            if "DVC-tracked" in error.reason
            else "; fix it there" + (" or compare with another commit (--base)" if side == "base" else "")
        )
        message = f"{error.reason} (at {side} commit {self.rev[:12]}){hint}"
        return InputError(message, file=error.path, line=error.line)


def _dvc_documents(tree: Tree) -> dict[str, Any]:
    names = [p for p in tree.files() if posixpath.basename(p) == PROJECT_FILE]
    return _parse_all(tree.read(names))


def _parse_all(contents: Mapping[str, bytes | None]) -> dict[str, Any]:
    parsed = {}
    for path, data in contents.items():
        if data is None:
            continue
        try:
            parsed[path] = parse_document(data, path)
        except FileFormatError as exc:
            raise InputError(exc.reason, file=path, line=exc.line) from None
    return parsed


def _records(tree: Tree) -> list[Record]:
    """Every dep and out DVC recorded at this revision: dvc.lock stages (schema 1 or 2) and *.dvc files."""
    names = [p for p in tree.files() if posixpath.basename(p) == LOCK_FILE or p.endswith(DVC_FILE_SUFFIX)]
    return dvc_outputs.records(_parse_all(tree.read(names)))


def _version(
    snapshot: Snapshot, records: Sequence[Record], metrics_and_plots: Sequence[str], outs: Sequence[str] = ()
) -> None:
    """The content hash of every dep and out DVC recorded, and what each of them is (data, code, …)."""
    snapshot.data_versions = {record.path: record.digest for record in records if record.digest}
    pipeline = Pipeline(
        metrics_and_plots=tuple(metrics_and_plots),
        produced=frozenset(outs) | {r.path for r in records if r.kind == "out" and r.stage is not None},
        consumed=frozenset(r.path for r in records if r.kind == "dep"),
    )
    snapshot.data_groups = groups(pipeline, snapshot.data_versions)


def _expand(tree: Tree, paths: Sequence[str]) -> list[str]:
    """A declared metrics directory stands for every file under it, as in DVC."""
    listing = tree.files()
    listed = set(listing)
    expanded: list[str] = []
    for path in paths:
        inside = [p for p in listing if p.startswith(path + "/")] if path not in listed else []
        expanded.extend(inside or [path])
    return expanded


def _named_metrics(data: bytes, path: str) -> dict[str, Any]:
    """A metrics file a user named (dvc.yaml, metrics.files): it must hold an object of metrics."""
    document = parse_document(data, path)
    if not isinstance(document, Mapping):
        shown = "nothing (it is empty)" if document is None else f"a {type(document).__name__}"
        raise FileFormatError(path, f"holds {shown}, not an object of metric names and values")
    if not document:
        raise FileFormatError(path, "holds no metrics (an empty object)")
    return metrics_values(document)


def _metrics(data: bytes, path: str, named: bool) -> dict[str, Any]:
    try:
        return _named_metrics(data, path) if named else metrics_values(parse_document(data, path))
    except RecursionError:
        raise FileFormatError(path, "nests too deeply to be a metrics file") from None
    except KeyCollision as exc:
        raise FileFormatError(path, str(exc)) from None


def _params(data: bytes, path: str, keys: Sequence[str]) -> dict[str, Any]:
    try:
        return params_values(_select(parse_document(data, path), keys))
    except RecursionError:
        raise FileFormatError(path, "nests too deeply to be a params file") from None
    except KeyCollision as exc:
        raise FileFormatError(path, str(exc)) from None


def _fetch(project: Project, rev: str | None, path: str, outs: Sequence[Record]) -> bytes | None:
    """`path` from DVC when an output DVC recorded at `rev` holds it; None when DVC does not track it."""
    out = dvc_outputs.holder(outs, path)
    return project.outputs.read(rev, path, out) if out is not None else None


def read_snapshot(
    project: Project, rev: str | None, metrics_files: Sequence[str] = (), *, from_dvc: bool = True
) -> Snapshot:
    """Everything compare needs at `rev` (None: the workspace); `metrics_files` overrides what dvc.yaml declares.

    Files DVC tracks instead of git come from the DVC cache or remote (`from_dvc`; for the workspace, only the
    files missing on disk). A file that cannot be read is listed in `errors`, one that is truly absent (in
    neither git nor any output DVC recorded) in `missing`.
    """
    tree = Tree(project, rev)
    declared = _declared(_dvc_documents(tree)) if project.is_dvc else Declared()
    if declared.templated:  # only DVC can resolve ${...}, foreach and matrix
        return _dvc_snapshot(project, rev, metrics_files)
    snapshot = Snapshot(rev=tree.name)
    records = _records(tree) if project.is_dvc else []
    outs = [record for record in records if record.kind == "out"] if from_dvc else []
    named = list(metrics_files) or list(declared.metrics)
    files = _expand(tree, named)
    snapshot.metrics_files = files
    params_files = dict(declared.params)
    if project.is_dvc and DEFAULT_PARAMS_FILE in tree.files():
        params_files[DEFAULT_PARAMS_FILE] = ()  # DVC always shows the whole default params file
    contents = tree.read([*files, *params_files])
    for path in [*files, *params_files]:
        try:
            data = contents[path]
            if data is None and rev is None and (project.root / path).is_dir():
                raise FileFormatError(path, "is a folder holding no files, not a metrics or params file")
            if data is None:
                data = _fetch(project, rev, path, outs)
            if data is None:
                if path in files:
                    snapshot.missing.append(path)
                continue
            if path in files:
                snapshot.metrics[path] = _metrics(data, path, path in named)
            else:
                snapshot.params[path] = _params(data, path, params_files[path])
        except FileFormatError as exc:
            snapshot.errors[path] = exc
        except DvcReadError as exc:
            snapshot.errors[path] = FileFormatError(path, exc.reason)
    _version(snapshot, records, (*declared.metrics, *declared.plots, *named), declared.outs)
    return snapshot


def recorded_out(project: Project, rev: str | None, path: str) -> Record | None:
    """The output DVC recorded at `rev` (None: the workspace) in dvc.lock or a .dvc file that is `path` or the
    folder holding it; None when DVC does not track it there."""
    if not project.is_dvc:
        return None
    return dvc_outputs.holder([r for r in _records(Tree(project, rev)) if r.kind == "out"], path)


def read_file(project: Project, rev: str | None, path: str) -> bytes | None:
    """One file at `rev` (None: workspace): from git (or disk), else from DVC's cache or remote when an output
    DVC recorded there holds it; None when neither has it. DvcReadError when DVC tracks it but cannot read it."""
    tree = Tree(project, rev)
    data = tree.read([path], MAX_FILE_BYTES)[path]
    if data is None and project.is_dvc:
        data = _fetch(project, rev, path, [r for r in _records(tree) if r.kind == "out"])
    return data


def _dvc_snapshot(project: Project, rev: str | None, metrics_files: Sequence[str]) -> Snapshot:
    """DVC's own `metrics show` / `params show` for one revision, in our Snapshot shape."""
    from dvc.repo import Repo

    name = rev or WORKSPACE
    snapshot = Snapshot(rev=name)
    with Repo(str(project.root)) as repo:
        targets = [str(project.root / p) for p in metrics_files] or None
        shows: list[tuple[Callable[..., Any], dict[str, Any], dict[str, dict[str, Any]], Callable[[Any], dict]]] = [
            (repo.metrics.show, {"targets": targets} if targets else {}, snapshot.metrics, metrics_values),
            (repo.params.show, {}, snapshot.params, params_values),
        ]
        for show, kwargs, target, convert in shows:
            result = show(revs=[name], hide_workspace=False, **kwargs).get(name, {})
            for path, entry in (result.get("data") or {}).items():
                relative = Path(path).as_posix()
                if "error" in entry:
                    snapshot.errors[relative] = FileFormatError(relative, f"cannot be read ({entry['error']})")
                    continue
                try:
                    target[relative] = convert(entry.get("data"))
                except KeyCollision as exc:
                    snapshot.errors[relative] = FileFormatError(relative, str(exc))
    snapshot.metrics_files = list(snapshot.metrics)
    _version(snapshot, _records(Tree(project, rev)), tuple(snapshot.metrics))
    return snapshot


def read_history(
    project: Project, rev: str, metrics_files: Sequence[str], limit: int
) -> list[tuple[git.Commit, dict[str, dict[str, Any]]]]:
    """Metrics at each of the last `limit` commits from `rev` that changed them, oldest first.

    Committed metrics files are read in one batch; DVC-tracked ones are found through dvc.lock and *.dvc
    changes and read through DVC. A point that cannot be read is left empty: a trend is evidence, not a gate.
    """
    if limit <= 0 or not metrics_files:
        return []
    listed = set(Tree(project, rev).files())
    in_git = [p for p in metrics_files if p in listed]
    tracked = [p for p in metrics_files if p not in in_git]
    records = [p for p in listed if posixpath.basename(p) == LOCK_FILE or p.endswith(DVC_FILE_SUFFIX)]
    watched = [project.prefix + p for p in in_git + (records if tracked else [])]
    commits = git.log_touching(project.git_root, rev, watched, limit)
    blobs = git.read_blobs(project.git_root, [(c.sha, project.prefix + p) for c in commits for p in in_git])
    history = []
    for commit in reversed(commits):
        outs = [r for r in _records(Tree(project, commit.sha)) if r.kind == "out"] if tracked else []
        values: dict[str, dict[str, Any]] = {}
        for path in metrics_files:
            try:
                data = blobs.get((commit.sha, project.prefix + path))
                if data is None and path in tracked:
                    data = _fetch(project, commit.sha, path, outs)
                values[path] = _metrics(data, path, False) if data is not None else {}
            except (FileFormatError, DvcReadError):
                values[path] = {}  # one unreadable historical file must not hide the rest of the trend
        history.append((commit, values))
    return history
