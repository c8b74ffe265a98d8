"""The report's images: published to the assets branch of the repository itself (a real bare remote) and linked
from the comment posted through PyGithub to the stand-in; copied into the artifact; never linked when they
could not be published (fork PRs, someone else's branch of that name)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from bench.github_standin import GitHubStandIn
from bench.report_fixtures import HEAD_SHA, bundle, compare_result, write_bundle
from test_report_github import ours, pull_event, report

from mlgate.adapters import git_assets

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
ASSETS = "mlgate-assets"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The job's checkout (tmp_path itself, where the report runs) with `origin`, a bare remote."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    (tmp_path / "README.md").write_text("demo\n")
    git(tmp_path, "add", "README.md")
    git(tmp_path, "commit", "-q", "-m", "init")
    git(tmp_path, "remote", "add", "origin", str(remote))
    git(tmp_path, "push", "-q", "origin", "main")
    return tmp_path


def plotted_bundle(results: Path) -> dict[str, bytes]:
    """The fail bundle with a compare result whose DVC plots were rendered to PNG, as compare stores them."""
    images = {"plots/aaaa-loss.csv.png": PNG + b"loss", "plots/bbbb-importance.png": PNG + b"importance"}
    items = [
        {"id": "loss.csv", "kind": "curve", "title": "loss", "png": "plots/aaaa-loss.csv.png"},
        {"id": "importance.png", "kind": "image", "title": "importance"}
        | {"images": {"head": "plots/bbbb-importance.png"}},
    ]
    compare = compare_result(verdict="fail")
    compare = dataclasses.replace(compare, evidence={**compare.evidence, "plots": {"items": items}})
    write_bundle(results, [*bundle("fail")[:2], compare])
    for relative, data in images.items():
        (results / relative).parent.mkdir(parents=True, exist_ok=True)
        (results / relative).write_bytes(data)
    return images


def on_branch(remote: Path, path: str) -> bytes:
    return subprocess.run(["git", "show", f"{ASSETS}:{path}"], cwd=remote, check=True, capture_output=True).stdout


def test_same_repo_pr_images_are_committed_to_the_assets_branch_and_linked(
    checkout: Path, github: GitHubStandIn
) -> None:
    images = plotted_bundle(checkout / ".mlgate" / "results")
    pull = github.add_pull(head_sha=HEAD_SHA)
    done = report(checkout, github, pull)
    assert done.returncode == 1, done.stderr  # the bundle's gate failed; the report itself went out
    body = ours(github, pull.issue.number)[0].body
    remote = checkout / "remote.git"
    for relative, data in images.items():
        path = f"pr-{pull.issue.number}/{HEAD_SHA}/{Path(relative).name}"
        assert on_branch(remote, path) == data
        assert f"({github.server_url}/octo/demo/raw/{ASSETS}/{path})" in body
        assert (checkout / ".mlgate" / "mlgate-report" / "images" / relative).read_bytes() == data
    assert "not published" not in body
    # one parentless commit, and the user's checkout is untouched
    assert git(remote, "rev-list", "--count", ASSETS).strip() == "1"
    assert git(checkout, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(checkout, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_old_runs_are_pruned_and_other_runs_kept(checkout: Path, github: GitHubStandIn) -> None:
    remote = checkout / "remote.git"
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    old = checkout / "old.png"
    old.write_bytes(PNG + b"old")
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    git_assets.publish(
        checkout, "origin", ASSETS, "pr-91/" + "a" * 40, {"plots/x.png": old}, retention_days=30,
        now=now - timedelta(days=40), env=env,
    )  # fmt: skip
    git_assets.publish(
        checkout, "origin", ASSETS, "pr-92/" + "b" * 40, {"plots/y.png": old}, retention_days=30,
        now=now - timedelta(days=1), env=env,
    )  # fmt: skip
    plotted_bundle(checkout / ".mlgate" / "results")
    pull = github.add_pull(head_sha=HEAD_SHA)
    assert report(checkout, github, pull).returncode == 1
    files = git(remote, "ls-tree", "-r", "--name-only", ASSETS).split()
    assert not any(f.startswith("pr-91/") for f in files)  # 40 days old: pruned
    assert "pr-92/" + "b" * 40 + "/y.png" in files  # 1 day old: kept
    runs = json.loads(on_branch(remote, "index.json"))["runs"]
    assert set(runs) == {"pr-92/" + "b" * 40, f"pr-{pull.issue.number}/{HEAD_SHA}"}


def test_a_fork_pr_links_no_image_but_the_artifact_has_them(checkout: Path, github: GitHubStandIn) -> None:
    images = plotted_bundle(checkout / ".mlgate" / "results")
    pull = github.add_pull(head_sha=HEAD_SHA)
    pull_event(checkout / "fork-event.json", pull, head_repo="someone/demo")
    done = report(checkout, github, pull, GITHUB_EVENT_PATH=str(checkout / "fork-event.json"))
    assert done.returncode in (0, 1), done.stderr
    assert git(checkout / "remote.git", "branch", "--list", ASSETS) == ""  # nothing pushed
    text = (checkout / ".mlgate" / "report.md").read_text()
    assert "/raw/" not in text and "not published; see the mlgate-report artifact" in text
    for relative, data in images.items():
        assert (checkout / ".mlgate" / "mlgate-report" / "images" / relative).read_bytes() == data


def test_someone_elses_branch_of_that_name_is_not_overwritten(checkout: Path, github: GitHubStandIn) -> None:
    git(checkout, "push", "-q", "origin", f"main:refs/heads/{ASSETS}")  # a branch of theirs, no index.json
    before = git(checkout / "remote.git", "rev-parse", ASSETS)
    plotted_bundle(checkout / ".mlgate" / "results")
    pull = github.add_pull(head_sha=HEAD_SHA)
    done = report(checkout, github, pull)
    assert done.returncode == 1, done.stderr
    assert git(checkout / "remote.git", "rev-parse", ASSETS) == before
    body = ours(github, pull.issue.number)[0].body
    assert "/raw/" not in body and "not published" in body
    assert "is not mlgate's assets branch" in done.stdout + done.stderr


def test_the_local_driver_links_the_copies_beside_the_report(checkout: Path) -> None:
    images = plotted_bundle(checkout / ".mlgate" / "results")
    from bench.report_fixtures import run_mlgate

    done = run_mlgate("report", "--driver", "local", cwd=checkout)
    assert done.returncode == 1, done.stderr
    text = (checkout / ".mlgate" / "report.md").read_text()
    for relative in images:
        link = f"mlgate-report/images/{relative}"
        assert f"({link})" in text
        assert (checkout / ".mlgate" / link).is_file()


def test_the_push_authenticates_with_the_reports_token_alone_and_never_stores_it(checkout: Path) -> None:
    """The PR template checks out with persist-credentials: false (the PR's own code runs in that job), so the
    assets branch is pushed with the report step's token as a per-command header, as actions/checkout would
    send it; a header the checkout did persist is reset rather than sent twice (GitHub refuses two). A real
    git talks to a loopback HTTP server that records the Authorization headers it receives."""
    import base64
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from mlgate.adapters.git_publish import token_env

    received: list[list[str]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.headers.get_all("Authorization") or [])
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        git(checkout, "config", f"http.{url}/.extraheader", "AUTHORIZATION: basic persisted")
        # a setting the job already passes to git this way (as a runner's git redirect might) is kept
        job = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "mlgate.test", "GIT_CONFIG_VALUE_0": "kept"}
        env = {**job, **token_env(url, "ghs_report", job), "GIT_TERMINAL_PROMPT": "0"}
        subprocess.run(["git", "ls-remote", f"{url}/o/r.git"], cwd=checkout, env=env, capture_output=True)
        kept = subprocess.run(["git", "config", "mlgate.test"], cwd=checkout, env=env, capture_output=True, text=True)
        assert kept.stdout.strip() == "kept"
    finally:
        server.shutdown()
    expected = f"basic {base64.b64encode(b'x-access-token:ghs_report').decode()}"
    assert received and all(headers == [expected] for headers in received), received
    assert "ghs_report" not in (checkout / ".git" / "config").read_text()
    assert token_env(url, None) == {}
