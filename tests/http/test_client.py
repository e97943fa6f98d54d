"""The client: bearer tokens and User-Agent on every call, one new token after a 401,
no secret in any error text, and response bodies decoded as the standard library would.
"""

from __future__ import annotations

import pytest
import requests

from lo_sync import __version__
from lo_sync.errors import ProviderError
from lo_sync.http.client import TOKEN_RENEWALS
from tests.http.wire import (
    CLIENT_ID,
    CLIENT_SECRET,
    CONTENTS,
    TOKEN,
    TOKEN_URL,
    add_token,
    data_requests,
    sent,
    token_requests,
)

# --- calls ------------------------------------------------------------------------------------


def test_calls_send_bearer_token_and_versioned_user_agent(api, client):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    token_request, call = api.calls[0].request, api.calls[1].request
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Accept"] == "application/json"
    assert call.headers["User-Agent"] == token_request.headers["User-Agent"] == "lo-sync/0.1.0"
    assert __version__ == "0.1.0"


def test_401_on_a_call_fetches_one_new_token_then_succeeds(api, client, sleeps):
    add_token(api, "tok-revoked-Cc33")
    add_token(api, "tok-fresh-Dd44")
    api.get(CONTENTS, status=401, json={"errorCode": "UNAUTHORIZED", "message": "token expired"})
    api.get(CONTENTS, json={"elements": [{"contentId": "c1"}]})

    _, body = client.get_json(CONTENTS)

    assert body == {"elements": [{"contentId": "c1"}]}
    assert sent(api) == [("POST", TOKEN_URL), ("GET", CONTENTS)] * 2
    assert [c.request.headers["Authorization"] for c in api.calls[1::2]] == [
        "Bearer tok-revoked-Cc33",
        "Bearer tok-fresh-Dd44",
    ]
    assert sleeps == []  # a 401 is not a transient failure: no waiting


def test_second_401_after_a_new_token_is_a_provider_error(api, client, sleeps):
    add_token(api, "tok-one-Ee55")
    add_token(api, "tok-two-Ff66")
    api.get(CONTENTS, status=401, json={"errorCode": "UNAUTHORIZED", "message": "nope"})

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS} answered HTTP 401 UNAUTHORIZED: nope "
        "(the provider rejected a freshly issued token)"
    )
    assert (token_requests(api), data_requests(api)) == (2, 2)
    assert sleeps == []


def _refused_after_other_lanes_used_it(client, lanes: int):
    """A 401 for every call, as if `lanes` other requests had put the token on first."""

    def answer(request):
        for _ in range(lanes):
            client.auth(requests.Request("GET", CONTENTS).prepare())
        return 401, {}, '{"errorCode": "UNAUTHORIZED", "message": "token expired"}'

    return answer


def test_a_renewed_token_other_lanes_wore_out_before_the_retry_is_renewed_again(
    api, client, sleeps
):
    for token in ("tok-one-Ii11", "tok-two-Jj22", "tok-three-Kk33"):
        add_token(api, token)
    api.get(CONTENTS, status=401, json={"errorCode": "UNAUTHORIZED", "message": "token expired"})
    api.add_callback("GET", CONTENTS, callback=_refused_after_other_lanes_used_it(client, 3))
    api.get(CONTENTS, json={"elements": [{"contentId": "c1"}]})

    _, body = client.get_json(CONTENTS)

    assert body == {"elements": [{"contentId": "c1"}]}
    assert [c.request.headers["Authorization"] for c in api.calls if c.request.method == "GET"] == [
        "Bearer tok-one-Ii11",
        "Bearer tok-two-Jj22",
        "Bearer tok-three-Kk33",
    ]
    assert sleeps == []


def test_tokens_worn_out_by_other_lanes_every_time_are_renewed_a_bounded_number_of_times(
    api, client
):
    for number in range(TOKEN_RENEWALS + 2):
        add_token(api, f"tok-{number}-Ll44")
    api.add_callback("GET", CONTENTS, callback=_refused_after_other_lanes_used_it(client, 2))

    with pytest.raises(ProviderError, match="answered HTTP 401"):
        client.get_json(CONTENTS)

    assert (token_requests(api), data_requests(api)) == (TOKEN_RENEWALS + 1, TOKEN_RENEWALS + 1)


# --- secrets stay out of error text -------------------------------------------------------------


def _leaky_url() -> str:
    return f"{CONTENTS}?access_token={TOKEN}&client_secret={CLIENT_SECRET}"


LEAKS = {
    "error body echoing credentials": lambda api: api.get(
        CONTENTS,
        status=400,
        json={"errorCode": "BAD", "message": f"bad header Bearer {TOKEN} for {CLIENT_SECRET}"},
    ),
    "connection error carrying the url": lambda api: api.get(
        CONTENTS,
        body=requests.ConnectionError(
            f"HTTPSConnectionPool(host='api.test', port=443): Max retries exceeded with url: "
            f"{_leaky_url()} (Caused by NameResolutionError)"
        ),
    ),
    "requests error carrying the url": lambda api: api.get(
        CONTENTS,
        body=requests.exceptions.TooManyRedirects(
            f"Exceeded 30 redirects: {_leaky_url()} token {TOKEN} secret {CLIENT_SECRET}"
        ),
    ),
    "invalid url carrying the secret": lambda api: api.get(
        CONTENTS,
        body=requests.exceptions.InvalidURL(
            f"Failed to parse: https://{CLIENT_ID}:{CLIENT_SECRET}@api.test/{TOKEN}"
        ),
    ),
}


@pytest.mark.parametrize("leak", list(LEAKS), ids=list(LEAKS))
def test_no_secret_or_token_in_error_text(api, client, leak):
    add_token(api)
    LEAKS[leak](api)

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    text = str(caught.value)
    assert text.startswith("coursera: ")
    assert TOKEN not in text
    assert CLIENT_SECRET not in text


def test_no_secret_in_error_text_when_the_token_endpoint_echoes_it(api, client):
    # The token was never issued here, so only the client's own registration can hide the secret.
    api.post(TOKEN_URL, status=500, json={"message": f"could not verify secret {CLIENT_SECRET}"})

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: token request {TOKEN_URL}: HTTP 500 could not verify secret *** "
        "(gave up after 4 attempts)"
    )


# --- decoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"elements": [{"a": 1.5, "b": "\\u00e9", "c": null, "d": [true, false]}]}',
        b'{"n": NaN, "i": Infinity}',  # not JSON, but Python's json reads it
        b'{"s": "\\ud800"}',  # a lone surrogate: kept, then refused per record
        b'{"k": 1, "k": 2}',
    ],
)
def test_response_bodies_decode_exactly_as_the_standard_library_decodes_them(body):
    import json
    import math

    from lo_sync.http import decode_json

    decoded, expected = decode_json(body), json.loads(body)
    assert repr(decoded) == repr(expected) or (
        math.isnan(decoded["n"]) and math.isnan(expected["n"])
    )


def test_a_body_that_is_not_json_still_fails_to_decode():
    import json

    from lo_sync.http import decode_json

    with pytest.raises(json.JSONDecodeError):
        decode_json(b'{"elements": [')


def test_an_integer_beyond_64_bits_decodes_as_a_float_which_no_id_check_accepts():
    from lo_sync.http import decode_json
    from lo_sync.providers import PROVIDERS, Notes, RecordError

    coursera = PROVIDERS["coursera"]
    body = b'{"contentId": 123456789012345678901234567890, "email": "a@x.io"}'
    record = decode_json(body)

    assert isinstance(record["contentId"], float)  # orjson's reading; json's is exact
    with pytest.raises(RecordError, match="contentId"):
        coursera.stat_row({**record, "isCompleted": False, "overallProgress": 1}, Notes())


@pytest.mark.parametrize("depth", [1025, 100_000], ids=["just past orjson's limit", "far past"])
def test_a_body_nested_deeper_than_a_decoder_can_recurse_is_nested_too_deeply(depth):
    from lo_sync.http import NestedTooDeeply, decode_json

    with pytest.raises(NestedTooDeeply):
        decode_json(b"[" * depth + b"]" * depth)
    assert decode_json(b"[" * 100 + b"]" * 100) is not None  # a hundred levels are fine


def test_a_deeply_nested_page_fails_once_as_a_data_error_not_a_recursion_error(api, client, sleeps):
    from lo_sync.errors import DataError

    add_token(api)
    api.get(CONTENTS, body=b"[" * 100_000 + b"]" * 100_000)

    with pytest.raises(DataError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS}: response body is nested too deeply to read "
        "(no page nests more than a few levels)"
    )
    assert (data_requests(api), sleeps) == (1, [])  # the same body every time: not retried
