"""One provider's session: one network exchange at a time, trouble turned into our errors.

Both the data requests (`ApiClient`) and the token request (`ClientCredentials`)
go through a `Transport`, so they share the timeout, the User-Agent, the cap on
an answer's size and the reading of what went wrong.
"""

from __future__ import annotations

import socket
import weakref

import requests
from requests.adapters import HTTPAdapter

from lo_sync import __version__
from lo_sync.errors import ProviderError
from lo_sync.http.messages import (
    certificate_problem,
    describe,
    error_detail,
    network_reason,
    redirect_target,
)
from lo_sync.http.retry import RETRY_STATUSES, TransientError, retry_after_seconds
from lo_sync.redact import redact

USER_AGENT = f"lo-sync/{__version__}"

# http.max_response_mb's default. The largest real page, 1,000 Coursera contents with
# their descriptions, is about 1 MB: 64 MB is sixty times that, and still decodes
# within a few hundred MB of memory.
DEFAULT_MAX_RESPONSE_MB = 64
# A body is decoded this many bytes at a time, and its size checked after each read.
# urllib3 from 2.6 decodes no more than asked; an older one decodes one raw read of
# a gzip bomb whole (up to ~1,000 times its size), so a small read keeps that small.
BODY_CHUNK = 16 * 1024
# A body sent as it is (no Content-Encoding) cannot grow as it is read, so it is read
# in large pieces: every read is a trip through urllib3 and a release of the GIL that
# the other lanes and the mapping then queue for.
PLAIN_BODY_CHUNK = 1024 * 1024


class _TrackingAdapter(HTTPAdapter):
    """An adapter that keeps a weak reference to every connection its pools open, so
    `Transport.hang_up` can end a read that another thread is blocked in."""

    def __init__(self, connections: weakref.WeakSet, **kwargs):
        self._connections = connections
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        manager, connections = self.poolmanager, self._connections
        new_pool = manager._new_pool

        def tracked_pool(*pool_args, **pool_kwargs):
            pool = new_pool(*pool_args, **pool_kwargs)
            opened_by = pool.ConnectionCls

            class Tracked(opened_by):
                def connect(self):
                    super().connect()
                    # Kept apart from `sock`, which http.client drops while the
                    # body of an answer that ends the connection is still read.
                    self.tracked_socket = self.sock
                    connections.add(self)

            pool.ConnectionCls = Tracked
            return pool

        manager._new_pool = tracked_pool


class Transport:
    """A requests session with a default timeout and a versioned User-Agent.

    Its connections are tracked: `hang_up` ends every exchange in progress on them,
    from any thread (what a request's watchdog does when its deadline passes).
    """

    def __init__(
        self,
        provider: str,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_response_mb: int = DEFAULT_MAX_RESPONSE_MB,
        session: requests.Session | None = None,
    ):
        self.provider = provider
        self.timeout = timeout
        self.max_response_mb = max_response_mb
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self._connections: weakref.WeakSet = weakref.WeakSet()
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, _TrackingAdapter(self._connections))

    def close(self) -> None:
        self.session.close()

    def hang_up(self) -> None:
        """Shut down the sockets of this transport's connections: a read blocked on
        one, in any thread, ends at once with an error."""
        for connection in list(self._connections):
            sock = getattr(connection, "tracked_socket", None)
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def send(self, method: str, url: str, *, what: str, **kwargs) -> requests.Response:
        """One network exchange; transient trouble becomes `TransientError`.

        A 429 or 5xx answer is transient too. A 3xx is refused: following it would let
        an https API hand us to a host (or a plain-http URL) the config never named and
        would be refused if it did. Any other answer is returned as it came, its body
        read whole: what a status means depends on who asked. A body larger than
        http.max_response_mb once decoded fails the request.
        """
        try:
            response = self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
            )
            try:
                self._read_body(response, f"{what} {describe(url, kwargs.get('params'))}")
            except BaseException:
                # Not read whole (too large, cut off, out of time): this connection
                # must not serve another request.
                response.close()
                raise
        except requests.exceptions.SSLError as exc:
            problem = certificate_problem(exc)
            if problem is None:  # a handshake cut short: network trouble like any other
                raise TransientError(
                    f"{what} {describe(url, kwargs.get('params'))}: TLS handshake failed"
                ) from None
            # A certificate that fails verification fails the same way on every attempt.
            raise ProviderError(
                f"{self.provider}: {what} {describe(url, kwargs.get('params'))}: TLS "
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
                f"{what} {describe(url, kwargs.get('params'))}: {network_reason(exc)}"
            ) from None
        except requests.RequestException as exc:
            raise ProviderError(f"{self.provider}: {what} failed: {redact(exc)}") from None
        if response.status_code in RETRY_STATUSES:
            raise TransientError(
                f"{what} {describe(url, kwargs.get('params'))}: HTTP {response.status_code}"
                f"{error_detail(response)}",
                retry_after=retry_after_seconds(response),
                status=response.status_code,
            )
        if 300 <= response.status_code < 400:
            raise ProviderError(
                f"{self.provider}: {what} {describe(url, kwargs.get('params'))} answered "
                f"HTTP {response.status_code}, a redirect to {redirect_target(response)}; "
                "lo-sync follows no redirect (if that address is the provider's, set it in "
                f"providers.{self.provider}.base_url or token_url)"
            )
        return response

    def _read_body(self, response: requests.Response, what: str) -> None:
        """Read the decoded body, a chunk at a time, into `response.content`."""
        limit = self.max_response_mb << 20
        chunks, size = [], 0
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        piece = PLAIN_BODY_CHUNK if encoding in ("", "identity") else BODY_CHUNK
        for chunk in response.iter_content(piece):
            size += len(chunk)
            if size > limit:
                raise ProviderError(
                    f"{self.provider}: {what}: the answer is larger than "
                    f"http.max_response_mb ({self.max_response_mb} MB) once decoded; "
                    "stopped reading it"
                )
            chunks.append(chunk)
        # What `content` returns from now on; reading it whole also returned the
        # connection to the pool for the next request.
        response._content = b"".join(chunks)
