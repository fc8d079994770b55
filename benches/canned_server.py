"""boto3's ceiling over HTTP: a server that answers every AWS request with a recorded answer.

    python benches/canned_server.py ANSWERS.json PORT [raw|uvicorn]

``raw``: an asyncio protocol that reads HTTP/1.1 requests (keep-alive, Content-Length bodies) and
writes the answer recorded for the request's operation (``X-Amz-Target``'s, else the form's
``Action``), prebuilt as bytes: the least a server can do. ``uvicorn``: the same answers from an
ASGI app on uvicorn, the server stack `rulebus serve` runs on, so that the figures show how much
of the gap is the server and how much is rulebus. Run by benches/compare_wire.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

Answer = tuple[int, list[tuple[str, str]], bytes]


def load(path: Path) -> dict[str, Answer]:
    answers = {}
    for name, recorded in json.loads(path.read_text()).items():
        data = recorded["body"].encode("utf-8")
        headers = [
            (key, value)
            for key, value in recorded["headers"].items()
            if key.lower() not in ("content-length", "connection", "date", "server")
        ]
        answers[name] = (int(recorded["status"]), headers, data)
    return answers


def operation(target: str | None, body: bytes) -> str:
    if target:
        return target.rsplit(".", 1)[-1]
    return parse_qs(body.decode("utf-8")).get("Action", [""])[0]


class Raw(asyncio.Protocol):
    """One connection: requests in, prebuilt answers out."""

    def __init__(self, prebuilt: dict[str, bytes]) -> None:
        self.prebuilt = prebuilt
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end_of_head = self.buffer.find(b"\r\n\r\n")
            if end_of_head < 0:
                return
            headers: dict[str, str] = {}
            for line in self.buffer[:end_of_head].decode("latin-1").split("\r\n")[1:]:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            end = end_of_head + 4 + int(headers.get("content-length", "0"))
            if len(self.buffer) < end:
                return
            body, self.buffer = self.buffer[end_of_head + 4 : end], self.buffer[end:]
            answer = self.prebuilt.get(operation(headers.get("x-amz-target"), body), self.prebuilt[""])
            assert self.transport is not None
            self.transport.write(answer)


def prebuild(answers: dict[str, Answer]) -> dict[str, bytes]:
    prebuilt = {"": b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"}
    for name, (status, headers, data) in answers.items():
        head = [f"HTTP/1.1 {status} OK", *(f"{key}: {value}" for key, value in headers)]
        head.append(f"content-length: {len(data)}")
        prebuilt[name] = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data
    return prebuilt


async def serve_raw(answers: dict[str, Answer], port: int) -> None:
    prebuilt = prebuild(answers)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Raw(prebuilt), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi(answers: dict[str, Answer]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    encoded = {
        name: (status, [(k.lower().encode(), v.encode()) for k, v in headers], data)
        for name, (status, headers, data) in answers.items()
    }

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        target = next((v.decode() for k, v in scope["headers"] if k == b"x-amz-target"), None)
        status, headers, data = encoded.get(operation(target, b"".join(chunks)), (404, [], b""))
        headers = [*headers, (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    return app


def main() -> None:
    answers = load(Path(sys.argv[1]))
    port = int(sys.argv[2])
    if (sys.argv[3] if len(sys.argv) > 3 else "raw") == "uvicorn":
        import uvicorn

        uvicorn.run(asgi(answers), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    else:
        asyncio.run(serve_raw(answers, port))


if __name__ == "__main__":
    main()
