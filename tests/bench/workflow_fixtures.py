"""A user's repository on "GitHub" for workflows run by act (see act_bench.py).

`ci_repo` is the example repository (examples/, reproduced and committed on main, as example_fixtures builds
it) with the five templates committed under .github/workflows/, pushed to a bare remote
`<remotes>/octo/demo.git` whose pushes reach the GitHub stand-in (retrain_fixtures.PushBridge). Runs check it
out from there, so their workspace holds only what git tracks: DVC outputs (data/*.csv, model.pkl) are not in
it. `ci_repo.open_pull` makes a pull request the way GitHub does (its head and merge refs in the remote, the
pull in the stand-in) and returns the `pull_request` event; `ci_repo.run` runs a template for an event.
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.act_bench import ROOT, ActBench, ActResult
from bench.example_fixtures import dvc, git, merge_params
from bench.github_fixtures import DEMO_REPO, DEMO_TOKEN
from bench.github_standin import GitHubStandIn
from bench.retrain_fixtures import POST_RECEIVE, PushBridge, write_hook

TEMPLATES = ROOT / "workflows-templates"


@dataclass(frozen=True)
class PullRequest:
    number: int
    head: str
    base: str
    merge: str
    event: dict[str, Any]


@dataclass
class CiRepo:
    """The user's repository: a developer clone (`dev`), its bare remote, the stand-in, and act to run it."""

    dev: Path
    remotes: Path
    github: GitHubStandIn
    bench: ActBench
    scratch: Path
    _runs: Iterator[int]

    @property
    def remote(self) -> Path:
        return self.remotes / f"{DEMO_REPO}.git"

    def api(self, path: str, token: str = DEMO_TOKEN) -> Any:
        """GET from the stand-in, as a webhook's payload is built from the same objects."""
        request = urllib.request.Request(
            f"{self.github.base_url}/{path.lstrip('/')}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def repository_payload(self) -> dict[str, Any]:
        return self.api(f"repos/{DEMO_REPO}")

    def head(self, ref: str = "main") -> str:
        return git(self.dev, "rev-parse", ref)

    def remote_refs(self) -> dict[str, str]:
        out = git(self.remote, "for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split() for line in out.splitlines())

    def commit_params(self, branch: str, params: Mapping[str, Any], base: str = "main") -> str:
        """A branch off `base` that only changes params.yaml (CI retrains it); its sha."""
        git(self.dev, "checkout", "--quiet", "-B", branch, base)
        params_file = self.dev / "params.yaml"
        current = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        params_file.write_text(yaml.safe_dump(merge_params(current, params), sort_keys=False), encoding="utf-8")
        git(self.dev, "commit", "--quiet", "-am", f"Change params on {branch}: {dict(params)}")
        head = self.head(branch)
        git(self.dev, "checkout", "--quiet", base)
        return head

    def open_pull(self, branch: str, params: Mapping[str, Any], *, fork: bool = False) -> PullRequest:
        """Open a pull request from `branch` (params changed, not retrained) into main, as GitHub records it:
        refs/pull/N/head and the test merge commit refs/pull/N/merge in the remote, the pull in the stand-in.
        A fork's branch lives in the fork (contributor/demo), not in this remote."""
        base = self.head("main")
        head = self.commit_params(branch, params)
        tree = git(self.dev, "rev-parse", f"{head}^{{tree}}")
        merge = git(self.dev, "commit-tree", tree, "-p", base, "-p", head, "-m", f"Merge {head} into {base}")
        if not fork:
            git(self.dev, "push", "--quiet", "origin", f"{branch}:refs/heads/{branch}")
        pull = self.github.add_pull(head_ref=branch, head_sha=head, base_ref="main", base_sha=base, fork=fork)
        number = pull.issue.number
        git(
            self.dev,
            "push",
            "--quiet",
            "origin",
            f"{head}:refs/pull/{number}/head",
            f"{merge}:refs/pull/{number}/merge",
        )
        self.github.add_commit(merge, parents=[base, head], message=f"Merge {head} into {base}")
        payload = self.api(f"repos/{DEMO_REPO}/pulls/{number}")
        event = {
            "action": "synchronize",
            "number": number,
            "pull_request": payload,
            "repository": self.repository_payload(),
            "sender": payload["user"],
        }
        return PullRequest(number, head, base, merge, event)

    def run(
        self,
        template: str,
        event_name: str,
        event: Mapping[str, Any],
        *,
        ref: str,
        sha: str,
        token: str = DEMO_TOKEN,
        run_id: int | None = None,
        **options: Any,
    ) -> ActResult:
        """Run .github/workflows/`template` of the repository for one event, in a fresh, empty workspace."""
        number = next(self._runs)
        workspace = self.scratch / f"run-{number}" / "work" / "demo" / "demo"
        return self.bench.run(
            self.dev / ".github" / "workflows" / template,
            event_name,
            event,
            workspace=workspace,
            api_url=self.github.base_url,
            server_url=self.github.server_url,
            git_remotes=self.remotes,
            artifacts=self.scratch / "artifacts",
            token=token,
            ref=ref,
            sha=sha,
            run_id=run_id,
            **options,
        )

    def run_pull(self, pull: PullRequest, template: str = "mlgate-pr.yml", **options: Any) -> ActResult:
        """`template` on the pull request's test merge commit, as GitHub runs a pull_request workflow."""
        ref = f"refs/pull/{pull.number}/merge"
        return self.run(template, "pull_request", pull.event, ref=ref, sha=pull.merge, **options)

    def edit_config(self, changes: Mapping[str, Any]) -> None:
        """Merge `changes` into mlgate.yml on main and push it (the user tuning their policy)."""
        config = self.dev / "mlgate.yml"
        current = yaml.safe_load(config.read_text(encoding="utf-8"))
        config.write_text(yaml.safe_dump(merge_params(current, changes), sort_keys=False), encoding="utf-8")
        git(self.dev, "commit", "--quiet", "-am", f"mlgate.yml: {dict(changes)}")
        git(self.dev, "push", "--quiet", "origin", "main")

    def allow_a_loaded_machine(self) -> None:
        """The example's serving gate has an absolute p95 latency limit (50 ms) that a loaded 2-core CI machine
        misses whatever the PR changes; raised on main, every other rule judged as the example has it."""
        self.edit_config({"metrics": {"gate": {"serving.latency_p95_ms": {"max": 10_000}}}})

    def add_dvc_remote(self) -> Path:
        """A local-directory DVC remote as the default, committed and pushed, with main's outputs in it."""
        storage = self.scratch / "dvc-remote"
        dvc(self.dev, "remote", "add", "--default", "storage", str(storage))
        git(self.dev, "add", ".dvc/config")
        git(self.dev, "commit", "--quiet", "-m", "DVC remote: a local directory")
        dvc(self.dev, "push", "--quiet")
        git(self.dev, "push", "--quiet", "origin", "main")
        return storage


@contextmanager
def ci_repository(example: Path, scratch: Path, github: GitHubStandIn, bench: ActBench) -> Iterator[CiRepo]:
    """`example` (a reproduced example repository on main) as the user's repository: the templates committed,
    pushed to a bare remote under `scratch` whose pushes reach the stand-in's octo/demo."""
    dev = scratch / "dev" / "demo"
    shutil.copytree(example, dev, symlinks=True)
    workflows = dev / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for template in sorted(TEMPLATES.glob("*.yml")):
        shutil.copy2(template, workflows / template.name)
    git(dev, "add", ".github")
    git(dev, "commit", "--quiet", "-m", "mlgate workflows")
    remotes = scratch / "remotes"
    remote = remotes / f"{DEMO_REPO}.git"
    remote.parent.mkdir(parents=True)
    git(scratch, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    bridge = PushBridge(github)
    write_hook(remote, "post-receive", POST_RECEIVE.format(python=sys.executable, url=bridge.url))
    git(dev, "remote", "add", "origin", str(remote))
    try:
        git(dev, "push", "--quiet", "--set-upstream", "origin", "main")
        yield CiRepo(dev, remotes, github, bench, scratch / "ci", count(1))
    finally:
        bridge.close()


@pytest.fixture(scope="session")
def act_bench(tmp_path_factory: pytest.TempPathFactory) -> ActBench:
    return ActBench.shared(tmp_path_factory)


@pytest.fixture
def ci_repo(example_template: Path, tmp_path: Path, github: GitHubStandIn, act_bench: ActBench) -> Iterator[CiRepo]:
    """The example repository with the templates, on a bare remote bridged to the stand-in's octo/demo."""
    with ci_repository(example_template, tmp_path, github, act_bench) as repo:
        yield repo
