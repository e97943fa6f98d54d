"""The one HTTP chokepoint: session, timeouts, OAuth2 client credentials, retries, paging.

Every request a provider module makes goes through `ApiClient`, so the timeout,
the User-Agent, the retry policy and token handling are the same everywhere.
The retry policy is a constructor argument so tests run it without waiting.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from lo_sync import __version__
from lo_sync.errors import ConfigError, DataError, ProviderError
from lo_sync.redact import redact, register_secret

log = logging.getLogger("lo_sync.http")

USER_AGENT = f"lo-sync/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Renew a token this long before the provider says it expires, so a page
# request never races the expiry.
TOKEN_EXPIRY_MARGIN = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_wait: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep


class TransientError(Exception):
    """A failure worth another attempt: 429/5xx, network trouble, a body cut short."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # HTTP-date form: rare from APIs; fall back to our own backoff.
        return None


class _Wait:
    """Exponential backoff with full jitter, but a provider's Retry-After wins (capped)."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        cap = self.policy.max_wait
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, cap)
        ceiling = min(cap, self.policy.initial_wait * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)


class ClientCredentials(requests.auth.AuthBase):
    """OAuth2 client-credentials bearer token, fetched lazily and reused until near expiry."""

    def __init__(self, client: ApiClient, token_url: str, client_id: str, client_secret: str):
        self.client = client
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        # Registered here too, not only by config, so no caller of ApiClient can leak it.
        register_secret(client_secret)
        self._token: str | None = None
        self._expires_at = 0.0
        self.fetch_count = 0

    def invalidate(self) -> None:
        self._token = None

    def token(self) -> str:
        if self._token is None or time.monotonic() >= self._expires_at:
            self._fetch()
        assert self._token is not None
        return self._token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def _fetch(self) -> None:
        # Basic auth carries the client credentials; the form body carries only the grant type.
        response = self.client.send(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
            what="token request",
            authenticated=False,
        )
        if response.status_code in (400, 401, 403):
            raise ConfigError(
                f"{self.client.provider}: the token endpoint refused the client credentials "
                f"(HTTP {response.status_code}); check providers.{self.client.provider}.client_id "
                "and client_secret"
            )
        if response.status_code == 404:
            raise ConfigError(
                f"{self.client.provider}: the token endpoint {redact(self.token_url)} answered "
                f"HTTP 404; check providers.{self.client.provider}.token_url"
            )
        self.client.raise_for_status(response, "token request")
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise ProviderError(
                f"{self.client.provider}: token endpoint answered without a usable access_token"
            ) from None
        if not isinstance(token, str) or not token:
            raise ProviderError(f"{self.client.provider}: token endpoint sent an empty token")
        register_secret(token)
        self._token = token
        # A minute's margin, but never most of a short-lived token's life.
        margin = min(TOKEN_EXPIRY_MARGIN, expires_in / 10)
        self._expires_at = time.monotonic() + max(0.0, expires_in - margin)
        self.fetch_count += 1


def decode_json(body: bytes) -> Any:
    """Decode a response body: orjson where it can, the standard library where it cannot.

    orjson decodes a 1,000-record page three times faster than `json`, and decoding
    is the largest single cost of a million-row report. It is stricter (no NaN, no
    lone surrogates), so a body it refuses goes to `json`, which decides as before.
    The one difference left: an integer beyond 64 bits arrives as a float, which
    every id check refuses, so such a record is set aside rather than misread.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


class ApiClient:
    """One provider's HTTP session: timeouts, User-Agent, auth, retries, readable failures."""

    def __init__(
        self,
        provider: str,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
    ):
        self.provider = provider
        self.timeout = timeout
        self.retry = retry
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.auth = ClientCredentials(self, token_url, client_id, client_secret)
        self.request_count = 0

    def close(self) -> None:
        self.session.close()

    def get_json(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        accept_statuses: frozenset[int] = frozenset(),
    ) -> tuple[requests.Response, Any]:
        """GET with auth and retries; returns the response and its decoded JSON body.

        Decoding happens inside the retried attempt: a body cut short by the network
        is transient, and a page that cannot be read whole after every attempt
        fails the fetch instead of being handed on partially.
        """
        what = f"GET {_describe(url, params)}"

        def attempt() -> tuple[requests.Response, Any]:
            response = self._authenticated_get(url, params, headers)
            if response.status_code in accept_statuses:
                return response, None
            self.raise_for_status(response, what)
            try:
                return response, decode_json(response.content)
            except ValueError:
                raise TransientError(f"{what}: response body is not valid JSON") from None

        return self._with_retries(attempt, what)

    def _authenticated_get(self, url, params, headers) -> requests.Response:
        response = self.send("GET", url, params=params, headers=headers, what="GET", auth=self.auth)
        if response.status_code == 401:
            # The token was revoked or expired early: get a new one, once.
            log.debug("%s: 401 on %s, fetching a new token", self.provider, url)
            self.auth.invalidate()
            response = self.send(
                "GET", url, params=params, headers=headers, what="GET", auth=self.auth
            )
        return response

    def send(self, method: str, url: str, *, what: str, authenticated: bool = True, **kwargs):
        """One network exchange; transient trouble becomes `TransientError`."""
        self.request_count += 1
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            problem = _certificate_problem(exc)
            if problem is None:  # a handshake cut short: network trouble like any other
                raise TransientError(
                    f"{what} {_describe(url, kwargs.get('params'))}: TLS handshake failed"
                ) from None
            # A certificate that fails verification fails the same way on every attempt.
            raise ProviderError(
                f"{self.provider}: {what} {_describe(url, kwargs.get('params'))}: TLS "
                f"certificate verification failed ({problem}); lo-sync always verifies "
                "certificates"
            ) from None
        except (
            requests.ConnectionError,
            requests.Timeout,
            # The connection broke while the body was being read: a network error too.
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            raise TransientError(
                f"{what} {_describe(url, kwargs.get('params'))}: {_network_reason(exc)}"
            ) from None
        except requests.RequestException as exc:
            raise ProviderError(f"{self.provider}: {what} failed: {redact(exc)}") from None
        if response.status_code in RETRY_STATUSES:
            raise TransientError(
                f"{what} {_describe(url, kwargs.get('params'))}: HTTP {response.status_code}"
                f"{_error_detail(response)}",
                retry_after=_retry_after_seconds(response),
            )
        return response

    def raise_for_status(self, response: requests.Response, what: str) -> None:
        if response.status_code < 400:
            return
        hint = {
            401: "the provider rejected a freshly issued token",
            403: "the credentials are valid but not entitled to this organization; "
            f"check the org id in providers.{self.provider}",
            404: "unknown organization or path; check the org id and base_url "
            f"in providers.{self.provider}",
        }.get(response.status_code, "")
        raise ProviderError(
            f"{self.provider}: {what} answered HTTP {response.status_code}"
            f"{_error_detail(response)}" + (f" ({hint})" if hint else "")
        )

    def _with_retries(self, attempt: Callable[[], Any], what: str) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=_Wait(self.retry),
            retry=retry_if_exception(lambda exc: isinstance(exc, TransientError)),
            sleep=self.retry.sleep,
            before_sleep=lambda state: log.info(
                "%s: retrying after %s", self.provider, redact(state.outcome.exception())
            ),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except TransientError as exc:
            raise ProviderError(
                f"{self.provider}: {redact(exc)} (gave up after {self.retry.max_attempts} attempts)"
            ) from None


def _describe(url: str, params: dict[str, Any] | None) -> str:
    if not params:
        return redact(url)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return redact(f"{url}?{query}")


def _network_reason(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    for marker in (
        "Connection refused",
        "Connection reset",
        "Name or service not known",
        "Remote end closed connection",
        "IncompleteRead",
    ):
        if marker in text:
            return marker.lower()
    return "network error"


def _certificate_problem(exc: Exception) -> str | None:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" not in text and "certificate verify failed" not in text:
        return None
    match = re.search(r"certificate verify failed: ([^()'\"]+)", text)
    return redact(match.group(1).strip().rstrip(".")) if match else "certificate verify failed"


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("code")
        if code == response.status_code:
            code = None  # OpenClassrooms repeats the status as `code`: "HTTP 429 429" reads badly
        message = body.get("message")
        parts = [str(p) for p in (code, message) if p]
        if parts:
            return " " + redact(": ".join(parts))[:200]
    return ""


# --- paging -----------------------------------------------------------------------------------

# A fetch that has not ended after this many pages is a server bug, not a catalog.
MAX_PAGES = 100_000


class OffsetPaging:
    """`start`/`limit` paging with a `paging.next` offset (Coursera).

    Stops when `next` is absent; refuses a `next` that does not move forward and
    a `total` that disagrees with what was actually read.
    """

    def __init__(self, limit: int):
        self.limit = limit

    def pages(self, client: ApiClient, url: str, params: dict[str, Any]) -> Iterator[list[dict]]:
        start, seen = 0, 0
        for _ in range(MAX_PAGES):
            _, body = client.get_json(url, params={**params, "start": start, "limit": self.limit})
            if not isinstance(body, dict) or not isinstance(body.get("elements"), list):
                raise DataError(f"{client.provider}: page at start={start} has no 'elements' list")
            elements = body["elements"]
            seen += len(elements)
            yield elements
            paging = body.get("paging") or {}
            if not isinstance(paging, dict):
                raise DataError(
                    f"{client.provider}: page at start={start} has a malformed 'paging'"
                )
            nxt = paging.get("next")
            if nxt is None or nxt == "":
                total = paging.get("total")
                if isinstance(total, int) and total != seen:
                    raise DataError(
                        f"{client.provider}: listing said total {total} but returned {seen} "
                        "records; the fetch is incomplete"
                    )
                return
            try:
                next_start = int(nxt)
            except (TypeError, ValueError):
                raise DataError(
                    f"{client.provider}: paging.next {nxt!r} at start={start} is not an offset"
                ) from None
            if next_start <= start:
                raise DataError(
                    f"{client.provider}: paging.next {next_start} at start={start} does not "
                    "move forward; refusing to loop"
                )
            start = next_start
        raise DataError(f"{client.provider}: more than {MAX_PAGES} pages; refusing to go on")


_CONTENT_RANGE = re.compile(r"^\s*items\s+(\d+)-(\d+)/(\d+|\*)\s*$")


class RangePaging:
    """HTTP `Range: items=a-b` paging (OpenClassrooms).

    Follows what the server actually returned (`Content-Range`), so a server that
    caps each slice is read whole; refuses a total that changes mid-fetch.
    """

    def __init__(self, size: int):
        self.size = size

    def pages(self, client: ApiClient, url: str) -> Iterator[list[dict]]:
        start, total = 0, None
        for _ in range(MAX_PAGES):
            response, body = client.get_json(
                url,
                headers={"Range": f"items={start}-{start + self.size - 1}"},
                accept_statuses=frozenset({416}),
            )
            if response.status_code == 416:
                if total is None or start >= total:
                    return
                raise DataError(
                    f"{client.provider}: server says items from {start} are out of range, "
                    f"but announced {total}; the collection shrank while paging"
                )
            if not isinstance(body, list):
                raise DataError(f"{client.provider}: items from {start}: body is not a JSON array")
            if response.status_code == 200:
                if start != 0:
                    raise DataError(
                        f"{client.provider}: server ignored Range items={start}- and sent the "
                        "whole collection again"
                    )
                yield body
                return
            first, last, announced = self._content_range(client, response, start, len(body))
            if total is not None and announced is not None and announced != total:
                raise DataError(
                    f"{client.provider}: collection size changed from {total} to {announced} "
                    "while paging; the listing cannot be trusted"
                )
            total = announced if announced is not None else total
            yield body
            start = last + 1
            if total is not None and start >= total:
                return
            if not body:
                return
        raise DataError(f"{client.provider}: more than {MAX_PAGES} pages; refusing to go on")

    @staticmethod
    def _content_range(client: ApiClient, response, start: int, count: int):
        header = response.headers.get("Content-Range", "")
        match = _CONTENT_RANGE.match(header)
        if not match:
            raise DataError(
                f"{client.provider}: 206 answer for items from {start} has no valid "
                f"Content-Range ({header!r})"
            )
        first, last = int(match.group(1)), int(match.group(2))
        total = None if match.group(3) == "*" else int(match.group(3))
        if first != start or last < first or last - first + 1 != count:
            raise DataError(
                f"{client.provider}: Content-Range {header!r} does not match the request "
                f"from {start} and the {count} items sent"
            )
        if total is not None and last >= total:
            raise DataError(f"{client.provider}: Content-Range {header!r} runs past its total")
        return first, last, total
