"""What the stores keep for ``rulebus.idempotent``: one record per idempotency key.

Why a module of its own: as ``rulebus.stores.buses`` does for buses, this keeps a separate concern
(its own table) out of ``rulebus.stores.queues``: the ``IdempotencyStore`` interface plus one mixin per
store kind, which ``MemoryStore`` and ``SQLiteStore`` inherit. The helper in
``rulebus.idempotency`` sees only these methods, never which store it runs on.

A record is *live* until ``expires_at`` (epoch seconds of the broker's clock): an IN_PROGRESS
record expires when its lease runs out, a COMPLETED one when its TTL does. A key whose record is
not live may be claimed again; expired records are overwritten by the next claim and removed by
:meth:`IdempotencyStore.purge_idempotency_keys`.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

from rulebus.stores.sqlite_host import SQLiteHost

__all__ = [
    "COMPLETED",
    "IN_PROGRESS",
    "IdempotencyRecord",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "SQLiteIdempotencyStore",
]

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class IdempotencyRecord:
    """One key's record. ``token`` names the claim that wrote it (so only that claim may complete
    or release it); ``result`` is the handler's result as JSON text (None when not kept)."""

    key: str
    status: str
    token: str
    expires_at: float
    result: str | None = None


class IdempotencyStore(ABC):
    """The idempotency half of the ``Store`` interface. Every method is atomic; on SQLite, every
    broker (and process) on the file sees the same records."""

    @abstractmethod
    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        """Claim ``key`` for ``token``: when it has no record live at ``now``, write an IN_PROGRESS
        one expiring at ``lease_until`` and return None; otherwise write nothing and return the
        live record (IN_PROGRESS: someone else holds it; COMPLETED: it already ran)."""

    @abstractmethod
    def complete_idempotency_key(self, key: str, token: str, result: str | None, expires_at: float) -> bool:
        """Mark the key COMPLETED (with ``result``, until ``expires_at``) if ``token`` still holds
        it, even past its lease when nobody claimed it since; whether it did."""

    @abstractmethod
    def release_idempotency_key(self, key: str, token: str) -> bool:
        """Remove the key's record if ``token`` holds it (the handler failed: let a retry run)."""

    @abstractmethod
    def get_idempotency_record(self, key: str, now: float) -> IdempotencyRecord | None:
        """The key's record if live at ``now``."""

    @abstractmethod
    def delete_idempotency_key(self, key: str) -> bool:
        """Remove the key's record whatever its state; whether there was one."""

    @abstractmethod
    def purge_idempotency_keys(self, now: float) -> int:
        """Remove every record that is not live at ``now``; how many."""


# --------------------------------------------------------------------------------------------
# Memory.


class MemoryIdempotencyStore(IdempotencyStore):
    """Records in a dict behind the host store's lock (``MemoryStore._lock``). The host's
    ``__init__`` calls :meth:`_init_idempotency_state`."""

    _lock: threading.Lock  # created by MemoryStore.__init__

    def _init_idempotency_state(self) -> None:
        self._idempotency: dict[str, IdempotencyRecord] = {}

    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        with self._lock:
            record = self._idempotency.get(key)
            if record is not None and record.expires_at > now:
                return record
            self._idempotency[key] = IdempotencyRecord(key, IN_PROGRESS, token, lease_until)
            return None

    def complete_idempotency_key(self, key: str, token: str, result: str | None, expires_at: float) -> bool:
        with self._lock:
            record = self._idempotency.get(key)
            if record is None or record.token != token:
                return False
            self._idempotency[key] = replace(record, status=COMPLETED, expires_at=expires_at, result=result)
            return True

    def release_idempotency_key(self, key: str, token: str) -> bool:
        with self._lock:
            record = self._idempotency.get(key)
            if record is None or record.token != token:
                return False
            del self._idempotency[key]
            return True

    def get_idempotency_record(self, key: str, now: float) -> IdempotencyRecord | None:
        with self._lock:
            record = self._idempotency.get(key)
            return record if record is not None and record.expires_at > now else None

    def delete_idempotency_key(self, key: str) -> bool:
        with self._lock:
            return self._idempotency.pop(key, None) is not None

    def purge_idempotency_keys(self, now: float) -> int:
        with self._lock:
            expired = [key for key, record in self._idempotency.items() if record.expires_at <= now]
            for key in expired:
                del self._idempotency[key]
            return len(expired)


# --------------------------------------------------------------------------------------------
# SQLite.

_IDEMPOTENCY_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key        TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    token      TEXT NOT NULL,
    expires_at REAL NOT NULL,
    result     TEXT
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys (expires_at);
"""

_COLUMNS = "key, status, token, expires_at, result"


class SQLiteIdempotencyStore(SQLiteHost, IdempotencyStore):
    """Records in the host store's SQLite file (``SQLiteStore``): each write is one
    ``BEGIN IMMEDIATE`` transaction, so two processes claiming one key cannot both win. The
    host's ``__init__`` calls :meth:`_init_idempotency_schema`."""

    def _init_idempotency_schema(self, connection: sqlite3.Connection) -> None:
        connection.executescript(_IDEMPOTENCY_SCHEMA)  # idempotent

    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        with self._transaction() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM idempotency_keys WHERE key = ? AND expires_at > ?", (key, now)
            ).fetchone()
            if row is not None:
                return IdempotencyRecord(*row)
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
        return IdempotencyRecord(*row) if row is not None else None

    def delete_idempotency_key(self, key: str) -> bool:
        with self._transaction() as connection:
            return bool(connection.execute("DELETE FROM idempotency_keys WHERE key = ?", (key,)).rowcount)

    def purge_idempotency_keys(self, now: float) -> int:
        with self._transaction() as connection:
            return int(
                connection.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,)).rowcount
            )
