"""A local HTTP endpoint for the tests of HTTP/S subscriptions and HTTP targets: a server on
127.0.0.1 (port 0) in a thread, recording every POST and answering with a status the test sets.
The ``endpoint`` fixture (conftest.py) starts one per test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Endpoint:
    """What the server received, and the status it answers with (changeable mid-test); while
    ``hold`` is clear, the server waits before answering."""

    url: str
    requests: list[Request] = field(default_factory=list)
    status: int = 200
    hold: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.hold.set()


@contextmanager
def serving() -> Iterator[Endpoint]:
    """An endpoint whose server runs while the block does."""
    state = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            state.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            state.hold.wait(30)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sns/hook?x=1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
