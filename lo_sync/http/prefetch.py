"""Pages requested ahead of the paginator, a few at a time, once it knows the total.

Over a real network a page is mostly waiting: a round trip and the provider's own
work. Read one at a time, a million-row report waits a thousand times in a row.
Once an answer has given the listing's total, the remaining requests are known
(`Paginator.remaining_starts`), so `PageWindow` sends the next ones from a few
threads ("lanes") while the paginator reads the answers **in order**, one by one,
exactly as if it had asked for each itself. Every check of the listing stays in
the paginator and sees the same answers in the same order:

- the answer for a page is used only when the paginator asks for that very start;
  when it asks for another (a short page, a total that changed) the window is
  dropped and planned again from where the paginator is;
- a page that fails after its retries fails the fetch when the paginator reaches
  it; a failed page the paginator never asks for is not an error;
- the window is bounded: at most `2 * concurrency` pages are requested and not yet
  read (in flight or waiting their turn), so memory stays flat however fast the
  provider answers. How many are in flight at once is the gate's to say
  (`RequestGate`, which shrinks it when the provider throttles).

The window is only as deep as the reader needs (`depth`). Until the reader first
finds a page already answered, every wait doubles it, as TCP's slow start does:
at the start nothing is known, and on a slow network each step of a climb by one
is a whole round trip. From then on it grows by one each time the reader has to
wait for the page it takes, and shrinks by one after a run of pages that were all
there already (`SHRINK_AFTER`, a long run). On a slow network it soon spans the
whole window and stays so; on a fast one, where the reader is the slower side and
never waits, it stays near one, because requests that nobody waits for still cost
the fetch worker some CPU: every lane reads its bytes under the same GIL as the
mapping.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lo_sync.http.client import UNDECODED
from lo_sync.http.deadline import Watchdog
from lo_sync.http.messages import describe
from lo_sync.http.retry import TransientError

if TYPE_CHECKING:
    from lo_sync.http.client import ApiClient

# Pages requested ahead, per request the gate may have in flight: one waiting its
# turn for each one in flight keeps every lane busy while the reader is behind.
WINDOW_PER_LANE = 2
# Pages in a row found already answered before the window gets one shallower. The
# two mistakes are not alike: a window one too shallow makes the reader wait a whole
# round trip, a window one too deep costs the worker a few switches of the GIL. A
# short run (16) kept the window at the very depth where the reader waits once a
# run, a round trip each time; a long one lets it wait only rarely.
SHRINK_AFTER = 256


class PageWindow:
    """The pages requested ahead of one paginator, by the start each one reads from."""

    def __init__(
        self,
        client: ApiClient,
        url: str,
        params: dict[str, Any] | None,
        accept_statuses: frozenset[int],
    ):
        self.client = client
        self.url = url
        self.params = params or {}
        self.accept_statuses = accept_statuses
        self.size = WINDOW_PER_LANE * client.concurrency
        self.depth = 1  # how many pages are requested ahead, at most `size`
        self.deepest = 1
        self._ready_in_a_row = 0
        self._starting = True  # no page has been found ready yet: waits double the depth
        self.ahead: OrderedDict[int, Future] = OrderedDict()
        self.used = False  # whether any page came from the window
        self._pool: ThreadPoolExecutor | None = None
        self._watchdog: Watchdog | None = None
        self._lanes: list[ApiClient] = []
        self._local = threading.local()
        self._lanes_lock = threading.Lock()

    def take(self, start: int) -> Future | None:
        """The request for the page at `start` if the window holds it (first in line)."""
        if self.ahead and next(iter(self.ahead)) == start:
            self.used = True
            future = self.ahead.popitem(last=False)[1]
            self._learn(waits=not future.done())
            return future
        return None

    def answer(self, future: Future, request: Any) -> tuple[Any, Any] | None:
        """The answer to a page requested ahead, its body decoded here, in the reader's
        thread: lanes only carry bytes, so they hold the interpreter lock as little as
        they can. None when the body is not JSON (cut short), to be read again."""
        response, body = future.result()
        if body is not UNDECODED:
            return response, body
        what = f"GET {describe(self.url, {**self.params, **request.params} or None)}"
        try:
            return response, self.client.decoded(response, what)
        except TransientError:
            return None

    def _learn(self, waits: bool) -> None:
        """Deepen the window when the reader must wait (twice as deep until a page is
        first found ready); make it shallower when a run of pages was there before
        the reader asked."""
        if waits:
            self._ready_in_a_row = 0
            deeper = 2 * self.depth if self._starting else self.depth + 1
            self.depth = min(self.size, deeper)
            self.deepest = max(self.deepest, self.depth)
            return
        self._starting = False
        self._ready_in_a_row += 1
        if self._ready_in_a_row >= SHRINK_AFTER:
            self._ready_in_a_row = 0
            self.depth = max(1, self.depth - 1)

    def plan(self, starts: range | None, request_at: Callable[[int], Any]) -> None:
        """After the paginator's `next_request`: keep the window in line with where
        its remaining pages start (`remaining_starts`), and fill it up to its depth
        with the requests it would send (`request_at`)."""
        if starts is None:  # the total is not known: the paginator reads alone
            return
        held = list(self.ahead)
        if held != list(starts[: len(held)]):
            self._drop()
            held = []
        for start in starts[len(held) : self.depth]:
            self.ahead[start] = self._pool_for().submit(self._fetch, request_at(start))

    def close(self) -> None:
        """Cancel what is not in flight, hang up what is, and let the lanes go."""
        self._drop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lanes_lock:
            for lane in self._lanes:
                lane.transport.hang_up()
                lane.close()
        if self._watchdog is not None:
            self._watchdog.close()

    def _drop(self) -> None:
        for future in self.ahead.values():
            future.cancel()
        self.ahead.clear()

    def _pool_for(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._watchdog = Watchdog()
            self._pool = ThreadPoolExecutor(
                self.client.concurrency, thread_name_prefix=f"lo-sync-{self.client.provider}"
            )
        return self._pool

    def _lane(self) -> ApiClient:
        lane = getattr(self._local, "client", None)
        if lane is None:
            assert self._watchdog is not None
            lane = self._local.client = self.client.lane(self._watchdog)
            with self._lanes_lock:
                self._lanes.append(lane)
        return lane

    def _fetch(self, request: Any) -> tuple[Any, Any]:
        return self._lane().get_json(
            self.url,
            params={**self.params, **request.params} or None,
            headers=request.headers or None,
            accept_statuses=self.accept_statuses,
            decode=False,
        )
