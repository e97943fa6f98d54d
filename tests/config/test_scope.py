"""`providers.<name>.scope`: the OAuth2 scope a token request asks for, optional.

Unset, lo-sync asks for no scope, as it always has. Set, it is text bounded like
every other value, in OAuth2's own syntax, and a wrong one is a problem naming
the key.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lo_sync.config import load_config, parse_config
from lo_sync.errors import ConfigError
from lo_sync.jobs import make_client

SETTINGS = {
    "coursera": {
        "org_id": "c37xwraOSFytEjHm5uQEEA",
        "client_id": "crs-client",
        "client_secret": "crs-secret-for-scope-tests",
        "group": "Sales Academy",
    },
    "openclassrooms": {
        "organization_id": "4242",
        "client_id": "oc-client",
        "client_secret": "oc-secret-for-scope-tests",
        "group": "Sales Academy",
    },
}


def parsed(name: str = "openclassrooms", **changes):
    document = {"providers": {name: {**SETTINGS[name], **changes}}}
    return parse_config(document, base_dir=Path("/etc/lo-sync")).providers[name]


def problems_with(name: str = "openclassrooms", **changes) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parsed(name, **changes)
    return caught.value.problems


@pytest.mark.parametrize("name", ["coursera", "openclassrooms"])
def test_each_provider_takes_a_scope(name):
    assert parsed(name, scope="learning_content").scope == "learning_content"


def test_a_scope_may_name_several_scopes_separated_by_spaces():
    assert parsed(scope="learning_content reports:read").scope == "learning_content reports:read"


@pytest.mark.parametrize("changes", [{}, {"scope": None}], ids=["absent", "left empty"])
def test_without_a_scope_none_is_asked_for(changes):
    assert parsed(**changes).scope is None


def test_a_scope_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LO_SYNC_TEST_SCOPE", "learning_content")

    assert parsed(scope="${LO_SYNC_TEST_SCOPE}").scope == "learning_content"


def test_a_scope_from_a_missing_variable_names_the_variable_and_the_key():
    assert problems_with(scope="${LO_SYNC_TEST_UNSET_SCOPE}") == [
        "providers.openclassrooms.scope: environment variable LO_SYNC_TEST_UNSET_SCOPE is not set"
    ]


@pytest.mark.parametrize(
    ("scope", "kind"),
    [(["learning_content", "reports"], "list"), ({"read": True}, "dict"), (True, "bool")],
)
def test_a_scope_that_is_not_text_is_a_problem_naming_the_key(scope, kind):
    assert problems_with(scope=scope) == [
        "providers.openclassrooms.scope: must be text, the scope names separated by spaces, "
        f"got {kind}"
    ]


def test_a_blank_scope_is_a_problem_not_a_silent_no_scope():
    assert problems_with(scope="  ") == [
        "providers.openclassrooms.scope: must not be empty; leave the key out to ask for no scope"
    ]


def test_a_scope_is_bounded_like_every_other_value():
    assert parsed(scope="s" * 1024).scope == "s" * 1024

    assert problems_with(scope="s" * 1025) == [
        "providers.openclassrooms.scope: 1,025 characters long; a scope has at most 1,024"
    ]


@pytest.mark.parametrize(
    "scope",
    [
        "learning_content\nX-Injected: 1",
        "learning_content\treports",
        "learning\x00content",
        "learning_content  reports",
        " learning_content",
        'learning "content"',
        "learning\\content",
        "contenu_pédagogique",
    ],
    ids=[
        "newline",
        "tab",
        "nul",
        "two spaces",
        "leading space",
        "double quote",
        "backslash",
        "non-ASCII",
    ],
)
def test_a_scope_holds_only_what_oauth2_allows(scope):
    (problem,) = problems_with(scope=scope)

    assert problem == (
        "providers.openclassrooms.scope: a scope is OAuth2 scope names separated by single "
        'spaces (printable ASCII, no " or \\)'
    )


def test_a_scope_problem_is_reported_with_every_other_problem():
    problems = problems_with(scope=["x"], group=None)

    assert problems == [
        "providers.openclassrooms.group: missing",
        "providers.openclassrooms.scope: must be text, the scope names separated by spaces, "
        "got list",
    ]


def test_the_scope_from_the_file_reaches_the_token_request(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            providers:
              openclassrooms:
                organization_id: "4242"
                client_id: oc-client
                client_secret: oc-secret-for-scope-tests
                group: Sales Academy
                scope: learning_content
            """
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    config = load_config(path)

    client = make_client(config.providers["openclassrooms"], config)
    try:
        assert client.auth.scope == "learning_content"
    finally:
        client.close()
