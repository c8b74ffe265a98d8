"""Bad-input corpus: mlgate.yml (through `mlgate config`, which every command's config loading shares).

Each row is one malformed policy file; tests/test_config.py covers the schema's own messages, this corpus the
file-level hostility: truncation, encodings, binary bytes, non-finite numbers, YAML bombs, depth and size.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.faults_fixtures import (
    BadInput,
    Content,
    Device,
    Fifo,
    Folder,
    Link,
    Socket,
    Sparse,
    bad_input_params,
    check_bad_input,
)


def config(id: str, content: Content, culprit: str | tuple[str, ...] = "mlgate.yml", **kw: str) -> BadInput:
    return BadInput(id, {"mlgate.yml": content}, ("config",), culprit, xfail=kw.get("xfail"))


def bomb(levels: int, width: int) -> str:
    """A "billion laughs": each level lists the previous one `width` times, so the data is width**levels."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


GOOD = (
    "data:\n  train: data/train.csv\n  label: target\n"
    "metrics:\n  gate:\n    accuracy: {direction: higher, max_drop: 0.01}\n"
)

CASES = [
    config("truncated-flow-mapping", GOOD[: GOOD.index("max_drop") + 5], "mlgate.yml:6"),
    config("truncated-flow-sequence", "metrics:\n  files: [metrics.json, eval/"),
    config("truncated-quoted-string", 'train:\n  command: "python train.py'),
    config("wrong-type-section", "train: [dvc, repro]\n", "train"),
    config("wrong-type-number-as-text", "metrics:\n  gate:\n    accuracy: {direction: higher, min: high}\n", "min"),
    config("wrong-type-bool-as-count", "metrics:\n  history: yes\n", "metrics.history"),
    config("top-level-list", "- data\n- train\n", "mlgate.yml"),
    config("top-level-text", "just some words\n", "mlgate.yml"),
    config("unknown-key-typo", "metrics:\n  gaet: {}\n", "gaet"),
    config("duplicate-key", "train:\n  command: a\n  command: b\n", "train.command"),
    config("non-string-key", "metrics:\n  gate:\n    1: {direction: higher}\n", "metrics.gate"),
    config("nan-bound", "metrics:\n  gate:\n    accuracy: {direction: higher, min: .nan}\n", "accuracy.min"),
    config("inf-bound", "metrics:\n  gate:\n    loss: {direction: lower, max: .inf}\n", "loss.max"),
    config("nan-tolerance", "metrics:\n  gate:\n    accuracy: {direction: higher, max_drop: .nan}\n", "max_drop"),
    config("inf-alpha", "metrics:\n  significance: {alpha: -.inf}\n", "alpha"),
    config("nan-null-fraction", "data:\n  checks:\n    nulls: {max_fraction: .NaN}\n", "max_fraction"),
    config(
        "percent-without-number", "metrics:\n  gate:\n    accuracy: {direction: higher, max_drop: '%'}\n", "max_drop"
    ),
    config("utf16-with-bom", GOOD.encode("utf-16"), "not UTF-8"),
    config("latin1-bytes", "train:\n  command: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    config("binary-garbage", bytes(range(256)) * 4, "mlgate.yml"),
    config("nul-in-text", "train:\n  command: make\x00 train\n", "mlgate.yml"),
    config("python-object-tag", "train: !!python/object/apply:os.system ['echo pwned']\n", "mlgate.yml"),
    config("yaml-alias-bomb", bomb(9, 9), "mlgate.yml"),
    config("deep-nesting", "train: " + "[" * 5000 + "]" * 5000 + "\n", "mlgate.yml"),
    config("huge-file", Sparse(64 * 1024 * 1024, b"train:\n  command: make\n# "), "mlgate.yml"),
    config("a-directory", Folder(), "mlgate.yml"),
    config("symlink-loop", Link("mlgate.yml"), "mlgate.yml"),
    # Special files: a FIFO blocked forever, a device never ends; each is refused by stat before it is opened.
    config("a-fifo", Fifo(), ("mlgate.yml", "a FIFO")),
    config("a-device", Device(), ("mlgate.yml", "a character device")),
    config("a-socket", Socket(), ("mlgate.yml", "a socket")),
]


@pytest.mark.parametrize("case", bad_input_params(CASES, "config"))
def test_bad_config(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path)


def test_a_merge_key_then_an_override_is_valid(tmp_path: Path) -> None:
    """`<<: *anchor` then an explicit key of the same name is YAML's override, not a duplicate key; the same key
    twice among a mapping's own entries still is."""
    from bench.faults_fixtures import materialize, run_cli

    merged = (
        "metrics:\n  gate:\n    accuracy: &higher {direction: higher, max_drop: 0.01}\n"
        "    f1:\n      <<: *higher\n      max_drop: 0.05\n"
    )
    materialize(tmp_path, {"mlgate.yml": merged})
    done = run_cli("config", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gate f1: higher is better, worsening ≤ 0.05" in done.stdout, done.stdout
    assert "gate accuracy: higher is better, worsening ≤ 0.01" in done.stdout, done.stdout
    (tmp_path / "mlgate.yml").write_text(merged + "      max_drop: 0.02\n", encoding="utf-8")
    again = run_cli("config", cwd=tmp_path)
    assert again.returncode == 2 and "mlgate.yml:7: metrics.gate.f1.max_drop: duplicate key" in again.stderr, again
