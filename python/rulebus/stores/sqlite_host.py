"""What the SQLite halves of the store (bus, stream and idempotency mixins) need from their host.

``SQLiteStore`` defines both methods itself, so it comes first in the method order and these
never run there; they exist so that each mixin is typed against one declared interface.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager


class SQLiteHost:
    """The host store's per-thread connection and its transactions."""

    def _connection(self) -> sqlite3.Connection:
        raise NotImplementedError("a SQLite mixin runs inside SQLiteStore")

    def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError("a SQLite mixin runs inside SQLiteStore")
