"""actions/chatops/action.yml run by act: env → one `mlgate chatops` → outputs."""

from __future__ import annotations

import json
from pathlib import Path

from bench.act_jobs import Job, JobsRun, JobsRunner, Step
from bench.chatops_fixtures import Scene
from bench.github_state import IssueComment

ROOT = Path(__file__).resolve().parents[1]


def on_comment(run_jobs: JobsRunner, scene: Scene, comment: IssueComment, inputs: dict[str, str]) -> JobsRun:
    """The chatops step of an issue_comment workflow on the default branch, for `comment`."""
    event = json.loads(Path(scene.env(comment)["GITHUB_EVENT_PATH"]).read_text())
    job = Job("command", [Step("chatops", "actions/chatops", inputs)], checkout=scene.repo.path,
              env={"DEPLOY_LOG": str(scene.repo.log)})  # fmt: skip
    return run_jobs(job, event_name="issue_comment", event=event, ref="refs/heads/main", sha=scene.main, run_id=42)


def test_action_accepts_a_deploy_and_names_its_environment(run_jobs: JobsRunner, scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    comment = scene.comment("/mlgate deploy staging")

    run = on_comment(run_jobs, scene, comment, {"phase": "accept"})

    assert run["chatops"].ok, run.log
    assert run["chatops"].outputs == {"command": "deploy", "environment": "staging", "outcome": "accepted"}
    assert scene.reactions(comment) == ["eyes"] and scene.github.repo().deployments == {}
    assert "ghs_test" not in run.log


def test_action_refuses_a_reader_and_exits_zero_with_the_outcome(run_jobs: JobsRunner, scene: Scene) -> None:
    comment = scene.comment("/mlgate rerun", user="rita", role="read")

    run = on_comment(run_jobs, scene, comment, {})

    assert run["chatops"].ok, run.log
    assert run["chatops"].outputs == {"command": "rerun", "environment": "", "outcome": "refused"}
    assert scene.reactions(comment) == ["-1"]


def test_the_template_keeps_production_behind_the_environment_and_grants_least_privilege() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / "workflows-templates" / "mlgate-chatops.yml").read_text())
    on = workflow[True]  # PyYAML reads `on` as True
    command, execute = workflow["jobs"]["command"], workflow["jobs"]["execute"]

    assert on == {"issue_comment": {"types": ["created"]}} and workflow["permissions"] == {}
    # the job any commenter can start writes only reactions, replies and dispatches; no contents, no deployments
    assert command["permissions"] == {
        "contents": "read",
        "issues": "write",
        "pull-requests": "write",
        "actions": "write",
    }
    assert [s["with"]["phase"] for s in command["steps"] if "chatops" in s.get("uses", "")] == ["accept"]
    # deploys run only once accepted, in the GitHub environment they change: its required reviewers gate them
    assert execute["needs"] == "command" and execute["if"] == "needs.command.outputs.outcome == 'accepted'"
    assert execute["environment"] == "${{ needs.command.outputs.environment }}"
    assert [s["with"]["phase"] for s in execute["steps"] if "chatops" in s.get("uses", "")] == ["execute"]
    assert "actions" not in execute["permissions"]
    # the policy is the default branch's: no checkout of a pull request's code anywhere
    checkouts = [s for job in (command, execute) for s in job["steps"] if s["uses"].startswith("actions/checkout")]
    assert checkouts and all(
        "ref" not in s.get("with", {}) and "repository" not in s.get("with", {}) for s in checkouts
    )
