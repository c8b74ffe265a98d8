"""Run a uv command with the package indexes pip is configured with.

    python pip_index.py UV ARGS...            every source pip installs from (index, extra indexes, find-links)
    python pip_index.py --primary UV ARGS...  pip's primary index only (locking: see locks/lock.py)

uv does not read pip's configuration (pip.conf files, PIP_* variables), so a runner or a developer machine
set up for pip (a company mirror, an extra index, find-links, a CA bundle) would send uv elsewhere, or
nowhere. This asks the interpreter's own pip (`pip config list`, which merges the files and the environment
in pip's order) and hands the same settings to uv through its environment. A UV_* variable already set
wins: whoever configured uv explicitly meant it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Mapping

# pip option -> uv environment variable, and how uv wants a list of several values joined.
UV_VARIABLE = {
    "index-url": ("UV_INDEX_URL", " "),
    "extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "trusted-host": ("UV_INSECURE_HOST", " "),
    "cert": ("SSL_CERT_FILE", " "),
    "timeout": ("UV_HTTP_TIMEOUT", " "),
    "default-timeout": ("UV_HTTP_TIMEOUT", " "),
}
# Extra indexes and find-links are often partial mirrors (one platform, one Python): a lock takes the hashes
# of every file the primary index publishes, and a mirror's copy of a file matches them at install time.
SECONDARY = ("UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_INDEX", "UV_INDEX_STRATEGY")
# pip's precedence, weakest first: [global], then the install command's section, then PIP_* variables.
SECTIONS = ("global", "install", ":env:")


def pip_settings(listing: str) -> dict[str, str]:
    """The effective install settings from `pip config list` output (`section.key='value'` lines)."""
    by_section: dict[str, dict[str, str]] = {section: {} for section in SECTIONS}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        section, dot, key = name.rpartition(".")
        if sep and dot and section in by_section:
            by_section[section][key] = str(ast.literal_eval(value))
    merged: dict[str, str] = {}
    for section in SECTIONS:
        merged.update(by_section[section])
    return merged


def uv_environment(settings: Mapping[str, str], environ: Mapping[str, str], *, primary: bool) -> dict[str, str]:
    """`environ` plus the UV_* variables that give uv pip's indexes, never overriding one already set."""
    env = dict(environ)
    for option, value in settings.items():
        if option in UV_VARIABLE:
            variable, joiner = UV_VARIABLE[option]
            env.setdefault(variable, joiner.join(value.split()))
    if primary:
        for variable in SECONDARY:
            env.pop(variable, None)
    else:
        # pip takes the best candidate across all indexes; uv's default stops at the first index that has
        # the package, which would refuse a pinned version that only a later index serves.
        env.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")
    return env


def main(argv: list[str]) -> int:
    primary = argv[1:2] == ["--primary"]
    command = argv[2:] if primary else argv[1:]
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    )
    settings = pip_settings(listing.stdout) if listing.returncode == 0 else {}
    os.execvpe(command[0], command, uv_environment(settings, os.environ, primary=primary))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
