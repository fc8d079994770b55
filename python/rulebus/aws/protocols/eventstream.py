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
from collections.abc import Mapping

__all__ = ["CONTENT_TYPE", "encode", "event", "exception"]

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
