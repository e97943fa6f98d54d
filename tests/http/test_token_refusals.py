"""A refused token request says what was refused, from the endpoint's own OAuth2 code.

Only a refusal of the client itself sends the operator to client_id and
client_secret. A refused scope points at providers.X.scope, and any other code
(a grant type the endpoint does not serve, a malformed request) says it is not
about the credentials. Every refusal is a ConfigError, exit 2, in one line with the
endpoint's own words last and no secret.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from lo_sync.errors import ConfigError
from lo_sync.http import ApiClient, RetryPolicy
from tests.http.wire import CLIENT_ID, CLIENT_SECRET, CONTENTS, TOKEN_URL, add_token, sent

CREDENTIALS_HINT = "check providers.coursera.client_id and client_secret"


def refusal(api, client, status: int = 400, **body) -> str:
    """The one line a token endpoint's refusal is reported as."""
    if body:
        api.post(TOKEN_URL, status=status, json=body)
    else:
        api.post(TOKEN_URL, status=status)

    with pytest.raises(ConfigError) as caught:
        client.get_json(CONTENTS)

    assert sent(api) == [("POST", TOKEN_URL)]  # refused once: never retried, no call sent
    text = str(caught.value)
    assert "\n" not in text and CLIENT_SECRET not in text
    return text


@pytest.fixture
def scoped(sleeps):
    clients = []

    def make(scope: str | None, provider: str = "openclassrooms") -> ApiClient:
        client = ApiClient(
            provider,
            token_url=TOKEN_URL,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            scope=scope,
            retry=RetryPolicy(max_attempts=4, sleep=sleeps.append),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- refusals of the client itself -------------------------------------------------------------


@pytest.mark.parametrize("code", ["invalid_client", "unauthorized_client"])
def test_a_refused_client_points_at_the_credentials_and_shows_the_endpoint_s_words(
    api, client, code
):
    text = refusal(api, client, 401, error=code, error_description="Client authentication failed")

    assert text == (
        f"coursera: the token endpoint refused the client credentials (HTTP 401); "
        f"{CREDENTIALS_HINT}; the endpoint said: {code}: Client authentication failed"
    )


def test_a_bare_401_is_still_taken_as_a_refusal_of_the_client(api, client):
    text = refusal(api, client, 401)

    assert text == (
        f"coursera: the token endpoint refused the client credentials (HTTP 401); "
        f"{CREDENTIALS_HINT}"
    )


def test_a_401_in_coursera_s_own_shape_is_a_refusal_of_the_client(api, client):
    # Seen from a real Coursera server: Naptime's code, which is not one of OAuth2's.
    text = refusal(api, client, 401, errorCode="Not Authorized", message=None, details=None)

    assert text.endswith(f"{CREDENTIALS_HINT}; the endpoint said: Not Authorized")


def test_a_gateway_refusing_the_client_shows_its_fault(api, client):
    fault = {
        "faultstring": "Invalid client identifier",
        "detail": {"errorcode": "oauth.v2.InvalidClientIdentifier"},
    }

    text = refusal(api, client, 401, fault=fault)

    assert text.endswith(
        f"{CREDENTIALS_HINT}; the endpoint said: oauth.v2.InvalidClientIdentifier: "
        "Invalid client identifier"
    )


def test_a_client_secret_the_endpoint_echoes_is_hidden(api, client):
    text = refusal(
        api, client, 401, error="invalid_client", error_description=f"bad secret {CLIENT_SECRET}"
    )

    assert text.endswith("the endpoint said: invalid_client: bad secret ***")


# --- refusals of the scope ---------------------------------------------------------------------


def test_a_refused_scope_names_the_scope_sent_and_the_key_not_the_credentials(api, scoped):
    text = refusal(
        api,
        scoped("learning_content reports"),
        error="invalid_scope",
        error_description="Unknown scope: reports",
    )

    assert text == (
        'openclassrooms: the token endpoint refused the scope "learning_content reports" '
        "(HTTP 400); check providers.openclassrooms.scope; "
        "the endpoint said: invalid_scope: Unknown scope: reports"
    )
    assert "client_secret" not in text and "client_id" not in text


def test_a_scope_refused_when_none_was_sent_says_none_was_sent(api, scoped):
    text = refusal(api, scoped(None), error="invalid_scope", error_description="scope is required")

    assert text == (
        "openclassrooms: the token endpoint refused the scope, and lo-sync sent none "
        "(HTTP 400); check providers.openclassrooms.scope: the provider may require one; "
        "the endpoint said: invalid_scope: scope is required"
    )
    assert "client_secret" not in text


def test_a_very_long_refused_scope_is_shown_cut_short(api, scoped):
    scope = " ".join(f"scope{n}" for n in range(200))

    text = refusal(api, scoped(scope), error="invalid_scope")

    assert 'refused the scope "scope0 scope1 ' in text and '…" (HTTP 400)' in text
    assert scope not in text


# --- refusals that are not about the client ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "description"),
    [
        (400, "unsupported_grant_type", "grant_type client_credentials is not supported"),
        (400, "invalid_request", "Missing parameter: code"),
        (400, "invalid_grant", "grant is invalid"),
        (403, "access_denied", "this client may not use this endpoint"),
        (422, "invalid_request", "the body must be JSON"),
    ],
    ids=["unsupported grant type", "invalid request", "invalid grant", "other code", "on a 422"],
)
def test_a_refusal_of_something_else_says_it_is_not_the_credentials(
    api, client, status, code, description
):
    text = refusal(api, client, status, error=code, error_description=description)

    assert text == (
        f"coursera: the token endpoint refused the token request (HTTP {status}), not the "
        "client credentials; check that providers.coursera.token_url is the provider's "
        f"client-credentials token endpoint; the endpoint said: {code}: {description}"
    )
    assert "client_secret" not in text and "client_id" not in text


def test_a_gateway_s_spelling_of_an_oauth2_code_is_read_as_that_code(api, client):
    fault = {
        "faultstring": "Unsupported grant type : client_credentials",
        "detail": {"errorcode": "oauth.v2.UnsupportedGrantType"},
    }

    text = refusal(api, client, 400, fault=fault)

    assert "not the client credentials; check that providers.coursera.token_url" in text
    assert "client_secret" not in text


def test_a_404_still_points_at_the_token_url(api, client):
    text = refusal(api, client, 404, error="invalid_request", error_description="no such path")

    assert text == (
        f"coursera: the token endpoint {TOKEN_URL} answered HTTP 404; "
        "check providers.coursera.token_url"
    )


# --- the scope on the wire ---------------------------------------------------------------------


def test_a_configured_scope_is_sent_as_the_scope_form_field(api, scoped):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    scoped("learning_content reports:read").get_json(CONTENTS)

    assert parse_qs(api.calls[0].request.body) == {
        "grant_type": ["client_credentials"],
        "scope": ["learning_content reports:read"],
    }


def test_with_no_scope_configured_the_form_names_only_the_grant_type(api, scoped):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    scoped(None).get_json(CONTENTS)

    assert parse_qs(api.calls[0].request.body) == {"grant_type": ["client_credentials"]}
