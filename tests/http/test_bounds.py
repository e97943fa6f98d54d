"""Bounds on what a provider's answers may cost: the size of one answer once decoded."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from lo_sync.errors import ProviderError
from lo_sync.http import ApiClient, RetryPolicy
from lo_sync.simulator.faults import gzip_bomb
from tests.http.wire import (
    CLIENT_ID,
    CLIENT_SECRET,
    CONTENTS,
    TOKEN_URL,
    add_token,
    data_requests,
)


@pytest.fixture
def bounded(sleeps):
    """`bounded(**options)`: an ApiClient with those options that records its waits."""
    clients = []

    def make(token_url: str = TOKEN_URL, max_wait: float = 60.0, **options) -> ApiClient:
        client = ApiClient(
            "coursera",
            token_url=token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=RetryPolicy(max_attempts=4, max_wait=max_wait, sleep=sleeps.append),
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- size: http.max_response_mb -------------------------------------------------------------------


def test_a_gzip_bomb_fails_at_max_response_mb_having_decoded_little_of_it(api, bounded, sleeps):
    # 32 KB on the wire, 32 MiB once decoded: valid JSON all the way, only too large.
    bomb = gzip_bomb(b'{"elements": []}', 32)
    add_token(api)
    api.get(CONTENTS, body=bomb, headers={"Content-Encoding": "gzip"})
    client = bounded(max_response_mb=1)

    tracemalloc.start()
    try:
        with pytest.raises(ProviderError) as caught:
            client.get_json(CONTENTS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(bomb) < 64 * 1024
    assert str(caught.value) == (
        f"coursera: GET {CONTENTS}: the answer is larger than http.max_response_mb (1 MB) "
        "once decoded; stopped reading it"
    )
    assert peak < 8 << 20  # the cap and a chunk or two, never the 32 MiB
    assert (data_requests(api), sleeps) == (1, [])  # the same bomb every time: not retried


@pytest.mark.parametrize(("extra", "fits"), [(0, True), (1, False)], ids=["at", "above"])
def test_an_answer_of_exactly_max_response_mb_is_read_and_one_byte_more_is_not(
    api, bounded, extra, fits
):
    frame = b'{"elements": [], "pad": ""}'
    body = frame[:-2] + b"x" * ((1 << 20) - len(frame) + extra) + b'"}'
    add_token(api)
    api.get(CONTENTS, body=body)
    client = bounded(max_response_mb=1)

    if fits:
        _, decoded = client.get_json(CONTENTS)
        assert decoded["elements"] == [] and len(body) == 1 << 20
    else:
        with pytest.raises(ProviderError, match=r"http\.max_response_mb \(1 MB\)"):
            client.get_json(CONTENTS)


def test_a_token_answer_is_bounded_like_any_other(api, bounded):
    token = json.dumps({"access_token": "tok-bomb-Zz9", "expires_in": 1799}).encode()
    api.post(TOKEN_URL, body=gzip_bomb(token, 2), headers={"Content-Encoding": "gzip"})
    client = bounded(max_response_mb=1)

    with pytest.raises(ProviderError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value).startswith(f"coursera: token request {TOKEN_URL}: the answer is")
    assert data_requests(api) == 0
