"""The simulator's HTTP server: both providers on one local port, plus its steering.

No machine here reaches the real providers, so lo-sync is exercised against
this server. Provider requests go through the one guard (guard.py) to the
provider mounted under the path's first segment (coursera.py,
openclassrooms.py); this module holds what is the simulator's own:

    /_sim/control  POST {"day": 2, "faults": [...], "reset": true}
    /_sim/health   GET

the mutable state every request reads (day, faults, tokens, the request log,
the page cache), the HTTP plumbing, `Simulator` (a server on a daemon thread)
and `serve_forever` (`lo-sync simulate`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lo_sync.simulator.client_config import provider_urls
from lo_sync.simulator.config import SimulatorConfig
from lo_sync.simulator.coursera import CourseraAPI
from lo_sync.simulator.faults import Fault, FaultInjector
from lo_sync.simulator.guard import ProviderAPI, RequestContext, serve
from lo_sync.simulator.load import Load
from lo_sync.simulator.messages import Request, Response, json_response
from lo_sync.simulator.openclassrooms import OpenClassroomsAPI
from lo_sync.simulator.page_cache import PageCache
from lo_sync.simulator.tokens import TokenStore
from lo_sync.simulator.variance import VARIANCE_APIS

REQUEST_LOG_SIZE = 10_000

# Each provider is mounted under its name: /coursera/..., /openclassrooms/...;
# with `variance` on, its variance.py twin answers instead.
APIS: dict[str, ProviderAPI] = {api.name: api for api in (CourseraAPI(), OpenClassroomsAPI())}


class SimulatorApp:
    """Routes requests to the simulated providers; holds all mutable state."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self.faults = FaultInjector(config.faults)
        self.tokens = TokenStore()
        self.page_cache = PageCache(config.page_cache)
        self.load = Load()
        self._log: deque[tuple[str, str, int]] = deque(maxlen=REQUEST_LOG_SIZE)

    # -- steering --------------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    def set_day(self, day: int) -> None:
        with self._lock:
            if day == self._config.day:
                return  # the same night: its answers, and the cache of them, still hold
            self._config = self._config.replace(day=day)
        self.page_cache.clear()

    def set_faults(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._config = self._config.replace(faults=tuple(faults))
            self.faults.replace(self._config.faults)
        self.page_cache.clear()

    def reset_counters(self) -> None:
        self.faults.reset_counters()
        self.load.reset()
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
        config = self._config
        api = (VARIANCE_APIS if config.variance else APIS).get(parts[0])
        if api is not None:
            context = RequestContext(config, self.faults, self.tokens, self.page_cache, self.load)
            return serve(api, request, context)
        return json_response(404, {"message": f"no such path: {request.path}"})

    def _control(self, request: Request, parts: list[str]) -> Response:
        if parts == ["health"] and request.method == "GET":
            cfg = self._config
            health = {"ok": True, "day": cfg.day, "faults": [str(f) for f in cfg.faults]}
            return json_response(200, {**health, **self.load.stats()})
        if parts != ["control"]:
            return json_response(404, {"ok": False, "error": f"no such path: {request.path}"})
        if request.method != "POST":
            return json_response(405, {"ok": False, "error": "use POST"}, {"Allow": "POST"})
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
            return json_response(400, {"ok": False, "error": str(error)})
        # Everything validated: apply all of it or (above) none of it.
        self.set_day(day)
        if faults is not None:
            self.set_faults(faults)
        if command.get("reset"):
            self.reset_counters()
        return json_response(200, {"ok": True})


# -- HTTP plumbing -------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    timeout = 60  # seconds an idle keep-alive connection may hold a thread
    # Headers and body go out in two writes; with Nagle's algorithm on, the
    # second waits for the client's delayed ACK on every request.
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
        # A resource GET counts as in flight until its answer is written (load.py).
        counted = request.method == "GET" and not request.path.startswith("/_sim/")
        if counted:
            app.load.enter()
        try:
            try:
                response = app.handle(request)
            except Exception:  # a simulator bug: say so, rather than drop the connection
                traceback.print_exc()
                response = json_response(500, {"message": "simulator bug, see its stderr"})
            app.log(request, response.status)
            if response.abort:
                self.close_connection = True
                return
            self._send(response)
        finally:
            if counted:
                app.load.leave()

    def _send(self, response: Response) -> None:
        if response.trickle:
            self._trickle(response)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _trickle(self, response: Response) -> None:
        """The whole answer a byte at a time, until it is out or the client hangs up."""
        head = [f"{self.protocol_version} {response.status} {self.responses[response.status][0]}"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        head += [f"Content-Length: {len(response.body)}", "Connection: close", "", ""]
        message = "\r\n".join(head).encode("latin-1") + response.body
        self.close_connection = True
        for i in range(len(message)):
            try:
                self.wfile.write(message[i : i + 1])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(response.trickle)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    # socketserver's backlog of 5 makes a sixth client connecting at the same
    # moment wait a second for its SYN to be sent again: concurrent paging does.
    request_queue_size = 128

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
        return provider_urls(self.url)

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

    def load_stats(self) -> dict[str, int]:
        """The most resource GETs served at once and the throttle's 429s, since the
        last reset."""
        return self._app.load.stats()

    def page_cache_stats(self) -> dict[str, int]:
        """Hits, misses and what the page cache holds now (all 0 when it is off)."""
        return self._app.page_cache.stats()


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
