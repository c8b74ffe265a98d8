"""The pipeline's steps as a Python API: `steps.<step>.run(inputs, project) -> StepResult`.

    from mlgate import steps
    from mlgate.steps.base import Project

    project = Project.load("mlgate.yml")
    result = steps.compare.run(steps.compare.Inputs(base="main"), project)
    print(result.verdict, result.summary)

Every step writes its result to the bundle (`project.results_dir`) and returns it; a step that stops on bad
input returns verdict `error` with the message (and the exception in `result.error`) instead of raising.
Heavy libraries are imported only when a step runs.
"""

from mlgate.steps import chatops, compare, deploy, report, retrain, serving, tests, train, validate
from mlgate.steps.base import Project

__all__ = ["Project", "chatops", "compare", "deploy", "report", "retrain", "serving", "tests", "train", "validate"]
