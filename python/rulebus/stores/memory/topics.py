"""The memory store's topics, subscriptions and FIFO topic state."""

from __future__ import annotations

from dataclasses import dataclass, field

from rulebus.stores.base import TopicStore
from rulebus.stores.memory.changes import Changes
from rulebus.stores.memory.fifo import Window
from rulebus.stores.records import (
    TOPIC_DEDUPLICATION_WINDOW,
    TOPIC_SEQUENCE_BASE,
    SubscriptionRecord,
    TopicRecord,
)

__all__ = ["MemoryTopicStore"]


@dataclass
class _MemoryTopic:
    record: TopicRecord
    version: int
    subscriptions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    # FIFO: (scope, deduplication id) -> (message id, sequence number) until the window ends.
    deduplication: Window[tuple[str, str], tuple[str, str]] = field(default_factory=Window)
    sequence: int = TOPIC_SEQUENCE_BASE


class MemoryTopicStore(TopicStore):
    """Topics in dictionaries, every step under the store's one lock."""

    def __init__(self, changes: Changes) -> None:
        self._lock = changes.lock
        self._topics: dict[str, _MemoryTopic] = {}
        self._versions = 0  # subscription versions, increasing across all topics
        self._orphans: dict[str, _MemoryTopic] = {}  # FIFO state of topics published after deletion

    def _next_version(self) -> int:
        self._versions += 1
        return self._versions

    def create_topic(self, record: TopicRecord) -> TopicRecord:
        with self._lock:
            existing = self._topics.get(record.name)
            if existing is None:
                self._orphans.pop(record.name, None)
                existing = self._topics[record.name] = _MemoryTopic(record, self._next_version())
            return existing.record

    def get_topic(self, name: str) -> TopicRecord | None:
        with self._lock:
            topic = self._topics.get(name)
            return topic.record if topic is not None else None

    def update_topic(self, record: TopicRecord) -> bool:
        with self._lock:
            topic = self._topics.get(record.name)
            if topic is None:
                return False
            topic.record = TopicRecord(record.name, dict(record.attributes))
            return True

    def delete_topic(self, name: str) -> None:
        with self._lock:
            self._topics.pop(name, None)
            self._orphans.pop(name, None)

    def topic_names(self) -> list[str]:
        with self._lock:
            return sorted(self._topics)

    def add_subscription(self, record: SubscriptionRecord) -> tuple[SubscriptionRecord, int]:
        with self._lock:
            topic = self._topics.get(record.topic)
            if topic is None:
                return record, -1
            for existing in topic.subscriptions.values():
                if existing.protocol == record.protocol and existing.endpoint == record.endpoint:
                    return existing, topic.version
            topic.subscriptions[record.subscription_arn] = record
            topic.version = self._next_version()
            return record, topic.version

    def update_subscription(self, record: SubscriptionRecord) -> int:
        with self._lock:
            topic = self._topics.get(record.topic)
            if topic is None:
                return -1
            if record.subscription_arn in topic.subscriptions:
                topic.subscriptions[record.subscription_arn] = record
                topic.version = self._next_version()
            return topic.version

    def remove_subscription(self, topic: str, subscription_arn: str) -> tuple[bool, int]:
        with self._lock:
            state = self._topics.get(topic)
            if state is None:
                return False, -1
            if state.subscriptions.pop(subscription_arn, None) is None:
                return False, state.version
            state.version = self._next_version()
            return True, state.version

    def subscriptions(self, topic: str) -> tuple[int, list[SubscriptionRecord]]:
        with self._lock:
            state = self._topics.get(topic)
            if state is None:
                return -1, []
            return state.version, list(state.subscriptions.values())

    def subscriptions_version(self, topic: str) -> int:
        # Without the lock: one dict look-up and one attribute read, each atomic, and every
        # publish asks (a version read just before a change is as good as one under the lock).
        state = self._topics.get(topic)
        return state.version if state is not None else -1

    def fifo_publish(
        self, topic: str, scope: str, deduplication_id: str, message_id: str, now: float, step: int
    ) -> tuple[str, str]:
        with self._lock:
            state = self._topics.get(topic)
            if state is None:
                # Deleted under its Topic object: keep its FIFO state until the name is reused.
                state = self._orphans.setdefault(topic, _MemoryTopic(TopicRecord(topic, {}), -1))
            seen = state.deduplication
            seen.expire(now)
            earlier = seen.get((scope, deduplication_id), now)
            if earlier is not None:
                return earlier
            state.sequence += step
            sequence_number = str(state.sequence)
            seen.put(
                (scope, deduplication_id), now + TOPIC_DEDUPLICATION_WINDOW, (message_id, sequence_number)
            )
            return message_id, sequence_number
