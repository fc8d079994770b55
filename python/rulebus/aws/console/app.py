"""The routes of the console under ``/_rulebus/``: the page and its JSON API.

- ``GET /_rulebus/``: the page, one HTML document with its stylesheet and script inline;
- ``GET /_rulebus/api/overview``: every scope's resources and counts;
- ``GET /_rulebus/api/messages?account=&region=&queue=&max=``: a queue's messages, peeked;
- ``POST /_rulebus/api/test-pattern``: ``{"pattern": ..., "event": ...}`` in, the match and
  ``RuleSet.explain``'s reasons out.

What keeps a hostile page or message from using it:

- everything shown is data: the script builds the DOM with ``textContent`` only, and the
  Content-Security-Policy allows no script or style but the page's own inline ones, named by
  their SHA-256 hashes (so an injected ``<script>`` or ``onerror=`` would not run even if it
  reached the DOM), no connections but to this origin, no images, frames, forms or base URI;
- GET changes nothing; a POST is taken only with ``Content-Type: application/json`` and the
  ``X-Rulebus-Console`` header (neither of which a cross-site form or a simple cross-origin
  request can send without a CORS preflight, which nothing here answers), and, when the browser
  sends ``Origin``, only from this server's own origin;
- every reply carries ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store`` and
  refuses to be framed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from rulebus.aws.brokers import Brokers
from rulebus.aws.console.views import MAX_PEEK, ConsoleError, find_broker, overview, peek, test_pattern
from rulebus.aws.protocols import Reply
from rulebus.stores.records import Clock

__all__ = ["CONSOLE_HEADER", "PREFIX", "Console"]

#: Where the console lives; ``/_rulebus/health`` is the server's own.
PREFIX = "/_rulebus"
#: The header a console POST must carry (any value): a cross-site form cannot set it.
CONSOLE_HEADER = "X-Rulebus-Console"
#: The largest POST body the console reads (a pattern and an event).
MAX_CONSOLE_BODY = 256 * 1024

_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The JSON replies are never rendered: they may run nothing and load nothing.
_API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _asset(name: str) -> str:
    return resources.files("rulebus.aws.console").joinpath(name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _page() -> tuple[bytes, str]:
    """The page's HTML and the Content-Security-Policy that allows its inline style and script
    (and nothing else) by their hashes."""
    style, script = _asset("page.css"), _asset("page.js")
    html = _asset("page.html").replace("/*STYLE*/", style).replace("/*SCRIPT*/", script)
    policy = (
        "default-src 'none'; "
        f"script-src {_sha256(script)}; "
        f"style-src {_sha256(style)}; "
        "connect-src 'self'; "
        "img-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html.encode("utf-8"), policy


class Console:
    """The console's routes over a server's :class:`~rulebus.aws.brokers.Brokers`; a request is
    :meth:`handles` and :meth:`respond` (blocking: an SQLite store is read, so the server calls
    it on a worker thread)."""

    def __init__(self, brokers: Brokers, clock: Clock = time.time) -> None:
        self.brokers = brokers
        self._clock = clock
        self._html, self._policy = _page()

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def respond(
        self, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """The reply to one request under :data:`PREFIX` (never raises)."""
        try:
            return self._route(method, path, query_string, _lower(headers), body)
        except ConsoleError as error:
            return _json(error.status, {"error": {"code": error.code, "message": error.message}})

    def _route(
        self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        if path == PREFIX:  # the page fetches relative URLs: give it its directory
            _allow(method, "GET", "HEAD")
            return Reply(308, {**_COMMON_HEADERS, "Location": PREFIX + "/"}, b"")
        if path in (PREFIX + "/", PREFIX + "/index.html"):
            _allow(method, "GET", "HEAD")
            reply = Reply(
                200,
                {
                    **_COMMON_HEADERS,
                    "Content-Type": "text/html; charset=utf-8",
                    "Content-Security-Policy": self._policy,
                },
                self._html,
            )
            return reply if method != "HEAD" else Reply(reply.status, reply.headers, b"")
        if path == PREFIX + "/api/overview":
            _allow(method, "GET")
            return _json(200, overview(self.brokers, self._clock()))
        if path == PREFIX + "/api/messages":
            _allow(method, "GET")
            return _json(200, self._messages(query_string))
        if path == PREFIX + "/api/test-pattern":
            _allow(method, "POST")
            payload = _posted(headers, body)
            if "pattern" not in payload or "event" not in payload:
                raise ConsoleError(400, "MissingParameter", "Give both a pattern and an event.")
            return _json(200, test_pattern(payload["pattern"], payload["event"]))
        raise ConsoleError(404, "NotFound", "No such page.")

    def _messages(self, query_string: str) -> dict[str, object]:
        query = {name: values[-1] for name, values in parse_qs(query_string, keep_blank_values=True).items()}
        missing = [name for name in ("account", "region", "queue") if not query.get(name)]
        if missing:
            raise ConsoleError(400, "MissingParameter", f"Missing query parameters: {', '.join(missing)}.")
        wanted = query.get("max", "20")
        if not wanted.isdigit() or not 1 <= int(wanted) <= MAX_PEEK:
            raise ConsoleError(
                400, "InvalidParameterValue", f"max must be a whole number from 1 to {MAX_PEEK}."
            )
        broker = find_broker(self.brokers, query["account"], query["region"])
        return {
            "account": broker.account,
            "region": broker.region,
            **peek(broker, query["queue"], int(wanted)),
        }


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ConsoleError(405, "MethodNotAllowed", f"Use {' or '.join(allowed)} here.")


def _posted(headers: dict[str, str], body: bytes) -> dict[str, object]:
    """The JSON object of a console POST, after the checks that keep other sites out."""
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise ConsoleError(415, "UnsupportedMediaType", "Send application/json.")
    if CONSOLE_HEADER.lower() not in headers:
        raise ConsoleError(403, "Forbidden", f"A console request carries the {CONSOLE_HEADER} header.")
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != headers.get("host", ""):
        raise ConsoleError(403, "Forbidden", "Cross-origin requests are refused.")
    if len(body) > MAX_CONSOLE_BODY:
        raise ConsoleError(413, "RequestEntityTooLarge", f"The body is larger than {MAX_CONSOLE_BODY} bytes.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ConsoleError(400, "SerializationException", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise ConsoleError(400, "SerializationException", "The body is not a JSON object.")
    return payload


def _json(status: int, value: object) -> Reply:
    headers = {**_COMMON_HEADERS, "Content-Type": "application/json", "Content-Security-Policy": _API_POLICY}
    # "<", ">" and "&" only occur inside JSON strings: escaped there, a reply holding markup stays
    # inert even if something rendered it as HTML (it is served nosniff, under default-src 'none').
    text = (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return Reply(status, headers, text.encode("utf-8"))
