"""The hash-locked requirement files in locks/ and the pip configuration uv is given (no network, no install)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "locks"
PIP_INDEX = ROOT / "actions" / "setup" / "pip_index.py"


def _pins(text: str) -> dict[str, str]:
    """name -> version of every `name==version` requirement line (lock or constraints)."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", text, flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, root / "locks" / "lock.py", "--check"], capture_output=True, text=True, timeout=60
    )


def _copy_inputs(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(LOCKS, tmp_path / "locks", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_committed_locks_match_pyproject_and_constraints() -> None:
    done = _check(ROOT)
    assert done.returncode == 0, done.stderr


def test_every_locked_package_has_hashes_and_the_constrained_version() -> None:
    constraints = _pins((ROOT / "constraints.txt").read_text())
    for name in ("report.txt", "all.txt"):
        text = (LOCKS / name).read_text()
        pins = _pins(text)
        assert {"click", "pyyaml", "pygithub", "flit-core"} <= pins.keys(), name  # flit-core: the build backend
        requirements = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 3)[3])
        assert len(requirements) == len(pins), name
        for requirement in requirements:
            assert "--hash=sha256:" in requirement, requirement.splitlines()[0]
        assert {package: version for package, version in pins.items() if package in constraints} == {
            package: constraints[package] for package in pins if package in constraints
        }, name
    report, full = _pins((LOCKS / "report.txt").read_text()), _pins((LOCKS / "all.txt").read_text())
    assert report.items() <= full.items()
    assert not {"dvc", "deepchecks", "pandas", "scikit-learn", "numpy"} & report.keys()
    assert {"dvc", "deepchecks", "pandas", "scikit-learn", "numpy"} <= full.keys()
    [(uv, version)] = _pins((LOCKS / "uv.txt").read_text()).items()
    assert (uv, version.count(".")) == ("uv", 2)  # one exact uv release


@pytest.mark.parametrize(
    ("edit", "stale"),
    [
        (("pyproject.toml", '"psutil>=5.9",', '"psutil>=5.9",\n  "tabulate>=0.9",'), ["all.txt"]),
        (("pyproject.toml", '"PyGithub>=2.5",', '"PyGithub>=2.6",'), ["report.txt", "all.txt"]),
        (("constraints.txt", "click==", "click==0.0.0\n# was click=="), ["report.txt", "all.txt"]),
    ],
)
def test_an_input_edited_without_make_lock_fails_the_check(
    tmp_path: Path, edit: tuple[str, str, str], stale: list[str]
) -> None:
    root = _copy_inputs(tmp_path)
    assert _check(root).returncode == 0
    name, old, new = edit
    text = (root / name).read_text()
    assert old in text
    (root / name).write_text(text.replace(old, new, 1))
    done = _check(root)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"locks/{lock} does not match pyproject.toml and constraints.txt (or the uv pin): run `make lock`."
        for lock in stale
    ]


def test_a_missing_lock_fails_the_check(tmp_path: Path) -> None:
    root = _copy_inputs(tmp_path)
    (root / "locks" / "report.txt").unlink()
    done = _check(root)
    assert (done.returncode, done.stderr) == (1, "locks/report.txt is missing: run `make lock`.\n")


# ---- pip's configuration, handed to uv ---------------------------------------------------------------------


def _uv_env(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The UV_* environment pip_index.py gives a command, with pip reading only the config files written here."""
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = file:///srv/primary/simple\nextra-index-url =\n"
        "    file:///srv/one/simple\n    file:///srv/two/simple\ntimeout = 30\n"
        "[install]\nfind-links = /srv/wheels /srv/more-wheels\n"
    )
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_", "XDG_"))}
    base = clean | {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "no-global-config")}
    done = subprocess.run(
        [sys.executable, PIP_INDEX, *args, "env"],
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pairs = (line.partition("=") for line in done.stdout.splitlines())
    return {key: value for key, _, value in pairs if key.startswith("UV_")}


def test_uv_gets_every_index_pip_installs_from(tmp_path: Path) -> None:
    assert _uv_env(tmp_path) == {
        "UV_INDEX_URL": "file:///srv/primary/simple",
        "UV_EXTRA_INDEX_URL": "file:///srv/one/simple file:///srv/two/simple",
        "UV_FIND_LINKS": "/srv/wheels,/srv/more-wheels",
        "UV_HTTP_TIMEOUT": "30",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
    }


def test_pip_variables_override_its_files_and_uv_variables_override_both(tmp_path: Path) -> None:
    env = {"PIP_EXTRA_INDEX_URL": "file:///srv/from-env/simple", "UV_INDEX_URL": "file:///srv/uv-own/simple"}
    uv_env = _uv_env(tmp_path, env=env)
    assert uv_env["UV_EXTRA_INDEX_URL"] == "file:///srv/from-env/simple"
    assert uv_env["UV_INDEX_URL"] == "file:///srv/uv-own/simple"


def test_locking_uses_the_primary_index_only(tmp_path: Path) -> None:
    env = {"UV_EXTRA_INDEX_URL": "file:///srv/partial-mirror/simple"}
    assert _uv_env(tmp_path, "--primary", env=env) == {
        "UV_INDEX_URL": "file:///srv/primary/simple",
        "UV_HTTP_TIMEOUT": "30",
    }
