"""The fetch worker's read-ahead thread: every page in order, and no thread left behind."""

from __future__ import annotations

import pytest

from lo_sync.errors import DataError


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
