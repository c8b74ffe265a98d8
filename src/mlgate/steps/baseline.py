"""The base side of a comparison: where the base commit's model, metrics and predictions are read (compare.base).

`committed` reads them as the base commit holds them (git, the DVC cache, the DVC remote) and fails closed
without them; `reproduce` always re-runs the stages that produce them at the base commit
(mlgate.adapters.base_reproduction: DVC's run-cache first); `auto` reads what was committed when all of it can
be had and the base is not stale (`dvc status` at the base), else reproduces and says why. The decision is made
once per run and base commit, so the serving check and compare measure the same base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.steps.base import Project

if TYPE_CHECKING:
    from mlgate.adapters.base_reproduction import Reproduction
    from mlgate.adapters.dvc_repo import Project as Repo
    from mlgate.adapters.dvc_stages import StaleStage

COMMITTED, REPRODUCED = "committed", "reproduced"


@dataclass(frozen=True)
class Baseline:
    """The base commit, and the revision its outputs are read at."""

    sha: str  # the base commit
    mode: str  # compare.base: auto | committed | reproduce
    stale: tuple[StaleStage, ...] = ()  # what `dvc status` found changed at the base commit
    unvouched: str | None = None  # why DVC could not tell whether the base is up to date
    reproduction: Reproduction | None = None

    @property
    def rev(self) -> str:
        """Where the base's outputs are read: the commit reproduction made, else the base commit itself."""
        return self.reproduction.commit if self.reproduction is not None else self.sha

    @property
    def how(self) -> str:
        return REPRODUCED if self.reproduction is not None else COMMITTED

    @property
    def said(self) -> str | None:
        """How the base was obtained, for the summary line: None when it is what the base commit holds."""
        if self.reproduction is None:
            return None
        return f"base reproduced in CI: {self.reproduction.reason}"

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"mode": self.mode, "how": self.how, "commit": self.sha}
        if self.reproduction is not None:
            found |= {"reason": self.reproduction.reason} | self.reproduction.to_dict()
        return found


def stale_said(stale: tuple[StaleStage, ...]) -> str:
    return "base is stale: " + ", ".join(f"{s.stage} changed ({', '.join(s.changed)})" for s in stale)


def _wanted(project: Project, repo: Repo, sha: str) -> list[str]:
    """The base files a comparison reads (relative to the project root): the metrics files, the predictions,
    the serving model."""
    from mlgate.adapters import dvc_repo

    cfg = project.config
    files = [repo.relative(cfg.resolve(f)) for f in cfg.metrics.files]
    wanted = files or dvc_repo.read_snapshot(repo, sha, from_dvc=False).metrics_files
    if cfg.metrics.predictions is not None:
        wanted.append(repo.relative(cfg.resolve(cfg.metrics.predictions)))
    model = cfg.serving.model or cfg.deploy.model
    if cfg.serving.enabled and model is not None:
        wanted.append(repo.relative(cfg.resolve(model)))
    return list(dict.fromkeys(wanted))


def _unobtainable(repo: Repo, sha: str, files: list[str]) -> str | None:
    """Why one of the base's files cannot be had as committed (tracked by DVC, its object in neither cache nor
    remote: asked by hash, not downloaded); None when all can (a file the base simply lacks is no baseline, which
    reproducing would not change; records that do not parse are the readers' own error)."""
    from mlgate.adapters import dvc_repo
    from mlgate.adapters.dvc_outputs import DvcReadError

    in_git = set(dvc_repo.Tree(repo, sha).files())
    for path in files:
        if path in in_git:
            continue
        try:
            out = dvc_repo.recorded_out(repo, sha, path)
        except DvcReadError:
            continue
        if out is not None and (reason := repo.outputs.unavailable(sha, out)) is not None:
            return f"its {path} {reason.split(': ')[0]}"
    return None


def base_of(project: Project, sha: str, mode: str | None = None) -> Baseline:
    """The base side for the base commit `sha`, decided once per project run (serving and compare share it);
    `mode` overrides compare.base."""
    mode = mode or project.config.compare.base
    key = ("baseline", sha, mode)
    if key not in project.memo:
        try:
            project.memo[key] = _obtain(project, sha, mode)
        except InputError as exc:
            project.memo[key] = exc
    found = project.memo[key]
    if isinstance(found, InputError):
        raise found
    return found


def _obtain(project: Project, sha: str, mode: str) -> Baseline:
    from mlgate.adapters import base_reproduction, dvc_repo, dvc_stages

    cfg = project.config
    repo = dvc_repo.open_project(cfg.root)
    if not repo.is_dvc:
        if mode == "reproduce":
            raise cfg.error(("compare", "base"), "reproduce needs a DVC pipeline (dvc.yaml) to re-run at the base")
        return Baseline(sha, mode)
    stale: tuple[dvc_stages.StaleStage, ...] = ()
    unvouched = None
    try:
        stale = tuple(dvc_stages.stale_stages(repo.root, sha))
    except InputError as exc:  # e.g. a DVC 1.x lock DVC 3 will not load: the metrics are still read by hash
        unvouched = exc.message
    committed = Baseline(sha, mode, stale, unvouched)
    if mode == "committed":
        return committed
    files = _wanted(project, repo, sha)
    # Reproduced earlier in this job (another step) or run: read that again, whatever the cache holds by now.
    if (found := base_reproduction.earlier(repo.git_root, sha, files)) is not None:
        return Baseline(sha, mode, stale, unvouched, found)
    if mode == "reproduce":
        reason = "compare.base is reproduce"
    elif stale:
        reason = stale_said(stale)
    else:
        reason = _unobtainable(repo, sha, files)
        if reason is None:
            return committed
    reproduction = base_reproduction.reproduce(
        repo.git_root, repo.root, sha, files, reason, project.results_dir / "base-reproduction.log"
    )
    return Baseline(sha, mode, stale, unvouched, reproduction)
