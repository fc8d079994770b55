"""The Redis store: state on a Redis server, shared by every process and host that opens it.

``open_store("redis://host:6379/0")`` (``rediss://`` for TLS; ``?prefix=name`` keeps several
stores apart in one database). Each atomic step of a service is one Lua script on the keys of
one resource (see ``lua/``), so that Redis runs it whole and a Redis Cluster could shard by
resource: every key of a queue, topic, bus, archive or stream shares one hash tag. Long polls
wait on a stream of change notices (XREAD BLOCK), so a send on one host wakes a receive on
another without polling. docs/stores.md says what survives a Redis restart.
"""

from __future__ import annotations

from rulebus.stores.base import Store
from rulebus.stores.redis.buses import RedisBusStore
from rulebus.stores.redis.connection import Connection
from rulebus.stores.redis.idempotency import RedisIdempotencyStore
from rulebus.stores.redis.queues import RedisQueueStore
from rulebus.stores.redis.streams import RedisStreamStore
from rulebus.stores.redis.tags import RedisTagStore
from rulebus.stores.redis.topics import RedisTopicStore

__all__ = ["RedisStore"]


class RedisStore(Store):
    """A store on a Redis server (``url``: ``redis://`` or ``rediss://``)."""

    def __init__(self, url: str) -> None:
        self._connection = Connection(url)
        connection = self._connection
        super().__init__(
            RedisQueueStore(connection),
            RedisTopicStore(connection),
            RedisBusStore(connection),
            RedisStreamStore(connection),
            RedisIdempotencyStore(connection),
            RedisTagStore(connection),
        )

    @property
    def where(self) -> str:
        """The server, as ``host:port``."""
        return self._connection.where

    def version(self) -> int:
        return self._connection.version()

    def wait(self, since: int, timeout: float) -> None:
        self._connection.wait(since, timeout)

    def close(self) -> None:
        self._connection.close()
