"""Failure text an operator can act on: what was asked, what went wrong, nothing secret.

Every message passes through `redact`, because URLs, error bodies and exception
text can carry tokens or the client secret.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from lo_sync.errors import ProviderError
from lo_sync.redact import redact


def describe(url: str, params: dict[str, Any] | None) -> str:
    """The request as a URL with its query, for messages."""
    if not params:
        return redact(url)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return redact(f"{url}?{query}")


def network_reason(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    for marker, reason in _NETWORK_REASONS.items():
        if marker in text:
            return reason
    return "network error"


# What the exception text holds, and what the operator reads.
_NETWORK_REASONS = {
    "Connection refused": "connection refused",
    "Connection reset": "connection reset",
    "Name or service not known": "name or service not known",
    "Remote end closed connection": "remote end closed connection",
    "IncompleteRead": "the answer was cut short",
}


def certificate_problem(exc: Exception) -> str | None:
    """Why a certificate failed verification, or None for a handshake that was cut short."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" not in text and "certificate verify failed" not in text:
        return None
    match = re.search(r"certificate verify failed: ([^()'\"]+)", text)
    return redact(match.group(1).strip().rstrip(".")) if match else "certificate verify failed"


def redirect_target(response: requests.Response) -> str:
    """Where a 3xx pointed: scheme, host and path only. Its query string, fragment and
    any user:password are left out, since a redirect can carry a signed secret there."""
    location = response.headers.get("Location")
    if not location:
        return "nowhere (no Location header)"
    try:
        parts = urlsplit(urljoin(response.url or "", location))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an unreadable Location"
    if ":" in host:
        host = f"[{host}]"
    return redact(f"{parts.scheme}://{host}{port}{parts.path}")


def error_detail(response: requests.Response) -> str:
    """The provider's own error code and message from a JSON error body, or ''."""
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


def raise_for_status(provider: str, response: requests.Response, what: str) -> None:
    """A 4xx or 5xx answer as a `ProviderError` that says which setting to check."""
    if response.status_code < 400:
        return
    hint = {
        401: "the provider rejected a freshly issued token",
        403: "the credentials are valid but not entitled to this organization; "
        f"check the org id in providers.{provider}",
        404: f"unknown organization or path; check the org id and base_url in providers.{provider}",
    }.get(response.status_code, "")
    raise ProviderError(
        f"{provider}: {what} answered HTTP {response.status_code}"
        f"{error_detail(response)}" + (f" ({hint})" if hint else "")
    )
