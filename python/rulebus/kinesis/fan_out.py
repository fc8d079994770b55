"""Enhanced fan-out: consumers registered on a stream, and SubscribeToShard's push of each
shard's records to them (Amazon Kinesis Data Streams API Reference, "RegisterStreamConsumer",
"DescribeStreamConsumer", "ListStreamConsumers", "DeregisterStreamConsumer", "SubscribeToShard";
Developer Guide, "Develop enhanced fan-out consumers with dedicated throughput").

What rulebus reproduces: up to 20 consumers per stream (LimitExceededException past it), each
with an ARN that carries its creation time (a consumer registered again after deregistration
has a new ARN); SubscribeToShard's events (``Records``, ``ContinuationSequenceNumber``,
``MillisBehindLatest``, and ``ChildShards`` once a closed shard is read to its end), from the
five starting positions, for up to 5 minutes. Where it differs, and why:

- a consumer is ACTIVE as soon as it is registered and gone as soon as it is deregistered (AWS
  shows CREATING and DELETING for some seconds), as streams are ACTIVE at once here;
- records are pushed as soon as they are stored, and when none arrive an event without records
  comes every :data:`HEARTBEAT_SECONDS` (AWS documents no interval; ours keeps a reader's loop
  turning);
- there is no per-shard rate limit (2 MiB/s, one subscription per consumer and shard at a
  time): a local reader is never throttled.

A subscription reads through the store, so it sees records put by any broker on the same file.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import AwsError, NotFound, constraint_error
from rulebus.kinesis.iterators import ShardIterator, parse_shard_iterator
from rulebus.kinesis.records import utc_datetime
from rulebus.kinesis.sequence_numbers import SEQUENCE_BASE, sequence_number
from rulebus.kinesis.state import StreamState
from rulebus.stores.records import StreamConsumerRecord

if TYPE_CHECKING:
    from rulebus.kinesis.stream import Stream
    from rulebus.stores.records import Clock

__all__ = [
    "HEARTBEAT_SECONDS",
    "MAX_CONSUMERS_PER_STREAM",
    "SUBSCRIPTION_SECONDS",
    "EnhancedFanOut",
    "ShardSubscription",
    "consumer_arn_parts",
]

#: RegisterStreamConsumer's limit per stream (provisioned streams).
MAX_CONSUMERS_PER_STREAM = 20
#: How long a SubscribeToShard call delivers events before it ends (the client subscribes again).
SUBSCRIPTION_SECONDS = 300.0
#: The longest a subscription goes without an event (see the module docstring).
HEARTBEAT_SECONDS = 5.0
#: Records per event at most (GetRecords' largest page).
_EVENT_RECORDS = 10_000
#: An async subscription looks for new records this often (seconds) while none come.
_ASYNC_POLL = (0.02, 0.25)

_CONSUMER_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_CONSUMER_ARN = re.compile(
    r"arn:aws[a-z-]*:kinesis:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):stream/(?P<stream>[a-zA-Z0-9_.-]+)"
    r"/consumer/(?P<consumer>[a-zA-Z0-9_.-]+):(?P<created>\d+)"
)
_STARTING_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")


def consumer_arn_parts(arn: object) -> tuple[str, str, str, str, int] | None:
    """(region, account, stream, consumer, creation epoch second) of a consumer ARN, or None."""
    if not isinstance(arn, str):
        return None
    match = _CONSUMER_ARN.fullmatch(arn)
    if match is None:
        return None
    return (
        match.group("region"),
        match.group("account"),
        match.group("stream"),
        match.group("consumer"),
        int(match.group("created")),
    )


def _check_consumer_name(name: object) -> str:
    text = validation.text(name, "consumerName", validation.KINESIS)
    if not 1 <= len(text) <= 128:
        raise constraint_error(text, "consumerName", "Member must have length less than or equal to 128")
    if not _CONSUMER_NAME.fullmatch(text):
        raise constraint_error(
            text, "consumerName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return text


class EnhancedFanOut:
    """The registered-consumer operations: methods of :class:`~rulebus.kinesis.stream.Stream`,
    which sets the attributes below."""

    name: str
    arn: str
    _state: StreamState
    _clock: Clock

    def _consumer_arn(self, consumer: StreamConsumerRecord) -> str:
        return f"{self.arn}/consumer/{consumer.name}:{int(consumer.creation_time)}"

    def _consumer(self, consumer: StreamConsumerRecord) -> dict[str, Any]:
        """A Consumer as RegisterStreamConsumer and ListStreamConsumers give it (DescribeStreamConsumer
        adds the StreamARN)."""
        return {
            "ConsumerName": consumer.name,
            "ConsumerARN": self._consumer_arn(consumer),
            "ConsumerStatus": "ACTIVE",
            "ConsumerCreationTimestamp": utc_datetime(consumer.creation_time),
        }

    def _consumer_missing(self, what: str) -> AwsError:
        # Our wording, in the style of the stream's own ResourceNotFoundException.
        return AwsError(
            "ResourceNotFoundException",
            f"Consumer {what} under account {self._state.account} not found.",
        )

    def register_consumer(self, consumer_name: str) -> dict[str, Any]:
        """RegisterStreamConsumer -> the Consumer (ConsumerName, ConsumerARN, ConsumerStatus,
        ConsumerCreationTimestamp). ResourceInUseException if one of that name is registered,
        LimitExceededException past :data:`MAX_CONSUMERS_PER_STREAM`."""
        name = _check_consumer_name(consumer_name)
        record = self._state.record()
        wanted = StreamConsumerRecord(name, float(int(self._clock())))
        try:
            registered = self._state.streams.register_stream_consumer(
                self.name, record.stream_id, wanted, MAX_CONSUMERS_PER_STREAM
            )
        except NotFound:
            raise self._state.not_found() from None
        if registered is None:
            raise AwsError(
                "LimitExceededException",
                f"Stream {self.arn} has already reached the limit of {MAX_CONSUMERS_PER_STREAM} "
                "registered consumers.",  # our wording
            )
        consumer, created = registered
        if not created:
            raise AwsError(
                "ResourceInUseException",
                f"Consumer {self._consumer_arn(consumer)} under account {self._state.account} "
                "already exists.",  # our wording
            )
        return self._consumer(consumer)

    def consumers(self) -> list[dict[str, Any]]:
        """ListStreamConsumers' Consumers: every registered consumer, oldest first."""
        return [self._consumer(c) for c in self._registered()]

    def _registered(self) -> list[StreamConsumerRecord]:
        record = self._state.record()
        try:
            return self._state.streams.stream_consumers(self.name, record.stream_id)
        except NotFound:
            raise self._state.not_found() from None

    def _find_consumer(self, consumer_name: str | None, consumer_arn: str | None) -> StreamConsumerRecord:
        if consumer_arn is not None:
            parts = consumer_arn_parts(consumer_arn)
            if parts is None or parts[2] != self.name:
                raise self._consumer_missing(str(consumer_arn))
            consumer_name, created = parts[3], parts[4]
        else:
            created = None
        if consumer_name is None:
            raise AwsError("InvalidArgumentException", "ConsumerName or ConsumerARN must be provided.")
        for consumer in self._registered():
            if consumer.name == consumer_name and (created is None or int(consumer.creation_time) == created):
                return consumer
        raise self._consumer_missing(consumer_arn or consumer_name)

    def describe_consumer(
        self, consumer_name: str | None = None, consumer_arn: str | None = None
    ) -> dict[str, Any]:
        """DescribeStreamConsumer's ConsumerDescription, by name or by ARN."""
        return {**self._consumer(self._find_consumer(consumer_name, consumer_arn)), "StreamARN": self.arn}

    def deregister_consumer(self, consumer_name: str | None = None, consumer_arn: str | None = None) -> None:
        """DeregisterStreamConsumer, by name or by ARN (ResourceNotFoundException if absent)."""
        consumer = self._find_consumer(consumer_name, consumer_arn)
        record = self._state.record()
        if not self._state.streams.deregister_stream_consumer(self.name, record.stream_id, consumer.name):
            raise self._consumer_missing(consumer.name)

    def subscribe_to_shard(
        self, consumer_arn: str, shard_id: str, starting_position: dict[str, Any]
    ) -> ShardSubscription:
        """SubscribeToShard: the registered consumer's subscription to one shard, an iterator of
        SubscribeToShardEvent dicts (see :class:`ShardSubscription`). ``starting_position``:
        ``{"Type": ..., "SequenceNumber"?: ..., "Timestamp"?: ...}`` as GetShardIterator's."""
        self._find_consumer(None, validation.text(consumer_arn, "consumerARN", validation.KINESIS))
        validation.text(shard_id, "shardId", validation.KINESIS)
        if not isinstance(starting_position, dict):
            raise validation.KINESIS.wrong_type("startingPosition", starting_position, "a structure")
        kind = starting_position.get("Type")
        if kind not in _STARTING_TYPES:
            raise constraint_error(
                kind,
                "startingPosition.type",
                "Member must satisfy enum value set: [" + ", ".join(_STARTING_TYPES) + "]",
            )
        timestamp = starting_position.get("Timestamp")
        if isinstance(timestamp, datetime):
            timestamp = timestamp.timestamp()
        stream: Stream = self  # type: ignore[assignment]  # (a mixin of Stream)
        iterator = stream.get_shard_iterator(
            shard_id, kind, starting_position.get("SequenceNumber"), timestamp
        )
        return ShardSubscription(stream, self._state, self._clock, iterator)


class ShardSubscription:
    """The events of one SubscribeToShard call, in order: iterate it (each step may wait for
    records, at most :data:`HEARTBEAT_SECONDS`), or ``async for`` over :meth:`events_async`.
    Each event is ``{"Records", "ContinuationSequenceNumber", "MillisBehindLatest"}`` (records
    as GetRecords gives them), with ``ChildShards`` in the last one once a closed shard is read
    to its end. It ends then, or after :data:`SUBSCRIPTION_SECONDS`, or on :meth:`close`."""

    def __init__(self, stream: Stream, state: StreamState, clock: Clock, iterator: str) -> None:
        self._stream = stream
        self._state = state
        self._clock = clock
        start = parse_shard_iterator(iterator)
        self._stream_id = start.stream_id
        self._shard = start.shard
        self._position = start.position
        _, shards = self._state.shards()
        self._first = next((s.starting_seq for s in shards if s.index == start.shard), 0)
        self._started = self._clock()
        self._deadline = time.monotonic() + SUBSCRIPTION_SECONDS
        self._last_event = time.monotonic()
        self.closed = False

    def close(self) -> None:
        """End the subscription: the next step finds it ended."""
        self.closed = True

    def _over(self) -> bool:
        return (
            self.closed
            or time.monotonic() >= self._deadline
            or self._clock() - self._started >= SUBSCRIPTION_SECONDS
        )

    def poll(self) -> dict[str, Any] | None:
        """The next event if there is one now: records, the end of a closed shard, or a heartbeat
        once :data:`HEARTBEAT_SECONDS` passed without an event; None otherwise."""
        token = ShardIterator(self._stream_id, self._shard, self._position, self._clock(), self._state.name)
        page = self._stream.get_records(token.token(), _EVENT_RECORDS)
        records = page["Records"]
        ended = page["NextShardIterator"] is None
        if records:
            self._position = int(records[-1]["SequenceNumber"]) - SEQUENCE_BASE + 1
        elif not ended and time.monotonic() - self._last_event < HEARTBEAT_SECONDS:
            return None
        self._last_event = time.monotonic()
        event: dict[str, Any] = {
            "Records": records,
            "ContinuationSequenceNumber": None if ended else self._continuation(),
            "MillisBehindLatest": page["MillisBehindLatest"],
        }
        if ended:
            event["ChildShards"] = page.get("ChildShards", [])
            self.closed = True
        return event

    def _continuation(self) -> str:
        """The sequence number to resume from with AFTER_SEQUENCE_NUMBER: the last one read (or,
        before any, the one before the shard's first, which GetShardIterator accepts for it)."""
        return sequence_number(max(self._position, self._first) - 1)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while not self._over():
            since = self._state.position()
            event = self.poll()
            if event is not None:
                yield event
                continue
            wait = min(
                HEARTBEAT_SECONDS - (time.monotonic() - self._last_event),
                self._deadline - time.monotonic(),
            )
            if wait > 0:
                self._state.streams.wait_stream(self._state.name, since, wait)

    async def events_async(self) -> AsyncIterator[dict[str, Any]]:
        """The same events, waiting on the event loop (no thread held while no record comes)."""
        delay = _ASYNC_POLL[0]
        while not self._over():
            event = self.poll()
            if event is not None:
                delay = _ASYNC_POLL[0]
                yield event
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, _ASYNC_POLL[1])
