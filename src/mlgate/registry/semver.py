"""Semantic versions with GTO's mandatory `v` prefix (`v1.4.0`, `v2.0.0-rc.1+build.5`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from mlgate.errors import InputError

_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
# semver.org's grammar, as GTO embeds it in its tag regex.
SEMVER_PATTERN = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    rf"(?:-(?P<prerelease>{_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+(?P<buildmetadata>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_VERSION_RE = re.compile(rf"^v{SEMVER_PATTERN}$")
BUMPS = ("patch", "minor", "major")


def _prerelease_key(prerelease: str) -> tuple[tuple[int, int, str], ...]:
    # semver.org §11: numeric identifiers sort numerically and below alphanumeric ones.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in prerelease.split("."))


@total_ordering
@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> SemVer | None:
        match = _VERSION_RE.match(text)
        if match is None:
            return None
        return cls(
            int(match["major"]),
            int(match["minor"]),
            int(match["patch"]),
            match["prerelease"] or "",
            match["buildmetadata"] or "",
        )

    @classmethod
    def require(cls, text: str, what: str = "--version") -> SemVer:
        parsed = cls.parse(text)
        if parsed is None:
            raise InputError(f"{what} {text!r} is not a semantic version with a 'v' prefix, such as v1.4.0")
        return parsed

    def _key(self) -> tuple:
        # A release sorts above its pre-releases; build metadata has no precedence (python-semver, used by GTO).
        pre = (1,) if not self.prerelease else (0, *_prerelease_key(self.prerelease))
        return (self.major, self.minor, self.patch, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def bump(self, part: str) -> SemVer:
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        if part == "patch":
            return SemVer(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown bump {part!r}")

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text
