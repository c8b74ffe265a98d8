"""A real `origin` for retraining tests: a bare git repository the example repository pushes to, optionally
bridged to the GitHub stand-in so that a push shows up there as it would on GitHub.

The bridge is a post-receive hook in the bare repository: after every accepted push it sends the new commits
and ref values to a small HTTP receiver in the test process, which records them in the stand-in (commits,
branch refs, and the head of any open pull request from a moved branch). So `mlgate retrain` pushes with git
and opens its pull request through the API, and both sides agree, as on GitHub.
"""

from __future__ import annotations

import json
import stat
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.example_fixtures import git, hermetic_env, run_in
from bench.github_fixtures import DEMO_REPO
from bench.github_standin import GitHubStandIn
from bench.github_state import Issue
from bench.registry_fixtures import mlgate_in_process
from bench.report_fixtures import read_outputs

ZERO = "0" * 40

POST_RECEIVE = """#!{python}
# Tell the GitHub stand-in about this push (see tests/bench/retrain_fixtures.py).
import json, subprocess, sys, urllib.request

ZERO = "0" * 40
updates = []
for line in sys.stdin:
    old, new, ref = line.split()
    commits = []
    if new != ZERO:
        spec = [new] if old == ZERO else [new, "^" + old]
        listing = subprocess.run(["git", "rev-list", "--reverse", "--parents", *spec], capture_output=True,
                                 text=True, check=True).stdout
        for entry in listing.splitlines():
            sha, *parents = entry.split()
            subject = subprocess.run(["git", "log", "-1", "--format=%s", sha], capture_output=True, text=True,
                                     check=True).stdout.strip()
            commits.append({{"sha": sha, "parents": parents, "message": subject}})
    updates.append({{"ref": ref, "old": old, "new": new, "commits": commits}})
request = urllib.request.Request({url!r}, data=json.dumps(updates).encode(), method="POST",
                                 headers={{"Content-Type": "application/json"}})
urllib.request.urlopen(request, timeout=10).read()
"""

PRE_RECEIVE_REJECT = """#!/bin/sh
echo "{message}" >&2
exit 1
"""


def write_hook(origin: Path, name: str, text: str) -> Path:
    hook = origin / "hooks" / name
    hook.write_text(text, encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


def reject_pushes(origin: Path, message: str = "pushes to this repository are frozen") -> None:
    """Make `origin` refuse every push, as a protected repository or a server-side policy would."""
    write_hook(origin, "pre-receive", PRE_RECEIVE_REJECT.format(message=message))


class PushBridge:
    """Receives the post-receive hook's reports and applies them to the stand-in's repository."""

    def __init__(self, standin: GitHubStandIn, repo: str = DEMO_REPO) -> None:
        self.standin, self.repo = standin, repo
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                updates = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                bridge.apply(updates)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Silenced."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/push"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def apply(self, updates: list[dict[str, object]]) -> None:
        record = self.standin.repo(self.repo)
        for update in updates:
            ref, new = str(update["ref"]), str(update["new"])
            commits = list(update["commits"])  # type: ignore[call-overload]
            for commit in commits:
                self.standin.add_commit(
                    commit["sha"], repo=self.repo, message=commit["message"], parents=commit["parents"]
                )
            if new == ZERO:
                record.refs.pop(ref, None)
                continue
            record.refs[ref] = new
            branch = ref.removeprefix("refs/heads/")
            for pull in record.pulls.values():  # GitHub moves an open pull request with its head branch
                if pull.issue.state == "open" and pull.head_repo == record.full_name and pull.head_ref == branch:
                    pull.head_sha = new
                    pull.commits = [commit["sha"] for commit in commits] or [new]
                    record.refs[f"refs/pull/{pull.issue.number}/head"] = new

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def add_issue(standin: GitHubStandIn, title: str = "Model monitoring", user: str = "octocat") -> Issue:
    """An open issue (the stand-in seeds pull requests only), e.g. a tracking issue for drift alerts."""
    record = standin.repo()
    standin.add_user(user)
    now = datetime.now(UTC).replace(microsecond=0)
    number = max([0, *record.issues]) + 1
    issue = Issue(9_000_000 + number, number, title, None, user, now, now)
    record.issues[number] = issue
    return issue


@dataclass(frozen=True)
class Workspace:
    """The example repository checked out on main, with a bare `origin` it has pushed main to."""

    path: Path
    origin: Path

    def origin_ref(self, ref: str) -> str | None:
        out = git(self.origin, "for-each-ref", "--format=%(objectname)", ref)
        return out or None

    def origin_refs(self) -> dict[str, str]:
        out = git(self.origin, "for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split() for line in out.splitlines())


def with_origin(repo: Path, tmp_path: Path, hook_url: str | None) -> Workspace:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    if hook_url is not None:
        write_hook(origin, "post-receive", POST_RECEIVE.format(python=sys.executable, url=hook_url))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "--quiet", "--set-upstream", "origin", "main")
    return Workspace(repo, origin)


SMALL_REPO = {
    "fetch.py": """\
\"\"\"Fresh data: 300 rows of two features and a label; SHIFT moves both features, SEED picks the batch.\"\"\"
import csv, os, random

rng = random.Random(int(os.environ.get("SEED", "1")))
shift = float(os.environ.get("SHIFT", "0"))
with open("data/train.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["id", "x1", "x2", "label"])
    for i in range(300):
        x1, x2 = rng.gauss(shift, 1), rng.gauss(shift, 1)
        writer.writerow([i, f"{x1:.5f}", f"{x2:.5f}", int(x1 + rng.gauss(0, 0.5) > shift)])
""",
    "train.py": """\
\"\"\"A threshold "model" on x1; its accuracy goes to metrics.json.\"\"\"
import csv, json

rows = list(csv.DictReader(open("data/train.csv")))
middle = sum(float(row["x1"]) for row in rows) / len(rows)
correct = sum((float(row["x1"]) > middle) == (row["label"] == "1") for row in rows)
json.dump({"accuracy": round(correct / len(rows), 6), "rows": len(rows)}, open("metrics.json", "w"))
""",
    "mlgate.yml": """\
data: {train: data/train.csv, label: label}
train: {command: python train.py}
metrics:
  files: [metrics.json]
  gate:
    accuracy: {direction: higher, max_drop: 0.2}
retrain: {data_command: python fetch.py, drift_share: 0.1}
""",
}


def small_repo(path: Path) -> Path:
    """A plain git repository (no DVC) whose data lives in git: fetch.py writes data/train.csv, train.py
    writes metrics.json. Seconds to retrain, where the example takes tens: for the git and API edge cases."""
    path.mkdir()
    for name, text in SMALL_REPO.items():
        (path / name).write_text(text, encoding="utf-8")
    (path / "data").mkdir()
    git(path, "init", "--quiet", "-b", "main")
    run_in(path, sys.executable, "fetch.py")
    run_in(path, sys.executable, "train.py")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "small model")
    return path


@pytest.fixture
def workspace(example_repo: Path, tmp_path: Path) -> Workspace:
    """The example repository with a bare origin (no GitHub behind it: for the local driver)."""
    return with_origin(example_repo, tmp_path, None)


@pytest.fixture
def github_workspace(example_repo: Path, tmp_path: Path, github: GitHubStandIn) -> Iterator[Workspace]:
    """The example repository with a bare origin whose pushes reach the stand-in's octo/demo."""
    bridge = PushBridge(github)
    try:
        yield with_origin(example_repo, tmp_path, bridge.url)
    finally:
        bridge.close()


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    outputs: dict[str, str]
    summary: str


def retrain(
    workspace: Workspace, *args: str, env: dict[str, str] | None = None, actions: GitHubStandIn | None = None
) -> Outcome:
    """`mlgate retrain` as `scheduled` runs it."""
    return scheduled("retrain", workspace, *args, env=env, actions=actions)


def scheduled(
    command: str,
    workspace: Workspace,
    *args: str,
    env: dict[str, str] | None = None,
    actions: GitHubStandIn | None = None,
) -> Outcome:
    """`mlgate <command>` run by `mlgate.cli.main` in this process, in the workspace, as a user who activated
    this virtualenv (so the pipeline's `python` finds its libraries). With `actions`, as a step of a scheduled
    GitHub Actions run against that stand-in: outputs and job summary are returned."""
    scratch = workspace.path.parent / "runner"
    scratch.mkdir(exist_ok=True)
    output, summary = scratch / "output.txt", scratch / "summary.md"
    for file in (output, summary):
        file.write_text("", encoding="utf-8")
    run_env = {"VIRTUAL_ENV": sys.prefix}
    if actions is not None:
        event = scratch / "event.json"
        event.write_text(json.dumps({"schedule": "17 5 * * 1"}), encoding="utf-8")
        run_env |= actions.env() | {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REF_NAME": "main",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": git(workspace.path, "rev-parse", "HEAD"),
            "GITHUB_WORKFLOW": f"mlgate {command}",
            "GITHUB_RUN_ID": "77",
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
        }
    done = mlgate_in_process(command, *args, cwd=workspace.path, env=run_env | (env or {}))
    return Outcome(done.returncode, done.stdout, done.stderr, read_outputs(output), summary.read_text())


@pytest.fixture
def small_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The small repository with a bare origin (no GitHub behind it)."""
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    return with_origin(small_repo(tmp_path / "repo"), tmp_path, None)


@pytest.fixture
def small_github_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: GitHubStandIn
) -> Iterator[Workspace]:
    """The small repository with a bare origin whose pushes reach the stand-in's octo/demo."""
    for name, value in hermetic_env(tmp_path / "repo").items():
        monkeypatch.setenv(name, value)
    bridge = PushBridge(github)
    try:
        yield with_origin(small_repo(tmp_path / "repo"), tmp_path, bridge.url)
    finally:
        bridge.close()
