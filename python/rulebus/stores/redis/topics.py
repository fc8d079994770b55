"""The Redis store's SNS topics: each step one Lua script (``lua/topics.lua``) on the topic's
own keys. Subscription versions start, for each topic created, from a store-wide counter
shifted past any version the previous topic of that name could have reached, so a deleted and
re-created topic never repeats one."""

from __future__ import annotations

import json
from typing import Any

from rulebus.stores.base import TopicStore
from rulebus.stores.records import (
    TOPIC_DEDUPLICATION_WINDOW,
    TOPIC_SEQUENCE_BASE,
    SubscriptionRecord,
    TopicRecord,
)
from rulebus.stores.redis.connection import Connection
from rulebus.stores.redis.records import from_json, to_json

__all__ = ["RedisTopicStore"]

# A topic's versions run from (creation number << _VERSION_BITS): room for 2**32 changes.
_VERSION_BITS = 32


class RedisTopicStore(TopicStore):
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._names = connection.key("{rb}:topics")
        self._creations = connection.key("{rb}:topic-creations")

    def _meta(self, name: str) -> str:
        return self._db.key(f"{{t:{name}}}:meta")

    def _step(self, name: str, *args: object) -> Any:
        return self._db.run("topics", [self._meta(name)], list(args))

    def create_topic(self, record: TopicRecord) -> TopicRecord:
        self._db.call("SADD", self._names, record.name)  # first: see RedisQueueStore.create_queue
        first = int(self._db.call("INCR", self._creations)) << _VERSION_BITS
        self._step(record.name, "create", json.dumps(dict(record.attributes)), str(first))
        stored = self.get_topic(record.name)
        return stored if stored is not None else record

    def get_topic(self, name: str) -> TopicRecord | None:
        exists, attrs = self._db.call("HMGET", self._meta(name), "exists", "attrs")
        if exists != "1":
            return None
        return TopicRecord(name, json.loads(attrs))

    def update_topic(self, record: TopicRecord) -> bool:
        return bool(self._step(record.name, "update", json.dumps(dict(record.attributes))))

    def delete_topic(self, name: str) -> None:
        self._step(name, "delete")
        self._db.call("SREM", self._names, name)

    def topic_names(self) -> list[str]:
        names = sorted(self._db.call("SMEMBERS", self._names))
        present = self._db.pipelined([("HGET", self._meta(name), "exists") for name in names])
        return [name for name, flag in zip(names, present) if flag == "1"]

    def add_subscription(self, record: SubscriptionRecord) -> tuple[SubscriptionRecord, int]:
        text, version = self._step(
            record.topic,
            "subscribe",
            record.subscription_arn,
            record.protocol,
            record.endpoint,
            to_json(record),
        )
        if int(version) < 0:
            return record, -1
        return from_json(SubscriptionRecord, text), int(version)

    def update_subscription(self, record: SubscriptionRecord) -> int:
        return int(self._step(record.topic, "resubscribe", record.subscription_arn, to_json(record)))

    def remove_subscription(self, topic: str, subscription_arn: str) -> tuple[bool, int]:
        removed, version = self._step(topic, "unsubscribe", subscription_arn)
        return bool(removed), int(version)

    def subscriptions(self, topic: str) -> tuple[int, list[SubscriptionRecord]]:
        answer = self._step(topic, "subscriptions")
        assert isinstance(answer, list)
        version = int(answer[0])
        return version, [from_json(SubscriptionRecord, text) for text in answer[1:]]

    def subscriptions_version(self, topic: str) -> int:
        exists, version = self._db.call("HMGET", self._meta(topic), "exists", "version")
        return int(version) if exists == "1" else -1

    def fifo_publish(
        self, topic: str, scope: str, deduplication_id: str, message_id: str, now: float, step: int
    ) -> tuple[str, str]:
        key = f"{scope}\0{deduplication_id}"
        found_id, offset = self._step(
            topic, "fifo", key, message_id, repr(float(now)), str(step), repr(TOPIC_DEDUPLICATION_WINDOW)
        )
        return found_id, str(TOPIC_SEQUENCE_BASE + int(offset))
