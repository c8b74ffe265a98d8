"""Names that become file names (report name, check name, matrix labels, the PR number) never lead a write
out of the outbox: whatever they hold, every file a local report writes lands under .mlgate/, and nothing
appears anywhere else, even when the name climbs (`../`), is absolute, or carries separators and NULs."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.faults_fixtures import run_cli, tree_digest
from bench.report_fixtures import HEAD_SHA, write_bundle

from mlgate.results import StepResult

HOSTILE = ["../../../escaped", "/tmp/absolute-escape", "..", "a/../../b\\..\\c", "x\x01y", "…/../ü"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_the_outbox(tmp_path: Path, name: str) -> None:
    root = tmp_path / "root"
    workspace = root / "a" / "b" / "workspace"
    write_bundle(workspace / "results", [StepResult("compare", "pass", "ok", {"head": HEAD_SHA}, {}, label=name)])
    sibling = root / "a" / "sibling.txt"
    sibling.write_text("untouched", encoding="utf-8")
    before_outside = tree_digest(root, exclude=["workspace"])
    done = run_cli(
        "report", "results", "--driver", "local", "--pr", "9", "--name", name, "--check-name", name, cwd=workspace
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    written = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*") if p.is_file())
    assert all(p.startswith(("results/", ".mlgate/")) for p in written), written
    outbox = [p for p in written if p.startswith(".mlgate/outbox/")]
    assert all(len(Path(p).parts) == 4 for p in outbox), outbox  # .mlgate/outbox/<kind>/<file>
    assert tree_digest(root, exclude=["workspace"]) == before_outside
    assert not Path("/tmp/absolute-escape.json").exists()
