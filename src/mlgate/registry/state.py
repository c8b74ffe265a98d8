"""Registry state from tags, computed the way GTO computes it (gto/tag.py, gto/base.py, gto/api.py).

- Only annotated tags are events; lightweight ones still count for the next `#N` counter (GTO's `name_tag`).
- Events are ordered by tagger time (whole seconds), then GTO's event priority; the counter and the tag name
  only break what GTO leaves to chance.
- Registrations are indexed before stage events, so a stage tag names the version registered at its commit,
  or, when none is, the commit itself (GTO's unregistered version).
- A version is active while its last registration event is a registration (or it has only stage events); a
  version stays in a stage until that stage is unassigned from it, so several versions can be in one stage.
  The stage's current version is the active one assigned most recently (`gto show`: --sort timestamp, --vs 1).
- The latest version is the highest registered, active semver (`gto show`'s "latest").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mlgate.errors import InputError
from mlgate.registry.semver import SemVer
from mlgate.registry.tags import Action, parse_tag_name


@dataclass(frozen=True)
class TagRecord:
    """One git tag as the adapter reads it."""

    name: str
    target: str  # the commit the tag points at
    annotated: bool
    timestamp: int = 0  # tagger time, seconds since the epoch (annotated tags only)
    tagger: str = ""
    tagger_email: str = ""
    message: str = ""


@dataclass(frozen=True)
class Event:
    artifact: str
    action: Action
    tag: str
    commit: str
    timestamp: int
    counter: int | None
    version: str | None  # stage events: the version at `commit` (its sha when none is registered there)
    stage: str | None
    author: str
    author_email: str
    message: str

    @property
    def order(self) -> tuple[int, int, int, str]:
        return (self.timestamp, self.action.value, self.counter or 0, self.tag)


@dataclass(frozen=True)
class VersionState:
    version: str
    commit: str
    registered: bool  # has a registration tag (else it is known only through stage tags)
    active: bool
    registered_at: int | None
    stages: tuple[str, ...]  # the stages it is in, most recently assigned first


@dataclass(frozen=True)
class ArtifactState:
    name: str
    versions: tuple[VersionState, ...]  # highest semver first, then unregistered (commit-named) versions
    stages: Mapping[str, tuple[str, ...]]  # stage -> active versions in it, most recently assigned first
    events: tuple[Event, ...]  # oldest first
    deprecated: bool
    max_counter: int = 0  # highest `#N` among this artifact's tags, lightweight ones included
    last_event_time: int = 0

    @property
    def latest(self) -> VersionState | None:
        """The highest registered, active version (`gto show`'s latest)."""
        candidates = [v for v in self.versions if v.registered and v.active and SemVer.parse(v.version)]
        return candidates[0] if candidates else None

    def current(self, stage: str) -> str | None:
        holders = self.stages.get(stage, ())
        return holders[0] if holders else None

    def version(self, name: str) -> VersionState | None:
        return next((v for v in self.versions if v.version == name), None)

    def registered_at_commit(self, commit: str) -> VersionState | None:
        return next((v for v in self.versions if v.commit == commit and v.registered), None)

    def stage_events(self, stage: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.stage == stage)


@dataclass(frozen=True)
class Registry:
    artifacts: Mapping[str, ArtifactState] = field(default_factory=dict)
    max_counters: Mapping[str, int] = field(default_factory=dict)  # also for artifacts with no events yet

    def artifact(self, name: str) -> ArtifactState:
        """The artifact's state; an empty one when no tag names it yet."""
        found = self.artifacts.get(name)
        if found is not None:
            return found
        return ArtifactState(name, (), {}, (), False, self.max_counters.get(name, 0))

    def history(self, name: str | None = None) -> list[Event]:
        """Every event (of one artifact), oldest first, in GTO's order: time, then event priority."""
        if name is None:
            chosen = list(self.artifacts.values())
        else:
            chosen = [self.artifacts[name]] if name in self.artifacts else []
        return sorted((e for a in chosen for e in a.events), key=lambda e: e.order)


def _sorted_versions(versions: list[VersionState]) -> tuple[VersionState, ...]:
    # GTO lists semver versions from the highest, then commit-named ones; the name breaks semver ties.
    semantic = sorted(
        (v for v in versions if SemVer.parse(v.version)),
        key=lambda v: (SemVer.parse(v.version), v.version),
        reverse=True,
    )
    others = sorted((v for v in versions if not SemVer.parse(v.version)), key=lambda v: v.version, reverse=True)
    return (*semantic, *others)


def _event(record: TagRecord, version: str | None) -> Event:
    parsed = parse_tag_name(record.name)
    assert parsed is not None
    return Event(
        artifact=parsed.artifact,
        action=parsed.action,
        tag=record.name,
        commit=record.target,
        timestamp=record.timestamp,
        counter=parsed.counter,
        version=version if parsed.version is None else parsed.version,
        stage=parsed.stage,
        author=record.tagger,
        author_email=record.tagger_email,
        message=record.message.strip(),
    )


def _artifact_state(name: str, records: list[TagRecord], max_counter: int) -> ArtifactState:
    version_events = [
        _event(r, None) for r in records if parse_tag_name(r.name).action in (Action.REGISTER, Action.DEREGISTER)
    ]
    commit_of: dict[str, str] = {}
    versions_at: dict[str, set[str]] = {}
    for event in version_events:
        assert event.version is not None
        known = commit_of.setdefault(event.version, event.commit)
        if known != event.commit:
            raise InputError(
                f"registry: version {event.version} of '{name}' is tagged on two commits "
                f"({known[:7]} and {event.commit[:7]}); delete the wrong tag ({event.tag})"
            )
        versions_at.setdefault(event.commit, set()).add(event.version)

    def version_at(commit: str, tag: str) -> str:
        names = versions_at.get(commit, set())
        if len(names) > 1:
            raise InputError(
                f"registry: commit {commit[:7]} carries several versions of '{name}' ({', '.join(sorted(names))}), "
                f"so stage tag {tag} is ambiguous; deregister all but one"
            )
        return next(iter(names)) if names else commit

    stage_events = [
        _event(r, version_at(r.target, r.name))
        for r in records
        if parse_tag_name(r.name).action in (Action.ASSIGN, Action.UNASSIGN)
    ]
    other_events = [_event(r, None) for r in records if parse_tag_name(r.name).action is Action.DEPRECATE]
    events = tuple(sorted(version_events + stage_events + other_events, key=lambda e: e.order))

    # Per (version, stage): in the stage when its last event is an assignment; ranked by its last assignment.
    last_stage_event: dict[tuple[str, str], Event] = {}
    last_assignment: dict[tuple[str, str], Event] = {}
    for event in events:
        if event.stage is not None and event.version is not None:
            last_stage_event[(event.version, event.stage)] = event
            if event.action is Action.ASSIGN:
                last_assignment[(event.version, event.stage)] = event

    versions: list[VersionState] = []
    for version in dict.fromkeys(e.version for e in events if e.version is not None):
        direct = [e for e in events if e.version == version and e.stage is None]
        registrations = [e for e in direct if e.action is Action.REGISTER]
        active = direct[-1].action is Action.REGISTER if direct else True
        in_stages = sorted(
            (key[1] for key, e in last_stage_event.items() if key[0] == version and e.action is Action.ASSIGN),
            key=lambda stage: last_assignment[(version, stage)].order,
            reverse=True,
        )
        commit = commit_of.get(version) or next(e.commit for e in events if e.version == version)
        versions.append(
            VersionState(
                version=version,
                commit=commit,
                registered=bool(registrations),
                active=active,
                registered_at=registrations[0].timestamp if registrations else None,
                stages=tuple(in_stages),
            )
        )

    stages: dict[str, list[tuple[tuple, str]]] = {}
    for version in versions:
        if not version.active:  # a deregistered version leaves every stage it was in
            continue
        for stage in version.stages:
            stages.setdefault(stage, []).append((last_assignment[(version.version, stage)].order, version.version))
    return ArtifactState(
        name=name,
        versions=_sorted_versions(versions),
        stages={s: tuple(v for _, v in sorted(held, reverse=True)) for s, held in sorted(stages.items())},
        events=events,
        deprecated=bool(events) and events[-1].action is Action.DEPRECATE,
        max_counter=max_counter,
        last_event_time=max((e.timestamp for e in events), default=0),
    )


def build_registry(records: Iterable[TagRecord]) -> Registry:
    by_artifact: dict[str, list[TagRecord]] = {}
    max_counters: dict[str, int] = {}
    for record in records:
        parsed = parse_tag_name(record.name)
        if parsed is None:
            continue
        if parsed.counter is not None:
            max_counters[parsed.artifact] = max(max_counters.get(parsed.artifact, 0), parsed.counter)
        if record.annotated:  # GTO reads only annotated tags as events
            by_artifact.setdefault(parsed.artifact, []).append(record)
    artifacts = {
        name: _artifact_state(name, records_, max_counters.get(name, 0))
        for name, records_ in sorted(by_artifact.items())
    }
    return Registry(artifacts=artifacts, max_counters=max_counters)
