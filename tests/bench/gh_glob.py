"""The @actions/glob semantics used by hashFiles(), actions/cache and actions/upload-artifact.

Patterns are one per line (`#` comments, `!` negation, `~` home, relative to the working directory),
segments support `*`, `?`, `[...]`, `\\` escapes and `**`; dotfiles match (minimatch `dot: true`).
The search walks each search path depth-first with directory entries in byte order, as Node's
`fs.readdir` returns them, so hashFiles() hashes files in the order GitHub does.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MATCH_DIRECTORY = 1
MATCH_FILE = 2
MATCH_ALL = MATCH_DIRECTORY | MATCH_FILE
_GLOBSTAR = "**"


class GlobError(ValueError):
    """A pattern @actions/glob rejects (relative `..` segments, an empty pattern)."""


def _literal(segment: str) -> str | None:
    """The segment as a plain name, or None when it contains a wildcard (like getLiteral())."""
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "\\" and index + 1 < len(segment):
            out.append(segment[index + 1])
            index += 2
            continue
        if char in "*?":
            return None
        if char == "[" and (close := segment.find("]", index + 1)) > index + 1:
            members = segment[index + 1 : close]
            if len(members) > 1:
                return None
            out.append(members)
            index = close + 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def segment_regex(segment: str) -> re.Pattern[str]:
    """minimatch's translation of one path segment (dot files allowed, no braces or extglobs)."""
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "\\" and index + 1 < len(segment):
            out.append(re.escape(segment[index + 1]))
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[" and (close := segment.find("]", index + 2)) > index:
            members = segment[index + 1 : close]
            negated = members[:1] in ("!", "^")
            members = members[1:] if negated else members
            escaped = members.replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[{'^' if negated else ''}{escaped}]")
            index = close + 1
        else:
            out.append(re.escape(char))
            index += 1
    return re.compile("".join(out), re.DOTALL)


def _segment_matches(pattern: str, name: str) -> bool:
    if pattern == _GLOBSTAR:
        return True
    literal = _literal(pattern)
    if literal is not None:
        return literal == name
    return segment_regex(pattern).fullmatch(name) is not None


def _match_segments(path: tuple[str, ...], pattern: tuple[str, ...], partial: bool) -> bool:
    """minimatch matchOne(); with `partial`, a path that runs out first may still lead to a match."""
    if not pattern:
        return not path
    head = pattern[0]
    if head == _GLOBSTAR:
        return any(_match_segments(path[skip:], pattern[1:], partial) for skip in range(len(path) + 1))
    if not path:
        return partial
    return _segment_matches(head, path[0]) and _match_segments(path[1:], pattern[1:], partial)


def _split(path: str) -> tuple[str, ...]:
    """'/a//b/' -> ('/', 'a', 'b')."""
    return ("/", *(part for part in path.split("/") if part))


@dataclass(frozen=True)
class GlobPattern:
    negate: bool
    segments: tuple[str, ...]  # ('/', ...): literal directories of the root, then glob segments
    trailing_separator: bool

    @classmethod
    def parse(cls, line: str, workdir: Path, home: Path) -> GlobPattern:
        pattern = line.strip()
        negate = False
        while pattern.startswith("!"):
            negate = not negate
            pattern = pattern[1:].strip()
        if not pattern:
            raise GlobError("pattern cannot be empty")
        relative_parts = [part for part in pattern.split("/") if part]
        literals = [_literal(part) for part in relative_parts]
        start = 1 if pattern.startswith("/") else 0
        if any(lit == ".." or (lit == "." and i + start > 0) for i, lit in enumerate(literals)):
            raise GlobError(f"Invalid pattern '{pattern}'. Relative pathing '.' and '..' is not allowed.")
        trailing = pattern.endswith("/") and pattern != "/"
        if pattern.startswith("/"):
            root: tuple[str, ...] = ("/",)
        elif literals and literals[0] == "~" and relative_parts[0] == "~":
            root, relative_parts = _split(str(home)), relative_parts[1:]
        else:
            if literals and literals[0] == ".":
                relative_parts = relative_parts[1:]
            root = _split(str(workdir))
        escaped_root = tuple(re.sub(r"([\\*?\[])", r"\\\1", part) for part in root[1:])
        return cls(negate, ("/", *escaped_root, *relative_parts), trailing)

    @property
    def search_path(self) -> str:
        literal_parts: list[str] = []
        for segment in self.segments[1:]:
            literal = _literal(segment)
            if literal is None:
                break
            literal_parts.append(literal)
        return "/" + "/".join(literal_parts)

    def with_descendants(self) -> GlobPattern:
        return GlobPattern(self.negate, (*self.segments, _GLOBSTAR), False)

    def match(self, path: str) -> int:
        if _match_segments(_split(path)[1:], self.segments[1:], partial=False):
            return MATCH_DIRECTORY if self.trailing_separator else MATCH_ALL
        return 0

    def partial_match(self, path: str) -> bool:
        return _match_segments(_split(path)[1:], self.segments[1:], partial=True)


def parse_patterns(text: str, workdir: Path, home: Path) -> list[GlobPattern]:
    lines = (line.strip() for line in text.split("\n"))
    return [GlobPattern.parse(line, workdir, home) for line in lines if line and not line.startswith("#")]


def search_paths(patterns: list[GlobPattern]) -> list[str]:
    """Search roots of the non-negated patterns, without duplicates or descendants of one another."""
    candidates = {pattern.search_path for pattern in patterns if not pattern.negate}
    result: list[str] = []
    for pattern in patterns:
        path = pattern.search_path
        if pattern.negate or path in result:
            continue
        ancestors = [str(parent) for parent in Path(path).parents]
        if not any(ancestor in candidates for ancestor in ancestors):
            result.append(path)
    return result


def _combined_match(patterns: list[GlobPattern], path: str) -> int:
    result = 0
    for pattern in patterns:
        if pattern.negate:
            result &= ~pattern.match(path)
        else:
            result |= pattern.match(path)
    return result


@dataclass(frozen=True)
class GlobOptions:
    follow_symlinks: bool = True
    implicit_descendants: bool = True
    match_directories: bool = True
    exclude_hidden_files: bool = False


def glob(patterns: list[GlobPattern], options: GlobOptions) -> Iterator[str]:
    """DefaultGlobber.globGenerator(): matching files and directories in GitHub's traversal order."""
    if options.implicit_descendants:
        patterns = [
            expanded
            for pattern in patterns
            for expanded in (
                (pattern, pattern.with_descendants())
                if pattern.trailing_separator or pattern.segments[-1] != _GLOBSTAR
                else (pattern,)
            )
        ]
    stack = [(path, 1) for path in reversed(search_paths(patterns)) if os.path.lexists(path)]
    traversal_chain: list[str] = []
    while stack:
        path, level = stack.pop()
        matched = _combined_match(patterns, path)
        partial = bool(matched) or any(not p.negate and p.partial_match(path) for p in patterns)
        if not matched and not partial:
            continue
        info = _stat(path, level, options, traversal_chain)
        if info is None:
            continue
        if options.exclude_hidden_files and os.path.basename(path).startswith("."):
            continue
        if stat.S_ISDIR(info.st_mode):
            if matched & MATCH_DIRECTORY and options.match_directories:
                yield path
            elif not partial:
                continue
            children = sorted(os.listdir(path), key=os.fsencode)
            stack.extend((os.path.join(path, child), level + 1) for child in reversed(children))
        elif matched & MATCH_FILE:
            yield path


def _stat(path: str, level: int, options: GlobOptions, chain: list[str]) -> os.stat_result | None:
    if not options.follow_symlinks:
        return os.lstat(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None  # a broken symlink: every caller omits them
    if stat.S_ISDIR(info.st_mode):
        real = os.path.realpath(path)
        del chain[level - 1 :]
        if real in chain:
            return None  # symlink cycle
        chain.append(real)
    return info


def hash_files(patterns_text: str, workspace: Path, follow_symlinks: bool) -> str:
    """hashFiles(): SHA-256 over the SHA-256 digests of the matched files under the workspace, or ''."""
    workspace_prefix = str(workspace).rstrip("/") + "/"
    patterns = parse_patterns(patterns_text, workspace, Path.home())
    combined = hashlib.sha256()
    matched_any = False
    for path in glob(patterns, GlobOptions(follow_symlinks=follow_symlinks)):
        if not path.startswith(workspace_prefix) or os.path.isdir(path):
            continue
        combined.update(hashlib.sha256(Path(path).read_bytes()).digest())
        matched_any = True
    return combined.hexdigest() if matched_any else ""
