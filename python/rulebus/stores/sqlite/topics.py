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
from rulebus.stores.sqlite.corrupt import (
    DECODE_ERRORS,
    damaged,
    decode_members,
    integer,
    json_object,
    number,
    optional_json_object,
    optional_text,
    set_aside_row,
    text,
)

__all__ = ["SQLiteTopicStore"]


_SUBSCRIPTION_COLUMNS = (
    "subscription_arn, topic, protocol, endpoint, owner, filter_policy, filter_policy_scope, "
    "raw_message_delivery, delivery_policy, redrive_policy, pending_confirmation, token, token_issued, "
    "subscription_role_arn"
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
        r.subscription_role_arn,
    )


def _subscription_from_row(row: Sequence[Any]) -> SubscriptionRecord:
    """The subscription of a row; DECODE_ERRORS if the row cannot be decoded (a JSON column that
    is not a JSON object, a column of the wrong type)."""
    redrive_policy = optional_json_object(row[9], "redrive_policy")
    if redrive_policy is not None:
        text(json.loads(redrive_policy)["deadLetterTargetArn"], "redrive_policy")
    return SubscriptionRecord(
        subscription_arn=text(row[0], "subscription_arn"),
        topic=text(row[1], "topic"),
        protocol=text(row[2], "protocol"),
        endpoint=text(row[3], "endpoint"),
        owner=text(row[4], "owner"),
        filter_policy=optional_json_object(row[5], "filter_policy"),
        filter_policy_scope=optional_text(row[6], "filter_policy_scope"),
        raw_message_delivery=bool(integer(row[7], "raw_message_delivery")),
        delivery_policy=optional_json_object(row[8], "delivery_policy"),
        redrive_policy=redrive_policy,
        pending_confirmation=bool(integer(row[10], "pending_confirmation")),
        token=optional_text(row[11], "token"),
        token_issued=number(row[12], "token_issued"),
        subscription_role_arn=optional_text(row[13], "subscription_role_arn"),
    )


def _topic_attributes(path: str, name: str, value: object) -> dict[str, str]:
    """A topic's attributes (a JSON object of text values), or StoreRowCorruptError."""
    try:
        attributes = json_object(value, "attributes")
        for key, item in attributes.items():
            text(item, f"attributes[{key!r}]")
        return attributes
    except DECODE_ERRORS as error:
        raise damaged(
            path,
            "topics",
            f"topic {name!r}",
            error,
            "delete the topic (Broker.delete_topic, which deletes its subscriptions too) and create it again",
        ) from error


class SQLiteTopicStore(TopicStore):
    """Topics in the store's SQLite file, every write one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction
        self._path = connections.path

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
                return TopicRecord(record.name, _topic_attributes(self._path, record.name, row[0]))
            connection.execute("DELETE FROM topic_deduplication WHERE topic = ?", (record.name,))
            connection.execute("DELETE FROM topic_sequences WHERE topic = ?", (record.name,))
            connection.execute(
                "INSERT INTO topics (name, attributes, version) VALUES (?, ?, ?)",
                (record.name, json.dumps(dict(record.attributes)), self._next_version(connection)),
            )
            return TopicRecord(record.name, dict(record.attributes))

    def get_topic(self, name: str) -> TopicRecord | None:
        row = self._connection().execute("SELECT attributes FROM topics WHERE name = ?", (name,)).fetchone()
        return TopicRecord(name, _topic_attributes(self._path, name, row[0])) if row is not None else None

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
                try:
                    return _subscription_from_row(row), version
                except DECODE_ERRORS as error:  # set aside: the new one takes its place
                    self._set_aside(connection, row[0], record.topic, error)
                    version = self._bump_topic(connection, record.topic)
            connection.execute(
                f"INSERT INTO subscriptions ({_SUBSCRIPTION_COLUMNS}) VALUES ({', '.join('?' * 14)})",
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
        while True:
            with self._transaction("BEGIN") as connection:  # one snapshot: the version and rows agree
                version = self._topic_version(connection, topic)
                rows = connection.execute(
                    f"SELECT seq, {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE topic = ? ORDER BY seq",
                    (topic,),
                ).fetchall()
            records, damaged_rows = decode_members(_subscription_from_row, rows)
            if not damaged_rows:
                return version, records
            # Set aside in a write transaction of its own, the topic's version moved (every
            # broker on the file sees the change), then read again.
            with self._transaction() as connection:
                for seq, why in damaged_rows:
                    if self._set_aside(connection, seq, topic, why):
                        self._bump_topic(connection, topic)

    @staticmethod
    def _set_aside(
        connection: sqlite3.Connection, seq_or_arn: int | str, topic: str, error: BaseException
    ) -> bool:
        """Set a subscription row aside (by seq, or by ARN) unless it is gone or now decodes."""
        column = "seq" if isinstance(seq_or_arn, int) else "subscription_arn"
        row = connection.execute(
            f"SELECT subscription_arn, {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE {column} = ?",
            (seq_or_arn,),
        ).fetchone()
        if row is None:
            return False
        try:
            _subscription_from_row(row[1:])
            return False  # rewritten meanwhile
        except DECODE_ERRORS:
            pass
        key = row[0] if isinstance(row[0], str) else None
        return set_aside_row(
            connection, "subscriptions", f"{column} = ?", (seq_or_arn,), topic, key or str(seq_or_arn), error
        )

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
