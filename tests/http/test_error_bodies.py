"""A provider's own error text, read from whatever body its error came with.

Each shape below is one a provider, its token endpoint or the gateway in front of
it sends. What the operator reads is one bounded line with no secret in it, and a
body no reading expected never hides the status behind an exception.
"""

from __future__ import annotations

import json

import pytest
import requests

from lo_sync.errors import ProviderError
from lo_sync.http.messages import MAX_DETAIL_CHARS, error_detail, error_text, oauth_error
from lo_sync.redact import register_secret
from tests.http.wire import CLIENT_SECRET, CONTENTS, TOKEN_URL, add_token

URL = "https://api.test/errors"


def answered(api, status: int = 400, **kwargs) -> requests.Response:
    """The response a provider's error answer arrives as."""
    api.get(URL, status=status, **kwargs)
    return requests.get(URL, timeout=5)


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (
            403,
            {"errorCode": "FORBIDDEN", "message": "not entitled", "details": None},
            "FORBIDDEN: not entitled",
        ),
        # Seen from a real Coursera server: a code and nothing else.
        (401, {"errorCode": "Not Authorized", "message": None, "details": None}, "Not Authorized"),
        # OpenClassrooms repeats the status as `code`: only the message is worth reading.
        (
            429,
            {"code": 429, "message": "Too many requests, retry later"},
            "Too many requests, retry later",
        ),
        (400, {"code": "E_LIMIT", "message": "limit too large"}, "E_LIMIT: limit too large"),
        (
            400,
            {
                "error": "invalid_scope",
                "error_description": "The requested scope is invalid",
                "error_uri": "https://auth.test/docs/errors#invalid_scope",
            },
            "invalid_scope: The requested scope is invalid",
        ),
        (400, {"error": "unsupported_grant_type"}, "unsupported_grant_type"),
        (
            401,
            {
                "fault": {
                    "faultstring": "Invalid ApiKey",
                    "detail": {"errorcode": "oauth.v2.InvalidApiKey"},
                }
            },
            "oauth.v2.InvalidApiKey: Invalid ApiKey",
        ),
        (
            502,
            {"fault": {"faultstring": "The Service is temporarily unavailable"}},
            "The Service is temporarily unavailable",
        ),
        # Google-style: the error object one level down.
        (
            401,
            {"error": {"code": 401, "message": "Request had invalid credentials"}},
            "Request had invalid credentials",
        ),
        # Spring's default body: `error` is the HTTP reason, `message` the text.
        (
            401,
            {
                "timestamp": "2024-05-01T00:00:00Z",
                "status": 401,
                "error": "Unauthorized",
                "message": "Bad credentials",
            },
            "Unauthorized: Bad credentials",
        ),
    ],
    ids=[
        "naptime",
        "naptime with a null message",
        "openclassrooms",
        "openclassrooms with its own code",
        "oauth2, error_uri left out",
        "oauth2 code alone",
        "gateway fault",
        "gateway fault without a code",
        "error object nested",
        "spring default error",
    ],
)
def test_the_provider_s_own_code_and_message_are_read_from_each_known_shape(
    api, status, body, shown
):
    assert error_text(answered(api, status, json=body)) == shown


def test_a_known_shape_holding_nothing_readable_shows_nothing(api):
    response = answered(api, 429, json={"code": 429, "message": None})

    assert error_text(response) == ""


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (
            {"status": "FAILED", "reason": {"why": "quota"}},
            '{"status":"FAILED","reason":{"why":"quota"}}',
        ),
        (["bad", "request"], '["bad","request"]'),
        ("just a sentence", "just a sentence"),
        (42, "42"),
    ],
    ids=["unknown object", "array", "JSON string", "JSON number"],
)
def test_an_unknown_json_shape_is_shown_as_compact_json(api, body, shown):
    assert error_text(answered(api, body=json.dumps(body, indent=2))) == shown


def test_an_unknown_json_shape_is_cut_to_a_line(api):
    response = answered(api, json={"items": ["x" * 50] * 20})

    text = error_text(response)

    assert len(text) == MAX_DETAIL_CHARS
    assert text.startswith('{"items":["xxx') and text.endswith("…")


def test_a_plain_text_body_shows_its_first_non_empty_line(api):
    response = answered(api, 403, body="\n\n  Forbidden: IP not allowed  \nrequest id 7f3a\n")

    assert error_text(response) == "Forbidden: IP not allowed"


def test_a_gateway_html_page_shows_its_title_without_repeating_the_status(api):
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway &amp; co</title></head>"
        "<body><h1>Bad Gateway</h1><script>alert(1)</script></body></html>"
    )
    response = answered(api, 502, body=page, content_type="text/html")

    assert error_text(response) == "Bad Gateway & co"


def test_an_html_page_without_a_title_shows_nothing_of_its_markup(api):
    response = answered(api, 503, body="<html><body><p>down</p></body></html>")

    assert error_text(response) == ""


def test_an_empty_body_shows_nothing(api):
    response = answered(api, 500, body="")

    assert (error_text(response), error_detail(response)) == ("", "")


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00not utf-8 \xc3\x28",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"errorCode": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"message": {"nested": {"junk": [1, 2, {"x": null}]}}}',
        b'{"fault": "not an object"}',
        b'{"fault": {"faultstring": ["a", "list"], "detail": "text"}}',
        b"null",
        b"x" * (10 << 20),
    ],
    ids=[
        "bytes that are not utf-8",
        "nested past any decoder",
        "nested inside a known key",
        "message that is an object",
        "fault that is text",
        "fault of the wrong types",
        "JSON null",
        "ten megabytes of one line",
    ],
)
def test_a_weird_body_never_raises_and_stays_one_short_line(api, body):
    response = answered(api, 400, body=body)

    text = error_text(response)

    assert len(text) <= MAX_DETAIL_CHARS
    assert "\n" not in text and "\x00" not in text
    assert oauth_error(response) is None


def test_a_body_in_another_charset_is_read_in_it(api):
    response = answered(
        api,
        400,
        body="Requête refusée".encode("latin-1"),
        content_type="text/plain; charset=latin-1",
    )

    assert error_text(response) == "Requête refusée"


def test_control_characters_cannot_break_the_line_or_rewrite_the_terminal(api):
    message = "bad\r\nX-Injected: 1\x1b[2J\x00 \u202eesrever\u2028next"
    response = answered(api, json={"errorCode": "BAD", "message": message})

    assert error_text(response) == "BAD: bad X-Injected: 1 [2J esrever next"


def test_a_secret_the_provider_echoes_is_hidden_even_where_the_text_is_cut(api):
    register_secret(CLIENT_SECRET)  # as the client's auth does when it is built
    # The secret straddles the cut: cutting first would leave half of it on show.
    padding = "p" * (MAX_DETAIL_CHARS - 10)
    response = answered(api, json={"message": f"{padding}{CLIENT_SECRET} rest"})

    text = error_text(response)

    assert CLIENT_SECRET[:8] not in text
    assert text.startswith(padding) and len(text) <= MAX_DETAIL_CHARS


def test_an_access_token_in_an_unknown_shape_is_hidden(api):
    response = answered(api, json={"echo": {"access_token": "tok-echoed-Zz99"}})

    assert "tok-echoed-Zz99" not in error_text(response)


# --- the OAuth2 code a refusal carries ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"error": "invalid_scope", "error_description": "unknown scope"}, "invalid_scope"),
        ({"error": "access_denied"}, "access_denied"),  # not one of RFC 6749's: still a code
        ({"errorCode": "INVALID_CLIENT", "message": "bad client"}, "invalid_client"),
        (
            {
                "fault": {
                    "faultstring": "x",
                    "detail": {"errorcode": "oauth.v2.UnsupportedGrantType"},
                }
            },
            "unsupported_grant_type",
        ),
        ({"error": "Unauthorized", "message": "Bad credentials"}, None),  # an HTTP reason
        ({"errorCode": "Not Authorized", "message": None}, None),  # Naptime's own code
        ({"fault": {"detail": {"errorcode": "oauth.v2.InvalidClientIdentifier"}}}, None),
        ({"error": 400}, None),
    ],
    ids=[
        "oauth2",
        "oauth2 code outside the RFC",
        "naptime spelling of an oauth2 code",
        "gateway spelling of an oauth2 code",
        "capitalized reason",
        "naptime code",
        "gateway code of its own",
        "number",
    ],
)
def test_the_oauth2_code_is_read_only_where_a_body_says_one(api, body, code):
    assert oauth_error(answered(api, json=body)) == code


# --- the one line the operator reads -----------------------------------------------------------


def test_a_refused_call_shows_the_provider_s_text_in_its_one_line(api, client):
    add_token(api)
    api.get(
        CONTENTS, status=400, json={"errorCode": "BAD_REQUEST", "message": "start is not a number"}
    )

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS} answered HTTP 400 BAD_REQUEST: start is not a number"
    )


def test_a_gateway_page_on_the_token_request_reads_as_the_gateway_s_reason(api, client):
    page = "<html><head><title>504 Gateway Time-out</title></head><body></body></html>"
    api.post(TOKEN_URL, status=504, body=page, content_type="text/html")

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: token request {TOKEN_URL}: HTTP 504 Gateway Time-out (gave up after 4 attempts)"
    )
