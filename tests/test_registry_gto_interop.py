"""Interoperability with GTO itself, both ways: tags written by `gto` read by mlgate, and the reverse."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from bench.registry_fixtures import Clone, gto, mlgate

from mlgate.adapters import gittags
from mlgate.registry.plan import plan_rollback

pytestmark = pytest.mark.slow  # about a second per gto call


def next_second() -> None:
    """GTO dates its tags by the clock in whole seconds and orders same-second events by chance: keep them apart."""
    time.sleep(1 - time.time() % 1 + 0.01)


def gto_write(cwd: Path, *args: str) -> None:
    next_second()
    gto(cwd, *args)


def comparable_history(events: list[dict]) -> list[tuple]:
    keys = ("artifact", "event", "version", "stage", "commit")
    return [(*(e[k] for k in keys), e.get("ref") or e["tag"]) for e in events]


def assert_same_view(repo: Path) -> None:
    """`gto show --json` and `gto history --json` agree with `mlgate registry show/history --json`."""
    theirs = json.loads(gto(repo, "show", "--json"))
    ours = json.loads(mlgate("registry", "show", "--json", cwd=repo).stdout)["artifacts"]
    assert {a["name"]: (a["latest"], {k: v for k, v in a["stages"].items()}) for a in ours} == {
        name: (state["version"], {k: v for k, v in state["stage"].items() if v}) for name, state in theirs.items()
    }
    their_history = json.loads(gto(repo, "history", "--json"))
    our_history = json.loads(mlgate("registry", "history", "--json", cwd=repo).stdout)
    assert comparable_history(our_history) == comparable_history(their_history)


def test_mlgate_reads_what_gto_writes(clone: Clone) -> None:
    a = clone.head()
    b = clone.commit("model b")
    c = clone.commit("model c")
    gto_write(clone.path, "register", "churn", a)
    gto_write(clone.path, "register", "churn", b, "--bump-minor")
    gto_write(clone.path, "assign", "churn", "--version", "v0.0.1", "--stage", "prod")
    gto_write(clone.path, "assign", "churn", "--version", "v0.1.0", "--stage", "prod")
    gto_write(clone.path, "assign", "churn", "--version", "v0.0.1", "--stage", "staging")
    gto_write(clone.path, "register", "churn", c)
    gto_write(clone.path, "deprecate", "churn", "v0.1.1")  # deregisters that version
    gto_write(clone.path, "deprecate", "churn", "v0.0.1", "staging")  # unassigns the stage

    registry = gittags.read_registry(clone.path)
    churn = registry.artifact("churn")
    assert churn.latest.version == "v0.1.0"  # v0.1.1 was deregistered
    assert dict(churn.stages) == {"prod": ("v0.1.0", "v0.0.1")}
    assert [e.tag for e in churn.stage_events("staging")] == ["churn#staging#3", "churn#staging!#4"]
    assert [(v.version, v.commit, v.active) for v in churn.versions] == [
        ("v0.1.1", c, False),
        ("v0.1.0", b, True),
        ("v0.0.1", a, True),
    ]
    assert_same_view(clone.path)


def test_gto_reads_what_mlgate_writes(clone: Clone) -> None:
    a = clone.head()
    b = clone.commit("model b")
    c = clone.commit("model c")
    for args in (
        ("register", "churn", a),
        ("register", "churn", b, "--bump", "minor"),
        ("register", "churn", c),
        ("assign", "churn", "prod", a),
        ("assign", "churn", "prod", b),
        ("assign", "churn", "prod", c),
        ("assign", "churn", "staging", c),
        ("register", "models/eu:fraud", a, "--version", "v2.0.0"),
    ):
        result = mlgate("registry", *args, cwd=clone.path)
        assert result.returncode == 0, result.stderr
    assert json.loads(gto(clone.path, "show", "--json"))["churn"] == {
        "version": "v0.1.1",
        "stage": {"prod": "v0.1.1", "staging": "v0.1.1"},
        "registered": True,
        "active": True,
    }
    gittags.publish(clone.path, lambda r: plan_rollback(r, "churn", "prod", now=int(time.time())), remote=None)

    for sort in ("timestamp", "semver"):  # the rolled-back v0.1.1 is out of prod under either of gto's views
        state = json.loads(gto(clone.path, "show", "--json", "--sort", sort))["churn"]
        assert state["stage"]["prod"] == "v0.1.0", sort
    assert gto(clone.path, "show", "models/eu:fraud@latest", "--ref").strip() == "models/eu=fraud@v2.0.0"
    assert_same_view(clone.path)
