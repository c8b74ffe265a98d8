"""The pull-request pipeline as a composition of steps: validate → train → tests → serving → compare → report.

Every step runs even when an earlier one failed its checks or errored, so the report shows all the evidence
(an errored step as verdict `error` with its message); the report is always posted, and only then does the
overall verdict decide the exit code. What the root action runs (`mlgate pr`), callable from Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mlgate import gha, steps
from mlgate.errors import EXIT_USAGE
from mlgate.fsutil import write_error
from mlgate.results import STEPS, StepResult, result_path
from mlgate.steps.base import Project

Show = Callable[[StepResult | str], None]


@dataclass(frozen=True)
class PrInputs:
    base: str | None = None  # the commit to compare with; default: the PR's base, else the merge-base
    skip_validate: bool = False
    skip_train: bool = False  # compare what the workspace holds
    report: steps.report.Inputs = field(default_factory=steps.report.Inputs)
    fail_on: str = "fail"  # fail | warn | never: the overall verdict that exits 1


@dataclass(frozen=True)
class PipelineResult:
    results: tuple[StepResult, ...]  # in the order they ran, the report's last
    exit_code: int  # 0 pass or warn, 1 gate failed, 2 a step errored (or the report could not be posted)

    @property
    def error(self) -> Exception | None:
        """What stops the run with exit 2: the report's failure to post first, else the first errored step's."""
        errors = [result.error for result in (self.results[-1], *self.results[:-1]) if result.error is not None]
        return errors[0] if errors else None


def _clear_previous_results(project: Project) -> None:
    """A re-run must not report a stale step that this run skipped."""
    for step in STEPS:
        path = result_path(project.results_dir, step)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # before any step runs: a results folder that is a file, a result that is a folder
            raise write_error(exc, path, "results file") from None


def pr(inputs: PrInputs, project: Project, show: Show = lambda shown: None) -> PipelineResult:
    """Run the PR pipeline; `show` gets each skip notice and each step's result as soon as it is known."""
    _clear_previous_results(project)
    planned: list[tuple[str, Callable[[], StepResult]]] = []
    if inputs.skip_validate:
        show("validate: skipped (--skip-validate)")
    elif project.config.data.train is None:
        show("validate: skipped (no data.train in mlgate.yml)")
    else:
        planned.append(("validate", lambda: steps.validate.run(steps.validate.Inputs(), project)))
    if inputs.skip_train:
        show("train: skipped (--skip-train)")
    else:
        planned.append(("train", lambda: steps.train.run(steps.train.Inputs(base=inputs.base), project)))
    planned.append(("tests", lambda: steps.tests.run(steps.tests.Inputs(), project)))
    if project.config.serving.enabled:
        planned.append(("serving", lambda: steps.serving.run(steps.serving.Inputs(base=inputs.base), project)))
    planned.append(("compare", lambda: steps.compare.run(steps.compare.Inputs(base=inputs.base), project)))
    planned.append(("report", lambda: steps.report.run(inputs.report, project)))

    results = []
    for title, run in planned:
        with gha.group(f"mlgate {title}"):
            result = run()
        show(result)
        results.append(result)
    outcome = PipelineResult(tuple(results), steps.report.exit_code(results[-1].verdict, inputs.fail_on))
    return PipelineResult(outcome.results, EXIT_USAGE) if outcome.error is not None else outcome
