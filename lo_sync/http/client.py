"""The one HTTP chokepoint: every request a provider makes goes through `ApiClient`.

So the timeouts and deadlines, the cap on an answer's size, the User-Agent, the
retry policy and token handling are the same everywhere.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import orjson
import requests

from lo_sync.errors import DataError
from lo_sync.http.auth import ClientCredentials
from lo_sync.http.deadline import Deadline, DeadlineExceeded, Watchdog, earliest, interrupt_at
from lo_sync.http.gate import RequestGate
from lo_sync.http.messages import describe, raise_for_status
from lo_sync.http.retry import RetryPolicy, TransientError, with_retries
from lo_sync.http.transport import DEFAULT_MAX_RESPONSE_MB, Transport

log = logging.getLogger("lo_sync.http")

DEFAULT_RETRY = RetryPolicy()
# http.request_deadline's default, in seconds: five read timeouts. A page of 1,000
# records arrives in a second or two; a request still unanswered after five minutes
# is a server holding the night, not a slow one.
DEFAULT_REQUEST_DEADLINE = 300.0
# http.concurrency's default: the README's Performance section has the measurements
# it was chosen from.
DEFAULT_CONCURRENCY = 8
# How many new tokens one request may ask for after 401s. Only the first is
# unconditional; the others follow a renewed token that other lanes wore out.
TOKEN_RENEWALS = 4


# The body `get_json(decode=False)` leaves for its caller to decode.
UNDECODED = object()


class NestedTooDeeply(Exception):
    """A body nested deeper than a decoder can recurse: no page of any provider is."""


def decode_json(body: bytes) -> Any:
    """Decode a response body: orjson where it can, the standard library where it cannot.

    Decoding is the largest single cost of a large report, and orjson is the
    faster decoder. It is stricter (no NaN, no lone surrogates), so a body it
    refuses goes to `json`, which decides as before. The one difference left: an
    integer beyond 64 bits arrives as a float, which every id check refuses, so
    such a record is set aside rather than misread.

    orjson refuses a body nested deeper than 1,024 levels, and `json` runs out of
    recursion on it: that is `NestedTooDeeply`, not a `ValueError`, since no attempt
    at reading it again would do better.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except RecursionError:
            raise NestedTooDeeply from None


class ApiClient:
    """One provider's HTTP session: timeouts, User-Agent, auth, retries, readable failures."""

    def __init__(
        self,
        provider: str,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy = DEFAULT_RETRY,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        deadline: Deadline | None = None,
        max_response_mb: int = DEFAULT_MAX_RESPONSE_MB,
        session: requests.Session | None = None,
        concurrency: int = 1,
        max_requests_per_second: float | None = None,
    ):
        """`request_deadline` bounds each attempt, token request and body included;
        `deadline` is the whole command's, which no attempt nor retry wait may pass.
        `concurrency` is how many requests paging may have in flight (the gate's
        ceiling), `max_requests_per_second` the gate's rate cap."""
        self.provider = provider
        self.retry = retry
        self.request_deadline = request_deadline
        self.deadline = deadline
        self.transport = Transport(
            provider, timeout=timeout, max_response_mb=max_response_mb, session=session
        )
        self.auth = ClientCredentials(
            self.transport, token_url, client_id, client_secret, scope=scope
        )
        # A provider's pause holds the lanes no longer than a retry waits.
        self.gate = RequestGate(concurrency, max_requests_per_second, max_pause=retry.max_wait)
        self.watchdog: Watchdog | None = None  # a lane's: ends its overdue requests

    @property
    def concurrency(self) -> int:
        return self.gate.ceiling

    def lane(self, watchdog: Watchdog) -> ApiClient:
        """A client for one more thread of concurrent paging: connections of its own,
        and this client's token, gate, retry policy and deadlines. `watchdog` ends
        its requests that pass their deadline, where no alarm can."""
        lane = copy.copy(self)
        transport = self.transport
        lane.transport = Transport(
            self.provider, timeout=transport.timeout, max_response_mb=transport.max_response_mb
        )
        lane.watchdog = watchdog
        return lane

    def close(self) -> None:
        self.transport.close()

    def get_json(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        accept_statuses: frozenset[int] = frozenset(),
        decode: bool = True,
    ) -> tuple[requests.Response, Any]:
        """GET with auth and retries; returns the response and its decoded JSON body.

        A status in `accept_statuses` is returned with no body instead of failing.
        Decoding happens inside the retried attempt: a body cut short by the network
        is transient, and a page that cannot be read whole after every attempt
        fails the fetch instead of being handed on partially. With `decode=False`
        the body is left for the caller (`UNDECODED`, then `decoded`).
        """
        what = f"GET {describe(url, params)}"
        told = False  # whether this request was given a Retry-After, which its retry waits

        def attempt() -> tuple[requests.Response, Any]:
            nonlocal told
            admission = self.gate.admit(self.deadline, self.provider, told)
            bound = f"http.request_deadline ({self.request_deadline:g} s)"
            deadline = earliest(Deadline.after(self.request_deadline, bound), self.deadline)
            try:
                with interrupt_at(
                    deadline,
                    lambda: self._expired(what, deadline),
                    self.watchdog,
                    self.transport.hang_up,
                ):
                    response = self._authenticated_get(url, params, headers)
            except TransientError as exc:
                if exc.throttled:
                    self.gate.refused(admission, self.gate.clock(), exc.retry_after)
                    told = exc.retry_after is not None
                else:
                    self.gate.failed(admission)
                raise
            except BaseException:
                self.gate.failed(admission)
                raise
            self.gate.succeeded(admission, self.gate.clock())
            if response.status_code in accept_statuses:
                return response, None
            raise_for_status(self.provider, response, what)
            return response, self.decoded(response, what) if decode else UNDECODED

        return with_retries(attempt, self.retry, self.provider, self.deadline)

    def decoded(self, response: requests.Response, what: str) -> Any:
        """An answer's JSON body; a body that is not JSON is a TransientError, to be
        read again."""
        try:
            return decode_json(response.content)
        except NestedTooDeeply:
            raise DataError(
                f"{self.provider}: {what}: response body is nested too deeply to read "
                "(no page nests more than a few levels)"
            ) from None
        except ValueError:
            raise TransientError(f"{what}: response body is not valid JSON") from None

    def _expired(self, what: str, deadline: Deadline) -> DeadlineExceeded:
        # The connection may be mid-answer: it must not serve another request.
        self.transport.session.close()
        return DeadlineExceeded(
            f"{self.provider}: {what}: stopped, {deadline.bound} ran out before the "
            "answer was complete"
        )

    def _authenticated_get(self, url, params, headers) -> requests.Response:
        send = self.transport.send
        response = send("GET", url, params=params, headers=headers, what="GET", auth=self.auth)
        renewals = 0
        while response.status_code == 401 and renewals < TOKEN_RENEWALS:
            refused = response.request.headers.get("Authorization", "").removeprefix("Bearer ")
            # The first 401 means the token was revoked or expired early. A 401 on
            # the renewed token is final unless other lanes wore that one out too.
            if renewals and not (refused and self.auth.served_others(refused)):
                break
            log.debug("%s: 401 on %s, fetching a new token", self.provider, url)
            self.auth.invalidate(refused or None)
            renewals += 1
            response = send("GET", url, params=params, headers=headers, what="GET", auth=self.auth)
        return response
