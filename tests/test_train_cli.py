"""`mlgate train`: runs the training command in the user's environment (never mlgate's venv), records exit
code, times, peak RSS of the process tree, GPU use and the log tail, and collects metrics and params."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from bench.metrics_repo_fixtures import MetricsRepo, read_json

VENV = Path(sys.prefix).resolve()

WRITE_METRICS = textwrap.dedent(
    """\
    import json
    for step in range(60):
        print(f"epoch {step}: loss {1 / (step + 1):.3f}", flush=True)
    json.dump({"accuracy": 0.91, "nested": {"deep": {"f1": 0.8}}}, open("metrics.json", "w"))
    """
)


def test_train_records_run_and_metrics(metrics_repo: MetricsRepo, invoke, tmp_path: Path):
    metrics_repo.write("train.py", WRITE_METRICS)
    metrics_repo.write("params.yaml", "lr: 0.1\n")
    output = tmp_path / "output"
    run = invoke(
        "train", "--", sys.executable, "train.py",
        cwd=metrics_repo.path, env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)},
    )  # fmt: skip
    assert run.code == 0, run.out + run.err
    assert "epoch 59: loss 0.017" in run.out  # the command's output shows in the job log as it runs
    result = read_json(metrics_repo.path / ".mlgate/results/train.json")
    evidence = result["evidence"]
    assert result["verdict"] == "pass"
    assert result["summary"].startswith("trained in ") and result["summary"].endswith("s; 2 metrics from 1 file")
    assert evidence["command"] == [sys.executable, "train.py"]
    assert evidence["exit_code"] == 0
    assert evidence["wall_seconds"] > 0 and evidence["cpu_seconds"] > 0
    assert evidence["peak_rss_bytes"] > 5 * 2**20
    assert evidence["gpu"] is None
    assert evidence["log_tail"][-1] == "epoch 59: loss 0.017"
    assert len(evidence["log_tail"]) == 50
    assert (metrics_repo.path / evidence["log_file"]).read_text().count("\n") == 60
    assert evidence["metrics"] == {"metrics.json": {"accuracy": 0.91, "nested.deep.f1": 0.8}}
    assert result["commits"]["head"] is None  # no commit yet in this repository
    outputs = output.read_text().splitlines()
    assert outputs[0] == 'metrics={"metrics.json": {"accuracy": 0.91, "nested.deep.f1": 0.8}}'
    assert outputs[1] == "results=.mlgate/results/train.json"


def test_failed_command_fails_with_log_tail(metrics_repo: MetricsRepo, invoke):
    metrics_repo.write(
        "train.py", "import sys\nfor i in range(100):\n    print('line', i)\nsys.exit('boom: out of data')\n"
    )
    run = invoke("train", "--log-tail", "5", "--", sys.executable, "train.py", cwd=metrics_repo.path)
    assert run.code == 1
    result = read_json(metrics_repo.path / ".mlgate/results/train.json")
    assert result["verdict"] == "fail"
    assert result["summary"] == "the training command exited with code 1; metrics.json was not produced"
    assert result["evidence"]["log_tail"] == ["line 96", "line 97", "line 98", "line 99", "boom: out of data"]
    assert "  | boom: out of data" in run.err


def test_a_command_that_cannot_start_fails_cleanly(metrics_repo: MetricsRepo, invoke):
    run = invoke("train", "--", "no-such-trainer", "--epochs", "3", cwd=metrics_repo.path)
    assert run.code == 1
    evidence = read_json(metrics_repo.path / ".mlgate/results/train.json")["evidence"]
    assert evidence["exit_code"] == 127
    assert evidence["log_tail"] == ["cannot run 'no-such-trainer': No such file or directory"]


def test_command_comes_from_dash_dash_then_flag_then_env_then_config(metrics_repo: MetricsRepo, invoke):
    metrics_repo.write("mlgate.yml", "train:\n  command: echo from-config > which.txt\n")

    def used(*args: str, **env: str) -> str:
        invoke("train", *args, cwd=metrics_repo.path, env=env)
        return (metrics_repo.path / "which.txt").read_text().strip()

    assert used() == "from-config"
    assert used(MLGATE_TRAIN_COMMAND="echo from-env > which.txt") == "from-env"
    assert used("--command", "echo from-flag > which.txt", MLGATE_TRAIN_COMMAND="echo env > which.txt") == "from-flag"
    assert used("--command", "echo flag > which.txt", "--", "sh", "-c", "echo from-argv > which.txt") == "from-argv"


def test_training_environment_excludes_mlgates_venv(metrics_repo: MetricsRepo, invoke, monkeypatch):
    user_dir = str(metrics_repo.path / "user-lib")
    monkeypatch.setenv("PATH", os.pathsep.join([str(VENV / "bin"), os.environ["PATH"]]))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(VENV / "lib"), user_dir]))
    monkeypatch.setenv("PYTHONHOME", str(VENV))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    probe = 'env > env.txt; command -v dvc > dvc.txt; readlink -f "$(command -v dvc)" >> dvc.txt'
    run = invoke("train", "--", "sh", "-c", probe, cwd=metrics_repo.path)
    assert run.code == 1  # no metrics.json: the probe does not train
    env = dict(line.split("=", 1) for line in (metrics_repo.path / "env.txt").read_text().splitlines() if "=" in line)
    path = env["PATH"].split(os.pathsep)
    assert not [entry for entry in path if Path(entry).resolve().is_relative_to(VENV)]
    assert "VIRTUAL_ENV" not in env and "PYTHONHOME" not in env
    assert env["PYTHONPATH"] == user_dir
    # `dvc` stays available (the default command is `dvc repro`), last on PATH, so the user's own wins.
    dvc, target = (metrics_repo.path / "dvc.txt").read_text().splitlines()
    assert Path(dvc).parent == Path(path[-1]) and Path(target) == (VENV / "bin" / "dvc").resolve()
    removed = read_json(metrics_repo.path / ".mlgate/results/train.json")["evidence"]["env_removed"]
    assert removed == ["PYTHONHOME", f"PATH={VENV / 'bin'}", f"PYTHONPATH={VENV / 'lib'}"]


def test_the_training_command_never_gets_mlgates_github_token(metrics_repo: MetricsRepo, invoke, monkeypatch):
    """The action hands mlgate the job's token for the report; the PR's own code that trains must not get it."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_job_token")
    invoke("train", "--", "sh", "-c", 'echo "token=${GITHUB_TOKEN:-none}" > env.txt', cwd=metrics_repo.path)
    assert (metrics_repo.path / "env.txt").read_text() == "token=none\n"
    removed = read_json(metrics_repo.path / ".mlgate/results/train.json")["evidence"]["env_removed"]
    assert "GITHUB_TOKEN" in removed


def test_a_venv_the_user_activated_is_their_environment(metrics_repo: MetricsRepo, invoke, monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join([str(VENV / "bin"), os.environ["PATH"]]))
    monkeypatch.setenv("VIRTUAL_ENV", str(VENV))
    invoke("train", "--", "sh", "-c", 'echo "$VIRTUAL_ENV:$PATH" > env.txt', cwd=metrics_repo.path)
    assert (metrics_repo.path / "env.txt").read_text().startswith(f"{VENV}:{VENV / 'bin'}{os.pathsep}")


def test_peak_rss_covers_the_whole_process_tree(metrics_repo: MetricsRepo, invoke):
    """The parent holds 80 MiB while its child holds 120 MiB: only the tree sum reaches 200 MiB."""
    hold = "import time; block = b'x' * ({mib} * 2**20); time.sleep(1.5)"
    script = textwrap.dedent(
        f"""\
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", {hold.format(mib=120)!r}])
        time.sleep(0.2)
        {hold.format(mib=80)}
        child.wait()
        open("metrics.json", "w").write('{{"accuracy": 1}}')
        """
    )
    metrics_repo.write("train.py", script)
    run = invoke("train", "--", sys.executable, "train.py", cwd=metrics_repo.path)
    assert run.code == 0, run.out + run.err
    evidence = read_json(metrics_repo.path / ".mlgate/results/train.json")["evidence"]
    assert evidence["peak_rss_bytes"] >= 200 * 2**20
    assert evidence["wall_seconds"] >= 1.5


def test_gpu_usage_comes_from_nvidia_smi(metrics_repo: MetricsRepo, invoke, monkeypatch, tmp_path: Path):
    """A stand-in nvidia-smi (the real one needs a GPU) answering the query mlgate sends, for two GPUs."""
    tools = tmp_path / "gpu-tools"
    tools.mkdir()
    fake = tools / "nvidia-smi"
    fake.write_text(
        '#!/bin/sh\n[ "$1" = "--query-gpu=memory.used,utilization.gpu" ] || exit 9\n'
        '[ "$2" = "--format=csv,noheader,nounits" ] || exit 9\nprintf "2048, 35\\n1024, 80\\n"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tools), os.environ["PATH"]]))
    metrics_repo.write("metrics.json", '{"accuracy": 1}')
    run = invoke("train", "--", "sleep", "0.5", cwd=metrics_repo.path)
    assert run.code == 0, run.out + run.err
    gpu = read_json(metrics_repo.path / ".mlgate/results/train.json")["evidence"]["gpu"]
    assert gpu["peak_memory_mib"] == 3072.0
    assert gpu["peak_utilization_percent"] == 80.0
    assert gpu["samples"] >= 1


def test_malformed_metrics_after_training_fail(metrics_repo: MetricsRepo, invoke):
    run = invoke("train", "--", "sh", "-c", "echo '{\"accuracy\": }' > metrics.json", cwd=metrics_repo.path)
    assert run.code == 1
    result = read_json(metrics_repo.path / ".mlgate/results/train.json")
    assert result["summary"] == "metrics.json: is not valid JSON (Expecting value)"
    assert result["evidence"]["metrics_errors"] == {"metrics.json": "is not valid JSON (Expecting value)"}


@pytest.mark.parametrize("output", ["1e400", "NaN"])
def test_non_finite_metrics_are_null_in_outputs(metrics_repo: MetricsRepo, invoke, tmp_path: Path, output: str):
    out = tmp_path / "out"
    command = f"echo '{{\"loss\": {output}}}' > metrics.json"
    run = invoke("train", "--", "sh", "-c", command, cwd=metrics_repo.path,
                 env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out)})  # fmt: skip
    assert run.code == 0, run.err
    assert json.loads(out.read_text().splitlines()[0].removeprefix("metrics=")) == {"metrics.json": {"loss": None}}


def test_train_records_a_resource_timeline_and_the_report_charts_it(metrics_repo: MetricsRepo, invoke):
    from bench.report_fixtures import mermaid_blocks, parse_mermaid

    from mlgate.report.render import ReportContext, render
    from mlgate.results import read_result

    metrics_repo.write(
        "train.py",
        "import json, time\nblocks = []\nstart = time.time()\n"
        "while time.time() < start + 2.6:  # busy, and 40 MiB more each second\n"
        "    sum(range(20000))\n    if len(blocks) < (time.time() - start) * 40: blocks.append(b'x' * 2**20)\n"
        "json.dump({'accuracy': 0.9}, open('metrics.json', 'w'))\n",
    )
    run = invoke("train", "--", sys.executable, "train.py", cwd=metrics_repo.path)
    assert run.code == 0, run.out + run.err
    path = metrics_repo.path / ".mlgate/results/train.json"
    timeline = read_json(path)["evidence"]["timeline"]
    assert timeline["interval_seconds"] == 1.0
    assert 2 <= len(timeline["t"]) <= 3 and timeline["t"][0] == 0
    assert {len(timeline[name]) for name in ("cpu_percent", "rss_bytes", "read_bytes", "write_bytes")} == {
        len(timeline["t"])
    }
    evidence = read_json(path)["evidence"]
    busy = sum(timeline["cpu_percent"]) / 100 * timeline["interval_seconds"]  # CPU seconds the timeline saw
    assert 0 < busy <= evidence["cpu_seconds"] * 1.1 + 0.1  # a busy loop, never more than the run's own CPU
    assert timeline["rss_bytes"][-1] > timeline["rss_bytes"][0] > 0  # memory grew while it ran
    text = render([read_result(path)], ReportContext(), limit=65_536).text
    assert "| CPU (mean / peak, 100% = one core) |" in text and "| memory over time (mean / peak) |" in text
    (chart,) = [d for d in mermaid_blocks(text) if "Resources during training" in d]
    assert parse_mermaid([chart])[0]["ok"]


def test_a_long_timeline_merges_to_at_most_600_evenly_spaced_points():
    from mlgate.adapters.monitor import MAX_TIMELINE_POINTS, Timeline

    timeline, second, added = Timeline(), 0.0, 0
    while second < 5_000:  # as the sampler adds them: one point per (current) interval of a 5000 s run
        timeline.add({"t": second, "cpu_percent": 100.0, "rss_bytes": second, "read_bytes": 1, "write_bytes": 2})
        second, added = second + timeline.interval_seconds, added + 1
    columns = timeline.to_dict()
    assert len(columns["t"]) <= MAX_TIMELINE_POINTS and columns["interval_seconds"] == 16.0
    assert columns["t"][:2] == [0.0, 16.0] and columns["cpu_percent"][0] == 100.0
    assert columns["rss_bytes"][0] == 15.0  # levels keep their maximum
    assert sum(columns["read_bytes"]) == added  # bytes are summed, never lost
