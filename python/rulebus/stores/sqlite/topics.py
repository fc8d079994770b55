"""The SQLite store's topics: rows of ``topics``, ``subscriptions``, ``topic_deduplication``,
``topic_sequences`` and the ``topic_version`` counter."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from rulebus.stores.base import TopicStore
from rulebus.stores.records import (
    TOPIC_DEDUPLICATION_WINDOW,
    TOPIC_SEQUENCE_BASE,
    SubscriptionRecord,
    TopicRecord,
)
from rulebus.stores.sqlite.connection import Connections

__all__ = ["SQLiteTopicStore"]


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


class SQLiteTopicStore(TopicStore):
    """Topics in the store's SQLite file, every write one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction

    @staticmethod
    def _next_version(connection: sqlite3.Connection) -> int:
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
        version = SQLiteTopicStore._next_version(connection)
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
                (record.name, json.dumps(dict(record.attributes)), self._next_version(connection)),
            )
            return TopicRecord(record.name, dict(record.attributes))

    def get_topic(self, name: str) -> TopicRecord | None:
        row = self._connection().execute("SELECT attributes FROM topics WHERE name = ?", (name,)).fetchone()
        return TopicRecord(name, json.loads(row[0])) if row is not None else None

    def update_topic(self, record: TopicRecord) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE topics SET attributes = ? WHERE name = ?",
                (json.dumps(dict(record.attributes)), record.name),
            )
            return cursor.rowcount > 0

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
            sequence_number = str((int(row[0]) if row is not None else TOPIC_SEQUENCE_BASE) + step)
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
