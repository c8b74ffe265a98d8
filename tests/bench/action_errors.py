"""Errors raised by the composite-action runner: each one names the file, step or expression at fault."""


class ActionRunnerError(Exception):
    """Base class: the bench refused or could not run the action (not a step failure of the action)."""


class ActionDefinitionError(ActionRunnerError):
    """The action.yml is not a valid composite action (structure, a disallowed `uses:`, no `shell:`)."""


class ActionInputError(ActionRunnerError):
    """The call passes an input the action does not declare, omits a required one, or passes a non-string."""


class ExpressionError(ActionRunnerError):
    """An expression GitHub itself rejects when it loads the action (syntax, unknown context or function)."""


class UnsupportedExpression(ExpressionError):
    """Valid on GitHub but not modelled by the bench: refusing is better than evaluating it wrongly."""


class ExpressionEvaluationError(ExpressionError):
    """An expression failed while evaluating (bad format string, invalid JSON...): GitHub fails the step."""


class ActionTimeout(ActionRunnerError):
    """The run exceeded the bench's wall-clock budget; the step's process group was killed."""
