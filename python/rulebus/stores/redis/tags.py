"""The Redis store's tags: one hash per resource ARN, each step one command on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rulebus.stores.base import TagStore
from rulebus.stores.redis.connection import Connection

__all__ = ["RedisTagStore"]


class RedisTagStore(TagStore):
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def _key(self, resource: str) -> str:
        return self._db.key(f"{{tags:{resource}}}")

    def tags(self, resource: str) -> dict[str, str]:
        return dict(self._db.call("HGETALL", self._key(resource)))

    def tag_resource(self, resource: str, tags: Mapping[str, str]) -> None:
        if tags:
            self._db.call("HSET", self._key(resource), *[part for item in tags.items() for part in item])

    def untag_resource(self, resource: str, keys: Sequence[str]) -> None:
        if keys:
            self._db.call("HDEL", self._key(resource), *keys)

    def delete_tags(self, resource: str) -> None:
        self._db.call("DEL", self._key(resource))
