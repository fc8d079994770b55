"""A stream's state in the broker's store, reached by the stream's name.

The shards, records and checkpoints of a stream live in the store (``rulebus.stores``), so every
broker on an SQLite file sees the same stream. :class:`StreamState` is the one place the Kinesis
package calls the store's stream protocol: it turns the store's ``NotFound`` into Kinesis'
ResourceNotFoundException, and it trims records past retention at most once a
:data:`TRIM_INTERVAL` (reads filter expired records out whatever the trimming; Amazon Kinesis Data
Streams Developer Guide, "Change the data retention period").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rulebus._errors import AwsError
from rulebus.stores.base import NotFound
from rulebus.stores.records import ShardRecord, StoredRecord, StreamRecord

if TYPE_CHECKING:
    from rulebus.stores.base import StreamStore

__all__ = [
    "TRIM_INTERVAL",
    "StreamState",
    "retention_cutoff",
    "shard_does_not_exist",
    "stream_not_found",
]

#: Retention trims records physically at most this often (seconds by the broker's clock).
TRIM_INTERVAL = 60.0


def stream_not_found(account: str, name: str) -> AwsError:
    """Any operation on a stream that is not there."""
    return AwsError("ResourceNotFoundException", f"Stream {name} under account {account} not found.")


def shard_does_not_exist(shard_id: str, name: str, account: str) -> AwsError:
    """GetShardIterator's and GetRecords' answer for a shard (or an iterator's stream) not there."""
    return AwsError(
        "ResourceNotFoundException",
        f"Shard {shard_id} in stream {name} under account {account} does not exist",
    )


def retention_cutoff(record: StreamRecord, now: float) -> float:
    """Records that arrived before this instant are past retention."""
    return now - record.retention_hours * 3600.0


class StreamState:
    """The stream named ``name`` in ``streams`` (the store's stream protocol), as one stream
    object sees it: each method is one store step, with AWS's error when the stream is gone."""

    def __init__(self, streams: StreamStore, account: str, name: str) -> None:
        self.streams = streams
        self.account = account
        self.name = name
        self._last_trim = float("-inf")

    def not_found(self) -> AwsError:
        return stream_not_found(self.account, self.name)

    def record(self) -> StreamRecord:
        """The stream's record (retention, scalings, its id)."""
        record = self.streams.get_stream(self.name)
        if record is None:
            raise self.not_found()
        return record

    def update(self, record: StreamRecord) -> None:
        if not self.streams.update_stream(record):
            raise self.not_found()

    def shards(self) -> tuple[int, list[ShardRecord]]:
        """(the shard map's version, every shard, open and closed)."""
        try:
            return self.streams.stream_shards(self.name)
        except NotFound:
            raise self.not_found() from None

    def position(self) -> int:
        """The store's counter: the sequence position the next record put will get."""
        try:
            return self.streams.stream_position(self.name)
        except NotFound:
            raise self.not_found() from None

    def view(self) -> tuple[StreamRecord, int, list[ShardRecord]]:
        """(the stream's record, its position, its shards) in one look of the store."""
        try:
            return self.streams.stream_view(self.name)
        except NotFound:
            raise self.not_found() from None

    def put(
        self, hash_keys: Sequence[int], blobs: Sequence[bytes], keys: Sequence[str], now: float
    ) -> tuple[int, list[int]]:
        """Store records routed by their hash keys -> (the first's position, each one's shard)."""
        try:
            return self.streams.put_stream_records(self.name, hash_keys, blobs, keys, now)
        except NotFound:
            raise self.not_found() from None

    def read(
        self, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        """Up to ``limit`` records of ``shard`` from ``position`` that arrived at or after
        ``not_before`` -> (records, whether more follow)."""
        try:
            return self.streams.read_stream_records(self.name, stream_id, shard, position, limit, not_before)
        except NotFound:
            raise shard_does_not_exist(f"shardId-{shard:012d}", self.name, self.account) from None

    def reshard(self, version: int, close: Sequence[int], create: Sequence[ShardRecord], now: float) -> bool:
        """Close shards and create their children if the shard map is still at ``version``."""
        try:
            return self.streams.reshard(self.name, version, close, create, now)
        except NotFound:
            raise self.not_found() from None

    def trim_if_due(self, now: float, record: StreamRecord | None = None) -> None:
        """Remove the records past retention, unless this object did within TRIM_INTERVAL (the
        stream's record, if not given, is read only when it does: puts check this every time)."""
        if now - self._last_trim >= TRIM_INTERVAL:
            if record is None:
                record = self.record()
            self._last_trim = now
            try:
                self.streams.trim_stream(self.name, retention_cutoff(record, now))
            except NotFound:
                raise self.not_found() from None

    def trim_soon(self) -> None:
        """Make the next ``trim_if_due`` trim (a shorter retention applies at once)."""
        self._last_trim = float("-inf")
