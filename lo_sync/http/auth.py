"""OAuth2 client credentials as a requests auth: a bearer token fetched lazily, renewed early.

It depends on a `Transport` to POST the token request, not on the client that
uses it, so it is built and tested on its own. Transport trouble on the token
request is the same `TransientError` as on any other request: the client's
retry policy covers both.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import requests

from lo_sync.errors import ConfigError, ProviderError
from lo_sync.http.messages import error_text, oauth_error, raise_for_status
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
# The OAuth2 codes that refuse the client itself (RFC 6749 §5.2). Any other code
# refuses something else (the scope, the grant, the request), and sending the
# operator to client_id and client_secret then sends them the wrong way.
CREDENTIAL_ERRORS = frozenset({"invalid_client", "unauthorized_client"})
# How much of the configured scope a refusal shows: enough to recognise it.
SCOPE_SHOWN = 100


class ClientCredentials(requests.auth.AuthBase):
    """OAuth2 client-credentials bearer token, fetched lazily and reused until near expiry."""

    def __init__(
        self,
        transport: Transport,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
    ):
        """`scope` is the space-separated OAuth2 scope to ask for; None asks for none."""
        self.transport = transport
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        # Registered here too, not only by config, so no caller of ApiClient can leak it.
        register_secret(client_secret)
        self._token: str | None = None
        self._expires_at = 0.0
        # How many requests the current token was put on: a 401 on a token that
        # served only the request refused is the provider's word, not a race.
        self._uses = 0
        # Concurrent paging's lanes share one token: one of them fetches it.
        self._lock = threading.Lock()

    def invalidate(self, refused: str | None = None) -> None:
        """Forget the token, or only the `refused` one: another lane may have renewed it."""
        with self._lock:
            if refused is None or refused == self._token:
                self._token = None

    def served_others(self, token: str) -> bool:
        """Whether `token` was put on other requests too, or was already replaced.

        Lanes share one token, so a token renewed after a 401 can be worn out by the
        other lanes before this lane's retry reaches the provider: that refusal is
        the same expiry again, not the provider refusing a fresh token."""
        with self._lock:
            return token != self._token or self._uses > 1

    def token(self) -> str:
        with self._lock:
            return self._current()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._lock:
            token = self._current()
            self._uses += 1
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def _current(self) -> str:
        if self._token is None or time.monotonic() >= self._expires_at:
            self._fetch()
            self._uses = 0
        assert self._token is not None
        return self._token

    def _fetch(self) -> None:
        provider = self.transport.provider
        # Basic auth carries the client credentials; the form body the grant type,
        # and the scope only when one is configured: a form that names none asks for
        # the client's default, which is what an unset scope has always meant.
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        response = self.transport.send(
            "POST",
            self.token_url,
            data=form,
            auth=(self.client_id, self.client_secret),
            what="token request",
        )
        if response.status_code == 404:
            raise ConfigError(
                f"{provider}: the token endpoint {redact(self.token_url)} answered "
                f"HTTP 404; check providers.{provider}.token_url"
            )
        code = oauth_error(response)
        if response.status_code in (400, 401, 403) or (
            code is not None and 400 <= response.status_code < 500
        ):
            raise self._refusal(response, code)
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

    def _refusal(self, response: requests.Response, code: str | None) -> ConfigError:
        """A refused token request as one line: what was refused, which key to check,
        then the endpoint's own words (last, so a long text never hides the key)."""
        provider = self.transport.provider
        status = f"HTTP {response.status_code}"
        text = error_text(response)
        said = f"; the endpoint said: {text}" if text else ""
        if code == "invalid_scope":
            key = f"providers.{provider}.scope"
            if not self.scope:
                return ConfigError(
                    f"{provider}: the token endpoint refused the scope, and lo-sync sent none "
                    f"({status}); check {key}: the provider may require one{said}"
                )
            scope = self.scope
            if len(scope) > SCOPE_SHOWN:
                scope = scope[: SCOPE_SHOWN - 1] + "…"
            return ConfigError(
                f'{provider}: the token endpoint refused the scope "{redact(scope)}" '
                f"({status}); check {key}{said}"
            )
        if code is None or code in CREDENTIAL_ERRORS:
            # With no code to read, a refusal is taken to be of the client, as it
            # always was; the endpoint's own words follow should they say otherwise.
            return ConfigError(
                f"{provider}: the token endpoint refused the client credentials ({status}); "
                f"check providers.{provider}.client_id and client_secret{said}"
            )
        return ConfigError(
            f"{provider}: the token endpoint refused the token request ({status}), not the "
            "client credentials; check that "
            f"providers.{provider}.token_url is the provider's client-credentials token "
            f"endpoint{said}"
        )

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
