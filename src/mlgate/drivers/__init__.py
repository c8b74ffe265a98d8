"""Where reports and records go: `github` (PyGithub against GITHUB_API_URL) or `local` (files in the outbox)."""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.errors import InputError

DRIVERS = ("auto", "github", "local")


def choose_driver(requested: str, env: Mapping[str, str], token: str | None = None) -> str:
    """GitHub when running in Actions with a token, else local; `requested` other than auto forces one."""
    if requested not in DRIVERS:
        raise InputError(f"--driver must be one of {', '.join(DRIVERS)} (got {requested!r})")
    if requested != "auto":
        return requested
    in_actions = env.get("GITHUB_ACTIONS") == "true"
    return "github" if in_actions and (token or env.get("GITHUB_TOKEN")) else "local"
