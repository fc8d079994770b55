"""The SQLite store's connections and transactions, shared by its parts.

Each thread (and each process after a fork) gets its own connection, as sqlite3 connections must
not be shared across threads mid-transaction. A thread's connection is closed when the thread
ends, so connections (two file descriptors each, the file and its WAL) never outnumber the
threads alive. WAL lets readers proceed while one writer commits; every write is one
``BEGIN IMMEDIATE`` transaction, so two processes receiving at once can never both take the same
message.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Connections"]

# Connections inherited through a fork: the child must neither use nor close them (closing would
# run SQLite's shutdown steps on the parent's file state), and letting them be garbage-collected
# closes them too, so they are kept here for the child's lifetime.
_INHERITED: list[sqlite3.Connection] = []


class _Holder:
    """One thread's connection. Only that thread's ``threading.local`` holds a holder strongly, so
    when the thread ends the holder is freed at once and closes its connection (a connection
    itself lives on until a garbage collection: it sits in a reference cycle with its statement
    cache, and it cannot be weakly referenced)."""

    __slots__ = ("__weakref__", "connection", "pid")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.pid = os.getpid()

    def __del__(self) -> None:
        if self.pid == os.getpid():
            self.connection.close()
        else:
            _INHERITED.append(self.connection)


class Connections:
    """Where the parts of one SQLite store get their connection and their transactions."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._local = threading.local()
        # Every live thread's holder, for close(); weak, so that ended threads drop out.
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, and again in a forked child)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is None or holder.pid != os.getpid():
            holder = _Holder(self._open())
            self._local.holder = holder
            with self._holders_lock:
                self._holders.add(holder)
        return holder.connection

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves. check_same_thread=False only
        # so close() (and a holder freed in another thread) can close any thread's connection;
        # each is used by one thread.
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
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
        with self._holders_lock:
            holders = list(self._holders)
            self._holders.clear()
        for holder in holders:
            if holder.pid == os.getpid():
                holder.connection.close()
