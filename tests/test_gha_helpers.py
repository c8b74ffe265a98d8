"""Actions runtime helpers: the exact wire formats GitHub's runner parses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlgate import gha


@pytest.fixture
def actions_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name, path in files.items():
        path.touch()
        monkeypatch.setenv(name, str(path))
    return files


def parse_output_file(text: str) -> dict[str, str]:
    """The runner's parser: `k=v` lines and `k<<DELIM` heredocs."""
    values, lines, i = {}, text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif line:
            name, value = line.split("=", 1)
            values[name] = value
            i += 1
        else:
            i += 1
    return values


def test_outputs_single_and_multiline(actions_env: dict[str, Path]) -> None:
    tricky = "line one\nEOF\nghadelimiter_fake\nname=value\n%0A"
    gha.set_output("gate", "pass")
    gha.set_output("report", tricky)
    text = actions_env["GITHUB_OUTPUT"].read_text()
    assert parse_output_file(text) == {"gate": "pass", "report": tricky}
    delimiter = re.search(r"report<<(\S+)", text).group(1)
    assert delimiter.startswith("ghadelimiter_") and delimiter not in tricky


def test_annotation_escaping(actions_env, capsys: pytest.CaptureFixture[str]) -> None:
    gha.annotate("error", "50% of rows\r\nare null", file="data/a,b:c.csv", line=3, title="nulls: 50%")
    out = capsys.readouterr().out.strip()
    assert out == "::error file=data/a%2Cb%3Ac.csv,line=3,title=nulls%3A 50%25::50%25 of rows%0D%0Aare null"


def test_group_and_mask(actions_env, capsys: pytest.CaptureFixture[str]) -> None:
    gha.add_mask("s3cr3t")
    with gha.group("Validate data"):
        print("inside")
    assert capsys.readouterr().out.splitlines() == [
        "::add-mask::s3cr3t",
        "::group::Validate data",
        "inside",
        "::endgroup::",
    ]


def test_summary_appends_and_respects_the_1_mib_cap(actions_env) -> None:
    assert gha.append_summary("# mlgate\n")
    assert gha.append_summary("second")
    assert actions_env["GITHUB_STEP_SUMMARY"].read_text() == "# mlgate\nsecond\n"
    assert not gha.append_summary("x" * gha.SUMMARY_LIMIT_BYTES)
    assert actions_env["GITHUB_STEP_SUMMARY"].stat().st_size == len("# mlgate\nsecond\n")


def test_outside_actions_everything_is_quiet_except_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    output = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    gha.set_output("gate", "pass")
    gha.add_mask("s3cr3t")
    with gha.group("g"):
        pass
    assert not gha.append_summary("x")
    gha.annotate("warning", "3 nulls", file="data/train.csv", line=7)
    captured = capsys.readouterr()
    assert not output.exists()
    assert captured.out == ""
    assert captured.err == "warning: data/train.csv:7: 3 nulls\n"
