"""Local stand-ins for the only third-party actions mlgate's composite actions may use.

Each recorder does the observable part of the real action (v4 and later) on the local disk:
- actions/cache: restores from `cache_dir` on an exact key, a key prefix or a restore-key prefix (newest
  first, same `path` list only, as GitHub versions caches by their paths) and sets `cache-hit`; the save
  happens in a post step at the end of the run, only if the run succeeded and the key was not an exact hit.
- actions/upload-artifact: copies the matched files into `artifacts_dir/<name>/`, rooted like the real
  action (least common ancestor of the search paths), honouring `if-no-files-found` and `overwrite`.
- actions/download-artifact: copies artifacts of this run back into `path`.
Paths resolve against the workspace like the real actions (their process runs there).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.action_errors import ActionRunnerError
from bench.gh_expressions import fold_case
from bench.gh_glob import GlobError, GlobOptions, glob, parse_patterns, search_paths, segment_regex

_MAX_KEY_LENGTH = 512
_MAX_RESTORE_KEYS = 10
_ARTIFACT_INDEX = ".bench-artifacts.json"
_FORBIDDEN_IN_ARTIFACT_NAME = '":<>|*?\r\n\\/'
_FORBIDDEN_IN_ARTIFACT_PATH = '":<>|*?\r\n'
_NO_FILES_OPTIONS = ("warn", "error", "ignore")


class StepFailure(Exception):
    """The recorded action failed its step (core.setFailed)."""


@dataclass
class CacheRecord:
    """What one actions/cache step did: lookup, restore and (at the end of the run) save."""

    step: str
    key: str
    restore_keys: list[str]
    paths: list[str]
    matched_key: str | None = None
    cache_hit: bool | None = None
    saved: bool = False


@dataclass
class RecorderIO:
    """What a recorder sees (workspace, bench dirs) and what it reports back to the runner."""

    step: str
    workspace: Path
    home: Path
    artifacts_dir: Path
    cache_dir: Path
    github: Mapping[str, object]
    cache_records: list[CacheRecord]
    outputs: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    post: Callable[[bool], None] | None = None

    def info(self, message: str) -> None:
        self.lines.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def resolve(self, path: str) -> Path:
        expanded = str(self.home) + path[1:] if path == "~" or path.startswith("~/") else path
        return Path(os.path.normpath(self.workspace / expanded))


@dataclass(frozen=True)
class RecordedAction:
    name: str
    inputs: Mapping[str, str | None]  # declared inputs and their defaults (None: no default)
    run: Callable[[Mapping[str, str], RecorderIO], None]


def _input(inputs: Mapping[str, str], name: str, *, required: bool = False) -> str:
    value = inputs.get(name, "").strip()
    if required and not value:
        raise StepFailure(f"Input required and not supplied: {name}")
    return value


def _lines_input(inputs: Mapping[str, str], name: str, *, required: bool = False) -> list[str]:
    text = _input(inputs, name, required=required)
    return [re.sub(r"^!\s+", "!", line).strip() for line in text.split("\n") if line.strip()]


def _parse_int(text: str) -> int | None:
    """JavaScript's parseInt(): leading digits count, anything else is NaN (None)."""
    digits = re.match(r"[+-]?[0-9]+", text)
    return int(digits.group()) if digits else None


def _bool_input(inputs: Mapping[str, str], name: str) -> bool:
    value = _input(inputs, name)
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE", ""):
        return False
    raise StepFailure(
        f'Input does not meet YAML 1.2 "Core Schema" specification: {name}\n'
        "Support boolean input list: `true | True | TRUE | false | False | FALSE`"
    )


# ---------------------------------------------------------------------------------------------------
# actions/cache


def _cache_version(paths: list[str]) -> str:
    # GitHub keys caches by their path list too: a restore with other paths never matches.
    return hashlib.sha256("|".join([*paths, "bench-1.0"]).encode()).hexdigest()


class _CacheStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.index_path = root / "index.json"

    def entries(self) -> list[dict]:
        return json.loads(self.index_path.read_text()) if self.index_path.exists() else []

    def find(self, key: str, restore_keys: list[str], version: str) -> dict | None:
        candidates = [entry for entry in self.entries() if entry["version"] == version]
        for entry in candidates:
            if entry["key"] == key:
                return entry
        for prefix in (key, *restore_keys):
            matching = [entry for entry in candidates if entry["key"].startswith(prefix)]
            if matching:
                return matching[-1]  # the most recently saved
        return None

    def restore(self, entry: dict, workspace: Path) -> None:
        for number, relative in enumerate(entry["paths"]):
            source = self.root / str(entry["id"]) / str(number)
            target = Path(os.path.normpath(workspace / relative))
            _copy_any(source, target)

    def save(self, key: str, version: str, workspace: Path, relatives: list[str]) -> bool:
        entries = self.entries()
        if any(entry["key"] == key and entry["version"] == version for entry in entries):
            return False
        entry_id = len(entries) + 1
        for number, relative in enumerate(relatives):
            _copy_any(Path(os.path.normpath(workspace / relative)), self.root / str(entry_id) / str(number))
        entries.append({"id": entry_id, "key": key, "version": version, "paths": relatives})
        self.root.mkdir(parents=True, exist_ok=True)
        self.index_path.write_text(json.dumps(entries, indent=2))
        return True


def _copy_any(source: Path, target: Path) -> None:
    """Copies a file, symlink or tree, merging into what exists like tar extraction does."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        if target.is_symlink() or target.is_file():
            target.unlink()
        shutil.copy2(source, target, follow_symlinks=False)


def _run_cache(inputs: Mapping[str, str], io: RecorderIO) -> None:
    key = _input(inputs, "key", required=True)
    paths = _lines_input(inputs, "path", required=True)
    restore_keys = _lines_input(inputs, "restore-keys")
    fail_on_miss = _bool_input(inputs, "fail-on-cache-miss")
    lookup_only = _bool_input(inputs, "lookup-only")
    _bool_input(inputs, "enableCrossOsArchive")  # validated like the real action; no effect on Linux
    for candidate in (key, *restore_keys):
        if len(candidate) > _MAX_KEY_LENGTH:
            raise StepFailure(f"Key Validation Error: {candidate} cannot be larger than 512 characters.")
        if "," in candidate:
            raise StepFailure(f"Key Validation Error: {candidate} cannot contain commas.")
    if len(restore_keys) + 1 > _MAX_RESTORE_KEYS:
        raise StepFailure("Key Validation Error: Keys are limited to a maximum of 10.")

    store = _CacheStore(io.cache_dir)
    version = _cache_version(paths)
    record = CacheRecord(io.step, key, restore_keys, paths)
    io.cache_records.append(record)
    entry = store.find(key, restore_keys, version)
    if entry is None:
        # Like actions/cache, `cache-hit` stays unset on a miss.
        if fail_on_miss:
            raise StepFailure(f"Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: {key}")
        io.info(f"Cache not found for input keys: {', '.join([key, *restore_keys])}")
    else:
        record.matched_key = entry["key"]
        record.cache_hit = fold_case(entry["key"]) == fold_case(key)
        io.outputs["cache-hit"] = "true" if record.cache_hit else "false"
        if lookup_only:
            io.info(f"Cache found and can be restored from key: {entry['key']}")
        else:
            store.restore(entry, io.workspace)
            io.info(f"Cache restored from key: {entry['key']}")

    def save(run_succeeded: bool) -> None:
        # The real post step has `post-if: success()`.
        if not run_succeeded:
            return
        if record.cache_hit:
            io.info(f"Cache hit occurred on the primary key {key}, not saving cache.")
            return
        try:
            patterns = parse_patterns("\n".join(paths), io.workspace, io.home)
            matched = list(glob(patterns, GlobOptions(implicit_descendants=False)))
        except GlobError as error:
            io.info(f"[warning]{error}")
            return
        if not matched:
            io.info(
                "[warning]Path Validation Error: Path(s) specified in the action for caching do(es) not "
                "exist, hence no cache is being saved."
            )
            return
        relatives = [os.path.relpath(path, io.workspace) for path in matched]
        if store.save(key, version, io.workspace, relatives):
            record.saved = True
            io.info(f"Cache saved with key: {key}")
        else:
            io.info(f"Failed to save: Unable to reserve cache with key {key}, another job may be creating it.")

    io.post = save


# ---------------------------------------------------------------------------------------------------
# actions/upload-artifact and actions/download-artifact


def _artifact_index(artifacts_dir: Path) -> list[dict]:
    path = artifacts_dir / _ARTIFACT_INDEX
    return json.loads(path.read_text()) if path.exists() else []


def _write_artifact_index(artifacts_dir: Path, index: list[dict]) -> None:
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    (artifacts_dir / _ARTIFACT_INDEX).write_text(json.dumps(index, indent=2))


def _common_ancestor(paths: list[str]) -> str:
    split = [os.path.normpath(path).split("/") for path in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    return "/" + "/".join(part for part in common if part)


def find_files_to_upload(path_text: str, workspace: Path, home: Path, include_hidden: bool) -> tuple[list[str], str]:
    """upload-artifact's search: the matched files and the root directory the artifact is laid out from."""
    patterns = parse_patterns(path_text, workspace, home)
    options = GlobOptions(exclude_hidden_files=not include_hidden)
    files = [path for path in glob(patterns, options) if not os.path.isdir(path)]
    if not files:
        return [], ""
    roots = search_paths(patterns)
    if len(roots) > 1:
        return files, _common_ancestor(roots)
    if len(files) == 1 and roots[0] == files[0]:
        return files, os.path.dirname(files[0])
    return files, roots[0]


def _run_upload(inputs: Mapping[str, str], io: RecorderIO) -> None:
    name = _input(inputs, "name") or "artifact"
    path_text = _input(inputs, "path", required=True)
    if_no_files = _input(inputs, "if-no-files-found") or "warn"
    if if_no_files not in _NO_FILES_OPTIONS:
        raise StepFailure(
            f"Unrecognized if-no-files-found input. Provided: {if_no_files}. "
            f"Available options: {','.join(_NO_FILES_OPTIONS)}"
        )
    overwrite = _bool_input(inputs, "overwrite")
    include_hidden = _bool_input(inputs, "include-hidden-files")
    retention = _input(inputs, "retention-days")
    if retention and _parse_int(retention) is None:
        raise StepFailure("Invalid retention-days")
    compression = _input(inputs, "compression-level")
    if compression:
        level = _parse_int(compression)
        if level is None:
            raise StepFailure("Invalid compression-level")
        if not 0 <= level <= 9:
            raise StepFailure("Invalid compression-level. Valid values are 0-9")

    try:
        files, root = find_files_to_upload(path_text, io.workspace, io.home, include_hidden)
    except GlobError as error:
        raise StepFailure(str(error)) from error
    if not files:
        message = f"No files were found with the provided path: {path_text}. No artifacts will be uploaded."
        if if_no_files == "error":
            raise StepFailure(message)
        if if_no_files == "warn":
            io.warning(message)
        else:
            io.info(message)
        return
    if any(char in name for char in _FORBIDDEN_IN_ARTIFACT_NAME) or name == _ARTIFACT_INDEX:
        raise StepFailure(f"The artifact name is not valid: {name}. Contains a forbidden character.")
    relatives = [os.path.relpath(file, root) for file in files]
    for relative in relatives:
        if any(char in relative for char in _FORBIDDEN_IN_ARTIFACT_PATH):
            raise StepFailure(f"The path for one of the files in artifact is not valid: {relative}.")

    index = _artifact_index(io.artifacts_dir)
    target = io.artifacts_dir / name
    if any(entry["name"] == name for entry in index):
        if not overwrite:
            raise StepFailure(
                "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: "
                "an artifact with this name already exists on the workflow run"
            )
        index = [entry for entry in index if entry["name"] != name]
        shutil.rmtree(target)
    io.info(f"With the provided path, there will be {len(files)} file{'' if len(files) == 1 else 's'} uploaded")
    for file, relative in zip(files, relatives, strict=True):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target / relative)
    artifact_id = max((entry["id"] for entry in index), default=0) + 1
    index.append({"id": artifact_id, "name": name})
    _write_artifact_index(io.artifacts_dir, index)
    io.outputs["artifact-id"] = str(artifact_id)
    io.outputs["artifact-url"] = (
        f"{io.github['server_url']}/{io.github['repository']}/actions/runs/{io.github['run_id']}"
        f"/artifacts/{artifact_id}"
    )
    io.info(f"Artifact {name} has been successfully uploaded! Artifact ID is {artifact_id}")


def _name_matches(pattern: str, name: str) -> bool:
    """minimatch with its defaults, for the wildcards the bench supports (`*`, `?`, `[...]`)."""
    if any(char in pattern for char in "{}()!+@"):
        raise ActionRunnerError(
            f"download-artifact pattern {pattern!r} uses braces or extglobs, which the bench does not model"
        )
    if name.startswith(".") and not pattern.startswith("."):
        return False  # minimatch's default `dot: false`
    return segment_regex(pattern).fullmatch(name) is not None


def _run_download(inputs: Mapping[str, str], io: RecorderIO) -> None:
    for unsupported in ("github-token", "artifact-ids"):
        if _input(inputs, unsupported):
            raise ActionRunnerError(
                f"step {io.step}: download-artifact `{unsupported}` (another run's artifacts) is not modelled"
            )
    name = _input(inputs, "name")
    pattern = _input(inputs, "pattern")
    merge_multiple = _bool_input(inputs, "merge-multiple")
    destination = io.resolve(_input(inputs, "path") or str(io.workspace))
    index = _artifact_index(io.artifacts_dir)
    if name:
        if not any(entry["name"] == name for entry in index):
            raise StepFailure(f"Unable to download artifact(s): Artifact not found for name: {name}")
        selected = [name]
    else:
        selected = [entry["name"] for entry in index if not pattern or _name_matches(pattern, entry["name"])]
    for artifact in selected:
        target = destination if name or merge_multiple else destination / artifact
        shutil.copytree(io.artifacts_dir / artifact, target, dirs_exist_ok=True)
        io.info(f"Artifact {artifact} was downloaded to {target}")
    if selected:
        io.outputs["download-path"] = str(destination)
    io.info(f"Total of {len(selected)} artifact(s) downloaded")


# ---------------------------------------------------------------------------------------------------

RECORDED_ACTIONS = {
    "actions/cache": RecordedAction(
        "actions/cache",
        {
            "path": None,
            "key": None,
            "restore-keys": "",
            "upload-chunk-size": "",
            "enableCrossOsArchive": "false",
            "fail-on-cache-miss": "false",
            "lookup-only": "false",
        },
        _run_cache,
    ),
    "actions/upload-artifact": RecordedAction(
        "actions/upload-artifact",
        {
            "name": "artifact",
            "path": None,
            "if-no-files-found": "warn",
            "retention-days": "0",
            "compression-level": "6",
            "overwrite": "false",
            "include-hidden-files": "false",
        },
        _run_upload,
    ),
    "actions/download-artifact": RecordedAction(
        "actions/download-artifact",
        {
            "name": "",
            "path": "",
            "pattern": "",
            "merge-multiple": "false",
            "github-token": "",
            "repository": "",
            "run-id": "",
            "artifact-ids": "",
        },
        _run_download,
    ),
}
_MINIMUM_MAJOR = 4


def resolve_uses(uses: str) -> RecordedAction:
    """The recorder for a `uses:` value, or ValueError explaining why the bench refuses it."""
    action, _, ref = uses.partition("@")
    recorder = RECORDED_ACTIONS.get(action)
    if recorder is None or not ref:
        allowed = ", ".join(f"{name}@v{_MINIMUM_MAJOR}" for name in RECORDED_ACTIONS)
        raise ValueError(f"`uses: {uses}` is not allowed; composite actions of mlgate may only use {allowed}")
    major = re.fullmatch(r"v([0-9]+)(\.[0-9]+)*", ref)
    if major is None and not re.fullmatch(r"[0-9a-f]{40}", ref):
        raise ValueError(f"`uses: {uses}`: pin a release tag (v{_MINIMUM_MAJOR} or later) or a full commit SHA")
    if major is not None and int(major.group(1)) < _MINIMUM_MAJOR:
        raise ValueError(f"`uses: {uses}`: versions before v{_MINIMUM_MAJOR} no longer run on GitHub")
    return recorder
