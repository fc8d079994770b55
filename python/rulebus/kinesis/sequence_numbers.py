"""Sequence numbers (Amazon Kinesis Data Streams Developer Guide, "Amazon Kinesis Data Streams
terminology and concepts").

A record's sequence number is :data:`SEQUENCE_BASE` plus its position: the store's per-stream
counter at the time it was put. They are 56-digit decimal strings, as AWS's are, so they increase
per shard, across shards, and from a parent shard to its children, and compare correctly as big
integers (never as strings of unequal length: all have 56 digits). Unlike AWS's they do not
encode the shard.
"""

from __future__ import annotations

import re

from rulebus._errors import constraint_error

__all__ = ["SEQUENCE_BASE", "sequence_number", "sequence_position"]

#: Added to the store's counter: AWS's sequence numbers have 56 digits and start "49" (observed).
SEQUENCE_BASE = 49 * 10**54

_SEQUENCE_NUMBER = re.compile(r"0|[1-9]\d{0,128}")


def sequence_number(position: int) -> str:
    """The sequence number of the record at ``position``."""
    return str(SEQUENCE_BASE + position)


def sequence_position(value: str, parameter: str) -> int:
    """The position a sequence number given as ``parameter`` names (ValidationException unless it
    is the API's decimal pattern; the position may be out of any stream's range)."""
    if not isinstance(value, str) or not _SEQUENCE_NUMBER.fullmatch(value):
        raise constraint_error(
            value, parameter, "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"
        )
    return int(value) - SEQUENCE_BASE
