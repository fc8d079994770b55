"""What every protocol shares: the reply, timestamps and blobs as the wire carries them."""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from botocore.model import Shape, StructureShape
from botocore.utils import parse_timestamp

__all__ = [
    "Reply",
    "StreamedBody",
    "blob_from_base64",
    "blob_to_base64",
    "epoch_seconds",
    "iso8601",
    "output_member",
    "special_float",
    "timestamp_from_wire",
    "timestamp_to_wire",
]


@dataclass(frozen=True)
class Reply:
    """An HTTP response: status, headers (as the service names them) and body bytes, or, for
    an operation that answers in an event stream (Kinesis' SubscribeToShard), ``stream``: the
    body's chunks as they are made (``body`` is then empty)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: StreamedBody | None = None


class StreamedBody(Protocol):
    """A response body made while it is sent: iterated in a thread (``rulebus.mock_aws``) or
    awaited on an event loop (``rulebus serve``); ``close`` when the client goes."""

    def __iter__(self) -> Iterator[bytes]: ...

    def chunks_async(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


def timestamp_from_wire(value: object) -> datetime.datetime:
    """A timestamp as a request carries it (epoch seconds as a number or a numeric string, or
    ISO 8601 text) as an aware UTC datetime; ValueError when it is none of these."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"not a timestamp: {value!r}")
    try:
        parsed = parse_timestamp(cast(Any, value))  # botocore reads numbers as epoch seconds
    except (ValueError, OverflowError, OSError, TypeError, RuntimeError) as error:
        # botocore answers an epoch beyond what its platform's clock functions take (1e20,
        # inf) with a RuntimeError about timezone offsets: still the client's bad value.
        raise ValueError(f"not a timestamp: {value!r}") from error
    if not isinstance(parsed, datetime.datetime):
        raise ValueError(f"not a timestamp: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def _as_datetime(value: Any) -> datetime.datetime:
    """A handler's timestamp (aware or naive-UTC datetime, or epoch seconds) as aware UTC."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    raise TypeError(f"a timestamp must be a datetime or epoch seconds, not {type(value).__name__}")


def epoch_seconds(value: Any) -> int | float:
    """Epoch seconds as AWS JSON writes them: an integer when whole, else to the millisecond."""
    moment = _as_datetime(value)
    whole = calendar.timegm(moment.timetuple())
    millis = moment.microsecond // 1000
    return whole if millis == 0 else whole + millis / 1000


def iso8601(value: Any) -> str:
    """ISO 8601 in UTC to the millisecond, as AWS's query protocol writes timestamps."""
    moment = _as_datetime(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def blob_from_base64(value: str) -> bytes:
    """A base64 blob's bytes; ValueError when the text is not base64."""
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ValueError("not base64") from error


def blob_to_base64(value: Any) -> str:
    """Bytes (or text, as UTF-8) as base64 text."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"a blob must be bytes, not {type(value).__name__}")
    return base64.b64encode(bytes(value)).decode("ascii")


def timestamp_to_wire(shape: Shape, value: Any, default_format: str) -> int | float | str:
    """A timestamp as the shape's ``timestampFormat`` (else the protocol's default) writes it."""
    timestamp_format = str(shape.serialization.get("timestampFormat", default_format)).lower()
    return epoch_seconds(value) if timestamp_format == "unixtimestamp" else iso8601(value)


def special_float(value: Any) -> str | None:
    """How AWS writes a float that has no number literal ("NaN", "Infinity", "-Infinity");
    None for any other."""
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return None


def output_member(shape: StructureShape, name: str) -> Shape:
    """The member ``name`` of an output structure; ValueError when it has none (a handler's bug:
    answered as InternalFailure rather than dropped unseen)."""
    member = shape.members.get(name)
    if member is None:
        raise ValueError(f"{shape.name} has no member {name!r}")
    return member
