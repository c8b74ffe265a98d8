"""The registry on real git: the tag adapter, race-safe publishing to a bare origin, and `mlgate registry`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.example_fixtures import GIT_IDENTITY
from bench.registry_fixtures import Clone, mlgate

from mlgate.adapters import gittags
from mlgate.errors import InputError
from mlgate.registry.plan import Registration, plan_register
from mlgate.registry.state import Registry


def test_list_tags_reads_annotated_and_lightweight_tags(clone: Clone) -> None:
    sha = clone.head()
    env = {"GIT_COMMITTER_DATE": "@1700000000 +0200"}
    clone.git("tag", "-a", "-m", "Registering artifact m version v0.0.1\n\nbody", "m@v0.0.1", sha, env=env)
    clone.git("tag", "m#prod#4", sha)
    clone.git("tag", "-a", "-m", "a tag of a tag", "nested", "m@v0.0.1")
    records = {r.name: r for r in gittags.list_tags(clone.path)}
    assert set(records) == {"m@v0.0.1", "m#prod#4"}  # a tag of a tag points at no commit: skipped
    annotated = records["m@v0.0.1"]
    assert (annotated.target, annotated.annotated, annotated.timestamp) == (sha, True, 1700000000)
    assert (annotated.tagger, annotated.tagger_email) == (GIT_IDENTITY["GIT_COMMITTER_NAME"], "tests@mlgate.invalid")
    assert annotated.message.strip() == "Registering artifact m version v0.0.1\n\nbody"
    assert records["m#prod#4"].annotated is False
    assert gittags.read_registry(clone.path).artifact("m").max_counter == 4


def register_plan(name: str, commit: str):
    def plan(registry: Registry) -> Registration:
        return plan_register(registry, name, commit, now=1_700_000_000)

    return plan


def test_publish_pushes_atomically_and_is_idempotent(clone: Clone) -> None:
    sha = clone.head()
    published = gittags.publish(clone.path, register_plan("m", sha), remote="origin")
    assert (published.plan.version, published.races_lost) == ("v0.0.1", 0)
    assert clone.origin_tags() == {"m@v0.0.1": sha}
    again = gittags.publish(clone.path, register_plan("m", sha), remote="origin")
    assert (again.plan.version, again.plan.tags) == ("v0.0.1", ())


def test_publish_replans_after_losing_a_race_and_never_overwrites(clone: Clone, tmp_path: Path) -> None:
    other = clone.second_clone(tmp_path / "other")
    theirs = other.commit("their model")
    other.push()
    ours = clone.commit("our model")
    calls = []

    def racing_plan(registry: Registry) -> Registration:
        if not calls:  # between our read and our push, the other writer registers v0.0.1 first
            gittags.publish(other.path, register_plan("m", theirs), remote="origin")
        calls.append(registry)
        return plan_register(registry, "m", ours, now=1_700_000_000)

    published = gittags.publish(clone.path, racing_plan, remote="origin")
    assert (published.plan.version, published.races_lost) == ("v0.0.2", 1)
    assert clone.origin_tags() == {"m@v0.0.1": theirs, "m@v0.0.2": ours}
    assert clone.tags() == clone.origin_tags()  # our rejected v0.0.1 was dropped, theirs fetched


def test_a_rejection_that_is_no_race_is_reported_not_retried(clone: Clone) -> None:
    hook = clone.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    expected = r"'origin' rejected the registry tags: m@v0.0.1 \[remote rejected\] .*it said: tags are protected"
    with pytest.raises(InputError, match=expected):
        gittags.publish(clone.path, register_plan("m", clone.head()), remote="origin")
    assert clone.tags() == {}  # nothing left behind locally either


def test_a_local_tag_differing_from_origin_is_named(clone: Clone, tmp_path: Path) -> None:
    other = clone.second_clone(tmp_path / "other")
    other.git("tag", "-a", "-m", "theirs", "m@v0.0.1")
    other.git("push", "--quiet", "origin", "m@v0.0.1")
    clone.commit("mine")
    clone.git("tag", "-a", "-m", "mine", "m@v0.0.1")
    with pytest.raises(InputError, match=r"local tag 'm@v0.0.1' differs from the one on 'origin'.*git tag -d"):
        gittags.fetch_tags(clone.path, "origin")


def test_tagger_identity_falls_back_when_git_has_none(clone: Clone, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gittags.publish(clone.path, register_plan("m", clone.head()), remote=None)
    (record,) = gittags.list_tags(clone.path)
    assert (record.tagger, record.tagger_email) == gittags.ACTIONS_IDENTITY


def test_cli_register_assign_show_history(clone: Clone) -> None:
    first = clone.head()
    result = mlgate("registry", "register", "churn", "--push", cwd=clone.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"created tag churn@v0.0.1 at {first[:7]} (pushed to origin)\n"
    second = clone.commit("better model")
    assert mlgate("registry", "register", "churn", "--bump", "minor", cwd=clone.path).returncode == 0
    assert mlgate("registry", "assign", "churn", "production", "HEAD~1", cwd=clone.path).returncode == 0
    assert mlgate("registry", "assign", "churn", "production", "--version", "v0.1.0", cwd=clone.path).returncode == 0
    repeat = mlgate("registry", "assign", "churn", "production", cwd=clone.path)
    assert repeat.stdout == "churn v0.1.0 is already the current version of production: nothing to do\n"
    assert clone.origin_tags() == {"churn@v0.0.1": first}  # only the --push write went to origin

    shown = json.loads(mlgate("registry", "show", "--json", cwd=clone.path).stdout)
    (artifact,) = shown["artifacts"]
    assert (artifact["name"], artifact["latest"], artifact["stages"]) == ("churn", "v0.1.0", {"production": "v0.1.0"})
    assert [(v["version"], v["commit"], v["stages"]) for v in artifact["versions"]] == [
        ("v0.1.0", second, ["production"]),
        ("v0.0.1", first, ["production"]),
    ]
    table = mlgate("registry", "show", cwd=clone.path).stdout.splitlines()
    assert table == ["ARTIFACT  LATEST  production", "churn     v0.1.0  v0.1.0"]
    detail = mlgate("registry", "show", "churn", cwd=clone.path).stdout
    assert f"v0.1.0   {second[:7]}" in detail and "production*" in detail

    events = json.loads(mlgate("registry", "history", "churn", "--json", cwd=clone.path).stdout)
    assert [(e["event"], e["version"], e["stage"], e["tag"]) for e in events] == [
        ("assignment", "v0.1.0", "production", "churn#production#2"),
        ("assignment", "v0.0.1", "production", "churn#production#1"),
        ("registration", "v0.1.0", None, "churn@v0.1.0"),
        ("registration", "v0.0.1", None, "churn@v0.0.1"),
    ]
    timestamps = [e["timestamp"] for e in reversed(events)]
    assert timestamps == sorted(set(timestamps))  # every write dated after the previous one, even within a second
    ascending = mlgate("registry", "history", "--ascending", cwd=clone.path).stdout.splitlines()
    assert ascending[0].split() == ["TIMESTAMP", "ARTIFACT", "EVENT", "VERSION", "STAGE", "COMMIT", "TAG"]
    assert ascending[1].split()[2:] == ["registration", "v0.0.1", "-", first[:7], "churn@v0.0.1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("registry", "show", "nope"), "no artifact 'nope' in the registry (known: none)"),
        (("registry", "register", "bad name!"), "'bad name!' is not a valid artifact name"),
        (("registry", "register", "m", "no-such-ref"), "'no-such-ref' names no commit in this repository"),
        (("registry", "register", "m", "--version", "1.0"), "--version '1.0' is not a semantic version"),
        (("registry", "assign", "m", "prod"), "has no version of 'm': register it first"),
        (("registry", "assign", "m", "bad stage"), "'bad stage' is not a valid stage name"),
        (("registry", "register", "m", "--push", "--remote", "upstream"), "this repository has no remote 'upstream'"),
    ],
)
def test_cli_input_errors_are_one_sentence(clone: Clone, args: tuple[str, ...], message: str) -> None:
    result = mlgate(*args, cwd=clone.path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_cli_outside_a_repository(tmp_path: Path, git_identity: None) -> None:
    result = mlgate("registry", "show", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "mlgate: error: .: is not inside a git repository"
