"""The SQLite store's connections and transactions, shared by its parts.

Each thread (and each process after a fork) gets its own connection, as sqlite3 connections must
not be shared across threads mid-transaction. A thread's connection is closed when the thread
ends, so connections (two file descriptors each, the file and its WAL) never outnumber the
threads alive. WAL lets readers proceed while one writer commits; every write is one
``BEGIN IMMEDIATE`` transaction, so two processes receiving at once can never both take the same
message.

Every failure of SQLite (opening the file, a statement, fetching its rows, a commit) is turned
here, and only here, into a :class:`~rulebus.StoreError` subclass that says what happened and
what to do, chosen by SQLite's error code.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from rulebus._errors import (
    StoreClosedError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreReadOnlyError,
    StoreUnavailableError,
)

__all__ = ["DEFAULT_BUSY_TIMEOUT", "MIN_LOCK_WAIT", "Connections"]

#: How long (seconds) a write waits for another connection's or process's lock before failing.
DEFAULT_BUSY_TIMEOUT = 30.0

#: The shortest bound :meth:`Connections.lock_wait` puts on a wait for a lock: a long poll near
#: its deadline still rides out another writer's ordinary commit (milliseconds).
MIN_LOCK_WAIT = 0.05

# Connections inherited through a fork: the child must neither use nor close them (closing would
# run SQLite's shutdown steps on the parent's file state), and letting them be garbage-collected
# closes them too, so they are kept here for the child's lifetime.
_INHERITED: list[sqlite3.Connection] = []


class _Cursor(sqlite3.Cursor):
    """A cursor whose failures are the store's errors (rows of a damaged page fail on fetch)."""

    connection: _Connection

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> _Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as error:
            self.connection.fail(error)


_plain_execute = sqlite3.Connection.execute
_plain_executemany = sqlite3.Connection.executemany


class _Connection(sqlite3.Connection):
    """A connection whose failures are the store's errors. Outside a transaction its statements
    run on :class:`_Cursor` (sqlite3's own ``execute`` would bypass a cursor subclass), whose
    failures are raised by ``fail``. Inside one (every store write, see ``_Transaction``) they
    run on sqlite3's plain cursor, and what fails there, statement or fetch, is turned into the
    store's error as it leaves the transaction: the same error, at a third of the cost per
    statement."""

    fail: Callable[[sqlite3.Error], NoReturn]

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.in_transaction:
            return _plain_execute(self, sql, parameters)
        return self.cursor(_Cursor).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        if self.in_transaction:
            return _plain_executemany(self, sql, parameters)
        return self.cursor(_Cursor).executemany(sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        return self.cursor(_Cursor).executescript(script)


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


class _Transaction:
    """What ``Connections.transaction`` returns: BEGIN on entry; COMMIT on a clean exit, else
    (or when the COMMIT fails) a roll-back. A class, not a generator: every store write goes
    through one, and this costs a third as much."""

    __slots__ = ("_begin", "_connection", "_connections")

    def __init__(self, connections: Connections, begin: str) -> None:
        self._connections = connections
        self._begin = begin

    def __enter__(self) -> sqlite3.Connection:
        connection = self._connections.connection()
        connection.execute(self._begin)
        self._connection = connection
        return connection

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> None:
        connection = self._connection
        connections = self._connections
        if kind is not None:
            connections.roll_back(connection)
            if isinstance(error, sqlite3.DatabaseError):  # (see _Connection)
                connections.fail(error)
            return
        try:
            connection.execute("COMMIT")
        except BaseException as failure:
            connections.roll_back(connection)
            if isinstance(failure, sqlite3.DatabaseError):
                connections.fail(failure)
            raise


class Connections:
    """Where the parts of one SQLite store get their connection and their transactions.

    ``busy_timeout``: seconds a statement waits for a lock held by another connection before
    failing with :class:`~rulebus.StoreLockedError`. ``max_size``: if set, the file may not grow
    past this many bytes (a write that would fails with :class:`~rulebus.StoreFullError`)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        max_size: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.busy_timeout = busy_timeout
        self.max_size = max_size
        self._local = threading.local()
        # Every live thread's holder, for close(); weak, so that ended threads drop out.
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, and again in a forked child)."""
        if self._closed:
            raise self._closed_error()
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
        try:
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
        except sqlite3.DatabaseError as error:
            self.fail(error)
        connection.fail = self.fail
        try:
            connection.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            if self.max_size is not None:
                (page_size,) = connection.execute("PRAGMA page_size").fetchone()
                connection.execute(f"PRAGMA max_page_count={max(1, self.max_size // page_size)}")
        except BaseException:
            connection.close()
            raise
        return connection

    def transaction(self, begin: str = "BEGIN IMMEDIATE") -> _Transaction:
        """One transaction, as ``with connections.transaction() as connection:``. IMMEDIATE
        takes the write lock up front, so a read-then-update (a receive) cannot be interleaved
        with another process's; plain BEGIN is for reads."""
        return _Transaction(self, begin)

    @contextmanager
    def lock_wait(self, seconds: float) -> Iterator[None]:
        """Within the block, this thread's statements wait at most ``seconds`` (at least
        :data:`MIN_LOCK_WAIT`, at most the busy timeout) for another connection's lock."""
        limit = min(self.busy_timeout, max(seconds, MIN_LOCK_WAIT))
        if limit >= self.busy_timeout:
            yield
            return
        connection = self.connection()
        connection.execute(f"PRAGMA busy_timeout={int(limit * 1000)}")
        try:
            yield
        finally:
            holder: _Holder | None = getattr(self._local, "holder", None)
            if holder is not None and holder.connection is connection and not self._closed:
                connection.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")

    def roll_back(self, connection: sqlite3.Connection) -> None:
        """Undo this thread's open transaction after a failure. SQLite may have rolled back by
        itself (a full disk, an I/O error): then there is nothing to do. A connection that cannot
        roll back is dropped, so the thread's next step starts on a fresh one."""
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except (StoreError, sqlite3.Error):  # sqlite3's own on a connection closed meanwhile
            self._local.holder = None  # the holder, freed, closes the connection

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

    # ------------------------------------------------------------------ failures

    def _closed_error(self) -> StoreClosedError:
        return StoreClosedError(f"the store on {self.path!r} is closed", self.path)

    def fail(self, error: sqlite3.Error) -> NoReturn:
        """Raise the store's error for an SQLite failure on this file (the failure its cause).
        A misuse of sqlite3 (a ``ProgrammingError``: rulebus's own bug) is raised as it is,
        except on a closed store, where it is :class:`~rulebus.StoreClosedError`."""
        if self._closed:
            raise self._closed_error() from error
        if isinstance(error, sqlite3.ProgrammingError):
            raise error
        raise self._failure(error) from error

    def _failure(self, error: sqlite3.Error) -> StoreError:
        """The store's error for an SQLite failure on this file: what happened, and what to do."""
        name: str | None = getattr(error, "sqlite_errorname", None)
        code: int | None = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if code is not None else None
        path = self.path
        what = f"{name}: {error}" if name else str(error)
        if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreLockedError(
                f"the SQLite file {path!r} stayed locked by another connection or process for longer "
                f"than the busy timeout ({self.busy_timeout:g} s), so nothing was changed ({what}). "
                "Retry; if it persists, end whatever holds the lock (a long transaction, an open "
                "sqlite3 shell, a backup), or give the store a longer busy timeout "
                "(SQLiteStore(path, busy_timeout=seconds)).",
                path,
                name,
            )
        if primary == sqlite3.SQLITE_READONLY:
            return StoreReadOnlyError(
                f"the SQLite file {path!r} cannot be written ({what}): the file, its directory or "
                "its -wal/-shm files are read-only to this process, or the file was moved or "
                "deleted while open. Make them writable by this user, or copy the file to a "
                "writable place and open the copy.",
                path,
                name,
            )
        if primary == sqlite3.SQLITE_FULL:
            limit = "" if self.max_size is None else f" or the store's max_size ({self.max_size} bytes)"
            return StoreFullError(
                f"the SQLite file {path!r} cannot grow: the disk{limit} is full, so nothing was "
                f"changed ({what}). Free disk space, delete or purge messages, or allow a larger "
                "file.",
                path,
                name,
            )
        if primary == sqlite3.SQLITE_NOTADB:
            return StoreCorruptError(
                f"{path!r} is not an SQLite database ({what}): give the store a rulebus SQLite "
                "file, or a path where a new one can be created.",
                path,
                name,
            )
        if primary == sqlite3.SQLITE_CORRUPT:
            return StoreCorruptError(
                f"the SQLite file {path!r} is damaged ({what}). Restore it from a backup, or "
                "salvage what is readable into a new file with the sqlite3 shell's .recover "
                "command.",
                path,
                name,
            )
        if primary == sqlite3.SQLITE_CANTOPEN:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                return StoreUnavailableError(
                    f"cannot open the SQLite file {path!r}: its directory {directory!r} does not "
                    "exist. Create the directory, or give another path.",
                    path,
                    name,
                )
            return StoreUnavailableError(
                f"cannot open the SQLite file {path!r} ({what}): the path must name a file (not a "
                "directory) that this process may read and write, in a directory it may write "
                "(SQLite creates -wal and -shm files beside it).",
                path,
                name,
            )
        if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_NOLFS):
            return StoreUnavailableError(
                f"the SQLite file {path!r} could not be read or written ({what}): check the disk, "
                "the file system and the file's permissions, then retry.",
                path,
                name,
            )
        return StoreError(f"SQLite failed on {path!r} ({what})", path, name)
