"""OAuth2 client credentials as a requests auth: a bearer token fetched lazily, renewed early.

It depends on a `Transport` to POST the token request, not on the client that
uses it, so it is built and tested on its own. Transport trouble on the token
request is the same `TransientError` as on any other request: the client's
retry policy covers both.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import requests

from lo_sync.errors import ConfigError, ProviderError
from lo_sync.http.messages import raise_for_status
from lo_sync.http.transport import Transport
from lo_sync.redact import redact, register_secret

log = logging.getLogger("lo_sync.http")

# Renew a token this long before the provider says it expires, so a page
# request never races the expiry.
TOKEN_EXPIRY_MARGIN = 60.0
# How long a token is taken to last when the endpoint does not say in a way we can
# read (expires_in absent, not a number, zero or negative). Both providers issue
# tokens for far longer; should one end sooner, its 401 fetches a new one.
UNKNOWN_TOKEN_LIFETIME = 300.0


class ClientCredentials(requests.auth.AuthBase):
    """OAuth2 client-credentials bearer token, fetched lazily and reused until near expiry."""

    def __init__(self, transport: Transport, token_url: str, client_id: str, client_secret: str):
        self.transport = transport
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        # Registered here too, not only by config, so no caller of ApiClient can leak it.
        register_secret(client_secret)
        self._token: str | None = None
        self._expires_at = 0.0

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
        provider = self.transport.provider
        # Basic auth carries the client credentials; the form body carries only the grant type.
        response = self.transport.send(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
            what="token request",
        )
        if response.status_code in (400, 401, 403):
            raise ConfigError(
                f"{provider}: the token endpoint refused the client credentials "
                f"(HTTP {response.status_code}); check providers.{provider}.client_id "
                "and client_secret"
            )
        if response.status_code == 404:
            raise ConfigError(
                f"{provider}: the token endpoint {redact(self.token_url)} answered "
                f"HTTP 404; check providers.{provider}.token_url"
            )
        raise_for_status(provider, response, "token request")
        try:
            body = response.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ProviderError(
                f"{provider}: token endpoint answered without a usable access_token"
            ) from None
        if not isinstance(token, str) or not token:
            raise ProviderError(f"{provider}: token endpoint sent an empty token")
        register_secret(token)
        self._token = token
        expires_in = self._lifetime(body.get("expires_in"))
        # A minute's margin, but never most of a short-lived token's life.
        margin = min(TOKEN_EXPIRY_MARGIN, expires_in / 10)
        self._expires_at = time.monotonic() + max(0.0, expires_in - margin)

    def _lifetime(self, expires_in: Any) -> float:
        """expires_in as seconds; a value we cannot use means 'unknown', said at -v."""
        seconds = math.nan
        if isinstance(expires_in, int | float | str) and not isinstance(expires_in, bool):
            try:
                seconds = float(expires_in)
            except (ValueError, OverflowError):
                pass
        if math.isfinite(seconds) and seconds > 0:
            return seconds
        shown = "no expires_in" if expires_in is None else f"expires_in {expires_in!r:.40}"
        log.info(
            "%s: token endpoint sent %s, not a positive number of seconds; taking the "
            "token to last %g s",
            self.transport.provider,
            shown,
            UNKNOWN_TOKEN_LIFETIME,
        )
        return UNKNOWN_TOKEN_LIFETIME
