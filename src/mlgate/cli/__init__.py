"""The `mlgate` command line: a lazy click group, shared options and the exit-code contract.

Subcommands live in their own modules and are imported only when invoked, so `mlgate --help` never pulls
in pandas, DVC, deepchecks or PyGithub.
"""

from __future__ import annotations

import importlib
import io
import os
import signal
import sys
import traceback
from pathlib import Path

import click

from mlgate import __version__
from mlgate.cli.context import Settings
from mlgate.errors import EXIT_USAGE, InputError, MlgateError

# name -> ("module:attribute", one-line help); a command is listed here only once it works. The help line
# lives here, not in the module, so `mlgate --help` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "chatops": ("mlgate.cli.chatops:chatops", "Answer a /mlgate comment: permission-checked deploy, promote, ..."),
    "compare": ("mlgate.cli.compare:compare", "Compare with the base commit and apply the metric gate."),
    "config": ("mlgate.cli.config_cmd:config", "Check mlgate.yml and print the effective policy."),
    "demo": ("mlgate.cli.demo:demo", "Build a demo repository and run the PR pipeline on two example PRs."),
    "deploy": ("mlgate.cli.deploy:deploy", "Gated deployment: GitHub Deployment, deploy command, registry tags."),
    "monitor": (
        "mlgate.cli.monitor:monitor",
        "Production monitoring: drift, quality, latency per window; history in git.",
    ),
    "pr": ("mlgate.cli.pr:pr", "The whole PR pipeline: validate, train, compare, report; gate after reporting."),
    "registry": ("mlgate.cli.registry:registry", "Model versions and stages in git tags (GTO format)."),
    "report": ("mlgate.cli.report:report", "Render the results as a sticky PR comment, job summary and check run."),
    "retrain": ("mlgate.cli.retrain:retrain", "Refresh the data; on drift, retrain and open or update one PR."),
    "tests": ("mlgate.cli.tests:tests", "Run the project's own tests; a tests row and annotations at failing lines."),
    "train": ("mlgate.cli.train:train", "Run the training command under monitoring; collect metrics and params."),
    "validate": ("mlgate.cli.validate:validate", "Validate data: schema, quality, drift, PII, deepchecks suites."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


_debug = False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="mlgate")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    envvar="MLGATE_CONFIG",
    help="Policy file [default: mlgate.yml].",
)
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".mlgate/results"),
    show_default=True,
    help="Where each step writes its results JSON.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, results_dir: Path, debug: bool) -> None:
    """Turn every pull request of an ML repository into a reviewed experiment.

    Every option can also come from the environment (MLGATE_<OPTION>, MLGATE_<COMMAND>_<OPTION>) and from
    mlgate.yml; precedence: flag > environment > config > default. Exit codes: 0 pass or warn, 1 gate
    failed, 2 usage, config or input error.
    """
    global _debug
    _debug = debug
    ctx.obj = Settings(
        config_path=config_path or Path("mlgate.yml"),
        config_explicit=config_path is not None,
        results_dir=results_dir,
        debug=debug,
    )


def _report_error(exc: Exception) -> None:
    """One sentence: a `::error` annotation in Actions (file/line as properties), else a stderr line."""
    from mlgate import gha

    if gha.in_actions() and isinstance(exc, MlgateError):
        gha.annotate("error", exc.message, file=exc.file, line=exc.line)
    elif gha.in_actions():
        gha.annotate("error", str(exc))
    else:
        click.echo(f"mlgate: error: {exc}", err=True)


def _unexpected(exc: Exception) -> str:
    missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
    if missing and missing.partition(".")[0] != "mlgate":
        # The report install (actions/setup `extras: report`) has only mlgate's core dependencies.
        return (
            f"this command needs the Python module `{missing}`, which this mlgate install lacks: install the "
            "whole stack (actions/setup with `extras: all`, or pip install 'mlgate[all]')"
        )
    return f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)"


def _environment_variable(exc: click.ClickException) -> str | None:
    """The environment variable a refused option value came from (MLGATE_COMPARE_RESAMPLES=lots), else None:
    click's usage text would point at a flag the user never typed."""
    ctx, param = getattr(exc, "ctx", None), getattr(exc, "param", None)
    if not isinstance(exc, click.BadParameter) or ctx is None or not isinstance(param, click.Option) or not param.name:
        return None
    if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.ENVIRONMENT:
        return None
    named = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
    if ctx.auto_envvar_prefix is not None:
        named.append(f"{ctx.auto_envvar_prefix}_{param.name.upper()}")
    return next((name for name in named if os.environ.get(name)), None)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a cancelled job, a timeout) unwinds like Ctrl-C, so atomic writes remove their temp files."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map every outcome to the exit-code contract."""
    os.environ.setdefault("DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY", "1")
    if argv is None:  # the process's own entry point (console script, python -m), not a caller running us in-process
        signal.signal(signal.SIGTERM, _terminated)
        # A file name that is not UTF-8 reaches us as surrogates; printed, it is escaped instead of an error.
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(errors="backslashreplace")
    try:
        code = cli.main(args=argv, prog_name="mlgate", standalone_mode=False, auto_envvar_prefix="MLGATE")
    except MlgateError as exc:
        if _debug:
            traceback.print_exc()
        _report_error(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("mlgate: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        variable = _environment_variable(exc)
        if variable is None:
            exc.show()
        else:
            option = "/".join(exc.param.opts)  # type: ignore[attr-defined]  # a BadParameter of an Option
            _report_error(InputError(f"environment variable {variable} (for {option}): {exc.message}"))
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # the contract: one sentence, no traceback unless --debug
        if _debug:
            traceback.print_exc()
        _report_error(RuntimeError(_unexpected(exc)))
        sys.exit(EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)
