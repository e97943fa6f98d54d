"""Retries: what is worth another attempt, how long to wait, and when to give up.

Every client records its waits instead of sleeping, so these take no time.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from lo_sync.errors import ProviderError
from tests.http.wire import (
    CONTENTS,
    TOKEN_URL,
    add_token,
    data_requests,
    sent,
)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_status_is_retried_then_succeeds(api, client, sleeps, status):
    add_token(api)
    api.get(CONTENTS, status=status, headers={"Retry-After": "3"})
    api.get(CONTENTS, json={"elements": [{"contentId": "c1"}]})

    _, body = client.get_json(CONTENTS)

    assert body == {"elements": [{"contentId": "c1"}]}
    assert sent(api) == [("POST", TOKEN_URL), ("GET", CONTENTS), ("GET", CONTENTS)]
    assert sleeps == [3.0]


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("Connection refused"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError(
            "Connection broken: IncompleteRead(12 bytes read)"
        ),
    ],
    ids=["connection refused", "connect timeout", "read timeout", "body cut short"],
)
def test_network_failure_is_retried_then_succeeds(api, client, sleeps, failure):
    add_token(api)
    api.get(CONTENTS, body=failure)
    api.get(CONTENTS, json={"elements": []})

    _, body = client.get_json(CONTENTS)

    assert body == {"elements": []}
    assert sent(api) == [("POST", TOKEN_URL), ("GET", CONTENTS), ("GET", CONTENTS)]
    assert len(sleeps) == 1


def test_retry_after_is_honoured(api, client, sleeps):
    add_token(api)
    api.get(
        CONTENTS,
        status=429,
        headers={"Retry-After": "7"},
        json={"errorCode": "TOO_MANY_REQUESTS", "message": "slow down"},
    )
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    assert sleeps == [7.0]


def test_retry_after_is_capped_at_max_wait(api, make_client, sleeps):
    client = make_client(max_wait=60.0)
    add_token(api)
    api.get(CONTENTS, status=429, headers={"Retry-After": "3600"})
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    assert sleeps == [60.0]


def test_without_retry_after_waits_grow_exponentially_with_full_jitter_up_to_max_wait(
    api, make_client, sleeps, monkeypatch
):
    drawn = []

    def uniform(low, high):
        drawn.append((low, high))
        return high

    monkeypatch.setattr("lo_sync.http.retry.random", SimpleNamespace(uniform=uniform))
    client = make_client(max_attempts=5, initial_wait=1.0, max_wait=5.0)
    add_token(api)
    api.get(CONTENTS, status=502)
    api.get(CONTENTS, status=502)
    api.get(CONTENTS, status=502)
    api.get(CONTENTS, status=502)
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    assert drawn == [(0, 1.0), (0, 2.0), (0, 4.0), (0, 5.0)]
    assert sleeps == [1.0, 2.0, 4.0, 5.0]


def test_attempts_are_bounded(api, client, sleeps):
    add_token(api)
    api.get(
        CONTENTS,
        status=503,
        headers={"Retry-After": "1"},
        json={"errorCode": "UNAVAILABLE", "message": "maintenance"},
    )

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS, params={"start": 0, "limit": 100})

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS}?start=0&limit=100: HTTP 503 UNAVAILABLE: maintenance "
        "(gave up after 4 attempts)"
    )
    assert data_requests(api) == 4
    assert sleeps == [1.0, 1.0, 1.0]


def test_network_failure_on_every_attempt_is_a_provider_error(api, client):
    add_token(api)
    api.get(CONTENTS, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == f"coursera: GET {CONTENTS}: timed out (gave up after 4 attempts)"
    assert data_requests(api) == 4


@pytest.mark.parametrize(
    ("status", "error_body", "message"),
    [
        (
            400,
            {"errorCode": "BAD_REQUEST", "message": "limit must be at most 1000"},
            f"coursera: GET {CONTENTS} answered HTTP 400 BAD_REQUEST: limit must be at most 1000",
        ),
        (
            403,
            {"errorCode": "FORBIDDEN", "message": "not entitled"},
            f"coursera: GET {CONTENTS} answered HTTP 403 FORBIDDEN: not entitled (the credentials "
            "are valid but not entitled to this organization; check the org id in "
            "providers.coursera)",
        ),
        (
            404,
            {"errorCode": "NOT_FOUND", "message": "unknown org"},
            f"coursera: GET {CONTENTS} answered HTTP 404 NOT_FOUND: unknown org (unknown "
            "organization or path; check the org id and base_url in providers.coursera)",
        ),
    ],
)
def test_other_4xx_is_not_retried_and_says_what_to_check(
    api, client, sleeps, status, error_body, message
):
    add_token(api)
    api.get(CONTENTS, status=status, json=error_body)

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == message
    assert sent(api) == [("POST", TOKEN_URL), ("GET", CONTENTS)]
    assert sleeps == []


def test_body_cut_short_is_retried_then_read_whole(api, client):
    add_token(api)
    api.get(CONTENTS, body='{"elements": [{"contentId": "c1"}, {"conte')
    api.get(CONTENTS, json={"elements": [{"contentId": "c1"}, {"contentId": "c2"}]})

    _, body = client.get_json(CONTENTS)

    assert body == {"elements": [{"contentId": "c1"}, {"contentId": "c2"}]}
    assert data_requests(api) == 2


def test_body_never_valid_json_is_a_provider_error_after_every_attempt(api, client, sleeps):
    add_token(api)
    api.get(CONTENTS, body="<html><body>Bad gateway</body></html>", content_type="text/html")

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS}: response body is not valid JSON (gave up after 4 attempts)"
    )
    assert data_requests(api) == 4
    assert len(sleeps) == 3


def test_a_body_cut_short_reads_as_words_not_an_exception_name():
    from lo_sync.http.messages import network_reason

    failure = requests.exceptions.ChunkedEncodingError(
        "Connection broken: IncompleteRead(12 bytes read)"
    )
    assert network_reason(failure) == "the answer was cut short"
