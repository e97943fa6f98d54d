"""OAuth2 client credentials: the token is fetched once, renewed early, and refused readably.

Most cases go through `ApiClient`, as providers use it; the last ones build the
auth over a bare `Transport`, with no client at all.
"""

from __future__ import annotations

import base64
import json
import logging
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
import requests

from lo_sync.errors import ConfigError, ProviderError
from lo_sync.http import USER_AGENT, ClientCredentials, TransientError, Transport
from lo_sync.http.auth import UNKNOWN_TOKEN_LIFETIME
from tests.http.wire import (
    CLIENT_ID,
    CLIENT_SECRET,
    CONTENTS,
    COURSES,
    TOKEN,
    TOKEN_URL,
    add_token,
    sent,
    token_requests,
)


def test_token_is_fetched_once_and_reused_across_calls(api, client):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    for _ in range(3):
        client.get_json(CONTENTS)

    assert sent(api) == [("POST", TOKEN_URL)] + [("GET", CONTENTS)] * 3


def test_token_request_sends_basic_auth_and_client_credentials_grant(api, client):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    token_request = api.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    # The secret travels only in the Basic header, never in the body.
    assert parse_qs(token_request.body) == {"grant_type": ["client_credentials"]}


def test_token_is_renewed_a_minute_before_it_expires(api, client, monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr("lo_sync.http.auth.time", SimpleNamespace(monotonic=lambda: clock.now))
    add_token(api, "tok-first-Aa11", expires_in=1799)
    add_token(api, "tok-second-Bb22", expires_in=1799)
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)
    clock.now += 1799 - 60 - 1
    client.get_json(CONTENTS)
    clock.now += 1
    client.get_json(CONTENTS)

    bearers = [
        c.request.headers.get("Authorization") for c in api.calls if c.request.method == "GET"
    ]
    assert bearers == ["Bearer tok-first-Aa11", "Bearer tok-first-Aa11", "Bearer tok-second-Bb22"]
    assert token_requests(api) == 2


@pytest.mark.parametrize("status", [400, 401, 403])
def test_token_endpoint_refusing_the_credentials_is_a_config_error(api, client, status):
    api.post(
        TOKEN_URL, status=status, json={"errorCode": "INVALID_CLIENT", "message": "bad client"}
    )

    with pytest.raises(ConfigError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: the token endpoint refused the client credentials (HTTP {status}); "
        "check providers.coursera.client_id and client_secret; "
        "the endpoint said: INVALID_CLIENT: bad client"
    )
    assert sent(api) == [("POST", TOKEN_URL)]  # the call itself is never sent


def test_token_endpoint_404_points_at_token_url(api, client):
    api.post(TOKEN_URL, status=404, json={"errorCode": "NOT_FOUND", "message": "no such path"})

    with pytest.raises(ConfigError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: the token endpoint {TOKEN_URL} answered HTTP 404; "
        "check providers.coursera.token_url"
    )
    assert sent(api) == [("POST", TOKEN_URL)]


def test_token_endpoint_503_is_retried(api, client, sleeps):
    api.post(TOKEN_URL, status=503, headers={"Retry-After": "2"})
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    assert sent(api) == [("POST", TOKEN_URL), ("POST", TOKEN_URL), ("GET", CONTENTS)]
    assert sleeps == [2.0]


@pytest.mark.parametrize(
    "answer",
    [{"token_type": "Bearer"}, {"access_token": ""}, ["tok"], "not json at all"],
    ids=["no access_token", "empty token", "array", "not JSON"],
)
def test_token_answer_without_a_usable_token_is_a_provider_error(api, client, answer):
    if isinstance(answer, str):
        api.post(TOKEN_URL, body=answer)
    else:
        api.post(TOKEN_URL, json=answer)

    with pytest.raises(ProviderError, match="^coursera: token endpoint .*token"):
        client.get_json(CONTENTS)

    assert sent(api) == [("POST", TOKEN_URL)]


@pytest.mark.parametrize(
    "expires_in",
    ["soon", 0, -30, "nan", "1e999", True, 10**400, None],
    ids=["text", "zero", "negative", "nan", "infinite", "boolean", "huge integer", "absent"],
)
def test_a_lifetime_that_cannot_be_used_is_taken_as_unknown_and_said_at_v(
    api, client, monkeypatch, caplog, expires_in
):
    # The token itself is fine: it is used, and kept for the default lifetime rather
    # than fetched again before every request (0, negative) or refused ("soon").
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr("lo_sync.http.auth.time", SimpleNamespace(monotonic=lambda: clock.now))
    answer = {"access_token": "tok-odd-life-Jj99", "token_type": "Bearer"}
    if expires_in is not None:
        answer["expires_in"] = expires_in
    api.post(TOKEN_URL, body=json.dumps(answer))
    add_token(api, "tok-renewed-Kk00")
    api.get(CONTENTS, json={"elements": []})

    with caplog.at_level(logging.INFO, logger="lo_sync.http"):
        for _ in range(3):
            client.get_json(CONTENTS)
        clock.now += UNKNOWN_TOKEN_LIFETIME - 30 - 1  # the margin: a tenth of 300 s
        client.get_json(CONTENTS)
        clock.now += 1
        client.get_json(CONTENTS)

    bearers = [c.request.headers["Authorization"] for c in api.calls if c.request.method == "GET"]
    assert bearers == ["Bearer tok-odd-life-Jj99"] * 4 + ["Bearer tok-renewed-Kk00"]
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(said) == 1, said
    assert said[0].startswith("coursera: token endpoint sent ")
    assert said[0].endswith("not a positive number of seconds; taking the token to last 300 s")


@pytest.mark.parametrize("expires_in", [1799, "1799", 1799.5])
def test_a_lifetime_as_a_number_or_numeric_text_is_used_quietly(api, client, caplog, expires_in):
    api.post(TOKEN_URL, json={"access_token": "tok-fine-Ll11", "expires_in": expires_in})
    api.get(CONTENTS, json={"elements": []})

    with caplog.at_level(logging.INFO, logger="lo_sync.http"):
        client.get_json(CONTENTS)

    assert caplog.records == []


# --- the auth on its own: a transport, no client -----------------------------------------------


@pytest.fixture
def transport():
    transport = Transport("openclassrooms")
    yield transport
    transport.close()


def test_auth_over_a_bare_transport_sets_the_bearer_header(api, transport):
    add_token(api)
    auth = ClientCredentials(transport, TOKEN_URL, CLIENT_ID, CLIENT_SECRET)

    request = auth(requests.Request("GET", COURSES).prepare())

    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent(api) == [("POST", TOKEN_URL)]
    assert api.calls[0].request.headers["User-Agent"] == USER_AGENT


def test_invalidate_makes_the_next_use_fetch_a_new_token(api, transport):
    add_token(api, "tok-first-Gg77")
    add_token(api, "tok-second-Hh88")
    auth = ClientCredentials(transport, TOKEN_URL, CLIENT_ID, CLIENT_SECRET)

    tokens = [auth.token(), auth.token()]
    auth.invalidate()
    tokens.append(auth.token())

    assert tokens == ["tok-first-Gg77", "tok-first-Gg77", "tok-second-Hh88"]
    assert token_requests(api) == 2


def test_transport_trouble_on_the_token_request_is_transient_for_the_caller_to_retry(
    api, transport
):
    api.post(TOKEN_URL, status=503, headers={"Retry-After": "2"})
    auth = ClientCredentials(transport, TOKEN_URL, CLIENT_ID, CLIENT_SECRET)

    with pytest.raises(TransientError) as caught:
        auth.token()

    assert str(caught.value) == f"token request {TOKEN_URL}: HTTP 503"
    assert caught.value.retry_after == 2.0


def test_a_refusal_names_the_provider_the_transport_serves(api, transport):
    api.post(TOKEN_URL, status=404)
    auth = ClientCredentials(transport, TOKEN_URL, CLIENT_ID, CLIENT_SECRET)

    with pytest.raises(ConfigError) as caught:
        auth.token()

    assert str(caught.value) == (
        f"openclassrooms: the token endpoint {TOKEN_URL} answered HTTP 404; "
        "check providers.openclassrooms.token_url"
    )
