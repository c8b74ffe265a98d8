"""Print the cache key of mlgate's venv for the interpreter that runs this script.

The key changes whenever anything that ends up in the venv may change: the platform, the interpreter (its
version and its install location, which the venv links to), the extras, the lock files, the package metadata,
the package source and the way this action builds the venv.
It is computed here rather than with hashFiles() because hashFiles() only sees the user's workspace, not the
action's own checkout.
"""

import hashlib
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path

SUPPORTED = ((3, 11), (3, 12))
HASHED = ("locks", "constraints.txt", "pyproject.toml", "src", "actions/setup")


def _is_build_debris(path: Path) -> bool:
    # An editable install or an interpreter run leaves these beside the source; they are not part of it.
    return any(part == "__pycache__" or part.endswith(".egg-info") for part in path.parts)


def _hashed_files(root: Path) -> Iterator[Path]:
    for name in HASHED:
        top = root / name
        candidates = sorted(top.rglob("*")) if top.is_dir() else [top]
        for path in candidates:
            relative = path.relative_to(root)
            if path.is_file() and not _is_build_debris(relative):
                yield relative


def venv_key(root: Path, extras: str) -> str:
    digest = hashlib.sha256(f"{sys.base_prefix}\0{platform.python_version()}\0{extras}\0".encode())
    for relative in _hashed_files(root):
        content = (root / relative).read_bytes()
        digest.update(f"{relative.as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    runner_os = os.environ.get("RUNNER_OS") or platform.system()
    python = platform.python_version()
    return f"mlgate-venv-{runner_os}-{platform.machine()}-py{python}-{extras}-{digest.hexdigest()[:32]}"


def main(argv: list[str]) -> int:
    if sys.version_info[:2] not in SUPPORTED:
        print(
            f"mlgate needs Python 3.11 or 3.12, but {sys.executable} is {platform.python_version()}: "
            "run actions/setup-python first or point the `python` input at a supported interpreter.",
            file=sys.stderr,
        )
        return 2
    print(venv_key(Path(argv[1]), argv[2] if len(argv) > 2 else "all"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
