"""Who may run which command, on which comment event (pure core).

mlgate decides this itself, from GitHub's answers, whatever the workflow's `if:` says: a copied template can be
edited, an `issue_comment` workflow runs with the base repository's token and secrets, and anyone who can
comment can write a command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.chatops.commands import PREFIX, Command
from mlgate.config.model import ROLES, ChatOpsConfig

PR_COMMANDS = ("rerun", "deploy")  # they act on a pull request's head
LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")
# The booleans of `user.permissions` in GitHub's answer, strongest first, and the role each one means.
_PERMISSION_FLAGS = (("admin", "admin"), ("maintain", "maintain"), ("push", "write"), ("triage", "triage"))
# The legacy `permission` field: maintain reads as write and triage as read there.
_LEGACY = {"admin": "admin", "write": "write", "read": "read", "none": None}


@dataclass(frozen=True)
class Comment:
    """The facts of an `issue_comment` event that the decision needs (from ghcontext's payload reader)."""

    action: str  # created | edited | deleted
    comment_id: int
    body: str
    author: str
    author_type: str  # User | Bot | Organization
    html_url: str
    issue_number: int
    issue_state: str  # open | closed
    is_pull_request: bool

    @property
    def is_bot(self) -> bool:
        return self.author_type == "Bot" or self.author.endswith("[bot]")


def rank(role: str | None) -> int:
    """0 for no access, then 1 (read) to 5 (admin)."""
    return ROLES.index(role) + 1 if role in ROLES else 0


def role_of(answer: Mapping[str, Any]) -> str | None:
    """The commenter's role from `GET /repos/{owner}/{repo}/collaborators/{user}/permission`.

    `role_name` names the five built-in roles exactly; a custom role's name is its own, so then the
    `user.permissions` booleans tell its strength; the legacy `permission` field (which reads maintain as
    write and triage as read) is the last resort. Anything else is no access: fail closed."""
    named = answer.get("role_name")
    if named in ROLES:
        return str(named)
    user = answer.get("user")
    flags = user.get("permissions") if isinstance(user, Mapping) else None
    if isinstance(flags, Mapping):
        for flag, role in _PERMISSION_FLAGS:
            if flags.get(flag) is True:
                return role
        return "read" if flags.get("pull") is True else None
    legacy = answer.get("permission")
    return _LEGACY.get(legacy) if isinstance(legacy, str) else None


def is_production(config: ChatOpsConfig, environment: str | None) -> bool:
    return environment is not None and environment in config.production_environments


def required_role(config: ChatOpsConfig, command: Command) -> str:
    """The least role `command` needs: its own, raised to `production`'s when it changes a production
    environment."""
    role = config.permissions[command.name]
    if is_production(config, command.environment) and command.name != "help":
        production = config.permissions["production"]
        role = production if rank(production) > rank(role) else role
    return role


def refusal_before_permission(config: ChatOpsConfig, comment: Comment, command: Command) -> str | None:
    """Why the command is refused whatever the commenter's role, or None."""
    if comment.action != "created":
        return f"the comment was {comment.action}; mlgate runs only new comments: post the command again"
    if comment.is_bot and comment.author not in config.allow_bots:
        return f"{comment.author} is a bot, and chatops.allow_bots in mlgate.yml does not list it"
    if not LOGIN_RE.match(comment.author):
        return "the commenter's login is not a GitHub login"
    where = "pull request" if comment.is_pull_request else "issue"
    if comment.issue_state != "open":
        return f"this {where} is {comment.issue_state}; commands run only on open ones"
    if command.name in PR_COMMANDS and not comment.is_pull_request:
        return f"`{PREFIX} {command.name}` acts on a pull request's head: comment on the pull request"
    if command.name == "deploy" and is_production(config, command.environment):
        return (
            f"`{command.environment}` is a production environment: pull requests deploy only to non-production "
            f"ones for a preview; merge, then `{PREFIX} promote <name>@<version|stage> to {command.environment}`"
        )
    return None


def permission_refusal(config: ChatOpsConfig, command: Command, login: str, role: str | None) -> str | None:
    """Why `login`, whose role is `role`, may not run `command`, or None."""
    needed = required_role(config, command)
    if rank(role) >= rank(needed):
        return None
    has = f"the {role} role" if role else "no access"
    production = " on a production environment" if is_production(config, command.environment) else ""
    return (
        f"@{login} has {has} on this repository; `{PREFIX} {command.name}`{production} needs {needed} or higher "
        "(chatops.permissions in mlgate.yml)"
    )
