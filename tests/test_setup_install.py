"""actions/setup/install.sh against the real lock files: hash checking, the report install, the pip fallback.

The report install is real (uv, or pip, from the configured package index, checked against locks/report.txt)
and small; the whole stack is installed once per session by tests/test_setup_action.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench.github_standin import GitHubStandIn
from bench.github_state import Pull
from bench.report_fixtures import HEAD_SHA, actions_env, bundle, run_mlgate, write_bundle
from test_report_action import pull_payload

ROOT = Path(__file__).resolve().parents[1]
INSTALL = Path("actions") / "setup" / "install.sh"
HEAVY = ("dvc", "deepchecks", "pandas", "sklearn", "numpy", "scipy", "pyarrow", "plotly", "psutil")
MARKER = "<!-- mlgate:report workflow=CI name=mlgate -->"
# Runs the CLI in-process, then writes which heavy packages got imported (sys.modules) to $MODULES_OUT.
IMPORT_PROBE = (
    "import json, os, sys\n"
    "from mlgate.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as done:\n"
    "    code = done.code\n"
    f"heavy = sorted(name for name in sys.modules if name.partition('.')[0] in {HEAVY!r})\n"
    "open(os.environ['MODULES_OUT'], 'w').write(json.dumps({'code': code, 'heavy': heavy}))\n"
)

pytestmark = pytest.mark.xdist_group("setup-install")


def install(root: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("MLGATE_", "GITHUB_", "RUNNER_"))}
    return subprocess.run(
        [root / INSTALL, "install"],
        env=clean | {"MLGATE_HOME": str(home)} | env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def copy_of_the_action(target: Path) -> Path:
    """The files install.sh installs from, as an action checkout has them."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("src", "locks", "actions/setup"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    return target


def tamper_one_hash(lock: Path) -> str:
    """Flip a digit of the only hash of the first package that has exactly one file: that file must match it."""
    text = lock.read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        if len(hashes) == 1:
            [good] = hashes
            bad = ("1" if good[0] == "0" else "0") + good[1:]
            lock.write_text(text.replace(good, bad))
            return block.split("==")[0]
    raise AssertionError(f"{lock} has no package with a single file")


@pytest.fixture(scope="module")
def report_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real report install (extras report) for the module; returns MLGATE_HOME."""
    home = tmp_path_factory.mktemp("report-install")
    done = install(ROOT, home, MLGATE_EXTRAS="report")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "extras report, with uv " in done.stdout
    return home


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["auto", "pip"])
def test_a_tampered_hash_in_the_lock_refuses_the_install(tmp_path: Path, installer: str) -> None:
    root = copy_of_the_action(tmp_path / "action")
    package = tamper_one_hash(root / "locks" / "report.txt")
    done = install(root, tmp_path / "home", MLGATE_EXTRAS="report", MLGATE_INSTALLER=installer)
    assert done.returncode == 1, done.stdout + done.stderr
    tool = "uv" if installer == "auto" else "pip"
    assert (
        f"::error title=mlgate setup::{tool} refused to install the packages locked in locks/report.txt (a hash "
        "mismatch means a downloaded file is not the one locked): see the log above."
    ) in done.stderr
    mismatch = f"Hash mismatch for `{package}==" if tool == "uv" else "DO NOT MATCH THE HASHES"
    assert mismatch in done.stderr
    assert not (tmp_path / "home" / "venv" / ".mlgate-venv-key").exists()  # never taken as a ready venv
    assert not (tmp_path / "home" / "bin").exists()  # nothing was put on PATH


@pytest.mark.slow
def test_the_report_install_holds_exactly_the_locked_core(report_venv: Path) -> None:
    python = report_venv / "venv" / "bin" / "python"
    listing = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print('\\n'.join(d.name for d in m.distributions()))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = {re.sub(r"[-_.]+", "-", name).lower() for name in listing.stdout.split()}
    locked = set(re.findall(r"^([a-z0-9][a-z0-9-]*)==", (ROOT / "locks" / "report.txt").read_text(), re.M))
    assert installed == locked | {"mlgate"}
    assert sorted(path.name for path in (report_venv / "bin").iterdir()) == ["mlgate"]  # no dvc to expose


@pytest.mark.slow
def test_a_step_that_needs_the_whole_stack_says_so_in_the_report_install(report_venv: Path, tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    done = subprocess.run(
        [report_venv / "bin" / "mlgate", "validate", "--train", data, "--label", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert re.fullmatch(
        r"mlgate: error: this command needs the Python module `\w+`, which this mlgate install lacks: install the "
        r"whole stack \(actions/setup with `extras: all`, or pip install 'mlgate\[all\]'\)\n",
        done.stderr,
    ), done.stderr


def fork_report(tmp_path: Path, github: GitHubStandIn, pull: Pull) -> Path:
    """What a fork PR's report step leaves in its artifact (rendered by the whole install: this venv's)."""
    write_bundle(tmp_path / ".mlgate" / "results", bundle("fail"))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_payload(pull)))
    env = actions_env(tmp_path, GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event))
    done = run_mlgate("report", cwd=tmp_path, env=github.env("ghs_fork") | env)
    assert done.returncode == 1, done.stderr  # the gate failed; the comment waits in the artifact
    return tmp_path / ".mlgate" / "mlgate-report"


def post_from_artifact(python: Path, tmp_path: Path, github: GitHubStandIn, artifact: Path) -> dict[str, object]:
    """`mlgate report --from-artifact` as the workflow_run poster runs it, under the import probe."""
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"workflow_run": {"head_sha": HEAD_SHA, "name": "CI", "event": "pull_request"}}))
    env = actions_env(tmp_path, GITHUB_EVENT_NAME="workflow_run", GITHUB_EVENT_PATH=str(run))
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("MLGATE_", "GITHUB_", "RUNNER_"))}
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [python, "-c", IMPORT_PROBE, "report", "--from-artifact", artifact],
        cwd=tmp_path,
        env=clean | github.env() | env | {"MODULES_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.is_file(), done.stderr
    return json.loads(out.read_text())


@pytest.fixture
def fork_pull(github: GitHubStandIn) -> Pull:
    github.add_token("ghs_fork", read_only=True)
    return github.add_pull(head_sha=HEAD_SHA, fork=True, user="forker")


def test_the_poster_imports_none_of_the_heavy_stack(tmp_path: Path, github: GitHubStandIn, fork_pull: Pull) -> None:
    # This interpreter has the whole stack: an import of any of it would succeed here, so sys.modules tells.
    artifact = fork_report(tmp_path, github, fork_pull)
    probe = post_from_artifact(Path(sys.executable), tmp_path, github, artifact)
    assert probe == {"code": 0, "heavy": []}
    [comment] = [c for c in github.repo().comments.values() if MARKER in c.body]
    assert comment.body == (artifact / "body.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_report_install_posts_a_fork_report(
    report_venv: Path, tmp_path: Path, github: GitHubStandIn, fork_pull: Pull
) -> None:
    artifact = fork_report(tmp_path, github, fork_pull)
    probe = post_from_artifact(report_venv / "venv" / "bin" / "python", tmp_path, github, artifact)
    assert probe == {"code": 0, "heavy": []}
    [comment] = [c for c in github.repo().comments.values() if MARKER in c.body]
    assert comment.body == (artifact / "body.md").read_text(encoding="utf-8")
