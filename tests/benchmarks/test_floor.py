"""The concurrent floor hands pages on in order, with a bounded number in flight."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import pytest

FLOOR = Path(__file__).resolve().parents[2] / "benchmarks" / "floor.py"


@pytest.fixture(scope="module")
def floor():
    spec = importlib.util.spec_from_file_location("bench_floor", FLOOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Server:
    """A fake fetch: later pages answer sooner, and the most at once is recorded."""

    def __init__(self, pages: int):
        self.pages = pages
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0

    def fetch(self, start: int) -> int:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(0.002 * (self.pages - start))
        with self.lock:
            self.in_flight -= 1
        return start


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_pages_come_in_order_with_at_most_concurrency_in_flight(floor, concurrency):
    server = Server(pages=12)
    assert list(floor.in_order(server.fetch, range(12), concurrency)) == list(range(12))
    assert server.most <= concurrency
    if concurrency > 1:
        assert server.most > 1  # the requests overlapped


def test_a_failed_page_stops_the_pages(floor):
    def fetch(start: int) -> int:
        if start == 3:
            raise RuntimeError("page 3 failed")
        return start

    seen = []
    with pytest.raises(RuntimeError, match="page 3"):
        for page in floor.in_order(fetch, range(10), 4):
            seen.append(page)
    assert seen == [0, 1, 2]
