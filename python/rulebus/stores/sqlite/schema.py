"""The SQLite store's tables: every part's, created on open, and the migrations of files made by
earlier versions. Table and column names are the file format: files made before stay readable,
so a change here adds (tables, columns, indexes) and never renames.

A file carries its schema version in ``PRAGMA user_version`` (the SQLite header's field for the
application's own use): 0 in files made before the version was stamped, :data:`SCHEMA_VERSION`
once this code has opened (and so upgraded) it. A change to the file format that older code
would misread (a column it would not fill, a meaning it would not know) raises
:data:`SCHEMA_VERSION` and adds its migration to :func:`create_schema`; older rulebus versions
then refuse the file instead of misreading it.
"""

from __future__ import annotations

import sqlite3

from rulebus._errors import StoreVersionError

__all__ = ["SCHEMA_VERSION", "create_schema"]

#: The schema this code writes and the newest it reads. 1: every table below but ``tags`` (and
#: the ``corrupt_messages`` and ``corrupt_rows`` tables, created when first needed). 2: ``tags``
#: (version 1 would keep a deleted resource's tags for the next resource of its name). 3:
#: ``stream_consumers`` (version 2 would delete a stream and leave its registered consumers). 4:
#: ``subscriptions.subscription_role_arn`` and subscriptions of protocols rulebus does not deliver
#: to (email, sms, lambda, firehose), which version 3 would try to deliver to as Kinesis streams.
#: 5: ``messages.aws_trace_header`` (a send's AWSTraceHeader, which version 4 would drop when it
#: moves a message to its dead-letter queue or redrives it). 6: ``stream_leases`` and
#: ``stream_workers`` (consumer groups; version 5 would read a group's shards with no lease and
#: move checkpoints that a lease holder owns).
SCHEMA_VERSION = 6

QUEUES = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    created_timestamp REAL NOT NULL,
    last_modified_timestamp REAL NOT NULL,
    last_purge_timestamp REAL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5_of_body TEXT NOT NULL,
    message_attributes TEXT NOT NULL,
    md5_of_message_attributes TEXT,
    sender_id TEXT NOT NULL,
    sent_timestamp REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_timestamp REAL,
    last_receive_timestamp REAL,
    message_group_id TEXT,
    message_deduplication_id TEXT,
    sequence_number TEXT,
    dead_letter_source_arn TEXT,
    promoted INTEGER NOT NULL DEFAULT 0,
    aws_trace_header TEXT
);
CREATE TABLE IF NOT EXISTS deduplication (
    queue TEXT NOT NULL,
    scope TEXT NOT NULL,
    deduplication_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT,
    expires_at REAL NOT NULL,
    PRIMARY KEY (queue, scope, deduplication_id)
);
CREATE TABLE IF NOT EXISTS deleted_queues (
    name TEXT PRIMARY KEY,
    deleted_at REAL NOT NULL
);
-- FIFO ReceiveRequestAttemptIds: what each receive returned, as JSON entries.
CREATE TABLE IF NOT EXISTS receive_attempts (
    queue TEXT NOT NULL,
    attempt_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (queue, attempt_id)
);
CREATE TABLE IF NOT EXISTS move_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    source_arn TEXT NOT NULL,
    destination_arn TEXT,
    max_number_of_messages_per_second INTEGER,
    rate INTEGER NOT NULL,
    started_timestamp REAL NOT NULL,
    approximate_number_of_messages_to_move INTEGER NOT NULL,
    status TEXT NOT NULL,
    approximate_number_of_messages_moved INTEGER NOT NULL,
    failure_reason TEXT,
    rate_window INTEGER NOT NULL,
    window_moved INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS move_tasks_by_source ON move_tasks (source_arn, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (queue, message_id);
CREATE INDEX IF NOT EXISTS messages_by_age ON messages (queue, sent_timestamp);
-- Expiring deduplication ids and receive attempts costs what expires, not what is kept.
CREATE INDEX IF NOT EXISTS deduplication_by_expiry ON deduplication (queue, expires_at);
CREATE INDEX IF NOT EXISTS receive_attempts_by_age ON receive_attempts (queue, received_at);
"""

#: A FIFO queue's message groups filed for receiving (see rulebus.stores.semantics.FifoGroups):
#: ready under ``head_seq`` (no later than the seq of the group's first message) when
#: ``wake_at`` is NULL, else waiting until ``wake_at``. Created with the messages' group index
#: once the columns it needs exist, and filled from the messages when a file made before it
#: is opened.
FIFO_GROUPS = """
CREATE TABLE fifo_groups (
    queue TEXT NOT NULL,
    group_id TEXT NOT NULL,
    head_seq INTEGER NOT NULL,
    wake_at REAL,
    PRIMARY KEY (queue, group_id)
);
CREATE INDEX fifo_groups_ready ON fifo_groups (queue, head_seq) WHERE wake_at IS NULL;
CREATE INDEX fifo_groups_waiting ON fifo_groups (queue, wake_at) WHERE wake_at IS NOT NULL;
INSERT INTO fifo_groups (queue, group_id, head_seq)
    SELECT queue, message_group_id, MIN(seq) FROM messages
    WHERE message_group_id IS NOT NULL AND queue IN (SELECT name FROM queues WHERE name LIKE '%.fifo')
    GROUP BY queue, message_group_id;
"""
#: Where a message is filed for receiving, as the memory store's queues file theirs: ``promoted``
#: 1 files it as visible, in send order (a standard receive takes the first ones, however many
#: are hidden); 0 as hidden, by ``visible_at`` (delayed, or in flight), until a receive finds
#: it due and promotes it. Replaces the older indexes on (queue, visible_at, seq) and
#: (queue, seq, visible_at), whose walks crossed every hidden row.
FILING = """
CREATE INDEX IF NOT EXISTS messages_receivable ON messages (queue, seq) WHERE promoted = 1;
CREATE INDEX IF NOT EXISTS messages_hidden ON messages (queue, visible_at) WHERE promoted = 0;
DROP INDEX IF EXISTS messages_by_visibility;
DROP INDEX IF EXISTS messages_by_order;
"""

#: Per queue: its rows, those filed hidden, and those filed hidden that were received (in flight
#: once promotion is done). Kept in the transactions that change them, so GetQueueAttributes and
#: the in-flight limit read three numbers instead of counting rows. Filled from the messages
#: when a file made before it is opened.
QUEUE_COUNTS = """
CREATE TABLE queue_counts (
    queue TEXT PRIMARY KEY,
    messages INTEGER NOT NULL,
    hidden INTEGER NOT NULL,
    in_flight INTEGER NOT NULL
);
INSERT INTO queue_counts
    SELECT name,
        (SELECT COUNT(*) FROM messages WHERE queue = name),
        (SELECT COUNT(*) FROM messages WHERE queue = name AND promoted = 0),
        (SELECT COUNT(*) FROM messages WHERE queue = name AND promoted = 0 AND receive_count > 0)
    FROM queues;
"""

MESSAGES_BY_GROUP = (
    "CREATE INDEX IF NOT EXISTS messages_by_group ON messages (queue, message_group_id, seq) "
    "WHERE message_group_id IS NOT NULL"
)

#: Message columns added after the first release of the schema: files created before get them on open.
ADDED_MESSAGE_COLUMNS = (
    "message_group_id",
    "message_deduplication_id",
    "sequence_number",
    "dead_letter_source_arn",
    "aws_trace_header",
)

TOPICS = """
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
    token_issued REAL NOT NULL,
    subscription_role_arn TEXT
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
-- Named counters; the only one is 'topic_version' (see SQLiteTopicStore._next_version).
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic, seq);
CREATE INDEX IF NOT EXISTS topic_deduplication_by_expiry ON topic_deduplication (topic, expires_at);
"""

BUSES = """
CREATE TABLE IF NOT EXISTS event_buses (
    name TEXT PRIMARY KEY,
    creation_time REAL NOT NULL,
    description TEXT
);
-- One row per bus name, kept when the bus is deleted, so a re-created bus never repeats a version.
CREATE TABLE IF NOT EXISTS bus_rules_versions (
    bus TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    event_pattern TEXT,
    schedule_expression TEXT,
    state TEXT NOT NULL,
    description TEXT,
    creation_time REAL NOT NULL,
    UNIQUE (bus, name)
);
CREATE TABLE IF NOT EXISTS targets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target TEXT NOT NULL,
    UNIQUE (bus, rule, target_id)
);
-- event_count and size_bytes are kept up to date, so DescribeArchive never scans the events.
CREATE TABLE IF NOT EXISTS archives (
    name TEXT PRIMARY KEY,
    bus TEXT NOT NULL,
    event_pattern TEXT,
    retention_days INTEGER NOT NULL,
    description TEXT,
    state TEXT NOT NULL,
    creation_time REAL NOT NULL,
    event_count INTEGER NOT NULL DEFAULT 0,
    size_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS archived_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    archive TEXT NOT NULL,
    event_time REAL NOT NULL,
    archived_at REAL NOT NULL,
    event TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replays (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    archive TEXT NOT NULL,
    bus TEXT NOT NULL,
    description TEXT,
    event_start_time REAL NOT NULL,
    event_end_time REAL NOT NULL,
    filter_arns TEXT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    replay_start_time REAL NOT NULL,
    replay_end_time REAL,
    event_last_replayed_time REAL,
    last_event_time REAL,
    last_seq INTEGER,
    replayed INTEGER NOT NULL,
    total INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_fires (
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    fire_time REAL NOT NULL,
    PRIMARY KEY (bus, rule)
);
CREATE INDEX IF NOT EXISTS rules_by_bus ON rules (bus, seq);
CREATE INDEX IF NOT EXISTS targets_by_bus ON targets (bus, seq);
CREATE INDEX IF NOT EXISTS archived_events_by_time ON archived_events (archive, event_time, seq);
CREATE INDEX IF NOT EXISTS archived_events_by_age ON archived_events (archive, archived_at);
"""

STREAMS = """
CREATE TABLE IF NOT EXISTS streams (
    stream_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    creation_time REAL NOT NULL,
    retention_hours INTEGER NOT NULL,
    scalings TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    shards_version INTEGER NOT NULL
);
-- Hash keys are decimal TEXT: they take 128 bits.
CREATE TABLE IF NOT EXISTS stream_shards (
    stream_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    starting_hash_key TEXT NOT NULL,
    ending_hash_key TEXT NOT NULL,
    starting_seq INTEGER NOT NULL,
    parent INTEGER,
    adjacent_parent INTEGER,
    ending_seq INTEGER,
    closed_at REAL,
    PRIMARY KEY (stream_id, shard)
);
CREATE TABLE IF NOT EXISTS stream_records (
    stream_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    arrival REAL NOT NULL,
    data BLOB NOT NULL,
    partition_key TEXT NOT NULL,
    PRIMARY KEY (stream_id, shard, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_consumers (
    stream_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    creation_time REAL NOT NULL,
    PRIMARY KEY (stream_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_checkpoints (
    stream_id INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (stream_id, consumer, shard)
) WITHOUT ROWID;
-- Consumer groups: a shard's lease (owner '' once freed; token counts the takes) and each
-- worker's last heartbeat.
CREATE TABLE IF NOT EXISTS stream_leases (
    stream_id INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    shard INTEGER NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,
    token INTEGER NOT NULL,
    PRIMARY KEY (stream_id, consumer, shard)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_workers (
    stream_id INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    worker TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (stream_id, consumer, worker)
) WITHOUT ROWID;
"""

IDEMPOTENCY = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key        TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    token      TEXT NOT NULL,
    expires_at REAL NOT NULL,
    result     TEXT
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys (expires_at);
"""

TAGS = """
CREATE TABLE IF NOT EXISTS tags (
    resource TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (resource, key)
) WITHOUT ROWID;
"""


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


def _statements(script: str) -> list[str]:
    """A script's statements, to run one by one inside a transaction (``executescript`` would
    commit it first). The scripts here have no ';' but at the end of statements."""
    return [statement for statement in script.split(";") if statement.strip()]


def _check_version(connection: sqlite3.Connection, path: str) -> int:
    """The file's schema version; :class:`~rulebus.StoreVersionError` if it is newer than this
    code's (read before anything is written: a newer file is left untouched)."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"the SQLite file {path!r} was written by a newer rulebus (schema {version}); this "
            f"version reads up to schema {SCHEMA_VERSION}, and would misread it. Upgrade rulebus "
            "to open it (the file was left unchanged).",
            path,
            version,
            SCHEMA_VERSION,
        )
    return int(version)


def create_schema(connection: sqlite3.Connection, path: str = "") -> None:
    """Create what is missing and upgrade a file made by an earlier version (idempotent:
    concurrent openers serialise on SQLite's own lock); refuse a file made by a newer one."""
    if _check_version(connection, path) == SCHEMA_VERSION:
        return  # made or upgraded by this version: nothing is missing
    for script in (QUEUES, TOPICS, BUSES, STREAMS, IDEMPOTENCY, TAGS):
        connection.executescript(script)
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Again under the write lock: a newer rulebus may have upgraded the file meanwhile.
        _check_version(connection, path)
        present = {row[1] for row in connection.execute("PRAGMA table_info(messages)")}
        for column in ADDED_MESSAGE_COLUMNS:
            if column not in present:
                connection.execute(f"ALTER TABLE messages ADD COLUMN {column} TEXT")
        if "promoted" not in present:
            # Every row filed hidden: the first receive promotes the visible ones.
            connection.execute("ALTER TABLE messages ADD COLUMN promoted INTEGER NOT NULL DEFAULT 0")
        subscription_columns = {row[1] for row in connection.execute("PRAGMA table_info(subscriptions)")}
        if "subscription_role_arn" not in subscription_columns:
            connection.execute("ALTER TABLE subscriptions ADD COLUMN subscription_role_arn TEXT")
        connection.execute(MESSAGES_BY_GROUP)
        for script, table in ((FIFO_GROUPS, "fifo_groups"), (QUEUE_COUNTS, "queue_counts")):
            if not _has_table(connection, table):
                for statement in _statements(script):
                    connection.execute(statement)
        for statement in _statements(FILING):
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
