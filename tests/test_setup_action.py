"""actions/setup/action.yml, run end to end through the composite-action bench.

One real install per test session (uv from its local cache, hashes checked against locks/all.txt), shared by
the tests through `jobs`: a first job installs, calls the action a second time, then a second job starts on an
emptied runner temp dir with the cache the first job saved, as GitHub runs consecutive jobs.
"""

import fcntl
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from bench import action_runner
from bench.action_fixtures import ActionBench
from bench.action_runner import ActionResult

import mlgate

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "actions" / "setup"
INSTALL_TIMEOUT = 900.0

# The tests share one install (see `jobs`): keep them on one xdist worker where --dist loadgroup works.
pytestmark = pytest.mark.xdist_group("setup-action")


@dataclass
class Jobs:
    first: ActionResult  # fresh runner: installs
    again: ActionResult  # the same job calls the action a second time
    next_job: ActionResult  # a later job: emptied runner temp, the cache the first job saved
    venv: Path
    stamp_mtime_before_again: float
    stamp_mtime_after_again: float


def _later_step_env(result: ActionResult, base: dict[str, str]) -> dict[str, str]:
    """The environment a later step of the same job sees: $GITHUB_ENV exports, $GITHUB_PATH dirs first."""
    return {**base, **result.env_after, "PATH": os.pathsep.join([*result.path_after, base["PATH"]])}


def _run_jobs(base: Path) -> Jobs:
    workspace = base / "workspace"
    workspace.mkdir(parents=True)
    runner_temp, cache_dir = base / "_temp", base / "_cache"

    def run(env: dict[str, str] | None = None) -> ActionResult:
        result = action_runner.run_action(
            SETUP,
            {},
            workspace=workspace,
            env=env,
            runner_temp=runner_temp,
            cache_dir=cache_dir,
            timeout=INSTALL_TIMEOUT,
        )
        assert result.ok, result.log
        return result

    first = run()
    venv = runner_temp / "mlgate" / "venv"
    stamp = venv / ".mlgate-venv-key"
    before = stamp.stat().st_mtime
    again = run(_later_step_env(first, {"PATH": os.environ["PATH"]}))
    after = stamp.stat().st_mtime
    # The runner empties its temp dir between jobs and keeps its path; moving it aside is the same for the
    # next job and much faster than deleting a venv of tens of thousands of files.
    runner_temp.rename(base / "_temp_of_the_first_job")
    next_job = run()
    return Jobs(first, again, next_job, venv, before, after)


@pytest.fixture(scope="session")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    """The three runs, once per test session even when several xdist workers need them.

    Each worker runs session fixtures itself, so the first to take the lock runs the jobs in the temp dir
    all workers share and leaves the results there; the others wait for it and load them.
    """
    shared = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent
    record = shared / "setup-action.pickle"
    with (shared / "setup-action.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            record.write_bytes(pickle.dumps(_run_jobs(shared / "setup-action")))
        return pickle.loads(record.read_bytes())


@pytest.mark.slow
def test_first_call_installs_into_a_cached_venv_and_exposes_only_mlgate_and_dvc(jobs: Jobs) -> None:
    first = jobs.first
    assert first.outputs == {"version": mlgate.__version__}
    assert first.step("prepare").outputs["ready"] == "false"
    assert "Installing mlgate into" in first.log
    shims = jobs.venv.parent / "bin"
    assert first.path_after == [str(shims)]
    assert sorted(path.name for path in shims.iterdir()) == ["dvc", "mlgate"]
    assert first.env_after["DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY"] == "1"
    [cache] = first.caches
    assert cache.paths == [str(jobs.venv)]
    assert cache.key.startswith(f"mlgate-venv-Linux-{os.uname().machine}-py")
    assert not cache.cache_hit
    assert cache.saved


@pytest.mark.slow
def test_mlgate_and_dvc_run_through_the_shims_while_python_stays_the_users(jobs: Jobs) -> None:
    env = _later_step_env(jobs.next_job, dict(os.environ))
    shims = jobs.venv.parent / "bin"

    def run(*command: str) -> str:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert shutil.which("mlgate", path=env["PATH"]) == str(shims / "mlgate")
    assert run("mlgate", "--version") == f"mlgate, version {mlgate.__version__}"
    assert run("dvc", "--version")
    for name in ("python", "python3", "pip", "pip3"):
        found = shutil.which(name, path=env["PATH"])
        assert found is None or not Path(found).resolve().is_relative_to(jobs.venv.resolve()), found
    assert not Path(run("python3", "-c", "import sys; print(sys.prefix)")).is_relative_to(jobs.venv)


@pytest.mark.slow
def test_a_second_call_in_the_same_job_skips_the_install_and_the_cache(jobs: Jobs) -> None:
    again = jobs.again
    assert again.outputs == jobs.first.outputs
    assert again.step("prepare").outputs["ready"] == "true"
    assert [step.outcome for step in again.steps] == ["success", "skipped", "success"]
    assert again.caches == []
    assert "skipping the install" in again.log
    assert "Installing mlgate" not in again.log
    assert jobs.stamp_mtime_after_again == jobs.stamp_mtime_before_again
    assert again.path_after == []  # the shim dir is on PATH already


@pytest.mark.slow
def test_a_later_job_restores_the_venv_from_the_cache(jobs: Jobs) -> None:
    next_job = jobs.next_job
    [cache] = next_job.caches
    assert cache.key == jobs.first.caches[0].key
    assert (cache.cache_hit, cache.matched_key, cache.saved) == (True, cache.key, False)
    assert "skipping the install" in next_job.log
    assert next_job.outputs == jobs.first.outputs
    assert next_job.path_after == jobs.first.path_after


@pytest.mark.slow
def test_other_actions_run_mlgate_through_the_setup_script_without_a_setup_step(jobs: Jobs, tmp_path: Path) -> None:
    step_output = tmp_path / "github_output"
    step_output.touch()
    # A job without a setup step: no mlgate on PATH (not even the test suite's own).
    path = os.pathsep.join(
        entry for entry in os.environ["PATH"].split(os.pathsep) if not shutil.which("mlgate", path=entry)
    )
    env = {**os.environ, "PATH": path, "RUNNER_TEMP": str(jobs.venv.parent.parent), "GITHUB_OUTPUT": str(step_output)}
    env.pop("MLGATE_HOME", None)
    done = subprocess.run(
        [SETUP / "mlgate", "--version"], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"mlgate, version {mlgate.__version__}\n"
    assert "skipping the install" in done.stderr  # the venv the last job restored is reused
    assert step_output.read_text() == ""  # the calling step's outputs stay its own


def test_a_missing_interpreter_fails_with_a_clear_error(run_action: ActionBench) -> None:
    result = run_action(SETUP, {"python": "/nonexistent/python3"})
    assert not result.ok
    assert "Python interpreter '/nonexistent/python3' (input python) was not found on PATH." in [
        annotation.message for annotation in result.annotations_of("error")
    ]
    assert not (run_action.runner_temp / "mlgate" / "venv").exists()


def test_a_windows_runner_is_refused_before_anything_is_installed(tmp_path: Path) -> None:
    env = {**os.environ, "RUNNER_OS": "Windows", "RUNNER_TEMP": str(tmp_path)}
    done = subprocess.run(
        [SETUP / "install.sh", "install"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 1
    assert "::error title=mlgate setup::mlgate runs on Linux and macOS runners" in done.stderr
    assert list(tmp_path.iterdir()) == []


def _venv_key(root: Path, extras: str = "all") -> str:
    done = subprocess.run(
        [sys.executable, SETUP / "venv_key.py", root, extras], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_the_venv_key_follows_the_sources_and_ignores_build_debris(tmp_path: Path) -> None:
    for name in ("constraints.txt", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("src", "locks", "actions/setup"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    key = _venv_key(tmp_path)
    assert key == _venv_key(ROOT)

    (tmp_path / "src" / "mlgate" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "src" / "mlgate" / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "src" / "mlgate.egg-info").mkdir()
    (tmp_path / "src" / "mlgate.egg-info" / "PKG-INFO").write_text("Name: mlgate\n")
    (tmp_path / "README.md").write_text("a README edit does not change what gets installed\n")
    assert _venv_key(tmp_path) == key

    report_key = _venv_key(tmp_path, "report")
    assert report_key != key and report_key.startswith(key.rsplit("-", 2)[0] + "-report-")
    for edit in (
        "src/mlgate/__init__.py",
        "constraints.txt",
        "pyproject.toml",
        "locks/all.txt",
        "locks/report.txt",
        "actions/setup/install.sh",
    ):
        with (tmp_path / edit).open("a") as file:
            file.write("\n# edited\n")
        assert _venv_key(tmp_path) != key, edit
        key = _venv_key(tmp_path)
