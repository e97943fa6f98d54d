"""Bounds on what a provider's answers may cost: the size of one answer once decoded,
the time of one request (headers and body together), and the whole command's time,
which no request and no retry wait may pass."""

from __future__ import annotations

import gzip
import json
import time
import tracemalloc

import pytest
import requests

from lo_sync.errors import ProviderError
from lo_sync.http import ApiClient, Deadline, DeadlineExceeded, RetryPolicy
from lo_sync.http.transport import BODY_CHUNK, PLAIN_BODY_CHUNK
from lo_sync.simulator.faults import gzip_bomb
from tests.helpers.hostile import TricklingServer
from tests.http.wire import (
    CLIENT_ID,
    CLIENT_SECRET,
    CONTENTS,
    TOKEN_URL,
    add_token,
    data_requests,
)

COMMAND_BOUND = "the time limit for the whole command (--max-runtime 30s)"


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


@pytest.mark.parametrize(
    ("encoding", "piece"), [(None, PLAIN_BODY_CHUNK), ("gzip", BODY_CHUNK)], ids=["plain", "gzip"]
)
def test_a_plain_body_is_read_in_large_pieces_and_a_compressed_one_in_small(
    api, bounded, monkeypatch, encoding, piece
):
    # A plain body cannot grow as it is read; a compressed one can, a thousandfold.
    body = json.dumps({"elements": [{"n": n} for n in range(50)]}).encode()
    asked = []
    read = requests.Response.iter_content

    def iter_content(response, chunk_size=1, decode_unicode=False):
        asked.append(chunk_size)
        return read(response, chunk_size, decode_unicode)

    monkeypatch.setattr(requests.Response, "iter_content", iter_content)
    add_token(api)
    headers = {"Content-Encoding": encoding} if encoding else {}
    api.get(CONTENTS, body=gzip.compress(body) if encoding else body, headers=headers)

    _, decoded = bounded().get_json(CONTENTS)

    assert len(decoded["elements"]) == 50
    assert asked[-1] == piece


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


# --- time: http.request_deadline and the command's deadline ---------------------------------------


@pytest.mark.parametrize("headers_at_once", [False, True], ids=["headers-trickle", "body-trickles"])
def test_a_trickling_answer_ends_at_the_request_deadline(bounded, sleeps, headers_at_once):
    # A byte every 50 ms never trips the 5 s read timeout; the answer would take minutes.
    with TricklingServer(pause=0.05, headers_at_once=headers_at_once) as server:
        client = bounded(server.token_url, timeout=(5.0, 5.0), request_deadline=0.5)
        started = time.monotonic()

        with pytest.raises(DeadlineExceeded) as caught:
            client.get_json(server.url)
        elapsed = time.monotonic() - started

    assert str(caught.value) == (
        f"coursera: GET {server.url}: stopped, http.request_deadline (0.5 s) ran out before "
        "the answer was complete"
    )
    assert 0.5 <= elapsed < 2.5
    assert (server.gets, sleeps) == (1, [])  # the same server would trickle again


def test_the_command_deadline_ends_a_request_before_its_own_deadline_does(bounded):
    with TricklingServer(pause=0.05) as server:
        client = bounded(
            server.token_url, request_deadline=60, deadline=Deadline.after(0.5, COMMAND_BOUND)
        )
        started = time.monotonic()

        with pytest.raises(DeadlineExceeded) as caught:
            client.get_json(server.url)

    assert time.monotonic() - started < 2.5
    assert f"stopped, {COMMAND_BOUND} ran out" in str(caught.value)


def test_nothing_is_sent_once_the_command_deadline_has_passed(api, bounded):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})
    client = bounded(deadline=Deadline(time.monotonic() - 1, COMMAND_BOUND))

    with pytest.raises(DeadlineExceeded, match="the whole command"):
        client.get_json(CONTENTS)

    assert len(api.calls) == 0


def test_a_retry_after_that_would_end_past_the_command_deadline_fails_now(api, bounded, sleeps):
    add_token(api)
    api.get(CONTENTS, status=429, headers={"Retry-After": "60"}, json={"message": "slow down"})
    client = bounded(max_wait=120, deadline=Deadline.after(30, COMMAND_BOUND))

    with pytest.raises(DeadlineExceeded) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: GET {CONTENTS}: HTTP 429 slow down; waiting 60 s to try again would "
        f"pass {COMMAND_BOUND}"
    )
    assert (data_requests(api), sleeps) == (1, [])


def test_a_retry_after_that_ends_before_the_command_deadline_is_waited(api, bounded, sleeps):
    add_token(api)
    api.get(CONTENTS, status=429, headers={"Retry-After": "20"})
    api.get(CONTENTS, json={"elements": []})
    client = bounded(deadline=Deadline.after(30, COMMAND_BOUND))

    _, body = client.get_json(CONTENTS)

    assert body == {"elements": []} and sleeps == [20.0]
