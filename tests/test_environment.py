"""The environment fingerprint in train.json and the report: the project's Python (not mlgate's), OS, CPU, GPUs
from nvidia-smi, the installed package set's hash, and the packages the requirements file moved since the base."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from bench.example_fixtures import git, hermetic_env

from mlgate.report.render import ReportContext, render
from mlgate.results import read_results_dir

TRAIN = "import json; json.dump({'accuracy': 0.9}, open('metrics.json', 'w'))\n"
POLICY = "train: {command: python train.py}\nmetrics: {files: [metrics.json]}\ntests: false\n"
# What nvidia-smi prints on a machine with one GPU (the banner, then the CSV query).
NVIDIA_SMI = """#!/bin/sh
if [ "$1" = "--query-gpu=name,driver_version" ]; then echo "NVIDIA A10G, 535.129.03"; exit 0; fi
echo "| NVIDIA-SMI 535.129.03   Driver Version: 535.129.03   CUDA Version: 12.2 |"
"""


@pytest.fixture
def trained_repo(tmp_path: Path, user_python: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, value in hermetic_env(repo).items():
        monkeypatch.setenv(name, value)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "nvidia-smi").write_text(NVIDIA_SMI)
    (tools / "nvidia-smi").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", os.pathsep.join([str(user_python), str(tools), os.environ["PATH"]]))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (repo / "train.py").write_text(TRAIN)
    (repo / "mlgate.yml").write_text(POLICY)
    (repo / "requirements.txt").write_text("scikit-learn==1.6.1\nnumpy>=1.26  # arrays\npandas==2.2.3\n")
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Base")
    git(repo, "checkout", "--quiet", "-b", "pr")
    return repo


def test_train_records_the_projects_environment_and_the_packages_that_moved(trained_repo: Path, invoke) -> None:
    (trained_repo / "requirements.txt").write_text("scikit-learn==1.7.2\nnumpy>=1.26\npyyaml==6.0.2\n")
    git(trained_repo, "commit", "--quiet", "-am", "Upgrade scikit-learn, drop pandas, add pyyaml")
    run = invoke("train", cwd=trained_repo)
    assert run.code == 0, run.out + run.err
    written = json.loads((trained_repo / ".mlgate/results/train.json").read_text())
    found = written["evidence"]["environment"]
    assert found["python"] == ".".join(map(str, sys.version_info[:3]))  # the user's venv shares this base Python
    assert found["os"].startswith("Linux") and "logical cores" in found["cpu"]
    assert found["gpus"] == [{"name": "NVIDIA A10G", "driver": "535.129.03", "cuda": "12.2"}]
    packages = found["packages"]
    assert packages["count"] > 20 and len(packages["sha256"]) == 64 and packages["lock"] == "requirements.txt"
    assert found["changed"]["file"] == "requirements.txt"
    assert found["changed"]["packages"] == [
        {"name": "pandas", "base": "==2.2.3", "head": None},
        {"name": "pyyaml", "base": None, "head": "==6.0.2"},
        {"name": "scikit-learn", "base": "==1.6.1", "head": "==1.7.2"},
    ]  # numpy's comment changed, its pin did not

    [result] = [r for r in read_results_dir(trained_repo / ".mlgate/results") if r.step == "train"]
    text = render([result], ReportContext(), limit=65_536).text
    assert "### Environment changed" in text
    assert "3 packages moved in `requirements.txt`: `pandas` `==2.2.3` → `–`" in text.replace("—", "–")
    assert (
        f"environment: Python {found['python']} · Linux" in text and "NVIDIA A10G driver 535.129.03 CUDA 12.2" in text
    )
    assert f"packages {packages['sha256'][:12]} ({packages['count']})" in text


def test_an_unchanged_environment_has_only_the_footer_line(trained_repo: Path, invoke) -> None:
    (trained_repo / "train.py").write_text(TRAIN.replace("0.9", "0.91"))
    git(trained_repo, "commit", "--quiet", "-am", "Better")
    first = invoke("train", cwd=trained_repo)
    assert first.code == 0, first.out + first.err
    digest = json.loads((trained_repo / ".mlgate/results/train.json").read_text())["evidence"]["environment"]
    assert digest["changed"]["packages"] == []
    [result] = [r for r in read_results_dir(trained_repo / ".mlgate/results") if r.step == "train"]
    text = render([result], ReportContext(), limit=65_536).text
    assert "Environment changed" not in text and "environment: Python" in text
