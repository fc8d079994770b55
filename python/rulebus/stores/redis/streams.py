"""The Redis store's Kinesis streams: each shard's records in a Redis stream of chunks, one entry
per put holding that put's records for the shard (``lua/streams.lua`` says the layout), and
every step a Lua script on the stream's own keys. A put is one XADD per shard, a read one XRANGE
per few hundred records, and the records are packed and unpacked here, a chunk at a time. A put
is routed in Python from the shards it last read and stored only if they are still the stream's
(the script compares the shards version; a reshard in between makes it route again). Waiting
consumers block on the store's change notices (XREAD BLOCK)."""

from __future__ import annotations

import json
import struct
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from itertools import accumulate
from typing import Any

from rulebus.stores.base import NotFound, StreamStore
from rulebus.stores.records import (
    ShardRecord,
    StoredRecord,
    StreamConsumerRecord,
    StreamLeaseRecord,
    StreamRecord,
)
from rulebus.stores.redis.connection import Connection, ScriptError
from rulebus.stores.redis.records import from_json, to_json
from rulebus.stores.semantics import open_shard_map, route_to_shards

__all__ = ["RedisStreamStore"]

# A chunk's record count -> the struct of its heads (lua/streams.lua: each record's number after
# the chunk's first, key length and data length); at most 500 of them, a put's records.
_HEADS: dict[int, struct.Struct] = {}

# A wait blocks on the change notices in slices this long, so wake_streams is seen soon.
_WAIT_SLICE = 0.25


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _heads(count: int) -> struct.Struct:
    """The struct of a chunk's heads: ``count`` numbers after the first, key lengths, data lengths."""
    heads = _HEADS.get(count)
    if heads is None:
        heads = _HEADS[count] = struct.Struct(f">{count}I{count}H{count}I")
    return heads


def _chunks(shards: Sequence[int], data: Sequence[bytes], partition_keys: Sequence[str]) -> list[Any]:
    """A put's records as the script's per-shard arguments: index, first and last place in the
    put, count, and the chunk."""
    places: dict[int, list[int]] = {}
    for place, shard in enumerate(shards):
        group = places.get(shard)
        if group is None:
            places[shard] = [place]
        else:
            group.append(place)
    args: list[Any] = []
    for shard, group in places.items():
        first = group[0]
        keys = [partition_keys[place].encode() for place in group]
        blobs = [data[place] for place in group]
        heads = _heads(len(group)).pack(
            *[place - first for place in group], *[len(key) for key in keys], *[len(blob) for blob in blobs]
        )
        chunk = b"".join((heads, *keys, *blobs))
        args += [str(shard), str(first), str(group[-1]), str(len(group)), chunk]
    return args


def _unpack(answer: Sequence[Any], position: int, limit: int) -> tuple[list[StoredRecord], bool]:
    """A read's chunks (id, arrival, count, chunk per chunk) as up to ``limit`` records from
    ``position`` on, and whether more follow."""
    rows: list[StoredRecord] = []
    for i in range(0, len(answer), 4):
        first = int(answer[i].split(b"-", 1)[0])
        arrival = float(answer[i + 1])
        count = int(answer[i + 2])
        chunk: bytes = answer[i + 3]
        heads = _heads(count)
        fields = heads.unpack_from(chunk)
        after = fields[:count]
        # Where each key and each data starts (and where the last ends).
        keys = list(accumulate(fields[count : 2 * count], initial=heads.size))
        blobs = list(accumulate(fields[2 * count :], initial=keys[-1]))
        start = bisect_left(after, position - first)  # the chunk's records before position: skipped
        end = min(count, start + limit - len(rows))
        rows += [
            (first + after[j], arrival, chunk[blobs[j] : blobs[j + 1]], chunk[keys[j] : keys[j + 1]].decode())
            for j in range(start, end)
        ]
        if len(rows) == limit:
            # What follows: the rest of this chunk, or the next chunk (which starts past position).
            return rows, end < count or i + 4 < len(answer)
    return rows, False


class RedisStreamStore(StreamStore):
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._names = connection.key("{rb}:streams")
        self._ids = connection.key("{rb}:stream-ids")
        self._woken = 0
        self._wake_lock = threading.Lock()
        # name -> (shards version, starts, indexes): the routing of the shards last read.
        self._routing: dict[str, tuple[int, list[int], list[int]]] = {}

    def _meta(self, name: str) -> str:
        return self._db.key(f"{{s:{name}}}:meta")

    def _step(self, name: str, *args: Any, raw: bool = False) -> Any:
        try:
            return self._db.run("streams", [self._meta(name)], list(args), raw=raw)
        except ScriptError as error:
            if error.code == "RULEBUS_NOT_FOUND":
                raise NotFound("stream", name) from None
            raise

    def create_stream(self, record: StreamRecord, shards: Sequence[ShardRecord]) -> tuple[StreamRecord, bool]:
        self._db.call("SADD", self._names, record.name)
        record = replace(record, stream_id=int(self._db.call("INCR", self._ids)))
        args: list[str] = ["create", to_json(record), str(record.stream_id)]
        for shard in shards:
            args += [str(shard.index), to_json(shard)]
        answer = self._step(record.name, *args)
        if int(answer[0]):
            return record, True
        return from_json(StreamRecord, answer[1]), False

    def get_stream(self, name: str) -> StreamRecord | None:
        exists, text = self._db.call("HMGET", self._meta(name), "exists", "record")
        return from_json(StreamRecord, text) if exists == "1" else None

    def delete_stream(self, name: str) -> bool:
        deleted = bool(self._step(name, "delete"))
        self._db.call("SREM", self._names, name)
        self._routing.pop(name, None)
        self._db.changed()  # a consumer waiting on it returns
        return deleted

    def stream_names(self) -> list[str]:
        names = sorted(self._db.call("SMEMBERS", self._names))
        flags = self._db.pipelined([("HGET", self._meta(name), "exists") for name in names])
        return [name for name, flag in zip(names, flags) if flag == "1"]

    def update_stream(self, record: StreamRecord) -> bool:
        return bool(self._step(record.name, "update", str(record.stream_id), to_json(record)))

    def stream_shards(self, name: str) -> tuple[int, list[ShardRecord]]:
        answer = self._step(name, "shards")
        shards = sorted((from_json(ShardRecord, text) for text in answer[1:]), key=lambda s: s.index)
        return int(answer[0]), shards

    def reshard(
        self, name: str, version: int, close: Sequence[int], create: Sequence[ShardRecord], now: float
    ) -> bool:
        _, shards = self.stream_shards(name)
        by_index = {shard.index: shard for shard in shards}
        args: list[str] = ["reshard", str(version)]
        for index in close:
            fields = asdict(replace(by_index[index], closed_at=now))
            fields["ending_seq"] = "__END__"  # the script writes the stream's position there
            args += ["close", str(index), json.dumps(fields)]
        for shard in create:
            fields = asdict(shard)
            fields["starting_seq"] = "__START__"
            args += ["create", str(shard.index), json.dumps(fields)]
        done = bool(self._step(name, *args))
        if done:
            self._db.changed()
        return done

    def _route(self, name: str, hash_keys: Sequence[int], fresh: bool) -> tuple[int, list[int]]:
        routing = None if fresh else self._routing.get(name)
        if routing is None:
            version, shards = self.stream_shards(name)
            starts, indexes = open_shard_map(shards)
            routing = self._routing[name] = (version, starts, indexes)
        version, starts, indexes = routing
        return version, route_to_shards(starts, indexes, hash_keys)

    def put_stream_records(
        self,
        name: str,
        hash_keys: Sequence[int],
        data: Sequence[bytes],
        partition_keys: Sequence[str],
        now: float,
    ) -> tuple[int, list[int]]:
        fresh = False
        while True:
            version, shards = self._route(name, hash_keys, fresh)
            args: list[Any] = ["put", str(version), repr(float(now)), str(len(shards))]
            args += _chunks(shards, data, partition_keys)
            try:
                # The change notice goes in the same round trip (spurious if the put is refused).
                first = int(self._db.run("streams", [self._meta(name)], args, announce=True))
            except ScriptError as error:
                if error.code == "RULEBUS_NOT_FOUND":
                    raise NotFound("stream", name) from None
                if error.code != "RULEBUS_STALE" or fresh:
                    raise
                fresh = True  # resharded since the routing was read: read it again, once
                continue
            return first, shards

    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        answer = self._step(
            name,
            "read",
            str(stream_id),
            str(shard),
            str(position),
            str(limit),
            repr(float(not_before)),
            raw=True,
        )
        return _unpack(answer, position, limit)

    def stream_view(self, name: str) -> tuple[StreamRecord, int, list[ShardRecord]]:
        answer = self._step(name, "view")
        shards = sorted((from_json(ShardRecord, text) for text in answer[2:]), key=lambda s: s.index)
        return from_json(StreamRecord, answer[0]), int(answer[1]), shards

    def stream_position(self, name: str) -> int:
        return int(self._step(name, "position"))

    def trim_stream(self, name: str, not_before: float) -> int:
        return int(self._step(name, "trim", repr(float(not_before))))

    def stream_checkpoints(self, name: str, stream_id: int, consumer: str) -> dict[int, int]:
        flat = self._step(name, "checkpoints", str(stream_id), consumer)
        return {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def set_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, int]
    ) -> None:
        if positions:
            args: list[str] = ["set_checkpoints", str(stream_id), consumer]
            for shard, position in positions.items():
                args += [str(shard), str(position)]
            self._db.run("streams", [self._meta(name)], args)

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
        args = [
            "acquire",
            str(stream_id),
            consumer,
            worker,
            repr(float(now)),
            repr(float(now + lease_seconds)),
        ]
        flat = self._step(name, *args, *(str(shard) for shard in shards))
        return {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def release_stream_leases(self, name: str, stream_id: int, consumer: str, worker: str) -> None:
        self._db.run("streams", [self._meta(name)], ["release", str(stream_id), consumer, worker])

    def commit_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, tuple[int, int]]
    ) -> list[int]:
        if not positions:
            return []
        args: list[str] = ["commit", str(stream_id), consumer]
        for shard, (token, position) in sorted(positions.items()):
            args += [str(shard), str(token), str(position)]
        return [int(shard) for shard in self._db.run("streams", [self._meta(name)], args)]

    def stream_group(
        self, name: str, stream_id: int, consumer: str
    ) -> tuple[dict[int, StreamLeaseRecord], dict[str, float]]:
        flat_leases, flat_workers = self._step(name, "group", str(stream_id), consumer)
        leases: dict[int, StreamLeaseRecord] = {}
        for i in range(0, len(flat_leases), 2):
            token, expires_at, owner = _text(flat_leases[i + 1]).split("|", 2)
            shard = int(flat_leases[i])
            leases[shard] = StreamLeaseRecord(shard, owner, float(expires_at), int(token))
        workers = {_text(flat_workers[i]): float(flat_workers[i + 1]) for i in range(0, len(flat_workers), 2)}
        return leases, workers

    def register_stream_consumer(
        self, name: str, stream_id: int, consumer: StreamConsumerRecord, limit: int
    ) -> tuple[StreamConsumerRecord, bool] | None:
        answer = self._step(name, "register", str(stream_id), consumer.name, to_json(consumer), str(limit))
        if not answer:
            return None
        return from_json(StreamConsumerRecord, answer[0]), bool(int(answer[1]))

    def stream_consumers(self, name: str, stream_id: int) -> list[StreamConsumerRecord]:
        return [
            from_json(StreamConsumerRecord, text) for text in self._step(name, "consumers", str(stream_id))
        ]

    def deregister_stream_consumer(self, name: str, stream_id: int, consumer: str) -> bool:
        return bool(self._db.run("streams", [self._meta(name)], ["deregister", str(stream_id), consumer]))

    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        woken = self._woken
        while True:
            # The change stream's version before the look (a change after it ends the wait),
            # and the look, in one round trip.
            version, (exists, position) = self._db.version_and("HMGET", self._meta(name), "exists", "next")
            if exists != "1" or int(position) != since:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._woken != woken:
                return
            self._db.wait(version, min(remaining, _WAIT_SLICE))

    def wake_streams(self) -> None:
        with self._wake_lock:
            self._woken += 1
