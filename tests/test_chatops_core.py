"""The `/mlgate` grammar and the authorization policy (pure core): what is a command, what is refused, why."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.chatops.commands import MAX_BODY, Command, CommandRefused, command_lines, parse_comment
from mlgate.chatops.policy import (
    Comment,
    permission_refusal,
    refusal_before_permission,
    required_role,
    role_of,
)
from mlgate.config.model import ChatOpsConfig

ENVIRONMENTS = ("staging", "production")
ARTIFACT = "churn-model"


def parse(body: str) -> Command | None:
    return parse_comment(body, ENVIRONMENTS, ARTIFACT)


def refused(body: str) -> str:
    with pytest.raises(CommandRefused) as caught:
        parse(body)
    return caught.value.message


# ------------------------------------------------------------------------------------------------ grammar


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/mlgate help", Command("help")),
        ("/mlgate rerun", Command("rerun")),
        ("/mlgate retrain", Command("retrain")),
        ("/mlgate retrain --always", Command("retrain", always=True)),
        ("/mlgate deploy staging", Command("deploy", environment="staging")),
        ("/mlgate rollback production", Command("rollback", environment="production")),
        (
            "/mlgate promote churn-model@v1.4.0 to production",
            Command("promote", environment="production", artifact=ARTIFACT, version="v1.4.0"),
        ),
        (
            "/mlgate promote churn-model@staging to production",
            Command("promote", environment="production", artifact=ARTIFACT, stage="staging"),
        ),
        ("Looks good.\r\n\r\n  /mlgate deploy staging  \r\nthanks", Command("deploy", environment="staging")),
    ],
)
def test_each_command_parses_to_its_typed_value(body: str, expected: Command) -> None:
    command = parse(body)

    assert command == expected
    line = next(line for line in body.replace("\r", "").split("\n") if "/mlgate" in line)
    assert command is not None and command.text == " ".join(line.split())  # the reply quotes what was understood


@pytest.mark.parametrize(
    "body",
    [
        "no command here",
        "see `/mlgate deploy staging` for a preview",  # inline, not a line of its own
        "> /mlgate deploy staging",  # quoting someone else's command
        "```\n/mlgate deploy staging\n```",  # an example in a code block
        "~~~~\n/mlgate deploy staging\n~~~\nstill code\n~~~~",  # a shorter fence does not close a longer one
        "    /mlgate deploy staging",  # indented code
        "<!--\n/mlgate deploy staging\n-->",  # hidden from the reader
        "<!-- /mlgate deploy staging -->",
        "- /mlgate deploy staging",  # a list item is prose about a command
        "/mlgatefoo deploy",  # another word
    ],
)
def test_lines_that_are_not_commands_are_ignored(body: str) -> None:
    assert parse(body) is None


def test_a_command_after_a_closed_fence_counts() -> None:
    assert parse("```\nexample\n```\n/mlgate rerun") == Command("rerun")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("/mlgate", "no command after `/mlgate`"),
        ("/mlgate deploy", "write `/mlgate deploy <environment>`"),
        ("/mlgate deploy staging now", "write `/mlgate deploy <environment>`"),
        ("/mlgate destroy staging", "`destroy` is not a command"),
        ("/mlgate deploy qa", "`qa` is not an environment of mlgate.yml (deploy.environments lists `staging`, `produ"),
        ("/mlgate retrain --force", "write `/mlgate retrain [--always]`"),
        ("/mlgate rerun please", "write `/mlgate rerun`"),
        ("/mlgate promote churn-model@v1.4.0 production", "write `/mlgate promote <name>@<version|stage> to"),
        ("/mlgate promote other@v1.4.0 to production", "`other` is not the artifact this repository deploys"),
        ("/mlgate promote churn-model@v1.4 to production", "`v1.4` is not a version such as v1.4.0"),
        ("/mlgate promote churn-model@production to production", "is the environment being promoted to"),
        ("/MLGATE deploy staging", "write `/mlgate` in lower case"),
        ("/mlgate deploy staging; rm -rf /", "the character `;` (U+003B)"),
        ("/mlgate deploy $(id)", "the character `$` (U+0024)"),
        ("/mlgate deploy `id`", "the character U+0060"),
        ("/mlgate deploy sta\u200bging", "the character U+200B"),  # zero-width space
        ("/mlgate\u200b deploy staging", "the character U+200B"),
        ("/mlgate deploy st\u0430ging", "the character U+0430"),  # Cyrillic a
        ("/mlgate deploy staging\x1b[2J", "the character U+001B"),
        ("/mlgate deploy\u00a0staging", "the character U+00A0"),
        ("/mlgate deploy " + "s" * 300, "longer than 200 characters"),
        ("/mlgate rerun\n/mlgate deploy staging", "holds 2 `/mlgate` lines; post one command per comment"),
        ("x" * (MAX_BODY + 1) + "\n/mlgate rerun", "longer than GitHub's 65536 characters"),
    ],
)
def test_malformed_commands_are_refused_saying_why(body: str, reason: str) -> None:
    assert reason in refused(body)


def test_a_vertical_tab_or_unicode_line_separator_does_not_split_a_line() -> None:
    # GitHub breaks lines only at \n and \r: a U+2028 inside a line must not smuggle a second command line.
    assert "U+2028" in refused("/mlgate rerun\u2028/mlgate deploy staging")


@given(st.text(max_size=300))
def test_any_body_parses_or_is_refused_never_crashes(body: str) -> None:
    try:
        command = parse(body)
    except CommandRefused as exc:
        assert "\n" not in exc.message
        return
    if command is not None:
        # Whatever was accepted is made of the grammar's words only.
        assert command.text.isascii() and command.text.isprintable()
        assert command.environment in (None, *ENVIRONMENTS)


@given(st.sampled_from(["/mlgate deploy staging", "/mlgate rerun"]), st.text(alphabet="`$;|&<>(){}\\'\"", min_size=1))
def test_shell_and_markdown_metacharacters_never_pass(command: str, tail: str) -> None:
    with pytest.raises(CommandRefused):
        parse(f"{command}{tail}")


def test_command_lines_keeps_only_addressed_lines() -> None:
    assert command_lines("hi\n/mlgate rerun\n/Mlgate x\nbye") == ["/mlgate rerun", "/Mlgate x"]


# ------------------------------------------------------------------------------------------------ policy

COMMENT = Comment(
    action="created",
    comment_id=7,
    body="/mlgate deploy staging",
    author="alice",
    author_type="User",
    html_url="https://github.com/octo/demo/pull/1#issuecomment-7",
    issue_number=1,
    issue_state="open",
    is_pull_request=True,
)
CONFIG = ChatOpsConfig()


def test_default_roles_write_for_previews_maintain_for_production_and_rollback() -> None:
    def needed(**fields: object) -> str:
        return required_role(CONFIG, Command(**fields))  # type: ignore[arg-type]

    assert needed(name="rerun") == "write"
    assert needed(name="retrain", always=True) == "write"
    assert needed(name="deploy", environment="staging") == "write"
    assert needed(name="promote", environment="staging", artifact=ARTIFACT, version="v1.0.0") == "write"
    assert needed(name="promote", environment="production", artifact=ARTIFACT, stage="staging") == "maintain"
    assert needed(name="rollback", environment="staging") == "maintain"
    assert needed(name="help") == "read"


def test_configured_roles_apply_and_production_raises_but_never_lowers() -> None:
    config = ChatOpsConfig(permissions=CONFIG.permissions | {"promote": "admin", "production": "write"})

    to_production = Command("promote", environment="production", artifact=ARTIFACT, version="v1.0.0")
    to_staging = Command("promote", environment="staging", artifact=ARTIFACT, version="v1.0.0")

    assert required_role(config, to_production) == "admin"  # production's write does not lower promote's admin
    assert required_role(config, to_staging) == "admin"
    assert required_role(config, Command("rollback", environment="production")) == "maintain"


@pytest.mark.parametrize(
    ("answer", "role"),
    [
        ({"permission": "write", "role_name": "maintain", "user": None}, "maintain"),
        ({"permission": "read", "role_name": "triage", "user": None}, "triage"),
        ({"permission": "admin", "role_name": "admin", "user": None}, "admin"),
        # a custom role: its name says nothing, its permission flags do
        (
            {
                "permission": "write",
                "role_name": "ml-release",
                "user": {"login": "a", "permissions": {"admin": False, "maintain": True, "push": True, "pull": True}},
            },
            "maintain",
        ),
        ({"permission": "write", "role_name": "custom", "user": None}, "write"),
        ({"permission": "none", "role_name": "none", "user": None}, None),
        ({"permission": "superuser", "role_name": "root"}, None),  # unknown: no access (fail closed)
        ({}, None),
    ],
)
def test_role_comes_from_role_name_then_flags_then_legacy_permission(answer: dict, role: str | None) -> None:
    assert role_of(answer) == role


def test_read_permission_is_refused_with_the_role_it_needs() -> None:
    command = Command("deploy", environment="staging")

    assert permission_refusal(CONFIG, command, "alice", "write") is None
    assert permission_refusal(CONFIG, command, "bob", "read") == (
        "@bob has the read role on this repository; `/mlgate deploy` needs write or higher "
        "(chatops.permissions in mlgate.yml)"
    )
    assert "has no access" in str(permission_refusal(CONFIG, command, "eve", None))


def test_a_writer_may_not_promote_to_production() -> None:
    command = Command("promote", environment="production", artifact=ARTIFACT, stage="staging")

    refusal = permission_refusal(CONFIG, command, "walt", "write")

    assert refusal is not None and "on a production environment needs maintain or higher" in refusal
    assert permission_refusal(CONFIG, command, "mia", "maintain") is None


@pytest.mark.parametrize(
    ("changes", "command", "reason"),
    [
        ({"action": "edited"}, Command("rerun"), "the comment was edited; mlgate runs only new comments"),
        ({"author": "dependabot[bot]", "author_type": "Bot"}, Command("rerun"), "dependabot[bot] is a bot"),
        ({"author": "ci-helper", "author_type": "Bot"}, Command("rerun"), "ci-helper is a bot"),
        ({"issue_state": "closed"}, Command("rerun"), "this pull request is closed"),
        ({"is_pull_request": False}, Command("deploy", environment="staging"), "comment on the pull request"),
        ({}, Command("deploy", environment="production"), "`production` is a production environment"),
        ({"author": "a b"}, Command("rerun"), "not a GitHub login"),
    ],
)
def test_events_refused_whatever_the_role(changes: dict, command: Command, reason: str) -> None:
    refusal = refusal_before_permission(CONFIG, dataclasses.replace(COMMENT, **changes), command)

    assert refusal is not None and reason in refusal


def test_an_allowed_bot_and_issue_commands_pass() -> None:
    config = ChatOpsConfig(allow_bots=("mlgate-scheduler[bot]",))
    bot = dataclasses.replace(COMMENT, author="mlgate-scheduler[bot]", author_type="Bot", is_pull_request=False)

    assert refusal_before_permission(config, bot, Command("retrain")) is None
    assert refusal_before_permission(CONFIG, COMMENT, Command("deploy", environment="staging")) is None


# ------------------------------------------------------------------------------------------------ mlgate.yml


def test_chatops_section_of_mlgate_yml_overrides_defaults(tmp_path) -> None:
    from mlgate.config import load_config

    path = tmp_path / "mlgate.yml"
    path.write_text(
        "chatops:\n  permissions: {deploy: maintain, promote: admin}\n  production_environments: [prod, live]\n"
        "  allow_bots: ['release-bot[bot]']\n  pr_workflow: ci.yml\n"
    )

    chatops = load_config(path, explicit=True).chatops

    assert chatops.permissions["deploy"] == "maintain" and chatops.permissions["promote"] == "admin"
    assert chatops.permissions["rerun"] == "write"  # the defaults of the keys not given
    assert chatops.production_environments == ("prod", "live")
    assert (chatops.allow_bots, chatops.pr_workflow, chatops.retrain_workflow) == (
        ("release-bot[bot]",),
        "ci.yml",
        "mlgate-retrain.yml",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chatops:\n  permissions:\n    deploy: owner\n", "mlgate.yml:3: chatops.permissions.deploy: must be a repo"),
        ("chatops:\n  permissions: {merge: write}\n", "chatops.permissions.merge: unknown key 'merge'"),
        ("chatops:\n  allow_bots: [alice]\n", "mlgate.yml:2: chatops.allow_bots[0]: must be a bot's login"),
        ("chatops:\n  pr_workflow: ../x.yml\n", "mlgate.yml:2: chatops.pr_workflow: must be a workflow's file name"),
    ],
)
def test_bad_chatops_settings_name_their_key_and_line(tmp_path, text: str, expected: str) -> None:
    from mlgate.config import load_config
    from mlgate.errors import InputError

    path = tmp_path / "mlgate.yml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_config(path, explicit=True)

    assert expected in str(caught.value)
