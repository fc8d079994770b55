"""Data records: what PutRecord and PutRecords accept and answer, and how GetRecords shows a
record (Amazon Kinesis Data Streams API Reference, "PutRecord", "PutRecords", "Record").

A record is a data blob and a partition key (with its limits below). Its hash key, the MD5 of
the partition key read as a 128-bit big-endian integer unless an ExplicitHashKey is given, picks
the open shard whose hash-key range holds it (see :mod:`rulebus.kinesis.shards`); the store puts
it there and numbers it (see :mod:`rulebus.kinesis.sequence_numbers`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.kinesis.sequence_numbers import SEQUENCE_BASE, sequence_number, sequence_position
from rulebus.kinesis.shards import HASH_KEY_LIMIT, format_shard_id, hash_key
from rulebus.stores.records import StoredRecord

if TYPE_CHECKING:
    from rulebus.kinesis.state import StreamState
    from rulebus.metrics import Counters
    from rulebus.stores.records import Clock

__all__ = [
    "MAX_PARTITION_KEY_LENGTH",
    "MAX_PUT_RECORDS",
    "MAX_PUT_RECORDS_SIZE",
    "MAX_RECORD_SIZE",
    "RecordPuts",
    "as_blob",
    "partition_hash",
    "record_entries",
    "record_hash_key",
    "utc_datetime",
]

#: Data plus partition key of one record (the stream's default MaxRecordSizeInKiB, 1,024).
MAX_RECORD_SIZE = 1024 * 1024
MAX_PARTITION_KEY_LENGTH = 256
MAX_PUT_RECORDS = 500
#: PutRecords' whole request, partition keys included: 10 MiB in botocore's 2026 model (was 5 MiB).
MAX_PUT_RECORDS_SIZE = 10 * 1024 * 1024
# The members of PutRecordsRequestEntry (botocore's Kinesis model).
_PUT_RECORDS_ENTRY = frozenset(("Data", "ExplicitHashKey", "PartitionKey"))

#: Partition key -> its MD5 as a 128-bit integer, for ASCII keys (whose length is their size in
#: bytes, which ``put_records``' fast path relies on). Producers reuse keys (user ids, device
#: ids), and hashing is a third of a put's own work; bounded by clearing it when full.
_HASH_CACHE: dict[str, int] = {}
_HASH_CACHE_SIZE = 65_536
#: The largest Data that fits MAX_RECORD_SIZE with any valid partition key (at most 256 ASCII
#: characters, the only keys the cache holds).
_MAX_DATA_WITH_KEY = MAX_RECORD_SIZE - MAX_PARTITION_KEY_LENGTH


def partition_hash(partition_key: str) -> int:
    """The hash key of a partition key: its UTF-8's MD5, big-endian (remembered if ASCII)."""
    value = int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")
    if partition_key.isascii():
        if len(_HASH_CACHE) >= _HASH_CACHE_SIZE:
            _HASH_CACHE.clear()
        _HASH_CACHE[partition_key] = value
    return value


def as_blob(data: object, where: str) -> bytes:
    """Data as bytes: bytes-like as is, a str as its UTF-8 (as boto3 sends a str blob)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
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


def record_hash_key(blob: bytes, partition_key: str, explicit_hash_key: str | None, where: str) -> int:
    """Validate one record (``where``: ``records.N.member.`` in PutRecords, empty in PutRecord)
    and return its hash key."""
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
        return partition_hash(partition_key)
    value = hash_key(explicit_hash_key, f"{where}explicitHashKey")
    if value >= HASH_KEY_LIMIT:
        raise AwsError(
            "InvalidArgumentException",
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {explicit_hash_key}",
        )
    return value


def utc_datetime(seconds: float) -> datetime:
    """An epoch instant as the aware UTC datetime boto3 gives for a timestamp."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def record_entries(rows: Sequence[StoredRecord]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, GetRecords' Record) per stored record. Records put together share an arrival
    time, so one datetime serves a run of them."""
    last_arrival = None
    when = None
    base = SEQUENCE_BASE
    for seq, arrival, data, key in rows:
        if arrival != last_arrival:
            last_arrival, when = arrival, utc_datetime(arrival)
        yield (
            seq,
            {
                "SequenceNumber": str(base + seq),
                "ApproximateArrivalTimestamp": when,
                "Data": data,
                "PartitionKey": key,
            },
        )


class RecordPuts:
    """PutRecord and PutRecords: methods of :class:`~rulebus.kinesis.stream.Stream`, which sets
    the attributes below."""

    name: str
    _state: StreamState
    _clock: Clock
    _counters: Counters

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
        blob = as_blob(data, "data")
        hashed = record_hash_key(blob, partition_key, explicit_hash_key, "")
        if sequence_number_for_ordering is not None:
            self._check_ordering(sequence_number_for_ordering)
        first, shards = self._put([hashed], [blob], [partition_key])
        return {
            "ShardId": format_shard_id(shards[0]),
            "SequenceNumber": sequence_number(first),
            "EncryptionType": "NONE",
        }

    def _check_ordering(self, value: str) -> None:
        position = sequence_position(value, "sequenceNumberForOrdering")
        if not 0 <= position < self._state.position():
            raise AwsError(
                "InvalidArgumentException",
                f"ExclusiveMinimumSequenceNumber {value} used in PutRecord on stream {self.name} "
                f"under account {self._state.account} is invalid.",  # kinesalite's text
            )

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
                blob = as_blob(blob, f"records.{number}.member.data")
            # The common case inline (a key hashed before, hence valid and ASCII; no explicit hash
            # key; sizes inside the limits): this loop is the hot path of every put.
            hashed = cache.get(key) if type(key) is str else None
            size = len(blob)
            if hashed is not None and size <= _MAX_DATA_WITH_KEY and "ExplicitHashKey" not in entry:
                hash_keys.append(hashed)
                total += size + len(key)  # type: ignore[arg-type]
            else:
                explicit = entry.get("ExplicitHashKey")
                hash_keys.append(record_hash_key(blob, key, explicit, f"records.{number}.member."))  # type: ignore[arg-type]
                total += size + len(key.encode("utf-8"))  # type: ignore[union-attr]
            blobs.append(blob)
            keys.append(key)  # type: ignore[arg-type]
        if total > MAX_PUT_RECORDS_SIZE:
            raise AwsError(
                "InvalidArgumentException",
                f"Records size exceeds {MAX_PUT_RECORDS_SIZE // (1024 * 1024)} MiB limit",  # our wording
            )
        first, shards = self._put(hash_keys, blobs, keys)
        names = {index: format_shard_id(index) for index in set(shards)}
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
        self._state.trim_if_due(now)
        put = self._state.put(hash_keys, blobs, keys, now)
        self._counters.kinesis_add(self.name, "IncomingRecords", len(blobs))
        return put
