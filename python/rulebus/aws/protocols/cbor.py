"""Kinesis over CBOR: AWS JSON 1.1's shapes in CBOR bodies (``application/x-amz-cbor-1.1``), as
AWS's Java SDKs send Kinesis requests unless CBOR is turned off.

The document is the one AWS JSON 1.1 would carry (same member names, same ``__type`` errors);
only the encoding differs: blobs are CBOR byte strings instead of base64 text, and timestamps
are tag 1 (epoch-based date/time). In requests a tag-1 number is read as epoch seconds, or as
epoch milliseconds when it is too large to be seconds (beyond the year 5000: the Java SDKs have
written both); responses write epoch milliseconds, which is what the Java SDKs read Kinesis's
CBOR timestamps as.

The CBOR codec here is the subset of RFC 8949 those bodies use: integers, byte and text strings
(definite and indefinite length), arrays, maps, tag 1, false/true/null/undefined and half,
single and double floats. Every length is checked against the bytes that remain and nesting is
bounded, so no body can make it allocate more than the body's size or recurse without end.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from botocore.model import Shape

from rulebus.aws.protocols.awsjson import JsonProtocol, read_timestamp
from rulebus.aws.protocols.base import epoch_seconds
from rulebus.aws.protocols.errors import serialization_error

__all__ = ["CONTENT_TYPE", "CborProtocol", "CborTimestamp", "dumps", "loads"]

CONTENT_TYPE = "application/x-amz-cbor-1.1"
MAX_DEPTH = 64
# Epoch seconds beyond this (about the year 5138) can only be milliseconds.
_MILLISECONDS_FROM = 100_000_000_000
_SURROGATE = re.compile("[\ud800-\udfff]")


class CborTimestamp(float):
    """A number that a CBOR body tagged as an epoch-based date/time (tag 1)."""


class _Break(Exception):
    """The "break" stop code of an indefinite-length item."""


class _Reader:
    __slots__ = ("data", "position")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def take(self, count: int) -> bytes:
        end = self.position + count
        if count < 0 or end > len(self.data):
            raise ValueError("the CBOR body ends in the middle of an item")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def remaining(self) -> int:
        return len(self.data) - self.position


def loads(data: bytes) -> object:
    """The one CBOR item ``data`` holds (ValueError when it is not exactly one well-formed item)."""
    reader = _Reader(data)
    try:
        value = _item(reader, 0)
    except _Break:
        raise ValueError("a CBOR break code outside an indefinite-length item") from None
    if reader.remaining():
        raise ValueError("bytes after the CBOR item")
    return value


def _argument(reader: _Reader, info: int) -> int | None:
    """The head's argument; None for an indefinite length."""
    if info < 24:
        return info
    if info == 31:
        return None
    widths = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in widths:
        raise ValueError(f"a reserved CBOR additional information value ({info})")
    return int.from_bytes(reader.take(widths[info]), "big")


def _item(reader: _Reader, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("CBOR nested too deeply")
    initial = reader.take(1)[0]
    major, info = initial >> 5, initial & 0x1F
    if major == 7:
        return _simple(reader, info)
    argument = _argument(reader, info)
    if major == 0 or major == 1:
        if argument is None:
            raise ValueError("an integer cannot have an indefinite length")
        return argument if major == 0 else -1 - argument
    if major == 2 or major == 3:
        raw = _string(reader, major, argument, depth)
        return raw if major == 2 else raw.decode("utf-8")
    if major == 4:
        if argument is None:
            return list(_until_break(reader, depth))
        _check_count(reader, argument)
        return [_item(reader, depth + 1) for _ in range(argument)]
    if major == 5:
        mapping: dict[Any, Any] = {}
        if argument is None:
            items = _until_break(reader, depth)
            for key in items:
                mapping[_key(key)] = _item(reader, depth + 1)
            return mapping
        _check_count(reader, 2 * argument)
        for _ in range(argument):
            key = _key(_item(reader, depth + 1))
            mapping[key] = _item(reader, depth + 1)
        return mapping
    # major 6: a tag; only tag 1 (epoch-based date/time) means something here
    if argument is None:
        raise ValueError("a tag cannot have an indefinite length")
    value = _item(reader, depth + 1)
    if argument == 1 and isinstance(value, (int, float)) and not isinstance(value, bool):
        return CborTimestamp(value)
    return value


def _check_count(reader: _Reader, count: int) -> None:
    if count > reader.remaining():  # every item takes at least one byte
        raise ValueError("a CBOR length longer than the body")


def _key(key: Any) -> Any:
    if isinstance(key, (list, dict)):
        raise ValueError("a CBOR map key must be a string or a number")
    return key


def _until_break(reader: _Reader, depth: int) -> Any:
    while True:
        try:
            yield _item(reader, depth + 1)
        except _Break:
            return


def _string(reader: _Reader, major: int, length: int | None, depth: int) -> bytes:
    if length is not None:
        return reader.take(length)
    chunks: list[bytes] = []
    while True:
        initial = reader.take(1)[0]
        if initial == 0xFF:
            return b"".join(chunks)
        if initial >> 5 != major:
            raise ValueError("an indefinite-length string holds a chunk of another type")
        size = _argument(reader, initial & 0x1F)
        if size is None:
            raise ValueError("an indefinite-length string chunk must have a length")
        chunks.append(reader.take(size))


def _simple(reader: _Reader, info: int) -> Any:
    if info == 20:
        return False
    if info == 21:
        return True
    if info in (22, 23):
        return None
    if info == 25:
        return float(struct.unpack(">e", reader.take(2))[0])
    if info == 26:
        return float(struct.unpack(">f", reader.take(4))[0])
    if info == 27:
        return float(struct.unpack(">d", reader.take(8))[0])
    if info == 31:
        raise _Break
    raise ValueError(f"an unassigned CBOR simple value ({info})")


def dumps(value: Any) -> bytes:
    """``value`` (None, bool, int, float, str, bytes, list, dict, CborTimestamp) as CBOR."""
    out = bytearray()
    _write(out, value)
    return bytes(out)


def _head(out: bytearray, major: int, argument: int) -> None:
    if argument < 24:
        out.append(major << 5 | argument)
    elif argument < 1 << 8:
        out += bytes((major << 5 | 24, argument))
    elif argument < 1 << 16:
        out.append(major << 5 | 25)
        out += argument.to_bytes(2, "big")
    elif argument < 1 << 32:
        out.append(major << 5 | 26)
        out += argument.to_bytes(4, "big")
    elif argument < 1 << 64:
        out.append(major << 5 | 27)
        out += argument.to_bytes(8, "big")
    else:
        raise ValueError(f"an integer too large for CBOR: {argument}")


def _write(out: bytearray, value: Any) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, CborTimestamp):
        out.append(0xC1)  # tag 1
        _write(out, int(value) if float(value).is_integer() else float(value))
    elif isinstance(value, int):
        if value >= 0:
            _head(out, 0, value)
        else:
            _head(out, 1, -1 - value)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        if _SURROGATE.search(value):  # no UTF-8 form: shown as the replacement character
            value = _SURROGATE.sub("\ufffd", value)
        encoded = value.encode("utf-8")
        _head(out, 3, len(encoded))
        out += encoded
    elif isinstance(value, (bytes, bytearray, memoryview)):
        _head(out, 2, len(value))
        out += bytes(value)
    elif isinstance(value, (list, tuple)):
        _head(out, 4, len(value))
        for item in value:
            _write(out, item)
    elif isinstance(value, dict):
        _head(out, 5, len(value))
        for key, item in value.items():
            _write(out, key)
            _write(out, item)
    else:
        raise TypeError(f"no CBOR form for {type(value).__name__}")


class CborProtocol(JsonProtocol):
    """AWS JSON 1.1's codec with CBOR bodies (Kinesis)."""

    native = False  # (the native reader reads JSON text)

    def __init__(self, service: str) -> None:
        super().__init__(service, "1.1")
        self.content_type = CONTENT_TYPE
        self.binary = True

    def decode(self, body: bytes) -> object:
        if not body:
            return {}
        try:
            return loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise serialization_error(f"The request body is not valid CBOR: {error}") from None

    def encode(self, document: object) -> bytes:
        return dumps(document)

    def _read_timestamp(self, value: float | str) -> Any:
        if isinstance(value, (int, float)) and abs(value) >= _MILLISECONDS_FROM:
            value = value / 1000
        return read_timestamp(value)

    def _out_blob(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.encode("utf-8")
        return bytes(value)

    def _out_timestamp(self, shape: Shape, value: Any) -> Any:
        return CborTimestamp(round(epoch_seconds(value) * 1000))
