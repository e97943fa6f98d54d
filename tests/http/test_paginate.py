"""`paginate` on the wire: each paginator's requests go out through the client as asked.

The paging rules themselves are tested without a network in test_paging.py.
"""

from __future__ import annotations

import pytest

from lo_sync.errors import DataError
from lo_sync.http import OffsetPaginator, RangePaginator, paginate
from tests.http.wire import CONTENTS, COURSES, TOKEN_URL, add_token, sent


def page(elements, **paging) -> dict:
    return {"elements": elements, "paging": paging, "linked": {}}


def ranges_sent(api) -> list[str]:
    return [c.request.headers.get("Range") for c in api.calls if c.request.method == "GET"]


def test_listing_params_go_first_then_start_and_limit(api, client):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}, {"n": 2}], next="2", total=3))
    api.get(CONTENTS, json=page([{"n": 3}], total=3))

    pages = list(
        paginate(client, CONTENTS, OffsetPaginator("coursera", limit=2), {"includeS12n": "true"})
    )

    assert pages == [[{"n": 1}, {"n": 2}], [{"n": 3}]]
    assert sent(api) == [
        ("POST", TOKEN_URL),
        ("GET", f"{CONTENTS}?includeS12n=true&start=0&limit=2"),
        ("GET", f"{CONTENTS}?includeS12n=true&start=2&limit=2"),
    ]


def test_item_ranges_go_as_headers_and_a_416_ends_the_listing(api, make_client):
    client = make_client("openclassrooms")
    add_token(api)
    api.get(
        COURSES, status=206, json=[{"id": 1}, {"id": 2}], headers={"Content-Range": "items 0-1/*"}
    )
    api.get(COURSES, status=416, json={"code": 416, "message": "Range Not Satisfiable"})

    pages = list(paginate(client, COURSES, RangePaginator("openclassrooms", size=2)))

    assert pages == [[{"id": 1}, {"id": 2}]]
    assert sent(api)[1:] == [("GET", COURSES), ("GET", COURSES)]
    assert ranges_sent(api) == ["items=0-1", "items=2-3"]


def test_a_refused_answer_ends_the_pages_after_those_already_read(api, client):
    add_token(api)
    api.get(CONTENTS, json=page([{"n": 1}, {"n": 2}], next="2"))
    api.get(CONTENTS, json=page([{"n": 3}, {"n": 4}], next="2"))

    pager = paginate(client, CONTENTS, OffsetPaginator("coursera", limit=2))
    read = [next(pager), next(pager)]
    with pytest.raises(DataError, match="does not move forward"):
        next(pager)

    assert read == [[{"n": 1}, {"n": 2}], [{"n": 3}, {"n": 4}]]
    assert len(sent(api)) == 3
