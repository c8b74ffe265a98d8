"""`mlgate deploy` ships exactly the model the gate approved: on a clean checkout of the example, the model is
fetched by the md5 dvc.lock records at the deployed commit and verified before anything is tagged or deployed.

Real parts: a `git clone` of the reproduced example with a local-directory DVC remote, DVC pulling the model, the
real CLI in a subprocess, the local driver's deployment records, the registry's git tags.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from bench.clean_checkout_fixtures import clean_checkout
from bench.example_fixtures import dvc, git, hermetic_env
from bench.report_fixtures import run_mlgate

from mlgate.results import StepResult, write_result

DEPLOY_SCRIPT = 'echo "$MLGATE_MODEL_MD5 $(md5sum < "$MLGATE_MODEL_PATH" | cut -d" " -f1)" >> deployed.log\n'


def deployable(origin: Path, tmp_path: Path, *, remote: bool = True) -> Path:
    """A clean checkout whose deploy command logs the md5 it was told and the md5 of the file it was given, and
    whose HEAD passed the gate (compare's result in the bundle)."""
    repo = clean_checkout(origin, tmp_path / "checkout", remote=remote)
    (repo / "deploy.sh").write_text(DEPLOY_SCRIPT, encoding="utf-8")
    config = yaml.safe_load((repo / "mlgate.yml").read_text(encoding="utf-8"))
    config["deploy"]["command"] = "sh deploy.sh"
    (repo / "mlgate.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    head = git(repo, "rev-parse", "HEAD")
    write_result(repo / ".mlgate" / "results", StepResult("compare", "pass", "gate", {"head": head}, {}))
    return repo


def recorded_md5(repo: Path) -> str:
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"] == "model.pkl")


def deploy(repo: Path):
    return run_mlgate(
        "deploy", "--driver", "local", "--no-push", "--environment", "staging", cwd=repo, env=hermetic_env(repo)
    )


def deployments(repo: Path) -> list[dict]:
    folder = repo / ".mlgate" / "outbox" / "deployment"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def tag_messages(repo: Path) -> list[str]:
    return [git(repo, "tag", "--list", "--format=%(contents)", name) for name in git(repo, "tag", "--list").split()]


def test_the_model_is_pulled_by_its_recorded_hash_and_the_hash_travels(dvc_origin: Path, tmp_path: Path) -> None:
    repo = deployable(dvc_origin, tmp_path)
    md5 = recorded_md5(repo)

    run = deploy(repo)

    assert run.returncode == 0, run.stderr
    assert (repo / "deployed.log").read_text(encoding="utf-8").split() == [md5, md5]
    result = json.loads((repo / ".mlgate" / "results" / "deploy.json").read_text(encoding="utf-8"))
    assert result["evidence"]["model_file"] == {
        "path": "model.pkl",
        "md5": md5,
        "recorded_in": "dvc.lock stage 'train'",
        "obtained": "pulled from DVC remote 'store'",
    }
    [record] = deployments(repo)
    assert record["payload"]["model_md5"] == md5
    messages = tag_messages(repo)
    assert len(messages) == 2 and all(f"model model.pkl md5 {md5} (dvc.lock stage 'train')" in m for m in messages)


def test_a_tampered_cache_object_deploys_nothing(dvc_origin: Path, tmp_path: Path) -> None:
    repo = deployable(dvc_origin, tmp_path)
    md5 = recorded_md5(repo)
    dvc(repo, "fetch", "--quiet", "model.pkl")
    cached = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.chmod(0o644)
    cached.write_bytes(cached.read_bytes() + b"tampered")
    tampered = hashlib.md5(cached.read_bytes()).hexdigest()

    run = deploy(repo)

    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"deploy.model: file 'model.pkl' has md5 {tampered}, not the {md5} that dvc.lock stage 'train'" in run.stderr
    assert "nothing was deployed" in run.stderr
    assert not (repo / "deployed.log").exists() and deployments(repo) == [] and tag_messages(repo) == []
    result = json.loads((repo / ".mlgate" / "results" / "deploy.json").read_text(encoding="utf-8"))
    assert result["verdict"] == "error"


def test_a_model_no_remote_holds_is_never_retrained_to_deploy(dvc_origin: Path, tmp_path: Path) -> None:
    repo = deployable(dvc_origin, tmp_path, remote=False)

    run = deploy(repo)

    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert (
        "deploy.model: file 'model.pkl' is an output of stage 'train' and is not in the DVC cache, and no DVC remote "
        "is configured; a deployment ships the model the gate approved, so mlgate never reruns the stage that makes "
        "it: configure the DVC remote that holds it (`dvc remote add -d NAME URL`)"
    ) in run.stderr
    assert not (repo / "model.pkl").exists() and deployments(repo) == [] and tag_messages(repo) == []
