"""What the stores keep for Kinesis streams: streams, their shards, their records and the
checkpoints of named consumers.

Why a module of its own (as ``rulebus.stores.buses``): the stream state is a separate concern with its
own tables, so it lives here as the ``StreamStore`` interface plus one mixin per store kind
(``MemoryStreamStore``, ``SQLiteStreamStore``), which ``MemoryStore`` and ``SQLiteStore`` inherit.
Stream code sees only ``StreamStore``'s methods, never which store it runs on.

Sequence numbers are kept as one integer counter per stream (``seq``): every record, and every
reshard, takes the next value, so they increase per shard, across shards, and from a parent shard
to its children. ``rulebus.kinesis.stream`` turns them into AWS's 56-digit decimal strings. Hash keys are
Python ints (128 bits; TEXT in SQLite, whose integers have 64).
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from rulebus.stores.sqlite_host import SQLiteHost

__all__ = [
    "SHARD_END",
    "MemoryStreamStore",
    "SQLiteStreamStore",
    "ShardRecord",
    "StoredRecord",
    "StreamRecord",
    "StreamStore",
]

#: A checkpoint position past every record: the consumer has read the (closed) shard to its end.
SHARD_END = 1 << 62

#: One stored record: (seq, ApproximateArrivalTimestamp in epoch seconds, Data, PartitionKey).
StoredRecord = tuple[int, float, bytes, str]


@dataclass(frozen=True)
class StreamRecord:
    """One stream. ``stream_id`` is unique for the store's lifetime (a deleted and re-created
    stream gets a new one, so its old iterators and checkpoints never apply to the new one);
    ``scalings`` are the times of the UpdateShardCount calls (AWS allows 10 per rolling 24 h)."""

    name: str
    stream_id: int
    creation_time: float
    retention_hours: int
    scalings: tuple[float, ...] = ()


@dataclass(frozen=True)
class ShardRecord:
    """One shard. ``index`` is the number in its ShardId; ``starting_seq``/``ending_seq`` bound the
    sequence numbers of its records (``ending_seq`` None while the shard is open)."""

    index: int
    starting_hash_key: int
    ending_hash_key: int
    starting_seq: int
    parent: int | None = None
    adjacent_parent: int | None = None
    ending_seq: int | None = None
    closed_at: float | None = None

    @property
    def shard_id(self) -> str:
        return f"shardId-{self.index:012d}"

    @property
    def is_open(self) -> bool:
        return self.ending_seq is None


class StreamStore(ABC):
    """The stream half of the ``Store`` interface. Every method is atomic; on SQLite, every broker
    on the file sees the changes. Methods naming a stream that does not exist raise KeyError."""

    @abstractmethod
    def create_stream(self, record: StreamRecord, shards: Sequence[ShardRecord]) -> tuple[StreamRecord, bool]:
        """Insert the stream with its first shards (``record.stream_id`` is ignored: the store
        assigns it); if a stream of that name exists, change nothing. Return the stored record and
        whether it was created."""

    @abstractmethod
    def get_stream(self, name: str) -> StreamRecord | None:
        """The stream's record, or None."""

    @abstractmethod
    def delete_stream(self, name: str) -> bool:
        """Remove the stream with its shards, records and checkpoints; False if absent."""

    @abstractmethod
    def stream_names(self) -> list[str]:
        """Every stream's name, sorted."""

    @abstractmethod
    def update_stream(self, record: StreamRecord) -> bool:
        """Replace the stream's retention and scalings (by name, only if ``record.stream_id`` is
        still the stored one); False otherwise."""

    @abstractmethod
    def stream_shards(self, name: str) -> tuple[int, list[ShardRecord]]:
        """One consistent snapshot: the stream's shards version (changes with every reshard) and
        every shard, in index order."""

    @abstractmethod
    def reshard(
        self, name: str, version: int, close: Sequence[int], create: Sequence[ShardRecord], now: float
    ) -> bool:
        """Close the open shards ``close`` and add ``create`` (their ``starting_seq`` is filled in
        here, after every record of the closed ones), only if the shards version is still
        ``version`` (compare-and-set: another broker may have resharded meanwhile); whether done."""

    @abstractmethod
    def put_stream_records(
        self,
        name: str,
        hash_keys: Sequence[int],
        data: Sequence[bytes],
        partition_keys: Sequence[str],
        now: float,
    ) -> tuple[int, list[int]]:
        """Append the records, each to the open shard whose hash-key range holds its hash key;
        record i gets sequence number ``first + i``. Return ``(first, shard index per record)``."""

    @abstractmethod
    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        """Up to ``limit`` records of the shard with ``seq >= position`` that arrived at or after
        ``not_before`` (retention), in order, and whether more follow them. KeyError if the stream
        is gone or is no longer the one with ``stream_id``."""

    @abstractmethod
    def stream_position(self, name: str) -> int:
        """The next sequence number the stream will give (what LATEST starts at); it changes with
        every put and reshard, so it doubles as the stream's version for waiting."""

    @abstractmethod
    def trim_stream(self, name: str, not_before: float) -> int:
        """Drop the records that arrived before ``not_before`` and the closed shards that closed
        before it (retention); return how many records went."""

    @abstractmethod
    def stream_checkpoints(self, name: str, stream_id: int, consumer: str) -> dict[int, int]:
        """The consumer's checkpoints: shard index -> the next sequence number to read
        (``SHARD_END`` once the shard is read to its end)."""

    @abstractmethod
    def set_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, int]
    ) -> None:
        """Store these checkpoints of the consumer (other shards' are kept). A stream deleted
        or re-created meanwhile keeps nothing, and this is no error."""

    @abstractmethod
    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        """Block for at most ``timeout`` real seconds, returning early once
        :meth:`stream_position` differs from ``since`` or :meth:`wake_streams` is called.
        Spurious early returns are allowed."""

    @abstractmethod
    def wake_streams(self) -> None:
        """Wake every :meth:`wait_stream` of this store object (a consumer being closed)."""


def _route(starts: Sequence[int], indexes: Sequence[int], hash_keys: Sequence[int]) -> list[int]:
    """The open shard (index) of each hash key; ``starts`` are the open shards' StartingHashKeys,
    sorted, which together cover 0 .. 2^128-1."""
    right = bisect.bisect_right
    return [indexes[right(starts, key) - 1] for key in hash_keys]


def _open_map(shards: Sequence[ShardRecord]) -> tuple[list[int], list[int]]:
    opened = sorted((s.starting_hash_key, s.index) for s in shards if s.ending_seq is None)
    return [start for start, _ in opened], [index for _, index in opened]


# --------------------------------------------------------------------------------------------
# Memory.


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

    def remap(self) -> None:
        self.starts, self.indexes = _open_map(self.shards)


class MemoryStreamStore(StreamStore):
    """The stream state in dictionaries, behind the host store's lock (``MemoryStore._lock``). The
    host's ``__init__`` calls :meth:`_init_stream_state`."""

    _lock: threading.Lock  # created by MemoryStore.__init__

    def _init_stream_state(self) -> None:
        self._streams: dict[str, _MemoryStream] = {}
        self._stream_ids = 0
        # On the host's lock, so a put wakes a waiting consumer at once.
        self._stream_changed = threading.Condition(self._lock)

    def _stream(self, name: str) -> _MemoryStream:
        stream = self._streams.get(name)
        if stream is None:
            raise KeyError(name)
        return stream

    def create_stream(self, record: StreamRecord, shards: Sequence[ShardRecord]) -> tuple[StreamRecord, bool]:
        with self._lock:
            existing = self._streams.get(record.name)
            if existing is not None:
                return existing.record, False
            self._stream_ids += 1
            record = replace(record, stream_id=self._stream_ids)
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
            self._stream_changed.notify_all()
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
            self._stream_changed.notify_all()
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
            shards = _route(stream.starts, stream.indexes, hash_keys)
            first = seq = stream.next_seq
            logs = stream.logs
            for shard, blob, key in zip(shards, data, partition_keys):
                log = logs[shard]
                log.seqs.append(seq)
                log.rows.append((seq, now, blob, key))
                seq += 1
            stream.next_seq = seq
            self._stream_changed.notify_all()
            return first, shards

    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        with self._lock:
            stream = self._stream(name)
            if stream.record.stream_id != stream_id:
                raise KeyError(name)
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
                raise KeyError(name)
            return dict(stream.checkpoints.get(consumer, {}))

    def set_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, int]
    ) -> None:
        with self._lock:
            stream = self._streams.get(name)
            if stream is not None and stream.record.stream_id == stream_id:
                stream.checkpoints.setdefault(consumer, {}).update(positions)

    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        with self._lock:
            stream = self._streams.get(name)
            if stream is not None and stream.next_seq == since:
                self._stream_changed.wait(timeout)

    def wake_streams(self) -> None:
        with self._lock:
            self._stream_changed.notify_all()


# --------------------------------------------------------------------------------------------
# SQLite.

#: The stream tables, created by ``SQLiteStore.__init__`` through ``_init_stream_schema``.
_STREAM_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    stream_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    creation_time REAL NOT NULL,
    retention_hours INTEGER NOT NULL,
    scalings TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    shards_version INTEGER NOT NULL
);
-- Hash keys are decimal TEXT: they take 128 bits.
CREATE TABLE IF NOT EXISTS stream_shards (
    stream_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    starting_hash_key TEXT NOT NULL,
    ending_hash_key TEXT NOT NULL,
    starting_seq INTEGER NOT NULL,
    parent INTEGER,
    adjacent_parent INTEGER,
    ending_seq INTEGER,
    closed_at REAL,
    PRIMARY KEY (stream_id, shard)
);
CREATE TABLE IF NOT EXISTS stream_records (
    stream_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    arrival REAL NOT NULL,
    data BLOB NOT NULL,
    partition_key TEXT NOT NULL,
    PRIMARY KEY (stream_id, shard, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_checkpoints (
    stream_id INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (stream_id, consumer, shard)
) WITHOUT ROWID;
"""

_SHARD_COLUMNS = (
    "shard, starting_hash_key, ending_hash_key, starting_seq, parent, adjacent_parent, ending_seq, closed_at"
)

# Cross-process waits poll the stream's position with this backoff (seconds); waits in the same
# process are also woken at once by a condition variable.
_STREAM_POLL_FIRST = 0.002
_STREAM_POLL_MAX = 0.1


def _shard_from_row(row: Sequence[object]) -> ShardRecord:
    index, start, end, starting_seq, parent, adjacent, ending_seq, closed_at = row
    return ShardRecord(
        int(index),  # type: ignore[call-overload]
        int(str(start)),
        int(str(end)),
        int(starting_seq),  # type: ignore[call-overload]
        parent,  # type: ignore[arg-type]
        adjacent,  # type: ignore[arg-type]
        ending_seq,  # type: ignore[arg-type]
        closed_at,  # type: ignore[arg-type]
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
    return StreamRecord(
        str(name),
        int(stream_id),  # type: ignore[call-overload]
        float(creation_time),  # type: ignore[arg-type]
        int(retention_hours),  # type: ignore[call-overload]
        tuple(json.loads(str(scalings))),
    )


class SQLiteStreamStore(SQLiteHost, StreamStore):
    """The stream state in the host store's SQLite file (``SQLiteStore``): every write is one
    ``BEGIN IMMEDIATE`` transaction of the host's. A put reads the stream's counter and shards
    version inside its transaction, so a reshard by another process can never let a record land
    in a closed shard. The host's ``__init__`` calls :meth:`_init_stream_schema`."""

    def _init_stream_schema(self, connection: sqlite3.Connection) -> None:
        connection.executescript(_STREAM_SCHEMA)  # idempotent
        # Open-shard maps for routing, by (stream_id, shards version): reloaded only on change.
        self._stream_maps: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        self._stream_changed = threading.Condition()

    def _stream_row(self, connection: sqlite3.Connection, name: str) -> tuple[int, int, int]:
        """(stream_id, next_seq, shards_version); KeyError if absent."""
        row = connection.execute(
            "SELECT stream_id, next_seq, shards_version FROM streams WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise KeyError(name)
        return int(row[0]), int(row[1]), int(row[2])

    def _notify_streams(self) -> None:
        with self._stream_changed:
            self._stream_changed.notify_all()

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

    @staticmethod
    def _select_stream(connection: sqlite3.Connection, name: str) -> StreamRecord | None:
        row = connection.execute(
            "SELECT name, stream_id, creation_time, retention_hours, scalings FROM streams WHERE name = ?",
            (name,),
        ).fetchone()
        return _record_from_row(row) if row is not None else None

    def get_stream(self, name: str) -> StreamRecord | None:
        return self._select_stream(self._connection(), name)

    def delete_stream(self, name: str) -> bool:
        with self._transaction() as connection:
            row = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            for table in ("stream_records", "stream_checkpoints", "stream_shards", "streams"):
                connection.execute(f"DELETE FROM {table} WHERE stream_id = ?", (row[0],))
        self._notify_streams()
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

    @staticmethod
    def _shards(connection: sqlite3.Connection, stream_id: int) -> list[ShardRecord]:
        rows = connection.execute(
            f"SELECT {_SHARD_COLUMNS} FROM stream_shards WHERE stream_id = ? ORDER BY shard", (stream_id,)
        ).fetchall()
        return [_shard_from_row(row) for row in rows]

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
        self._notify_streams()
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
            routing = self._stream_maps.get((stream_id, version))
            if routing is None:
                if len(self._stream_maps) > 64:  # versions of the past are never asked again
                    self._stream_maps.clear()
                routing = self._stream_maps[(stream_id, version)] = _open_map(
                    self._shards(connection, stream_id)
                )
            shards = _route(routing[0], routing[1], hash_keys)
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
        self._notify_streams()
        return first, shards

    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        connection = self._connection()
        rows = connection.execute(
            "SELECT seq, arrival, data, partition_key FROM stream_records "
            "WHERE stream_id = ? AND shard = ? AND seq >= ? AND arrival >= ? ORDER BY seq LIMIT ?",
            (stream_id, shard, position, not_before, limit + 1),
        ).fetchall()
        if not rows:
            # Tell "nothing yet" from "the stream is gone (or re-created)".
            stored = connection.execute("SELECT stream_id FROM streams WHERE name = ?", (name,)).fetchone()
            if stored is None or stored[0] != stream_id:
                raise KeyError(name)
        more = len(rows) > limit
        return (rows[:limit] if more else rows), more

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
                raise KeyError(name)
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

    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = _STREAM_POLL_FIRST
        while True:
            try:
                if self.stream_position(name) != since:
                    return
            except KeyError:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self._stream_changed:
                # A put or wake in this process ends the wait at once; other processes' puts are
                # seen by the next poll.
                if self._stream_changed.wait(min(delay, remaining)):
                    return
            delay = min(delay * 2, _STREAM_POLL_MAX)

    def wake_streams(self) -> None:
        self._notify_streams()
