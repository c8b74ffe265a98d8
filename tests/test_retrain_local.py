"""`mlgate retrain` on a laptop: the local driver records the pull request in the outbox; failures and bad
input open nothing, push nothing and leave the checkout as it was found."""

from __future__ import annotations

import json

import pytest
import yaml
from bench.example_fixtures import git
from bench.retrain_fixtures import Workspace, retrain

BRANCH = "refs/heads/mlgate/retrain"


def outbox(workspace: Workspace, kind: str) -> list[dict[str, object]]:
    folder = workspace.path / ".mlgate" / "outbox" / kind
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def summary(workspace: Workspace) -> str:
    [record] = outbox(workspace, "summary")
    return str(record["markdown"])


def evidence(workspace: Workspace) -> dict[str, object]:
    document = json.loads((workspace.path / ".mlgate" / "results" / "retrain.json").read_text())
    return {"verdict": document["verdict"], **document["evidence"]}


def commit_on_main(workspace: Workspace, path: str, change: dict[str, object]) -> str:
    """Change one key of a YAML file on main and push it, as a maintainer would."""
    target = workspace.path / path
    document = yaml.safe_load(target.read_text())
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[key] = value
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    git(workspace.path, "commit", "--quiet", "--all", "-m", f"change {path}")
    git(workspace.path, "push", "--quiet", "origin", "main")
    return git(workspace.path, "rev-parse", "HEAD")


def assert_untouched(workspace: Workspace, head: str) -> None:
    assert git(workspace.path, "rev-parse", "HEAD") == head
    assert git(workspace.path, "status", "--porcelain", "--untracked-files=no") == ""
    assert workspace.origin_ref(BRANCH) is None


def test_always_retrains_and_the_local_driver_records_the_pull_request(small_workspace: Workspace) -> None:
    workspace = small_workspace
    done = retrain(workspace, "--when", "always", "--update-schema", env={"SEED": "4"})

    assert done.code == 0, done.out + done.err
    [pull] = outbox(workspace, "pull")
    pushed = workspace.origin_ref(BRANCH)
    assert pull["number"] == 1 and pull["state"] == "open" and pull["head_sha"] == pushed
    assert (pull["head"], pull["base"], pull["labels"]) == ("mlgate/retrain", "main", ["mlgate:retrain"])
    assert str(pull["title"]).startswith("mlgate retrain: scheduled retraining ")
    assert "**Why:** retrain.when is always (0 of 3 columns drifted" in str(pull["body"])
    files = git(workspace.origin, "diff-tree", "--no-commit-id", "--name-only", "-r", "main", str(pushed)).split()
    assert files == ["data/train.csv", "metrics.json", "mlgate.schema.yml"]  # the schema, because it was asked for
    schema = yaml.safe_load(git(workspace.origin, "show", f"{pushed}:mlgate.schema.yml"))
    assert set(schema["columns"]) == {"id", "x1", "x2", "label"}
    assert "pull request #1 created" in summary(workspace)
    assert evidence(workspace)["outcome"] == "pull-request"
    # the checkout is left as it was: main, no tracked change (new files the run made stay untracked)
    assert git(workspace.path, "rev-parse", "HEAD") == git(workspace.origin, "rev-parse", "main")
    assert git(workspace.path, "status", "--porcelain", "--untracked-files=no") == ""


def test_nothing_changed_means_no_pull_request(small_workspace: Workspace) -> None:
    head = git(small_workspace.path, "rev-parse", "HEAD")
    done = retrain(small_workspace, "--when", "always", "--data-command", "true")
    assert done.code == 0, done.out + done.err
    assert not outbox(small_workspace, "pull")
    assert "### mlgate retrain: nothing changed, no pull request" in summary(small_workspace)
    assert "retraining changed no data pointer, params or metrics" in summary(small_workspace)
    assert evidence(small_workspace)["outcome"] == "nothing-changed"
    assert_untouched(small_workspace, head)


@pytest.mark.slow
def test_a_failed_training_opens_nothing_and_reports_it(workspace: Workspace) -> None:
    head = commit_on_main(workspace, "params.yaml", {"train.model": "boosting"})
    done = retrain(workspace, "--when", "always", "--data-command", "true")  # same data: straight to training

    assert done.code == 1
    assert not outbox(workspace, "pull")
    text = summary(workspace)
    assert text.startswith("### mlgate retrain: training failed, no pull request")
    assert "train.model must be 'logreg' or 'forest', got 'boosting'" in text  # the training log's tail
    record = evidence(workspace)
    assert record["verdict"] == "error" and record["outcome"] == "training-failed"
    assert_untouched(workspace, head)


def test_a_failed_data_command_stops_before_anything_else(workspace: Workspace) -> None:
    head = git(workspace.path, "rev-parse", "HEAD")
    command = "python -c \"import sys; print('source unreachable'); sys.exit(3)\""
    done = retrain(workspace, "--data-command", command)
    assert done.code == 1
    text = summary(workspace)
    assert "### mlgate retrain: data command failed, no pull request" in text
    assert "exited with code 3" in text and "source unreachable" in text
    assert evidence(workspace)["outcome"] == "data-command-failed"
    assert not (workspace.path / ".mlgate" / "results" / "train.json").exists()
    assert_untouched(workspace, head)


def test_uncommitted_changes_are_refused_and_kept(workspace: Workspace) -> None:
    params = workspace.path / "params.yaml"
    params.write_text(params.read_text() + "# tuning in progress\n")
    done = retrain(workspace)
    assert done.code == 2
    assert "the checkout has uncommitted changes (params.yaml): commit or stash them first" in done.err
    assert params.read_text().endswith("# tuning in progress\n")  # never restored over the user's work
    assert not (workspace.path / "raw" / "fresh.csv").exists()


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        ({"data": {"train": "data/train.csv"}}, (), "no data command: pass --data-command or set retrain.data_command"),
        ({"retrain": {"data_command": "true"}}, (), "no data.train in mlgate.yml"),
        (
            {"data": {"train": "data/gone.csv"}, "retrain": {"data_command": "true"}},
            (),
            "data.train: file 'data/gone.csv' does not exist, and neither git nor DVC tracks it: commit it",
        ),
        (
            {"data": {"train": "data/train.csv"}},
            ("--data-command", "true", "--branch", "main"),
            "must not be the default",
        ),
        ({"retrain": {"when": "sometimes"}}, (), "retrain.when"),
    ],
)
def test_bad_input_is_one_clear_error(
    workspace: Workspace, config: dict[str, object], args: tuple[str, ...], message: str
) -> None:
    other = workspace.path / "other.yml"  # untracked: the checkout stays clean
    other.write_text(yaml.safe_dump(config))
    done = retrain(workspace, *args, env={"MLGATE_CONFIG": str(other)})
    assert done.code == 2 and message in done.err, done.err
    assert "Traceback" not in done.err
    assert not (workspace.path / "raw" / "fresh.csv").exists()


def test_a_missing_remote_is_an_input_error(workspace: Workspace) -> None:
    git(workspace.path, "remote", "remove", "origin")
    done = retrain(workspace)
    assert done.code == 2 and "this repository has no remote 'origin'" in done.err


def test_data_that_git_tracks_is_committed_with_its_metrics(small_workspace: Workspace) -> None:
    done = retrain(small_workspace, env={"SHIFT": "2", "SEED": "2"})
    assert done.code == 0, done.out + done.err
    pushed = small_workspace.origin_ref(BRANCH)
    files = git(small_workspace.origin, "diff-tree", "--no-commit-id", "--name-only", "-r", "main", str(pushed))
    assert files.split() == ["data/train.csv", "metrics.json"]
    [pull] = outbox(small_workspace, "pull")
    assert "the data drifted: 2 of 3 columns drifted (67%, above the 10% limit)" in str(pull["body"])
