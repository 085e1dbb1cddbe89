"""A small loopback HTTP server whose datacube answers a test writes itself.

The simulator models an account; this one answers whatever a test's ``answer`` function
returns, so a test can put one precise platform behaviour on the wire (an errcode, a
Content-Type, a made-up endpoint) and count exactly what the client sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from wxframe import Client
from wxframe.dates import BEIJING

APPID = "wx0123456789abcdef"
SECRET = "fixture-secret-0123456789"
TOKEN = "FIXTURE_TOKEN_abcdef0123456789"


@dataclass(frozen=True)
class Call:
    """One datacube request as the server received it."""

    endpoint: str
    begin: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.begin).days + 1


#: What an answer function returns: a JSON-able body, or ``(status, content type, bytes)``.
Reply = dict[str, Any] | tuple[int, str, bytes]
Answer = Callable[[Call], Reply]


@dataclass
class FixtureServer:
    url: str
    calls: list[Call] = field(default_factory=list)
    token_requests: int = 0

    def client(self, **kwargs: Any) -> Client:
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("clock", lambda: datetime(2026, 12, 1, 12, tzinfo=BEIJING))
        kwargs.setdefault("backoff", 0.0)
        return Client(APPID, SECRET, **kwargs)

    def calls_to(self, endpoint: str) -> list[Call]:
        return [c for c in self.calls if c.endpoint == endpoint]


@contextmanager
def fixture_server(answer: Answer) -> Iterator[FixtureServer]:
    """Serve ``answer`` for every ``POST /datacube/<name>``; a stable token for the rest."""
    lock = threading.Lock()
    state = FixtureServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if path == "/cgi-bin/stable_token":
                with lock:
                    state.token_requests += 1
                self._send(200, "application/json", {"access_token": TOKEN, "expires_in": 7200})
                return
            if not path.startswith("/datacube/"):
                self._send(404, "application/json", {"errcode": 404, "errmsg": "not found"})
                return
            call = Call(
                path.removeprefix("/datacube/"),
                date.fromisoformat(body["begin_date"]),
                date.fromisoformat(body["end_date"]),
            )
            with lock:
                state.calls.append(call)
            reply = answer(call)
            if isinstance(reply, tuple):
                self._send(*reply)
            else:
                self._send(200, "application/json", reply)

        def _send(self, status: int, content_type: str, payload: Any) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # unless the client has given up

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
