"""The repository's own Python, as a step of the user's job sees it (mlgate not installed there)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest


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
