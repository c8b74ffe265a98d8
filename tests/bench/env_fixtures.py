"""The environments an action step sees: mlgate's shims on PATH, and the repository's own Python."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest


@pytest.fixture
def mlgate_on_path(tmp_path: Path) -> dict[str, str]:
    """The env of an action step after actions/setup: a directory holding only `mlgate` and `dvc` (links into
    this test venv) first on PATH, and the venv itself nowhere on it."""
    shims = tmp_path / "mlgate-shims"
    shims.mkdir()
    venv_bin = Path(sys.prefix) / "bin"
    for command in ("mlgate", "dvc"):
        (shims / command).symlink_to(venv_bin / command)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p).resolve() != venv_bin.resolve()]
    return {"PATH": os.pathsep.join([str(shims), *path]), "DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY": "1"}


@pytest.fixture(scope="session")
def user_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a venv standing for the repository's own environment: its python sees the
    example's requirements (a .pth onto this test venv's site-packages), but mlgate is not installed there."""
    venv = tmp_path_factory.mktemp("user-env") / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    where = "import site; print(site.getsitepackages()[0])"
    site = Path(subprocess.check_output([venv / "bin" / "python", "-c", where], text=True).strip())
    (site / "example-requirements.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = subprocess.run([venv / "bin" / "python", "-c", "import sklearn, pandas; import mlgate"], check=False)
    assert probe.returncode != 0  # requirements import; mlgate does not
    return venv / "bin"
