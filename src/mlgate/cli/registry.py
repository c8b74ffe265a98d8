"""`mlgate registry`: the model registry in git tags, readable and writable by GTO too."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from mlgate.adapters import gittags
from mlgate.errors import InputError
from mlgate.registry import views
from mlgate.registry.plan import Registration, StageChange, plan_assign, plan_register
from mlgate.registry.semver import BUMPS
from mlgate.registry.state import ArtifactState, Registry
from mlgate.registry.tags import is_valid_artifact, is_valid_name


def _chosen(registry: Registry, name: str | None) -> list[ArtifactState]:
    if name is None:
        return list(registry.artifacts.values())
    if name not in registry.artifacts:
        known = ", ".join(registry.artifacts) or "none"
        raise InputError(f"no artifact '{name}' in the registry (known: {known})")
    return [registry.artifacts[name]]


def _root(repo: Path) -> Path:
    if not gittags.is_repository(repo):
        raise InputError("is not inside a git repository", file=repo)
    return repo


def _commit(repo: Path, ref: str) -> str:
    sha = gittags.resolve_commit(repo, ref)
    if sha is None:
        raise InputError(f"'{ref}' names no commit in this repository")
    return sha


def _check_name(name: str) -> str:
    if not is_valid_artifact(name):
        raise InputError(f"'{name}' is not a valid artifact name (letters, digits, '-', '_', '/')")
    return name


repo_option = click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path("."),
    show_default=True,
    help="The git repository holding the registry tags.",
)
push_option = click.option("--push", is_flag=True, help="Push the new tags to --remote (refetching on a race).")
remote_option = click.option("--remote", default="origin", show_default=True, help="Remote to push tags to.")


@click.group()
def registry() -> None:
    """Model versions and stages as git tags in GTO's format (name@v1.2.0, name#production#3)."""


@registry.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@repo_option
def show(name: str | None, as_json: bool, repo: Path) -> int:
    """Latest version and the version in each stage (with NAME: every version of it)."""
    artifacts = _chosen(gittags.read_registry(_root(repo)), name)
    if as_json:
        click.echo(json.dumps({"artifacts": [views.artifact_json(a) for a in artifacts]}, indent=2))
        return 0
    if not artifacts:
        click.echo("no model versions registered yet (no GTO tags in this repository)")
        return 0
    click.echo(views.stages_table(artifacts) if name is None else views.versions_table(artifacts[0]))
    return 0


@registry.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@click.option("--ascending", is_flag=True, help="Oldest first (default: newest first, as `gto history`).")
@repo_option
def history(name: str | None, as_json: bool, ascending: bool, repo: Path) -> int:
    """Registry events (registrations, stage assignments, ...) in GTO's order."""
    registry_state = gittags.read_registry(_root(repo))
    _chosen(registry_state, name)
    events = registry_state.history(name)
    if not ascending:
        events.reverse()
    if as_json:
        click.echo(json.dumps([views.event_json(e) for e in events], indent=2))
        return 0
    click.echo(views.events_table(events) if events else "no registry events")
    return 0


def _publish(repo: Path, plan, push: bool, remote: str) -> Any:
    if push and not gittags.has_remote(repo, remote):
        raise InputError(f"--push: this repository has no remote '{remote}'")
    published = gittags.publish(repo, plan, remote=remote if push else None)
    for tag in published.plan.tags:
        click.echo(f"created tag {tag.name} at {tag.commit[:7]}" + (f" (pushed to {remote})" if push else ""))
    return published.plan


@registry.command()
@click.argument("name")
@click.argument("ref", default="HEAD")
@click.option("--version", "version", default=None, help="Explicit version, e.g. v1.2.0 (default: bump).")
@click.option("--bump", type=click.Choice(BUMPS), default="patch", show_default=True, help="Part to bump.")
@push_option
@remote_option
@repo_option
def register(name: str, ref: str, version: str | None, bump: str, push: bool, remote: str, repo: Path) -> int:
    """Register the commit REF (default HEAD) as a new version of NAME."""
    commit = _commit(_root(repo), ref)
    _check_name(name)

    def plan(state: Registry) -> Registration:
        return plan_register(state, name, commit, now=int(time.time()), version=version, bump=bump)

    result: Registration = _publish(repo, plan, push, remote)
    if not result.tags:
        click.echo(f"commit {commit[:7]} is already {name} {result.version}: nothing to do")
    return 0


@registry.command()
@click.argument("name")
@click.argument("stage")
@click.argument("ref", default="HEAD")
@click.option("--version", "version", default=None, help="The version to assign (default: the one at REF).")
@push_option
@remote_option
@repo_option
def assign(name: str, stage: str, ref: str, version: str | None, push: bool, remote: str, repo: Path) -> int:
    """Make a version of NAME (the one registered at REF, or --version) the current one of STAGE."""
    _root(repo)
    _check_name(name)
    if not is_valid_name(stage):
        raise InputError(f"'{stage}' is not a valid stage name (letters, digits, '-', '_', '/')")
    commit = _commit(repo, ref)

    def plan(state: Registry) -> StageChange:
        chosen = version
        if chosen is None:
            found = state.artifact(name).registered_at_commit(commit)
            if found is None:
                raise InputError(f"commit {commit[:7]} ({ref}) has no version of '{name}': register it first")
            chosen = found.version
        return plan_assign(state, name, chosen, stage, now=int(time.time()))

    result: StageChange = _publish(repo, plan, push, remote)
    if not result.tags:
        click.echo(f"{name} {result.version} is already the current version of {stage}: nothing to do")
    return 0
