"""The one shape a parsed AWS request takes between the codec and the service handlers.

The codec (JSON 1.0/1.1, query, CBOR) turns bytes into a :class:`Request` whose ``params`` use the
member names of the operation's input shape in botocore's service model; a handler answers with a
``dict`` by the member names of the output shape, or raises a :class:`~rulebus.RulebusError`
(:class:`~rulebus.AwsError` carries AWS's code, legacy query code and HTTP status), which the codec
writes as the protocol's error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from rulebus.broker import Broker


class Request(NamedTuple):
    """One call of an AWS operation, decoded (immutable; a named tuple, cheap to make once per
    request).

    ``params`` follow the input shape: structures and maps as ``dict``, lists as ``list``,
    timestamps as timezone-aware ``datetime`` (UTC), blobs as ``bytes``, integers as ``int``,
    booleans as ``bool``; members the caller left out are absent (not ``None``).
    """

    service: str  # botocore's service name: "sqs", "sns", "events", "kinesis", "sts"
    operation: str  # the model's operation name, e.g. "SendMessage"
    params: Mapping[str, Any]
    region: str
    account: str
    host: str  # the Host the client addressed (queue URLs and subscription URLs are built on it)
    request_id: str


# A service's operations: the model's operation name -> handler. A handler gets the broker of the
# request's account and region and returns the output shape's members (an empty dict when the
# operation has no output).
Handler = Callable[["Broker", Request], Mapping[str, Any]]
Operations = Mapping[str, Handler]
# An operation that may wait (a long poll) also has an awaiting form, which an event loop calls
# instead, so that the wait holds no thread; it answers what the synchronous handler answers.
AsyncHandler = Callable[["Broker", Request], Awaitable[Mapping[str, Any]]]
