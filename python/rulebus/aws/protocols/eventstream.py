"""The event stream encoding (``application/vnd.amazon.eventstream``) that AWS's streaming
operations answer in, Kinesis' SubscribeToShard among them (Amazon Kinesis Data Streams API
Reference, 'SubscribeToShard'; the framing is the one botocore's ``eventstream`` module reads).

A message is a prelude (total length and headers length, 4 bytes each, big-endian, then the
CRC32 of those 8 bytes), its headers, its payload, and the CRC32 of everything before it. A
header is its name's length (1 byte), the name, a type byte, and the value; the values written
here are strings (type 7: a 2-byte length, then UTF-8).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Protocol

from rulebus._errors import AwsError

__all__ = ["CONTENT_TYPE", "EventStreamBody", "encode", "event", "exception"]

CONTENT_TYPE = "application/vnd.amazon.eventstream"

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def encode(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One message of ``headers`` (string values) and ``payload``."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    prelude = _PRELUDE.pack(_PRELUDE.size + _CRC.size + len(encoded) + len(payload) + _CRC.size, len(encoded))
    message = prelude + _CRC.pack(zlib.crc32(prelude)) + encoded + payload
    return message + _CRC.pack(zlib.crc32(message))


def event(event_type: str, document: object) -> bytes:
    """An event of the operation's output stream, its members as JSON."""
    headers = {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"}
    return encode(headers, json.dumps(document, separators=(",", ":")).encode())


def exception(code: str, message: str) -> bytes:
    """An error of the stream (a modeled one, e.g. ResourceInUseException), ending it."""
    headers = {":message-type": "exception", ":exception-type": code, ":content-type": "application/json"}
    return encode(headers, json.dumps({"message": message}).encode())


def _header(name: str, value: str) -> bytes:
    raw_name = name.encode("utf-8")
    raw_value = value.encode("utf-8")
    if len(raw_name) > 255 or len(raw_value) > 0xFFFF:
        raise ValueError(f"an event stream header too long: {name}")
    return (
        bytes([len(raw_name)]) + raw_name + bytes([_STRING]) + struct.pack(">H", len(raw_value)) + raw_value
    )


class EventSource(Protocol):
    """What an event stream's events come from (a Kinesis ``ShardSubscription``)."""

    def __iter__(self) -> Iterator[Any]: ...

    def events_async(self) -> AsyncIterator[Any]: ...

    def close(self) -> None: ...


class EventStreamBody:
    """An operation's event stream as a response body: the ``initial-response`` event (the
    output's other members, ``initial``), then one event of type ``event_type`` per event of
    ``source``, each written by ``write`` (the protocol's document bytes). An AWS error while
    the events are made ends the stream with that error's exception event."""

    def __init__(
        self,
        initial: bytes,
        event_type: str,
        source: EventSource,
        write: Callable[[Any], bytes],
        content_type: str = "application/json",
    ) -> None:
        self._initial = initial
        self._event_type = event_type
        self._source = source
        self._write = write
        self._content_type = content_type

    def _initial_event(self) -> bytes:
        return encode(
            {
                ":message-type": "event",
                ":event-type": "initial-response",
                ":content-type": self._content_type,
            },
            self._initial,
        )

    def _event(self, document: Any) -> bytes:
        headers = {
            ":message-type": "event",
            ":event-type": self._event_type,
            ":content-type": self._content_type,
        }
        return encode(headers, self._write(document))

    def __iter__(self) -> Iterator[bytes]:
        yield self._initial_event()
        try:
            for document in self._source:
                yield self._event(document)
        except AwsError as error:
            yield exception(error.code, error.message)

    async def chunks_async(self) -> AsyncIterator[bytes]:
        yield self._initial_event()
        try:
            async for document in self._source.events_async():
                yield self._event(document)
        except AwsError as error:
            yield exception(error.code, error.message)

    def close(self) -> None:
        self._source.close()
