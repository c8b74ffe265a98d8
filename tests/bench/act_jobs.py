"""Our composite actions run by nektos/act (see act_bench.py), several invocations to one small workflow.

    run = run_jobs(Job("pr", [Step("train", "actions/train", may_fail=True), Step("gate", "actions/compare-metrics")],
                       checkout=repo_dir))
    assert run["train"].outcome == "failure" and run["gate"].outputs["gate"] == "pass"
    compare = (run.jobs["pr"].workspace / ".mlgate/results/compare.json").read_text()  # as the job left it

An act run costs well under a second of its own here; what costs is mlgate's work, so a test groups the
invocations that share a repository into the steps of one job (`may_fail`: `continue-on-error`, so a step meant
to fail does not stop the ones after it) and the ones that need another event into another run.

What a job is made of, and why:
- `checkout=DIR`: the job's workspace starts empty, as on GitHub; its first step copies DIR (a repository a
  fixture prepared: git history, untracked pipeline outputs and all) into it, standing for whatever
  actions/checkout plus the earlier steps of a user's job would have left there. Templates are tested on real
  clean checkouts (test_templates_act.py); these tests are about each action's own contract.
- Each step of ours is `uses: mlgate/mlgate/<folder>@v1` (the root action.yml for "."), named by its id, so
  every line act logs for it, its composite's own steps included, carries that name.
- A last step (`if: always()`) writes `toJSON(steps)` (each step's outcome, conclusion and outputs, as the
  runner evaluated them) and a copy of the workspace to the run's folder: act removes the workspace when the
  job ends.
- mlgate's venv is restored as actions/setup's cache hit leaves it (ActBench.run's install=False) unless a run
  passes install=True: the real install and its cache are test_setup_action.py's subject.
- Annotations, masks, summaries and exit codes come from act's JSON log: workflow commands are events with
  `command` and `kvPairs`, each step's job summary is a `summary` event, a failed process an `exit status N`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import yaml

from bench.act_bench import MLGATE_ACTION, ActBench, ActResult, StepLog

MLGATE = MLGATE_ACTION.removesuffix("@v1")
COLLECT = "collect"
_runs = count(1)


def uses(folder: str) -> str:
    """The `uses:` of this repository's action in `folder` (actions/train), or of the root action ('.')."""
    return MLGATE_ACTION if folder in ("", ".") else f"{MLGATE}/{folder.strip('/')}@v1"


@dataclass(frozen=True)
class Step:
    """A step of a test job: one of our actions (`action` is its folder) with `inputs`, or a `run:` script."""

    id: str
    action: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    run: str = ""
    may_fail: bool = False  # continue-on-error: the job goes on; the step's outcome tells what happened
    condition: str = ""  # if:

    def document(self) -> dict[str, Any]:
        step: dict[str, Any] = {"id": self.id, "name": self.id}
        if self.condition:
            step["if"] = self.condition
        if self.run:
            step |= {"shell": "bash", "run": self.run}
        else:
            step["uses"] = uses(self.action)
            if self.inputs:
                step["with"] = {name: str(value) for name, value in self.inputs.items()}
        if self.env:
            step["env"] = {name: str(value) for name, value in self.env.items()}
        if self.may_fail:
            step["continue-on-error"] = True
        return step


@dataclass(frozen=True)
class Job:
    id: str
    steps: Sequence[Step]
    checkout: Path | None = None  # copied into the empty workspace first (see the module docstring)
    env: Mapping[str, str] = field(default_factory=dict)
    python: bool = False  # actions/setup-python first: the job's Python with the example's requirements

    def document(self, out: Path) -> dict[str, Any]:
        steps: list[dict[str, Any]] = []
        if self.python:
            steps.append({"uses": SETUP_PYTHON, "with": {"python-version": "3.12"}})
        if self.checkout is not None:
            copy = {"run": 'cp -a "$CHECKOUT/." .', "shell": "bash", "env": {"CHECKOUT": str(self.checkout)}}
            steps.append({"name": "checkout"} | copy)
        steps += [step.document() for step in self.steps]
        steps.append(
            {
                "name": COLLECT,
                "if": "always()",
                "shell": "bash",
                "env": {"STEPS": "${{ toJSON(steps) }}", "OUT": str(out / self.id)},
                "run": 'mkdir -p "$OUT" && printf %s "$STEPS" > "$OUT/steps.json" && pwd > "$OUT/path"\n'
                'cp -a . "$OUT/workspace"',
            }
        )
        job: dict[str, Any] = {"runs-on": "ubuntu-latest", "steps": steps}
        if self.env:
            job["env"] = {name: str(value) for name, value in self.env.items()}
        return job


# The pin our templates use, which the bench maps to its setup-python stand-in.
SETUP_PYTHON = "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b"


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning, notice
    message: str
    file: str | None
    line: int | None
    title: str | None


@dataclass
class StepRun:
    """One workflow step as the runner ran it."""

    id: str
    outcome: str  # success, failure, skipped: before continue-on-error
    conclusion: str
    outputs: dict[str, str]
    log: str  # every line act logged for the step (its composite's steps included), masks applied
    annotations: list[Annotation]
    summary: str  # what the step added to the job summary
    exit_codes: list[int]  # of the processes that failed in it, innermost first

    @property
    def ok(self) -> bool:
        return self.outcome == "success"

    def annotations_of(self, level: str) -> list[Annotation]:
        return [a for a in self.annotations if a.level == level]


@dataclass
class JobRun:
    id: str
    result: str  # success / failure
    steps: dict[str, StepRun]
    workspace: Path  # a copy of the job's workspace as its last step found it
    github_workspace: str  # where the workspace was (GITHUB_WORKSPACE), as paths in outputs name it


@dataclass
class JobsRun:
    act: ActResult
    jobs: dict[str, JobRun]
    artifacts: Path  # act's artifact server folder: <run id>/<artifact>/<artifact>.zip

    @property
    def ok(self) -> bool:
        return self.act.ok

    @property
    def log(self) -> str:
        return self.act.log

    def artifact(self, name: str) -> dict[str, bytes]:
        """The files of the artifact `name` this run uploaded (to act's artifact server), by path."""
        [archive] = self.artifacts.glob(f"*/{name}/{name}.zip")
        with zipfile.ZipFile(archive) as files:
            return {info.filename: files.read(info) for info in files.infolist() if not info.is_dir()}

    def inner_steps(self, step: str) -> list[StepLog]:
        """The Main steps of the composite action that workflow step `step` ran, as act ran them."""
        return [s for s in self.act.steps if s.within == step and s.stage == "Main" and s.name != step]

    def inner_output(self, step: str, inner: str, name: str) -> str:
        """Output `name` of the composite's own step `inner` (its id), as act logged it during workflow step
        `step` (the last value set wins)."""
        values = [
            e["arg"]
            for e in self.act.events
            if e.get("stepID") == [step, inner] and e.get("command") == "set-output" and e.get("name") == name
        ]
        assert values, f"{step}/{inner} set no output {name}"
        return values[-1]  # fmt: skip

    def commands(self, step: str, command: str) -> list[str]:
        """The arguments of every `command` workflow command (add-path, set-env...) act handled in `step`."""
        # A composite's commands are logged twice: in its own step, then again for the workflow step.
        return [e.get("arg", "") for e in self.act.events
                if e.get("step") == step and e.get("stepID") == [step] and e.get("command") == command]  # fmt: skip

    def __getitem__(self, step: str) -> StepRun:
        [found] = [job.steps[step] for job in self.jobs.values() if step in job.steps]
        return found


def _annotation(event: Mapping[str, Any]) -> Annotation:
    pairs = event.get("kvPairs") or {}
    line = pairs.get("line")
    return Annotation(event["command"], event.get("arg", ""), pairs.get("file"), int(line) if line else None,
                      pairs.get("title"))  # fmt: skip


def read_jobs(act: ActResult, jobs: Sequence[Job], out: Path, workflow: str, artifacts: Path) -> JobsRun:
    runs: dict[str, JobRun] = {}
    for job in jobs:
        events = [e for e in act.events if e.get("jobID") == job.id]
        recorded = out / job.id / "steps.json"
        contexts = json.loads(recorded.read_text(encoding="utf-8")) if recorded.exists() else {}
        steps = {}
        for step in job.steps:
            mine = [e for e in events if e.get("step") == step.id]
            context = contexts.get(step.id, {})
            steps[step.id] = StepRun(
                id=step.id,
                outcome=context.get("outcome", "skipped"),
                conclusion=context.get("conclusion", "skipped"),
                outputs=context.get("outputs", {}),
                log="\n".join(e["msg"].rstrip("\n") for e in mine),
                annotations=[_annotation(e) for e in mine if e.get("command") in ("error", "warning", "notice")],
                summary="".join(e.get("content", "") for e in mine if e.get("command") == "summary"),
                exit_codes=[int(e["msg"].split()[-1]) for e in mine if e["msg"].startswith("exit status ")],
            )
        results = {name.strip(): result for name, result in act.jobs.items()}  # act pads job names
        result = results.get(f"{workflow}/{job.id}", "failure")
        where = out / job.id / "path"
        github_workspace = where.read_text(encoding="utf-8").strip() if where.exists() else ""
        runs[job.id] = JobRun(job.id, result, steps, out / job.id / "workspace", github_workspace)
    return JobsRun(act, runs, artifacts)


@dataclass(frozen=True)
class JobsRunner:
    """Runs jobs of our actions under act, for one event, against the test's GitHub stand-in."""

    bench: ActBench
    scratch: Path
    api_url: str
    server_url: str

    def __call__(
        self,
        *jobs: Job,
        event_name: str = "pull_request",
        event: Mapping[str, Any] | None = None,
        workflow: str = "CI",
        token: str = "ghs_test",
        **options: Any,
    ) -> JobsRun:
        """One act run of `jobs` (in order: each needs the one before); `options` go to ActBench.run (ref, sha,
        run_id, env, secrets, install...)."""
        folder = self.scratch / f"act-{next(_runs)}"
        out = folder / "out"
        documents = {}
        for before, job in zip([None, *jobs], jobs, strict=False):
            documents[job.id] = job.document(out) | ({"needs": before.id} if before else {})
        workflow_file = folder / "workflow.yml"
        workflow_file.parent.mkdir(parents=True)
        text = yaml.safe_dump({"name": workflow, "on": event_name, "jobs": documents}, sort_keys=False)
        workflow_file.write_text(text, encoding="utf-8")
        artifacts = folder / "artifacts"
        act = self.bench.run(
            workflow_file,
            event_name,
            event or {},
            workspace=folder / "work" / "demo" / "demo",
            api_url=self.api_url,
            server_url=self.server_url,
            git_remotes=folder / "remotes",
            artifacts=artifacts,
            token=token,
            **({"install": False} | options),
        )
        return read_jobs(act, jobs, out, workflow, artifacts)
