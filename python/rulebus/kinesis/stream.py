"""Kinesis Data Streams (docs/semantics.md, 'Kinesis streams'): streams of shards, puts routed by the MD5
of the partition key, shard iterators, resharding, and named consumers that checkpoint in the store.

What runs where: the stream's state (shards, records, checkpoints) lives in the broker's store
(``rulebus.stores``), so every broker on an SQLite file sees the same stream; a ``Stream``
object only validates requests as AWS does and shapes results. Streams are ACTIVE as soon as they
exist: creation and resharding, asynchronous on AWS, are done when the call returns.

Sequence numbers are 56-digit decimal strings, as AWS's are: :data:`SEQUENCE_BASE` plus the
store's per-stream counter, so they increase per shard, across shards, and from a parent shard to
its children, and compare correctly as big integers (never as strings of unequal length: all have
56 digits). Unlike AWS's they do not encode the shard.

Consumers (:meth:`Stream.consumer`) are this library's answer to the KCL: one reader of every shard,
parents before children, with checkpoints under its name in the store. See :class:`StreamConsumer`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import AwsError, StoreLockedError, constraint_error
from rulebus.arn import stream_name
from rulebus.stores.base import NotFound
from rulebus.stores.records import SHARD_END, ShardRecord, StoredRecord, StreamRecord

if TYPE_CHECKING:
    from rulebus.context import Context
    from rulebus.stores.base import Store

__all__ = [
    "DEFAULT_RETENTION_HOURS",
    "SEQUENCE_BASE",
    "Stream",
    "StreamConsumer",
    "delete_stream",
    "open_stream",
    "parse_shard_iterator",
    "stream_name_from_arn",
    "validate_stream_name",
]

#: Added to the store's counter: AWS's sequence numbers have 56 digits and start "49" (observed).
SEQUENCE_BASE = 49 * 10**54

HASH_KEY_LIMIT = 1 << 128  # hash keys are 0 .. 2^128-1
DEFAULT_RETENTION_HOURS = 24
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
#: Data plus partition key of one record (the stream's default MaxRecordSizeInKiB, 1,024).
MAX_RECORD_SIZE = 1024 * 1024
MAX_PARTITION_KEY_LENGTH = 256
MAX_PUT_RECORDS = 500
# The members of PutRecordsRequestEntry (botocore's Kinesis model).
_PUT_RECORDS_ENTRY = frozenset(("Data", "ExplicitHashKey", "PartitionKey"))
#: PutRecords' whole request, partition keys included: 10 MiB in botocore's 2026 model (was 5 MiB).
MAX_PUT_RECORDS_SIZE = 10 * 1024 * 1024
MAX_GET_RECORDS = 10_000
#: GetRecords returns at most this many bytes (data plus partition keys) per call.
MAX_GET_RECORDS_SIZE = 10 * 1024 * 1024
ITERATOR_LIFETIME = 300.0  # seconds by the broker's clock
MAX_SHARDS_PER_STREAM = 10_000  # the ceiling in Kinesis Data Streams API Reference, UpdateShardCount
MAX_SCALINGS_PER_DAY = 10
#: Retention trims records physically at most this often (by the broker's clock); reads filter
#: expired records out whatever the trimming.
TRIM_INTERVAL = 60.0

ITERATOR_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")

_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_HASH_KEY = re.compile(r"0|[1-9]\d{0,38}")
_SEQUENCE_NUMBER = re.compile(r"0|[1-9]\d{0,128}")
_SHARD_ID = re.compile(r"shardId-(\d{12})")
_ITERATOR_PREFIX = b"AAAAAAAAAAE"  # AWS's iterators start with these bytes' base64 (kinesalite)


#: Partition key -> its MD5 as a 128-bit integer, for ASCII keys (whose length is their size in
#: bytes, which ``put_records``' fast path relies on). Producers reuse keys (user ids, device
#: ids), and hashing is a third of a put's own work; bounded by clearing it when full.
_HASH_CACHE: dict[str, int] = {}
_HASH_CACHE_SIZE = 65_536
#: The largest Data that fits MAX_RECORD_SIZE with any valid partition key (at most 256 ASCII
#: characters, the only keys the cache holds).
_MAX_DATA_WITH_KEY = MAX_RECORD_SIZE - MAX_PARTITION_KEY_LENGTH


def _partition_hash(partition_key: str) -> int:
    value = int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")
    if partition_key.isascii():
        if len(_HASH_CACHE) >= _HASH_CACHE_SIZE:
            _HASH_CACHE.clear()
        _HASH_CACHE[partition_key] = value
    return value


def validate_stream_name(name: str) -> None:
    """StreamName: 1-128 characters of ``[a-zA-Z0-9_.-]`` (ValidationException otherwise)."""
    if not isinstance(name, str) or not name:
        raise constraint_error(name, "streamName", "Member must have length greater than or equal to 1")
    if len(name) > 128:
        raise constraint_error(name, "streamName", "Member must have length less than or equal to 128")
    if not _STREAM_NAME.fullmatch(name):
        raise constraint_error(
            name, "streamName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


def stream_name_from_arn(arn: str) -> str:
    """The stream name in ``arn:aws:kinesis:<region>:<account>:stream/<name>``."""
    name = stream_name(arn)
    if name is None:
        raise AwsError("InvalidArgumentException", f"Invalid StreamARN: {arn}")  # our wording
    return name


def uniform_shards(count: int, starting_index: int = 0) -> list[ShardRecord]:
    """``count`` shards splitting the hash-key space evenly, as AWS (and kinesalite) does: width
    ``floor(2^128 / count)``, the last one ending at 2^128-1."""
    width = HASH_KEY_LIMIT // count
    return [
        ShardRecord(
            starting_index + i,
            width * i,
            HASH_KEY_LIMIT - 1 if i == count - 1 else width * (i + 1) - 1,
            0,
        )
        for i in range(count)
    ]


def open_stream(context: Context, name: str, shards: int | None = None) -> Stream:
    """What ``Broker.stream`` does: open the stream, creating it (with ``shards`` shards, 1 if not
    given, and 24 h retention) if absent. ``shards`` only applies to creation: an existing stream
    keeps the shards its resharding gave it."""
    validate_stream_name(name)
    if shards is not None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise constraint_error(shards, "shardCount", "Member must have value greater than or equal to 1")
        if shards > MAX_SHARDS_PER_STREAM:
            raise AwsError(
                "LimitExceededException",
                f"This request would exceed the shard limit: {shards} shards requested, "
                f"the limit is {MAX_SHARDS_PER_STREAM}.",  # our wording
            )
    store = context.store
    if store.streams.get_stream(name) is None:
        record = StreamRecord(name, 0, context.clock(), DEFAULT_RETENTION_HOURS)
        store.streams.create_stream(record, uniform_shards(shards or 1))
    return Stream(context, name)


def delete_stream(context: Context, name: str) -> None:
    """DeleteStream: the stream with its records and checkpoints (at once; AWS takes a while).
    ResourceNotFoundException if absent."""
    validate_stream_name(name)
    if not context.store.streams.delete_stream(name):
        raise _stream_not_found(context.account, name)
    context.store.tags.delete_tags(f"arn:aws:kinesis:{context.region}:{context.account}:stream/{name}")


def _stream_not_found(account: str, name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Stream {name} under account {account} not found.")


# What a Stream and its consumers both read, by the stream's name.


def _stream_record(store: Store, account: str, name: str) -> StreamRecord:
    record = store.streams.get_stream(name)
    if record is None:
        raise _stream_not_found(account, name)
    return record


def _stream_shards(store: Store, account: str, name: str) -> tuple[int, list[ShardRecord]]:
    try:
        return store.streams.stream_shards(name)
    except NotFound:
        raise _stream_not_found(account, name) from None


def _retention_cutoff(record: StreamRecord, now: float) -> float:
    """Records that arrived before this instant are past retention."""
    return now - record.retention_hours * 3600.0


def _read_shard(
    store: Store,
    account: str,
    name: str,
    stream_id: int,
    shard: int,
    position: int,
    limit: int,
    not_before: float,
) -> tuple[list[StoredRecord], bool]:
    try:
        return store.streams.read_stream_records(name, stream_id, shard, position, limit, not_before)
    except NotFound:
        raise AwsError(
            "ResourceNotFoundException",
            f"Shard shardId-{shard:012d} in stream {name} under account {account} does not exist",
        ) from None


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _amz_time(seconds: float) -> str:
    """``Thu Jan 22 01:22:02 UTC 2015``, as ExpiredIteratorException words times (kinesalite)."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(seconds))


def _as_bytes(data: object, where: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):  # as boto3 sends a str blob: its UTF-8
        return validation.text(data, where, validation.KINESIS).encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if data is None:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: "
            "Member must not be null",
        )
    raise validation.KINESIS.wrong_type(where, data, "a blob (bytes or str)")


def _buffer_text(size: int) -> str:
    # How AWS shows a blob in a validation error (observed in AWS's answers).
    return f"java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]"


def parse_shard_iterator(iterator: Any) -> tuple[int, int, int, float, str]:
    """A ShardIterator's ``(stream id, shard index, position, issued at, stream name)``;
    InvalidArgumentException "Invalid ShardIterator." for anything GetShardIterator did not
    give (GetRecords names no stream but through its iterator)."""
    try:
        if not isinstance(iterator, str) or not 1 <= len(iterator) <= 512:
            raise ValueError(iterator)
        raw = iterator.encode("ascii")
        if not raw.startswith(_ITERATOR_PREFIX):
            raise ValueError(iterator)
        stream_id, shard, position, issued, name = (
            base64.b64decode(raw[len(_ITERATOR_PREFIX) :], validate=True).decode().split("/", 4)
        )
        return int(stream_id), int(shard), int(position), int(issued) / 1000.0, name
    except (ValueError, UnicodeError, binascii.Error):
        raise AwsError("InvalidArgumentException", "Invalid ShardIterator.") from None


class Stream:
    """One Kinesis stream, a view of the store's state (see the module docstring)."""

    def __init__(self, context: Context, name: str) -> None:
        #: The broker's context (see :mod:`rulebus.context`).
        self.context = context
        self._store = context.store
        self._clock = context.clock
        self._account = context.account
        self.name = name
        self.arn = f"arn:aws:kinesis:{context.region}:{context.account}:stream/{name}"
        self._last_trim = float("-inf")

    def __repr__(self) -> str:
        return f"Stream({self.name!r})"

    # ------------------------------------------------------------------ helpers

    def _record(self) -> StreamRecord:
        return _stream_record(self._store, self._account, self.name)

    def _shards(self) -> tuple[int, list[ShardRecord]]:
        return _stream_shards(self._store, self._account, self.name)

    def _cutoff(self, record: StreamRecord, now: float) -> float:
        return _retention_cutoff(record, now)

    def _maybe_trim(self, record: StreamRecord, now: float) -> None:
        if now - self._last_trim >= TRIM_INTERVAL:
            self._last_trim = now
            try:
                self._store.streams.trim_stream(self.name, self._cutoff(record, now))
            except NotFound:
                raise _stream_not_found(self._account, self.name) from None

    def _shard_not_found(self, shard_id: str) -> AwsError:
        return AwsError(
            "ResourceNotFoundException",
            f"Could not find shard {shard_id} in stream {self.name} under account {self._account}.",
        )

    def _find_shard(self, shards: Sequence[ShardRecord], shard_id: str) -> ShardRecord:
        match = _SHARD_ID.fullmatch(shard_id) if isinstance(shard_id, str) else None
        if match is not None:
            index = int(match.group(1))
            for shard in shards:
                if shard.index == index:
                    return shard
        raise self._shard_not_found(str(shard_id))

    def _visible(self, record: StreamRecord, shards: Iterable[ShardRecord], now: float) -> list[ShardRecord]:
        """The shards AWS lists: closed ones drop out once past retention."""
        cutoff = self._cutoff(record, now)
        return [s for s in shards if s.closed_at is None or s.closed_at >= cutoff]

    # ------------------------------------------------------------------ describe

    @staticmethod
    def _shard_description(shard: ShardRecord) -> dict[str, Any]:
        described: dict[str, Any] = {"ShardId": shard.shard_id}
        if shard.parent is not None:
            described["ParentShardId"] = f"shardId-{shard.parent:012d}"
        if shard.adjacent_parent is not None:
            described["AdjacentParentShardId"] = f"shardId-{shard.adjacent_parent:012d}"
        described["HashKeyRange"] = {
            "StartingHashKey": str(shard.starting_hash_key),
            "EndingHashKey": str(shard.ending_hash_key),
        }
        sequence_range = {"StartingSequenceNumber": str(SEQUENCE_BASE + shard.starting_seq)}
        if shard.ending_seq is not None:
            sequence_range["EndingSequenceNumber"] = str(SEQUENCE_BASE + shard.ending_seq)
        described["SequenceNumberRange"] = sequence_range
        return described

    def describe(self) -> dict[str, Any]:
        """DescribeStream's StreamDescription: every shard, open and closed (closed ones until
        they pass retention), with hash-key and sequence-number ranges."""
        record = self._record()
        now = self._clock()
        self._maybe_trim(record, now)
        _, shards = self._shards()
        return {
            **self._description(),
            "Shards": [self._shard_description(s) for s in self._visible(record, shards, now)],
            "HasMoreShards": False,
            "RetentionPeriodHours": record.retention_hours,
            "StreamCreationTimestamp": _datetime(record.creation_time),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
        }

    def _description(self) -> dict[str, Any]:
        return {
            "StreamName": self.name,
            "StreamARN": self.arn,
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        }

    def describe_summary(self) -> dict[str, Any]:
        """DescribeStreamSummary's StreamDescriptionSummary."""
        record = self._record()
        _, shards = self._shards()
        return {
            **self._description(),
            "RetentionPeriodHours": record.retention_hours,
            "StreamCreationTimestamp": _datetime(record.creation_time),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
            "OpenShardCount": sum(1 for s in shards if s.is_open),
            "ConsumerCount": 0,  # enhanced fan-out consumers; named consumers are not those
            "MaxRecordSizeInKiB": MAX_RECORD_SIZE // 1024,
        }

    # ------------------------------------------------------------------ retention

    def _check_retention(self, hours: int) -> None:
        validation.integer(hours, "retentionPeriodHours", validation.KINESIS)
        if hours < MIN_RETENTION_HOURS:
            raise AwsError(
                "InvalidArgumentException",
                f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. "
                f"Requested retention period ({hours} hours) is too short.",
            )
        if hours > MAX_RETENTION_HOURS:
            raise AwsError(
                "InvalidArgumentException",
                f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. "
                f"Requested retention period ({hours} hours) is too long.",
            )

    def increase_retention_period(self, retention_period_hours: int) -> None:
        """IncreaseStreamRetentionPeriod (24-8,760 h, not below the current period; equal is
        accepted, as kinesalite does). Records already trimmed do not come back."""
        self._check_retention(retention_period_hours)
        record = self._record()
        if retention_period_hours < record.retention_hours:
            raise AwsError(
                "InvalidArgumentException",
                f"Requested retention period ({retention_period_hours} hours) for stream {self.name} "
                f"can not be shorter than existing retention period ({record.retention_hours} hours). "
                "Use DecreaseRetentionPeriod API.",
            )
        self._set_retention(record, retention_period_hours)

    def decrease_retention_period(self, retention_period_hours: int) -> None:
        """DecreaseStreamRetentionPeriod (24-8,760 h, not above the current period)."""
        self._check_retention(retention_period_hours)
        record = self._record()
        if retention_period_hours > record.retention_hours:
            raise AwsError(
                "InvalidArgumentException",
                f"Requested retention period ({retention_period_hours} hours) for stream {self.name} "
                f"can not be longer than existing retention period ({record.retention_hours} hours). "
                "Use IncreaseRetentionPeriod API.",
            )
        self._set_retention(record, retention_period_hours)

    def _set_retention(self, record: StreamRecord, hours: int) -> None:
        if not self._store.streams.update_stream(replace(record, retention_hours=hours)):
            raise _stream_not_found(self._account, self.name)
        self._last_trim = float("-inf")  # a shorter retention applies now

    # ------------------------------------------------------------------ writes

    def put_record(
        self,
        data: bytes | str,
        partition_key: str,
        explicit_hash_key: str | None = None,
        sequence_number_for_ordering: str | None = None,
    ) -> dict[str, str]:
        """PutRecord -> ``{"ShardId", "SequenceNumber", "EncryptionType"}``.

        ``sequence_number_for_ordering`` must be a sequence number this stream gave; the new
        record's is always greater (every sequence number here is greater than all earlier ones,
        so ordering by it is strict already)."""
        blob = _as_bytes(data, "data")
        hash_key = self._hash_key(blob, partition_key, explicit_hash_key, "")
        if sequence_number_for_ordering is not None:
            self._check_ordering(sequence_number_for_ordering)
        first, shards = self._put([hash_key], [blob], [partition_key])
        return {
            "ShardId": f"shardId-{shards[0]:012d}",
            "SequenceNumber": str(SEQUENCE_BASE + first),
            "EncryptionType": "NONE",
        }

    def _check_ordering(self, value: str) -> None:
        if not isinstance(value, str) or not _SEQUENCE_NUMBER.fullmatch(value):
            raise constraint_error(
                value,
                "sequenceNumberForOrdering",
                "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
            )
        try:
            position = self._store.streams.stream_position(self.name)
        except NotFound:
            raise _stream_not_found(self._account, self.name) from None
        if not 0 <= int(value) - SEQUENCE_BASE < position:
            raise AwsError(
                "InvalidArgumentException",
                f"ExclusiveMinimumSequenceNumber {value} used in PutRecord on stream {self.name} "
                f"under account {self._account} is invalid.",  # kinesalite's text
            )

    def _hash_key(self, blob: bytes, partition_key: str, explicit_hash_key: str | None, where: str) -> int:
        """Validate one record (``where``: ``records.N.member.`` in PutRecords) and return its
        hash key."""
        validation.text(partition_key, f"{where}partitionKey", validation.KINESIS)
        if not partition_key:
            raise constraint_error(
                partition_key, f"{where}partitionKey", "Member must have length greater than or equal to 1"
            )
        if len(partition_key) > MAX_PARTITION_KEY_LENGTH:
            raise constraint_error(
                partition_key, f"{where}partitionKey", "Member must have length less than or equal to 256"
            )
        if len(blob) > MAX_RECORD_SIZE:
            raise constraint_error(
                _buffer_text(len(blob)),
                f"{where}data",
                f"Member must have length less than or equal to {MAX_RECORD_SIZE}",
            )
        if len(blob) + len(partition_key.encode("utf-8")) > MAX_RECORD_SIZE:
            raise AwsError(
                "InvalidArgumentException",
                "Record size (data plus partition key) exceeds the maximum record size of "
                f"{MAX_RECORD_SIZE // 1024} KiB.",  # our wording: AWS's text unverified
            )
        if explicit_hash_key is None:
            return _partition_hash(partition_key)
        return self._explicit(explicit_hash_key, where)

    @staticmethod
    def _explicit(explicit_hash_key: str, where: str) -> int:
        if not isinstance(explicit_hash_key, str) or not _HASH_KEY.fullmatch(explicit_hash_key):
            raise constraint_error(
                explicit_hash_key,
                f"{where}explicitHashKey",
                "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
            )
        value = int(explicit_hash_key)
        if value >= HASH_KEY_LIMIT:
            raise AwsError(
                "InvalidArgumentException",
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {explicit_hash_key}",
            )
        return value

    def put_records(self, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """PutRecords: 1-500 entries ``{"Data", "PartitionKey", "ExplicitHashKey"?}``, up to
        10 MiB together (partition keys included) -> ``{"FailedRecordCount", "Records",
        "EncryptionType"}`` with one ``{"ShardId", "SequenceNumber"}`` per entry, in order.
        Validation failures fail the whole request, as on AWS; entries fail one by one
        (``ErrorCode``/``ErrorMessage``) only for throughput, which is not simulated, so
        FailedRecordCount is 0."""
        validation.entries(records, "records", validation.KINESIS, _PUT_RECORDS_ENTRY)
        count = len(records)
        if count < 1:
            raise constraint_error("[]", "records", "Member must have length greater than or equal to 1")
        if count > MAX_PUT_RECORDS:
            raise constraint_error(
                f"[{count} records]", "records", "Member must have length less than or equal to 500"
            )
        cache = _HASH_CACHE
        hash_keys: list[int] = []
        blobs: list[bytes] = []
        keys: list[str] = []
        total = 0
        for number, entry in enumerate(records, 1):
            blob = entry.get("Data")
            key = entry.get("PartitionKey")
            if type(blob) is not bytes:
                blob = _as_bytes(blob, f"records.{number}.member.data")
            # The common case inline (a key hashed before, hence valid and ASCII; no explicit hash
            # key; sizes inside the limits): this loop is the hot path of every put.
            hashed = cache.get(key) if type(key) is str else None
            size = len(blob)
            if hashed is not None and size <= _MAX_DATA_WITH_KEY and "ExplicitHashKey" not in entry:
                hash_keys.append(hashed)
                total += size + len(key)  # type: ignore[arg-type]
            else:
                explicit = entry.get("ExplicitHashKey")
                hash_keys.append(self._hash_key(blob, key, explicit, f"records.{number}.member."))  # type: ignore[arg-type]
                total += size + len(key.encode("utf-8"))  # type: ignore[union-attr]
            blobs.append(blob)
            keys.append(key)  # type: ignore[arg-type]
        if total > MAX_PUT_RECORDS_SIZE:
            raise AwsError(
                "InvalidArgumentException",
                f"Records size exceeds {MAX_PUT_RECORDS_SIZE // (1024 * 1024)} MiB limit",  # our wording
            )
        first, shards = self._put(hash_keys, blobs, keys)
        names = {index: f"shardId-{index:012d}" for index in set(shards)}
        base = SEQUENCE_BASE + first
        return {
            "FailedRecordCount": 0,
            "Records": [
                {"SequenceNumber": str(base + i), "ShardId": names[index]} for i, index in enumerate(shards)
            ],
            "EncryptionType": "NONE",
        }

    def _put(self, hash_keys: list[int], blobs: list[bytes], keys: list[str]) -> tuple[int, list[int]]:
        now = self._clock()
        if now - self._last_trim >= TRIM_INTERVAL:
            self._maybe_trim(self._record(), now)
        try:
            return self._store.streams.put_stream_records(self.name, hash_keys, blobs, keys, now)
        except NotFound:
            raise _stream_not_found(self._account, self.name) from None

    # ------------------------------------------------------------------ reads

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
        record = self._record()
        now = self._clock()
        self._maybe_trim(record, now)
        _, shards = self._shards()
        match = _SHARD_ID.fullmatch(shard_id) if isinstance(shard_id, str) else None
        shard = next((s for s in shards if match is not None and s.index == int(match.group(1))), None)
        if shard is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Shard {shard_id} in stream {self.name} under account {self._account} does not exist",
            )
        position = self._starting_position(
            record, shard, shard_iterator_type, starting_sequence_number, timestamp, now
        )
        return self._iterator(record.stream_id, shard.index, position, now)

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
            if not isinstance(sequence_number, str) or not _SEQUENCE_NUMBER.fullmatch(sequence_number):
                raise constraint_error(
                    sequence_number,
                    "startingSequenceNumber",
                    "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
                )
            value = int(sequence_number) - SEQUENCE_BASE
            end = (
                shard.ending_seq
                if shard.ending_seq is not None
                else self._store.streams.stream_position(self.name)
            )
            if not shard.starting_seq <= value <= end:
                raise AwsError(
                    "InvalidArgumentException",
                    f"StartingSequenceNumber {sequence_number} used in GetShardIterator on shard "
                    f"{shard.shard_id} in stream {self.name} under account {self._account} "
                    "is invalid.",
                )
            return value if kind == "AT_SEQUENCE_NUMBER" else value + 1
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "LATEST":
            return self._store.streams.stream_position(self.name)
        if kind == "AT_TIMESTAMP":
            if timestamp is None:
                raise AwsError(
                    "InvalidArgumentException",
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                    "Current request has no timestamp parameter.",  # unverified text
                )
            seconds = _epoch(timestamp)
            not_before = max(seconds, self._cutoff(record, now))
            rows, _ = self._read(record.stream_id, shard.index, 0, 1, not_before)
            return rows[0][0] if rows else self._store.streams.stream_position(self.name)
        raise AssertionError(kind)  # pragma: no cover - checked above

    def _iterator(self, stream_id: int, shard: int, position: int, now: float) -> str:
        text = f"{stream_id}/{shard}/{position}/{int(now * 1000)}/{self.name}".encode()
        return (_ITERATOR_PREFIX + base64.b64encode(text)).decode("ascii")

    def _parse_iterator(self, iterator: str) -> tuple[int, int, int, float, str]:
        return parse_shard_iterator(iterator)

    def _read(
        self, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        return _read_shard(
            self._store, self._account, self.name, stream_id, shard, position, limit, not_before
        )

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
        stream_id, shard, position, issued, name = self._parse_iterator(shard_iterator)
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
        record = self._store.streams.get_stream(self.name)
        if record is None or record.stream_id != stream_id:
            raise AwsError(
                "ResourceNotFoundException",
                f"Shard shardId-{shard:012d} in stream {self.name} under account "
                f"{self._account} does not exist",
            )
        rows, more = self._read(stream_id, shard, position, limit, self._cutoff(record, now))
        rows, capped = _cap(rows)
        more = more or capped
        records = _records(rows)
        result: dict[str, Any] = {"Records": records}
        next_position = rows[-1][0] + 1 if rows else position
        if not more:
            _, shards = self._shards()
            this = next((s for s in shards if s.index == shard), None)
            if this is None or this.ending_seq is not None:
                result["NextShardIterator"] = None
                result["MillisBehindLatest"] = 0
                result["ChildShards"] = _child_shards(shards, shard)
                return result
        result["NextShardIterator"] = self._iterator(stream_id, shard, next_position, now)
        result["MillisBehindLatest"] = max(0, int((now - rows[-1][1]) * 1000)) if more else 0
        return result

    # ------------------------------------------------------------------ resharding

    def _closed_shard(self, shard: ShardRecord) -> AwsError:
        return AwsError(
            "InvalidArgumentException",
            f"Shard {shard.shard_id} in stream {self.name} under account {self._account} has "
            "already been merged or split, and thus is not eligible for merging or splitting.",
        )

    def split_shard(self, shard_to_split: str, new_starting_hash_key: str) -> None:
        """SplitShard: the parent closes; two children share its hash-key range at
        ``new_starting_hash_key``, each with the parent as ParentShardId."""
        if not isinstance(new_starting_hash_key, str) or not _HASH_KEY.fullmatch(new_starting_hash_key):
            raise constraint_error(
                new_starting_hash_key,
                "newStartingHashKey",
                "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
            )
        key = int(new_starting_hash_key)
        while True:
            version, shards = self._shards()
            shard = self._find_shard(shards, shard_to_split)
            if not shard.is_open:
                raise self._closed_shard(shard)
            # kinesalite's condition and text: strictly inside, and not at StartingHashKey + 1.
            if key <= shard.starting_hash_key + 1 or key >= shard.ending_hash_key:
                raise AwsError(
                    "InvalidArgumentException",
                    f"NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard "
                    f"{shard.shard_id} in stream {self.name} under account {self._account} is not "
                    "both greater than one plus the shard's StartingHashKey "
                    f"{shard.starting_hash_key} and less than the shard's EndingHashKey "
                    f"{shard.ending_hash_key}.",
                )
            if self._split(version, shards, shard, key):
                return

    def _split(self, version: int, shards: Sequence[ShardRecord], shard: ShardRecord, key: int) -> bool:
        index = max(s.index for s in shards) + 1
        children = [
            ShardRecord(index, shard.starting_hash_key, key - 1, 0, parent=shard.index),
            ShardRecord(index + 1, key, shard.ending_hash_key, 0, parent=shard.index),
        ]
        return self._reshard(version, [shard.index], children)

    def _reshard(self, version: int, close: list[int], create: list[ShardRecord]) -> bool:
        try:
            return self._store.streams.reshard(self.name, version, close, create, self._clock())
        except NotFound:
            raise _stream_not_found(self._account, self.name) from None

    def merge_shards(self, shard_to_merge: str, adjacent_shard_to_merge: str) -> None:
        """MergeShards: both shards close; one child covers both ranges, with ``shard_to_merge``
        as ParentShardId and the other as AdjacentParentShardId."""
        while True:
            version, shards = self._shards()
            shard = self._find_shard(shards, shard_to_merge)
            adjacent = self._find_shard(shards, adjacent_shard_to_merge)
            for one in (shard, adjacent):
                if not one.is_open:
                    raise self._closed_shard(one)
            if shard.ending_hash_key + 1 != adjacent.starting_hash_key and (
                adjacent.ending_hash_key + 1 != shard.starting_hash_key
            ):
                raise AwsError(
                    "InvalidArgumentException",
                    f"Shards {shard.shard_id} and {adjacent.shard_id} in stream {self.name} under account "
                    f"{self._account} are not an adjacent pair of shards eligible for merging",
                )
            if self._merge(version, shards, shard, adjacent):
                return

    def _merge(
        self, version: int, shards: Sequence[ShardRecord], shard: ShardRecord, adjacent: ShardRecord
    ) -> bool:
        child = ShardRecord(
            max(s.index for s in shards) + 1,
            min(shard.starting_hash_key, adjacent.starting_hash_key),
            max(shard.ending_hash_key, adjacent.ending_hash_key),
            0,
            parent=shard.index,
            adjacent_parent=adjacent.index,
        )
        return self._reshard(version, [shard.index, adjacent.index], [child])

    def update_shard_count(
        self, target_shard_count: int, scaling_type: str = "UNIFORM_SCALING"
    ) -> dict[str, Any]:
        """UpdateShardCount: reach ``target_shard_count`` open shards of equal ranges by splits
        and merges (each one as SplitShard/MergeShards would do it, so the shard lineage stays
        one a consumer can follow), within AWS's limits: at most double, at least half, at most
        10,000, at most 10 calls per rolling 24 hours."""
        validation.text(scaling_type, "scalingType", validation.KINESIS)
        if scaling_type != "UNIFORM_SCALING":
            raise constraint_error(
                scaling_type, "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]"
            )
        validation.integer(target_shard_count, "targetShardCount", validation.KINESIS)
        if target_shard_count < 1:
            raise constraint_error(
                target_shard_count, "targetShardCount", "Member must have value greater than or equal to 1"
            )
        record = self._record()
        _, shards = self._shards()
        current = sum(1 for s in shards if s.is_open)
        target = target_shard_count
        detail = f"Current open shard count: {current}, Target shard count: {target}"
        # kinesalite's texts.
        if target > MAX_SHARDS_PER_STREAM:
            raise AwsError(
                "LimitExceededException",
                "Target shard count or number of open shards cannot be greater than "
                f"{MAX_SHARDS_PER_STREAM}. {detail}",
            )
        if target > current * 2:
            raise AwsError(
                "LimitExceededException",
                f"UpdateShardCount cannot scale up over double your current open shard count. {detail}",
            )
        if target * 2 < current:
            raise AwsError(
                "LimitExceededException",
                f"UpdateShardCount cannot scale down below half your current open shard count. {detail}",
            )
        now = self._clock()
        recent = tuple(t for t in record.scalings if t > now - 86400.0)
        if len(recent) >= MAX_SCALINGS_PER_DAY:
            raise AwsError(
                "LimitExceededException",
                f"Exceeded the limit of {MAX_SCALINGS_PER_DAY} UpdateShardCount calls in a rolling "
                f"24-hour period for stream {self.name} under account {self._account}.",  # our wording
            )
        self._store.streams.update_stream(replace(record, scalings=(*recent, now)))
        while self._scale_step(target):
            pass
        return {
            "StreamName": self.name,
            "StreamARN": self.arn,
            "CurrentShardCount": current,
            "TargetShardCount": target,
        }

    def _scale_step(self, target: int) -> bool:
        """One split or merge towards ``target`` uniform shards; False when there is none left."""
        version, shards = self._shards()
        opened = sorted((s for s in shards if s.is_open), key=lambda s: s.starting_hash_key)
        width = HASH_KEY_LIMIT // target
        # Target range i is [width*i, width*(i+1)-1]; the last one absorbs the remainder.
        boundaries = [width * i for i in range(1, target)]

        def bucket(key: int) -> int:
            return min(key // width, target - 1)

        for shard in opened:
            inside = [b for b in boundaries if shard.starting_hash_key < b <= shard.ending_hash_key]
            if inside:
                self._split(version, shards, shard, inside[0])
                return True
        for left, right in zip(opened, opened[1:]):
            if bucket(left.starting_hash_key) == bucket(right.starting_hash_key):
                self._merge(version, shards, left, right)
                return True
        return False

    # ------------------------------------------------------------------ consumers

    def consumer(self, name: str, initial_position: str = "TRIM_HORIZON") -> StreamConsumer:
        """A named consumer of every shard (see :class:`StreamConsumer`)."""
        return StreamConsumer(self, name, initial_position)


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


def _entries(rows: Sequence[StoredRecord]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(seq, AWS's record entry) per row. Records put together share an arrival time, so one
    datetime serves a run of them."""
    last_arrival = None
    when = None
    base = SEQUENCE_BASE
    for seq, arrival, data, key in rows:
        if arrival != last_arrival:
            last_arrival, when = arrival, _datetime(arrival)
        yield (
            seq,
            {
                "SequenceNumber": str(base + seq),
                "ApproximateArrivalTimestamp": when,
                "Data": data,
                "PartitionKey": key,
            },
        )


def _records(rows: Sequence[StoredRecord]) -> list[dict[str, Any]]:
    return [entry for _, entry in _entries(rows)]


def _child_shards(shards: Sequence[ShardRecord], parent: int) -> list[dict[str, Any]]:
    children = []
    for shard in shards:
        if parent in (shard.parent, shard.adjacent_parent):
            parents = [p for p in (shard.parent, shard.adjacent_parent) if p is not None]
            children.append(
                {
                    "ShardId": shard.shard_id,
                    "ParentShards": [f"shardId-{p:012d}" for p in parents],
                    "HashKeyRange": {
                        "StartingHashKey": str(shard.starting_hash_key),
                        "EndingHashKey": str(shard.ending_hash_key),
                    },
                }
            )
    return children


class StreamConsumer:
    """A named reader of every shard of a stream, for one process at a time.

    Order: a shard is read only once its parents are read to their end, so records of one
    partition key come in the order they were put, across splits and merges.

    Checkpoints: the position in each shard is kept in the store under the consumer's name, so
    a consumer of that name, in this process or another, later resumes where it left off.
    ``records()`` checkpoints a batch automatically once the caller asks for the record after its
    last one (the batch is then processed), and ``checkpoint()`` stores the position of every
    record yielded so far at once. Nothing is checkpointed on ``close()`` or when the process
    dies: the records yielded since the last checkpoint come again (at-least-once, as the KCL).

    ``initial_position``: where a consumer with no checkpoint in a shard starts, TRIM_HORIZON (the
    oldest record kept) or LATEST (only records put after its first ``records()`` call).
    """

    def __init__(self, stream: Stream, name: str, initial_position: str = "TRIM_HORIZON") -> None:
        # A rulebus consumer, not an AWS API: refused in the style of Kinesis' request model.
        validation.text(name, "consumerName", validation.KINESIS)
        if not name:
            raise constraint_error(name, "consumerName", "Member must have length greater than or equal to 1")
        validation.text(initial_position, "initialPosition", validation.KINESIS)
        if initial_position not in ("TRIM_HORIZON", "LATEST"):
            raise constraint_error(
                initial_position,
                "initialPosition",
                "Member must satisfy enum value set: [TRIM_HORIZON, LATEST]",
            )
        self.stream = stream
        self.name = name
        self.initial_position = initial_position
        #: Records read from the store at a time per shard (GetRecords' maximum by default).
        self.batch_size = MAX_GET_RECORDS
        self._store = stream.context.store
        self._clock = stream.context.clock
        self._account = stream.context.account
        self._closed = False
        self._stream_id: int | None = None
        self._positions: dict[int, int] = {}  # shard -> next sequence number to read
        self._unsaved: dict[int, int] = {}  # positions not yet checkpointed
        self._cursor: tuple[int, int] | None = None  # (shard, seq) of the record yielded last

    def __enter__(self) -> StreamConsumer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End ``records()`` (from any thread: a waiting ``records()`` returns at once). Does not
        checkpoint."""
        self._closed = True
        self._store.streams.wake_streams()

    def checkpoint(self) -> None:
        """Store the position after every record yielded so far."""
        if self._cursor is not None:
            shard, seq = self._cursor
            if self._positions.get(shard, -1) <= seq:
                self._positions[shard] = self._unsaved[shard] = seq + 1
        self._save()

    def _save(self) -> None:
        if self._unsaved and self._stream_id is not None:
            self._store.streams.set_stream_checkpoints(
                self.stream.name, self._stream_id, self.name, self._unsaved
            )
            self._unsaved = {}

    def checkpoints(self) -> dict[str, str | None]:
        """The stored checkpoints: ShardId -> the sequence number of the last record processed
        (``"SHARD_END"`` for a shard read to its end, None when nothing was read in it)."""
        record = _stream_record(self._store, self._account, self.stream.name)
        stored = self._store.streams.stream_checkpoints(self.stream.name, record.stream_id, self.name)
        out: dict[str, str | None] = {}
        for shard, position in sorted(stored.items()):
            if position == SHARD_END:
                out[f"shardId-{shard:012d}"] = "SHARD_END"
            else:
                out[f"shardId-{shard:012d}"] = str(SEQUENCE_BASE + position - 1) if position > 0 else None
        return out

    def _load(self) -> list[ShardRecord]:
        record = _stream_record(self._store, self._account, self.stream.name)
        _, shards = _stream_shards(self._store, self._account, self.stream.name)
        if self._stream_id != record.stream_id:
            self._stream_id = record.stream_id
            self._positions = self._store.streams.stream_checkpoints(
                self.stream.name, record.stream_id, self.name
            )
            self._unsaved = {}
            if self.initial_position == "LATEST":
                latest = self._store.streams.stream_position(self.stream.name)
                for shard in shards:
                    if shard.index not in self._positions:
                        self._positions[shard.index] = SHARD_END if not shard.is_open else latest
        return shards

    def records(
        self, stop_at_end: bool = False, wait_seconds: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record not yet processed, shard by shard (parents before children), as GetRecords
        entries. With ``stop_at_end`` it returns once everything put so far is read; otherwise it
        waits for new records (woken at once by puts in this process, polling with backoff for
        other processes' puts) until ``close()``, or until ``wait_seconds`` pass with nothing
        new."""
        validation.finite_number(wait_seconds, "waitSeconds", validation.KINESIS, required=False)
        stream = self.stream
        name = stream.name
        store = self._store
        clock = self._clock
        account = self._account
        idle_since: float | None = None
        while not self._closed:
            try:
                since = store.streams.stream_position(name)
            except NotFound:
                raise _stream_not_found(account, name) from None
            shards = self._load()
            record = _stream_record(store, account, name)
            cutoff = _retention_cutoff(record, clock())
            present = {shard.index for shard in shards}
            positions = self._positions
            progressed = False
            for shard in shards:
                index = shard.index
                position = positions.get(index, 0)
                if position == SHARD_END:
                    continue
                parents = (shard.parent, shard.adjacent_parent)
                if any(p is not None and p in present and positions.get(p) != SHARD_END for p in parents):
                    continue
                rows, _ = _read_shard(
                    store, account, name, self._stream_id or 0, index, position, self.batch_size, cutoff
                )
                if rows:
                    progressed = True
                    yield from self._yield(index, rows)
                    positions[index] = self._unsaved[index] = rows[-1][0] + 1
                    self._cursor = None
                    self._save()  # the caller asked for more: the batch is processed
                    if self._closed:
                        return
                elif shard.ending_seq is not None:
                    positions[index] = self._unsaved[index] = SHARD_END
                    progressed = True
            if progressed:
                idle_since = None
                continue
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
            timeout = 1.0
            if wait_seconds is not None:
                timeout = min(timeout, idle_since + wait_seconds - now)
            if stop_at_end:
                self._save()
                return
            # A save while waiting waits for another process's lock no longer than what is left
            # of the wait (as an SQS long poll does). Still locked, the positions stay unsaved
            # on this consumer: saved by a later pass, records() call or checkpoint().
            try:
                with store.lock_wait(max(timeout, 0.0)):
                    self._save()
            except StoreLockedError:
                pass
            if timeout <= 0:
                return
            store.streams.wait_stream(name, since, timeout)

    def _yield(self, shard: int, rows: list[StoredRecord]) -> Iterator[dict[str, Any]]:
        for seq, entry in _entries(rows):
            self._cursor = (shard, seq)
            yield entry
