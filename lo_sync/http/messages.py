"""Failure text an operator can act on: what was asked, what went wrong, nothing secret.

Every message passes through `redact`, because URLs, error bodies and exception
text can carry tokens or the client secret.
"""

from __future__ import annotations

import html
import json
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


# What a message shows of a provider's error text, and how much of a body is read
# for it: an error body is a line or two, and anything far larger is no error text.
MAX_DETAIL_CHARS = 200
MAX_ERROR_BODY = 64 * 1024
# Characters that would let a provider's text break our one line or rewrite what a
# terminal shows: C0 and C1 controls, line and paragraph separators, bidi overrides.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_CHARSET = re.compile(r"charset=\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)
# An OAuth2 error code (RFC 6749 §5.2) is a lowercase token: "invalid_scope". A
# capitalized `error` ("Unauthorized", as Spring sends) is an HTTP reason, not a code.
_OAUTH_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)
# The fields each known error shape names its code and its text with, by meaning:
# Naptime (Coursera) errorCode/message, OpenClassrooms code/message, OAuth2
# error/error_description. `error_uri` and Naptime's `details` are left out.
_CODE_KEYS = ("errorCode", "error", "code")
_TEXT_KEYS = ("error_description", "message")


def error_detail(response: requests.Response) -> str:
    """The provider's own error text, with a leading space to follow "HTTP 400", or ''."""
    text = error_text(response)
    return f" {text}" if text else ""


def error_text(response: requests.Response) -> str:
    """The provider's own error text from any body it may send, bounded, one line, redacted.

    A JSON body is read by its known shapes (see `_CODE_KEYS`, and a gateway's
    `fault`), an unknown one shown as compact JSON; an HTML page by its <title>;
    plain text by its first line. Never raises: the body is the provider's.
    """
    try:
        text = _body_text(response)
    except Exception:  # a body no reading expected must not hide the status
        text = ""
    text = " ".join(_UNPRINTABLE.sub(" ", text).split())
    status = str(response.status_code)
    if text.startswith(status + " "):  # "502 Bad Gateway" after "HTTP 502" says it twice
        text = text[len(status) + 1 :]
    text = redact(text)  # before cutting: half a secret cut at the edge is still a leak
    if len(text) > MAX_DETAIL_CHARS:
        text = text[: MAX_DETAIL_CHARS - 1] + "…"
    return text


def oauth_error(response: requests.Response) -> str | None:
    """The OAuth2 error code a token endpoint refused with (`invalid_scope`), or None.

    Read from OAuth2's `error`, or from another shape's code when that code is one of
    OAuth2's own, however spelled: `INVALID_CLIENT`, a gateway's
    `oauth.v2.UnsupportedGrantType`.
    """
    try:
        body = _json_body(response)
    except Exception:  # no readable code, whatever the body held
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        known = _known_oauth_error(error)
        if known or _OAUTH_CODE.fullmatch(error):
            return known or error
    fault = body.get("fault")
    detail = fault.get("detail") if isinstance(fault, dict) else None
    other_codes = [
        body.get("errorCode"),
        detail.get("errorcode") if isinstance(detail, dict) else None,
    ]
    return next(filter(None, map(_known_oauth_error, other_codes)), None)


def _known_oauth_error(code: Any) -> str | None:
    """One of OAuth2's own codes, however `code` spells it; None for anything else."""
    if not isinstance(code, str):
        return None
    squashed = re.sub(r"[^a-z]", "", code.rpartition(".")[2].lower())
    for known in OAUTH_ERRORS:
        if squashed == known.replace("_", ""):
            return known
    return None


def _json_body(response: requests.Response) -> Any:
    """The body decoded as JSON; ValueError when it is none (or too large to be an error)."""
    content = response.content or b""
    if len(content) > MAX_ERROR_BODY:
        raise ValueError("too large for an error body")
    return json.loads(content)


def _body_text(response: requests.Response) -> str:
    try:
        body = _json_body(response)
    except (ValueError, RecursionError):
        return _non_json_text(response)
    if isinstance(body, dict):
        known = _known_shape(body, response.status_code)
        if known is not None:
            return known
    if isinstance(body, str):
        return body
    return _compact(body)


def _known_shape(body: dict, status: int, depth: int = 0) -> str | None:
    """'code: text' from a body of a known shape ('' when it holds nothing readable),
    or None for a shape we do not know."""
    fault = body.get("fault")
    if isinstance(fault, dict):  # an API gateway's own error, not the API's
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, dict) else None
        return _joined(_scalar(code), _scalar(fault.get("faultstring")))
    nested = body.get("error")
    if isinstance(nested, dict) and depth == 0:  # {"error": {"code": ..., "message": ...}}
        return _known_shape(nested, status, depth + 1)
    if not any(key in body for key in (*_CODE_KEYS, *_TEXT_KEYS)):
        return None
    code = next(filter(None, (_scalar(body.get(key)) for key in _CODE_KEYS)), "")
    if code == str(status):
        code = ""  # OpenClassrooms repeats the status as `code`: "HTTP 429 429" reads badly
    text = next(filter(None, (_scalar(body.get(key)) for key in _TEXT_KEYS)), "")
    return _joined(code, text)


def _scalar(value: Any) -> str:
    """A code or a text as shown; a nested value or a boolean is no text."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)[: MAX_DETAIL_CHARS * 4]
    return ""


def _joined(code: str, text: str) -> str:
    return ": ".join(part for part in (code, text) if part)


def _compact(body: Any) -> str:
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return ""
    return text[: MAX_DETAIL_CHARS * 4]


def _non_json_text(response: requests.Response) -> str:
    """An HTML page's <title>, or the first non-empty line of any other text."""
    content = (response.content or b"")[:MAX_ERROR_BODY]
    kind = response.headers.get("Content-Type", "").lower()
    if "html" in kind or content.lstrip()[:1] == b"<":
        title = _TITLE.search(content)
        if not title:
            return ""  # a page's markup is no message
        return html.unescape(_TAG.sub("", _decoded(title.group(1), response)))
    for line in _decoded(content, response).splitlines():
        if line.strip():
            return line[: MAX_DETAIL_CHARS * 4]
    return ""


def _decoded(content: bytes, response: requests.Response) -> str:
    # The charset the answer names, else UTF-8: requests would guess ISO-8859-1 for
    # any text/* without one, and turn every accented letter into two.
    charset = _CHARSET.search(response.headers.get("Content-Type", ""))
    try:
        return content.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return content.decode("utf-8", errors="replace")


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
    error = ProviderError(
        f"{provider}: {what} answered HTTP {response.status_code}"
        f"{error_detail(response)}" + (f" ({hint})" if hint else "")
    )
    error.status = response.status_code  # `lo-sync check` tells configuration from outages
    raise error
