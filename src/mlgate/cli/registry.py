"""`mlgate registry`: the model registry in git tags, readable and writable by GTO too."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mlgate.adapters import gittags
from mlgate.errors import InputError
from mlgate.registry.plan import Registration, StageChange, plan_assign, plan_register
from mlgate.registry.semver import BUMPS
from mlgate.registry.state import ArtifactState, Event, Registry
from mlgate.registry.tags import is_valid_artifact, is_valid_name


def iso(timestamp: int | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def artifact_json(artifact: ArtifactState) -> dict[str, Any]:
    latest = artifact.latest
    return {
        "name": artifact.name,
        "latest": latest.version if latest else None,
        "stages": {stage: artifact.current(stage) for stage in artifact.stages},
        "deprecated": artifact.deprecated,
        "versions": [
            {
                "version": v.version,
                "commit": v.commit,
                "registered": v.registered,
                "active": v.active,
                "registered_at": iso(v.registered_at),
                "stages": list(v.stages),
            }
            for v in artifact.versions
        ],
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "timestamp": iso(event.timestamp),
        "artifact": event.artifact,
        "event": event.action.event,
        "version": event.version,
        "stage": event.stage,
        "commit": event.commit,
        "author": event.author,
        "author_email": event.author_email,
        "message": event.message,
        "tag": event.tag,
    }


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


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
        click.echo(json.dumps({"artifacts": [artifact_json(a) for a in artifacts]}, indent=2))
        return 0
    if not artifacts:
        click.echo("no model versions registered yet (no GTO tags in this repository)")
        return 0
    if name is None:
        stages = sorted({s for a in artifacts for s in a.stages})
        rows = [["ARTIFACT", "LATEST", *stages]]
        for a in artifacts:
            label = f"{a.name} (deprecated)" if a.deprecated else a.name
            rows.append([label, a.latest.version if a.latest else "-", *[a.current(s) or "-" for s in stages]])
        click.echo(_table(rows))
        return 0
    artifact = artifacts[0]
    rows = [["VERSION", "COMMIT", "REGISTERED", "STAGES"]]
    for v in artifact.versions:
        state = "" if v.active else " (deregistered)"
        current = [s + ("*" if artifact.current(s) == v.version else "") for s in v.stages]
        rows.append([v.version + state, v.commit[:7], iso(v.registered_at) or "-", ", ".join(current) or "-"])
    click.echo(_table(rows))
    click.echo("* current version of the stage")
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
        click.echo(json.dumps([event_json(e) for e in events], indent=2))
        return 0
    rows = [["TIMESTAMP", "ARTIFACT", "EVENT", "VERSION", "STAGE", "COMMIT", "TAG"]]
    for e in events:
        version = e.commit[:7] if e.version == e.commit else e.version or "-"  # unregistered: named by commit
        rows.append([iso(e.timestamp) or "", e.artifact, e.action.event, version, e.stage or "-", e.commit[:7], e.tag])
    click.echo(_table(rows) if events else "no registry events")
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
