"""The SQLite store's streams: rows of ``streams``, ``stream_shards``, ``stream_records``,
``stream_checkpoints`` and the consumer groups' ``stream_leases`` and ``stream_workers``."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from rulebus.stores.base import NotFound, StreamStore
from rulebus.stores.leases import lease_shards, release_leases
from rulebus.stores.records import (
    SHARD_END,
    ShardRecord,
    StoredRecord,
    StreamConsumerRecord,
    StreamLeaseRecord,
    StreamRecord,
)
from rulebus.stores.semantics import open_shard_map, route_to_shards
from rulebus.stores.sqlite.connection import Connections
from rulebus.stores.sqlite.corrupt import DECODE_ERRORS, damaged, integer, number, set_aside_row, text

__all__ = ["SQLiteStreamStore"]

_T = TypeVar("_T")


_SHARD_COLUMNS = (
    "shard, starting_hash_key, ending_hash_key, starting_seq, parent, adjacent_parent, ending_seq, closed_at"
)

# Cross-process waits poll the stream's position with this backoff (seconds); waits in the same
# process are also woken at once by a condition variable.
_STREAM_POLL_FIRST = 0.002
_STREAM_POLL_MAX = 0.1


def _optional(check: Callable[[object, str], _T], value: object, column: str) -> _T | None:
    return None if value is None else check(value, column)


def _shard_from_row(row: Sequence[object]) -> ShardRecord:
    index, start, end, starting_seq, parent, adjacent, ending_seq, closed_at = row
    return ShardRecord(
        integer(index, "shard"),
        int(text(start, "starting_hash_key")),
        int(text(end, "ending_hash_key")),
        integer(starting_seq, "starting_seq"),
        _optional(integer, parent, "parent"),
        _optional(integer, adjacent, "adjacent_parent"),
        _optional(integer, ending_seq, "ending_seq"),
        _optional(number, closed_at, "closed_at"),
    )


def _shard_row(stream_id: int, shard: ShardRecord) -> tuple[object, ...]:
    return (
        stream_id,
        shard.index,
        str(shard.starting_hash_key),
        str(shard.ending_hash_key),
        shard.starting_seq,
        shard.parent,
        shard.adjacent_parent,
        shard.ending_seq,
        shard.closed_at,
    )


def _record_from_row(row: Sequence[object]) -> StreamRecord:
    name, stream_id, creation_time, retention_hours, scalings = row
    decoded = json.loads(text(scalings, "scalings"))
    if not isinstance(decoded, list):
        raise TypeError(f"scalings is JSON {type(decoded).__name__}, not a list")
    return StreamRecord(
        text(name, "name"),
        integer(stream_id, "stream_id"),
        number(creation_time, "creation_time"),
        integer(retention_hours, "retention_hours"),
        tuple(number(when, "scalings") for when in decoded),
    )


def _stored_record(row: Sequence[Any]) -> StoredRecord:
    """A record's row as (seq, arrival, data, partition key); DECODE_ERRORS if it is damaged."""
    seq, arrival, data, partition_key = row
    if not isinstance(data, bytes):
        raise TypeError(f"data is {type(data).__name__}, not a blob")
    return integer(seq, "seq"), number(arrival, "arrival"), data, text(partition_key, "partition_key")


_STREAM_REMEDY = "delete the stream (Broker.delete_stream, which deletes its records too) and create it again"


class SQLiteStreamStore(StreamStore):
    """Streams in the store's SQLite file: every write is one ``BEGIN IMMEDIATE`` transaction. A
    put reads the stream's counter and shards version inside its transaction, so a reshard by
    another process can never let a record land in a closed shard."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction
        self._path = connections.path
        # Open-shard maps for routing, by (stream_id, shards version): reloaded only on change.
        self._maps: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        self._changed = threading.Condition()

    def _stream_row(self, connection: sqlite3.Connection, name: str) -> tuple[int, int, int]:
        """(stream_id, next_seq, shards_version); NotFound if absent."""
        row = connection.execute(
            "SELECT stream_id, next_seq, shards_version FROM streams WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise NotFound("stream", name)
        return int(row[0]), int(row[1]), int(row[2])

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def create_stream(self, record: StreamRecord, shards: Sequence[ShardRecord]) -> tuple[StreamRecord, bool]:
        with self._transaction() as connection:
            existing = self._select_stream(connection, record.name)
            if existing is not None:
                return existing, False
            cursor = connection.execute(
                "INSERT INTO streams "
                "(name, creation_time, retention_hours, scalings, next_seq, shards_version) "
                "VALUES (?, ?, ?, ?, 0, 0)",
                (
                    record.name,
                    record.creation_time,
                    record.retention_hours,
                    json.dumps(list(record.scalings)),
                ),
            )
            stream_id = int(cursor.lastrowid or 0)
            connection.executemany(
                f"INSERT INTO stream_shards (stream_id, {_SHARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_shard_row(stream_id, shard) for shard in shards],
            )
            return replace(record, stream_id=stream_id), True

    def _select_stream(self, connection: sqlite3.Connection, name: str) -> StreamRecord | None:
        row = connection.execute(
            "SELECT name, stream_id, creation_time, retention_hours, scalings FROM streams WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        try:
            return _record_from_row(row)
        except DECODE_ERRORS as error:
            raise damaged(self._path, "streams", f"stream {name!r}", error, _STREAM_REMEDY) from error

    def get_stream(self, name: str) -> StreamRecord | None:
        return self._select_stream(self._connection(), name)

    def delete_stream(self, name: str) -> bool:
        with self._transaction() as connection:
            row = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            for table in (
                "stream_records",
                "stream_checkpoints",
                "stream_leases",
                "stream_workers",
                "stream_consumers",
                "stream_shards",
                "streams",
            ):
                connection.execute(f"DELETE FROM {table} WHERE stream_id = ?", (row[0],))
        self._notify()
        return True

    def stream_names(self) -> list[str]:
        rows = self._connection().execute("SELECT name FROM streams ORDER BY name").fetchall()
        return [row[0] for row in rows]

    def update_stream(self, record: StreamRecord) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE streams SET retention_hours = ?, scalings = ? WHERE name = ? AND stream_id = ?",
                (record.retention_hours, json.dumps(list(record.scalings)), record.name, record.stream_id),
            )
            return bool(cursor.rowcount)

    def stream_shards(self, name: str) -> tuple[int, list[ShardRecord]]:
        with self._transaction("BEGIN") as connection:  # one snapshot: the version and the rows agree
            stream_id, _, version = self._stream_row(connection, name)
            return version, self._shards(connection, stream_id)

    def _shards(self, connection: sqlite3.Connection, stream_id: int) -> list[ShardRecord]:
        """The stream's shards. A shard is part of its stream's hash key space (not a member
        that can be left out): a damaged one makes the stream raise StoreRowCorruptError."""
        rows = connection.execute(
            f"SELECT {_SHARD_COLUMNS} FROM stream_shards WHERE stream_id = ? ORDER BY shard", (stream_id,)
        ).fetchall()
        try:
            return [_shard_from_row(row) for row in rows]
        except DECODE_ERRORS as error:
            named = connection.execute(
                "SELECT name FROM streams WHERE stream_id = ?", (stream_id,)
            ).fetchone()
            stream = f"stream {named[0]!r}" if named is not None else f"stream {stream_id}"
            raise damaged(self._path, "stream_shards", stream, error, _STREAM_REMEDY) from error

    def reshard(
        self, name: str, version: int, close: Sequence[int], create: Sequence[ShardRecord], now: float
    ) -> bool:
        with self._transaction() as connection:
            stream_id, ending, stored_version = self._stream_row(connection, name)
            if stored_version != version:
                return False
            connection.executemany(
                "UPDATE stream_shards SET ending_seq = ?, closed_at = ? WHERE stream_id = ? AND shard = ?",
                [(ending, now, stream_id, index) for index in close],
            )
            connection.executemany(
                f"INSERT INTO stream_shards (stream_id, {_SHARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_shard_row(stream_id, replace(shard, starting_seq=ending + 1)) for shard in create],
            )
            connection.execute(
                "UPDATE streams SET next_seq = ?, shards_version = ? WHERE stream_id = ?",
                (ending + 2, version + 1, stream_id),
            )
        self._notify()
        return True

    def put_stream_records(
        self,
        name: str,
        hash_keys: Sequence[int],
        data: Sequence[bytes],
        partition_keys: Sequence[str],
        now: float,
    ) -> tuple[int, list[int]]:
        with self._transaction() as connection:
            stream_id, first, version = self._stream_row(connection, name)
            routing = self._maps.get((stream_id, version))
            if routing is None:
                if len(self._maps) > 64:  # versions of the past are never asked again
                    self._maps.clear()
                routing = self._maps[(stream_id, version)] = open_shard_map(
                    self._shards(connection, stream_id)
                )
            shards = route_to_shards(routing[0], routing[1], hash_keys)
            connection.executemany(
                "INSERT INTO stream_records (stream_id, shard, seq, arrival, data, partition_key) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                zip(
                    [stream_id] * len(shards),
                    shards,
                    range(first, first + len(shards)),
                    [now] * len(shards),
                    data,
                    partition_keys,
                ),
            )
            connection.execute(
                "UPDATE streams SET next_seq = ? WHERE stream_id = ?", (first + len(shards), stream_id)
            )
        self._notify()
        return first, shards

    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        connection = self._connection()
        rows = self._records(connection, stream_id, shard, position, not_before, limit + 1)
        if rows is None:  # one damaged: set aside, in a write transaction, then read again
            with self._transaction() as connection:
                rows = self._records(connection, stream_id, shard, position, not_before, limit + 1, name)
            assert rows is not None
        if not rows:
            # Tell "nothing yet" from "the stream is gone (or re-created)".
            stored = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if stored is None or stored[0] != stream_id:
                raise NotFound("stream", name)
        more = len(rows) > limit
        return (rows[:limit] if more else rows), more

    @staticmethod
    def _records(
        connection: sqlite3.Connection,
        stream_id: int,
        shard: int,
        position: int,
        not_before: float,
        limit: int,
        set_aside_for: str | None = None,
    ) -> list[StoredRecord] | None:
        """A shard's records from ``position``; None if one cannot be decoded, unless
        ``set_aside_for`` (the stream's name, inside a write transaction): then damaged ones are
        set aside and the rest returned."""
        rows = connection.execute(
            "SELECT seq, arrival, data, partition_key FROM stream_records "
            "WHERE stream_id = ? AND shard = ? AND seq >= ? AND arrival >= ? ORDER BY seq LIMIT ?",
            (stream_id, shard, position, not_before, limit),
        ).fetchall()
        records: list[StoredRecord] = []
        for row in rows:
            # The usual row is a record as it is: checked inline, without a call per column (a
            # read takes thousands); anything else gets the checks that name what is wrong.
            seq, arrival, data, key = row
            if type(seq) is int and type(arrival) is float and type(data) is bytes and type(key) is str:
                records.append(row)
                continue
            try:
                records.append(_stored_record(row))
            except DECODE_ERRORS as error:
                if set_aside_for is None:
                    return None
                where = "stream_id = ? AND shard = ? AND seq = ?"
                key = f"{shard}/{row[0]}"
                set_aside_row(
                    connection, "stream_records", where, (stream_id, shard, row[0]), set_aside_for, key, error
                )
        if set_aside_for is not None and len(rows) == limit and len(records) < limit:
            # Fill the page with what follows the rows set aside.
            more = SQLiteStreamStore._records(
                connection, stream_id, shard, rows[-1][0] + 1, not_before, limit - len(records), set_aside_for
            )
            records.extend(more or [])
        return records

    def stream_position(self, name: str) -> int:
        return self._stream_row(self._connection(), name)[1]

    def trim_stream(self, name: str, not_before: float) -> int:
        with self._transaction() as connection:
            stream_id, _, version = self._stream_row(connection, name)
            dropped = 0
            for shard in self._shards(connection, stream_id):
                # Arrival times only grow along a shard: find the first kept record by index order.
                kept = connection.execute(
                    "SELECT seq FROM stream_records WHERE stream_id = ? AND shard = ? AND arrival >= ? "
                    "ORDER BY seq LIMIT 1",
                    (stream_id, shard.index, not_before),
                ).fetchone()
                limit = kept[0] if kept is not None else SHARD_END
                dropped += connection.execute(
                    "DELETE FROM stream_records WHERE stream_id = ? AND shard = ? AND seq < ?",
                    (stream_id, shard.index, limit),
                ).rowcount
            if connection.execute(
                "DELETE FROM stream_shards WHERE stream_id = ? AND closed_at < ?", (stream_id, not_before)
            ).rowcount:
                connection.execute(
                    "UPDATE streams SET shards_version = ? WHERE stream_id = ?", (version + 1, stream_id)
                )
            return dropped

    def stream_checkpoints(self, name: str, stream_id: int, consumer: str) -> dict[int, int]:
        with self._transaction("BEGIN") as connection:
            if self._stream_row(connection, name)[0] != stream_id:
                raise NotFound("stream", name)
            rows = connection.execute(
                "SELECT shard, position FROM stream_checkpoints WHERE stream_id = ? AND consumer = ?",
                (stream_id, consumer),
            ).fetchall()
            return {int(shard): int(position) for shard, position in rows}

    def set_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, int]
    ) -> None:
        with self._transaction() as connection:
            row = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if row is None or row[0] != stream_id:
                return
            connection.executemany(
                "INSERT OR REPLACE INTO stream_checkpoints (stream_id, consumer, shard, position) "
                "VALUES (?, ?, ?, ?)",
                [(stream_id, consumer, shard, position) for shard, position in positions.items()],
            )

    def _group(
        self, connection: sqlite3.Connection, stream_id: int, consumer: str
    ) -> tuple[dict[int, StreamLeaseRecord], dict[str, float]]:
        leases = {
            int(shard): StreamLeaseRecord(int(shard), str(owner), float(expires_at), int(token))
            for shard, owner, expires_at, token in connection.execute(
                "SELECT shard, owner, expires_at, token FROM stream_leases "
                "WHERE stream_id = ? AND consumer = ?",
                (stream_id, consumer),
            )
        }
        workers = {
            str(worker): float(expires_at)
            for worker, expires_at in connection.execute(
                "SELECT worker, expires_at FROM stream_workers WHERE stream_id = ? AND consumer = ?",
                (stream_id, consumer),
            )
        }
        return leases, workers

    def _write_leases(
        self,
        connection: sqlite3.Connection,
        stream_id: int,
        consumer: str,
        leases: Mapping[int, StreamLeaseRecord],
    ) -> None:
        connection.executemany(
            "INSERT OR REPLACE INTO stream_leases (stream_id, consumer, shard, owner, expires_at, token) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(stream_id, consumer, s.shard, s.owner, s.expires_at, s.token) for s in leases.values()],
        )

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
        with self._transaction() as connection:
            if self._stream_row(connection, name)[0] != stream_id:
                raise NotFound("stream", name)
            leases, workers = self._group(connection, stream_id, consumer)
            changed, live, held = lease_shards(leases, workers, worker, now, now + lease_seconds, shards)
            self._write_leases(connection, stream_id, consumer, changed)
            connection.execute(
                "DELETE FROM stream_workers WHERE stream_id = ? AND consumer = ?", (stream_id, consumer)
            )
            connection.executemany(
                "INSERT INTO stream_workers (stream_id, consumer, worker, expires_at) VALUES (?, ?, ?, ?)",
                [(stream_id, consumer, name_, until) for name_, until in live.items()],
            )
            return held

    def release_stream_leases(self, name: str, stream_id: int, consumer: str, worker: str) -> None:
        with self._transaction() as connection:
            row = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if row is None or row[0] != stream_id:
                return
            leases, _ = self._group(connection, stream_id, consumer)
            self._write_leases(connection, stream_id, consumer, release_leases(leases, worker))
            connection.execute(
                "DELETE FROM stream_workers WHERE stream_id = ? AND consumer = ? AND worker = ?",
                (stream_id, consumer, worker),
            )

    def commit_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, tuple[int, int]]
    ) -> list[int]:
        with self._transaction() as connection:
            row = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if row is None or row[0] != stream_id:
                return []
            refused: list[int] = []
            for shard, (token, position) in sorted(positions.items()):
                written = connection.execute(
                    "INSERT OR REPLACE INTO stream_checkpoints (stream_id, consumer, shard, position) "
                    "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM stream_leases WHERE stream_id = ? "
                    "AND consumer = ? AND shard = ? AND token = ?)",
                    (stream_id, consumer, shard, position, stream_id, consumer, shard, token),
                ).rowcount
                if not written:
                    refused.append(shard)
            return refused

    def stream_group(
        self, name: str, stream_id: int, consumer: str
    ) -> tuple[dict[int, StreamLeaseRecord], dict[str, float]]:
        with self._transaction("BEGIN") as connection:
            if self._stream_row(connection, name)[0] != stream_id:
                raise NotFound("stream", name)
            return self._group(connection, stream_id, consumer)

    def register_stream_consumer(
        self, name: str, stream_id: int, consumer: StreamConsumerRecord, limit: int
    ) -> tuple[StreamConsumerRecord, bool] | None:
        with self._transaction() as connection:
            if self._stream_row(connection, name)[0] != stream_id:
                raise NotFound("stream", name)
            row = connection.execute(
                "SELECT creation_time FROM stream_consumers WHERE stream_id = ? AND name = ?",
                (stream_id, consumer.name),
            ).fetchone()
            if row is not None:
                return StreamConsumerRecord(consumer.name, float(row[0])), False
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM stream_consumers WHERE stream_id = ?", (stream_id,)
            ).fetchone()
            if count >= limit:
                return None
            connection.execute(
                "INSERT INTO stream_consumers (stream_id, name, creation_time) VALUES (?, ?, ?)",
                (stream_id, consumer.name, consumer.creation_time),
            )
            return consumer, True

    def stream_consumers(self, name: str, stream_id: int) -> list[StreamConsumerRecord]:
        with self._transaction("BEGIN") as connection:
            if self._stream_row(connection, name)[0] != stream_id:
                raise NotFound("stream", name)
            rows = connection.execute(
                "SELECT name, creation_time FROM stream_consumers WHERE stream_id = ? "
                "ORDER BY creation_time, name",
                (stream_id,),
            ).fetchall()
        return [StreamConsumerRecord(str(row[0]), float(row[1])) for row in rows]

    def deregister_stream_consumer(self, name: str, stream_id: int, consumer: str) -> bool:
        with self._transaction() as connection:
            row = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if row is None or row[0] != stream_id:
                return False
            return (
                connection.execute(
                    "DELETE FROM stream_consumers WHERE stream_id = ? AND name = ?", (stream_id, consumer)
                ).rowcount
                > 0
            )

    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = _STREAM_POLL_FIRST
        while True:
            try:
                if self.stream_position(name) != since:
                    return
            except NotFound:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self._changed:
                # A put or wake in this process ends the wait at once; other processes' puts are
                # seen by the next poll.
                if self._changed.wait(min(delay, remaining)):
                    return
            delay = min(delay * 2, _STREAM_POLL_MAX)

    def wake_streams(self) -> None:
        self._notify()
