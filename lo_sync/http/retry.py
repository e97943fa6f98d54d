"""When a request is worth another attempt, how long to wait, and when to give up.

The policy is a constructor argument of `ApiClient`, with `sleep` in it, so tests
run every retry without waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from lo_sync.errors import ProviderError
from lo_sync.http.deadline import Deadline, DeadlineExceeded
from lo_sync.redact import redact

log = logging.getLogger("lo_sync.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The answers that mean "too many requests" (503 is how some gateways say it).
THROTTLE_STATUSES = frozenset({429, 503})

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_wait: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep


class TransientError(Exception):
    """A failure worth another attempt: 429/5xx, network trouble, a body cut short.

    `status` is the HTTP status of an answer that was transient (None for network
    trouble): a 429 or 503 says the provider wants fewer requests.
    """

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status

    def __reduce__(self):
        return (type(self), (str(self), self.retry_after, self.status))

    @property
    def throttled(self) -> bool:
        return self.status in THROTTLE_STATUSES


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # HTTP-date form: rare from APIs; fall back to our own backoff.
        return None


class BackoffWait:
    """Exponential backoff with full jitter, but a provider's Retry-After wins (capped).

    A wait that would end past `deadline` (the command's) is not waited: the command
    fails now, naming the bound, rather than sleep into a failure.
    """

    def __init__(self, policy: RetryPolicy, deadline: Deadline | None = None, provider: str = ""):
        self.policy = policy
        self.deadline = deadline
        self.provider = provider

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        wait = self._wait(exc, state.attempt_number)
        if self.deadline is not None and wait > self.deadline.remaining():
            raise DeadlineExceeded(
                f"{self.provider}: {redact(exc)}; waiting {wait:g} s to try again would "
                f"pass {self.deadline.bound}"
            )
        return wait

    def _wait(self, exc: BaseException | None, attempt_number: int) -> float:
        cap = self.policy.max_wait
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, cap)
        ceiling = min(cap, self.policy.initial_wait * 2 ** (attempt_number - 1))
        return random.uniform(0, ceiling)


def with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    provider: str,
    deadline: Deadline | None = None,
) -> T:
    """`attempt()` again after each `TransientError`, until it succeeds or the policy gives up.

    Giving up is a `ProviderError` carrying the last failure; any other error ends at
    once, and so does a wait that would pass `deadline` (`DeadlineExceeded`).
    """
    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=BackoffWait(policy, deadline, provider),
        retry=retry_if_exception(lambda exc: isinstance(exc, TransientError)),
        sleep=policy.sleep,
        before_sleep=lambda state: log.info(
            "%s: retrying after %s", provider, redact(state.outcome.exception())
        ),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except TransientError as exc:
        raise ProviderError(
            f"{provider}: {redact(exc)} (gave up after {policy.max_attempts} attempts)"
        ) from None
