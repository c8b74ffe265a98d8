"""The hash-locked requirement files beside this script: regenerate them (`make lock`) or check them (--check).

    python locks/lock.py UV       regenerate every lock with the uv binary UV
    python locks/lock.py --check  exit 1, naming the file, when a lock no longer matches its inputs

Each lock pins every package of one install of mlgate, with the sha256 of every file the primary package
index publishes for that version (all platforms, Python 3.11 and 3.12), so actions/setup installs with
hash checking (`--require-hashes`) and a re-published or tampered file is refused:

    uv.txt      the pinned uv that actions/setup installs first (with pip --require-hashes)
    report.txt  mlgate's core: posting a rendered report (click, PyYAML, PyGithub)
    all.txt     the whole pinned stack, the `all` extra

They are compiled from pyproject.toml (dependencies, extras and the build backend, which the install runs
too) under constraints.txt, the one tested stack. Each carries a digest of those inputs, which --check
recomputes without network: a pyproject.toml or constraints.txt edit without `make lock` fails the tests.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
UV_VERSION = "0.13.8"
# The oldest Python the stack supports: soupsieve 4.1.3 (through deepchecks) needs 3.11.5.
PYTHON_VERSION = "3.11.5"
# lock file -> extras of pyproject.toml it installs; uv.txt is the bootstrap and has no extras.
LOCKS: dict[str, tuple[str, ...]] = {"report.txt": (), "all.txt": ("all",)}
DIGEST_PREFIX = "# inputs-sha256: "


def _inputs(name: str) -> dict[str, object]:
    """Everything a lock is compiled from; its digest changes exactly when the lock may have to."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    extras = LOCKS.get(name, ())
    return {
        "lock": name,
        "uv": UV_VERSION,
        "python": PYTHON_VERSION,
        "requires-python": project.get("requires-python"),
        "build-system": pyproject["build-system"]["requires"],
        "dependencies": project["dependencies"] if name in LOCKS else [f"uv=={UV_VERSION}"],
        "extras": {extra: project["optional-dependencies"][extra] for extra in extras},
        "constraints": (ROOT / "constraints.txt").read_text() if name in LOCKS else "",
    }


def inputs_digest(name: str) -> str:
    return hashlib.sha256(json.dumps(_inputs(name), sort_keys=True).encode()).hexdigest()


def _recorded_digest(path: Path) -> str | None:
    for line in path.read_text().splitlines():
        if line.startswith(DIGEST_PREFIX):
            return line.removeprefix(DIGEST_PREFIX).strip()
    return None


def _compile(uv: str, name: str, workdir: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    command = [sys.executable, str(ROOT / "actions" / "setup" / "pip_index.py"), "--primary"]
    command += [uv, "pip", "compile", "--quiet", "--generate-hashes", "--universal"]
    command += ["--python-version", PYTHON_VERSION, "--custom-compile-command", "make lock"]
    if name in LOCKS:
        # The build backend runs during the install as well, so it is locked with the rest; uv reads it from
        # stdin ("-") and pyproject.toml gives the dependencies and extras.
        stdin = "\n".join(project["build-system"]["requires"]) + "\n"
        command += ["pyproject.toml", "-", "--constraint", "constraints.txt"]
        command += [arg for extra in LOCKS[name] for arg in ("--extra", extra)]
    else:
        stdin = f"uv=={UV_VERSION}\n"
        command += ["-"]
    output = workdir / name
    command += ["--output-file", str(output)]
    subprocess.run(command, input=stdin, text=True, check=True, cwd=ROOT)
    header, _, body = output.read_text().partition("\n#    make lock\n")
    (HERE / name).write_text(f"{header}\n#    make lock\n{DIGEST_PREFIX}{inputs_digest(name)}\n{body}")


def regenerate(uv: str) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        for name in ("uv.txt", *LOCKS):
            _compile(uv, name, Path(workdir))
            print(f"locks/{name}: regenerated")


def stale_locks() -> list[str]:
    """One sentence per lock that is missing or was compiled from other inputs than today's."""
    problems = []
    for name in ("uv.txt", *LOCKS):
        path = HERE / name
        if not path.is_file():
            problems.append(f"locks/{name} is missing: run `make lock`.")
        elif _recorded_digest(path) != inputs_digest(name):
            problems.append(
                f"locks/{name} does not match pyproject.toml and constraints.txt (or the uv pin): run `make lock`."
            )
    return problems


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        problems = stale_locks()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    regenerate(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
