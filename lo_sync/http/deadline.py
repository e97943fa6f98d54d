"""Time bounds: one request's (headers and body together), and the whole command's.

The read timeout bounds each socket read, not a request: a server that sends a byte
every few seconds renews it forever. Only a signal interrupts a read the socket's own
timeout keeps renewing, so `interrupt_at` arms an alarm (SIGALRM) for the request's
whole exchange in the main thread, where signals are delivered. Concurrent paging
sends requests from other threads, which no signal reaches: there a `Watchdog`
thread hangs up the request's connection when its deadline passes, which ends the
blocked read. A thread with neither (the read-ahead thread of a platform without
fork) checks a request against its deadline only before it is sent.

A deadline that runs out is a `DeadlineExceeded`, never retried: the same server
would trickle again, and the command's time is gone either way.
"""

from __future__ import annotations

import heapq
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from lo_sync.errors import ProviderError


@dataclass(frozen=True)
class Deadline:
    """A moment on `time.monotonic()`'s clock, and the bound that set it, as an operator
    would look it up: "http.request_deadline (300 s)"."""

    at: float
    bound: str

    @classmethod
    def after(cls, seconds: float, bound: str) -> Deadline:
        return cls(time.monotonic() + seconds, bound)

    def remaining(self) -> float:
        return self.at - time.monotonic()


def earliest(*deadlines: Deadline | None) -> Deadline:
    return min((d for d in deadlines if d is not None), key=lambda d: d.at)


class DeadlineExceeded(ProviderError):
    """A time bound ran out during a request or before a retry's wait: not retried."""


class _Alarm(BaseException):
    """Raised by the alarm handler. Not an Exception, so that no `except Exception` in
    requests or urllib3 between the handler and `interrupt_at` can swallow it."""


def _ring(signum, frame):
    raise _Alarm


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@dataclass(order=True)
class _Watch:
    at: float
    order: int
    hang_up: Callable[[], None] = field(compare=False)
    fired: bool = field(default=False, compare=False)
    done: bool = field(default=False, compare=False)


class Watchdog:
    """One thread that calls each watched request's `hang_up` once its deadline passes.

    `hang_up` must make the request's blocked read end (Transport.hang_up shuts its
    sockets down); the request's thread then sees that the watch fired and raises
    its `DeadlineExceeded`. A watch ended in time is never fired: ending and firing
    happen under one lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._watches: list[_Watch] = []
        self._order = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lo-sync-watchdog", daemon=True)
        self._thread.start()

    def watch(self, deadline: Deadline, hang_up: Callable[[], None]) -> _Watch:
        with self._lock:
            entry = _Watch(deadline.at, next(self._order), hang_up)
            heapq.heappush(self._watches, entry)
            self._lock.notify()
            return entry

    def end(self, entry: _Watch) -> bool:
        """Stop watching; True when the watch had already fired."""
        with self._lock:
            entry.done = True
            return entry.fired

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with self._lock:
            while not self._closed:
                while self._watches and self._watches[0].done:
                    heapq.heappop(self._watches)
                if not self._watches:
                    self._lock.wait()
                    continue
                wait = self._watches[0].at - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                entry = heapq.heappop(self._watches)
                entry.fired = True
                try:
                    entry.hang_up()
                except Exception:  # the read it meant to end times out on its own
                    pass


@contextmanager
def interrupt_at(
    deadline: Deadline,
    expired: Callable[[], DeadlineExceeded],
    watchdog: Watchdog | None = None,
    hang_up: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Run the block, interrupting it with `expired()` if `deadline` passes first.

    In the main thread an alarm interrupts it; elsewhere, given a `watchdog`, the
    block's connection is hung up (`hang_up`) and its error becomes `expired()`.
    """
    remaining = deadline.remaining()
    if remaining <= 0:
        raise expired()
    if not _can_alarm():
        if watchdog is None or hang_up is None:
            yield
            return
        entry = watchdog.watch(deadline, hang_up)
        try:
            yield
        except Exception:
            if watchdog.end(entry):
                raise expired() from None
            raise
        if watchdog.end(entry):
            raise expired()
        return
    previous = signal.signal(signal.SIGALRM, _ring)
    try:
        # A timer under a microsecond rounds to 0, which disarms it instead.
        signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Alarm:
        raise expired() from None
    finally:
        if previous is not None:  # None: a handler set outside Python, which we cannot restore
            signal.signal(signal.SIGALRM, previous)
