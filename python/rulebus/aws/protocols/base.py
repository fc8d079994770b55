"""What every protocol shares: the reply, timestamps and blobs as the wire carries them."""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
from dataclasses import dataclass, field
from typing import Any, cast

from botocore.utils import parse_timestamp

__all__ = [
    "Reply",
    "blob_from_base64",
    "blob_to_base64",
    "epoch_seconds",
    "iso8601",
    "timestamp_from_wire",
]


@dataclass(frozen=True)
class Reply:
    """An HTTP response: status, headers (as the service names them) and body bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def timestamp_from_wire(value: object) -> datetime.datetime:
    """A timestamp as a request carries it (epoch seconds as a number or a numeric string, or
    ISO 8601 text) as an aware UTC datetime; ValueError when it is none of these."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"not a timestamp: {value!r}")
    try:
        parsed = parse_timestamp(cast(Any, value))  # botocore reads numbers as epoch seconds
    except (ValueError, OverflowError, OSError, TypeError) as error:
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
