"""actions/setup/action.yml, run end to end by act (see bench/act_jobs.py).

One act run per test session, shared by the tests through `jobs`, with act's cache server on: a job whose
interpreter does not exist; a first job that installs for real (uv from the bench's warm local cache, hashes
checked against locks/all.txt), saves the venv to the cache and calls the action a second time; then a later
job, after the runner emptied its temp dir, that restores the venv from the cache. MLGATE_HOME is one fixed
path for every job, as RUNNER_TEMP/mlgate is on GitHub: act's host mode gives each job a temp dir of its own,
and actions/cache restores only to the path it saved from. The "emptied temp dir" is a first step moving the
first job's folder aside (the runner's own cleanup, which act does not do for a path outside its temp dir).
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
from bench.act_bench import ActBench
from bench.act_jobs import Job, JobsRun, JobsRunner, Step

import mlgate

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "actions" / "setup"
CACHE_PREFIX = f"mlgate-venv-Linux-{os.uname().machine}-py"

# What a later step of the job sees through the shims, and the setup script run without a setup step before it
# (as every other action runs mlgate): no mlgate on PATH, and a GITHUB_OUTPUT of its own.
PROBE = """{
  echo "which-mlgate=$(command -v mlgate)"
  echo "version=$(mlgate --version)"
  echo "dvc=$(dvc --version)"
  echo "python3-prefix=$(python3 -c 'import sys; print(sys.prefix)')"
  for name in python python3 pip pip3; do echo "$name=$(readlink -f "$(command -v $name)" || true)"; done
  echo "shims=$(ls "$MLGATE_HOME/bin" | paste -sd' ')"
} >>"$GITHUB_OUTPUT"
bare="$(tr ':' '\n' <<<"$PATH" | grep -vxF "$MLGATE_HOME/bin" | paste -sd:)"
if PATH="$bare" command -v mlgate; then exit 1; fi
output="$(mktemp)"
PATH="$bare" GITHUB_OUTPUT="$output" "$SETUP_SCRIPT" --version >wrapper.out 2>wrapper.err
echo "wrapper-output=$(wc -c <"$output")" >>"$GITHUB_OUTPUT"
"""
STAMP = """python3 -c 'import os, sys; print("mtime=%d" % os.stat(sys.argv[1]).st_mtime_ns)' \
  "$MLGATE_HOME/venv/.mlgate-venv-key" >>"$GITHUB_OUTPUT"
"""


@dataclass
class Jobs:
    run: JobsRun
    home: Path  # MLGATE_HOME of every job

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    def log(self, step: str) -> str:
        return self.run[step].log

    def cache_key(self, step: str) -> str:
        return self.run.inner_output(step, "prepare", "key")


def _run_jobs(bench: ActBench, base: Path) -> Jobs:
    home = base / "mlgate-home"
    runner = JobsRunner(bench, base / "act", "http://127.0.0.1:9/api/v3", "http://127.0.0.1:9")
    script = {"SETUP_SCRIPT": str(bench.release / "actions/setup/mlgate")}
    jobs = [
        Job("missing", [
            Step("missing", "actions/setup", {"python": "/nonexistent/python3"}, may_fail=True),
            Step("no-venv", run='test ! -e "$MLGATE_HOME/venv"'),
        ]),
        Job("first", [
            Step("first", "actions/setup"),
            Step("stamp-before", run=STAMP),
            Step("again", "actions/setup"),
            Step("stamp-after", run=STAMP),
        ]),
        Job("next", [
            Step("emptied", run='mv "$MLGATE_HOME" "$MLGATE_HOME.first-job"'),
            Step("next", "actions/setup"),
            Step("probe", run=PROBE, env=script),
        ]),
    ]  # fmt: skip
    # uv hardlinks from the machine's shared cache by default: another session linking the same file changes its
    # ctime, and the cache save's tar fails on a file "changed as we read it". A runner's cache is its own.
    env = {"MLGATE_HOME": str(home), "UV_LINK_MODE": "copy"}
    run = runner(*jobs, event_name="push", install=True, cache=base / "cache", env=env)
    return Jobs(run, home)


@pytest.fixture(scope="session")
def jobs(tmp_path_factory: pytest.TempPathFactory, act_bench: ActBench) -> Jobs:
    """The act run, once per test session even when several xdist workers need it.

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
            record.write_bytes(pickle.dumps(_run_jobs(act_bench, shared / "setup-action")))
        return pickle.loads(record.read_bytes())


@pytest.mark.slow
def test_first_call_installs_into_a_cached_venv_and_exposes_only_mlgate_and_dvc(jobs: Jobs) -> None:
    run = jobs.run
    assert run.jobs["first"].result == "success", run.log
    assert run["first"].outputs == {"version": mlgate.__version__}
    assert run.inner_output("first", "prepare", "ready") == "false"
    assert "Installing mlgate into" in jobs.log("first")
    assert run.commands("first", "add-path") == [str(jobs.home / "bin")]
    assert run["probe"].outputs["shims"] == "dvc mlgate"
    assert run.commands("first", "set-env") == ["1"]  # DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY
    assert run.inner_output("first", "prepare", "venv") == str(jobs.venv)
    key = jobs.cache_key("first")
    assert key.startswith(CACHE_PREFIX)
    assert f"Cache not found for input keys: {key}" in jobs.log("first")
    assert f"Cache saved with key: {key}" in run.log  # actions/cache's post step, at the end of the job


@pytest.mark.slow
def test_mlgate_and_dvc_run_through_the_shims_while_python_stays_the_users(jobs: Jobs) -> None:
    probe = jobs.run["probe"]
    assert probe.ok, jobs.run.log
    outputs = probe.outputs
    assert outputs["which-mlgate"] == str(jobs.home / "bin" / "mlgate")
    assert outputs["version"] == f"mlgate, version {mlgate.__version__}"
    assert outputs["dvc"]
    for name in ("python", "python3", "pip", "pip3"):
        assert not outputs[name] or not Path(outputs[name]).is_relative_to(jobs.venv), outputs[name]
    assert not Path(outputs["python3-prefix"]).is_relative_to(jobs.venv)


@pytest.mark.slow
def test_a_second_call_in_the_same_job_skips_the_install_and_the_cache(jobs: Jobs) -> None:
    run = jobs.run
    assert run["again"].outputs == run["first"].outputs
    assert run.inner_output("again", "prepare", "ready") == "true"
    # act reports no result for a skipped step of a composite: the cache step is not among those that ran.
    ran = [step.name for step in run.inner_steps("again")]
    assert [name.split("@")[0] for name in ran] == ['"$GITHUB_ACTION_PATH/install.sh" prepare',
                                                    '"$GITHUB_ACTION_PATH/install.sh" install'], ran  # fmt: skip
    assert "actions/cache" in [step.name.split("@")[0] for step in run.inner_steps("first")]
    assert all(step.result == "success" for step in run.inner_steps("again"))
    assert "Cache not found" not in jobs.log("again") and "Cache restored" not in jobs.log("again")
    assert "skipping the install" in jobs.log("again")
    assert "Installing mlgate" not in jobs.log("again")
    assert run["stamp-after"].outputs["mtime"] == run["stamp-before"].outputs["mtime"]
    assert run.commands("again", "add-path") == []  # the shim dir is on PATH already


@pytest.mark.slow
def test_a_later_job_restores_the_venv_from_the_cache(jobs: Jobs) -> None:
    run = jobs.run
    assert run.jobs["next"].result == "success", run.log
    key = jobs.cache_key("next")
    assert key == jobs.cache_key("first")
    # act's cache server answers with the key lowercased (GitHub's cache keys are case-insensitive).
    assert f"Cache restored from key: {key.lower()}" in jobs.log("next")
    assert f"Cache hit occurred on the primary key {key}, not saving cache." in run.log
    assert "skipping the install" in jobs.log("next")
    assert run["next"].outputs == run["first"].outputs
    assert run.commands("next", "add-path") == run.commands("first", "add-path")


@pytest.mark.slow
def test_other_actions_run_mlgate_through_the_setup_script_without_a_setup_step(jobs: Jobs) -> None:
    workspace = jobs.run.jobs["next"].workspace
    assert (workspace / "wrapper.out").read_text() == f"mlgate, version {mlgate.__version__}\n"
    assert "skipping the install" in (workspace / "wrapper.err").read_text()  # the restored venv is reused
    assert jobs.run["probe"].outputs["wrapper-output"] == "0"  # the calling step's outputs stay its own


@pytest.mark.slow
def test_a_missing_interpreter_fails_with_a_clear_error(jobs: Jobs) -> None:
    missing = jobs.run["missing"]
    assert missing.outcome == "failure", jobs.run.log
    assert "Python interpreter '/nonexistent/python3' (input python) was not found on PATH." in [
        annotation.message for annotation in missing.annotations_of("error")
    ]
    assert jobs.run["no-venv"].ok


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
