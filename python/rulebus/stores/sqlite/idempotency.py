"""The SQLite store's idempotency records: rows of ``idempotency_keys``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rulebus.stores.base import IdempotencyStore
from rulebus.stores.records import COMPLETED, IN_PROGRESS, IdempotencyRecord
from rulebus.stores.sqlite.connection import Connections
from rulebus.stores.sqlite.corrupt import DECODE_ERRORS, damaged, number, optional_text, text

__all__ = ["SQLiteIdempotencyStore"]


_COLUMNS = "key, status, token, expires_at, result"


def _record(path: str, row: Sequence[Any]) -> IdempotencyRecord:
    """The key's record. A damaged one is not set aside: taking it for absent would run the
    handler again, the very thing the record is there to prevent."""
    key, status, token, expires_at, result = row
    try:
        return IdempotencyRecord(
            text(key, "key"),
            text(status, "status"),
            text(token, "token"),
            number(expires_at, "expires_at"),
            optional_text(result, "result"),
        )
    except DECODE_ERRORS as error:
        raise damaged(
            path,
            "idempotency_keys",
            f"idempotency key {key!r}",
            error,
            "forget the key (Idempotency.forget) once you know whether its call ran",
        ) from error


class SQLiteIdempotencyStore(IdempotencyStore):
    """Records in the store's SQLite file: each write is one ``BEGIN IMMEDIATE`` transaction, so
    two processes claiming one key cannot both win."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction
        self._path = connections.path

    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        with self._transaction() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM idempotency_keys WHERE key = ? AND expires_at > ?", (key, now)
            ).fetchone()
            if row is not None:
                return _record(self._path, row)
            connection.execute(
                f"INSERT OR REPLACE INTO idempotency_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL)",
                (key, IN_PROGRESS, token, lease_until),
            )
            return None

    def complete_idempotency_key(self, key: str, token: str, result: str | None, expires_at: float) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE idempotency_keys SET status = ?, expires_at = ?, result = ? "
                "WHERE key = ? AND token = ?",
                (COMPLETED, expires_at, result, key, token),
            )
            return bool(cursor.rowcount)

    def release_idempotency_key(self, key: str, token: str) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "DELETE FROM idempotency_keys WHERE key = ? AND token = ?", (key, token)
            )
            return bool(cursor.rowcount)

    def get_idempotency_record(self, key: str, now: float) -> IdempotencyRecord | None:
        row = (
            self._connection()
            .execute(f"SELECT {_COLUMNS} FROM idempotency_keys WHERE key = ? AND expires_at > ?", (key, now))
            .fetchone()
        )
        return _record(self._path, row) if row is not None else None

    def delete_idempotency_key(self, key: str) -> bool:
        with self._transaction() as connection:
            return bool(connection.execute("DELETE FROM idempotency_keys WHERE key = ?", (key,)).rowcount)

    def purge_idempotency_keys(self, now: float) -> int:
        with self._transaction() as connection:
            return int(
                connection.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,)).rowcount
            )
