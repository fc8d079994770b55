"""``rulebus serve``: the AWS wire protocols over HTTP, for any SDK or the AWS CLI.

One asyncio ASGI application (:class:`Server`, run by uvicorn) in front of a
:class:`~rulebus.aws.dispatch.Dispatcher`: every request is routed and decoded as AWS's endpoints
do (by ``X-Amz-Target``, by ``Action``, by the SigV4 credential scope), so one port serves SQS,
SNS, EventBridge, Kinesis and STS. A long poll (ReceiveMessage with ``WaitTimeSeconds``) is
awaited on the loop and holds no thread, so a thousand clients may wait at once.

Besides AWS's API, the paths that test set-ups use:

- ``GET /_rulebus/health``: the server is up, and what it serves;
- ``POST /moto-api/reset``: every resource of every account and region is deleted, as
  moto's server does between tests (its files too, for an SQLite store);
- ``GET /_rulebus/sns/SimpleNotificationService-<id>.pem``: the certificate whose key signs SNS's
  HTTP/S deliveries, where their ``SigningCertURL`` points (:mod:`rulebus.sns.signing`);
- ``/_rulebus/``: the web console (:mod:`rulebus.aws.console`), which shows every scope's
  resources and counts, peeks at messages without receiving them and tests patterns.

A body longer than :data:`MAX_BODY_BYTES` is refused (413) without being read whole; a request
rulebus cannot answer gets an AWS-shaped error, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rulebus._errors import AwsError
from rulebus.aws.console import Console
from rulebus.aws.dispatch import Dispatcher, HttpRequest
from rulebus.aws.protocols import EMULATED, Reply
from rulebus.aws.protocols.base import StreamedBody
from rulebus.sns.signing import CERTIFICATE_CONTENT_TYPE, Signer

__all__ = ["MAX_BODY_BYTES", "Server"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The longest request body taken: above the largest any of the four services accepts (a
#: Kinesis PutRecords of 10 MiB, base64 in JSON; an SQS batch of ten 1 MiB messages).
MAX_BODY_BYTES = 16 * 1024 * 1024

_HEALTH = "/_rulebus/health"
_RESET = "/moto-api/reset"


class Server:
    """The ASGI application of ``rulebus serve`` (see the module's doc)."""

    def __init__(self, dispatcher: Dispatcher, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.dispatcher = dispatcher
        self.max_body_bytes = max_body_bytes
        self.console = Console(dispatcher.brokers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets: nothing here speaks them
        headers = _headers(scope["headers"])
        path = scope["path"]
        method = scope["method"]
        body = await self._body(headers, receive)
        if body is None:
            await _reply(send, _too_large(self.max_body_bytes))
            return
        if path == _HEALTH and method in ("GET", "HEAD"):
            await _reply(send, self._health())
            return
        raw_path = scope.get("raw_path")
        request = HttpRequest(
            method,
            path,
            scope["query_string"].decode("latin-1"),
            headers,
            body,
            raw_path.decode("latin-1") if raw_path is not None else None,
        )
        signer = self.dispatcher.brokers.sns_signer
        if path == _RESET and method == "POST":
            await _reply(send, self._reset(request))
        elif signer is not None and path == signer.certificate_path and method in ("GET", "HEAD"):
            # On a worker thread: the first fetch makes the RSA key.
            await _reply(send, await asyncio.to_thread(_certificate, signer))
        elif self.console.handles(path):
            await _reply(send, await self._console(request))
        else:
            reply = await self.dispatcher.dispatch_async(request)
            if reply.stream is None:
                await _reply(send, reply)
            else:
                await _stream(receive, send, reply, reply.stream)

    async def _console(self, request: HttpRequest) -> Reply:
        """The console's answer; refused when signatures are verified, since a browser cannot
        sign its requests and the console shows every message."""
        if self.dispatcher.verifier is not None:
            return _json(
                403,
                {
                    "__type": "AccessDeniedException",
                    "message": "The console is off while rulebus serve verifies signatures.",
                },
            )
        # On a worker thread: the console reads the stores, and an SQLite read may block.
        return await asyncio.to_thread(
            self.console.respond,
            request.method,
            request.path,
            request.query_string,
            dict(request.headers),
            request.body,
        )

    def _reset(self, request: HttpRequest) -> Reply:
        """Wipes every scope; when signatures are verified, only for a signed request (any
        service's scope), since it deletes every message."""
        try:
            self.dispatcher.authenticate(request, "events")
        except AwsError as error:
            return _json(error.status, {"__type": error.code, "message": error.message})
        self.dispatcher.brokers.wipe()
        return _json(200, {"reset": "success"})

    async def _body(self, headers: dict[str, str], receive: Receive) -> bytes | None:
        """The request's body; None once it is longer than allowed (read no further)."""
        declared = next((value for name, value in headers.items() if name.lower() == "content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _health(self) -> Reply:
        brokers = self.dispatcher.brokers
        return _json(
            200,
            {
                "status": "running",
                "services": {name: "available" for name in EMULATED},
                "scopes": [{"account": account, "region": region} for account, region in brokers.scopes()],
            },
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.dispatcher.brokers.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers by lower-case name; a repeated header's values joined by commas,
    as HTTP reads them (and as SigV4 canonicalises them)."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


def _certificate(signer: Signer) -> Reply:
    """The certificate SNS messages' SigningCertURL names, PEM, as SNS's certificate URLs answer."""
    return Reply(200, {"Content-Type": CERTIFICATE_CONTENT_TYPE}, signer.certificate_pem())


def _json(status: int, value: object) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(value).encode())


def _too_large(limit: int) -> Reply:
    # AWS's front ends answer an oversized body with 413 before any service sees it.
    return _json(
        413,
        {"__type": "RequestEntityTooLarge", "message": f"Request body is larger than {limit} bytes."},
    )


async def _stream(receive: Receive, send: Send, reply: Reply, body: StreamedBody) -> None:
    """A reply whose body is made while it is sent (an event stream), chunk by chunk, until it
    ends or the client goes away (then the body is closed, ending what makes it)."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers.items()
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        body.close()

    watcher = asyncio.ensure_future(watch())
    try:
        async for chunk in body.chunks_async():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except OSError:  # the client went away mid-send
        pass
    finally:
        body.close()
        watcher.cancel()


async def _reply(send: Send, reply: Reply) -> None:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers.items()
    ]
    headers.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})
