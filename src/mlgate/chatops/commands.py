"""The `/mlgate <command>` grammar (pure core).

A comment body is written by whoever can comment, so it is hostile input: it is bounded in length, only lines
that markdown renders as plain text count (not fenced or indented code, quotes or HTML comments, which would
let a command hide or be quoted from someone else), a command is one line of ASCII words from a small
alphabet, and every word must be one the grammar knows. Nothing of the body ever reaches a shell: commands
become typed values, and replies quote only words that passed the alphabet.

    /mlgate help
    /mlgate rerun
    /mlgate retrain [--always]
    /mlgate deploy <environment>
    /mlgate promote <name>@<version|stage> to <environment>
    /mlgate rollback <environment>
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.registry.semver import SemVer
from mlgate.registry.tags import is_valid_artifact, is_valid_name

PREFIX = "/mlgate"
MAX_BODY = 65536  # GitHub's own limit on a comment body; a longer one is not a comment GitHub delivered
MAX_LINE = 200
COMMANDS = ("help", "rerun", "retrain", "deploy", "promote", "rollback")
USAGE = {
    "help": "/mlgate help",
    "rerun": "/mlgate rerun",
    "retrain": "/mlgate retrain [--always]",
    "deploy": "/mlgate deploy <environment>",
    "promote": "/mlgate promote <name>@<version|stage> to <environment>",
    "rollback": "/mlgate rollback <environment>",
}
# A word: ASCII letters, digits and . _ - / @ + ; it starts with a letter, a digit or "--" (the one flag).
_WORD = re.compile(r"^(?:--)?[A-Za-z0-9][A-Za-z0-9._/@+-]*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what GitHub's markdown breaks lines at (not U+2028, U+0085, ...)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class CommandRefused(Exception):
    """The comment holds a command mlgate will not run; the message says why (it goes into the reply)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Command:
    name: str  # one of COMMANDS
    environment: str | None = None  # deploy, promote (the target), rollback
    always: bool = False  # retrain --always
    artifact: str | None = None  # promote: the registry artifact
    version: str | None = None  # promote: an exact version (v1.4.0) ...
    stage: str | None = None  # ... or the version a stage holds now

    @property
    def text(self) -> str:
        """The command as mlgate understood it, built from checked words only (safe to quote in a reply)."""
        if self.name == "retrain":
            return f"{PREFIX} retrain --always" if self.always else f"{PREFIX} retrain"
        if self.name == "promote":
            return f"{PREFIX} promote {self.artifact}@{self.version or self.stage} to {self.environment}"
        if self.environment is not None:
            return f"{PREFIX} {self.name} {self.environment}"
        return f"{PREFIX} {self.name}"


def _visible_lines(body: str) -> list[str]:
    """The lines markdown renders as text: outside fenced code, HTML comments; indented code and quotes are
    left to the caller (they cannot start with the prefix)."""
    lines: list[str] = []
    fence: str | None = None
    in_comment = False
    for line in _LINE_BREAK.split(body):
        if in_comment:
            in_comment = "-->" not in line
            continue
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if line.lstrip(" ").startswith("<!--"):
            in_comment = "-->" not in line
            continue
        lines.append(line)
    return lines


def _shown(char: str) -> str:
    """A character as a reply may quote it: its code point, and itself when it is plain and not a backtick."""
    code = f"U+{ord(char):04X}"
    return f"`{char}` ({code})" if char.isascii() and char.isprintable() and char not in "` " else code


def _addressed(words: list[str]) -> bool:
    """The line speaks to mlgate: `/mlgate` in any letter case, or glued to a character that is not ASCII
    (a zero-width space would otherwise hide a command from mlgate but not from the reader)."""
    first = words[0].lower() if words else ""
    return first == PREFIX or (first.startswith(PREFIX) and not first[len(PREFIX)].isascii())


def command_lines(body: str) -> list[str]:
    """The lines of `body` addressed to mlgate (see `_addressed`; a near miss is answered, not ignored)."""
    if len(body) > MAX_BODY:
        raise CommandRefused(f"the comment is longer than GitHub's {MAX_BODY} characters")
    found = []
    for line in _visible_lines(body):
        if line.startswith(("    ", "\t")):  # an indented code block
            continue
        if _addressed(line.split()):
            found.append(line)
    return found


def _words(line: str) -> list[str]:
    if len(line) > MAX_LINE:
        raise CommandRefused(f"the command line is longer than {MAX_LINE} characters")
    odd = next((c for c in line.strip() if not (c.isascii() and (c.isprintable() or c == "\t"))), None)
    if odd is not None:
        raise CommandRefused(
            f"the command line contains the character {_shown(odd)}; write commands in plain ASCII words"
        )
    words = line.split()
    if words[0] != PREFIX:
        raise CommandRefused(f"write `{PREFIX}` in lower case, then a space and the command")
    for word in words[1:]:
        if not _WORD.match(word):
            bad = next((c for c in word if not re.match(r"[A-Za-z0-9._/@+-]", c)), word[0])
            raise CommandRefused(f"the command contains the character {_shown(bad)}, which no command takes")
    return words[1:]


def _environment(word: str, environments: Sequence[str]) -> str:
    if word not in environments:
        listed = ", ".join(f"`{e}`" for e in environments) or "none (deploy.environments is empty)"
        raise CommandRefused(f"`{word}` is not an environment of mlgate.yml (deploy.environments lists {listed})")
    return word


def _arity(name: str, args: Sequence[str], count: int) -> None:
    if len(args) != count:
        raise CommandRefused(f"write `{USAGE[name]}`")


def _promote(args: Sequence[str], environments: Sequence[str], artifact: str | None) -> Command:
    if len(args) != 3 or args[1] != "to" or "@" not in args[0]:
        raise CommandRefused(f"write `{USAGE['promote']}`")
    name, _, selector = args[0].rpartition("@")
    if not is_valid_artifact(name):
        raise CommandRefused(f"`{name}` is not a registry artifact name")
    if artifact is None:
        raise CommandRefused("mlgate.yml has no deploy.name: there is no registry artifact to promote")
    if name != artifact:
        raise CommandRefused(f"`{name}` is not the artifact this repository deploys (deploy.name is `{artifact}`)")
    target = _environment(args[2], environments)
    if selector.startswith("v") and selector[1:2].isdigit():
        if SemVer.parse(selector) is None:
            raise CommandRefused(f"`{selector}` is not a version such as v1.4.0")
        return Command("promote", environment=target, artifact=name, version=selector)
    if not is_valid_name(selector):
        raise CommandRefused(f"`{selector}` is neither a version (v1.4.0) nor a stage name")
    if selector == target:
        raise CommandRefused(f"`{selector}` is the environment being promoted to; name the stage to promote from")
    return Command("promote", environment=target, artifact=name, stage=selector)


def parse_line(line: str, environments: Sequence[str], artifact: str | None) -> Command:
    """One command line as a Command; CommandRefused says what is wrong with it."""
    args = _words(line)
    if not args:
        raise CommandRefused(f"no command after `{PREFIX}`; `{PREFIX} help` lists them")
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        raise CommandRefused(f"`{name}` is not a command; `{PREFIX} help` lists them")
    if name in ("help", "rerun"):
        _arity(name, rest, 0)
        return Command(name)
    if name == "retrain":
        if rest not in ([], ["--always"]):
            raise CommandRefused(f"write `{USAGE['retrain']}`")
        return Command(name, always=bool(rest))
    if name in ("deploy", "rollback"):
        _arity(name, rest, 1)
        return Command(name, environment=_environment(rest[0], environments))
    return _promote(rest, environments, artifact)


def parse_comment(body: str, environments: Sequence[str], artifact: str | None) -> Command | None:
    """The one command of a comment, None when it holds none; CommandRefused when it is malformed, names an
    environment mlgate.yml does not list, or holds more than one (each command gets its own comment, its own
    reactions and its own reply)."""
    lines = command_lines(body)
    if not lines:
        return None
    if len(lines) > 1:
        raise CommandRefused(f"the comment holds {len(lines)} `{PREFIX}` lines; post one command per comment")
    return parse_line(lines[0], environments, artifact)
