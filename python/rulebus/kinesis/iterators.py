"""Shard iterators and GetRecords (Amazon Kinesis Data Streams API Reference, "GetShardIterator",
"GetRecords").

A shard iterator is an opaque string naming the stream (and which incarnation of that name), the
shard, the position to read from and when it was issued; it is valid for
:data:`ITERATOR_LIFETIME` seconds by the broker's clock, in any process on the same store.
GetRecords reads from it and hands back the next one; at the end of a closed shard there is no
next iterator, and the ChildShards say where the hash-key range carries on.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.kinesis.records import record_entries
from rulebus.kinesis.sequence_numbers import sequence_position
from rulebus.kinesis.shards import child_shards, find_shard, format_shard_id
from rulebus.kinesis.state import retention_cutoff, shard_does_not_exist
from rulebus.stores.records import ShardRecord, StoredRecord, StreamRecord

if TYPE_CHECKING:
    from rulebus.kinesis.state import StreamState
    from rulebus.metrics import Counters
    from rulebus.stores.records import Clock

__all__ = [
    "ITERATOR_LIFETIME",
    "ITERATOR_TYPES",
    "MAX_GET_RECORDS",
    "MAX_GET_RECORDS_SIZE",
    "ShardIterator",
    "ShardReads",
    "parse_shard_iterator",
]

ITERATOR_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
ITERATOR_LIFETIME = 300.0  # seconds by the broker's clock
MAX_GET_RECORDS = 10_000
#: GetRecords returns at most this many bytes (data plus partition keys) per call.
MAX_GET_RECORDS_SIZE = 10 * 1024 * 1024

_ITERATOR_PREFIX = b"AAAAAAAAAAE"  # AWS's iterators start with these bytes' base64 (kinesalite)


class ShardIterator(NamedTuple):
    """What a ShardIterator string holds."""

    stream_id: int
    shard: int
    position: int
    issued: float  # seconds by the broker's clock, to the millisecond
    stream_name: str

    def token(self) -> str:
        """The ShardIterator string."""
        text = f"{self.stream_id}/{self.shard}/{self.position}/{int(self.issued * 1000)}/{self.stream_name}"
        return (_ITERATOR_PREFIX + base64.b64encode(text.encode())).decode("ascii")


def parse_shard_iterator(iterator: Any) -> ShardIterator:
    """What a ShardIterator string names; InvalidArgumentException "Invalid ShardIterator." for
    anything GetShardIterator did not give (GetRecords names no stream but through its iterator)."""
    try:
        if not isinstance(iterator, str) or not 1 <= len(iterator) <= 512:
            raise ValueError(iterator)
        raw = iterator.encode("ascii")
        if not raw.startswith(_ITERATOR_PREFIX):
            raise ValueError(iterator)
        stream_id, shard, position, issued, name = (
            base64.b64decode(raw[len(_ITERATOR_PREFIX) :], validate=True).decode().split("/", 4)
        )
        return ShardIterator(int(stream_id), int(shard), int(position), int(issued) / 1000.0, name)
    except (ValueError, UnicodeError, binascii.Error):
        raise AwsError("InvalidArgumentException", "Invalid ShardIterator.") from None


def _amz_time(seconds: float) -> str:
    """``Thu Jan 22 01:22:02 UTC 2015``, as ExpiredIteratorException words times (kinesalite)."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(seconds))


def _epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(validation.finite_number(value, "timestamp", validation.KINESIS))


def _cap(rows: list[StoredRecord]) -> tuple[list[StoredRecord], bool]:
    """GetRecords' 10 MiB: the longest prefix within it (at least one record)."""
    total = 0
    for i, row in enumerate(rows):
        total += len(row[2]) + len(row[3])
        if total > MAX_GET_RECORDS_SIZE and i:
            return rows[:i], True
    return rows, False


class ShardReads:
    """GetShardIterator and GetRecords: methods of :class:`~rulebus.kinesis.stream.Stream`,
    which sets the attributes below."""

    name: str
    _state: StreamState
    _clock: Clock
    _counters: Counters

    def get_shard_iterator(
        self,
        shard_id: str,
        shard_iterator_type: str,
        starting_sequence_number: str | None = None,
        timestamp: datetime | float | None = None,
    ) -> str:
        """GetShardIterator -> the ShardIterator string (valid 5 minutes by the broker's clock).
        Closed shards give iterators too. AT_TIMESTAMP takes a datetime (naive means UTC) or epoch
        seconds and starts at the first record that arrived at or after it."""
        validation.text(shard_id, "shardId", validation.KINESIS)
        validation.text(shard_iterator_type, "shardIteratorType", validation.KINESIS)
        validation.text(
            starting_sequence_number, "startingSequenceNumber", validation.KINESIS, required=False
        )
        if timestamp is not None and not isinstance(timestamp, datetime):
            validation.finite_number(timestamp, "timestamp", validation.KINESIS)
        if shard_iterator_type not in ITERATOR_TYPES:
            raise constraint_error(
                shard_iterator_type,
                "shardIteratorType",
                "Member must satisfy enum value set: [" + ", ".join(ITERATOR_TYPES) + "]",
            )
        state = self._state
        record = state.record()
        now = self._clock()
        state.trim_if_due(now, record)
        _, shards = state.shards()
        shard = find_shard(shards, shard_id)
        if shard is None:
            raise shard_does_not_exist(shard_id, self.name, state.account)
        position = self._starting_position(
            record, shard, shard_iterator_type, starting_sequence_number, timestamp, now
        )
        return ShardIterator(record.stream_id, shard.index, position, now, self.name).token()

    def _starting_position(
        self,
        record: StreamRecord,
        shard: ShardRecord,
        kind: str,
        sequence_number: str | None,
        timestamp: datetime | float | None,
        now: float,
    ) -> int:
        by_sequence = kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
        if by_sequence != (sequence_number is not None):
            given = "also a" if sequence_number is not None else "no"
            raise AwsError(
                "InvalidArgumentException",
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                f"Request specified {kind} and {given} StartingSequenceNumber.",  # kinesalite's text
            )
        if sequence_number is not None:
            value = sequence_position(sequence_number, "startingSequenceNumber")
            end = shard.ending_seq if shard.ending_seq is not None else self._state.position()
            # (AFTER the number just before the shard's first: where a SubscribeToShard that
            # read nothing yet says to continue from.)
            if not shard.starting_seq <= value <= end and not (
                kind == "AFTER_SEQUENCE_NUMBER" and value == shard.starting_seq - 1
            ):
                raise AwsError(
                    "InvalidArgumentException",
                    f"StartingSequenceNumber {sequence_number} used in GetShardIterator on shard "
                    f"{shard.shard_id} in stream {self.name} under account {self._state.account} "
                    "is invalid.",
                )
            return value if kind == "AT_SEQUENCE_NUMBER" else value + 1
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "LATEST":
            return self._state.position()
        if kind == "AT_TIMESTAMP":
            if timestamp is None:
                raise AwsError(
                    "InvalidArgumentException",
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                    "Current request has no timestamp parameter.",  # unverified text
                )
            not_before = max(_epoch(timestamp), retention_cutoff(record, now))
            rows, _ = self._state.read(record.stream_id, shard.index, 0, 1, not_before)
            return rows[0][0] if rows else self._state.position()
        raise AssertionError(kind)  # pragma: no cover - checked above

    def get_records(self, shard_iterator: str, limit: int = MAX_GET_RECORDS) -> dict[str, Any]:
        """GetRecords -> ``{"Records", "NextShardIterator", "MillisBehindLatest"}``, records as
        ``{"SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey"}``; at most
        ``limit`` (1-10,000) records and 10 MiB. Once a closed shard is read to its end,
        NextShardIterator is None and ``ChildShards`` names the shards that carry on."""
        validation.integer(limit, "limit", validation.KINESIS)
        if limit < 1:
            raise constraint_error(limit, "limit", "Member must have value greater than or equal to 1")
        if limit > MAX_GET_RECORDS:
            raise constraint_error(limit, "limit", "Member must have value less than or equal to 10000")
        stream_id, shard, position, issued, name = parse_shard_iterator(shard_iterator)
        if name != self.name:
            raise AwsError("InvalidArgumentException", "Invalid ShardIterator.")
        now = self._clock()
        if now - issued > ITERATOR_LIFETIME:
            raise AwsError(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time {_amz_time(issued)} while right now "
                f"it is {_amz_time(now)} which is further in the future than the tolerated delay of "
                f"{int(ITERATOR_LIFETIME * 1000)} milliseconds.",
            )
        state = self._state
        record = state.streams.get_stream(self.name)
        if record is None or record.stream_id != stream_id:
            raise shard_does_not_exist(format_shard_id(shard), self.name, state.account)
        rows, more = state.read(stream_id, shard, position, limit, retention_cutoff(record, now))
        rows, capped = _cap(rows)
        more = more or capped
        # The age of the last record read (0 once the reader is at the tip), as CloudWatch's
        # GetRecords.IteratorAgeMilliseconds takes it.
        self._counters.kinesis_read(self.name, len(rows), (now - rows[-1][1]) if rows else 0.0)
        result: dict[str, Any] = {"Records": [entry for _, entry in record_entries(rows)]}
        next_position = rows[-1][0] + 1 if rows else position
        if not more:
            _, shards = state.shards()
            this = next((s for s in shards if s.index == shard), None)
            if this is None or this.ending_seq is not None:
                result["NextShardIterator"] = None
                result["MillisBehindLatest"] = 0
                result["ChildShards"] = child_shards(shards, shard)
                return result
        result["NextShardIterator"] = ShardIterator(stream_id, shard, next_position, now, self.name).token()
        result["MillisBehindLatest"] = max(0, int((now - rows[-1][1]) * 1000)) if more else 0
        return result
