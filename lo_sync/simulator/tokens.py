"""Bearer tokens the simulator issues, each bound to one provider and one client."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass


@dataclass
class _Token:
    provider: str
    client_id: str
    expires_at: float  # time.monotonic()
    uses: int = 0


class TokenStore:
    """Issued bearer tokens, each bound to one provider and one client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        # Every token ever issued, expired or not: tests check none leaks into output.
        self._issued: list[str] = []

    def issued(self) -> list[str]:
        with self._lock:
            return list(self._issued)

    def issue(self, provider: str, client_id: str, lifetime: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            # Drop expired tokens so a long fault run does not grow the store.
            for stale in [t for t, info in self._tokens.items() if info.expires_at <= now]:
                del self._tokens[stale]
            self._tokens[token] = _Token(provider, client_id, now + lifetime)
            self._issued.append(token)
        return token

    def use(self, provider: str, authorization: str | None, use_limit: int | None) -> str | None:
        """Spend one use of the request's token; the reason it is refused, or None."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing bearer token"
        with self._lock:
            info = self._tokens.get(token.strip())
            if info is None or info.provider != provider:
                return "invalid access token"
            if info.expires_at <= time.monotonic():
                del self._tokens[token.strip()]
                return "access token expired"
            info.uses += 1
            if use_limit is not None and info.uses > use_limit:
                del self._tokens[token.strip()]
                return "access token expired"
        return None
