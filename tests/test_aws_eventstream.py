"""The event stream framing, read back by botocore's own parser (what boto3's
SubscribeToShard reads)."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import EventStreamBuffer, ParserError
from rulebus.aws.protocols.eventstream import encode, event, exception


def parsed(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_botocore_reads_events_and_exceptions() -> None:
    records = {"Records": [{"Data": "aGk=", "PartitionKey": "p"}], "ContinuationSequenceNumber": "1"}
    data = (
        event("initial-response", {})
        + event("SubscribeToShardEvent", records)
        + exception("ResourceInUseException", "busy")
    )
    (initial, first, error) = parsed(data)
    assert initial == (
        {":message-type": "event", ":event-type": "initial-response", ":content-type": "application/json"},
        b"{}",
    )
    assert first[0][":event-type"] == "SubscribeToShardEvent" and json.loads(first[1]) == records
    assert error[0][":exception-type"] == "ResourceInUseException"
    assert json.loads(error[1]) == {"message": "busy"}


def test_botocore_reads_messages_split_anywhere() -> None:
    data = encode({"a": "é" * 10, "": ""}, b"\x00" * 1000) * 3
    buffer = EventStreamBuffer()
    seen = []
    for start in range(0, len(data), 7):
        buffer.add_data(data[start : start + 7])
        seen.extend(message.payload for message in buffer)
    assert seen == [b"\x00" * 1000] * 3


@pytest.mark.parametrize("position", [0, 8, 12, -1])
def test_a_flipped_byte_breaks_a_checksum(position: int) -> None:
    data = bytearray(event("SubscribeToShardEvent", {"Records": []}))
    data[position] ^= 1
    with pytest.raises(ParserError):
        parsed(bytes(data))
