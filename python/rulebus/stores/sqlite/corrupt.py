"""Message rows that cannot be decoded (damaged by hand, by a disk, or by another program writing
the file), set aside so that they fail alone instead of failing every receive of their queue.

A row that cannot become a message is moved, whole and unchanged, into the ``corrupt_messages``
table, inside the transaction that found it, and reported with a warning on the
``rulebus.stores.sqlite`` logger. It is not sent to the queue's dead-letter queue: that queue's
consumers could not decode it either, and a dead-letter queue holds messages that were delivered
and failed, which this one never was. An operator can read (and repair and resend) it from the
table, or list it with :meth:`rulebus.stores.SQLiteStore.corrupt_messages`.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rulebus._errors import StoreRowCorruptError

__all__ = [
    "DECODE_ERRORS",
    "CorruptMessage",
    "CorruptRow",
    "corrupt_messages",
    "corrupt_rows",
    "damaged",
    "decode_members",
    "set_aside",
    "set_aside_row",
]

logger = logging.getLogger("rulebus.stores.sqlite")

_Record = TypeVar("_Record")

#: What decoding a damaged row can raise: bad JSON or base64 (ValueError), a missing key, a
#: value of the wrong type for the message (TypeError, AttributeError), a number out of range.
DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)

# Created by the first row set aside: most files never need it. The row is kept as JSON of its
# columns, so the table needs no change when ``messages`` gains a column.
_TABLE = """
CREATE TABLE IF NOT EXISTS corrupt_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT,
    message_id TEXT,
    found_at REAL NOT NULL,
    error TEXT NOT NULL,
    row TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class CorruptMessage:
    """A message row set aside: its queue and message id as stored, when it was found (the
    broker's clock), why it could not be decoded, and its columns (``bytes`` values as
    ``{"base64": ...}``)."""

    queue: str | None
    message_id: str | None
    found_at: float
    error: str
    row: dict[str, Any]


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def set_aside(connection: sqlite3.Connection, seq: int, error: BaseException, now: float) -> None:
    """Move the ``messages`` row ``seq`` into ``corrupt_messages`` (inside the caller's
    transaction) and log a warning."""
    cursor = connection.execute("SELECT * FROM messages WHERE seq = ?", (seq,))
    values = cursor.fetchone()
    if values is None:
        return
    row = {column[0]: _plain(value) for column, value in zip(cursor.description, values)}
    queue, message_id = row.get("queue"), row.get("message_id")
    reason = f"{type(error).__name__}: {error}"
    connection.execute(_TABLE)
    connection.execute(
        "INSERT INTO corrupt_messages (queue, message_id, found_at, error, row) VALUES (?, ?, ?, ?, ?)",
        (
            queue if isinstance(queue, str) else None,
            message_id if isinstance(message_id, str) else None,
            now,
            reason,
            json.dumps(row, default=repr),
        ),
    )
    connection.execute("DELETE FROM messages WHERE seq = ?", (seq,))
    logger.warning(
        "message %r of queue %r cannot be decoded (%s): moved to the corrupt_messages table",
        message_id,
        queue,
        reason,
    )


def corrupt_messages(connection: sqlite3.Connection) -> list[CorruptMessage]:
    """Every row set aside so far, oldest first."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'corrupt_messages'"
    ).fetchone()
    if exists is None:
        return []
    rows = connection.execute(
        "SELECT queue, message_id, found_at, error, row FROM corrupt_messages ORDER BY id"
    ).fetchall()
    return [CorruptMessage(q, m, at, error, json.loads(row)) for q, m, at, error, row in rows]


# ---------------------------------------------------------------------------------------------
# The other tables.
#
# A row that is a resource itself (a queue, a topic, a stream and its shards, a bus, an archive,
# a replay, an idempotency key) cannot be set aside without losing the resource, so an operation
# on it raises StoreRowCorruptError, naming it, while every other resource works (listings read
# names only, or leave the damaged row out). A row that is a member of a resource (a
# subscription, a rule, a target, a stream record, an archived event) is set aside into
# ``corrupt_rows``, as a message into ``corrupt_messages``, and its resource works without it.

_ROWS_TABLE = """
CREATE TABLE IF NOT EXISTS corrupt_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    owner TEXT,
    key TEXT,
    found_at REAL NOT NULL,
    error TEXT NOT NULL,
    row TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class CorruptRow:
    """A row set aside: the table it was in (``messages``, ``subscriptions``, ``rules``,
    ``targets``, ``stream_records``, ``archived_events``), the resource that held it (a queue,
    topic, bus, stream or archive name), its key there (message id, subscription ARN, rule name,
    ``rule/target id``, ``shard/seq``, event seq), when it was found (epoch seconds), why it
    could not be decoded, and its columns (``bytes`` values as ``{"base64": ...}``)."""

    table: str
    owner: str | None
    key: str | None
    found_at: float
    error: str
    row: dict[str, Any]


def damaged(path: str, table: str, resource: str, error: BaseException, remedy: str) -> StoreRowCorruptError:
    """The error for a resource whose row in ``table`` cannot be decoded."""
    return StoreRowCorruptError(
        f"the {resource} cannot be used: its row in the {table!r} table of the SQLite file {path!r} "
        f"cannot be decoded ({type(error).__name__}: {error}); every other resource works. "
        f"Restore the file from a backup, or {remedy}.",
        path,
        table,
        resource,
    )


def set_aside_row(
    connection: sqlite3.Connection,
    table: str,
    where: str,
    parameters: Sequence[Any],
    owner: str,
    key: str,
    error: BaseException,
) -> bool:
    """Move the ``table`` row ``where`` into ``corrupt_rows`` (inside the caller's write
    transaction) and log a warning; False if the row is gone already. The time found is the
    wall clock: the stores' reads of members are not given the broker's."""
    cursor = connection.execute(f"SELECT * FROM {table} WHERE {where}", parameters)
    values = cursor.fetchone()
    if values is None:
        return False
    row = {column[0]: _plain(value) for column, value in zip(cursor.description, values)}
    reason = f"{type(error).__name__}: {error}"
    connection.execute(_ROWS_TABLE)
    connection.execute(
        "INSERT INTO corrupt_rows (source, owner, key, found_at, error, row) VALUES (?, ?, ?, ?, ?, ?)",
        (table, owner, key, time.time(), reason, json.dumps(row, default=repr)),
    )
    connection.execute(f"DELETE FROM {table} WHERE {where}", parameters)
    logger.warning(
        "%s row %r of %r cannot be decoded (%s): moved to the corrupt_rows table", table, key, owner, reason
    )
    return True


def decode_members(
    decode: Callable[[Sequence[Any]], _Record], rows: Sequence[Sequence[Any]]
) -> tuple[list[_Record], list[tuple[int, BaseException]]]:
    """Rows read as ``(seq, *columns)``: the records of those that decode, and (seq, why) of
    those that do not."""
    records: list[_Record] = []
    bad: list[tuple[int, BaseException]] = []
    for row in rows:
        try:
            records.append(decode(row[1:]))
        except DECODE_ERRORS as error:
            bad.append((row[0], error))
    return records, bad


def corrupt_rows(connection: sqlite3.Connection) -> list[CorruptRow]:
    """Every row set aside so far (messages included), in the order found."""
    found = [
        CorruptRow("messages", m.queue, m.message_id, m.found_at, m.error, m.row)
        for m in corrupt_messages(connection)
    ]
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'corrupt_rows'"
    ).fetchone()
    if exists is not None:
        rows = connection.execute(
            "SELECT source, owner, key, found_at, error, row FROM corrupt_rows ORDER BY id"
        ).fetchall()
        found.extend(CorruptRow(t, o, k, at, e, json.loads(r)) for t, o, k, at, e, r in rows)
    found.sort(key=lambda row: row.found_at)  # (stable: each table's own order kept on ties)
    return found


# Checks that a decoded column has the kind of value its record needs: what SQLite's type
# affinity lets through (text in a REAL column, a blob anywhere) fails here, with the column named.


def number(value: object, column: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{column} is {value!r}, not a number")
    return value


def integer(value: object, column: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{column} is {value!r}, not an integer")
    return value


def text(value: object, column: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{column} is {value!r}, not text")
    return value


def optional_text(value: object, column: str) -> str | None:
    return None if value is None else text(value, column)


def json_object(value: object, column: str) -> dict[str, Any]:
    """The JSON object in column ``column`` (text)."""
    decoded = json.loads(text(value, column))
    if not isinstance(decoded, dict):
        raise TypeError(f"{column} is JSON {type(decoded).__name__}, not an object")
    return decoded


def optional_json_object(value: object, column: str) -> str | None:
    """A nullable column holding a JSON object's text, checked and returned as text."""
    if value is None:
        return None
    json_object(value, column)
    return str(value)
