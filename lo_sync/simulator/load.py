"""What the simulator serves at once: latency, and a rate limit as real gateways apply it.

Real providers answer after a network round trip and their own work, and limit
clients without saying how: `latency_ms` (plus up to `latency_jitter_ms`) holds
each resource GET in its handler thread, so concurrent requests overlap their
waits as on a network, and the `throttle` fault answers 429 to a request that
arrives while `in_flight` others are being served, or that finds the token
bucket of `per_second` empty (burst: `per_second` tokens, at least one).

`Load` counts a resource GET from its arrival until its answer is written, so a
client with N requests in flight is seen with N, never more.
"""

from __future__ import annotations

import random
import threading
import time


class Load:
    """Resource GETs being served, the most served at once, and the throttle's bucket."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.throttled = 0
        self._tokens: float | None = None  # the bucket; None until a request fills it
        self._refilled_at = 0.0

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            self.max_in_flight = self.in_flight
            self.throttled = 0
            self._tokens = None

    def over(self, in_flight: int | None, per_second: float | None) -> bool:
        """Whether the request being served is one too many (and counted as throttled):
        more than `in_flight` at once, or none left in a bucket of `per_second`."""
        with self._lock:
            crowded = in_flight is not None and self.in_flight > in_flight
            if not crowded and per_second is not None:
                crowded = not self._take(per_second)
            if crowded:
                self.throttled += 1
            return crowded

    def _take(self, per_second: float) -> bool:
        now, burst = time.monotonic(), max(1.0, per_second)
        if self._tokens is None:
            self._tokens = burst
        else:
            elapsed = now - self._refilled_at
            self._tokens = min(burst, self._tokens + elapsed * per_second)
        self._refilled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"max_in_flight": self.max_in_flight, "throttled": self.throttled}


def latency_seconds(latency_ms: float, jitter_ms: float) -> float:
    """One answer's wait: the fixed latency and a uniform share of the jitter."""
    jitter = random.uniform(0, jitter_ms) if jitter_ms else 0.0
    return (latency_ms + jitter) / 1000
