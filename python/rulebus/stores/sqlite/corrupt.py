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
from dataclasses import dataclass
from typing import Any

__all__ = ["DECODE_ERRORS", "CorruptMessage", "corrupt_messages", "set_aside"]

logger = logging.getLogger("rulebus.stores.sqlite")

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
