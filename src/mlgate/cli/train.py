"""`mlgate train`: run the training command under monitoring, then collect metrics, params and data versions."""

from __future__ import annotations

import json
import os

import click

from mlgate.cli.context import Settings, pass_settings
from mlgate.errors import EXIT_GATE_FAILED, EXIT_OK


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--command",
    "command_text",
    default=None,
    envvar="MLGATE_TRAIN_COMMAND",
    help="Training command [default: train.command, dvc repro].",
)
@click.option("--log-tail", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Log lines kept.")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@pass_settings
def train(settings: Settings, command_text: str | None, log_tail: int, argv: tuple[str, ...]) -> int:
    """Run the training command (or the one after `--`) and record its resources and results."""
    from mlgate import gha
    from mlgate.adapters import dvc_repo, git, monitor
    from mlgate.ghcontext import context_from_env
    from mlgate.results import StepResult, read_result, write_result

    cfg = settings.config
    command: list[str] | str = list(argv) if argv else command_text or cfg.train.command
    project = dvc_repo.open_project(cfg.root)
    shown = command if isinstance(command, str) else " ".join(command)
    with gha.group(f"mlgate train: {shown}"):
        record = monitor.run_monitored(
            command, cwd=cfg.root, log_file=settings.results_dir / "train.log", tail_lines=log_tail
        )
    files = [project.relative(cfg.resolve(f)) for f in cfg.metrics.files]
    snapshot = dvc_repo.read_snapshot(project, None, files, from_dvc=False)  # what this run produced, not the cache

    problems = []
    if record.exit_code != 0:
        problems.append(f"the training command exited with code {record.exit_code}")
    problems += [f"{path} was not produced" for path in snapshot.missing]
    problems += [str(error) for error in snapshot.errors.values()]
    verdict = "fail" if problems else "pass"
    if problems:
        summary = "; ".join(problems)
    else:
        count = sum(len(values) for values in snapshot.metrics.values())
        files_read = len(snapshot.metrics)
        summary = f"trained in {record.wall_seconds:.1f} s; {count} metrics from {files_read} file"
        summary += "" if files_read == 1 else "s"
        if not snapshot.metrics_files:
            summary += " (no metrics files: declare them in dvc.yaml or metrics.files)"
    evidence = record.to_dict() | {
        "metrics": snapshot.metrics,
        "params": snapshot.params,
        "data_versions": snapshot.data_versions,
        "metrics_missing": snapshot.missing,
        "metrics_errors": {path: error.reason for path, error in snapshot.errors.items()},
    }
    head = context_from_env(os.environ).sha or git.rev_parse(project.git_root, "HEAD")
    path = write_result(settings.results_dir, StepResult("train", verdict, summary, {"head": head}, evidence))
    # The output is train.json's own (strict JSON: NaN became null) metrics, so both always agree.
    gha.set_output("metrics", json.dumps(read_result(path).evidence["metrics"], sort_keys=True))
    gha.set_output("results", str(path))
    if verdict == "fail":
        gha.annotate("error", f"mlgate train: {summary}")
        for line in record.log_tail[-20:]:
            click.echo(f"  | {line}", err=True)
    click.echo(f"train: {verdict}: {summary}")
    return EXIT_GATE_FAILED if verdict == "fail" else EXIT_OK
