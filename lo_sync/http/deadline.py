"""Time bounds: one request's (headers and body together), and the whole command's.

The read timeout bounds each socket read, not a request: a server that sends a byte
every few seconds renews it forever. Only a signal interrupts a read the socket's own
timeout keeps renewing, so `interrupt_at` arms an alarm (SIGALRM) for the request's
whole exchange. The fetch runs in the main thread of its forked worker, where signals
are delivered; anywhere else (the read-ahead thread of a platform without fork) a
request is checked against its deadline only before it is sent.

A deadline that runs out is a `DeadlineExceeded`, never retried: the same server
would trickle again, and the command's time is gone either way.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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


@contextmanager
def interrupt_at(deadline: Deadline, expired: Callable[[], DeadlineExceeded]) -> Iterator[None]:
    """Run the block, interrupting it with `expired()` if `deadline` passes first."""
    remaining = deadline.remaining()
    if remaining <= 0:
        raise expired()
    if not _can_alarm():
        yield
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
