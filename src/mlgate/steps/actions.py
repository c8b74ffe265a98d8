"""The one place where step results become GitHub Actions' workflow commands: annotations, step outputs
(`$GITHUB_OUTPUT`) and job-summary lines (`$GITHUB_STEP_SUMMARY`). Outside Actions only the annotations show,
as stderr lines. The error that stopped a step is annotated by the command line's error handler, once.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlgate import gha
from mlgate.results import StepResult, result_path


def outputs(result: StepResult, results_dir: Path) -> dict[str, str]:
    """The step outputs of the action that runs this step (action.yml `outputs:`)."""
    evidence = result.evidence
    found: dict[str, str] = {}
    if result.step == "report":
        return {
            key: str(evidence[key] or "") for key in ("report", "verdict", "artifact", "comment-url") if key in evidence
        }
    if result.step == "deploy":
        if evidence.get("version"):
            found["version"] = str(evidence["version"])
        if evidence.get("deployment_id") is not None:
            found["deployment-id"] = str(evidence["deployment_id"])
        return found
    if result.step == "chatops":
        return {key: str(evidence.get(key) or "") for key in ("command", "environment", "outcome")}
    if result.verdict == "error" and result.step != "retrain":
        return found  # the error itself is what the job shows (an annotation, exit 2)
    if result.step == "validation":
        found["passed"] = "false" if result.verdict == "fail" else "true"
    elif result.step == "train":
        # train.json's own metrics (strict JSON: NaN became null), so the output and the file always agree
        written = json.loads(result_path(results_dir, "train").read_text(encoding="utf-8"))
        found["metrics"] = json.dumps(written["evidence"]["metrics"], sort_keys=True)
    elif result.step == "compare":
        found["gate"] = result.verdict
    elif result.step == "monitor":
        found["alerts"] = ",".join(alert["name"] for alert in evidence.get("alerts", ()))
        found["issue-url"] = str((evidence.get("issue") or {}).get("url") or "")
    elif result.step == "retrain":
        pull = evidence.get("pull")
        found["drifted"] = "true" if evidence.get("drifted") else "false"
        found["pr-url"] = str(pull.get("url") or "") if isinstance(pull, dict) else ""
    found["results"] = str(result_path(results_dir, result.step))
    return found


def summary(result: StepResult) -> str | None:
    """The step's lines in the job summary (report and retrain write theirs through their driver)."""
    if result.step == "validation" and result.verdict != "error":
        return f"### mlgate validate: {result.verdict}: {result.summary}\n"
    if result.step == "deploy" and "environment" in result.evidence:  # it got as far as choosing a target
        return f"### mlgate deploy: {result.verdict}\n\n{result.summary}\n"
    return None


def publish(result: StepResult, results_dir: Path) -> None:
    for note in result.notes:
        gha.annotate(note.level, note.message, file=note.file, line=note.line, title=note.title)
    for name, value in outputs(result, results_dir).items():
        gha.set_output(name, value)
    markdown = summary(result)
    if markdown:
        gha.append_summary(markdown)
