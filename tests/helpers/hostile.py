"""A server on loopback that answers its GETs a byte at a time, and its token POSTs at once.

`responses` cannot hold a socket open, so the time bounds are tested against a real one:

    with TricklingServer(pause=0.05, headers_at_once=False) as server:
        client = ApiClient("coursera", token_url=server.token_url, ...)
        client.get_json(server.url)   # every byte of the answer 0.05 s after the last

Each byte comes well within any read timeout, so only a bound on the whole request ends it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "tok-trickle-tests-Q7w"
# Long enough that trickling it takes minutes at any pause the tests use.
BODY = json.dumps({"elements": [], "padding": "x" * 4000}).encode()


class TricklingServer:
    def __init__(self, pause: float = 0.05, headers_at_once: bool = False):
        self.pause = pause
        self.headers_at_once = headers_at_once
        self.gets = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/contents"

    @property
    def token_url(self) -> str:
        return self.url.replace("/contents", "/token")

    def __enter__(self) -> TricklingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"access_token": TOKEN, "expires_in": 1799}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                server.gets += 1
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
                ).encode()
                at_once, slowly = (head, BODY) if server.headers_at_once else (b"", head + BODY)
                self.close_connection = True
                try:
                    self.wfile.write(at_once)
                    for i in range(len(slowly)):
                        self.wfile.write(slowly[i : i + 1])
                        time.sleep(server.pause)
                except OSError:  # the client gave up: what the tests expect
                    pass

        return Handler
