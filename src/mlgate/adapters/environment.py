"""The environment a model was trained in: Python, OS, CPU, GPU and the package set, as one fingerprint.

The Python and its packages are the PROJECT's (the interpreter its stages run with, found as training finds it:
mlgate's own venv kept out of PATH), read by a short script in that interpreter. The packages' hash covers the
resolved set (name==version of every installed distribution, sorted), so it changes whenever what training
imported could have changed. What moved between the base and the head is read from the project's requirements
or lock file at both commits (git), since the base's training environment is only known by what it pinned.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Requirements and lock files, in the order one is chosen: the first the repository tracks.
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "requirements.lock", "requirements.txt")
PROBE = (
    "import json, platform, sys\n"
    "from importlib import metadata\n"
    "packages = sorted({(d.metadata['Name'] or '', d.version) for d in metadata.distributions()})\n"
    "print(json.dumps({'python': platform.python_version(), 'implementation': platform.python_implementation(),"
    " 'os': platform.platform(), 'packages': [n + '==' + v for n, v in packages if n]}))\n"
)
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;#]*)")


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux, else what platform says), with the logical core count."""
    name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name or platform.processor() or platform.machine()} ({os.cpu_count() or 1} logical cores)"


def gpus(path: str | None = None) -> list[dict[str, str]]:
    """Each NVIDIA GPU's name, driver and the CUDA version the driver supports; [] without nvidia-smi."""
    smi = shutil.which("nvidia-smi", path=path)
    if smi is None:
        return []
    try:
        query = subprocess.run(
            [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        banner = subprocess.run([smi], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    cuda = re.search(r"CUDA Version:\s*([\d.]+)", banner)
    found = []
    for line in query.stdout.splitlines() if query.returncode == 0 else []:
        name, _, driver = line.partition(",")
        if name.strip():
            found.append({"name": name.strip(), "driver": driver.strip()} | ({"cuda": cuda[1]} if cuda else {}))
    return found


def lock_file(tracked: set[str]) -> str | None:
    """The requirements or lock file the repository tracks at its root, if any."""
    return next((name for name in LOCK_FILES if name in tracked), None)


def pins(name: str, text: str) -> dict[str, str]:
    """distribution → version or specifier, from a lock file's or requirements file's text (`name` says which)."""
    if name.endswith(".lock") and name != "requirements.lock" and name != "Pipfile.lock":
        import tomllib

        try:
            packages = tomllib.loads(text).get("package", [])
        except tomllib.TOMLDecodeError:
            return {}
        return {
            normalized(p["name"]): str(p.get("version", "")) for p in packages if isinstance(p, dict) and "name" in p
        }
    if name == "Pipfile.lock":
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return {}
        sections = [document.get(key) for key in ("default", "develop") if isinstance(document, dict)]
        return {
            normalized(package): str(spec.get("version", "")) if isinstance(spec, dict) else ""
            for section in sections
            if isinstance(section, dict)
            for package, spec in section.items()
        }
    found = {}
    for line in text.splitlines():
        match = REQUIREMENT.match(line)
        if match and not line.lstrip().startswith(("-", "#")):
            found[normalized(match[1])] = match[2].strip()
    return found


def moved(base: Mapping[str, str], head: Mapping[str, str]) -> list[dict[str, str | None]]:
    """The packages whose pin differs (added: base None; removed: head None), by name."""
    names = sorted(set(base) | set(head))
    return [{"name": n, "base": base.get(n), "head": head.get(n)} for n in names if base.get(n) != head.get(n)]


def fingerprint(root: Path, env: Mapping[str, str], lock: str | None) -> dict[str, Any]:
    """Python, OS, CPU, GPUs and the package set's hash of the project's interpreter (found on env's PATH)."""
    try:
        ran = subprocess.run(
            ["python", "-c", PROBE], cwd=root, env=dict(env), capture_output=True, text=True, timeout=120, check=False
        )
        found = json.loads(ran.stdout) if ran.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        found = {}
    packages = found.get("packages") or []
    digest = hashlib.sha256("\n".join(packages).encode("utf-8")).hexdigest() if packages else None
    lock_digest = hashlib.sha256((root / lock).read_bytes()).hexdigest() if lock and (root / lock).is_file() else None
    return {
        "python": found.get("python"),
        "implementation": found.get("implementation"),
        "os": found.get("os") or platform.platform(),
        "cpu": cpu_model(),
        "gpus": gpus(env.get("PATH")),
        "packages": {"count": len(packages), "sha256": digest, "lock": lock, "lock_sha256": lock_digest},
    }
