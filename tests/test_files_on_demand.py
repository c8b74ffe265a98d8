"""Files on demand: `mlgate validate` on a clean checkout of the example, where only git-tracked files exist.

Real parts: a `git clone` of the reproduced example repository, a local-directory DVC remote, DVC itself pulling
and reproducing, the real CLI in a subprocess. Deepchecks is switched off in the clone's mlgate.yml: it is not
what these tests are about, and it costs seconds each.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from bench.clean_checkout_fixtures import DVC_REMOTE, cached_objects, clean_checkout
from bench.example_fixtures import dvc, git, hermetic_env
from bench.report_fixtures import run_mlgate

from mlgate.adapters.dvc_fetch import make_present
from mlgate.adapters.dvc_repo import open_project
from mlgate.drivers.outbox import Outbox


def checkout(origin: Path, tmp_path: Path, *, remote: bool) -> Path:
    repo = clean_checkout(origin, tmp_path / "checkout", remote=remote)
    config = yaml.safe_load((repo / "mlgate.yml").read_text(encoding="utf-8"))
    config["data"]["checks"]["deepchecks"] = []
    (repo / "mlgate.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return repo


def mlgate(repo: Path, *args: str):
    return run_mlgate(*args, cwd=repo, env=hermetic_env(repo) | {"DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY": "1"})


def files_of(repo: Path, step: str = "validation") -> dict[str, str]:
    result = json.loads((repo / ".mlgate" / "results" / f"{step}.json").read_text(encoding="utf-8"))
    return {item["path"]: item["detail"] for item in result["evidence"].get("files", [])}


def test_a_clean_checkout_pulls_exactly_the_data_it_validates(dvc_origin: Path, tmp_path: Path) -> None:
    repo = checkout(dvc_origin, tmp_path, remote=True)
    assert not (repo / "data").exists() and cached_objects(repo) == []

    run = mlgate(repo, "validate")

    assert run.returncode == 0, run.stderr
    pulled = f"pulled from DVC remote '{DVC_REMOTE}'"
    assert f"file data/train.csv: {pulled}" in run.stdout and f"file data/test.csv: {pulled}" in run.stdout
    assert files_of(repo) == {"data/train.csv": pulled, "data/test.csv": pulled}
    assert not (repo / "model.pkl").exists()  # only the targets: the model stays on the remote
    assert len(cached_objects(repo)) == 2


def test_without_a_remote_only_the_stage_producing_the_data_runs(dvc_origin: Path, tmp_path: Path) -> None:
    repo = checkout(dvc_origin, tmp_path, remote=False)

    run = mlgate(repo, "validate")

    assert run.returncode == 0, run.stderr
    assert files_of(repo) == {
        "data/train.csv": "reproduced stage prepare",
        "data/test.csv": "reproduced stage prepare",
    }
    assert "Running stage 'prepare'" in run.stderr and "'train'" not in run.stderr
    assert not (repo / "model.pkl").exists()  # validation ran before training, and did not train


def test_a_git_tracked_file_deleted_from_the_workspace_is_restored(dvc_origin: Path, tmp_path: Path) -> None:
    repo = checkout(dvc_origin, tmp_path, remote=True)
    committed = (repo / "eval" / "predictions.csv").read_bytes()
    (repo / "eval" / "predictions.csv").unlink()

    [obtained] = make_present(open_project(repo), [repo / "eval" / "predictions.csv"])

    assert obtained.line == "eval/predictions.csv: restored from git"
    assert (repo / "eval" / "predictions.csv").read_bytes() == committed


def test_validation_never_trains_to_get_a_file(dvc_origin: Path, tmp_path: Path) -> None:
    repo = checkout(dvc_origin, tmp_path, remote=False)
    config = (repo / "mlgate.yml").read_text(encoding="utf-8")
    (repo / "mlgate.yml").write_text(config.replace("test: data/test.csv", "test: model.pkl"), encoding="utf-8")

    run = mlgate(repo, "validate")

    assert run.returncode == 2
    assert "data.test: file 'model.pkl' is an output of stage 'train'" in run.stderr
    assert "reproducing it would run stage 'train', which produces model.pkl (deploy.model)" in run.stderr
    assert "dvc remote add -d NAME URL" in run.stderr and "Traceback" not in run.stderr
    assert not (repo / "model.pkl").exists() and not (repo / "data" / "train.csv").exists()  # nothing ran


@pytest.fixture
def unfetchable(dvc_origin: Path, tmp_path: Path) -> Path:
    """A clean checkout whose train data is `dvc add`ed (raw/extra.csv.dvc) but pushed nowhere, and no remote."""
    author = clean_checkout(dvc_origin, tmp_path / "author", remote=False)
    (author / "raw" / "extra.csv").write_bytes((dvc_origin / "data" / "train.csv").read_bytes())
    dvc(author, "add", "--quiet", "raw/extra.csv")
    config = (
        (author / "mlgate.yml").read_text(encoding="utf-8").replace("train: data/train.csv", "train: raw/extra.csv")
    )
    (author / "mlgate.yml").write_text(config, encoding="utf-8")
    git(author, "add", "--all")
    git(author, "commit", "--quiet", "--message", "Train on raw/extra.csv, tracked by DVC, pushed nowhere")
    return checkout(author, tmp_path / "ci", remote=True)  # the author's clone has no remote to drop


def test_a_file_nothing_can_provide_is_one_sentence_and_an_error_row(unfetchable: Path) -> None:
    repo = unfetchable
    run = mlgate(repo, "validate")

    assert run.returncode == 2 and "Traceback" not in run.stderr
    sentence = (
        "mlgate.yml:2: data.train: file 'raw/extra.csv' is tracked by raw/extra.csv.dvc but is not in the DVC cache, "
        "and no DVC remote is configured: configure the DVC remote that holds it (`dvc remote add -d NAME URL`), "
        "or commit the file to git"
    )
    assert sentence in run.stderr
    result = json.loads((repo / ".mlgate" / "results" / "validation.json").read_text(encoding="utf-8"))
    assert result["verdict"] == "error" and "raw/extra.csv.dvc" in result["summary"]

    report = mlgate(repo, "report", "--driver", "local", "--pr", "1")
    assert report.returncode == 1, report.stderr
    outbox = Outbox(repo / ".mlgate" / "outbox")
    [comment], [check], [summary] = outbox.list("comment"), outbox.list("check"), outbox.list("summary")
    for markdown in (comment["body"], summary["markdown"], check["summary"] + (check["text"] or "")):
        row = next(line for line in markdown.splitlines() if line.startswith("| validation"))
        assert "error" in row and "raw/extra.csv.dvc" in row
    assert check["conclusion"] == "failure" and "validation" in check["title"]
    assert "fail: fail" not in check["title"] and "error: error" not in check["title"]


def test_a_commit_made_before_the_remote_was_configured_reads_from_todays_remote(dvc_origin: Path, tmp_path: Path):
    """A version registered before the team added its DVC remote (HEAD~1 here has no remote in its .dvc/config),
    deployed again later (a rollback): its model comes from the remote the checkout configures now."""
    from mlgate.adapters.dvc_repo import read_file

    repo = clean_checkout(dvc_origin, tmp_path / "checkout")
    before = git(repo, "rev-parse", "HEAD~1")
    assert "remote" not in git(repo, "show", f"{before}:.dvc/config")

    model = read_file(open_project(repo), before, "model.pkl")

    assert model == (dvc_origin / "model.pkl").read_bytes()
