"""Rendered pages kept for reuse, so a benchmark measures its client, not the simulator.

Building a page of generated records costs the simulator more than a client
spends reading it, so a benchmark against live generation mostly times the
simulator. `SimulatorConfig(page_cache=N)` keeps each rendered answer, up to N
bytes of bodies in all, and hands out copies of it afterwards.

Only the rendering is skipped. Every request still passes the whole guard
(faults are counted, tokens checked, the slow, broken_page, reset and
truncated_json faults strike as before), and an answer is keyed by its page and
the whole config, day and faults included, so a cached answer is byte-identical
to a freshly rendered one.

Bounds: at most `limit` bytes of answer bodies (headers and keys, a few hundred
bytes an answer, are not counted); an answer larger than the limit is never
kept; past the limit the least recently used answers go first. `clear()` (the
simulator calls it on set_day and set_faults) frees everything at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import NamedTuple

from lo_sync.simulator.messages import Response


class _Kept(NamedTuple):
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """Answers by key, at most `limit` bytes of bodies; `limit` 0 keeps nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0

    def answer(self, key: Hashable, render: Callable[[], Response]) -> Response:
        """The answer kept under `key`, or `render()`'s, kept for next time."""
        if not self.limit:
            return render()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self._hits += 1
        if kept is not None:
            # A fresh Response each time: callers may cut its body (truncated_json).
            return Response(kept.status, kept.body, dict(kept.headers))
        response = render()
        with self._lock:
            self._misses += 1
            size = len(response.body)
            if size <= self.limit and key not in self._kept:
                self._kept[key] = _Kept(
                    response.status, response.body, tuple(response.headers.items())
                )
                self._bytes += size
                while self._bytes > self.limit:
                    _, dropped = self._kept.popitem(last=False)
                    self._bytes -= len(dropped.body)
        return response

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._bytes = 0

    def stats(self) -> dict[str, int]:
        """Hits and misses since start, and what is kept now (answers, body bytes)."""
        with self._lock:
            return {
                "hits": self._hits,
                "misses": self._misses,
                "answers": len(self._kept),
                "bytes": self._bytes,
                "limit": self.limit,
            }
