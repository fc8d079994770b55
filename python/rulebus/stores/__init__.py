"""Where the services' state lives: the ``Store`` boundary and its memory, SQLite and Redis backends.

``open_store`` turns a URL (or a file path) into a store; ``Broker(store=...)`` takes either.
Backends: :mod:`rulebus.stores.memory` and :mod:`rulebus.stores.sqlite`; the boundary itself is
:mod:`rulebus.stores.base`, the records it exchanges :mod:`rulebus.stores.records`.
"""

from __future__ import annotations

import os

from rulebus.stores.base import (
    BusStore,
    IdempotencyStore,
    InvalidStoreURL,
    NotFound,
    QueueStore,
    Store,
    StreamStore,
    TopicStore,
)
from rulebus.stores.memory import MemoryStore
from rulebus.stores.sqlite import IN_MEMORY_REFUSED, SQLiteStore

__all__ = [
    "SCHEMES",
    "BusStore",
    "IdempotencyStore",
    "InvalidStoreURL",
    "MemoryStore",
    "NotFound",
    "QueueStore",
    "SQLiteStore",
    "Store",
    "StreamStore",
    "TopicStore",
    "open_store",
]

#: The URL schemes :func:`open_store` knows.
SCHEMES = ("memory", "sqlite", "redis", "rediss", "redis+cluster", "rediss+cluster")


def open_store(url: str | os.PathLike[str]) -> Store:
    """A new store for ``url``:

    - ``"memory://"``: a :class:`MemoryStore` (state in this process only);
    - ``"sqlite:///relative/app.db"`` (three slashes: a path relative to the working directory)
      or ``"sqlite:////abs/app.db"`` (four: an absolute path), as SQLAlchemy writes them: a
      :class:`SQLiteStore` on that file;
    - ``"redis://host:6379/0"`` or ``"rediss://..."`` (TLS): a
      :class:`~rulebus.stores.redis.RedisStore` on that server (``?prefix=name`` keeps stores
      apart in one database; needs ``pip install 'rulebus[redis]'``), and
      ``"redis+cluster://host:7000,host:7001"`` (``rediss+cluster://`` for TLS): the same on a
      Redis Cluster given by its seed nodes;
    - a plain path (``str`` without ``://``, or ``os.PathLike``): a :class:`SQLiteStore` on it.

    An empty path, ``":memory:"``, ``"sqlite://"`` and ``"sqlite:///:memory:"`` raise
    :class:`InvalidStoreURL` (SQLite would give every thread its own empty database: use
    ``"memory://"``); anything else unknown raises it naming the schemes known."""
    if not isinstance(url, str):
        return SQLiteStore(os.fspath(url))
    scheme, separator, rest = url.partition("://")
    if not separator:
        if not url:
            raise InvalidStoreURL(f"a store URL or path must not be empty: {IN_MEMORY_REFUSED}")
        return SQLiteStore(url)  # which refuses ":memory:"
    if scheme == "memory":
        if rest:
            raise InvalidStoreURL(f"a memory store takes no path: use 'memory://', not {url!r}")
        return MemoryStore()
    if scheme == "sqlite":
        if rest in ("", "/"):
            raise InvalidStoreURL(f"{url!r} names no file: {IN_MEMORY_REFUSED}")
        if not rest.startswith("/"):
            raise InvalidStoreURL(
                f"{url!r} names no file: write 'sqlite:///relative/app.db' or 'sqlite:////abs/app.db'"
            )
        path = rest[1:]
        if "?" in path:
            raise InvalidStoreURL(f"{url!r}: a sqlite store URL takes no query parameters")
        return SQLiteStore(path)  # which refuses ":memory:"
    if scheme in ("redis", "rediss", "redis+cluster", "rediss+cluster"):
        from rulebus.stores.redis import RedisStore  # (imports redis-py only when one is opened)

        return RedisStore(url)
    known = ", ".join(f"'{name}://'" for name in SCHEMES)
    raise InvalidStoreURL(f"unknown store URL scheme {scheme!r} in {url!r}: known schemes are {known}")
