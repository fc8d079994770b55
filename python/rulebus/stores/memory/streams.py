"""The memory store's streams, shards, records and consumer checkpoints."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from rulebus.stores.base import NotFound, StreamStore
from rulebus.stores.leases import lease_shards, release_leases
from rulebus.stores.memory.changes import Changes
from rulebus.stores.records import (
    ShardRecord,
    StoredRecord,
    StreamConsumerRecord,
    StreamLeaseRecord,
    StreamRecord,
)
from rulebus.stores.semantics import open_shard_map, route_to_shards

__all__ = ["MemoryStreamStore"]


@dataclass
class _MemoryShardLog:
    # Parallel lists: ``seqs`` for bisect (``bisect``'s ``key=`` needs Python 3.10).
    seqs: list[int] = field(default_factory=list)
    rows: list[StoredRecord] = field(default_factory=list)


@dataclass
class _MemoryStream:
    record: StreamRecord
    next_seq: int
    shards: list[ShardRecord]
    version: int = 0
    starts: list[int] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    logs: dict[int, _MemoryShardLog] = field(default_factory=dict)
    checkpoints: dict[str, dict[int, int]] = field(default_factory=dict)
    consumers: dict[str, StreamConsumerRecord] = field(default_factory=dict)  # in registration order
    leases: dict[str, dict[int, StreamLeaseRecord]] = field(default_factory=dict)  # by consumer group
    workers: dict[str, dict[str, float]] = field(default_factory=dict)  # group -> worker -> expiry

    def remap(self) -> None:
        self.starts, self.indexes = open_shard_map(self.shards)


class MemoryStreamStore(StreamStore):
    """Streams in dictionaries, every step under the store's one lock."""

    def __init__(self, changes: Changes) -> None:
        self._lock = changes.lock
        self._streams: dict[str, _MemoryStream] = {}
        self._ids = 0
        # On the store's one lock, so a put wakes a waiting consumer at once.
        self._changed = threading.Condition(self._lock)

    def _stream(self, name: str) -> _MemoryStream:
        stream = self._streams.get(name)
        if stream is None:
            raise NotFound("stream", name)
        return stream

    def create_stream(self, record: StreamRecord, shards: Sequence[ShardRecord]) -> tuple[StreamRecord, bool]:
        with self._lock:
            existing = self._streams.get(record.name)
            if existing is not None:
                return existing.record, False
            self._ids += 1
            record = replace(record, stream_id=self._ids)
            stream = _MemoryStream(record, 0, list(shards))
            stream.logs = {shard.index: _MemoryShardLog() for shard in shards}
            stream.remap()
            self._streams[record.name] = stream
            return record, True

    def get_stream(self, name: str) -> StreamRecord | None:
        with self._lock:
            stream = self._streams.get(name)
            return stream.record if stream is not None else None

    def delete_stream(self, name: str) -> bool:
        with self._lock:
            deleted = self._streams.pop(name, None) is not None
            self._changed.notify_all()
            return deleted

    def stream_names(self) -> list[str]:
        with self._lock:
            return sorted(self._streams)

    def update_stream(self, record: StreamRecord) -> bool:
        with self._lock:
            stream = self._streams.get(record.name)
            if stream is None or stream.record.stream_id != record.stream_id:
                return False
            stream.record = record
            return True

    def stream_shards(self, name: str) -> tuple[int, list[ShardRecord]]:
        with self._lock:
            stream = self._stream(name)
            return stream.version, list(stream.shards)

    def reshard(
        self, name: str, version: int, close: Sequence[int], create: Sequence[ShardRecord], now: float
    ) -> bool:
        with self._lock:
            stream = self._stream(name)
            if stream.version != version:
                return False
            ending = stream.next_seq
            closing = set(close)
            stream.shards = [
                replace(s, ending_seq=ending, closed_at=now) if s.index in closing else s
                for s in stream.shards
            ]
            for shard in create:
                stream.shards.append(replace(shard, starting_seq=ending + 1))
                stream.logs[shard.index] = _MemoryShardLog()
            stream.next_seq = ending + 2
            stream.version += 1
            stream.remap()
            self._changed.notify_all()
            return True

    def put_stream_records(
        self,
        name: str,
        hash_keys: Sequence[int],
        data: Sequence[bytes],
        partition_keys: Sequence[str],
        now: float,
    ) -> tuple[int, list[int]]:
        with self._lock:
            stream = self._stream(name)
            shards = route_to_shards(stream.starts, stream.indexes, hash_keys)
            first = seq = stream.next_seq
            logs = stream.logs
            for shard, blob, key in zip(shards, data, partition_keys):
                log = logs[shard]
                log.seqs.append(seq)
                log.rows.append((seq, now, blob, key))
                seq += 1
            stream.next_seq = seq
            self._changed.notify_all()
            return first, shards

    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        with self._lock:
            stream = self._stream(name)
            if stream.record.stream_id != stream_id:
                raise NotFound("stream", name)
            log = stream.logs.get(shard)
            if log is None:
                return [], False
            start = bisect.bisect_left(log.seqs, position)
            rows = log.rows
            # Arrival times only grow along a shard, so expired records are a prefix.
            while start < len(rows) and rows[start][1] < not_before:
                start += 1
            return rows[start : start + limit], start + limit < len(rows)

    def stream_position(self, name: str) -> int:
        with self._lock:
            return self._stream(name).next_seq

    def trim_stream(self, name: str, not_before: float) -> int:
        with self._lock:
            stream = self._stream(name)
            dropped = 0
            for log in stream.logs.values():
                rows = log.rows
                cut = 0
                while cut < len(rows) and rows[cut][1] < not_before:
                    cut += 1
                if cut:
                    del rows[:cut], log.seqs[:cut]
                    dropped += cut
            expired = {s.index for s in stream.shards if s.closed_at is not None and s.closed_at < not_before}
            if expired:
                stream.shards = [s for s in stream.shards if s.index not in expired]
                for index in expired:
                    stream.logs.pop(index, None)
            return dropped

    def stream_checkpoints(self, name: str, stream_id: int, consumer: str) -> dict[int, int]:
        with self._lock:
            stream = self._stream(name)
            if stream.record.stream_id != stream_id:
                raise NotFound("stream", name)
            return dict(stream.checkpoints.get(consumer, {}))

    def set_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, int]
    ) -> None:
        with self._lock:
            stream = self._streams.get(name)
            if stream is not None and stream.record.stream_id == stream_id:
                stream.checkpoints.setdefault(consumer, {}).update(positions)

    def acquire_stream_leases(
        self,
        name: str,
        stream_id: int,
        consumer: str,
        worker: str,
        now: float,
        lease_seconds: float,
        shards: Sequence[int],
    ) -> dict[int, int]:
        with self._lock:
            stream = self._this_stream(name, stream_id)
            leases = stream.leases.setdefault(consumer, {})
            changed, live, held = lease_shards(
                leases, stream.workers.get(consumer, {}), worker, now, now + lease_seconds, shards
            )
            leases.update(changed)
            stream.workers[consumer] = live
            return held

    def release_stream_leases(self, name: str, stream_id: int, consumer: str, worker: str) -> None:
        with self._lock:
            stream = self._streams.get(name)
            if stream is None or stream.record.stream_id != stream_id:
                return
            leases = stream.leases.get(consumer, {})
            leases.update(release_leases(leases, worker))
            stream.workers.get(consumer, {}).pop(worker, None)

    def commit_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, tuple[int, int]]
    ) -> list[int]:
        with self._lock:
            stream = self._streams.get(name)
            if stream is None or stream.record.stream_id != stream_id:
                return []
            leases = stream.leases.get(consumer, {})
            checkpoints = stream.checkpoints.setdefault(consumer, {})
            refused: list[int] = []
            for shard, (token, position) in sorted(positions.items()):
                lease = leases.get(shard)
                if lease is not None and lease.token == token:
                    checkpoints[shard] = position
                else:
                    refused.append(shard)
            return refused

    def stream_group(
        self, name: str, stream_id: int, consumer: str
    ) -> tuple[dict[int, StreamLeaseRecord], dict[str, float]]:
        with self._lock:
            stream = self._this_stream(name, stream_id)
            return dict(stream.leases.get(consumer, {})), dict(stream.workers.get(consumer, {}))

    def _this_stream(self, name: str, stream_id: int) -> _MemoryStream:
        stream = self._stream(name)
        if stream.record.stream_id != stream_id:
            raise NotFound("stream", name)
        return stream

    def register_stream_consumer(
        self, name: str, stream_id: int, consumer: StreamConsumerRecord, limit: int
    ) -> tuple[StreamConsumerRecord, bool] | None:
        with self._lock:
            consumers = self._this_stream(name, stream_id).consumers
            existing = consumers.get(consumer.name)
            if existing is not None:
                return existing, False
            if len(consumers) >= limit:
                return None
            consumers[consumer.name] = consumer
            return consumer, True

    def stream_consumers(self, name: str, stream_id: int) -> list[StreamConsumerRecord]:
        with self._lock:
            return list(self._this_stream(name, stream_id).consumers.values())

    def deregister_stream_consumer(self, name: str, stream_id: int, consumer: str) -> bool:
        with self._lock:
            stream = self._streams.get(name)
            if stream is None or stream.record.stream_id != stream_id:
                return False
            return stream.consumers.pop(consumer, None) is not None

    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        with self._lock:
            stream = self._streams.get(name)
            if stream is not None and stream.next_seq == since:
                self._changed.wait(timeout)

    def wake_streams(self) -> None:
        with self._lock:
            self._changed.notify_all()
