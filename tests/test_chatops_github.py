"""`mlgate chatops` end to end: the real CLI on issue_comment events, PyGithub against the GitHub stand-in, a real
git repository with a bare origin, and the deploy command of mlgate.yml recording what it was given."""

from __future__ import annotations

from bench.chatops_fixtures import PR_MODEL, Scene

from mlgate.adapters import gittags


def deployments(scene: Scene) -> list:
    return sorted(scene.github.repo().deployments.values(), key=lambda d: d.id)


def register_on_staging(scene: Scene) -> str:
    """main's model deployed to staging by the deploy workflow (v0.0.1), its gate green."""
    scene.github.add_check_run(head_sha=scene.main, conclusion="success")
    env = scene.env(scene.comment("unrelated", user="ci", role=None))
    deployed = scene.repo.deploy("-e", "staging", env=env)
    assert deployed.returncode == 0, deployed.stderr
    return scene.main


# ------------------------------------------------------------------------------------------------ deploy


def test_deploy_previews_the_pr_head_model_its_green_gate_approved(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    comment = scene.comment("Looks right to me.\n\n/mlgate deploy staging\n")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    (deployment,) = deployments(scene)
    assert (deployment.sha, deployment.environment) == (scene.pr_head, "staging")
    assert deployment.payload["requested_by"] == {
        "login": "alice",
        "comment_url": f"{scene.github.server_url}/octo/demo/pull/1#issuecomment-{comment.id}",
        "pull_request": 1,
    }
    assert [s.state for s in deployment.statuses] == ["in_progress", "success"]
    assert scene.repo.deployed() == [["staging", "churn", scene.pr_head, PR_MODEL, scene.pr_head, str(deployment.id)]]
    # the registry: staging holds the PR's commit, unregistered (no version number taken from the releases)
    registry = gittags.read_registry(scene.repo.path).artifact("churn")
    assert registry.current("staging") == scene.pr_head and registry.latest is None
    assert scene.repo.origin_tags() == {"churn#staging#1": scene.pr_head}
    message = {t.name: t.message for t in gittags.list_tags(scene.repo.path)}["churn#staging#1"]
    assert f"requested by @alice: {comment_url(scene, comment)}" in message
    assert scene.reactions(comment) == ["eyes", "+1"]
    (reply,) = scene.replies()
    assert "`/mlgate deploy staging` from @alice: **✅ done**" in reply
    assert "/octo/demo/actions/runs/77" in reply and "/octo/demo/deployments/staging" in reply
    assert "/octo/demo/pull/1" in reply
    assert scene.outputs()["outcome"] == "done"


def comment_url(scene: Scene, comment) -> str:
    return f"{scene.github.server_url}/octo/demo/pull/1#issuecomment-{comment.id}"


def test_a_red_gate_on_the_head_fails_the_deploy_with_the_reason_and_no_deployment(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="failure")
    comment = scene.comment("/mlgate deploy staging")

    run = scene.chatops(comment)

    assert run.returncode == 1
    assert deployments(scene) == [] and scene.repo.deployed() == []
    assert scene.reactions(comment) == ["eyes", "-1"]
    (reply,) = scene.replies()
    assert "**❌ failed**" in reply and "is failure, not success" in reply


def test_a_read_permission_commenter_is_refused_and_nothing_runs(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    comment = scene.comment("/mlgate deploy staging", user="rita", role="read")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    assert deployments(scene) == [] and scene.repo.deployed() == [] and scene.repo.origin_tags() == {}
    assert scene.reactions(comment) == ["-1"]
    (reply,) = scene.replies()
    assert "**⛔ not run**" in reply
    assert "@rita has the read role on this repository; `/mlgate deploy` needs write or higher" in reply
    assert scene.outputs()["outcome"] == "refused"


def test_an_edited_comment_is_not_run(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    comment = scene.comment("/mlgate deploy staging")

    run = scene.chatops(comment, action="edited")

    assert run.returncode == 0, run.stderr
    assert deployments(scene) == [] and scene.repo.deployed() == []
    assert scene.reactions(comment) == ["-1"]
    assert "the comment was edited; mlgate runs only new comments" in scene.replies()[0]


def test_a_deleted_comment_is_ignored_without_a_call(scene: Scene) -> None:
    comment = scene.comment("/mlgate rerun")
    env = scene.env(comment, action="deleted")
    del scene.github.repo().comments[comment.id]  # gone from GitHub when the event arrives
    before = len(scene.github.requests)
    from bench.registry_fixtures import mlgate_in_process

    run = mlgate_in_process("chatops", cwd=scene.repo.path, env=env)

    assert run.returncode == 0, run.stdout + run.stderr
    assert len(scene.github.requests) == before and scene.replies() == []
    assert scene.outputs()["outcome"] == "ignored"


def test_an_unknown_environment_is_refused(scene: Scene) -> None:
    comment = scene.comment("/mlgate deploy qa")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    assert deployments(scene) == []
    assert (
        "`qa` is not an environment of mlgate.yml (deploy.environments lists `staging`, `production`)"
        in (scene.replies()[0])
    )


def test_duplicate_deliveries_of_the_same_event_do_nothing_twice(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    comment = scene.comment("/mlgate deploy staging")

    first, second = scene.chatops(comment), scene.chatops(comment)

    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert len(deployments(scene)) == 1 and len(scene.repo.deployed()) == 1
    assert len(scene.replies()) == 1 and scene.reactions(comment) == ["eyes", "+1"]
    assert "duplicate" in second.stdout


def test_a_duplicate_of_a_refused_comment_is_not_answered_twice(scene: Scene) -> None:
    comment = scene.comment("/mlgate deploy staging", user="rita", role="read")

    scene.chatops(comment)
    again = scene.chatops(comment)

    assert again.returncode == 0 and len(scene.replies()) == 1 and scene.reactions(comment) == ["-1"]


def test_a_comment_without_a_command_costs_no_api_call(scene: Scene) -> None:
    comment = scene.comment("see `/mlgate deploy staging` in the docs")
    before = len(scene.github.requests)

    run = scene.chatops(comment)

    assert run.returncode == 0 and len(scene.github.requests) == before
    assert scene.outputs()["outcome"] == "none"


def test_bots_and_closed_pull_requests_are_refused(scene: Scene) -> None:
    bot = scene.comment("/mlgate rerun", user="renovate[bot]", role="write")
    scene.chatops(bot)
    scene.github.repo().issues[1].state = "closed"
    late = scene.comment("/mlgate rerun")
    scene.chatops(late)

    first, second = scene.replies()
    assert "renovate[bot] is a bot, and chatops.allow_bots in mlgate.yml does not list it" in first
    assert "this pull request is closed; commands run only on open ones" in second
    assert scene.github.calls("POST", r".*/rerun") == []


# ------------------------------------------------------------------------------------------------ promote, rollback


def test_a_production_promotion_by_a_writer_is_refused(scene: Scene) -> None:
    register_on_staging(scene)
    comment = scene.comment("/mlgate promote churn@staging to production", user="walt", role="write")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    assert [d.environment for d in deployments(scene)] == ["staging"]
    assert "`/mlgate promote` on a production environment needs maintain or higher" in scene.replies()[0]


def test_a_maintainer_promotes_the_version_staging_holds_and_the_tag_names_them(scene: Scene) -> None:
    commit = register_on_staging(scene)
    comment = scene.comment("/mlgate promote churn@staging to production", user="mia", role="maintain")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    production = deployments(scene)[-1]
    assert (production.environment, production.sha, production.payload["version"]) == ("production", commit, "v0.0.1")
    assert production.payload["requested_by"]["login"] == "mia"
    assert scene.repo.origin_tags()["churn#production#2"] == commit
    message = {t.name: t.message for t in gittags.list_tags(scene.repo.path)}["churn#production#2"]
    assert "requested by @mia" in message
    assert scene.repo.deployed()[-1][:3] == ["production", "churn", "v0.0.1"]
    assert "**✅ done**" in scene.replies()[-1]


def test_promoting_a_preview_is_refused_as_no_registered_version(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    assert scene.chatops(scene.comment("/mlgate deploy staging")).returncode == 0
    comment = scene.comment("/mlgate promote churn@staging to production", user="mia", role="maintain")

    run = scene.chatops(comment)

    assert run.returncode == 2
    assert "holds a pull-request preview" in scene.replies()[-1] and len(deployments(scene)) == 1


def test_rollback_of_a_preview_gives_staging_back_to_the_release(scene: Scene) -> None:
    register_on_staging(scene)
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    assert scene.chatops(scene.comment("/mlgate deploy staging")).returncode == 0
    comment = scene.comment("/mlgate rollback staging", user="mia", role="maintain")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    assert gittags.read_registry(scene.repo.path).artifact("churn").current("staging") == "v0.0.1"
    rollback = deployments(scene)[-1]
    assert rollback.payload["rollback"]["reason"] == "/mlgate rollback by @mia"
    assert scene.repo.deployed()[-1][:4] == ["staging", "churn", "v0.0.1", "model-1"]


# ------------------------------------------------------------------------------------------------ rerun, retrain, help


def test_rerun_reruns_the_pr_workflow_run_on_the_head(scene: Scene) -> None:
    workflow = scene.github.add_workflow("mlgate-pr.yml", name="mlgate")
    run_ = scene.github.add_workflow_run(workflow, head_sha=scene.pr_head, head_branch="feature", pulls=(1,))
    comment = scene.comment("/mlgate rerun")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    assert scene.github.repo().runs[run_.id].run_attempt == 2
    assert f"/octo/demo/actions/runs/{run_.id}" in scene.replies()[0]


def test_rerun_without_a_run_on_the_head_fails_saying_so(scene: Scene) -> None:
    scene.github.add_workflow("mlgate-pr.yml", name="mlgate")
    comment = scene.comment("/mlgate rerun")

    run = scene.chatops(comment)

    assert run.returncode == 2
    assert "mlgate-pr.yml has no pull-request run on the head" in scene.replies()[0]
    assert scene.reactions(comment) == ["eyes", "-1"]


def test_retrain_dispatches_the_retrain_workflow_on_the_default_branch(scene: Scene) -> None:
    scene.github.add_workflow("mlgate-retrain.yml", dispatch_inputs=("when", "check-only"))
    comment = scene.comment("/mlgate retrain --always")

    run = scene.chatops(comment)

    assert run.returncode == 0, run.stderr
    (dispatched,) = scene.github.repo().runs.values()
    assert (dispatched.event, dispatched.head_branch, dispatched.inputs) == (
        "workflow_dispatch",
        "main",
        {"when": "always"},
    )
    assert f"/octo/demo/actions/runs/{dispatched.id}" in scene.replies()[0]


def test_help_lists_the_commands_and_the_roles_they_need(scene: Scene) -> None:
    comment = scene.comment("/mlgate help", user="rita", role="read")

    assert scene.chatops(comment).returncode == 0
    (reply,) = scene.replies()
    assert "`/mlgate promote <name>@<version|stage> to <environment>`: write or higher" in reply
    assert "Production (production) needs maintain or higher" in reply
    assert not any(line.startswith("/mlgate") for line in reply.splitlines())  # never a command itself


# ------------------------------------------------------------------------------------------------ phases


def test_accept_then_execute_splits_a_deploy_across_two_jobs(scene: Scene) -> None:
    scene.github.add_check_run(head_sha=scene.pr_head, conclusion="success")
    comment = scene.comment("/mlgate deploy staging")

    accepted = scene.chatops(comment, "--phase", "accept")
    outputs = scene.outputs()
    assert accepted.returncode == 0 and deployments(scene) == [] and scene.reactions(comment) == ["eyes"]
    assert (outputs["command"], outputs["environment"], outputs["outcome"]) == ("deploy", "staging", "accepted")

    executed = scene.chatops(comment, "--phase", "execute")
    again = scene.chatops(comment, "--phase", "execute")  # a re-run of the job

    assert executed.returncode == 0, executed.stderr
    assert again.returncode == 0 and len(deployments(scene)) == 1 and len(scene.replies()) == 1
    assert scene.reactions(comment) == ["eyes", "+1"]


def test_execute_without_accept_does_nothing(scene: Scene) -> None:
    comment = scene.comment("/mlgate deploy staging")

    run = scene.chatops(comment, "--phase", "execute")

    assert run.returncode == 0 and deployments(scene) == [] and scene.replies() == []


def test_not_an_issue_comment_event_is_a_usage_error(scene: Scene) -> None:
    comment = scene.comment("/mlgate rerun")
    env = scene.env(comment) | {"GITHUB_EVENT_NAME": "pull_request"}
    from bench.registry_fixtures import mlgate_in_process

    run = mlgate_in_process("chatops", cwd=scene.repo.path, env=env)

    assert (
        run.returncode == 2
        and "mlgate chatops answers issue_comment events, not pull_request" in run.stdout + run.stderr
    )


def test_a_fork_pull_request_is_not_deployed(scene: Scene) -> None:
    fork = scene.github.add_pull(head_ref="fork-feature", fork=True, user="outsider")
    scene.github.add_check_run(head_sha=fork.head_sha, conclusion="success")
    comment = scene.comment("/mlgate deploy staging", issue=fork.issue.number, user="mia", role="maintain")

    run = scene.chatops(comment)

    assert run.returncode == 2 and deployments(scene) == []
    assert "comes from outsider/demo: its model file is code from outside this repository" in scene.replies()[0]


def test_the_accept_phase_runs_on_the_report_install(scene: Scene) -> None:
    """The template's first job installs only click, PyYAML and PyGithub (actions/setup extras: report)."""
    import subprocess
    import sys

    scene.github.add_workflow("mlgate-retrain.yml", dispatch_inputs=("when", "check-only"))
    comment = scene.comment("/mlgate retrain")
    blocked = ("pandas", "numpy", "dvc", "deepchecks", "scipy", "sklearn", "jsonschema", "pyarrow")
    program = (
        f"import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None\n"
        "from mlgate.cli import main\nmain(['chatops', '--phase', 'accept'])\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}

    run = subprocess.run(
        [sys.executable, "-c", program],
        cwd=scene.repo.path,
        env=env | scene.env(comment),
        capture_output=True,
        text=True,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert scene.reactions(comment) == ["eyes", "+1"] and len(scene.github.repo().runs) == 1


def test_a_malformed_event_payload_is_one_sentence_naming_the_key(scene: Scene) -> None:
    import json
    from pathlib import Path

    from bench.registry_fixtures import mlgate_in_process

    comment = scene.comment("/mlgate rerun")
    env = scene.env(comment)
    event = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())
    event["comment"]["id"] = "7; rm -rf /"
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(event))

    run = mlgate_in_process("chatops", cwd=scene.repo.path, env=env)

    assert run.returncode == 2 and "Traceback" not in run.stdout + run.stderr
    assert "event payload key 'comment.id' must be int" in run.stdout + run.stderr
    assert scene.replies() == [] and scene.reactions(comment) == []


def test_two_deliveries_at_the_same_moment_run_the_command_once(scene: Scene) -> None:
    """Both read no reaction, both try to claim `eyes`: GitHub creates it for one (201), finds it for the other."""
    import threading

    from bench.registry_fixtures import mlgate

    scene.github.add_workflow("mlgate-retrain.yml", dispatch_inputs=("when", "check-only"))
    comment = scene.comment("/mlgate retrain")
    env = scene.env(comment)
    # both read the reactions before either claimed: each is answered "none yet", whenever it asks
    scene.github.fault("GET", rf"/repos/octo/demo/issues/comments/{comment.id}/reactions", status=200, body=[], times=2)
    runs: list = []
    threads = [
        threading.Thread(target=lambda: runs.append(mlgate("chatops", cwd=scene.repo.path, env=env))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [run.returncode for run in runs] == [0, 0], [run.stdout + run.stderr for run in runs]
    assert len(scene.github.repo().runs) == 1 and len(scene.replies()) == 1
    assert scene.reactions(comment) == ["eyes", "+1"]
    assert sorted("duplicate" in run.stdout for run in runs) == [False, True]
    claims = scene.github.calls("POST", rf"/repos/octo/demo/issues/comments/{comment.id}/reactions")
    assert sorted(c.status for c in claims if c.body == {"content": "eyes"}) == [200, 201]  # GitHub decided
