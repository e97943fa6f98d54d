"""Fixtures for the HTTP tests that talk over a mocked wire (`responses`).

Every client here records its waits instead of sleeping, so retry tests take no time.
"""

from __future__ import annotations

import pytest
import responses

from lo_sync.http import ApiClient, RetryPolicy
from tests.http.wire import CLIENT_ID, CLIENT_SECRET, TOKEN_URL


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps):
    clients = []

    def make(provider: str = "coursera", **retry) -> ApiClient:
        client = ApiClient(
            provider,
            token_url=TOKEN_URL,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=RetryPolicy(**{"max_attempts": 4, "sleep": sleeps.append, **retry}),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> ApiClient:
    return make_client()
