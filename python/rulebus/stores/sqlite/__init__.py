"""The SQLite store: every part's state in one SQLite file, shared safely by threads and
processes (each write one ``BEGIN IMMEDIATE`` transaction on the thread's own connection)."""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager

from rulebus.stores.base import InvalidStoreURL, Store
from rulebus.stores.sqlite.buses import SQLiteBusStore
from rulebus.stores.sqlite.connection import DEFAULT_BUSY_TIMEOUT, Connections
from rulebus.stores.sqlite.corrupt import CorruptMessage, CorruptRow, corrupt_messages, corrupt_rows
from rulebus.stores.sqlite.idempotency import SQLiteIdempotencyStore
from rulebus.stores.sqlite.queues import SQLiteQueueStore
from rulebus.stores.sqlite.schema import create_schema
from rulebus.stores.sqlite.streams import SQLiteStreamStore
from rulebus.stores.sqlite.tags import SQLiteTagStore
from rulebus.stores.sqlite.topics import SQLiteTopicStore

__all__ = ["IN_MEMORY_REFUSED", "CorruptMessage", "CorruptRow", "SQLiteStore"]

#: Why an SQLite store needs a file: SQLite gives each connection (here, each thread) its own
#: private in-memory database, so threads would not see each other's queues.
IN_MEMORY_REFUSED = (
    "an SQLite store needs a file: an in-memory SQLite database would be a different empty "
    "database in every thread. Use Broker() for an in-memory broker (as a store URL, use "
    "'memory://'), or give a file path such as Broker('app.db')"
)

# Long polling across processes: poll PRAGMA data_version with a growing sleep (never spinning).
_POLL_FIRST = 0.005
_POLL_MAX = 0.1


class SQLiteStore(Store):
    """State in the SQLite file at ``path`` (created with its tables if absent; files made by
    earlier versions open as they are). ``Broker("app.db")`` uses one.

    ``busy_timeout``: seconds a write waits for the file's lock, held by another connection or
    process, before failing with :class:`~rulebus.StoreLockedError` (a long poll waits no longer
    than its own wait). ``max_size``: if given, the file may not grow past about this many bytes;
    a change that would make it fails with :class:`~rulebus.StoreFullError`. Every failure of
    the file is a :class:`~rulebus.StoreError`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        max_size: int | None = None,
    ) -> None:
        if os.fspath(path) in ("", ":memory:"):
            raise InvalidStoreURL(IN_MEMORY_REFUSED)
        connections = Connections(path, busy_timeout, max_size)
        try:
            create_schema(connections.connection(), connections.path)
        except BaseException:
            connections.close()  # a file that cannot be opened keeps nothing open
            raise
        super().__init__(
            SQLiteQueueStore(connections),
            SQLiteTopicStore(connections),
            SQLiteBusStore(connections),
            SQLiteStreamStore(connections),
            SQLiteIdempotencyStore(connections),
            SQLiteTagStore(connections),
        )
        self._connections = connections

    @property
    def path(self) -> str:
        return self._connections.path

    def version(self) -> int:
        # data_version changes when *another* connection (thread or process) commits; this
        # connection's own commits do not change it, which is what a waiting receiver wants.
        return self._connections.data_version()

    def wait(self, since: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = _POLL_FIRST
        while self.version() == since:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, _POLL_MAX)

    def corrupt_messages(self) -> list[CorruptMessage]:
        """The message rows a receive (or a move task) could not decode and set aside, oldest
        first; each was logged as a warning on the ``rulebus.stores.sqlite`` logger."""
        return corrupt_messages(self._connections.connection())

    def corrupt_rows(self) -> list[CorruptRow]:
        """Every row that could not be decoded and was set aside so that the rest of its
        resource works: messages (also listed by :meth:`corrupt_messages`), subscriptions, rules,
        targets and stream records, in the order found; each was logged as a warning on the
        ``rulebus.stores.sqlite`` logger. A damaged row that is a resource itself (a queue, a
        topic, a stream or one of its shards, a bus, an archive, a replay, an idempotency key)
        stays where it is: using that resource raises :class:`~rulebus.StoreCorruptError`."""
        return corrupt_rows(self._connections.connection())

    def lock_wait(self, seconds: float) -> AbstractContextManager[None]:
        return self._connections.lock_wait(seconds)

    def close(self) -> None:
        self._connections.close()
