"""The SQLite file's schema version: stamped on open, an older file upgraded, a newer one refused
(not misread, not changed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rulebus import Broker, StoreError, StoreVersionError
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores import SQLiteStore
from rulebus.stores.sqlite.schema import SCHEMA_VERSION


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_new_file_is_stamped_with_this_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Broker(path).close()
    assert user_version(path) == SCHEMA_VERSION >= 1


# The first schema's queues and messages, as files made before the version was stamped have them.
FIRST_SCHEMA = """
CREATE TABLE queues (
    name TEXT PRIMARY KEY, attributes TEXT NOT NULL, created_timestamp REAL NOT NULL,
    last_modified_timestamp REAL NOT NULL, last_purge_timestamp REAL
);
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT NOT NULL,
    body TEXT NOT NULL, md5_of_body TEXT NOT NULL, message_attributes TEXT NOT NULL,
    md5_of_message_attributes TEXT, sender_id TEXT NOT NULL, sent_timestamp REAL NOT NULL,
    visible_at REAL NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_timestamp REAL, last_receive_timestamp REAL
);
"""


def keep_a_message(raw: sqlite3.Connection) -> None:
    """The queue ``q`` holding one visible message, ``kept``, written as an older rulebus would."""
    raw.execute(
        "INSERT INTO queues VALUES ('q', ?, 1.0, 1.0, NULL)",
        (json.dumps(QueueAttributes.from_aws("q", {}).to_aws()),),
    )
    raw.execute(
        "INSERT INTO messages (queue, message_id, body, md5_of_body, message_attributes, sender_id, "
        "sent_timestamp, visible_at) VALUES ('q', 'id-1', 'kept', '', '{}', 'me', ?, 0)",
        (2e9,),  # sent far in the future of any test clock: never expired
    )


def test_an_older_unstamped_file_is_upgraded_on_open_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:
        raw.executescript(FIRST_SCHEMA)
        keep_a_message(raw)
    assert user_version(path) == 0
    with Broker(path) as broker:
        assert [m.body for m in broker.queue("q").receive()] == ["kept"]
    assert user_version(path) == SCHEMA_VERSION
    assert {"fifo_groups", "queue_counts", "topics", "streams"} <= tables(path)


def test_a_file_from_a_newer_rulebus_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    newer = SCHEMA_VERSION + 1
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE queues (name TEXT PRIMARY KEY, layout_of_the_future BLOB)")
        raw.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(StoreVersionError) as refused:
        SQLiteStore(path)
    error = refused.value
    assert isinstance(error, StoreError)
    assert (error.path, error.schema, error.supported) == (str(path), newer, SCHEMA_VERSION)
    text = str(error)
    assert f"newer rulebus (schema {newer})" in text
    assert f"reads up to schema {SCHEMA_VERSION}" in text
    assert "Upgrade rulebus" in text
    assert user_version(path) == newer
    assert tables(path) == {"queues"}  # nothing created in it
    with pytest.raises(StoreVersionError):
        Broker(path)  # through the broker too


# A topic and subscription as schema 3 stored them: no subscription_role_arn column.
THIRD_SCHEMA_SUBSCRIPTIONS = """
CREATE TABLE topics (name TEXT PRIMARY KEY, attributes TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, subscription_arn TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
    protocol TEXT NOT NULL, endpoint TEXT NOT NULL, owner TEXT NOT NULL, filter_policy TEXT,
    filter_policy_scope TEXT, raw_message_delivery INTEGER NOT NULL, delivery_policy TEXT,
    redrive_policy TEXT, pending_confirmation INTEGER NOT NULL, token TEXT, token_issued REAL NOT NULL
);
PRAGMA user_version = 3;
"""


def test_a_schema_3_file_gets_the_subscription_role_column_and_keeps_its_subscriptions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "third.db"
    arn = "arn:aws:sns:us-east-1:000000000000:t:1"
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    with sqlite3.connect(path) as raw:
        raw.executescript(THIRD_SCHEMA_SUBSCRIPTIONS)
        raw.execute("INSERT INTO topics VALUES ('t', '{}', 1)")
        raw.execute(
            "INSERT INTO subscriptions (subscription_arn, topic, protocol, endpoint, owner, "
            "raw_message_delivery, pending_confirmation, token_issued) "
            "VALUES (?, 't', 'sqs', ?, '000000000000', 0, 0, 0)",
            (arn, queue),
        )
    with Broker(path) as broker:
        (subscription,) = broker.topic("t").subscriptions
        assert (subscription.subscription_arn, subscription.endpoint) == (arn, queue)
        assert "SubscriptionRoleArn" not in subscription.attributes
    assert user_version(path) == SCHEMA_VERSION
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(subscriptions)")}
    assert "subscription_role_arn" in columns


# Queues and messages as schema 4 stored them, grown from the first schema: no aws_trace_header.
FOURTH_SCHEMA_COLUMNS = """
ALTER TABLE messages ADD COLUMN message_group_id TEXT;
ALTER TABLE messages ADD COLUMN message_deduplication_id TEXT;
ALTER TABLE messages ADD COLUMN sequence_number TEXT;
ALTER TABLE messages ADD COLUMN dead_letter_source_arn TEXT;
ALTER TABLE messages ADD COLUMN promoted INTEGER NOT NULL DEFAULT 0;
PRAGMA user_version = 4;
"""


def test_a_schema_4_file_gets_the_trace_header_column_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "fourth.db"
    with sqlite3.connect(path) as raw:
        raw.executescript(FIRST_SCHEMA + FOURTH_SCHEMA_COLUMNS)
        keep_a_message(raw)
    header = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a9"}}
    with Broker(path) as broker:
        queue = broker.queue("q")
        queue.send("traced", message_system_attributes=header)
        received = queue.receive(max_messages=10, attribute_names=["AWSTraceHeader"])
        assert [(m.body, m.attributes) for m in received] == [
            ("kept", {}),
            ("traced", {"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a9"}),
        ]
    assert user_version(path) == SCHEMA_VERSION
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(messages)")}
    assert "aws_trace_header" in columns
