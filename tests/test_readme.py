"""README.md stays true: the two commands first, the workflow and config it shows are the real files, and the
actions reference matches every action.yml (inputs, defaults, outputs)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_block_after(heading: str, language: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(rf"```{language}\n(.*?)\n```", section, re.S).group(1)


def test_first_screen_shows_the_demo_and_test_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make demo" in first_screen and "make test" in first_screen
    assert "make test" in (ROOT / ".ci/run").read_text()  # CI runs exactly the README's test command


def test_the_workflow_shown_is_the_template() -> None:
    shown = code_block_after("## Use it in your repository", "yaml")
    assert shown == (ROOT / "workflows-templates/mlgate-pr.yml").read_text().rstrip()


def test_the_policy_shown_is_the_example_config() -> None:
    shown = code_block_after("### `mlgate.yml`", "yaml")
    example = (ROOT / "examples/mlgate.yml").read_text().split("\n", 1)[1].rstrip()
    assert shown == example


def action_files() -> dict[str, Path]:
    found = {"mlgate/mlgate@v1": ROOT / "action.yml"}
    for path in sorted((ROOT / "actions").glob("*/action.yml")):
        found[f"mlgate/mlgate/actions/{path.parent.name}@v1"] = path
    return found


def documented() -> dict[str, tuple[dict[str, str], list[str]]]:
    reference = README.split("## Actions reference", 1)[1].split("\n## ", 1)[0]
    sections = re.split(r"^### `([^`]+)`\n", reference, flags=re.M)[1:]
    result = {}
    for name, body in zip(sections[::2], sections[1::2], strict=True):
        inputs = dict(re.findall(r"^\| `([^`]+)` \| ([^|]*?) \|", body, re.M))
        outputs = re.findall(r"`([^`]+)`", body.split("Outputs:", 1)[1].split("\n", 1)[0]) if "Outputs:" in body else []
        result[name] = (inputs, outputs)
    return result


def test_actions_reference_matches_every_action_yml() -> None:
    docs = documented()
    actions = action_files()
    assert set(docs) == set(actions), "README's Actions reference and the action.yml files list different actions"
    for name, path in actions.items():
        spec = yaml.safe_load(path.read_text())
        inputs, outputs = docs[name]
        declared = {
            key: f"`{value['default']}`"
            if value.get("default") not in (None, "")
            else ("required" if value.get("required") else "")
            for key, value in (spec.get("inputs") or {}).items()
        }
        assert inputs == declared, f"{name}: inputs/defaults in README differ from {path.relative_to(ROOT)}"
        assert outputs == list(spec.get("outputs") or {}), f"{name}: outputs in README differ"
