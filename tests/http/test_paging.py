"""Both paging styles as state machines, driven with made-up answers: no network, no mock.

`pages_of` walks a paginator as `paginate` does, noting each request it asks for,
so a case reads as the conversation: what was asked, what came back, what was kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
import requests

from lo_sync.errors import DataError
from lo_sync.http import OffsetPaginator, PageRequest, Paginator, RangePaginator


def answer(body, status: int = 200, content_range: str | None = None):
    """One (response, body) pair as `ApiClient.get_json` returns it."""
    response = requests.Response()
    response.status_code = status
    if content_range is not None:
        response.headers["Content-Range"] = content_range
    return response, body


def pages_of(
    paginator: Paginator, answers: Iterable[tuple], asked: list | None = None
) -> Iterator[list]:
    answers = iter(answers)
    request = paginator.first_request()
    while request is not None:
        if asked is not None:
            asked.append(request)
        records = paginator.update_state(*next(answers))
        if records is not None:
            yield records
        request = paginator.next_request()


# --- offset paging (Coursera) -------------------------------------------------------------------


def page(elements, **paging):
    return answer({"elements": elements, "paging": paging, "linked": {}})


def remaining_requests(paginator) -> list[PageRequest]:
    return [paginator.request_at(start) for start in paginator.remaining_starts()]


def offsets(asked: list[PageRequest]) -> list[dict]:
    return [request.params for request in asked]


def test_offset_paging_follows_next_and_sends_start_and_limit():
    asked = []
    answers = [
        page([{"n": 1}, {"n": 2}], next="2", total=5),
        page([{"n": 3}, {"n": 4}], next="4", total=5),
        page([{"n": 5}], total=5),
    ]

    pages = list(pages_of(OffsetPaginator("coursera", limit=2), answers, asked))

    assert pages == [[{"n": 1}, {"n": 2}], [{"n": 3}, {"n": 4}], [{"n": 5}]]
    assert offsets(asked) == [
        {"start": 0, "limit": 2},
        {"start": 2, "limit": 2},
        {"start": 4, "limit": 2},
    ]
    assert all(request.headers == {} for request in asked)


def test_offset_paging_accepts_next_as_a_number_and_total_missing():
    asked = []
    answers = [
        page([{"n": 1}, {"n": 2}], next=2),
        answer({"elements": [{"n": 3}]}),  # no paging at all on the last page
    ]

    pages = list(pages_of(OffsetPaginator("coursera", limit=2), answers, asked))

    assert pages == [[{"n": 1}, {"n": 2}], [{"n": 3}]]
    assert offsets(asked) == [{"start": 0, "limit": 2}, {"start": 2, "limit": 2}]


def test_offset_paging_reads_short_pages_by_following_next():
    asked = []
    answers = [
        page([{"n": 1}], next="1", total=3),  # asked 3, got 1
        page([{"n": 2}, {"n": 3}], total=3),
    ]

    pages = list(pages_of(OffsetPaginator("coursera", limit=3), answers, asked))

    assert pages == [[{"n": 1}], [{"n": 2}, {"n": 3}]]
    assert offsets(asked) == [{"start": 0, "limit": 3}, {"start": 1, "limit": 3}]


@pytest.mark.parametrize(
    ("second_next", "message"),
    [
        ("2", "coursera: paging.next 2 at start=2 does not move forward; refusing to loop"),
        ("1", "coursera: paging.next 1 at start=2 does not move forward; refusing to loop"),
        ("abc", "coursera: paging.next 'abc' at start=2 is not an offset"),
    ],
    ids=["repeats", "goes back", "not a number"],
)
def test_offset_paging_refuses_a_next_that_does_not_advance(second_next, message):
    asked = []
    answers = [page([{"n": 1}, {"n": 2}], next="2"), page([{"n": 3}, {"n": 4}], next=second_next)]

    pager = pages_of(OffsetPaginator("coursera", limit=2), answers, asked)
    read = [next(pager), next(pager)]
    with pytest.raises(DataError) as caught:
        next(pager)

    assert str(caught.value) == message
    assert read == [[{"n": 1}, {"n": 2}], [{"n": 3}, {"n": 4}]]
    assert len(asked) == 2


@pytest.mark.parametrize("total", [5, 2])
def test_offset_paging_refuses_a_total_that_disagrees_with_what_was_read(total):
    answers = [page([{"n": 1}, {"n": 2}], next="2", total=total), page([{"n": 3}], total=total)]

    with pytest.raises(DataError) as caught:
        list(pages_of(OffsetPaginator("coursera", limit=2), answers))

    assert str(caught.value) == (
        f"coursera: listing said total {total} but returned 3 records; the fetch is incomplete"
    )


@pytest.mark.parametrize(
    "body",
    [{"paging": {}}, {"elements": None}, {"elements": {"n": 1}}, [{"n": 1}]],
    ids=["no elements", "null elements", "elements not a list", "bare array"],
)
def test_offset_paging_refuses_a_page_without_elements(body):
    with pytest.raises(DataError) as caught:
        list(pages_of(OffsetPaginator("coursera", limit=2), [answer(body)]))

    assert str(caught.value) == "coursera: page at start=0 has no 'elements' list"


def test_offset_paging_refuses_a_malformed_paging_after_handing_on_its_page():
    answers = [answer({"elements": [{"n": 1}], "paging": ["next", "2"]})]

    pager = pages_of(OffsetPaginator("coursera", limit=2), answers)
    read = next(pager)
    with pytest.raises(DataError) as caught:
        next(pager)

    assert read == [{"n": 1}]
    assert str(caught.value) == "coursera: page at start=0 has a malformed 'paging'"


def test_offset_paging_may_end_on_its_last_allowed_page():
    answers = [page([{"n": 0}], next="1"), page([{"n": 1}])]

    assert list(pages_of(OffsetPaginator("coursera", limit=1, max_pages=2), answers)) == [
        [{"n": 0}],
        [{"n": 1}],
    ]


def test_offset_paging_knows_the_requests_left_once_a_total_is_announced():
    paginator = OffsetPaginator("coursera", limit=2)
    assert paginator.remaining_starts() is None  # nothing announced yet

    paginator.update_state(*page([{"n": 1}, {"n": 2}], next="2", total=7))
    paginator.next_request()

    assert offsets(remaining_requests(paginator)) == [
        {"start": 2, "limit": 2},
        {"start": 4, "limit": 2},
        {"start": 6, "limit": 2},
    ]


# --- range paging (OpenClassrooms) --------------------------------------------------------------


def items(records, content_range=None, status=206):
    return answer(records, status, content_range)


RANGE_NOT_SATISFIABLE = answer(None, 416)  # get_json hands an accepted 416 on without a body


def ranges(asked: list[PageRequest]) -> list[str]:
    return [request.headers.get("Range") for request in asked]


def test_range_paging_asks_item_ranges_until_the_total():
    asked = []
    answers = [
        items([{"id": 1}, {"id": 2}], "items 0-1/5"),
        items([{"id": 3}, {"id": 4}], "items 2-3/5"),
        items([{"id": 5}], "items 4-4/5"),
    ]

    pages = list(pages_of(RangePaginator("openclassrooms", size=2), answers, asked))

    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}], [{"id": 5}]]
    assert ranges(asked) == ["items=0-1", "items=2-3", "items=4-5"]
    assert all(request.params == {} for request in asked)


def test_range_paging_continues_where_a_capping_server_stopped():
    asked = []
    answers = [
        items([{"id": i} for i in range(0, 4)], "items 0-3/10"),  # asked 10, got 4
        items([{"id": i} for i in range(4, 8)], "items 4-7/10"),
        items([{"id": i} for i in range(8, 10)], "items 8-9/10"),
    ]

    pages = list(pages_of(RangePaginator("openclassrooms", size=10), answers, asked))

    assert [item["id"] for p in pages for item in p] == list(range(10))
    assert ranges(asked) == ["items=0-9", "items=4-13", "items=8-17"]


def test_range_paging_stops_on_200_with_the_whole_collection():
    asked = []
    answers = [items([{"id": 1}, {"id": 2}], status=200)]

    pages = list(pages_of(RangePaginator("openclassrooms", size=50), answers, asked))

    assert pages == [[{"id": 1}, {"id": 2}]]
    assert ranges(asked) == ["items=0-49"]


def test_range_paging_with_unknown_total_stops_on_416():
    asked = []
    answers = [
        items([{"id": 1}, {"id": 2}], "items 0-1/*"),
        items([{"id": 3}], "items 2-2/*"),
        RANGE_NOT_SATISFIABLE,
    ]

    pages = list(pages_of(RangePaginator("openclassrooms", size=2), answers, asked))

    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    assert ranges(asked) == ["items=0-1", "items=2-3", "items=3-4"]


def test_range_paging_of_an_empty_collection_yields_nothing():
    asked = []

    pages = list(pages_of(RangePaginator("openclassrooms", size=2), [RANGE_NOT_SATISFIABLE], asked))

    assert pages == []
    assert ranges(asked) == ["items=0-1"]


def test_range_paging_accepts_416_so_that_it_can_read_it():
    assert RangePaginator("openclassrooms", size=2).accept_statuses == {416}
    assert OffsetPaginator("coursera", limit=2).accept_statuses == set()


def _range_failure(answers, size: int = 2) -> tuple[list, str]:
    pager = pages_of(RangePaginator("openclassrooms", size=size), answers)
    read = []
    with pytest.raises(DataError) as caught:
        for p in pager:
            read.append(p)
    return read, str(caught.value)


def test_range_paging_refuses_a_total_that_changes_between_pages():
    read, message = _range_failure(
        [items([{"id": 1}, {"id": 2}], "items 0-1/5"), items([{"id": 3}, {"id": 4}], "items 2-3/6")]
    )

    assert message == (
        "openclassrooms: collection size changed from 5 to 6 while paging; "
        "the listing cannot be trusted"
    )
    assert read == [[{"id": 1}, {"id": 2}]]


@pytest.mark.parametrize(
    ("records", "content_range", "message"),
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
def test_range_paging_refuses_a_content_range_that_does_not_fit(records, content_range, message):
    read, text = _range_failure([items(records, content_range)])

    assert text == message
    assert read == []


def test_range_paging_refuses_a_200_on_a_later_range():
    read, message = _range_failure(
        [
            items([{"id": 1}, {"id": 2}], "items 0-1/5"),
            items([{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}], status=200),
        ]
    )

    assert message == (
        "openclassrooms: server ignored Range items=2- and sent the whole collection again"
    )
    assert read == [[{"id": 1}, {"id": 2}]]


def test_range_paging_refuses_a_416_before_the_announced_total():
    read, message = _range_failure(
        [items([{"id": 1}, {"id": 2}], "items 0-1/5"), RANGE_NOT_SATISFIABLE]
    )

    assert message == (
        "openclassrooms: server says items from 2 are out of range, but announced 5; "
        "the collection shrank while paging"
    )


def test_range_paging_refuses_a_body_that_is_not_an_array():
    read, message = _range_failure([items({"items": []}, "items 0-1/5")])

    assert message == "openclassrooms: items from 0: body is not a JSON array"


def test_range_paging_knows_the_requests_left_once_a_total_is_announced():
    paginator = RangePaginator("openclassrooms", size=2)
    paginator.update_state(*items([{"id": 1}, {"id": 2}], "items 0-1/*"))
    paginator.next_request()
    assert paginator.remaining_starts() is None  # the server has not said how many

    paginator.update_state(*items([{"id": 3}, {"id": 4}], "items 2-3/7"))
    paginator.next_request()

    assert ranges(remaining_requests(paginator)) == ["items=4-5", "items=6-7"]


def test_a_listing_read_whole_has_no_requests_left():
    paginator = RangePaginator("openclassrooms", size=2)
    paginator.update_state(*items([{"id": 1}, {"id": 2}], "items 0-1/2"))

    assert paginator.next_request() is None
    assert list(paginator.remaining_starts()) == []


# --- both -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paginator", "answers", "provider"),
    [
        pytest.param(
            OffsetPaginator("coursera", limit=1, max_pages=3),
            (page([{"n": i}], next=str(i + 1)) for i in range(10)),
            "coursera",
            id="offset",
        ),
        pytest.param(
            RangePaginator("openclassrooms", size=1, max_pages=3),
            (items([{"n": i}], f"items {i}-{i}/*") for i in range(10)),
            "openclassrooms",
            id="range",
        ),
    ],
)
def test_paging_gives_up_after_max_pages(paginator, answers, provider):
    pager = pages_of(paginator, answers)
    read = [next(pager) for _ in range(3)]
    with pytest.raises(DataError) as caught:
        next(pager)

    assert read == [[{"n": 0}], [{"n": 1}], [{"n": 2}]]
    assert str(caught.value) == f"{provider}: more than 3 pages; refusing to go on"
