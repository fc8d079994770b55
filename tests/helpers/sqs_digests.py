"""SQS's digests written out by hand from AWS's description, to check rulebus's against."""

from __future__ import annotations

import hashlib


def _field(data: bytes) -> bytes:
    """A digest field: its length as 4 big-endian bytes, then itself."""
    return len(data).to_bytes(4, "big") + data


def trace_header_digest(header: str) -> str:
    """MD5OfMessageSystemAttributes of a send carrying AWSTraceHeader ``header``: the message
    attribute digest of that one String attribute (Amazon SQS Developer Guide, 'Calculating the
    MD5 message digest for message attributes')."""
    fields = _field(b"AWSTraceHeader") + _field(b"String") + b"\x01" + _field(header.encode("utf-8"))
    return hashlib.md5(fields).hexdigest()
