"""The HTTP chokepoint: tokens, retries, readable failures, and both paging styles.

Every client here records its waits instead of sleeping, so retry tests take no time.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
import requests
import responses

from lo_sync import __version__
from lo_sync.errors import ConfigError, DataError, ProviderError
from lo_sync.http import ApiClient, OffsetPaging, RangePaging, RetryPolicy
from lo_sync.providers import coursera, openclassrooms

TOKEN_URL = "https://auth.test/oauth2/client_credentials/token"
CONTENTS = "https://api.test/ent/api/businesses.v1/ORG42/contents"
COURSES = "https://api.test/organizations/4242/courses"
CLIENT_ID = "http-tests-client"
CLIENT_SECRET = "http-tests-secret-Zr8vK2"  # used only here, so redaction is tested honestly
TOKEN = "tok-http-tests-A1b2C3"


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


def add_token(api, token: str = TOKEN, expires_in: int = 1799) -> None:
    api.post(
        TOKEN_URL,
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
    )


def sent(api) -> list[tuple[str, str]]:
    """What went over the wire, in order: (method, url)."""
    return [(call.request.method, call.request.url) for call in api.calls]


def token_requests(api) -> int:
    return sum(1 for call in api.calls if call.request.url == TOKEN_URL)


def data_requests(api) -> int:
    return sum(1 for call in api.calls if call.request.url != TOKEN_URL)


# --- tokens -------------------------------------------------------------------------------------


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


def test_calls_send_bearer_token_and_versioned_user_agent(api, client):
    add_token(api)
    api.get(CONTENTS, json={"elements": []})

    client.get_json(CONTENTS)

    token_request, call = api.calls[0].request, api.calls[1].request
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Accept"] == "application/json"
    assert call.headers["User-Agent"] == token_request.headers["User-Agent"] == "lo-sync/0.1.0"
    assert __version__ == "0.1.0"


def test_token_is_renewed_a_minute_before_it_expires(api, client, monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr("lo_sync.http.time", SimpleNamespace(monotonic=lambda: clock.now))
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


@pytest.mark.parametrize("status", [400, 401, 403])
def test_token_endpoint_refusing_the_credentials_is_a_config_error(api, client, status):
    api.post(
        TOKEN_URL, status=status, json={"errorCode": "INVALID_CLIENT", "message": "bad client"}
    )

    with pytest.raises(ConfigError) as caught:
        client.get_json(CONTENTS)

    assert str(caught.value) == (
        f"coursera: the token endpoint refused the client credentials (HTTP {status}); "
        "check providers.coursera.client_id and client_secret"
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


# --- retries ------------------------------------------------------------------------------------


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

    monkeypatch.setattr("lo_sync.http.random", SimpleNamespace(uniform=uniform))
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


# --- offset paging (Coursera) -------------------------------------------------------------------


def page(elements, **paging) -> dict:
    return {"elements": elements, "paging": paging, "linked": {}}


def test_offset_paging_follows_next_and_sends_start_and_limit(api, client):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}, {"n": 2}], next="2", total=5))
    api.get(CONTENTS, json=page([{"n": 3}, {"n": 4}], next="4", total=5))
    api.get(CONTENTS, json=page([{"n": 5}], total=5))

    pages = list(OffsetPaging(limit=2).pages(client, CONTENTS, {"includeS12n": "true"}))

    assert pages == [[{"n": 1}, {"n": 2}], [{"n": 3}, {"n": 4}], [{"n": 5}]]
    assert sent(api)[1:] == [
        ("GET", f"{CONTENTS}?includeS12n=true&start=0&limit=2"),
        ("GET", f"{CONTENTS}?includeS12n=true&start=2&limit=2"),
        ("GET", f"{CONTENTS}?includeS12n=true&start=4&limit=2"),
    ]


def test_offset_paging_accepts_next_as_a_number_and_total_missing(api, client):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}, {"n": 2}], next=2))
    api.get(CONTENTS, json={"elements": [{"n": 3}]})  # no paging at all on the last page

    pages = list(OffsetPaging(limit=2).pages(client, CONTENTS, {}))

    assert pages == [[{"n": 1}, {"n": 2}], [{"n": 3}]]
    assert sent(api)[1:] == [
        ("GET", f"{CONTENTS}?start=0&limit=2"),
        ("GET", f"{CONTENTS}?start=2&limit=2"),
    ]


def test_offset_paging_reads_short_pages_by_following_next(api, client):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}], next="1", total=3))  # asked 3, got 1
    api.get(CONTENTS, json=page([{"n": 2}, {"n": 3}], total=3))

    pages = list(OffsetPaging(limit=3).pages(client, CONTENTS, {}))

    assert pages == [[{"n": 1}], [{"n": 2}, {"n": 3}]]
    assert sent(api)[1:] == [
        ("GET", f"{CONTENTS}?start=0&limit=3"),
        ("GET", f"{CONTENTS}?start=1&limit=3"),
    ]


@pytest.mark.parametrize(
    ("second_next", "message"),
    [
        ("2", "coursera: paging.next 2 at start=2 does not move forward; refusing to loop"),
        ("1", "coursera: paging.next 1 at start=2 does not move forward; refusing to loop"),
        ("abc", "coursera: paging.next 'abc' at start=2 is not an offset"),
    ],
    ids=["repeats", "goes back", "not a number"],
)
def test_offset_paging_refuses_a_next_that_does_not_advance(api, client, second_next, message):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}, {"n": 2}], next="2"))
    api.get(CONTENTS, json=page([{"n": 3}, {"n": 4}], next=second_next))

    pager = OffsetPaging(limit=2).pages(client, CONTENTS, {})
    read = [next(pager), next(pager)]
    with pytest.raises(DataError) as caught:
        next(pager)

    assert str(caught.value) == message
    assert read == [[{"n": 1}, {"n": 2}], [{"n": 3}, {"n": 4}]]
    assert data_requests(api) == 2


@pytest.mark.parametrize("total", [5, 2])
def test_offset_paging_refuses_a_total_that_disagrees_with_what_was_read(api, client, total):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}, {"n": 2}], next="2", total=total))
    api.get(CONTENTS, json=page([{"n": 3}], total=total))

    with pytest.raises(DataError) as caught:
        list(OffsetPaging(limit=2).pages(client, CONTENTS, {}))

    assert str(caught.value) == (
        f"coursera: listing said total {total} but returned 3 records; the fetch is incomplete"
    )


@pytest.mark.parametrize(
    "body",
    [{"paging": {}}, {"elements": None}, {"elements": {"n": 1}}, [{"n": 1}]],
    ids=["no elements", "null elements", "elements not a list", "bare array"],
)
def test_offset_paging_refuses_a_page_without_elements(api, client, body):
    add_token(api)
    api.get(CONTENTS, json=body)

    with pytest.raises(DataError) as caught:
        list(OffsetPaging(limit=2).pages(client, CONTENTS, {}))

    assert str(caught.value) == "coursera: page at start=0 has no 'elements' list"


def test_coursera_fetch_never_asks_more_than_the_contract_allows(api, client):
    cfg = SimpleNamespace(base_url="https://api.test/ent/api", org_id="ORG42")
    add_token(api)
    api.get(f"{cfg.base_url}/businesses.v1/ORG42/enrollmentReports", json=page([]))

    list(coursera.fetch_stats(client, cfg, page_size=5000))

    assert sent(api)[1:] == [
        (
            "GET",
            "https://api.test/ent/api/businesses.v1/ORG42/enrollmentReports"
            "?includeS12n=true&start=0&limit=1000",
        )
    ]


# --- range paging (OpenClassrooms) --------------------------------------------------------------


def ranges_sent(api) -> list[str]:
    return [c.request.headers.get("Range") for c in api.calls if c.request.method == "GET"]


def add_slice(api, items, content_range=None, status=206):
    headers = {"Content-Range": content_range} if content_range else {}
    api.get(COURSES, status=status, json=items, headers=headers)


def test_range_paging_asks_item_ranges_until_the_total(api, make_client):
    client = make_client("openclassrooms")
    add_token(api)
    add_slice(api, [{"id": 1}, {"id": 2}], "items 0-1/5")
    add_slice(api, [{"id": 3}, {"id": 4}], "items 2-3/5")
    add_slice(api, [{"id": 5}], "items 4-4/5")

    pages = list(RangePaging(size=2).pages(client, COURSES))

    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}], [{"id": 5}]]
    assert ranges_sent(api) == ["items=0-1", "items=2-3", "items=4-5"]


def test_range_paging_continues_where_a_capping_server_stopped(api, make_client):
    client = make_client("openclassrooms")
    add_token(api)
    add_slice(api, [{"id": i} for i in range(0, 4)], "items 0-3/10")  # asked 10, got 4
    add_slice(api, [{"id": i} for i in range(4, 8)], "items 4-7/10")
    add_slice(api, [{"id": i} for i in range(8, 10)], "items 8-9/10")

    pages = list(RangePaging(size=10).pages(client, COURSES))

    assert [item["id"] for p in pages for item in p] == list(range(10))
    assert ranges_sent(api) == ["items=0-9", "items=4-13", "items=8-17"]


def test_range_paging_stops_on_200_with_the_whole_collection(api, make_client):
    client = make_client("openclassrooms")
    add_token(api)
    add_slice(api, [{"id": 1}, {"id": 2}], status=200)

    pages = list(RangePaging(size=50).pages(client, COURSES))

    assert pages == [[{"id": 1}, {"id": 2}]]
    assert ranges_sent(api) == ["items=0-49"]


def test_range_paging_with_unknown_total_stops_on_416(api, make_client):
    client = make_client("openclassrooms")
    add_token(api)
    add_slice(api, [{"id": 1}, {"id": 2}], "items 0-1/*")
    add_slice(api, [{"id": 3}], "items 2-2/*")
    api.get(COURSES, status=416, json={"code": 416, "message": "Range Not Satisfiable"})

    pages = list(RangePaging(size=2).pages(client, COURSES))

    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    assert ranges_sent(api) == ["items=0-1", "items=2-3", "items=3-4"]


def test_range_paging_of_an_empty_collection_yields_nothing(api, make_client):
    client = make_client("openclassrooms")
    add_token(api)
    api.get(COURSES, status=416, json={"code": 416, "message": "Range Not Satisfiable"})

    assert list(RangePaging(size=2).pages(client, COURSES)) == []
    assert ranges_sent(api) == ["items=0-1"]


def _range_failure(api, make_client, size: int = 2) -> tuple[list, str]:
    client = make_client("openclassrooms")
    pager = RangePaging(size=size).pages(client, COURSES)
    read = []
    with pytest.raises(DataError) as caught:
        for p in pager:
            read.append(p)
    return read, str(caught.value)


def test_range_paging_refuses_a_total_that_changes_between_pages(api, make_client):
    add_token(api)
    add_slice(api, [{"id": 1}, {"id": 2}], "items 0-1/5")
    add_slice(api, [{"id": 3}, {"id": 4}], "items 2-3/6")

    read, message = _range_failure(api, make_client)

    assert message == (
        "openclassrooms: collection size changed from 5 to 6 while paging; "
        "the listing cannot be trusted"
    )
    assert read == [[{"id": 1}, {"id": 2}]]


@pytest.mark.parametrize(
    ("items", "content_range", "message"),
    [
        pytest.param(
            [{"id": 2}, {"id": 3}],
            "items 1-2/5",
            "openclassrooms: Content-Range 'items 1-2/5' does not match the request from 0 "
            "and the 2 items sent",
            id="starts elsewhere",
        ),
        pytest.param(
            [{"id": 1}, {"id": 2}, {"id": 3}],
            "items 0-1/5",
            "openclassrooms: Content-Range 'items 0-1/5' does not match the request from 0 "
            "and the 3 items sent",
            id="more items than the range",
        ),
        pytest.param(
            [{"id": 1}],
            "items 0-1/5",
            "openclassrooms: Content-Range 'items 0-1/5' does not match the request from 0 "
            "and the 1 items sent",
            id="fewer items than the range",
        ),
        pytest.param(
            [{"id": 1}, {"id": 2}],
            "items 0-1/1",
            "openclassrooms: Content-Range 'items 0-1/1' runs past its total",
            id="past the total",
        ),
        pytest.param(
            [{"id": 1}, {"id": 2}],
            "bytes 0-1/5",
            "openclassrooms: 206 answer for items from 0 has no valid Content-Range "
            "('bytes 0-1/5')",
            id="not an items range",
        ),
        pytest.param(
            [{"id": 1}, {"id": 2}],
            None,
            "openclassrooms: 206 answer for items from 0 has no valid Content-Range ('')",
            id="missing",
        ),
    ],
)
def test_range_paging_refuses_a_content_range_that_does_not_fit(
    api, make_client, items, content_range, message
):
    add_token(api)
    add_slice(api, items, content_range)

    read, text = _range_failure(api, make_client)

    assert text == message
    assert read == []


def test_range_paging_refuses_a_200_on_a_later_range(api, make_client):
    add_token(api)
    add_slice(api, [{"id": 1}, {"id": 2}], "items 0-1/5")
    add_slice(api, [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}], status=200)

    read, message = _range_failure(api, make_client)

    assert message == (
        "openclassrooms: server ignored Range items=2- and sent the whole collection again"
    )
    assert read == [[{"id": 1}, {"id": 2}]]


def test_range_paging_refuses_a_416_before_the_announced_total(api, make_client):
    add_token(api)
    add_slice(api, [{"id": 1}, {"id": 2}], "items 0-1/5")
    api.get(COURSES, status=416, json={"code": 416, "message": "Range Not Satisfiable"})

    read, message = _range_failure(api, make_client)

    assert message == (
        "openclassrooms: server says items from 2 are out of range, but announced 5; "
        "the collection shrank while paging"
    )


def test_range_paging_refuses_a_body_that_is_not_an_array(api, make_client):
    add_token(api)
    api.get(COURSES, status=206, json={"items": []}, headers={"Content-Range": "items 0-1/5"})

    read, message = _range_failure(api, make_client)

    assert message == "openclassrooms: items from 0: body is not a JSON array"


def test_openclassrooms_fetch_pages_the_organization_courses(api, make_client):
    client = make_client("openclassrooms")
    cfg = SimpleNamespace(base_url="https://api.test", org_id="4242")
    add_token(api)
    add_slice(api, [{"id": 1}], status=200)

    assert list(openclassrooms.fetch_courses(client, cfg)) == [[{"id": 1}]]
    assert sent(api)[1:] == [("GET", COURSES)]
    assert ranges_sent(api) == ["items=0-999"]


def test_read_ahead_yields_every_page_in_order_and_raises_where_the_fetch_failed():
    from lo_sync.fetch.worker import read_ahead

    def pages():
        yield [1]
        yield [2]
        raise DataError("page 3 broke")

    seen = []
    with pytest.raises(DataError, match="page 3 broke"):
        for page in read_ahead(pages()):
            seen.append(page)
    assert seen == [[1], [2]]


def test_read_ahead_stops_fetching_when_the_consumer_stops():
    import threading
    import time

    from lo_sync.fetch.worker import read_ahead

    fetched = []

    def pages():
        for i in range(1000):
            fetched.append(i)
            yield [i]

    for page in read_ahead(pages(), depth=2):
        if page == [3]:
            break
    time.sleep(0.3)
    assert len(fetched) <= 3 + 2 + 2  # what was read, the queue, one in hand
    assert not any(t.name == "lo-sync-read-ahead" and t.is_alive() for t in threading.enumerate())


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
    from lo_sync.providers import RecordError, coursera

    body = b'{"contentId": 123456789012345678901234567890, "email": "a@x.io"}'
    record = decode_json(body)

    assert isinstance(record["contentId"], float)  # orjson's reading; json's is exact
    with pytest.raises(RecordError, match="contentId"):
        coursera.stat_row({**record, "isCompleted": False, "overallProgress": 1})
