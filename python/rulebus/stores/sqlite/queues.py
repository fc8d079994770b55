"""The SQLite store's queues: rows of ``queues``, ``messages``, ``deduplication``,
``receive_attempts``, ``deleted_queues``, ``move_tasks``, ``fifo_groups`` and ``queue_counts``,
each step one transaction.

What keeps each step's cost flat in what a queue holds (issue 12; benches/compare_scaling.py):

- a message row is filed visible (``promoted = 1``, walked in send order) or hidden (by
  ``visible_at``), and each receive first promotes the hidden rows that came due: a standard
  receive reads the first visible rows however many are in flight or delayed;
- a FIFO queue's groups are rows of ``fifo_groups``, filed ready or waiting
  (:class:`~rulebus.stores.semantics.FifoGroups`): a receive reads the groups it takes from,
  not the backlog;
- ``queue_counts`` holds each queue's rows, hidden rows and hidden received rows, changed in the
  same transactions as the rows: GetQueueAttributes and the in-flight limit read them (exact
  while the broker's clock only moves forward; AWS's counts are approximate, and after the
  clock went back these may be until it catches up) instead of counting rows;
- deduplication ids and receive attempts expire by index ranges (what lapsed, not what is kept).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, fields, replace
from typing import Any

from rulebus._core import StoredMessage
from rulebus._errors import AwsError, StoreRowCorruptError
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores.base import NotFound, QueueStore, RecentlyDeleted
from rulebus.stores.codec import decode_message_attributes, encode_message_attributes
from rulebus.stores.receipts import make_receipt_handle, sequence_number
from rulebus.stores.records import (
    ACTIVE_MOVE_TASK_STATUSES,
    RECEIVE_ATTEMPT_WINDOW,
    ChangeVisibilityResult,
    DeleteResult,
    InFlightLimitReached,
    MoveTaskRecord,
    QueueCounts,
    QueueRecord,
    ReceivedMessage,
)
from rulebus.stores.semantics import (
    AttemptEntry,
    attempt_entries,
    dead_letter_name,
    expiry_cutoff,
    fifo_candidates,
    fifo_refile,
    move_budget,
    purge_allowed,
    put_fifo,
    queue_name_from_arn,
    receive_or_replay,
    settle_cancelling,
    source_missing,
    step_moves,
    take_for_receive,
    usable_target,
    visibility_change,
)
from rulebus.stores.sqlite.connection import Connections
from rulebus.stores.sqlite.corrupt import (
    DECODE_ERRORS,
    damaged,
    integer,
    json_object,
    logger,
    number,
    set_aside,
    text,
)

__all__ = ["SQLiteQueueStore"]

_MESSAGE_COLUMNS = (
    "message_id, body, md5_of_body, message_attributes, md5_of_message_attributes, sender_id, "
    "sent_timestamp, visible_at, receive_count, first_receive_timestamp, last_receive_timestamp, "
    "message_group_id, message_deduplication_id, sequence_number, dead_letter_source_arn, aws_trace_header"
)

# DELETE ... RETURNING (SQLite 3.35): a batch delete learns what it deleted in one statement.
_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)


def _message_from_row(row: Sequence[Any]) -> StoredMessage:
    """The message of a row's _MESSAGE_COLUMNS, which are StoredMessage's fields in order."""
    attributes = row[3]
    decoded = {} if attributes == "{}" else decode_message_attributes(attributes)
    return StoredMessage(row[0], row[1], row[2], decoded, *row[4:16])


def _decoded(
    connection: sqlite3.Connection, seq: int, row: Sequence[Any], now: float
) -> StoredMessage | None:
    """The message of row ``seq`` (its _MESSAGE_COLUMNS ``row``), or None if it cannot be decoded:
    then it is set aside (see :mod:`rulebus.stores.sqlite.corrupt`), so that it fails alone, and
    counted out of its queue."""
    try:
        return _message_from_row(row)
    except DECODE_ERRORS as error:
        filed = connection.execute(
            "SELECT queue, promoted, receive_count FROM messages WHERE seq = ?", (seq,)
        ).fetchone()
        set_aside(connection, seq, error, now)
        if filed is not None and isinstance(filed[0], str):
            _count_removed(connection, filed[0], [filed])
        return None


def _message_row(queue: str, m: StoredMessage, now: float) -> tuple[Any, ...]:
    """The row of a message arriving at ``now``: filed visible (promoted) if it is visible then."""
    return (
        queue,
        m.message_id,
        m.body,
        m.md5_of_body,
        encode_message_attributes(m.message_attributes),
        m.md5_of_message_attributes,
        m.sender_id,
        m.sent_timestamp,
        m.visible_at,
        m.receive_count,
        m.first_receive_timestamp,
        m.last_receive_timestamp,
        m.message_group_id,
        m.message_deduplication_id,
        m.sequence_number,
        m.dead_letter_source_arn,
        m.aws_trace_header,
        int(m.visible_at <= now),
    )


# A move task is flat, so its row is its fields in order (the table names its columns the same).
_MOVE_TASK_COLUMNS = ", ".join(f.name for f in fields(MoveTaskRecord))


def _move_task_from_row(row: Sequence[Any]) -> MoveTaskRecord:
    return MoveTaskRecord(*row)


_INSERT_MESSAGE = f"INSERT INTO messages (queue, {_MESSAGE_COLUMNS}, promoted) VALUES ({', '.join('?' * 18)})"

# The first receivable messages of a queue after a seq, in send order: the rows filed visible
# (promoted), walked on messages_receivable, so hidden rows cost nothing. ``+visible_at`` only
# re-checks (a row filed visible before the clock went back), without leaving the index.
_RECEIVABLE = (
    f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages "
    "WHERE queue = ? AND promoted = 1 AND seq > ? AND +visible_at <= ? AND +sent_timestamp > ? "
    "ORDER BY seq LIMIT ?"
)
# Standard receives delete expired rows (which they skip anyway) at most this often per queue,
# in seconds of the broker's clock.
_EXPIRY_INTERVAL = 1.0


# (queue name, attributes JSON) -> the parsed attributes. Stored attributes were validated when
# set, and a QueueAttributes is immutable, so one parse per distinct text serves every read
# (a queue's record is read on each send, receive and delete).
_PARSED_ATTRIBUTES: dict[tuple[str, str], QueueAttributes] = {}
_PARSED_ATTRIBUTES_MAX = 1024


def _record_from_row(row: Sequence[Any]) -> QueueRecord:
    """The queue's record; DECODE_ERRORS (or AwsError: an attribute value SQS refuses) if its
    row cannot be decoded."""
    key = (row[0], row[1])
    attributes = _PARSED_ATTRIBUTES.get(key)
    if attributes is None:
        attributes = QueueAttributes.from_aws(row[0], json_object(row[1], "attributes"))
        if len(_PARSED_ATTRIBUTES) >= _PARSED_ATTRIBUTES_MAX:
            _PARSED_ATTRIBUTES.clear()
        _PARSED_ATTRIBUTES[key] = attributes
    purged = row[4]
    return QueueRecord(
        name=row[0],
        attributes=attributes,
        created_timestamp=number(row[2], "created_timestamp"),
        last_modified_timestamp=number(row[3], "last_modified_timestamp"),
        last_purge_timestamp=None if purged is None else number(purged, "last_purge_timestamp"),
    )


def _remembered_attempt(
    queue: str, attempt: str, row: Sequence[Any]
) -> tuple[float, list[AttemptEntry]] | None:
    """A receive attempt's row as (when, entries); None, with a warning, if it cannot be decoded:
    the retry is then a new receive (and replaces the row), and what the damaged attempt had
    received becomes visible again when its visibility timeout ends, so nothing is lost."""
    try:
        entries: list[AttemptEntry] = []
        for entry in json.loads(text(row[1], "entries")):
            message_id, handle, visible_at, count = entry
            entries.append(
                (
                    text(message_id, "entries"),
                    text(handle, "entries"),
                    number(visible_at, "entries"),
                    integer(count, "entries"),
                )
            )
        return number(row[0], "received_at"), entries
    except DECODE_ERRORS as error:
        logger.warning(
            "receive attempt %r of queue %r cannot be decoded (%s: %s): received anew",
            attempt,
            queue,
            type(error).__name__,
            error,
        )
        return None


def _count(connection: sqlite3.Connection, queue: str, messages: int, hidden: int, in_flight: int) -> None:
    """Change the queue's counts (``queue_counts``) by these, inside the caller's transaction."""
    if messages or hidden or in_flight:
        connection.execute(
            "UPDATE queue_counts SET messages = messages + ?, hidden = hidden + ?, "
            "in_flight = in_flight + ? WHERE queue = ?",
            (messages, hidden, in_flight, queue),
        )


def _count_removed(connection: sqlite3.Connection, queue: str, rows: Iterable[Sequence[Any]]) -> None:
    """Count out removed rows, given as ``(..., promoted, receive_count)``."""
    messages = hidden = in_flight = 0
    for row in rows:
        messages += 1
        if not row[-2]:
            hidden += 1
            in_flight += row[-1] > 0
    _count(connection, queue, -messages, -hidden, -in_flight)


def _delete_returning(
    connection: sqlite3.Connection, where: str, parameters: Sequence[Any], columns: str
) -> list[Any]:
    """DELETE FROM messages WHERE ``where``, returning ``columns`` of the deleted rows (with
    RETURNING where SQLite has it, else read first)."""
    if _RETURNING:
        return connection.execute(
            f"DELETE FROM messages WHERE {where} RETURNING {columns}", parameters
        ).fetchall()
    rows = connection.execute(f"SELECT {columns} FROM messages WHERE {where}", parameters).fetchall()
    connection.execute(f"DELETE FROM messages WHERE {where}", parameters)
    return rows


def _expire(connection: sqlite3.Connection, queue: str, cutoff: float) -> None:
    """Delete the rows past the retention period (an index range: what expired since last time)."""
    rows = _delete_returning(
        connection, "queue = ? AND sent_timestamp <= ?", (queue, cutoff), "promoted, receive_count"
    )
    _count_removed(connection, queue, rows)


def _promote(connection: sqlite3.Connection, queue: str, now: float) -> int:
    """File as visible the hidden rows whose time has come (a range of messages_hidden). Every
    receive does this first, so the rows it takes, all visible, are filed visible. Returns how
    many of them had been received (in flight until now)."""
    due = "queue = ? AND promoted = 0 AND visible_at <= ?"
    if _RETURNING:
        rows = connection.execute(
            f"UPDATE messages SET promoted = 1 WHERE {due} RETURNING receive_count > 0", (queue, now)
        ).fetchall()
        received = sum(row[0] for row in rows)
        promoted = len(rows)
    else:
        received = connection.execute(
            f"UPDATE messages SET promoted = 1 WHERE {due} AND receive_count > 0", (queue, now)
        ).rowcount
        promoted = (
            received
            + connection.execute(f"UPDATE messages SET promoted = 1 WHERE {due}", (queue, now)).rowcount
        )
    _count(connection, queue, 0, -promoted, -received)
    return int(received)


def _promote_counted(connection: sqlite3.Connection, queue: str, now: float) -> int:
    """``_promote``, skipped when the queue's counts say no row is filed hidden (a drained or
    all-visible queue, the usual state of a busy one); returns the messages in flight after it."""
    row = connection.execute(
        "SELECT hidden, in_flight FROM queue_counts WHERE queue = ?", (queue,)
    ).fetchone()
    if row is None:  # no counts row: a damaged file; promote all the same, count nothing in flight
        _promote(connection, queue, now)
        return 0
    hidden, in_flight = row
    if not hidden:
        return int(in_flight)
    return int(in_flight) - _promote(connection, queue, now)


def _insert_fifo(
    connection: sqlite3.Connection, queue: str, message: StoredMessage, now: float
) -> StoredMessage:
    """Insert and number: the row's AUTOINCREMENT key only grows, so it orders sequence numbers.
    A group seen for the first time is filed ready under the message (one already filed keeps its
    filing: a message behind others changes nothing)."""
    row = _message_row(queue, message, now)
    cursor = connection.execute(_INSERT_MESSAGE, row)
    assert cursor.lastrowid is not None
    _count(connection, queue, 1, 1 - row[-1], 0)
    message = message.replace(sequence_number=sequence_number(cursor.lastrowid))
    connection.execute(
        "UPDATE messages SET sequence_number = ? WHERE seq = ?",
        (message.sequence_number, cursor.lastrowid),
    )
    connection.execute(
        "INSERT OR IGNORE INTO fifo_groups (queue, group_id, head_seq) VALUES (?, ?, ?)",
        (queue, message.message_group_id, cursor.lastrowid),
    )
    return message


def _touch_groups(connection: sqlite3.Connection, queue: str, groups: Iterable[str | None]) -> None:
    """Something may have made these groups servable sooner: file them ready, to be checked."""
    touched = [(queue, group) for group in set(groups) if group is not None]
    if touched:  # (none on a standard queue)
        connection.executemany(
            "UPDATE fifo_groups SET wake_at = NULL WHERE queue = ? AND group_id = ? AND wake_at IS NOT NULL",
            touched,
        )


class _SQLiteFifoGroups:
    """A FIFO queue's groups as rows of ``fifo_groups`` (see
    :class:`~rulebus.stores.semantics.FifoGroups`), inside the caller's transaction."""

    _CHUNK = 10

    def __init__(self, connection: sqlite3.Connection, queue: str, cutoff: float, now: float) -> None:
        self._connection = connection
        self._queue = queue
        self._cutoff = cutoff
        self._now = now  # (when a row that cannot be decoded is found)

    def ready(self, now: float) -> Iterator[tuple[str, int]]:
        connection, queue = self._connection, self._queue
        connection.execute(
            "UPDATE fifo_groups SET wake_at = NULL WHERE queue = ? AND wake_at <= ?", (queue, now)
        )
        last = -1
        while True:
            row = connection.execute(
                "SELECT group_id, head_seq FROM fifo_groups "
                "WHERE queue = ? AND wake_at IS NULL AND head_seq > ? ORDER BY head_seq LIMIT 1",
                (queue, last),
            ).fetchone()
            if row is None:
                return
            last = row[1]
            yield row[0], row[1]

    def messages(self, group: str) -> Iterator[tuple[int, StoredMessage]]:
        # In chunks, each read after the last: a receive deletes (dead-letter moves) meanwhile.
        last = -1
        while True:
            rows = self._connection.execute(
                f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND message_group_id = ? "
                "AND seq > ? AND +sent_timestamp > ? ORDER BY seq LIMIT ?",
                (self._queue, group, last, self._cutoff, self._CHUNK),
            ).fetchall()
            for row in rows:
                message = _decoded(self._connection, row[0], row[1:], self._now)
                if message is not None:
                    yield row[0], message
            if len(rows) < self._CHUNK:
                return
            last = rows[-1][0]

    def file(self, group: str, key: int, wake: float | None) -> None:
        self._connection.execute(
            "UPDATE fifo_groups SET head_seq = ?, wake_at = ? WHERE queue = ? AND group_id = ?",
            (key, wake, self._queue, group),
        )

    def forget(self, group: str) -> None:
        self._connection.execute(
            "DELETE FROM fifo_groups WHERE queue = ? AND group_id = ?", (self._queue, group)
        )


def _insert(
    connection: sqlite3.Connection, target: str, message: StoredMessage, fifo: bool, now: float
) -> None:
    if fifo:
        _insert_fifo(connection, target, message, now)
    else:
        row = _message_row(target, message, now)
        connection.execute(_INSERT_MESSAGE, row)
        _count(connection, target, 1, 1 - row[-1], 0)


class SQLiteQueueStore(QueueStore):
    """Queues in the store's SQLite file, every write one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction
        self._data_version = connections.data_version
        self._path = connections.path
        self._expired_at: dict[str, float] = {}  # queue -> when a receive last deleted expired rows
        self._queue_writes = 0  # writes to queue rows through this store (see _record)
        # Per thread: (its connection, queue records by name) for _record's cache.
        self._cache = threading.local()

    def _record(self, connection: sqlite3.Connection, name: str) -> QueueRecord:
        """The queue's record, from this connection's cache while nothing can have changed it:
        PRAGMA data_version (cheaper than the read) tells whether another connection committed,
        and ``_queue_writes`` whether this store wrote a queue row since (data_version does not
        see a connection's own commits). :class:`NotFound` if there is no such queue."""
        version = self._data_version(connection)
        cache = self._cache
        records: dict[str, tuple[int, int, QueueRecord]]
        if getattr(cache, "connection", None) is connection:
            records = cache.records
        else:  # this thread's first read, or its connection was opened anew
            cache.connection, cache.records = connection, {}
            records = cache.records
        cached = records.get(name)
        if cached is not None and cached[0] == version and cached[1] == self._queue_writes:
            return cached[2]
        writes = self._queue_writes  # before the read: a write racing with it re-reads next time
        record = self._read_record(connection, name)
        if len(records) >= _PARSED_ATTRIBUTES_MAX:
            records.clear()
        records[name] = (version, writes, record)
        return record

    def _wrote_queue(self) -> None:
        """After a write to a queues row (inside its transaction): cached records are stale."""
        self._queue_writes += 1

    def _read_record(self, connection: sqlite3.Connection, name: str) -> QueueRecord:
        row = connection.execute(
            "SELECT name, attributes, created_timestamp, last_modified_timestamp, last_purge_timestamp "
            "FROM queues WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise NotFound("queue", name)
        try:
            return _record_from_row(row)
        except (*DECODE_ERRORS, AwsError) as error:
            raise damaged(
                self._path,
                "queues",
                f"queue {name!r}",
                error,
                "delete the queue (Broker.delete_queue, which deletes its messages too) and create it again",
            ) from error

    def _optional_record(
        self, connection: sqlite3.Connection, name: str, damaged_as_missing: bool = False
    ) -> QueueRecord | None:
        """The queue's record, or None if there is none (or, with ``damaged_as_missing``, if its
        row cannot be decoded: for a queue that is only another one's destination, so that the
        other keeps working and its messages stay where they are)."""
        try:
            return self._record(connection, name)
        except NotFound:
            return None
        except StoreRowCorruptError:
            if damaged_as_missing:
                return None
            raise

    # ------------------------------------------------------------------ queues

    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        with self._transaction() as connection:
            existing = self._optional_record(connection, record.name)
            if existing is not None:
                return existing
            row = connection.execute(
                "SELECT deleted_at FROM deleted_queues WHERE name = ?", (record.name,)
            ).fetchone()
            if row is not None and record.created_timestamp - row[0] < recreate_after:
                raise RecentlyDeleted(record.name)
            connection.execute("DELETE FROM deleted_queues WHERE name = ?", (record.name,))
            connection.execute(
                "INSERT OR IGNORE INTO queues VALUES (?, ?, ?, ?, ?)",
                (
                    record.name,
                    json.dumps(record.attributes.to_aws()),
                    record.created_timestamp,
                    record.last_modified_timestamp,
                    record.last_purge_timestamp,
                ),
            )
            connection.execute("INSERT OR IGNORE INTO queue_counts VALUES (?, 0, 0, 0)", (record.name,))
            self._wrote_queue()
            return self._record(connection, record.name)

    def get_queue(self, name: str) -> QueueRecord | None:
        return self._optional_record(self._connection(), name)

    def update_queue(self, name: str, attributes: QueueAttributes, now: float) -> QueueRecord:
        with self._transaction() as connection:
            self._record(connection, name)
            connection.execute(
                "UPDATE queues SET attributes = ?, last_modified_timestamp = ? WHERE name = ?",
                (json.dumps(attributes.to_aws()), now, name),
            )
            # A new retention period changes when groups unblock: every one is checked again.
            connection.execute("UPDATE fifo_groups SET wake_at = NULL WHERE queue = ?", (name,))
            self._wrote_queue()
            return self._record(connection, name)

    def delete_queue(self, name: str, now: float) -> None:
        with self._transaction() as connection:
            # Not its record: a queue whose row cannot be decoded can be deleted too.
            if connection.execute("SELECT 1 FROM queues WHERE name = ?", (name,)).fetchone() is None:
                raise NotFound("queue", name)
            connection.execute("DELETE FROM messages WHERE queue = ?", (name,))
            connection.execute("DELETE FROM deduplication WHERE queue = ?", (name,))
            connection.execute("DELETE FROM receive_attempts WHERE queue = ?", (name,))
            connection.execute("DELETE FROM fifo_groups WHERE queue = ?", (name,))
            connection.execute("DELETE FROM queue_counts WHERE queue = ?", (name,))
            connection.execute("DELETE FROM queues WHERE name = ?", (name,))
            self._wrote_queue()
            connection.execute(
                "INSERT OR REPLACE INTO deleted_queues (name, deleted_at) VALUES (?, ?)", (name, now)
            )

    def queue_names(self) -> list[str]:
        rows = self._connection().execute("SELECT name FROM queues ORDER BY name").fetchall()
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ messages

    def put_messages(self, queue: str, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        with self._transaction() as connection:
            return self._put(connection, self._record(connection, queue), messages)

    def put_messages_many(
        self, batches: Sequence[tuple[str, Sequence[StoredMessage]]]
    ) -> list[list[StoredMessage]]:
        with self._transaction() as connection:
            records = [self._record(connection, queue) for queue, _ in batches]  # all, or nothing
            return [
                self._put(connection, record, messages) for record, (_, messages) in zip(records, batches)
            ]

    @staticmethod
    def _put(
        connection: sqlite3.Connection, record: QueueRecord, messages: Sequence[StoredMessage]
    ) -> list[StoredMessage]:
        """put_messages on one queue, inside the caller's transaction."""
        queue = record.name
        if not record.attributes.fifo_queue:
            rows = [_message_row(queue, m, m.sent_timestamp) for m in messages]
            connection.executemany(_INSERT_MESSAGE, rows)
            _count(connection, queue, len(rows), sum(1 - row[-1] for row in rows), 0)
            return list(messages)
        if messages:
            connection.execute(
                "DELETE FROM deduplication WHERE queue = ? AND expires_at <= ?",
                (queue, messages[0].sent_timestamp),
            )

        def earlier(key: tuple[str, str], sent: float) -> tuple[str, str | None] | None:
            row = connection.execute(
                "SELECT message_id, sequence_number FROM deduplication "
                "WHERE queue = ? AND scope = ? AND deduplication_id = ? AND expires_at > ?",
                (queue, *key, sent),
            ).fetchone()
            return (row[0], row[1]) if row is not None else None

        def remember(key: tuple[str, str], message: StoredMessage, until: float) -> None:
            connection.execute(
                "INSERT OR REPLACE INTO deduplication VALUES (?, ?, ?, ?, ?, ?)",
                (queue, *key, message.message_id, message.sequence_number, until),
            )

        return put_fifo(
            record,
            messages,
            earlier,
            lambda m: _insert_fifo(connection, queue, m, m.sent_timestamp),
            remember,
        )

    def receive(
        self,
        queue: str,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        receive_request_attempt_id: str | None = None,
        in_flight_limit: int | None = None,
    ) -> list[ReceivedMessage]:
        with self._transaction() as connection:
            record = self._record(connection, queue)
            cutoff = expiry_cutoff(record, now)
            # A standard receive skips expired rows itself (its SELECT filters on the cutoff, as
            # every other read does), so deleting them is housekeeping: once a second per queue.
            # FIFO receives read the whole queue and remember attempts: expired rows go first.
            last = self._expired_at.get(queue)
            if record.attributes.fifo_queue or last is None or not 0 <= now - last < _EXPIRY_INTERVAL:
                _expire(connection, queue, cutoff)
                self._expired_at[queue] = now
            in_flight = _promote_counted(connection, queue, now)
            attempt = receive_request_attempt_id
            if attempt is None:
                return self._receive(
                    connection, record, max_messages, now, visibility_timeout, in_flight_limit, in_flight
                )
            connection.execute(
                "DELETE FROM receive_attempts WHERE queue = ? AND received_at <= ?",
                (queue, now - RECEIVE_ATTEMPT_WINDOW),
            )
            row = connection.execute(
                "SELECT received_at, entries FROM receive_attempts WHERE queue = ? AND attempt_id = ?",
                (queue, attempt),
            ).fetchone()
            remembered = _remembered_attempt(queue, attempt, row) if row is not None else None
            current = self._messages_by_id(
                connection, queue, [e[0] for e in remembered[1]] if remembered else [], now
            )
            at, received = receive_or_replay(
                remembered,
                current.get,
                now,
                lambda entries: self._replay(connection, queue, entries, now, now + visibility_timeout),
                lambda: self._receive(
                    connection, record, max_messages, now, visibility_timeout, in_flight_limit, in_flight
                ),
            )
            connection.execute(
                "INSERT OR REPLACE INTO receive_attempts VALUES (?, ?, ?, ?)",
                (queue, attempt, at, json.dumps(attempt_entries(received))),
            )
            return received

    @staticmethod
    def _messages_by_id(
        connection: sqlite3.Connection, queue: str, message_ids: Sequence[str], now: float
    ) -> dict[str, StoredMessage]:
        found: dict[str, StoredMessage] = {}
        for message_id in message_ids:
            row = connection.execute(
                f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND message_id = ?",
                (queue, message_id),
            ).fetchone()
            if row is not None and (message := _decoded(connection, row[0], row[1:], now)) is not None:
                found[message_id] = message
        return found

    def _replay(
        self,
        connection: sqlite3.Connection,
        queue: str,
        entries: Sequence[AttemptEntry],
        now: float,
        visible_at: float,
    ) -> list[ReceivedMessage]:
        ids = [entry[0] for entry in entries]
        (shown,) = connection.execute(
            f"SELECT COUNT(*) FROM messages WHERE queue = ? AND promoted = 1 "
            f"AND message_id IN ({', '.join('?' * len(ids))})",
            (queue, *ids),
        ).fetchone()
        connection.executemany(
            "UPDATE messages SET visible_at = ?, promoted = 0 WHERE queue = ? AND message_id = ?",
            [(visible_at, queue, message_id) for message_id in ids],
        )
        _count(connection, queue, 0, shown, shown)  # (every one was received)
        current = self._messages_by_id(connection, queue, ids, now)
        _touch_groups(connection, queue, (m.message_group_id for m in current.values()))  # hidden anew
        return [ReceivedMessage(current[entry[0]], entry[1]) for entry in entries if entry[0] in current]

    def _receive(
        self,
        connection: sqlite3.Connection,
        record: QueueRecord,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        in_flight_limit: int | None = None,
        in_flight: int = 0,
    ) -> list[ReceivedMessage]:
        """The receive itself, inside the caller's transaction, the due rows promoted first
        (``in_flight``: the messages in flight then)."""
        queue = record.name
        cutoff = expiry_cutoff(record, now)
        target_name = dead_letter_name(record)
        target = None
        if target_name is not None:
            target = self._optional_record(connection, target_name, damaged_as_missing=True)
            if not usable_target(record, target):
                target = None
        groups = _SQLiteFifoGroups(connection, queue, cutoff, now) if record.attributes.fifo_queue else None
        served: list[str] = []
        retention = record.attributes.message_retention_period
        candidates: Iterable[tuple[int, StoredMessage]]
        if groups is not None:
            candidates = fifo_candidates(groups, now, retention, served)
        else:
            if in_flight_limit is not None:
                # Exact: the receive promoted what was due, so the rows filed hidden and
                # received are the ones in flight.
                room = in_flight_limit - in_flight
                if room <= 0:
                    raise InFlightLimitReached()
                max_messages = min(max_messages, room)
            candidates = self._visible_in_send_order(connection, queue, now, cutoff, max_messages)

        def dead_letter(seq: int, arrived: StoredMessage) -> None:
            assert target is not None
            connection.execute("DELETE FROM messages WHERE seq = ?", (seq,))
            _count(connection, queue, -1, 0, 0)  # (a candidate: visible, filed so)
            _insert(connection, target.name, arrived, target.attributes.fifo_queue, now)

        taken = take_for_receive(
            record, candidates, max_messages, now, dead_letter if target is not None else None
        )
        if taken:
            # One statement for the whole receive: every row taken was read in this transaction,
            # so each one's new state is its old one received at ``now``.
            connection.execute(
                "UPDATE messages SET visible_at = ?, receive_count = receive_count + 1, "
                "first_receive_timestamp = coalesce(first_receive_timestamp, ?), "
                f"last_receive_timestamp = ?, promoted = 0 WHERE seq IN ({', '.join('?' * len(taken))})",
                (now + visibility_timeout, now, now, *(seq for seq, _ in taken)),
            )
            # Each was visible and filed so (promoted): now hidden, and received.
            _count(connection, queue, 0, len(taken), len(taken))
        if groups is not None:
            for group in served:
                fifo_refile(groups, group, now, retention)
        return [
            ReceivedMessage(m.received(now, visibility_timeout), make_receipt_handle(queue, m.message_id))
            for _, m in taken
        ]

    @staticmethod
    def _visible_in_send_order(
        connection: sqlite3.Connection, queue: str, now: float, cutoff: float, chunk: int
    ) -> Iterator[tuple[int, StoredMessage]]:
        """A standard queue's visible unexpired messages, oldest first, ``chunk`` at a time (a
        receive that moves messages to a dead-letter queue reads on past them)."""
        last = -1
        while True:
            rows = connection.execute(_RECEIVABLE, (queue, last, now, cutoff, chunk)).fetchall()
            for row in rows:
                message = _decoded(connection, row[0], row[1:], now)
                if message is not None:
                    yield row[0], message
            if len(rows) < chunk:
                return
            last = rows[-1][0]

    def delete_messages(
        self, queue: str, message_ids: Sequence[str], in_flight_at: float | None = None
    ) -> list[DeleteResult]:
        distinct = list(dict.fromkeys(message_ids))
        marks = ", ".join("?" * len(distinct))
        # FIFO: only while still in flight (a visible message's handle has expired).
        condition, parameters = ("", ()) if in_flight_at is None else (" AND visible_at > ?", (in_flight_at,))
        with self._transaction() as connection:
            rows = _delete_returning(
                connection,
                f"queue = ? AND message_id IN ({marks}){condition}",
                (queue, *distinct, *parameters),
                "message_id, message_group_id, promoted, receive_count",
            )
            _count_removed(connection, queue, rows)
            deleted = {row[0] for row in rows}
            # A deleted FIFO message may have held its group back.
            _touch_groups(connection, queue, (row[1] for row in rows))
            expired: set[str] = set()
            if len(deleted) < len(distinct):
                # Something not deleted: the queue may be missing, or (FIFO) a message visible.
                self._record(connection, queue)
                if in_flight_at is not None:
                    left = [i for i in distinct if i not in deleted]
                    expired = {
                        row[0]
                        for row in connection.execute(
                            "SELECT message_id FROM messages WHERE queue = ? "
                            f"AND message_id IN ({', '.join('?' * len(left))})",
                            (queue, *left),
                        )
                    }
        results: list[DeleteResult] = []
        for message_id in message_ids:
            if message_id in expired:
                results.append(DeleteResult.EXPIRED)
            elif message_id in deleted:
                deleted.discard(message_id)  # a repeated id finds it gone
                results.append(DeleteResult.DELETED)
            else:
                results.append(DeleteResult.GONE)
        return results

    def change_visibilities(
        self, queue: str, changes: Sequence[tuple[str, float]], now: float
    ) -> list[ChangeVisibilityResult]:
        with self._transaction() as connection:
            record = self._record(connection, queue)
            cutoff = expiry_cutoff(record, now)
            results: list[ChangeVisibilityResult] = []
            for message_id, timeout in changes:
                row = connection.execute(
                    "SELECT last_receive_timestamp, message_group_id, promoted, receive_count FROM messages "
                    "WHERE queue = ? AND message_id = ? AND sent_timestamp > ?",
                    (queue, message_id, cutoff),
                ).fetchone()
                result = visibility_change(row is not None, row[0] if row is not None else None, now, timeout)
                if result is ChangeVisibilityResult.CHANGED:
                    connection.execute(
                        "UPDATE messages SET visible_at = ?, promoted = 0 WHERE queue = ? AND message_id = ?",
                        (now + timeout, queue, message_id),
                    )
                    if row[2]:  # filed visible until now
                        _count(connection, queue, 0, 1, int(row[3] > 0))
                    if record.attributes.fifo_queue:
                        _touch_groups(connection, queue, [row[1]])
                results.append(result)
            return results

    def purge(self, queue: str, now: float, min_interval: float) -> bool:
        with self._transaction() as connection:
            if not purge_allowed(self._record(connection, queue), now, min_interval):
                return False
            connection.execute("DELETE FROM messages WHERE queue = ?", (queue,))
            connection.execute("DELETE FROM fifo_groups WHERE queue = ?", (queue,))
            connection.execute(
                "UPDATE queue_counts SET messages = 0, hidden = 0, in_flight = 0 WHERE queue = ?", (queue,)
            )
            connection.execute("UPDATE queues SET last_purge_timestamp = ? WHERE name = ?", (now, queue))
            self._wrote_queue()
            return True

    def counts(self, queue: str, now: float) -> QueueCounts:
        """Read from ``queue_counts`` after settling the queue (expired rows deleted, due rows
        promoted, as a receive would): exact while the broker's clock has not gone back, and
        costing what expired or came due since the last receive rather than what the queue
        holds. After the clock went back, a row filed visible at a later instant counts as
        visible until then (AWS's counts are approximate too)."""
        with self._transaction() as connection:
            counts = self._settle(connection, queue, now)
            return QueueCounts(counts[0] - counts[1], counts[2], counts[1] - counts[2])

    def peek(self, queue: str, now: float, max_messages: int) -> list[StoredMessage]:
        """A plain read outside any write transaction: expired rows are skipped, not deleted,
        and a row that cannot be decoded is skipped, not set aside (a peek writes nothing)."""
        connection = self._connection()
        cutoff = expiry_cutoff(self._record(connection, queue), now)
        rows = connection.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND sent_timestamp > ? "
            "ORDER BY seq LIMIT ?",
            (queue, cutoff, max(0, max_messages)),
        ).fetchall()
        held: list[StoredMessage] = []
        for row in rows:
            try:
                held.append(_message_from_row(row))
            except DECODE_ERRORS:
                continue
        return held

    def in_flight(self, queue: str, now: float) -> int:
        with self._transaction() as connection:
            return self._settle(connection, queue, now)[2]

    def _settle(self, connection: sqlite3.Connection, queue: str, now: float) -> tuple[int, int, int]:
        """Expire and promote, then the queue's (messages, hidden, in flight)."""
        record = self._record(connection, queue)
        _expire(connection, queue, expiry_cutoff(record, now))
        self._expired_at[queue] = now
        _promote(connection, queue, now)
        row = connection.execute(
            "SELECT messages, hidden, in_flight FROM queue_counts WHERE queue = ?", (queue,)
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    # ------------------------------------------------------------------ message move tasks

    def create_move_task(self, record: MoveTaskRecord) -> bool:
        with self._transaction() as connection:
            source = self._record(connection, queue_name_from_arn(record.source_arn))
            active = connection.execute(
                f"SELECT 1 FROM move_tasks WHERE source_arn = ? AND status IN {ACTIVE_MOVE_TASK_STATUSES}",
                (record.source_arn,),
            ).fetchone()
            if active is not None:
                return False
            messages, hidden, _ = self._settle(connection, source.name, record.started_timestamp)
            record = replace(record, approximate_number_of_messages_to_move=messages - hidden)
            self._save_move_task(connection, record)
            return True

    @staticmethod
    def _save_move_task(connection: sqlite3.Connection, record: MoveTaskRecord) -> None:
        connection.execute(
            f"INSERT INTO move_tasks ({_MOVE_TASK_COLUMNS}) VALUES ({', '.join('?' * len(fields(record)))}) "
            "ON CONFLICT (task_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in _MOVE_TASK_COLUMNS.split(", ")[1:]),
            astuple(record),
        )

    @staticmethod
    def _load_move_task(connection: sqlite3.Connection, task_id: str) -> MoveTaskRecord | None:
        row = connection.execute(
            f"SELECT {_MOVE_TASK_COLUMNS} FROM move_tasks WHERE task_id = ?", (task_id,)
        ).fetchone()
        return _move_task_from_row(row) if row is not None else None

    def move_tasks(self, source_arn: str) -> list[MoveTaskRecord]:
        rows = (
            self._connection()
            .execute(
                f"SELECT {_MOVE_TASK_COLUMNS} FROM move_tasks WHERE source_arn = ? ORDER BY seq DESC",
                (source_arn,),
            )
            .fetchall()
        )
        return [_move_task_from_row(row) for row in rows]

    def get_move_task(self, task_id: str) -> MoveTaskRecord | None:
        return self._load_move_task(self._connection(), task_id)

    def active_move_task_ids(self) -> list[str]:
        rows = (
            self._connection()
            .execute(
                f"SELECT task_id FROM move_tasks WHERE status IN {ACTIVE_MOVE_TASK_STATUSES} ORDER BY seq"
            )
            .fetchall()
        )
        return [row[0] for row in rows]

    def cancel_move_task(self, task_id: str) -> MoveTaskRecord | None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE move_tasks SET status = 'CANCELLING' WHERE task_id = ? AND status = 'RUNNING'",
                (task_id,),
            )
            return self._load_move_task(connection, task_id)

    def step_move_task(self, task_id: str, now: float) -> MoveTaskRecord | None:
        with self._transaction() as connection:
            task = self._load_move_task(connection, task_id)
            if task is None or task.status not in ACTIVE_MOVE_TASK_STATUSES:
                return task
            stepped = settle_cancelling(task) or self._step_moves(connection, task, now)
            self._save_move_task(connection, stepped)
            return stepped

    def _step_moves(self, connection: sqlite3.Connection, task: MoveTaskRecord, now: float) -> MoveTaskRecord:
        source = self._optional_record(connection, queue_name_from_arn(task.source_arn))
        if source is None:
            return source_missing(task)
        self._settle(connection, source.name, now)
        cutoff = expiry_cutoff(source, now)

        def target_is_fifo(name: str) -> bool | None:
            target = self._optional_record(connection, name, damaged_as_missing=True)
            return target.attributes.fifo_queue if target is not None else None

        def move(old: StoredMessage, new: StoredMessage, target: str, fifo: bool) -> None:
            connection.execute(
                "DELETE FROM messages WHERE queue = ? AND message_id = ?", (source.name, old.message_id)
            )
            _count(connection, source.name, -1, 0, 0)  # (visible, filed so)
            if source.attributes.fifo_queue:
                _touch_groups(connection, source.name, [old.message_group_id])
            _insert(connection, target, new, fifo, now)

        _, budget = move_budget(task, now)
        rows = connection.execute(_RECEIVABLE, (source.name, -1, now, cutoff, budget)).fetchall()
        return step_moves(
            task,
            now,
            [m for row in rows if (m := _decoded(connection, row[0], row[1:], now)) is not None],
            target_is_fifo,
            move,
            lambda: connection.execute(_RECEIVABLE, (source.name, -1, now, cutoff, 1)).fetchone() is not None,
        )
