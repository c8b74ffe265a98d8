"""GitHub's workflow commands (`::error::` ...), secret masking and environment files ($GITHUB_OUTPUT...).

Parsing follows the runner: ActionCommand.TryParseV2 (and the legacy `##[name]` form), the escapes of
command data and properties, and the `name=value` / `name<<DELIMITER` format of environment files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


class SecretMasker:
    """Replaces registered secrets with *** (longest first), like the runner's SecretMasker."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if secret:
            self.secrets.add(secret)

    def mask(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "remove-matcher",
        "debug",
        "notice",
        "warning",
        "error",
        "group",
        "endgroup",
        "echo",
        "stop-commands",
        "set-output",
        "save-state",
        "set-env",
        "add-path",
    }
)
DEPRECATED_COMMAND = (
    "The `{name}` command is deprecated and will be disabled soon. Please upgrade to using Environment "
    "Files. For more information see: "
    "https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/"
)
DISABLED_COMMAND = (
    "The `{name}` command is disabled. Please upgrade to using Environment Files or opt into unsecure "
    "command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. "
    "For more information see: "
    "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/"
)


def _unescape(text: str, mapping: tuple[tuple[str, str], ...]) -> str:
    for escaped, char in mapping:
        text = text.replace(escaped, char)
    return text


_DATA_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
_V1_ESCAPES = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))


@dataclass(frozen=True)
class WorkflowCommand:
    name: str
    properties: dict[str, str]
    data: str


# prefix, end of the command part, property separator, property escapes, data escapes
_SYNTAXES = (
    ("::", "::", ",", _PROPERTY_ESCAPES, _DATA_ESCAPES),
    ("##[", "]", ";", _V1_ESCAPES, _V1_ESCAPES),  # the legacy form the runner still accepts
)


def parse_command(line: str) -> WorkflowCommand | None:
    """`::name k=v,k=v::data` or `##[name k=v;k=v]data`, as the runner's ActionCommand parses them."""
    text = line.lstrip()
    for prefix, end_marker, separator, property_escapes, data_escapes in _SYNTAXES:
        if not text.startswith(prefix):
            continue
        end = text.find(end_marker, len(prefix))
        if end < 0:
            return None
        name, _, properties_text = text[len(prefix) : end].partition(" ")
        if name not in _COMMANDS:
            return None
        properties = {}
        for item in properties_text.strip().split(separator):
            key, _, value = item.partition("=")
            if key and value:
                properties[key] = _unescape(value, property_escapes)
        return WorkflowCommand(name, properties, _unescape(text[end + len(end_marker) :], data_escapes))
    return None


def int_property(properties: Mapping[str, str], name: str) -> int | None:
    value = properties.get(name, "").strip()
    return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else None


def parse_file_command(text: str, kind: str) -> dict[str, str]:
    """$GITHUB_OUTPUT / $GITHUB_ENV: `name=value` lines and `name<<DELIMITER` heredocs (LF ends lines)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            if not name:
                raise ValueError(f"Invalid {kind} format '{line}'. Name must not be empty")
            values[name] = value
        elif heredoc >= 0:
            name, delimiter = line.split("<<", 1)
            if not name or not delimiter:
                raise ValueError(
                    f"Invalid {kind} format '{line}'. Name must not be empty and delimiter must not be empty"
                )
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"Invalid value. Matching delimiter not found '{delimiter}'")
            index += 1
            values[name] = "\n".join(body)
        else:
            raise ValueError(f"Invalid {kind} format '{line}'")
    return values


def split_lines(text: str) -> list[str]:
    """Lines as the runner reads them (.NET ReadLine: CR, LF or CRLF ends a line)."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
