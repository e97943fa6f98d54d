"""How many requests a provider gets at once, and when the next one may go.

Providers do not document their rate limits; they answer 429 (or 503) when a
client asks too much. `RequestGate` admits each request of a client and its lanes
(the threads of concurrent paging) and learns from those answers:

- **At most `limit` requests in flight.** It starts at `http.concurrency`.
- **Multiplicative decrease.** A throttled answer halves the limit, down to 1, once
  per round: answers to requests sent before the last decrease were sent at the old
  limit and say nothing new about the current one. The level the provider refused
  is the most requests known to have been in flight with the refused one (not the
  limit, which the lanes may not have filled), and the limit stays below it.
- **Additive increase.** After `limit` answers in a row without trouble, with the
  limit reached at least once, it grows by one, up to `http.concurrency`. The
  level that was refused is asked for again only once `PROBE_SPACING` times the
  pause its refusal cost has gone by, and twice as long after each probe the
  provider refuses: every refusal holds every lane for its Retry-After, so
  probing costs a small, bounded share of the night however small the limit.
- **One refusal at a level that held is not a limit.** A level that carried
  `TRUSTED_AFTER` answers in a row is trusted: a provider's own count of what is
  in flight lags its answers, and a request can land just before the count of the
  previous one went down. A refusal there still halves the limit, but the limit
  grows back to it at the usual pace; only a second refusal, before the level has
  held again, makes it the level to avoid.
- **Retry-After holds every lane**, not only the one that was told.
- **`http.max_requests_per_second`** spaces the requests out, whatever the limit.

Every decision is made from a `now` handed in, so tests drive the gate with
made-up times (`try_admit`, then `succeeded`, `refused` or `failed`) and never
wait; `admit` is the blocking form.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lo_sync.http.deadline import Deadline, DeadlineExceeded

# A refused level is asked for again after this many times the pause its refusal
# cost (its Retry-After, or MIN_REFUSAL_COST without one), doubling after each probe
# refused: probing then costs at most about 1/PROBE_SPACING of the time.
PROBE_SPACING = 20
MIN_REFUSAL_COST = 1.0
# Good answers in a row at one limit after which the level in flight is trusted.
TRUSTED_AFTER = 64
# The longest a provider's Retry-After holds the lanes (the retry policy caps its own).
MAX_PAUSE = 60.0


@dataclass(frozen=True)
class Admission:
    """One admitted request: the round it was sent in, and how many requests were in
    flight with it (itself included)."""

    round: int
    in_flight: int


class RequestGate:
    """Admits a client's requests under an adaptive in-flight limit and a rate cap."""

    def __init__(
        self,
        ceiling: int = 1,
        per_second: float | None = None,
        *,
        max_pause: float = MAX_PAUSE,
        clock: Callable[[], float] = time.monotonic,
    ):
        if ceiling < 1:
            raise ValueError("a gate admits at least one request at a time")
        self.ceiling = ceiling
        self.limit = ceiling
        self.lowest = ceiling  # the lowest the limit went
        self.in_flight = 0
        self.peak_in_flight = 0
        self.sent = 0
        self.throttled_answers = 0  # answers that asked for fewer requests
        self.max_pause = max_pause
        self.clock = clock
        self._interval = 1.0 / per_second if per_second else 0.0
        self._round = 0
        self._successes = 0
        self._refused_level: int | None = None  # the lowest level a provider refused
        self._probe_at = 0.0  # when the refused level may be asked for again
        self._probe_wait = 0.0  # how long the next refused probe makes the gate wait
        self._trusted = 0  # the most in flight that held TRUSTED_AFTER answers in a row
        self._held = 0  # the most in flight since the limit last changed
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._changed = threading.Condition()

    # --- deciding, from a given time --------------------------------------------------

    def try_admit(self, now: float, told: bool = False) -> tuple[Admission | None, float | None]:
        """Admit one request at `now`, or say why not: (None, seconds to wait) while
        paused or spaced out, (None, None) while the limit is reached.

        `told`: the request is the retry of one that was given the Retry-After,
        and has waited it out with its retry policy: the pause is not for it.
        """
        with self._changed:
            paused_until = 0.0 if told else self._paused_until
            wait = max(paused_until, self._next_slot) - now
            if wait > 0:
                return None, wait
            if self.in_flight >= self.limit:
                return None, None
            self.in_flight += 1
            self.sent += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._held = max(self._held, self.in_flight)
            if self._interval:
                self._next_slot = max(now, self._next_slot) + self._interval
            return Admission(self._round, self.in_flight), None

    def succeeded(self, admission: Admission, now: float) -> None:
        """Release `admission`'s slot after a good answer at `now`."""
        with self._changed:
            self.in_flight -= 1
            self._successes += 1
            if self._successes >= TRUSTED_AFTER:
                self._trusted = max(self._trusted, self._held)
            if self._may_grow(now):
                self._grow()
            self._changed.notify_all()

    def refused(self, admission: Admission, now: float, retry_after: float | None) -> None:
        """Release `admission`'s slot after a throttling answer (429/503) and its
        Retry-After, if it gave one."""
        with self._changed:
            # The most requests known to have been in flight with it: the level refused.
            level = max(admission.in_flight, self.in_flight)
            self.in_flight -= 1
            self._throttle(admission, level, now, retry_after)
            self._changed.notify_all()

    def failed(self, admission: Admission) -> None:
        """Release `admission`'s slot after any other failure: it says nothing of load."""
        with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def _may_grow(self, now: float) -> bool:
        # A limit the lanes never filled says nothing about one more: the reader, not
        # the provider, held them back.
        if self.limit >= self.ceiling or self._successes < self.limit or self._held < self.limit:
            return False
        probing = self._refused_level is not None and self.limit + 1 >= self._refused_level
        return not probing or now >= self._probe_at

    def _grow(self) -> None:
        self.limit += 1
        self._successes = 0
        self._held = 0
        if self._refused_level is not None and self.limit > self._refused_level:
            # The level a provider refused held this time: it is not a limit any more.
            self._refused_level = None

    def _throttle(
        self, admission: Admission, level: int, now: float, retry_after: float | None
    ) -> None:
        self.throttled_answers += 1
        pause = min(retry_after, self.max_pause) if retry_after else 0.0
        self._paused_until = max(self._paused_until, now + pause)
        if admission.round != self._round:
            return  # sent at a limit already lowered
        if level <= self._trusted:
            # Refused where it held before: once is not a limit, twice before it
            # holds again is.
            self._trusted = level - 1
        else:
            self._learn_refused(level, now, max(pause, MIN_REFUSAL_COST))
        below_refused = (self._refused_level or self.ceiling + 1) - 1
        self.limit = max(1, min(self.limit // 2, below_refused))
        self.lowest = min(self.lowest, self.limit)
        self._round += 1
        self._successes = 0
        self._held = 0

    def _learn_refused(self, level: int, now: float, cost: float) -> None:
        if self._refused_level is not None and level >= self._refused_level:
            self._probe_wait *= 2  # a probe refused again: ask half as often
        else:
            self._probe_wait = PROBE_SPACING * cost
        self._refused_level = min(level, self._refused_level or level)
        self._probe_at = now + self._probe_wait

    # --- blocking -----------------------------------------------------------------------

    def admit(
        self, deadline: Deadline | None = None, provider: str = "", told: bool = False
    ) -> Admission:
        """Wait for a slot (and for the provider's pause and the rate cap) and take it.

        A wait that would pass `deadline` fails now, naming the bound, as a retry
        wait does.
        """
        with self._changed:
            while True:
                now = self.clock()
                admission, wait = self.try_admit(now, told)
                if admission is not None:
                    return admission
                remaining = deadline.remaining() if deadline is not None else None
                if remaining is not None and (remaining <= 0 or (wait or 0) > remaining):
                    raise DeadlineExceeded(
                        f"{provider}: waiting for the provider's rate limit would pass "
                        f"{deadline.bound}"
                    )
                timeout = wait if wait is not None else remaining
                self._changed.wait(timeout)

    def summary(self) -> str:
        """How the gate's limit went, for the log at -v."""
        flight = f"up to {self.ceiling}, settled at {self.limit} requests in flight"
        if self.lowest < self.limit:
            flight += f" (lowest {self.lowest})"
        return f"{flight}; {self.throttled_answers} throttled answers (429/503)"
