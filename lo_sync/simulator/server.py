"""The simulator's HTTP server: Coursera and OpenClassrooms on one local port.

No machine here reaches the real providers, so lo-sync is exercised against
this server. It follows `shared/provider-apis.md` and is as strict as that
contract: a request the real API would refuse is refused here too (bad paging
parameters, a malformed Range, a token from the other provider, another
organization), so a lenient simulator cannot hide a client bug.

Layout (one port):
    /coursera/oauth2/client_credentials/token                     POST, form
    /coursera/ent/api/businesses.v1/{org_id}/contents             GET, start/limit
    /coursera/ent/api/businesses.v1/{org_id}/programs             GET, start/limit
    /coursera/ent/api/businesses.v1/{org_id}/enrollmentReports    GET, start/limit
    /openclassrooms/oauth2/token                                  POST, Basic
    /openclassrooms/organizations/{id}/courses                    GET, Range: items=
    /openclassrooms/organizations/{id}/learners/progress          GET, Range: items=
    /_sim/control  POST {"day": 2, "faults": [...], "reset": true}
    /_sim/health   GET

Checks run in the order a gateway-fronted API applies them: unknown path (404),
method (405), rate limit and outages (faults), token (401), organization
(403/404), parameters (400/416), then the page itself.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
import traceback
from base64 import b64decode
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from lo_sync.simulator import data
from lo_sync.simulator.data import CREDENTIALS, SimulatorConfig
from lo_sync.simulator.faults import (
    COURSERA_CORRUPTIONS,
    OPENCLASSROOMS_CORRUPTIONS,
    Fault,
    FaultInjector,
    Interruption,
    corrupt_record,
    corruption_at,
)

COURSERA_TOKEN_LIFETIME = 1799  # seconds, as Coursera answers
OPENCLASSROOMS_TOKEN_LIFETIME = 3600
COURSERA_DEFAULT_LIMIT = 100
COURSERA_MAX_LIMIT = 1000  # the contract's choice: above this is a 400
REQUEST_LOG_SIZE = 10_000

_COURSERA_ORG_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # the encoded id, never a slug
_DIGITS = re.compile(r"[0-9]+")
_ITEMS_RANGE = re.compile(r"items=([0-9]+)-([0-9]*)")

_COURSERA_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    411: "LENGTH_REQUIRED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
_REASONS = {502: "Bad Gateway", 504: "Gateway Timeout"}


# -- requests and responses ------------------------------------------------------


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


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


def coursera_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    code = _COURSERA_ERROR_CODES.get(status, "ERROR")
    return _json(status, {"errorCode": code, "message": message, "details": None}, headers)


def openclassrooms_error(
    status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return _json(status, {"code": status, "message": message}, headers)


def _gateway_error(status: int) -> Response:
    # 502 and 504 come from the load balancer in front of an API, not from the
    # API: their body is HTML, and a client must not expect the JSON error shape.
    reason = _REASONS[status]
    html = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
    )
    return Response(status, html.encode(), {"Content-Type": "text/html"})


# -- tokens -------------------------------------------------------------------


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


def _basic_credentials(headers: Message) -> tuple[str, str] | None:
    scheme, _, encoded = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return ("", "")  # present but unreadable: a wrong client, not an absent one
    return (client_id, secret) if sep else ("", "")


def _media_type(headers: Message) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


# -- collections ------------------------------------------------------------------


class _Collection(NamedTuple):
    total: int
    fetch: Callable[[int, int], list[dict[str, Any]]]  # records at positions [start, stop)
    corruptions: tuple[str, ...] = ()  # set for catalogs: what bad_records may do to them
    id_field: str = ""
    title_field: str = ""


def _records_with_faults(
    collection: _Collection, start: int, stop: int, faults: FaultInjector
) -> list[dict[str, Any]]:
    records = collection.fetch(start, stop)
    every = faults.bad_record_every()
    if every and collection.corruptions:
        for offset, record in enumerate(records):
            corruption = corruption_at(start + offset, every, collection.corruptions)
            if corruption:
                records[offset] = corrupt_record(
                    record, corruption, collection.id_field, collection.title_field
                )
    if start > 0 and records and faults.page_fault("duplicate_record", start):
        # The previous page's last record again, in front: one record too many.
        records.insert(0, collection.fetch(start - 1, start)[0])
    return records


# -- the application ------------------------------------------------------------------


class SimulatorApp:
    """Routes requests to the two simulated providers; holds all mutable state."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self.faults = FaultInjector(config.faults)
        self.tokens = TokenStore()
        self._log: deque[tuple[str, str, int]] = deque(maxlen=REQUEST_LOG_SIZE)

    # -- steering --------------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    def set_day(self, day: int) -> None:
        with self._lock:
            self._config = self._config.replace(day=day)

    def set_faults(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._config = self._config.replace(faults=tuple(faults))
            self.faults.replace(self._config.faults)

    def reset_counters(self) -> None:
        self.faults.reset_counters()
        with self._lock:
            self._log.clear()

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._log)

    def log(self, request: Request, status: int) -> None:
        if not request.path.startswith("/_sim/"):
            with self._lock:
                self._log.append((request.method, request.target, status))

    # -- routing ----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        parts = request.path.split("/")[1:]
        if parts[0] == "_sim":
            return self._control(request, parts[1:])
        if parts[0] == "coursera":
            return self._coursera(request, parts[1:])
        if parts[0] == "openclassrooms":
            return self._openclassrooms(request, parts[1:])
        return _json(404, {"message": f"no such path: {request.path}"})

    def _control(self, request: Request, parts: list[str]) -> Response:
        if parts == ["health"] and request.method == "GET":
            cfg = self._config
            return _json(200, {"ok": True, "day": cfg.day, "faults": [str(f) for f in cfg.faults]})
        if parts != ["control"]:
            return _json(404, {"ok": False, "error": f"no such path: {request.path}"})
        if request.method != "POST":
            return _json(405, {"ok": False, "error": "use POST"}, {"Allow": "POST"})
        try:
            command = json.loads(request.body or b"null")
            if not isinstance(command, dict) or not command:
                raise ValueError('expected a JSON object such as {"day": 2}')
            unknown = set(command) - {"day", "faults", "reset"}
            if unknown:
                raise ValueError(f"unknown control key {sorted(unknown)[0]!r}")
            day = command.get("day", self._config.day)
            if type(day) is not int or day not in (1, 2):
                raise ValueError("day must be 1 or 2")
            faults = None
            if "faults" in command:
                if not isinstance(command["faults"], list):
                    raise ValueError("faults must be a list")
                faults = tuple(Fault.from_dict(raw) for raw in command["faults"])
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            return _json(400, {"ok": False, "error": str(error)})
        # Everything validated: apply all of it or (above) none of it.
        self.set_day(day)
        if faults is not None:
            self.set_faults(faults)
        if command.get("reset"):
            self.reset_counters()
        return _json(200, {"ok": True})

    # -- Coursera --------------------------------------------------------------------

    def _coursera(self, request: Request, parts: list[str]) -> Response:
        if parts == ["oauth2", "client_credentials", "token"]:
            if request.method != "POST":
                return coursera_error(405, "use POST", {"Allow": "POST"})
            return self._coursera_token(request)
        resources = ("contents", "programs", "enrollmentReports")
        if (
            len(parts) != 5
            or parts[:3] != ["ent", "api", "businesses.v1"]
            or parts[4] not in resources
        ):
            return coursera_error(404, f"no such resource: {request.path}")
        if request.method != "GET":
            return coursera_error(405, "use GET", {"Allow": "GET"})
        org_id, resource = parts[3], parts[4]

        interruption = self.faults.count_resource_request()
        if interruption:
            return self._interrupted(interruption, coursera_error)
        refusal = self.tokens.use(
            "coursera", request.headers.get("Authorization"), self.faults.token_uses()
        )
        if refusal:
            return coursera_error(
                401, refusal, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if org_id != CREDENTIALS["coursera"]["org_id"]:
            if _COURSERA_ORG_ID.fullmatch(org_id):
                return coursera_error(403, f"not entitled to organization {org_id}")
            return coursera_error(404, f"unknown organization {org_id}")

        cfg = self._config
        try:
            start = _query_int(request.query, "start", 0)
            limit = _query_int(request.query, "limit", COURSERA_DEFAULT_LIMIT)
            if not 1 <= limit <= COURSERA_MAX_LIMIT:
                raise ValueError(f"limit must be between 1 and {COURSERA_MAX_LIMIT}")
            if resource == "enrollmentReports":
                collection = self._enrollment_reports(
                    cfg, _query_bool(request.query, "includeS12n")
                )
            elif resource == "programs":
                _query_bool(request.query, "excludeContent")  # validated; output is the same
                collection = _Collection(
                    data.coursera_program_count(cfg),
                    lambda a, b: [data.coursera_program(k, cfg) for k in range(a, b)],
                )
            else:
                collection = self._coursera_contents(cfg)
        except ValueError as error:
            return coursera_error(400, str(error))

        delay = self.faults.delay_seconds()
        if delay:
            time.sleep(delay)
        if self.faults.page_fault("broken_page", start):
            return coursera_error(500, "internal error")
        if self.faults.should_reset(start):
            return Response(0, abort=True)

        stop = min(start + limit, collection.total)
        elements = (
            _records_with_faults(collection, start, stop, self.faults) if start < stop else []
        )
        paging: dict[str, Any] = {}
        if start + limit < collection.total:
            paging["next"] = str(start + limit)
        if self.faults.page_fault("stuck_next", start):
            paging["next"] = str(start)
        paging["total"] = collection.total
        response = _json(200, {"elements": elements, "paging": paging, "linked": {}})
        return self._maybe_truncated(response, start)

    def _coursera_contents(self, cfg: SimulatorConfig) -> _Collection:
        listing = data.catalog_indices("coursera", cfg.day, cfg)
        total = len(listing) // 2 if self.faults.has("shrunk") else len(listing)
        return _Collection(
            total,
            lambda a, b: [data.coursera_content(i, cfg.day, cfg) for i in listing[a:b]],
            COURSERA_CORRUPTIONS,
            "contentId",
            "name",
        )

    @staticmethod
    def _enrollment_reports(cfg: SimulatorConfig, include_specializations: bool) -> _Collection:
        def fetch(a: int, b: int) -> list[dict[str, Any]]:
            return [
                data.coursera_enrollment(
                    data.coursera_enrollment_row_index(p, include_specializations), cfg.day, cfg
                )
                for p in range(a, b)
            ]

        return _Collection(data.coursera_enrollment_total(cfg, include_specializations), fetch)

    def _coursera_token(self, request: Request) -> Response:
        down = self.faults.token_endpoint_status()
        if down:
            return coursera_error(down, "token service unavailable")
        media_type = _media_type(request.headers)
        if media_type not in ("", "application/x-www-form-urlencoded"):
            return coursera_error(400, "expected a form body (application/x-www-form-urlencoded)")
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        credentials = _basic_credentials(request.headers)
        if credentials is None and "client_id" in form:
            credentials = (form["client_id"][0], (form.get("client_secret") or [""])[0])
        expected = CREDENTIALS["coursera"]
        if credentials != (expected["client_id"], expected["client_secret"]):
            return coursera_error(401, "invalid client credentials", {"WWW-Authenticate": "Basic"})
        if form.get("grant_type") != ["client_credentials"]:
            return coursera_error(400, "grant_type must be client_credentials")
        token = self.tokens.issue("coursera", expected["client_id"], COURSERA_TOKEN_LIFETIME)
        return _token_answer(token, COURSERA_TOKEN_LIFETIME)

    # -- OpenClassrooms ----------------------------------------------------------------

    def _openclassrooms(self, request: Request, parts: list[str]) -> Response:
        if parts == ["oauth2", "token"]:
            if request.method != "POST":
                return openclassrooms_error(405, "use POST", {"Allow": "POST"})
            return self._openclassrooms_token(request)
        resource = "/".join(parts[2:])
        if (
            len(parts) < 3
            or parts[0] != "organizations"
            or resource not in ("courses", "learners/progress")
        ):
            return openclassrooms_error(404, f"no such resource: {request.path}")
        if request.method != "GET":
            return openclassrooms_error(405, "use GET", {"Allow": "GET"})
        organization_id = parts[1]

        interruption = self.faults.count_resource_request()
        if interruption:
            return self._interrupted(interruption, openclassrooms_error)
        refusal = self.tokens.use(
            "openclassrooms", request.headers.get("Authorization"), self.faults.token_uses()
        )
        if refusal:
            return openclassrooms_error(
                401, refusal, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if organization_id != CREDENTIALS["openclassrooms"]["organization_id"]:
            if _DIGITS.fullmatch(organization_id):
                return openclassrooms_error(403, f"not a member of organization {organization_id}")
            return openclassrooms_error(404, f"unknown organization {organization_id}")

        cfg = self._config
        collection = (
            self._openclassrooms_courses(cfg)
            if resource == "courses"
            else _Collection(
                cfg.openclassrooms_progress,
                lambda a, b: [data.openclassrooms_progress(j, cfg.day, cfg) for j in range(a, b)],
            )
        )
        try:
            start, last_wanted = _items_range(request.headers.get_all("Range") or [])
        except ValueError as error:
            return openclassrooms_error(400, str(error))

        # range_total_changes: from the second page on, the count grows by 7.
        reported_total = collection.total
        if start > 0 and self.faults.has("range_total_changes"):
            reported_total += 7
        if collection.total == 0:
            return _json(200, [], {"Accept-Ranges": "items"})
        if start >= collection.total:
            return openclassrooms_error(
                416, "range starts past the end", {"Content-Range": f"items */{reported_total}"}
            )

        delay = self.faults.delay_seconds()
        if delay:
            time.sleep(delay)
        if self.faults.page_fault("broken_page", start):
            return openclassrooms_error(500, "internal error")
        if self.faults.should_reset(start):
            return Response(0, abort=True)

        # The server caps every answer, whatever was asked: the client must read
        # Content-Range to know where to go on.
        last = min(start + cfg.oc_page_cap, collection.total) - 1
        if last_wanted is not None:
            last = min(last, last_wanted)
        items = _records_with_faults(collection, start, last + 1, self.faults)
        if start == 0 and last == collection.total - 1:
            response = _json(200, items, {"Accept-Ranges": "items"})
        else:
            content_range = f"items {start}-{last}/{reported_total}"
            response = _json(206, items, {"Accept-Ranges": "items", "Content-Range": content_range})
        return self._maybe_truncated(response, start)

    def _openclassrooms_courses(self, cfg: SimulatorConfig) -> _Collection:
        listing = data.catalog_indices("openclassrooms", cfg.day, cfg)
        return _Collection(
            len(listing) // 2 if self.faults.has("shrunk") else len(listing),
            lambda a, b: [data.openclassrooms_course(i, cfg.day, cfg) for i in listing[a:b]],
            OPENCLASSROOMS_CORRUPTIONS,
            "id",
            "title",
        )

    def _openclassrooms_token(self, request: Request) -> Response:
        down = self.faults.token_endpoint_status()
        if down:
            return openclassrooms_error(down, "token service unavailable")
        expected = CREDENTIALS["openclassrooms"]
        # OpenClassrooms takes the client only as HTTP Basic, never in the body.
        if _basic_credentials(request.headers) != (
            expected["client_id"],
            expected["client_secret"],
        ):
            return openclassrooms_error(
                401, "invalid client credentials", {"WWW-Authenticate": "Basic"}
            )
        media_type = _media_type(request.headers)
        grant_type: Any = None
        if media_type == "application/json":
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                return openclassrooms_error(400, "body is not valid JSON")
            if isinstance(body, dict):
                grant_type = body.get("grant_type")
        elif media_type in ("", "application/x-www-form-urlencoded"):
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            values = form.get("grant_type", [])
            grant_type = values[0] if len(values) == 1 else None
        else:
            return openclassrooms_error(400, f"unsupported body type {media_type}")
        if grant_type != "client_credentials":
            return openclassrooms_error(400, "grant_type must be client_credentials")
        token = self.tokens.issue(
            "openclassrooms", expected["client_id"], OPENCLASSROOMS_TOKEN_LIFETIME
        )
        return _token_answer(token, OPENCLASSROOMS_TOKEN_LIFETIME)

    # -- shared -----------------------------------------------------------------------

    @staticmethod
    def _interrupted(interruption: Interruption, error: Callable[..., Response]) -> Response:
        if interruption.status == 429:
            headers = {}
            if interruption.retry_after is not None:
                headers["Retry-After"] = str(interruption.retry_after)
            return error(429, "rate limit exceeded, slow down", headers)
        if interruption.status in _REASONS:
            return _gateway_error(interruption.status)
        return error(interruption.status, "the service is having trouble, try again")

    def _maybe_truncated(self, response: Response, start: int) -> Response:
        if self.faults.page_fault("truncated_json", start):
            response.body = response.body[: len(response.body) // 2]
        return response


def _token_answer(token: str, lifetime: int) -> Response:
    return _json(
        200,
        {"access_token": token, "token_type": "Bearer", "expires_in": lifetime},
        {"Cache-Control": "no-store"},
    )


def _items_range(values: list[str]) -> tuple[int, int | None]:
    """(first item, last item or None) from the Range header; no header means from 0."""
    if len(values) > 1:
        raise ValueError("more than one Range header")
    text = values[0] if values else "items=0-"
    match = _ITEMS_RANGE.fullmatch(text)
    if not match or (match[2] and int(match[2]) < int(match[1])):
        raise ValueError(f"malformed Range {text!r}, expected items=A-B (zero-based, inclusive)")
    return int(match[1]), int(match[2]) if match[2] else None


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if values is None:
        return default
    if len(values) != 1 or not _DIGITS.fullmatch(values[0]):
        raise ValueError(f"{name} must be one non-negative integer, got {values!r}")
    return int(values[0])


def _query_bool(query: dict[str, list[str]], name: str) -> bool:
    values = query.get(name)
    if values is None:
        return False
    if values not in (["true"], ["false"]):
        raise ValueError(f"{name} must be true or false, got {values!r}")
    return values == ["true"]


# -- HTTP plumbing -------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    timeout = 60  # seconds an idle keep-alive connection may hold a thread
    # Headers and body go out in two writes; with Nagle's algorithm on, the
    # second waits for the client's delayed ACK, ~40 ms a request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request log is kept in memory instead

    def version_string(self) -> str:
        return "lo-sync-simulator"

    def _serve(self) -> None:
        app = self.server.app
        if self.headers.get("Transfer-Encoding"):
            self._send(Response(411, b"", {"Connection": "close"}))
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(Response(400, b"", {"Connection": "close"}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(
            self.command,
            self.path,
            split.path or "/",
            parse_qs(split.query, keep_blank_values=True),
            self.headers,
            body,
        )
        try:
            response = app.handle(request)
        except Exception:  # a simulator bug: say so, rather than drop the connection
            traceback.print_exc()
            response = _json(500, {"message": "simulator bug, see its stderr"})
        app.log(request, response.status)
        if response.abort:
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on open keep-alive connections so no thread serves after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# -- public entry points ---------------------------------------------------------------


class Simulator:
    """Both providers on one local port, served from a daemon thread.

    `with Simulator(cfg) as sim:` starts and stops it; `sim.url` is the root URL.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ):
        self._app = SimulatorApp(config or SimulatorConfig())
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Simulator:
        if self._server is not None:
            raise RuntimeError("simulator already started")
        # Binding happens here, so the port is listening before start() returns.
        self._server = _Server(self._address, self._app)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="lo-sync-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def provider_urls(self) -> dict[str, dict[str, str]]:
        return {
            "coursera": {
                "base_url": f"{self.url}/coursera/ent/api",
                "token_url": f"{self.url}/coursera/oauth2/client_credentials/token",
            },
            "openclassrooms": {
                "base_url": f"{self.url}/openclassrooms",
                "token_url": f"{self.url}/openclassrooms/oauth2/token",
            },
        }

    @property
    def config(self) -> SimulatorConfig:
        return self._app.config

    def set_day(self, day: int) -> None:
        if day not in (1, 2):
            raise ValueError("day must be 1 or 2")
        self._app.set_day(day)

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the faults; their request counters start again from zero."""
        self._app.set_faults(faults)

    def reset_counters(self) -> None:
        """Restart fault counting and clear the request log."""
        self._app.reset_counters()

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of recent provider requests, oldest first.

        Status 0 marks a connection dropped by the `reset` fault. Control and
        health calls are not logged. Only the last 10,000 are kept.
        """
        return self._app.request_log

    def issued_tokens(self) -> list[str]:
        """Every access token the simulator has issued since it started (read-only copy)."""
        return self._app.tokens.issued()


def serve_forever(
    cfg: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C); `on_ready(url)` once the port is listening."""
    simulator = Simulator(cfg, host, port).start()
    try:
        if on_ready is not None:
            on_ready(simulator.url)
        while True:
            time.sleep(3600)  # the server thread does the work; Ctrl-C lands here
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
