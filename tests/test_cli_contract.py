"""The CLI contract: instant, lazy --help; --version; exit codes; one-sentence errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate import __version__

HEAVY = ("pandas", "numpy", "dvc", "deepchecks", "github", "scipy", "sklearn", "pyarrow", "jsonschema")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_help_does_not_import_heavy_modules() -> None:
    probe = (
        "import sys\nfrom mlgate.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    code = e.code\n"
        f"print('\\nLOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\nprint('CODE=' + str(code))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout
    assert "CODE=0" in out
    assert "LOADED=\n" in out, out
    assert "Commands:" in out


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_command_is_usage_error() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_broken_config_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yml").write_text("metrics:\n  gate:\n    accuracy:\n      direction: up\n")
    result = run_cli("config", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "mlgate: error: mlgate.yml:4: metrics.gate.accuracy.direction: must be one of higher, lower (got 'up')"
    )
    assert "Traceback" not in result.stderr


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yml").write_text("data:\n  train: [unclosed\n  label: y\n")
    result = run_cli("config", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mlgate: error: mlgate.yml:")
    assert "is not valid YAML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_errors_become_annotations_inside_actions(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yml").write_text("train:\n  comand: make\n")
    result = run_cli("config", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 2
    assert result.stdout.strip() == (
        "::error file=mlgate.yml,line=2::train.comand: unknown key 'comand' "
        "(allowed: command, repeat, seed_param, seeds)"
    )


def test_debug_shows_traceback(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yml").write_text("train: 3\n")
    quiet = run_cli("config", cwd=tmp_path)
    loud = run_cli("--debug", "config", cwd=tmp_path)
    assert quiet.returncode == loud.returncode == 2
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_config_path_from_flag_or_environment(tmp_path: Path, how: str) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("metrics:\n  gate:\n    accuracy: {direction: higher, max_drop: '2%', min: 0.9}\n")
    args = ("--config", str(policy), "config") if how == "flag" else ("config",)
    env = {"MLGATE_CONFIG": str(policy)} if how == "env" else None
    result = run_cli(*args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "gate accuracy: higher is better, worsening ≤ 2%, min 0.9" in result.stdout


def test_flag_beats_environment(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text("train:\n  command: make train\n")
    result = run_cli("--config", str(good), "config", "--json", cwd=tmp_path, env={"MLGATE_CONFIG": "missing.yml"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["train"]["command"] == "make train"


def test_missing_default_config_means_defaults(tmp_path: Path) -> None:
    result = run_cli("config", "--json", cwd=tmp_path)
    assert result.returncode == 0
    effective = json.loads(result.stdout)
    assert effective["train"]["command"] == "dvc repro"
    assert effective["metrics"]["significance"] == {"alpha": 0.05, "resamples": 2000, "seed": 0}
    assert effective["compare"] == {"base": "auto"}
