"""What the stores keep for SNS: topics, their subscriptions and the FIFO topics' deduplication
and sequence state.

Why a module of its own (as ``rulebus.stores.buses``): the topic state is a separate concern with its
own tables, so it lives here as the ``TopicStore`` interface plus one mixin per store kind
(``MemoryTopicStore``, ``SQLiteTopicStore``), which ``MemoryStore`` and ``SQLiteStore`` inherit.
Topic code sees only ``TopicStore``'s methods, never which store it runs on.

A topic's *subscription version* changes whenever its subscriptions do, and comes from one counter
across all topics, so a deleted and re-created topic never repeats a version: a ``Topic`` object
keeps its subscriptions and refreshes them only when the version moved.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rulebus.stores.sqlite_host import SQLiteHost

__all__ = [
    "TOPIC_DEDUPLICATION_WINDOW",
    "MemoryTopicStore",
    "SQLiteTopicStore",
    "SubscriptionRecord",
    "TopicRecord",
    "TopicStore",
]

#: FIFO topic deduplication window in seconds: five minutes, as a FIFO queue's
#: (``rulebus.stores.queues.DEDUPLICATION_WINDOW``).
TOPIC_DEDUPLICATION_WINDOW = 300.0

#: Where a topic's FIFO sequence counter starts (20 digits, as the queues' numbers).
_TOPIC_SEQUENCE_BASE = 10_000_000_000_000_000_000


@dataclass(frozen=True)
class TopicRecord:
    """One SNS topic as a store keeps it: its name and the attributes CreateTopic set."""

    name: str
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class SubscriptionRecord:
    """One subscription of a topic as a store keeps it. ``endpoint`` is the SQS queue ARN or the
    HTTP/S URL. Subscriptions to Python callables are never stored (they cannot be persisted):
    the topic that made them keeps them in its process only."""

    subscription_arn: str
    topic: str
    protocol: str
    endpoint: str
    owner: str
    filter_policy: str | None = None
    filter_policy_scope: str | None = None
    raw_message_delivery: bool = False
    delivery_policy: str | None = None
    redrive_policy: str | None = None
    pending_confirmation: bool = False
    token: str | None = None
    token_issued: float = 0.0


class TopicStore(ABC):
    """The topic half of the ``Store`` interface. Every method is atomic; on SQLite, every broker
    on the file sees the changes."""

    @abstractmethod
    def create_topic(self, record: TopicRecord) -> TopicRecord:
        """Insert ``record`` unless a topic of that name exists; return the stored one."""

    @abstractmethod
    def get_topic(self, name: str) -> TopicRecord | None:
        """The topic's record, or None."""

    @abstractmethod
    def delete_topic(self, name: str) -> None:
        """Remove the topic, its subscriptions and its FIFO state; absent topics are no error."""

    @abstractmethod
    def topic_names(self) -> list[str]:
        """Every topic's name, sorted."""

    @abstractmethod
    def add_subscription(self, record: SubscriptionRecord) -> tuple[SubscriptionRecord, int]:
        """Insert ``record`` unless the topic has a subscription with the same protocol and
        endpoint (then return that one: the caller compares settings). Also returns the topic's
        subscription version after the call (see :meth:`subscriptions_version`)."""

    @abstractmethod
    def update_subscription(self, record: SubscriptionRecord) -> int:
        """Replace a stored subscription (e.g. confirmed); return the new subscription version."""

    @abstractmethod
    def remove_subscription(self, topic: str, subscription_arn: str) -> tuple[bool, int]:
        """Delete a subscription; whether it was there, and the subscription version after."""

    @abstractmethod
    def subscriptions(self, topic: str) -> tuple[int, list[SubscriptionRecord]]:
        """The topic's subscription version and subscriptions, in subscription order, at one instant."""

    @abstractmethod
    def subscriptions_version(self, topic: str) -> int:
        """A number that changes whenever the topic's set of subscriptions (or one of them)
        changes, never reused across deleting and re-creating a topic (-1 for no topic)."""

    @abstractmethod
    def fifo_publish(
        self, topic: str, scope: str, deduplication_id: str, message_id: str, now: float, step: int
    ) -> tuple[str, str]:
        """A FIFO topic publish, atomically: when ``(scope, deduplication_id)`` was published less
        than :data:`TOPIC_DEDUPLICATION_WINDOW` seconds before ``now``, the earlier ``(message id,
        sequence number)``; else advance the topic's sequence counter by ``step``, remember the
        id for the window and return ``(message_id, new sequence number)``."""


# --------------------------------------------------------------------------------------------
# Memory.


@dataclass
class _MemoryTopic:
    record: TopicRecord
    version: int
    subscriptions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    # FIFO: (scope, deduplication id) -> (window end, message id, sequence number).
    deduplication: dict[tuple[str, str], tuple[float, str, str]] = field(default_factory=dict)
    sequence: int = _TOPIC_SEQUENCE_BASE


class MemoryTopicStore(TopicStore):
    """The topic state in dictionaries, behind the host store's lock (``MemoryStore._lock``), so a
    topic operation is atomic with respect to every other store operation. The host's
    ``__init__`` calls :meth:`_init_topic_state`."""

    _lock: threading.Lock  # created by MemoryStore.__init__

    def _init_topic_state(self) -> None:
        self._topics: dict[str, _MemoryTopic] = {}
        self._topic_versions = 0  # subscription versions, increasing across all topics
        self._topic_orphans: dict[str, _MemoryTopic] = {}  # FIFO state of topics published after deletion

    def _next_topic_version(self) -> int:
        self._topic_versions += 1
        return self._topic_versions

    def create_topic(self, record: TopicRecord) -> TopicRecord:
        with self._lock:
            existing = self._topics.get(record.name)
            if existing is None:
                self._topic_orphans.pop(record.name, None)
                existing = self._topics[record.name] = _MemoryTopic(record, self._next_topic_version())
            return existing.record

    def get_topic(self, name: str) -> TopicRecord | None:
        with self._lock:
            topic = self._topics.get(name)
            return topic.record if topic is not None else None

    def delete_topic(self, name: str) -> None:
        with self._lock:
            self._topics.pop(name, None)
            self._topic_orphans.pop(name, None)

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
            topic.version = self._next_topic_version()
            return record, topic.version

    def update_subscription(self, record: SubscriptionRecord) -> int:
        with self._lock:
            topic = self._topics.get(record.topic)
            if topic is None:
                return -1
            if record.subscription_arn in topic.subscriptions:
                topic.subscriptions[record.subscription_arn] = record
                topic.version = self._next_topic_version()
            return topic.version

    def remove_subscription(self, topic: str, subscription_arn: str) -> tuple[bool, int]:
        with self._lock:
            state = self._topics.get(topic)
            if state is None:
                return False, -1
            if state.subscriptions.pop(subscription_arn, None) is None:
                return False, state.version
            state.version = self._next_topic_version()
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
                state = self._topic_orphans.setdefault(topic, _MemoryTopic(TopicRecord(topic, {}), -1))
            seen = state.deduplication
            for key in [key for key, entry in seen.items() if entry[0] <= now]:
                del seen[key]
            earlier = seen.get((scope, deduplication_id))
            if earlier is not None:
                return earlier[1], earlier[2]
            state.sequence += step
            sequence_number = str(state.sequence)
            seen[(scope, deduplication_id)] = (now + TOPIC_DEDUPLICATION_WINDOW, message_id, sequence_number)
            return message_id, sequence_number


# --------------------------------------------------------------------------------------------
# SQLite.

# Table definitions as they were in ``rulebus.stores.queues``'s schema, unchanged, so files made before
# this module existed open as they are.
_TOPIC_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_arn TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    owner TEXT NOT NULL,
    filter_policy TEXT,
    filter_policy_scope TEXT,
    raw_message_delivery INTEGER NOT NULL,
    delivery_policy TEXT,
    redrive_policy TEXT,
    pending_confirmation INTEGER NOT NULL,
    token TEXT,
    token_issued REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS topic_deduplication (
    topic TEXT NOT NULL,
    scope TEXT NOT NULL,
    deduplication_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (topic, scope, deduplication_id)
);
-- Sequence numbers exceed SQLite's 64-bit integers, hence TEXT.
CREATE TABLE IF NOT EXISTS topic_sequences (
    topic TEXT PRIMARY KEY,
    sequence TEXT NOT NULL
);
-- Named counters; the only one is 'topic_version' (see SQLiteTopicStore._next_topic_version).
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic, seq);
"""

_SUBSCRIPTION_COLUMNS = (
    "subscription_arn, topic, protocol, endpoint, owner, filter_policy, filter_policy_scope, "
    "raw_message_delivery, delivery_policy, redrive_policy, pending_confirmation, token, token_issued"
)


def _subscription_row(r: SubscriptionRecord) -> tuple[Any, ...]:
    return (
        r.subscription_arn,
        r.topic,
        r.protocol,
        r.endpoint,
        r.owner,
        r.filter_policy,
        r.filter_policy_scope,
        int(r.raw_message_delivery),
        r.delivery_policy,
        r.redrive_policy,
        int(r.pending_confirmation),
        r.token,
        r.token_issued,
    )


def _subscription_from_row(row: Sequence[Any]) -> SubscriptionRecord:
    return SubscriptionRecord(
        subscription_arn=row[0],
        topic=row[1],
        protocol=row[2],
        endpoint=row[3],
        owner=row[4],
        filter_policy=row[5],
        filter_policy_scope=row[6],
        raw_message_delivery=bool(row[7]),
        delivery_policy=row[8],
        redrive_policy=row[9],
        pending_confirmation=bool(row[10]),
        token=row[11],
        token_issued=row[12],
    )


class SQLiteTopicStore(SQLiteHost, TopicStore):
    """The topic state in the host store's SQLite file (``SQLiteStore``), in its transactions. The
    host's ``__init__`` calls :meth:`_init_topic_schema`."""

    def _init_topic_schema(self, connection: sqlite3.Connection) -> None:
        connection.executescript(_TOPIC_SCHEMA)  # idempotent

    @staticmethod
    def _next_topic_version(connection: sqlite3.Connection) -> int:
        connection.execute("INSERT OR IGNORE INTO counters (name, value) VALUES ('topic_version', 0)")
        connection.execute("UPDATE counters SET value = value + 1 WHERE name = 'topic_version'")
        return int(
            connection.execute("SELECT value FROM counters WHERE name = 'topic_version'").fetchone()[0]
        )

    @staticmethod
    def _topic_version(connection: sqlite3.Connection, topic: str) -> int:
        row = connection.execute("SELECT version FROM topics WHERE name = ?", (topic,)).fetchone()
        return int(row[0]) if row is not None else -1

    @staticmethod
    def _bump_topic(connection: sqlite3.Connection, topic: str) -> int:
        version = SQLiteTopicStore._next_topic_version(connection)
        connection.execute("UPDATE topics SET version = ? WHERE name = ?", (version, topic))
        return version

    def create_topic(self, record: TopicRecord) -> TopicRecord:
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT attributes FROM topics WHERE name = ?", (record.name,)
            ).fetchone()
            if row is not None:
                return TopicRecord(record.name, json.loads(row[0]))
            connection.execute("DELETE FROM topic_deduplication WHERE topic = ?", (record.name,))
            connection.execute("DELETE FROM topic_sequences WHERE topic = ?", (record.name,))
            connection.execute(
                "INSERT INTO topics (name, attributes, version) VALUES (?, ?, ?)",
                (record.name, json.dumps(dict(record.attributes)), self._next_topic_version(connection)),
            )
            return TopicRecord(record.name, dict(record.attributes))

    def get_topic(self, name: str) -> TopicRecord | None:
        row = self._connection().execute("SELECT attributes FROM topics WHERE name = ?", (name,)).fetchone()
        return TopicRecord(name, json.loads(row[0])) if row is not None else None

    def delete_topic(self, name: str) -> None:
        with self._transaction() as connection:
            for table, column in (
                ("subscriptions", "topic"),
                ("topic_deduplication", "topic"),
                ("topic_sequences", "topic"),
                ("topics", "name"),
            ):
                connection.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))

    def topic_names(self) -> list[str]:
        rows = self._connection().execute("SELECT name FROM topics ORDER BY name").fetchall()
        return [row[0] for row in rows]

    def add_subscription(self, record: SubscriptionRecord) -> tuple[SubscriptionRecord, int]:
        with self._transaction() as connection:
            version = self._topic_version(connection, record.topic)
            if version == -1:
                return record, -1
            row = connection.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions "
                "WHERE topic = ? AND protocol = ? AND endpoint = ?",
                (record.topic, record.protocol, record.endpoint),
            ).fetchone()
            if row is not None:
                return _subscription_from_row(row), version
            connection.execute(
                f"INSERT INTO subscriptions ({_SUBSCRIPTION_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                _subscription_row(record),
            )
            return record, self._bump_topic(connection, record.topic)

    def update_subscription(self, record: SubscriptionRecord) -> int:
        with self._transaction() as connection:
            version = self._topic_version(connection, record.topic)
            if version == -1:
                return -1
            assignments = ", ".join(f"{column} = ?" for column in _SUBSCRIPTION_COLUMNS.split(", "))
            cursor = connection.execute(
                f"UPDATE subscriptions SET {assignments} WHERE subscription_arn = ?",
                (*_subscription_row(record), record.subscription_arn),
            )
            return self._bump_topic(connection, record.topic) if cursor.rowcount else version

    def remove_subscription(self, topic: str, subscription_arn: str) -> tuple[bool, int]:
        with self._transaction() as connection:
            version = self._topic_version(connection, topic)
            if version == -1:
                return False, -1
            cursor = connection.execute(
                "DELETE FROM subscriptions WHERE topic = ? AND subscription_arn = ?",
                (topic, subscription_arn),
            )
            if not cursor.rowcount:
                return False, version
            return True, self._bump_topic(connection, topic)

    def subscriptions(self, topic: str) -> tuple[int, list[SubscriptionRecord]]:
        with self._transaction("BEGIN") as connection:  # one snapshot: the version and the rows agree
            version = self._topic_version(connection, topic)
            rows = connection.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE topic = ? ORDER BY seq", (topic,)
            ).fetchall()
            return version, [_subscription_from_row(row) for row in rows]

    def subscriptions_version(self, topic: str) -> int:
        return self._topic_version(self._connection(), topic)

    def fifo_publish(
        self, topic: str, scope: str, deduplication_id: str, message_id: str, now: float, step: int
    ) -> tuple[str, str]:
        with self._transaction() as connection:
            connection.execute(
                "DELETE FROM topic_deduplication WHERE topic = ? AND expires_at <= ?", (topic, now)
            )
            earlier = connection.execute(
                "SELECT message_id, sequence_number FROM topic_deduplication "
                "WHERE topic = ? AND scope = ? AND deduplication_id = ?",
                (topic, scope, deduplication_id),
            ).fetchone()
            if earlier is not None:
                return str(earlier[0]), str(earlier[1])
            row = connection.execute(
                "SELECT sequence FROM topic_sequences WHERE topic = ?", (topic,)
            ).fetchone()
            sequence_number = str((int(row[0]) if row is not None else _TOPIC_SEQUENCE_BASE) + step)
            connection.execute(
                "INSERT OR REPLACE INTO topic_sequences (topic, sequence) VALUES (?, ?)",
                (topic, sequence_number),
            )
            connection.execute(
                "INSERT INTO topic_deduplication VALUES (?, ?, ?, ?, ?, ?)",
                (
                    topic,
                    scope,
                    deduplication_id,
                    message_id,
                    sequence_number,
                    now + TOPIC_DEDUPLICATION_WINDOW,
                ),
            )
            return message_id, sequence_number
