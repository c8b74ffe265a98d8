"""Where the report's images (DVC plots rendered to PNG, image plots) go, and the link each gets.

Every image is copied into the mlgate-report artifact (images/...), so a fork's run or a local run still has
them. The comment links an image only where it is really published:
- github driver, same-repository PR: committed to the assets branch (mlgate.adapters.git_assets), linked by
  `{server}/{owner}/{repo}/raw/{branch}/{path}` — served to whoever can read the repository, so private
  repositories stay private;
- local driver: linked by its path relative to the report file, which is where one reads it;
- a fork's PR (read-only token) or a failed publish: not linked; the report says where the files are.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from mlgate import gha
from mlgate.ghcontext import GitHubContext
from mlgate.report import plots
from mlgate.results import Note, StepResult
from mlgate.steps.base import Project

ARTIFACT_IMAGES = "images"
REMOTE = "origin"  # what actions/checkout names the repository it checked out


@dataclass(frozen=True)
class Where:
    driver: str  # github | local
    ctx: GitHubContext
    project: Project
    pr_number: int | None
    sha: str | None
    artifact_dir: Path
    report_dir: Path  # the folder of the report file (local links are relative to it)
    token: str | None = None  # pushes the assets branch (the checkout's own credentials otherwise)


def find(results: Sequence[StepResult], directories: Sequence[Path]) -> dict[str, Path]:
    """Each image the results point at (path in its results folder) → the file, for those that exist."""
    found: dict[str, Path] = {}
    for relative in plots.image_paths(results):
        file = next((d / relative for d in directories if (d / relative).is_file()), None)
        if file is not None:
            found[relative] = file
    return found


def place(images: dict[str, Path], where: Where, notes: list[Note]) -> dict[str, str]:
    """Copy the images into the artifact, publish them where the report can link them; relative path → URL."""
    if not images:
        return {}
    copies = {}
    for relative, file in images.items():
        copy = where.artifact_dir / ARTIFACT_IMAGES / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, copy)
        copies[relative] = copy
    if where.driver == "local":
        return {relative: _relative_link(copy, where.report_dir) for relative, copy in copies.items()}
    if where.pr_number is None or where.sha is None or where.ctx.is_fork_pr or not where.ctx.repository:
        return {}  # nothing to link from, or a token that cannot write: the artifact has them
    return _publish(images, where, notes)


def _relative_link(file: Path, report_dir: Path) -> str:
    return quote(Path(os.path.relpath(file.resolve(), report_dir.resolve())).as_posix())


def _publish(images: dict[str, Path], where: Where, notes: list[Note]) -> dict[str, str]:
    from mlgate.adapters import git_assets, git_publish
    from mlgate.errors import MlgateError

    report = where.project.config.report
    root = where.project.config.root
    run = f"pr-{where.pr_number}/{where.sha}"
    try:
        if not git_publish.has_remote(root, REMOTE):
            raise MlgateError(f"the checkout has no '{REMOTE}' remote to push them to")
        published = git_assets.publish(
            root,
            REMOTE,
            report.assets_branch,
            run,
            images,
            retention_days=report.retention_days,
            now=datetime.now(UTC),
            env={
                **git_publish.identity_env(root, gha.in_actions()),
                **git_publish.token_env(where.ctx.server_url, where.token),
            },
        )
    except MlgateError as exc:
        notes.append(
            Note(
                "warning",
                f"the report's images were not published to branch '{report.assets_branch}' ({exc.message}); "
                "they are in the mlgate-report artifact (publishing needs `contents: write` on the report job)",
            )
        )
        return {}
    base = f"{where.ctx.server_url}/{where.ctx.repository}/raw/{quote(report.assets_branch)}"
    return {relative: f"{base}/{quote(path)}" for relative, path in published.paths.items()}
