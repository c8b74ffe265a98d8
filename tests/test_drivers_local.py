"""Driver selection and the local outbox records."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.drivers import choose_driver
from mlgate.drivers.outbox import Outbox, safe_key
from mlgate.errors import InputError


@pytest.mark.parametrize(
    ("requested", "env", "token", "expected"),
    [
        ("auto", {}, None, "local"),
        ("auto", {"GITHUB_ACTIONS": "true"}, None, "local"),
        ("auto", {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "ghs_x"}, None, "github"),
        ("auto", {"GITHUB_ACTIONS": "true"}, "ghs_x", "github"),
        ("auto", {"GITHUB_TOKEN": "ghs_x"}, None, "local"),
        ("github", {}, None, "github"),
        ("local", {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "t"}, None, "local"),
    ],
)
def test_choose_driver(requested: str, env: dict[str, str], token: str | None, expected: str) -> None:
    assert choose_driver(requested, env, token) == expected


def test_unknown_driver() -> None:
    with pytest.raises(InputError, match="--driver must be one of auto, github, local"):
        choose_driver("gitlab", {})


def test_outbox_put_replaces_and_lists(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.put("comment", "pr-7 mlgate", {"body": "first"})
    outbox.put("comment", "pr-7 mlgate", {"body": "second"})
    outbox.put("comment", "pr-8 mlgate", {"body": "other"})
    assert outbox.get("comment", "pr-7 mlgate") == {"body": "second"}
    assert [r["body"] for r in outbox.list("comment")] == ["second", "other"]
    assert outbox.list("check") == []


def test_outbox_keys_cannot_escape_the_outbox(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    path = outbox.put("tag", "../../etc/passwd", {"x": 1})
    assert path.resolve().is_relative_to((tmp_path / "outbox").resolve())
    assert safe_key("churn-model#production#3") == "churn-model#production#3"
    assert safe_key("..") == "_"
