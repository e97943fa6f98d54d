"""Requests and responses as the simulator's routes see them, and the answer shapes
both providers share: JSON, the gateway's HTML and JSON errors, a token answer and
an OAuth2 token refusal."""

from __future__ import annotations

import json
import re
from base64 import b64decode
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, NamedTuple
from urllib.parse import parse_qs


class Request(NamedTuple):
    method: str
    target: str  # path with query, as sent
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection without answering (the `reset` fault).
    abort: bool = False
    # Seconds between the bytes of the answer, status line first (the `trickle` fault).
    trickle: float = 0.0


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


GATEWAY_REASONS = {502: "Bad Gateway", 504: "Gateway Timeout"}


def gateway_error(status: int) -> Response:
    # 502 and 504 come from the load balancer in front of an API, not from the
    # API: their body is HTML, and a client must not expect the JSON error shape.
    reason = GATEWAY_REASONS[status]
    html = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
    )
    return Response(status, html.encode(), {"Content-Type": "text/html"})


# What an Apigee-style gateway answers for itself: (faultstring, errorcode) by status.
_GATEWAY_FAULTS = {
    401: ("Invalid access token", "keymanagement.service.invalid_access_token"),
    403: ("Access denied", "accesscontrol.IPDeniedAccess"),
    429: ("Rate limit quota violation", "policies.ratelimit.QuotaViolation"),
    500: ("Internal server error", "messaging.runtime.UnknownError"),
    502: ("Unexpected EOF at target", "messaging.adaptors.http.flow.UnexpectedEOFAtTarget"),
    503: (
        "The Service is temporarily unavailable",
        "messaging.adaptors.http.flow.ServiceUnavailable",
    ),
    504: ("Gateway Timeout", "messaging.adaptors.http.flow.GatewayTimeout"),
}


def gateway_fault(status: int) -> Response:
    """The API gateway's own JSON error (gateway_fault): neither provider's error shape."""
    faultstring, errorcode = _GATEWAY_FAULTS.get(status, ("Gateway error", "steps.general.Error"))
    return json_response(
        status, {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}
    )


def oauth_error(
    status: int, code: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    """A token endpoint's refusal as RFC 6749 section 5.2 spells it."""
    return json_response(
        status,
        {"error": code, "error_description": description},
        {"Cache-Control": "no-store", **(headers or {})},
    )


def token_answer(token: str, lifetime: int) -> Response:
    return json_response(
        200,
        {"access_token": token, "token_type": "Bearer", "expires_in": lifetime},
        {"Cache-Control": "no-store"},
    )


def basic_credentials(headers: Message) -> tuple[str, str] | None:
    """(client id, secret) from HTTP Basic auth; None when the request sent none."""
    scheme, _, encoded = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return ("", "")  # present but unreadable: a wrong client, not an absent one
    return (client_id, secret) if sep else ("", "")


def media_type(headers: Message) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


# -- reading a request's query and form ------------------------------------------------

DIGITS = re.compile(r"[0-9]+")


def form_fields(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if values is None:
        return default
    if len(values) != 1 or not DIGITS.fullmatch(values[0]):
        raise ValueError(f"{name} must be one non-negative integer, got {values!r}")
    return int(values[0])


def query_bool(query: dict[str, list[str]], name: str) -> bool:
    values = query.get(name)
    if values is None:
        return False
    if values not in (["true"], ["false"]):
        raise ValueError(f"{name} must be true or false, got {values!r}")
    return values == ["true"]
