"""`mlgate monitor` on a real git repository with a bare origin and the local driver: the deployed version's
reference, each window judged once, late labels, idempotent reruns, and every bad input refused (exit 2,
one sentence, the history untouched)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.example_fixtures import git
from bench.retrain_fixtures import Workspace
from bench.serving_log_fixtures import history_lines, monitor


def _outbox(workspace: Workspace, kind: str) -> list[dict]:
    folder = workspace.path / ".mlgate/outbox" / kind
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def test_windows_are_judged_once_against_the_deployed_version_and_reruns_change_nothing(monitored: Workspace) -> None:
    first = monitor(monitored, 3, "--driver", "local", env={"SLOW": "3"})
    assert first.code == 0, first.err
    records = [json.loads(line) for line in history_lines(monitored)]
    assert [r["window"] for r in records] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    tagged = git(monitored.path, "rev-list", "-n", "1", "small-model@v1.0.0")
    assert records[0]["reference"] | {} == {"model": "small-model", "stage": "production", "version": "v1.0.0",
                                           "commit": tagged, "data": "data/train.csv", "rows": 600}  # fmt: skip
    # HEAD's training data moved by 2; the deployed version's did not, nor did the log: no input drift.
    assert not any(r["drift"]["detected"] for r in records)
    assert [a["name"] for a in records[-1]["alerts"]] == ["latency_p95"]
    assert records[0]["quality"]["labelled_rows"] == 240 and records[2]["quality"] is None
    (issue,) = _outbox(monitored, "issue")
    assert issue["labels"] == ["mlgate:monitor"] and "**Status: 🔴 1 alert** (latency p95)" in issue["body"]
    (comment,) = _outbox(monitored, "comment")
    assert "**started**" in comment["body"] and "latency p95" in comment["body"]
    prom = (monitored.path / ".mlgate/monitoring/metrics.prom").read_text()
    assert 'mlgate_monitor_alert{model="small-model",window="2026-01-03",alert="latency_p95"} 1' in prom

    branch = monitored.origin_ref("refs/heads/mlgate/monitoring")
    again = monitor(monitored, 3, "--driver", "local", env={"SLOW": "3"})
    assert again.code == 0, again.err
    assert monitored.origin_ref("refs/heads/mlgate/monitoring") == branch
    assert _outbox(monitored, "issue")[0]["revision"] == issue["revision"]
    assert len(_outbox(monitored, "comment")) == 1

    # Two days on: the labels of days 2 and 3 arrived (their quality is filled in), days 4 and 5 are new, the
    # slow day ended.
    later = monitor(monitored, 5, "--driver", "local", "--json", env={"SLOW": "3"})
    assert later.code == 0, later.err
    result = json.loads(later.out)
    assert result["evidence"]["judged"] == ["2026-01-04", "2026-01-05"]
    assert result["evidence"]["quality_filled"] == ["2026-01-02", "2026-01-03"]
    assert result["evidence"]["ended"] == ["latency_p95"] and result["verdict"] == "pass"
    records = [json.loads(line) for line in history_lines(monitored)]
    assert len(records) == 5 and records[2]["quality"]["labelled_rows"] == 240
    assert len(_outbox(monitored, "comment")) == 2
    log = git(monitored.origin, "log", "--format=%s", "mlgate/monitoring").splitlines()
    assert len(log) == 2 and log[0].endswith("windows 2026-01-04, 2026-01-05; quality of 2026-01-02, 2026-01-03")


def _refused(workspace: Workspace, day: int, *args: str, env: dict[str, str] | None = None) -> str:
    before = workspace.origin_refs()
    outcome = monitor(workspace, day, "--driver", "local", *args, env=env)
    assert outcome.code == 2, (outcome.out, outcome.err)
    assert "Traceback" not in outcome.err
    assert workspace.origin_refs() == before
    return outcome.err


def test_bad_input_is_refused_and_the_history_stays(monitored: Workspace) -> None:
    assert monitor(monitored, 2, "--driver", "local").code == 0
    kept = history_lines(monitored)

    err = _refused(monitored, 4, "--data-command", "python make_log.py && rm -r production/date=2026-01-03")
    assert "window 2026-01-03 (1d) has no rows in the production log production" in err

    err = _refused(monitored, 3, "--window", "7m")
    assert "monitor.window: '7m' is not a window" in err

    yml = monitored.path / "mlgate.yml"
    text = yml.read_text()
    yml.write_text(text.replace("latency_ms: latency", "latency_ms: response_time"))
    err = _refused(monitored, 3)
    assert "monitor.columns.latency_ms: column 'response_time' is not in the production log production" in err
    yml.write_text(text.replace("latency_ms: latency", "latency: latency"))
    err = _refused(monitored, 3)
    assert "mlgate.yml:12: monitor.columns.latency: unknown key 'latency' (allowed: error, features, label," in err
    features = "columns: {features: [x1, %s], "
    yml.write_text(text.replace("columns: {", features % "x3"))
    err = _refused(monitored, 3)
    assert "monitor.columns.features: column 'x3' is not in the production log production" in err
    yml.write_text(text.replace("columns: {", features % "latency"))  # in the log, never a training column
    err = _refused(monitored, 3)
    assert "monitor.columns.features: feature 'latency' is not a column of data.train" in err
    yml.write_text(text)
    renamed = "python make_log.py && sed -i '1s/x1,x2,colour/a1,a2,hue/' production/date=*/log.csv"
    err = _refused(monitored, 3, "--data-command", renamed)
    assert "no feature of data.train is in the production log: name them (monitor.columns.features)" in err

    swap = (
        "python make_log.py && python -c \"p='production/date=2026-01-03/log.csv'; lines=open(p).read().splitlines();"
        "lines[5], lines[6] = lines[6], lines[5]; open(p, 'w').write(chr(10).join(lines) + chr(10))\""
    )
    err = _refused(monitored, 3, "--data-command", swap)
    assert "production/date=2026-01-03/log.csv: row 6: timestamps go backwards" in err
    garble = "python make_log.py && sed -i 's/^2026-01-03T00:36:00Z/soon/' production/date=2026-01-03/log.csv"
    err = _refused(monitored, 3, "--data-command", garble)
    assert "row 7: timestamp 'soon' in column 'ts' does not parse" in err
    assert history_lines(monitored) == kept


def test_a_rewritten_history_branch_is_refused(monitored: Workspace, tmp_path: Path) -> None:
    assert monitor(monitored, 2, "--driver", "local").code == 0
    clone = tmp_path / "tamper"
    git(tmp_path, "clone", "--quiet", "--branch", "mlgate/monitoring", str(monitored.origin), str(clone))
    history = clone / "history.jsonl"
    history.write_text(history.read_text().replace('"rows":240', '"rows":24', 1))
    git(clone, "commit", "--quiet", "-am", "fewer requests, quietly")
    git(clone, "push", "--quiet", "origin", "mlgate/monitoring")
    err = _refused(monitored, 3)
    assert "history.jsonl on branch mlgate/monitoring of origin line 1 (window 2026-01-01) does not match" in err


def test_a_history_cut_short_is_refused_by_the_tracking_issue(monitored: Workspace, tmp_path: Path) -> None:
    """Dropping the last records keeps every remaining chain hash valid; the issue still names the last one."""
    assert monitor(monitored, 3, "--driver", "local").code == 0
    clone = tmp_path / "cut"
    git(tmp_path, "clone", "--quiet", "--branch", "mlgate/monitoring", str(monitored.origin), str(clone))
    history = clone / "history.jsonl"
    history.write_text("".join(history.read_text().splitlines(keepends=True)[:2]))
    git(clone, "commit", "--quiet", "-am", "the last day never happened")
    git(clone, "push", "--quiet", "origin", "mlgate/monitoring")
    err = _refused(monitored, 4)
    assert "branch mlgate/monitoring of origin holds 2 record(s), but the tracking issue #1 was written from 3" in err
    assert "close the issue to start over" in err
