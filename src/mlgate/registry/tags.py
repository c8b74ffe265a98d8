"""GTO's tag-name grammar: parse and format `name@vX.Y.Z[!]`, `name#stage[!]#N`, `name@deprecated`.

The regular expressions are GTO's (gto/constants.py), so a name one tool accepts the other accepts too. An
artifact in a subdirectory, `dir:name`, is spelled `dir=name` in a tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from mlgate.registry.semver import SEMVER_PATTERN

NAME_PATTERN = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_DIRNAME = r"[a-zA-Z0-9-_./]+"
_FULLNAME_IN_TAG = rf"(?:{_DIRNAME}=)?{NAME_PATTERN}"
_TAG_RE = re.compile(
    rf"^(?P<artifact>{_FULLNAME_IN_TAG})"
    rf"(((#(?P<stage>{NAME_PATTERN})|@(?P<version>v{SEMVER_PATTERN}))(?P<cancel>!?))"
    r"|@((?P<deprecated>deprecated)|(?P<created>created)))"
    r"(#(?P<counter>[0-9]+))?$"
)
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")
_FULLNAME_RE = re.compile(rf"^(?:{_DIRNAME}:)?{NAME_PATTERN}$")


class Action(Enum):
    # value: GTO's event priority, which orders events carrying the same timestamp (gto/base.py)
    DEPRECATE = 2
    REGISTER = 3
    DEREGISTER = 4
    ASSIGN = 5
    UNASSIGN = 6

    @property
    def event(self) -> str:
        """GTO's event name, as `gto history` prints it."""
        return {
            Action.DEPRECATE: "deprecation",
            Action.REGISTER: "registration",
            Action.DEREGISTER: "deregistration",
            Action.ASSIGN: "assignment",
            Action.UNASSIGN: "unassignment",
        }[self]


@dataclass(frozen=True)
class TagName:
    artifact: str
    action: Action
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    def __str__(self) -> str:
        base = self.artifact.replace(":", "=")
        if self.action is Action.DEPRECATE:
            text = f"{base}@deprecated"
        elif self.action in (Action.REGISTER, Action.DEREGISTER):
            text = f"{base}@{self.version}{'!' if self.action is Action.DEREGISTER else ''}"
        else:
            text = f"{base}#{self.stage}{'!' if self.action is Action.UNASSIGN else ''}"
        return text if self.counter is None else f"{text}#{self.counter}"


def parse_tag_name(name: str) -> TagName | None:
    """The registry event a tag name spells, or None for any other tag (release tags, `@created`, typos)."""
    match = _TAG_RE.match(name)
    # `name@created` matches GTO's regex but is no event GTO can index; it is skipped, as any other tag.
    if match is None or match["created"]:
        return None
    artifact = match["artifact"].replace("=", ":")
    counter = int(match["counter"]) if match["counter"] else None
    cancel = match["cancel"] == "!"
    if match["deprecated"]:
        return TagName(artifact, Action.DEPRECATE, counter=counter)
    if match["version"]:
        action = Action.DEREGISTER if cancel else Action.REGISTER
        return TagName(artifact, action, version=match["version"], counter=counter)
    action = Action.UNASSIGN if cancel else Action.ASSIGN
    return TagName(artifact, action, stage=match["stage"], counter=counter)


def is_valid_name(value: str) -> bool:
    """A valid stage name, or artifact name without directory (GTO: letters, digits, '-', '_', '/')."""
    return _NAME_RE.match(value) is not None


def is_valid_artifact(value: str) -> bool:
    return _FULLNAME_RE.match(value) is not None
