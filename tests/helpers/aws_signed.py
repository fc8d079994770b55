"""Requests as botocore sends them, signed (SigV4) and captured before they leave: for checking
signature verification and for mutating into fuzz cases."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import boto3
from rulebus.aws.dispatch import HttpRequest

ENDPOINT = "http://127.0.0.1:4566"


class _Captured(Exception):
    """Stops botocore once the request is signed, carrying it."""

    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


@dataclass(frozen=True)
class Signed:
    """A signed request: what goes on the wire."""

    method: str
    path: str  # as sent, percent-encoded
    query: str
    headers: dict[str, str]  # names as botocore spells them
    body: bytes

    def http(self) -> HttpRequest:
        from urllib.parse import unquote

        return HttpRequest(
            self.method, unquote(self.path), self.query, dict(self.headers), self.body, self.path
        )

    def with_header(self, name: str, value: str | None) -> Signed:
        headers = {key: val for key, val in self.headers.items() if key.lower() != name.lower()}
        if value is not None:
            headers[name] = value
        return replace(self, headers=headers)

    def header(self, name: str) -> str:
        return next(value for key, value in self.headers.items() if key.lower() == name.lower())

    def raw(self, host: str) -> bytes:
        """The request as HTTP/1.1 bytes, its Host header replaced by ``host``."""
        target = self.path + (f"?{self.query}" if self.query else "")
        lines = [f"{self.method} {target} HTTP/1.1"]
        for name, value in self.headers.items():
            if name.lower() in ("host", "content-length"):
                continue
            lines.append(f"{name}: {value}")
        lines.append(f"Host: {host}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def client(
    service: str,
    key: tuple[str, str] = ("testing", "testing"),
    region: str = "us-east-1",
    endpoint: str = ENDPOINT,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )


def signed(
    service: str,
    operation: str,
    params: dict[str, Any] | None = None,
    key: tuple[str, str] = ("testing", "testing"),
    region: str = "us-east-1",
    endpoint: str = ENDPOINT,
) -> Signed:
    """``operation(**params)`` of ``service`` as botocore signs it (``operation`` in snake_case)."""
    api = client(service, key, region, endpoint)

    def capture(request: Any, **_: Any) -> None:
        raise _Captured(request)

    api.meta.events.register_first("before-send", capture)
    try:
        getattr(api, operation)(**(params or {}))
    except _Captured as captured:
        return _from_prepared(captured.request)
    raise AssertionError("botocore sent nothing")


def presigned(
    service: str,
    operation: str,
    params: dict[str, Any] | None = None,
    key: tuple[str, str] = ("testing", "testing"),
    expires: int = 300,
    region: str = "us-east-1",
) -> Signed:
    """A presigned URL for ``operation``, everything in its query string. botocore signs it for
    the operation's method (POST for the query protocol), so it is sent as a body-less POST."""
    url = client(service, key, region).generate_presigned_url(
        operation, Params=params or {}, ExpiresIn=expires
    )
    parts = urlsplit(url)
    return Signed("POST", parts.path or "/", parts.query, {"Host": parts.netloc}, b"")


def _from_prepared(request: Any) -> Signed:
    parts = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    headers = {
        name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()
    }
    headers.setdefault("Host", parts.netloc)
    return Signed(request.method, parts.path or "/", parts.query, headers, body)
