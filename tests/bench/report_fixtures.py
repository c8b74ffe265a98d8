"""Results bundles for report tests, shaped like what validate, train and compare write, and checks of what
GitHub will show: its Markdown engine (cmarkgfm, GFM extensions) and the `mermaid` parser under node."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mlgate.results import StepResult, write_result

ROOT = Path(__file__).resolve().parents[2]
MERMAID_TOOL = ROOT / "tests" / "tools" / "mermaid_parse.mjs"
BASE_SHA = "1" * 40
HEAD_SHA = "2" * 40
_MERMAID_BLOCK = re.compile(r"^(`{3,})mermaid\n(.*?)^\1$", re.MULTILINE | re.DOTALL)


def validation_result(*, verdict: str = "warn", failed: int = 2, label: str | None = None) -> StepResult:
    """validation.json as `mlgate validate` writes it; `failed` findings of severity warn (or fail)."""
    severity = "fail" if verdict == "fail" else "warn"
    findings: list[dict[str, Any]] = [
        {"check": "schema", "severity": "pass", "message": "all 31 columns as the schema says", "dataset": "train"},
    ]
    for i in range(failed):
        pii = i % 2 == 1
        findings.append(
            {
                "check": "pii" if pii else "nulls",
                "severity": severity,
                "message": f"{3 + i} e-mail addresses, e.g. j***@example.com" if pii else f"{12 + i}% missing",
                "dataset": "train",
                "column": f"col_{i}",
                "numbers": {"count": 3 + i} if pii else {"fraction": (12 + i) / 100},
                "file": "mlgate.yml",
                "line": 7 + i % 3,
            }
        )
    drift_columns = [
        ("mean radius", "numeric", "ks", 0.21, 0.0004, True),
        ("mean texture", "numeric", "ks", 0.04, 0.61, False),
        ("target", "categorical", "chi2", 1.3, 0.25, False),
    ]
    drift = [
        {
            "column": c,
            "kind": k,
            "method": m,
            "statistic": st,
            "p_value": p,
            "threshold": 0.05,
            "verdict": "drift" if d else "ok",
            "note": "",
        }
        for c, k, m, st, p, d in drift_columns
    ]
    return StepResult(
        step="validation",
        verdict=verdict,
        summary="nulls, pii (455 train rows, 114 test rows, 31 columns)"
        if failed
        else "all checks passed (455 train rows, 114 test rows, 31 columns)",
        commits={"head": HEAD_SHA},
        evidence={
            "label": "target",
            "inputs": {
                "train": {"path": "data/train.csv", "format": "csv", "rows": 455, "columns": 31},
                "test": {"path": "data/test.csv", "format": "csv", "rows": 114, "columns": 31},
            },
            "checks": {"schema": "pass", **({"nulls": severity, "pii": severity} if failed else {})},
            "findings": findings,
            "drift": {
                "method": "auto",
                "threshold": None,
                "columns": drift,
                "drifted_columns": 1,
                "drifted_share": 1 / 3,
                "max_drifted_share": 0.5,
                "sample": None,
            },
        },
        label=label,
    )


def train_result(*, verdict: str = "pass", label: str | None = None) -> StepResult:
    return StepResult(
        step="train",
        verdict=verdict,
        summary="training finished in 12.3 s" if verdict == "pass" else "training command exited with 1",
        commits={"head": HEAD_SHA},
        evidence={
            "command": "dvc repro",
            "exit_code": 0 if verdict == "pass" else 1,
            "wall_seconds": 12.3,
            "cpu_seconds": 20.1,
            "peak_rss_bytes": 300 * 1024 * 1024,
            "gpu": None,
            "metrics": {"accuracy": 0.9561, "roc_auc": 0.991, "latency": {"p50_ms": 3.2}},
            "params": {"train": {"n_estimators": 200, "max_depth": 8}},
            "data_versions": {"data/train.csv": "3f2a9c0e8d7b6a5f4e3d2c1b0a9f8e7d"},
            "log_tail": ["Traceback (most recent call last):", "  ...", "ValueError: boom"]
            if verdict != "pass"
            else [],
        },
        label=label,
    )


def _rule(metric: str, base: float, head: float, **fields: Any) -> dict[str, Any]:
    """One entry of compare's `rules`, as compare.policy.RuleResult.to_dict() writes it."""
    return {
        "metric": metric,
        "file": "metrics.json",
        "key": metric,
        "direction": "higher",
        "base": base,
        "head": head,
        "delta": head - base,
        "tolerance": None,
        "allowed_worsening": None,
        "min": None,
        "max": None,
        "required": True,
        "require_significance": True,
        "status": "improved",
        "outcome": "pass",
        "reason": f"{metric} {base:.6g} → {head:.6g}",
        "significance": None,
    } | fields


def compare_result(*, verdict: str = "fail", label: str | None = None, history: bool = True) -> StepResult:
    """compare.json as `mlgate compare` writes it: gate rules with significance, the metrics/params/data
    diffs (`dvc metrics diff` shape), and the base branch's metric history."""
    accuracy_status = "regressed" if verdict == "fail" else "within noise"
    rules = [
        _rule(
            "accuracy",
            0.9649,
            0.9386,
            tolerance="0.005",
            allowed_worsening=0.005,
            min=0.9,
            status=accuracy_status,
            outcome="fail" if verdict == "fail" else "pass",
            reason="accuracy 0.9649 → 0.9386 (-0.0263; allowed worsening 0.005); significant: "
            "McNemar exact p=0.004, 95% CI [-0.045, -0.009]",
            significance={
                "metric": "accuracy",
                "paired": True,
                "n_base": 114,
                "n_head": 114,
                "base": 0.9649,
                "head": 0.9386,
                "delta": -0.0263,
                "ci_low": -0.045,
                "ci_high": -0.009,
                "confidence": 0.95,
                "p_value": 0.004,
                "test": "McNemar exact",
                "alpha": 0.05,
                "resamples": 2000,
                "significant": True,
            },
        ),
        _rule(
            "roc_auc",
            0.991,
            0.9915,
            tolerance="1%",
            significance={
                "ci_low": -0.002,
                "ci_high": 0.003,
                "confidence": 0.95,
                "p_value": 0.61,
                "test": "paired bootstrap",
            },
        ),
        _rule(
            "latency.p50_ms",
            3.1,
            3.4,
            direction="lower",
            tolerance="2%",
            required=False,
            status="regressed",
            outcome="warn",
            reason="latency.p50_ms 3.1 → 3.4 (+0.3; allowed worsening 0.062); no predictions to test (advisory rule)",
        ),
    ]
    diffs = [
        {"file": "metrics.json", "key": key, "old": old, "new": new, "changed": old != new}
        | ({"diff": new - old} if isinstance(old, float) and isinstance(new, float) else {})
        for key, old, new in [
            ("accuracy", 0.9649, 0.9386),
            ("f1", 0.97, 0.95),
            ("latency.p50_ms", 3.1, 3.4),
            ("roc_auc", 0.991, 0.9915),
            ("n_rows", 455, 455),
        ]
    ]
    evidence: dict[str, Any] = {
        "base_source": "event",
        "baseline": True,
        "head_is_workspace": True,
        "rules": rules,
        "metrics": diffs,
        "params": [{"file": "params.yaml", "key": "train.n_estimators", "old": 100, "new": 200, "changed": True}],
        "data_versions": [
            {"path": "data/train.csv", "old": "aa11", "new": "bb22", "status": "modified"},
            {"path": "data/test.csv", "old": "cc33", "new": "cc33", "status": "unchanged"},
        ],
        "history": [
            {
                "sha": f"{i:x}" * 40,
                "date": f"2025-01-0{i}T00:00:00Z",
                "subject": f"commit {i}",
                "values": {"accuracy": 0.95 + i / 1000, "roc_auc": 0.99, "latency.p50_ms": None},
            }
            for i in range(1, 6)
        ]
        if history
        else [],
    }
    return StepResult(
        step="compare",
        verdict=verdict,
        summary=f"{verdict}: accuracy 0.9649 → 0.9386" if verdict == "fail" else "all 3 gate rules passed",
        commits={"base": BASE_SHA, "head": HEAD_SHA},
        evidence=evidence,
        label=label,
    )


def bundle(verdict: str = "fail") -> list[StepResult]:
    """A full PR bundle whose overall verdict is `verdict` (pass, warn or fail)."""
    validation = validation_result(
        verdict="pass" if verdict == "pass" else "warn", failed=0 if verdict == "pass" else 2
    )
    compare = compare_result(verdict="fail" if verdict == "fail" else "pass")
    return [validation, train_result(), compare]


def write_bundle(directory: Path, results: Sequence[StepResult]) -> Path:
    for result in results:
        write_result(directory, result)
    return directory


def gfm_html(markdown: str) -> str:
    """HTML as GitHub renders a comment: cmark-gfm with its extensions (tables, autolinks, strikethrough...)."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def mermaid_blocks(markdown: str) -> list[str]:
    return [match.group(2) for match in _MERMAID_BLOCK.finditer(markdown)]


def parse_mermaid(diagrams: Sequence[str]) -> list[dict[str, Any]]:
    """Each diagram parsed by the real `mermaid` package (node + jsdom); one {ok, type|error} per diagram."""
    if not (ROOT / "node_modules" / "mermaid").is_dir():
        pytest.fail("node_modules/mermaid is missing: run `make install`")
    done = subprocess.run(
        ["node", str(MERMAID_TOOL)],
        input=json.dumps(list(diagrams)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if done.returncode not in (0, 1) or not done.stdout:
        pytest.fail(f"mermaid parser crashed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def run_mlgate(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, with none of the caller's GITHUB_*/MLGATE_* variables leaking in."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_", "RUNNER_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def actions_env(root: Path, **extra: str) -> dict[str, str]:
    """What a GitHub Actions step sees: the runner's files, for a pull_request run of workflow CI."""
    for name in ("output", "summary", "env", "path"):
        (root / f"gh_{name}").touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(root / "gh_output"),
        "GITHUB_STEP_SUMMARY": str(root / "gh_summary"),
        "GITHUB_ENV": str(root / "gh_env"),
        "GITHUB_PATH": str(root / "gh_path"),
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_RUN_ID": "42",
        **extra,
    }


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT, single-line and heredoc entries."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        index += 1
    return outputs
