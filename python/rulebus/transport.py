"""HTTP delivery: the one POST client of SNS's HTTP/S subscriptions and EventBridge's HTTP targets,
and how their answers are classified (delivered, refused for good, or worth retrying).

Deliberately small and dependency-free (``http.client``): a delivery is one POST of a text body
with the caller's headers; redirects are not followed, and ``user:password@`` in the URL becomes
Basic auth, as the Amazon SNS Developer Guide describes for HTTP/S endpoints ("HTTP/S
endpoints"). A POST never raises: "no answer" is status 0, which callers retry like a 5xx.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from http.client import HTTPConnection, HTTPSConnection
from typing import Callable
from urllib.parse import unquote, urlsplit

__all__ = [
    "HTTP_PROTOCOLS",
    "HTTP_TIMEOUT_SECONDS",
    "NO_ANSWER",
    "client_error",
    "delivered",
    "http_post",
    "post_with_retries",
    "redacted",
]

#: The URL schemes (SNS's protocol names) that are delivered by POST.
HTTP_PROTOCOLS = ("http", "https")
#: Seconds one POST may take (connect plus response); ours, AWS does not document a fixed value here.
HTTP_TIMEOUT_SECONDS = 15.0
#: The status of a POST that got no answer (a connection error, a timeout, a URL that cannot be posted to).
NO_ANSWER = 0

#: Why a POST got no answer (the callers log the failed delivery itself, with its resource names).
_log = logging.getLogger("rulebus.transport")


def redacted(endpoint: str) -> str:
    """An endpoint as logs may show it: a URL's user name and password (basic authentication)
    replaced by ``***``; anything else as it is."""
    scheme, separator, rest = endpoint.partition("://")
    if not separator:
        return endpoint
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return endpoint
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{path}"


def http_post(url: str, body: str, headers: Mapping[str, str]) -> int:
    """One POST: the answer's HTTP status, or ``NO_ANSWER``; never raises."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in HTTP_PROTOCOLS or not parts.hostname:
            return NO_ANSWER
        connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        connection = connection_class(parts.hostname, parts.port, timeout=HTTP_TIMEOUT_SECONDS)
        sent = dict(headers)
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            sent["Authorization"] = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body.encode("utf-8"), headers=sent)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()
    except Exception as error:
        _log.debug("POST to %s got no answer: %s: %s", redacted(url), type(error).__name__, error)
        return NO_ANSWER


def delivered(status: int) -> bool:
    """A 2xx answer: the endpoint took the message."""
    return 200 <= status < 300


def client_error(status: int) -> bool:
    """An answer not worth retrying: the endpoint refused the request itself (4xx), so sending it
    again would be refused again (Amazon SNS Developer Guide, "Amazon SNS message delivery
    retries": client-side errors are not retried). 429 Too Many Requests is the exception: the
    endpoint is only busy, so it is retried like a 5xx, a 3xx (redirects are not followed) or no
    answer at all."""
    return 400 <= status < 500 and status != 429


def post_with_retries(
    url: str,
    body: str,
    headers: Mapping[str, str],
    delays: Iterable[float],
    sleep: Callable[[float], object],
) -> bool:
    """POST, then again after each of ``delays`` (slept with ``sleep``) until the endpoint takes
    it or refuses it as a client error; whether it was delivered."""
    status = http_post(url, body, headers)
    for delay in delays:
        if delivered(status) or client_error(status):
            break
        sleep(delay)
        status = http_post(url, body, headers)
    return delivered(status)
