"""Concurrent paging: pages requested ahead by several lanes, read by the paginator in order.

The mocked wire answers each page from its `start`, whatever order requests come
in, and notes how many were in flight at once. Retry waits are recorded, not slept.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from lo_sync.errors import DataError, ProviderError
from lo_sync.http import (
    ApiClient,
    DeadlineExceeded,
    OffsetPaginator,
    RangePaginator,
    RetryPolicy,
    paginate,
)
from lo_sync.http.deadline import Watchdog
from lo_sync.http.prefetch import SHRINK_AFTER, WINDOW_PER_LANE, PageWindow
from tests.helpers.hostile import TricklingServer
from tests.http.wire import CLIENT_ID, CLIENT_SECRET, CONTENTS, COURSES, TOKEN_URL, add_token


class Listing:
    """A listing of `total` records on the mocked wire, served by start, with a note of
    how many requests were being answered at once."""

    def __init__(self, total: int, *, delay=lambda start: 0.01, answer=None):
        self.total = total
        self.delay = delay
        self.answer = answer  # (start, default answer) -> answer, to misbehave
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.starts: list[int] = []

    def records(self, start: int, count: int) -> list[dict]:
        return [{"n": n} for n in range(start, min(start + count, self.total))]

    def serve(self, start: int, default):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.starts.append(start)
        try:
            time.sleep(self.delay(start))
            return self.answer(start, default) if self.answer else default
        finally:
            with self.lock:
                self.in_flight -= 1

    def coursera(self, request):
        query = parse_qs(urlsplit(request.url).query)
        start, limit = int(query["start"][0]), int(query["limit"][0])
        paging = {"total": self.total}
        if start + limit < self.total:
            paging["next"] = str(start + limit)
        body = {"elements": self.records(start, limit), "paging": paging, "linked": {}}
        return self.serve(start, (200, {}, json.dumps(body)))


@pytest.fixture
def concurrent(sleeps):
    clients = []

    def make(
        provider: str = "coursera", concurrency: int = 4, attempts: int = 3, **options
    ) -> ApiClient:
        client = ApiClient(
            provider,
            token_url=TOKEN_URL,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=RetryPolicy(max_attempts=attempts, sleep=sleeps.append),
            concurrency=concurrency,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def read_coursera(api, client, listing: Listing, limit: int = 10) -> list[int]:
    add_token(api)
    api.add_callback("GET", CONTENTS, callback=listing.coursera)
    pages = paginate(client, CONTENTS, OffsetPaginator("coursera", limit=limit))
    return [record["n"] for page in pages for record in page]


def test_pages_answered_out_of_order_are_read_in_order(api, concurrent):
    # Later pages answer first: page 0 takes 90 ms, page 90 none.
    listing = Listing(100, delay=lambda start: (90 - start) / 1000 if start < 90 else 0)

    read = read_coursera(api, concurrent(concurrency=4), listing)

    assert read == list(range(100))
    assert 1 < listing.peak <= 4
    assert sorted(listing.starts) == list(range(0, 100, 10))  # each page asked for once


def test_a_listing_without_a_total_is_read_one_page_at_a_time(api, concurrent):
    def no_total(request):
        start = int(parse_qs(urlsplit(request.url).query)["start"][0])
        paging = {"next": str(start + 10)} if start < 90 else {}
        body = {"elements": [{"n": n} for n in range(start, start + 10)], "paging": paging}
        return listing.serve(start, (200, {}, json.dumps(body)))

    listing = Listing(100)
    add_token(api)
    api.add_callback("GET", CONTENTS, callback=no_total)

    pages = list(paginate(concurrent(concurrency=8), CONTENTS, OffsetPaginator("coursera", 10)))

    assert len(pages) == 10
    assert listing.peak == 1


def test_pages_requested_ahead_are_bounded_by_the_window(api, concurrent):
    listing = Listing(10_000, delay=lambda start: 0)
    add_token(api)
    api.add_callback("GET", CONTENTS, callback=listing.coursera)
    pages = paginate(concurrent(concurrency=3), CONTENTS, OffsetPaginator("coursera", limit=10))

    next(pages), next(pages)  # then the reader stops reading for a while
    time.sleep(0.3)

    # The two pages read, and at most a window's worth asked for ahead of them.
    assert len(listing.starts) <= 2 + WINDOW_PER_LANE * 3
    pages.close()


def test_a_reader_slower_than_the_provider_keeps_the_window_shallow(api, concurrent):
    # Every answer is there before the reader, busy 20 ms a page, asks for it: more
    # requests ahead would only cost the worker CPU.
    listing = Listing(400, delay=lambda start: 0)
    add_token(api)
    api.add_callback("GET", CONTENTS, callback=listing.coursera)
    pages = paginate(concurrent(concurrency=8), CONTENTS, OffsetPaginator("coursera", limit=10))

    for _ in pages:
        time.sleep(0.02)

    assert len(listing.starts) == 40
    assert listing.peak <= 3  # 1, or 2 should the machine stall a request once


def test_a_provider_slower_than_the_reader_deepens_the_window_to_every_lane(api, concurrent):
    listing = Listing(600, delay=lambda start: 0.05)

    read = read_coursera(api, concurrent(concurrency=4), listing)

    assert read == list(range(600))
    assert listing.peak == 4


def test_a_page_asked_for_ahead_that_comes_cut_short_is_read_again_in_its_turn(api, concurrent):
    # Lanes carry bytes; the reader decodes them, and a body that is not JSON is
    # asked for again, as a page read in turn would have been.
    cut = []

    def cut_short_once_at_40(start, default):
        if start == 40 and not cut:
            cut.append(start)
            status, headers, body = default
            return status, headers, body[: len(body) // 2]
        return default

    listing = Listing(100, delay=lambda start: 0.02, answer=cut_short_once_at_40)

    read = read_coursera(api, concurrent(concurrency=4), listing)

    assert read == list(range(100))
    assert cut == [40]
    assert sorted(listing.starts) == sorted([*range(0, 100, 10), 40])


def test_a_page_that_fails_after_its_retries_fails_the_fetch_where_it_comes(api, concurrent):
    def broken_at_40(start, default):
        return (500, {}, json.dumps({"message": "boom"})) if start == 40 else default

    listing = Listing(100, answer=broken_at_40)
    add_token(api)
    api.add_callback("GET", CONTENTS, callback=listing.coursera)
    pages = paginate(concurrent(concurrency=4), CONTENTS, OffsetPaginator("coursera", limit=10))

    read = []
    with pytest.raises(ProviderError, match=r"start=40.*HTTP 500.*gave up after 3 attempts"):
        for page in pages:
            read.extend(record["n"] for record in page)

    assert read == list(range(40))  # every page before it, none after
    assert listing.starts.count(40) == 3


def test_a_short_page_is_followed_where_next_says_and_nothing_is_read_twice(api, concurrent):
    def short_at_30(start, default):
        if start != 30:
            return default
        body = {"elements": [{"n": n} for n in range(30, 35)], "paging": {"next": "35"}}
        body["paging"]["total"] = 100
        return (200, {}, json.dumps(body))

    listing = Listing(100, answer=short_at_30)

    read = read_coursera(api, concurrent(concurrency=4), listing)

    # 35..44 is what the next request reads once the window is planned again.
    assert read == list(range(100))


def test_a_total_that_changes_while_paging_fails_the_fetch(api, concurrent):
    client = concurrent("openclassrooms", concurrency=4)

    def ranged(request):
        first, last = map(int, request.headers["Range"].removeprefix("items=").split("-"))
        total = 50 if first == 0 else 57  # the collection grew after the first answer
        last = min(last, total - 1)
        body = [{"id": n} for n in range(first, last + 1)]
        headers = {"Content-Range": f"items {first}-{last}/{total}"}
        return (206, headers, json.dumps(body))

    add_token(api)
    api.add_callback("GET", COURSES, callback=ranged)
    pages = paginate(client, COURSES, RangePaginator("openclassrooms", size=10))

    assert len(next(pages)) == 10
    with pytest.raises(DataError, match="collection size changed from 50 to 57"):
        next(pages)


def test_a_server_that_caps_its_slices_is_planned_at_the_size_it_serves(api, concurrent):
    client = concurrent("openclassrooms", concurrency=4)
    asked = []

    def capped(request):
        first, _ = map(int, request.headers["Range"].removeprefix("items=").split("-"))
        asked.append(first)
        last = min(first + 4, 49)  # five items an answer, whatever was asked for
        body = [{"id": n} for n in range(first, last + 1)]
        return (206, {"Content-Range": f"items {first}-{last}/50"}, json.dumps(body))

    add_token(api)
    api.add_callback("GET", COURSES, callback=capped)

    pages = list(paginate(client, COURSES, RangePaginator("openclassrooms", size=100)))

    assert [record["id"] for page in pages for record in page] == list(range(50))
    assert sorted(asked) == list(range(0, 50, 5))


def test_throttled_answers_lower_the_concurrency_and_every_page_still_comes(
    api, concurrent, sleeps
):
    # The provider allows two requests at once and answers 429 above that.
    listing = Listing(200, delay=lambda start: 0.02)

    def limited(request):
        with listing.lock:
            crowded = listing.in_flight >= 2
        if crowded:
            return (429, {"Retry-After": "0"}, json.dumps({"message": "slow down"}))
        return listing.coursera(request)

    client = concurrent(concurrency=8, attempts=6)  # the default number of attempts
    add_token(api)
    api.add_callback("GET", CONTENTS, callback=limited)
    pages = paginate(client, CONTENTS, OffsetPaginator("coursera", limit=10))

    read = [record["n"] for page in pages for record in page]

    assert read == list(range(200))
    assert client.gate.throttled_answers > 0
    assert client.gate.limit <= 4  # halved from 8 at least once; grows back slowly
    assert all(wait == 0 for wait in sleeps)  # Retry-After: 0, so no real waiting


@pytest.mark.parametrize("headers_at_once", [False, True], ids=["headers-trickle", "body-trickles"])
def test_a_lane_request_that_trickles_ends_at_its_deadline(headers_at_once):
    # No alarm reaches a lane's thread: the watchdog hangs up its connection.
    watchdog = Watchdog()
    outcome: list[BaseException] = []
    with TricklingServer(pause=0.05, headers_at_once=headers_at_once) as server:
        client = ApiClient(
            "coursera",
            token_url=server.token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            timeout=(5.0, 5.0),
            request_deadline=0.5,
            retry=RetryPolicy(max_attempts=2, sleep=lambda s: None),
        )
        lane = client.lane(watchdog)

        def fetch():
            try:
                lane.get_json(server.url)
            except BaseException as exc:
                outcome.append(exc)

        started = time.monotonic()
        thread = threading.Thread(target=fetch)
        thread.start()
        thread.join(10)
        elapsed = time.monotonic() - started
    watchdog.close()

    assert len(outcome) == 1 and isinstance(outcome[0], DeadlineExceeded)
    assert "http.request_deadline (0.5 s) ran out" in str(outcome[0])
    assert 0.5 <= elapsed < 2.5


def test_a_window_that_deepened_keeps_its_depth_through_a_short_run_of_ready_pages(concurrent):
    # Shrinking soon after a wait would bring back the wait: at 100 ms a page, each
    # one costs the reader a round trip.
    window = PageWindow(concurrent(concurrency=4), CONTENTS, None, frozenset())
    for _ in range(2):
        window._learn(waits=True)
    assert window.depth == 4

    for _ in range(SHRINK_AFTER - 1):
        window._learn(waits=False)
    assert window.depth == 4

    window._learn(waits=False)
    assert window.depth == 3


def test_a_window_doubles_while_the_reader_waits_from_the_start_then_deepens_by_one(concurrent):
    # At 500 ms a page, climbing from 1 to 16 one page a wait is 15 round trips;
    # doubling gets there in 4. Once a page was found ready, the depth is nearly
    # right, and a wait only says it is one short.
    window = PageWindow(concurrent(concurrency=8), CONTENTS, None, frozenset())
    waits = [True, True, True, False, True, True]
    assert depths_after(window, waits) == [2, 4, 8, 8, 9, 10]


def test_a_doubling_window_stops_at_twice_the_requests_in_flight(concurrent):
    window = PageWindow(concurrent(concurrency=3), CONTENTS, None, frozenset())
    assert depths_after(window, [True] * 4) == [2, 4, 6, 6]
    assert window.deepest == WINDOW_PER_LANE * 3


def depths_after(window: PageWindow, waits: list[bool]) -> list[int]:
    """The window's depth after each page the reader takes, waiting for it or not."""
    depths = []
    for wait in waits:
        window._learn(waits=wait)
        depths.append(window.depth)
    return depths
