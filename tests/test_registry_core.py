"""The registry's pure core: GTO's tag grammar, registry state from tags, and the write plans."""

from __future__ import annotations

import pytest

from mlgate.errors import InputError
from mlgate.registry.plan import (
    StageMoved,
    check_stage_unchanged,
    last_stage_tag,
    plan_assign,
    plan_register,
    plan_rollback,
)
from mlgate.registry.semver import SemVer
from mlgate.registry.state import TagRecord, build_registry
from mlgate.registry.tags import Action, TagName, parse_tag_name

SHA = {c: c * 40 for c in "abcdef"}
TAG_NAMES = [
    "m@v1.0.0",
    "m@v1.0.0!",
    "m#prod#3",
    "m#prod!#4",
    "m#prod",
    "m@deprecated",
    "m@deprecated#2",
    "m@v1.0.0#5",
    "dir/sub=m@v1.2.3-rc.1+build.7",
    "churn-model#staging-eu#12",
    "M_x@v0.0.1",
    "m@created",
    "m@v01.0.0",
    "m@1.0.0",
    "m-@v1.0.0",
    "a=b=c@v1.0.0",
    "v1.2.0",
    "release/2024",
    "m#prod#",
    "m@v1.0",
]


@pytest.mark.parametrize("name", TAG_NAMES)
def test_tag_grammar_is_gtos(name: str) -> None:
    from gto.tag import parse_name

    theirs = parse_name(name, raise_on_fail=False)
    ours = parse_tag_name(name)
    if ours is None:
        # GTO parses `@created` but cannot index it (no action): it is no event for either tool
        assert not theirs or "action" not in theirs
        return
    assert theirs["name"] == ours.artifact
    assert (
        theirs["action"].value
        == {
            Action.REGISTER: "register",
            Action.DEREGISTER: "deregister",
            Action.ASSIGN: "assign",
            Action.UNASSIGN: "unassign",
            Action.DEPRECATE: "deprecate",
        }[ours.action]
    )
    assert theirs.get("version") == ours.version
    assert theirs.get("stage") == ours.stage
    assert theirs.get("counter") == ours.counter
    assert str(ours) == name  # formatting is the inverse of parsing


def test_directory_artifacts_use_colon_in_names_and_equals_in_tags() -> None:
    tag = TagName("models/x:churn", Action.ASSIGN, stage="prod", counter=7)
    assert str(tag) == "models/x=churn#prod#7"
    assert parse_tag_name(str(tag)) == tag


def test_semver_precedence() -> None:
    ordered = ["v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0"]
    parsed = [SemVer.parse(v) for v in ordered]
    assert parsed == sorted(parsed, key=lambda v: v)
    assert SemVer.parse("v1.0.0+build.1") == SemVer.parse("v1.0.0")  # build metadata has no precedence
    assert SemVer.parse("v2.0.0") > SemVer.parse("v1.99.99")
    assert SemVer.parse("1.0.0") is None
    assert str(SemVer.parse("v1.2.3-rc.1").bump("patch")) == "v1.2.4"
    assert str(SemVer(1, 2, 3).bump("minor")) == "v1.3.0"
    assert str(SemVer(1, 2, 3).bump("major")) == "v2.0.0"
    with pytest.raises(InputError, match=r"'1\.0' is not a semantic version"):
        SemVer.require("1.0")


def tag(name: str, commit: str, t: int, *, annotated: bool = True) -> TagRecord:
    return TagRecord(name, SHA[commit], annotated, t, "Ada", "ada@example.com", f"message of {name}\n")


def test_state_latest_stages_and_history() -> None:
    registry = build_registry(
        [
            tag("m@v0.0.1", "a", 100),
            tag("m@v0.1.0", "b", 110),
            tag("m@v0.0.2", "c", 120),  # registered later, but v0.1.0 stays the highest
            tag("m#prod#1", "a", 101),
            tag("m#prod#2", "b", 111),
            tag("m#staging#3", "c", 121),
            tag("other@v1.0.0", "d", 50),
            tag("v1.0.0", "d", 50),  # a release tag, not a registry event
        ]
    )
    m = registry.artifact("m")
    assert m.latest.version == "v0.1.0"
    assert [v.version for v in m.versions] == ["v0.1.0", "v0.0.2", "v0.0.1"]
    assert dict(m.stages) == {"prod": ("v0.1.0", "v0.0.1"), "staging": ("v0.0.2",)}
    assert m.current("prod") == "v0.1.0"
    assert m.version("v0.0.1").stages == ("prod",)
    assert m.max_counter == 3
    assert [e.tag for e in registry.history("m")] == [
        "m@v0.0.1",
        "m#prod#1",
        "m@v0.1.0",
        "m#prod#2",
        "m@v0.0.2",
        "m#staging#3",
    ]
    assert registry.history()[0].tag == "other@v1.0.0"
    event = registry.history("m")[1]
    assert (event.action, event.version, event.stage, event.commit) == (Action.ASSIGN, "v0.0.1", "prod", SHA["a"])
    assert event.message == "message of m#prod#1"


def test_same_second_events_follow_gto_priority_then_counter() -> None:
    registry = build_registry(
        [tag("m#prod#2", "a", 100), tag("m@v0.0.1", "a", 100), tag("m#prod!#3", "a", 100), tag("m#dev#1", "a", 100)]
    )
    assert [e.tag for e in registry.history()] == ["m@v0.0.1", "m#dev#1", "m#prod#2", "m#prod!#3"]
    assert dict(registry.artifact("m").stages) == {"dev": ("v0.0.1",)}


def test_unassign_deregister_and_deprecate() -> None:
    registry = build_registry(
        [
            tag("m@v0.0.1", "a", 100),
            tag("m@v0.0.2", "b", 101),
            tag("m#prod#1", "a", 102),
            tag("m#prod#2", "b", 103),
            tag("m#prod!#3", "b", 104),  # v0.0.2 leaves prod: v0.0.1 is current again
        ]
    )
    assert registry.artifact("m").current("prod") == "v0.0.1"
    registry = build_registry(
        [
            tag("m@v0.0.1", "a", 100),
            tag("m@v0.0.2", "b", 101),
            tag("m#prod#1", "a", 102),
            tag("m#prod#2", "b", 103),
            tag("m@v0.0.2!", "b", 104),  # deregistered: no longer latest, and out of every stage
        ]
    )
    m = registry.artifact("m")
    assert m.latest.version == "v0.0.1"
    assert not m.version("v0.0.2").active
    assert m.current("prod") == "v0.0.1"
    assert not m.deprecated
    assert build_registry([tag("m@v0.0.1", "a", 100), tag("m@deprecated", "a", 101)]).artifact("m").deprecated


def test_lightweight_tags_are_no_events_but_count_for_the_counter() -> None:
    registry = build_registry(
        [tag("m@v0.0.1", "a", 100), tag("m#prod#9", "a", 0, annotated=False), tag("n#prod#4", "a", 0, annotated=False)]
    )
    assert registry.artifact("m").stages == {}
    assert registry.artifact("m").max_counter == 9
    assert "n" not in registry.artifacts
    assert registry.artifact("n").max_counter == 4


def test_stage_tag_on_an_unregistered_commit_names_the_version_by_commit() -> None:
    m = build_registry([tag("m#prod#1", "e", 100)]).artifact("m")
    assert m.current("prod") == SHA["e"]
    assert m.latest is None
    assert not m.version(SHA["e"]).registered


def test_ambiguous_registry_is_one_clear_error() -> None:
    registry_tags = [tag("m@v0.0.1", "a", 100), tag("m@v0.0.2", "a", 101), tag("m#prod#1", "a", 102)]
    with pytest.raises(InputError, match=r"commit aaaaaaa carries several versions of 'm' \(v0.0.1, v0.0.2\)"):
        build_registry(registry_tags)
    with pytest.raises(InputError, match=r"version v0\.0\.1 of 'm' is tagged on two commits"):
        build_registry([tag("m@v0.0.1", "a", 100), tag("m@v0.0.1#4", "b", 101)])


def test_register_bumps_reuses_and_refuses() -> None:
    empty = build_registry([])
    first = plan_register(empty, "m", SHA["a"], now=1000)
    assert first.version == "v0.0.1"
    assert [(t.name, t.commit, t.timestamp) for t in first.tags] == [("m@v0.0.1", SHA["a"], 1000)]
    assert plan_register(empty, "m", SHA["a"], now=1000, bump="minor").version == "v0.1.0"
    assert plan_register(empty, "m", SHA["a"], now=1000, bump="major").version == "v1.0.0"

    registry = build_registry([tag("m@v0.3.0", "a", 100), tag("m@v0.4.0", "b", 2000), tag("m@v0.4.0!", "b", 2001)])
    bumped = plan_register(registry, "m", SHA["c"], now=1000)
    # past the deregistered v0.4.0 (its tag exists); dated after the last event although the clock says 1000
    assert (bumped.version, bumped.tags[0].timestamp) == ("v0.4.1", 2002)
    again = plan_register(registry, "m", SHA["a"], now=3000)
    assert (again.version, again.tags) == ("v0.3.0", ())
    assert plan_register(registry, "m", SHA["c"], now=3000, version="v2.0.0").tags[0].name == "m@v2.0.0"
    with pytest.raises(InputError, match=r"commit aaaaaaa is already registered as v0\.3\.0 of 'm', not v9\.0\.0"):
        plan_register(registry, "m", SHA["a"], now=3000, version="v9.0.0")
    with pytest.raises(InputError, match=r"version v0\.3\.0 of 'm' already exists"):
        plan_register(registry, "m", SHA["c"], now=3000, version="v0.3.0")
    with pytest.raises(InputError, match=r"was deregistered"):
        plan_register(registry, "m", SHA["b"], now=3000)
    with pytest.raises(InputError, match=r"not a semantic version"):
        plan_register(registry, "m", SHA["c"], now=3000, version="0.5")


def test_assign_is_idempotent_and_counts_past_every_tag() -> None:
    registry = build_registry([tag("m@v0.0.1", "a", 100), tag("m@v0.0.2", "b", 101), tag("m#prod#6", "a", 102)])
    change = plan_assign(registry, "m", "v0.0.2", "prod", now=50)
    assert (change.replaced, [t.name for t in change.tags], change.tags[0].commit) == (
        "v0.0.1",
        ["m#prod#7"],
        SHA["b"],
    )
    assert plan_assign(registry, "m", "v0.0.1", "prod", now=50).tags == ()
    with pytest.raises(InputError, match=r"version v0\.0\.9 of 'm' is not registered"):
        plan_assign(registry, "m", "v0.0.9", "prod", now=50)


def test_rollback_reassigns_the_previous_version_and_unassigns_the_current() -> None:
    history = [
        tag("m@v0.0.1", "a", 100),
        tag("m@v0.0.2", "b", 101),
        tag("m@v0.0.3", "c", 102),
        tag("m#prod#1", "a", 103),
        tag("m#prod#2", "b", 104),
        tag("m#prod#3", "c", 105),
    ]
    first = plan_rollback(build_registry(history), "m", "prod", now=0)
    assert (first.replaced, first.version) == ("v0.0.3", "v0.0.2")
    assert [(t.name, t.commit) for t in first.tags] == [("m#prod#4", SHA["b"]), ("m#prod!#5", SHA["c"])]
    history += [TagRecord(t.name, t.commit, True, t.timestamp, "Ada", "a@b", t.message) for t in first.tags]
    after = build_registry(history)
    assert after.artifact("m").current("prod") == "v0.0.2"
    second = plan_rollback(after, "m", "prod", now=0)  # goes further back, not to the rolled-back v0.0.3
    assert (second.replaced, second.version) == ("v0.0.2", "v0.0.1")

    with pytest.raises(InputError, match=r"no version of 'm' is in stage 'staging'"):
        plan_rollback(after, "m", "staging", now=0)
    with pytest.raises(InputError, match=r"v0\.0\.1 is the only version of 'm' stage 'prod' has held"):
        plan_rollback(build_registry(history[:1] + history[3:4]), "m", "prod", now=0)


def test_concurrent_stage_change_is_detected() -> None:
    before = build_registry([tag("m@v0.0.1", "a", 100), tag("m@v0.0.2", "b", 101), tag("m#prod#1", "a", 102)])
    seen = last_stage_tag(before, "m", "prod")
    assert seen == "m#prod#1"
    assert check_stage_unchanged(before, "m", "prod", seen, "v0.0.2")
    assert last_stage_tag(build_registry([]), "m", "prod") is None
    raced_to_ours = build_registry(
        [tag("m@v0.0.1", "a", 100), tag("m@v0.0.2", "b", 101), tag("m#prod#1", "a", 102), tag("m#prod#2", "b", 103)]
    )
    assert not check_stage_unchanged(raced_to_ours, "m", "prod", seen, "v0.0.2")  # someone did our work
    with pytest.raises(StageMoved, match=r"stage 'prod' of 'm' changed while this deploy ran \(m#prod#2 made v0.0.2"):
        check_stage_unchanged(raced_to_ours, "m", "prod", seen, "v0.0.3")
