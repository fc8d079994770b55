"""The SQLite store's connections and transactions, shared by its parts.

Each thread (and each process after a fork) gets its own connection, as sqlite3 connections must
not be shared across threads mid-transaction. WAL lets readers proceed while one writer
commits; every write is one ``BEGIN IMMEDIATE`` transaction, so two processes receiving at once
can never both take the same message.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Connections"]


class Connections:
    """Where the parts of one SQLite store get their connection and their transactions."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, and again in a forked child)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves. check_same_thread=False
            # only so close() can close every thread's connection; each is used by one thread.
            connection = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
            self._local.pid = os.getpid()
            with self._all_lock:
                self._all.append(connection)
        return connection

    @contextmanager
    def transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction. IMMEDIATE takes the write lock up front, so a read-then-update (a
        receive) cannot be interleaved with another process's; plain BEGIN is for reads."""
        connection = self.connection()
        connection.execute(begin)
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def data_version(self, connection: sqlite3.Connection | None = None) -> int:
        """PRAGMA data_version of ``connection`` (this thread's by default): it changes when
        *another* connection (thread or process) commits, never with this connection's own."""
        connection = connection if connection is not None else self.connection()
        return int(connection.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Close every thread's connection; the store is unusable afterwards."""
        self._closed = True
        with self._all_lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
