"""Bad inputs that used to give a silently wrong compare result (issue #17): each is now refused with one
sentence naming the file and the key or column, or, where the input is valid, read the way it was meant.

The base repository is tests/bad_inputs/test_compare_inputs.py's: it compares cleanly against its own
commit; each case changes the workspace (the head) or the event payload.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from bad_inputs.test_compare_inputs import (
    BASE,
    COMPARE,
    CONFIG,
    PREDICTIONS,
    ROWS,
    assert_recorded_as_error,
    commit_base,
)
from bench.faults_fixtures import BadInput, Content, bad_input_params, check_bad_input, materialize, run_cli


def parquet_of(columns: dict[str, object]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def nested_predictions() -> bytes:
    """y_true a struct and y_pred a list per row: the shape that once gave McNemar 48 vs 0 discordant rows."""
    return parquet_of(
        {
            "row_id": [i for i, *_ in ROWS],
            "y_true": [{"label": t} for _, t, *_ in ROWS],
            "y_pred": [[p] for _, _, p, _ in ROWS],
        }
    )


def parquet_config(content: bytes, culprit: str) -> BadInput:
    files: dict[str, Content] = {
        "mlgate.yml": CONFIG.replace("eval/predictions.csv", "eval/predictions.parquet"),
        "eval/predictions.parquet": content,
    }
    return BadInput("parquet-" + culprit.replace("'", ""), files, COMPARE, culprit)


YES_NO = PREDICTIONS.replace(",0,", ",no,").replace(",1,", ",yes,")
CASES = [
    BadInput(
        "flattened-keys-collide",
        {"metrics.json": json.dumps({"accuracy": 0.9, "eval": {"acc": 0.50}, "eval.acc": 0.95})},
        COMPARE,
        ("metrics.json", "'eval.acc'", "'eval' > 'acc'"),
    ),
    BadInput(
        "score-above-one",
        {"eval/predictions.csv": PREDICTIONS.replace(",0.82\n", ",1.7\n", 1)},
        COMPARE,
        ("predictions.csv", "'y_score'", "1.7", "[0, 1]"),
    ),
    BadInput(
        "score-below-zero",
        {"eval/predictions.csv": PREDICTIONS.replace(",0.82\n", ",-0.4\n", 1)},
        COMPARE,
        ("predictions.csv", "'y_score'", "-0.4"),
    ),
    parquet_config(nested_predictions(), "'y_true'"),
    parquet_config(
        parquet_of({"y_true": [t for _, t, *_ in ROWS], "y_pred": [[p] for _, _, p, _ in ROWS]}), "'y_pred'"
    ),
    parquet_config(parquet_of({"y_true": [t for _, t, *_ in ROWS], "y_score": [[s] for *_, s in ROWS]}), "'y_score'"),
    BadInput(
        "labels-0-1-at-base-no-yes-at-head",
        {"eval/predictions.csv": YES_NO},
        COMPARE,
        ("predictions.csv", "'y_true'", "numbers at base", "text at head"),
    ),
]


@pytest.mark.parametrize("case", bad_input_params(CASES, "compare"))
def test_refused_instead_of_a_wrong_verdict(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE, setup=commit_base, ignore=(".git",))
    assert_recorded_as_error(tmp_path / "workspace")


COLON_CONFIG = CONFIG.replace("accuracy: {direction", "'val:accuracy': {direction")


@pytest.mark.parametrize("name", ["val:accuracy", "metrics.json:val:accuracy"])
def test_a_metric_named_with_a_colon_is_a_key(name: str, tmp_path: Path) -> None:
    """`val:accuracy` is the key of that name when a metrics file has it; `file:key` only otherwise."""
    materialize(
        tmp_path,
        {
            **BASE,
            # No predictions: the tolerance alone decides, so the drop below fails the rule.
            "mlgate.yml": CONFIG.replace("accuracy: {direction", f"'{name}': {{direction").replace(
                "  predictions: eval/predictions.csv\n", ""
            ),
            "metrics.json": json.dumps({"val:accuracy": 0.9}),
        },
    )
    commit_base(tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps({"val:accuracy": 0.2}), encoding="utf-8")
    done = run_cli(*COMPARE, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # 0.9 -> 0.2 is past max_drop 0.5: found and judged
    rule = json.loads((tmp_path / ".mlgate/results/compare.json").read_text())["evidence"]["rules"][0]
    assert (rule["file"], rule["key"], rule["base"], rule["head"]) == ("metrics.json", "val:accuracy", 0.9, 0.2)


def test_a_colon_name_found_nowhere_is_reported_missing(tmp_path: Path) -> None:
    materialize(tmp_path, {**BASE, "mlgate.yml": COLON_CONFIG})
    commit_base(tmp_path)
    done = run_cli(*COMPARE, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "val:accuracy" in done.stdout and "missing" in done.stdout


EVENT_ENV = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": "{workspace}/event.json"}


def test_a_pull_request_without_its_base_compares_nothing_and_says_so(tmp_path: Path) -> None:
    """An event of only {number: 3}: the merge-base fallback is the head commit itself. A pull request gate
    that compared a commit with itself must not pass: exit 2, and the verdict line says why."""
    case = BadInput(
        "pr-event-without-base",
        {"event.json": json.dumps({"number": 3})},
        ("compare",),
        ("no change to compare", "pull_request.base.sha"),
        env=EVENT_ENV,
    )
    check_bad_input(case, tmp_path, BASE, setup=commit_base, ignore=(".git",))
    written = json.loads((tmp_path / "workspace/.mlgate/results/compare.json").read_text(encoding="utf-8"))
    assert written["verdict"] == "error" and written["summary"].startswith("no change to compare")


def test_outside_a_pull_request_base_equal_to_head_warns(tmp_path: Path) -> None:
    """A push run on main: the merge-base with main is HEAD. The comparison still runs (the workspace may hold
    a retrained model), but the verdict is `warn` and its line says the base is the head commit."""
    materialize(tmp_path, BASE)
    commit_base(tmp_path)
    done = run_cli("compare", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    verdict_line = done.stdout.splitlines()[0]
    assert verdict_line.startswith("compare: warn: no change to compare"), done.stdout
    written = json.loads((tmp_path / ".mlgate/results/compare.json").read_text(encoding="utf-8"))
    assert written["verdict"] == "warn" and written["evidence"]["base_is_head"] is True
