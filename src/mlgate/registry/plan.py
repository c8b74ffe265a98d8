"""Registry writes as planned tags: register a version, assign a stage, roll a stage back.

Each plan is a pure function of the registry state, so a writer that loses a push race refetches the tags and
plans again; tags are only ever added, never moved or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.errors import EXIT_GATE_FAILED, InputError, MlgateError
from mlgate.registry.semver import SemVer
from mlgate.registry.state import ArtifactState, Registry
from mlgate.registry.tags import Action, TagName


@dataclass(frozen=True)
class PlannedTag:
    name: str
    commit: str
    message: str
    timestamp: int  # tagger time to write, seconds since the epoch (UTC)


@dataclass(frozen=True)
class Registration:
    version: str
    commit: str
    tags: tuple[PlannedTag, ...]  # empty when the commit already carries this version


@dataclass(frozen=True)
class StageChange:
    stage: str
    version: str  # the version that holds the stage afterwards
    commit: str  # that version's commit
    replaced: str | None  # the version that held it before
    tags: tuple[PlannedTag, ...]  # empty when `version` already holds the stage


class StageMoved(MlgateError):
    """Another writer changed the stage after this deploy read it: its tag stands, ours is not written."""

    exit_code = EXIT_GATE_FAILED


def _message(first_line: str, note: str) -> str:
    """GTO's own first line (what `gto history` shows), then what the writer adds."""
    return f"{first_line}\n\n{note}" if note else first_line


def tag_time(artifact: ArtifactState, now: int) -> int:
    """GTO orders events by whole-second tagger time and leaves ties to chance, so a new tag is dated after the
    artifact's last event even when both fall in the same second (or a skewed clock wrote the last one)."""
    return max(now, artifact.last_event_time + 1)


def plan_register(
    registry: Registry,
    name: str,
    commit: str,
    *,
    now: int,
    version: str | None = None,
    bump: str = "patch",
    note: str = "",
) -> Registration:
    """Register the version at `commit`: the one it already carries, `version`, or the highest one bumped."""
    artifact = registry.artifact(name)
    existing = artifact.registered_at_commit(commit)
    if existing is not None:
        if version is not None and version != existing.version:
            raise InputError(
                f"commit {commit[:7]} is already registered as {existing.version} of '{name}', not {version}"
            )
        if not existing.active:
            raise InputError(
                f"version {existing.version} of '{name}' at commit {commit[:7]} was deregistered; "
                "a deregistered version cannot be registered again"
            )
        return Registration(existing.version, commit, ())
    if version is not None:
        SemVer.require(version)
        taken = artifact.version(version)
        if taken is not None:
            raise InputError(f"version {version} of '{name}' already exists (commit {taken.commit[:7]})")
    else:
        # Bump past every version ever registered, deregistered ones included: their tags still exist.
        registered = [SemVer.parse(v.version) for v in artifact.versions if v.registered]
        highest = max((v for v in registered if v is not None), default=SemVer(0, 0, 0))
        version = str(highest.bump(bump))
    tag = TagName(name, Action.REGISTER, version=version)  # GTO registers without a counter
    text = _message(f"Registering artifact {name} version {version}", note)
    return Registration(version, commit, (PlannedTag(str(tag), commit, text, tag_time(artifact, now)),))


def _stage_tag(artifact: ArtifactState, action: Action, stage: str, counter: int, commit: str, text: str, now: int):
    name = TagName(artifact.name, action, stage=stage, counter=counter)
    return PlannedTag(str(name), commit, text, tag_time(artifact, now))


def _commit(artifact: ArtifactState, version: str) -> str:
    state = artifact.version(version)
    if state is None:
        raise InputError(f"'{artifact.name}' has no version {version}")
    return state.commit


def _holder(artifact: ArtifactState, version: str) -> str:
    """The commit of a version that may take a stage: registered and not deregistered."""
    state = artifact.version(version)
    if state is None or not state.registered:
        raise InputError(f"version {version} of '{artifact.name}' is not registered")
    if not state.active:
        raise InputError(f"version {version} of '{artifact.name}' was deregistered")
    return state.commit


def _assign(
    artifact: ArtifactState, stage: str, version: str, commit: str, what: str, note: str, now: int
) -> StageChange:
    current = artifact.current(stage)
    if current == version:
        return StageChange(stage, version, commit, current, ())
    text = _message(f"Assigning stage {stage} to artifact {artifact.name} {what}", note)
    tag = _stage_tag(artifact, Action.ASSIGN, stage, artifact.max_counter + 1, commit, text, now)
    return StageChange(stage, version, commit, current, (tag,))


def plan_assign(registry: Registry, name: str, version: str, stage: str, *, now: int, note: str = "") -> StageChange:
    """Make `version` the current version of `stage` (nothing to do when it already is)."""
    artifact = registry.artifact(name)
    return _assign(artifact, stage, version, _holder(artifact, version), f"version {version}", note, now)


def plan_assign_commit(
    registry: Registry, name: str, commit: str, stage: str, *, now: int, note: str = ""
) -> StageChange:
    """Give `stage` to a commit: its registered version, else the commit itself, which GTO shows as an
    unregistered version named by its sha (a pull request's preview: it holds the stage without taking a
    version number from the releases)."""
    artifact = registry.artifact(name)
    registered = artifact.registered_at_commit(commit)
    if registered is not None:
        return plan_assign(registry, name, registered.version, stage, now=now, note=note)
    return _assign(artifact, stage, commit, commit, f"commit {commit}", note, now)


def registered_version(registry: Registry, name: str, version: str) -> str:
    """The commit of a version that may be promoted (registered, not deregistered)."""
    return _holder(registry.artifact(name), version)


def plan_rollback(registry: Registry, name: str, stage: str, *, now: int, note: str = "") -> StageChange:
    """Give `stage` back to the version that held it before the current one, and take it from the current one.

    Unassigning the current version matters twice: `gto show --sort semver` would otherwise keep showing the
    higher, rolled-back version, and a second rollback must go further back instead of returning to it.
    """
    artifact = registry.artifact(name)
    holders = artifact.stages.get(stage, ())
    if not holders:
        raise InputError(f"no version of '{name}' is in stage '{stage}': there is nothing to roll back")
    if len(holders) < 2:
        raise InputError(
            f"{holders[0]} is the only version of '{name}' stage '{stage}' has held: there is no earlier one"
        )
    current, target = holders[0], holders[1]
    commit, counter = _holder(artifact, target), artifact.max_counter
    current_commit = _commit(artifact, current)
    assign = f"Assigning stage {stage} to artifact {name} version {target} (rollback from {current})"
    unassign = f"Unassigning stage {stage} from artifact {name} version {current} (rolled back to {target})"
    tags = (
        _stage_tag(artifact, Action.ASSIGN, stage, counter + 1, commit, _message(assign, note), now),
        _stage_tag(artifact, Action.UNASSIGN, stage, counter + 2, current_commit, _message(unassign, note), now),
    )
    return StageChange(stage, target, commit, current, tags)


def last_stage_tag(registry: Registry, name: str, stage: str) -> str | None:
    """The stage's most recent event; a writer compares it before and after its work to detect a concurrent one."""
    events = registry.artifact(name).stage_events(stage)
    return events[-1].tag if events else None


def check_stage_unchanged(registry: Registry, name: str, stage: str, seen: str | None, version: str) -> bool:
    """True when the stage is as this writer saw it; False when a concurrent writer already gave it `version`.

    Raises StageMoved when another version took the stage meanwhile: that writer's tag stands.
    """
    now_last = last_stage_tag(registry, name, stage)
    if now_last == seen:
        return True
    current = registry.artifact(name).current(stage)
    if current == version:
        return False
    raise StageMoved(
        f"stage '{stage}' of '{name}' changed while this deploy ran ({now_last} made "
        f"{current or 'no version'} current); {version} is not recorded over it: rerun the deploy to make it current"
    )
