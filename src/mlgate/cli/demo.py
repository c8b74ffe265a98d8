"""`mlgate demo`: the whole loop on a laptop, from the bundled example, with the local driver.

It builds a fresh git + DVC repository whose `main` ran the pipeline and committed its metrics, then two
pull-request branches — one that really regresses the model, one that only nudges a hyper-parameter —
and runs `mlgate pr` on each against `main`, printing each report and verdict.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from mlgate.errors import InputError
from mlgate.report.preview import Page, PreviewError, missing_tools, report_pages, screenshot

EXAMPLE = Path(__file__).resolve().parents[3] / "examples"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlgate demo",
    "GIT_AUTHOR_EMAIL": "demo@mlgate.invalid",
    "GIT_COMMITTER_NAME": "mlgate demo",
    "GIT_COMMITTER_EMAIL": "demo@mlgate.invalid",
}
# (branch, what the change is, params.yaml edits)
BRANCHES = (
    ("pr/regress", "keep only 3 of the 30 features (a real regression)", {"train": {"n_features": 3}}),
    ("pr/tune", "regularise a little more (C 1.0 → 0.8)", {"train": {"C": 0.8}}),
)


def _environment() -> dict[str, str]:
    """The demo's repository is trained with this interpreter's packages: this venv is the user's environment."""
    env = dict(os.environ, **GIT_IDENTITY, DVC_NO_ANALYTICS="1")
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env["VIRTUAL_ENV"] = sys.prefix
    for name in ("GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_TOKEN", "MLGATE_CONFIG"):
        env.pop(name, None)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise InputError(f"demo step `{' '.join(args)}` failed: " + " | ".join(tail))
    return done.stdout


def _edit_params(repo: Path, edits: dict[str, dict[str, object]]) -> None:
    import yaml

    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in edits.items():
        params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def _mlgate(repo: Path, env: dict[str, str], pr_number: int) -> tuple[int, str]:
    args = [sys.executable, "-m", "mlgate", "pr", "--base", "main", "--driver", "local", "--pr", str(pr_number)]
    done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    report = repo / ".mlgate/report.md"
    if done.returncode == 2 or not report.is_file():
        raise InputError(f"mlgate pr failed on the demo repository: {done.stderr.strip()[-500:]}")
    return done.returncode, report.read_text()


def _published(repo: Path, pr_number: int) -> list[Page]:
    """What this PR's run published (comment, job summary, check run), from the local driver's outbox."""
    from mlgate.drivers.outbox import Outbox

    outbox = Outbox(repo / ".mlgate/outbox")
    comment = next(r for r in outbox.list("comment") if r.get("pr_number") == pr_number)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    check = next(r for r in outbox.list("check") if r.get("head_sha") == head)
    summary = (outbox.get("summary", "mlgate") or {}).get("markdown", "")
    return report_pages(f"pr-{pr_number}", comment["body"], summary, check["title"], check["summary"])


def _screenshots(pages: list[Page], directory: Path) -> None:
    """The reports as GitHub shows them, light and dark, when this checkout can take screenshots."""
    if reason := missing_tools():
        click.echo(f"Screenshots: none ({reason}).")
        return
    try:
        screenshot(pages, directory)
    except PreviewError as exc:
        click.echo(f"Screenshots: none ({exc}).")
        return
    click.echo(f"Screenshots (the comment, job summary and check run as GitHub shows them): {directory}")


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=Path("mlgate-demo"))
@click.option(
    "--screenshots",
    "screenshots_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to put the reports' screenshots [default: DIRECTORY/.mlgate/screenshots].",
)
@click.option(
    "--example",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Example repository to start from [default: the checkout's examples/].",
)
def demo(directory: Path, screenshots_dir: Path | None, example: Path | None) -> int:
    """Build a demo repository in DIRECTORY and run `mlgate pr` on a regressing and a harmless PR."""
    source = example or EXAMPLE
    if not (source / "dvc.yaml").is_file():
        raise InputError(
            "the demo needs the example repository (run it from a clone of mlgate: make demo)", file=source
        )
    if directory.exists() and any(directory.iterdir()):
        raise InputError("is not empty; the demo builds a fresh repository (choose another directory)", file=directory)
    started = time.perf_counter()
    env = _environment()
    shutil.copytree(source, directory, dirs_exist_ok=True)
    repo = directory.resolve()
    click.echo(f"Building the demo repository in {repo} …")
    _run(["git", "init", "-q", "-b", "main"], repo, env)
    _run(["dvc", "init", "-q"], repo, env)
    _run(["dvc", "repro", "-q"], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-q", "-m", "Baseline: pipeline run, metrics committed"], repo, env)

    verdicts = []
    pages: list[Page] = []
    for number, (branch, change, edits) in enumerate(BRANCHES, start=1):
        _run(["git", "checkout", "-q", "-b", branch, "main"], repo, env)
        _edit_params(repo, edits)
        _run(["git", "commit", "-q", "-am", change], repo, env)
        click.echo(f"\n{'=' * 100}\nPR #{number} {branch}: {change}\n{'=' * 100}")
        code, report = _mlgate(repo, env, number)
        click.echo(report)
        pages += _published(repo, number)
        verdicts.append((number, branch, "gate failed (exit 1)" if code == 1 else "gate passed (exit 0)"))
        _run(["git", "stash", "-q", "--include-untracked"], repo, env)  # training outputs of this PR
        _run(["git", "checkout", "-q", "main"], repo, env)

    click.echo(f"\n{'=' * 100}\nVerdicts")
    for number, branch, verdict in verdicts:
        click.echo(f"  PR #{number} {branch}: {verdict}")
    click.echo(f"Outbox (comments, check runs as files): {repo / '.mlgate/outbox'}")
    _screenshots(pages, (screenshots_dir or repo / ".mlgate/screenshots").resolve())
    click.echo(f"Done in {time.perf_counter() - started:.0f} s.")
    return 0
