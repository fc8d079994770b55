"""The queue engines and the topic set-up that benches/compare_messaging.py measures (issue 4).

Every engine offers the same three calls on one queue: ``send_batch`` of up to 10 AWS entries,
``receive`` of up to 10 messages (their receipt handles), ``delete_batch`` of those handles; and
``depth``, the messages left (visible or in flight), to check that everything went through.
The bare loops are the yardsticks: the bookkeeping an SQS queue needs and nothing else.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import rulebus

BODY_BYTES = 200
BATCH = 10
VISIBILITY_TIMEOUT = 30.0  # SQS's default; every engine deletes long before it ends

Entry = dict[str, Any]


def body(i: int) -> str:
    """A 200-byte ASCII body that differs per message (so digests and rows differ)."""
    head = f"message {i:010d} "
    return head + "x" * (BODY_BYTES - len(head))


def send_batches(n: int) -> list[list[Entry]]:
    """n SendMessageBatch entries in batches of 10, built once outside the timed loops."""
    entries = [{"Id": str(i % BATCH), "MessageBody": body(i)} for i in range(n)]
    return [entries[i : i + BATCH] for i in range(0, n, BATCH)]


def delete_entries(handles: Sequence[str]) -> list[Entry]:
    return [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]


class QueueEngine(Protocol):
    name: str

    def send_batch(self, entries: list[Entry]) -> int: ...
    def receive(self) -> list[str]: ...
    def delete_batch(self, handles: list[str]) -> int: ...
    def depth(self) -> int: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------
# rulebus


class RulebusEngine:
    """rulebus's public API on a memory broker, an SQLite one in a temporary directory, or a
    Redis one on the bench's own redis-server (see ``redis_url``)."""

    def __init__(self, sqlite: bool = False, redis: bool = False) -> None:
        self.name = "rulebus Redis" if redis else "rulebus SQLite" if sqlite else "rulebus memory"
        self._dir = tempfile.mkdtemp(prefix="rulebus-bench-") if sqlite else None
        if redis:
            self._broker = rulebus.Broker(store=fresh_redis_url())
        else:
            self._broker = rulebus.Broker(Path(self._dir) / "bench.db" if self._dir else None)
        self._queue = self._broker.queue("bench")

    def send_batch(self, entries: list[Entry]) -> int:
        return len(self._queue.send_batch(entries)["Successful"])

    def send(self, text: str) -> None:
        self._queue.send(text)

    def receive(self) -> list[str]:
        return [m.receipt_handle for m in self._queue.receive(max_messages=BATCH)]

    def delete_batch(self, handles: list[str]) -> int:
        return len(self._queue.delete_batch(delete_entries(handles))["Successful"])

    def depth(self) -> int:
        shown = self._queue.get_attributes(
            ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        return sum(int(value) for value in shown.values())

    def close(self) -> None:
        self._broker.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The bare Python loop: a deque of visible messages and a dict of in-flight handles.


class BareLoop:
    """What a queue must do per message at the least: an id, SQS's MD5 of the body, a new receipt
    handle per receive, a deadline for the visibility timeout, and a delete by handle."""

    name = "bare deque+dict loop"

    def __init__(self) -> None:
        self._visible: deque[tuple[str, str, str]] = deque()
        self._in_flight: dict[str, tuple[str, str, str, float]] = {}

    def send_batch(self, entries: list[Entry]) -> int:
        for entry in entries:
            text = entry["MessageBody"]
            digest = hashlib.md5(text.encode("utf-8")).hexdigest()
            self._visible.append((str(uuid.uuid4()), text, digest))
        return len(entries)

    def receive(self) -> list[str]:
        deadline = time.time() + VISIBILITY_TIMEOUT
        handles = []
        for _ in range(min(BATCH, len(self._visible))):
            message_id, text, digest = self._visible.popleft()
            handle = uuid.uuid4().hex
            self._in_flight[handle] = (message_id, text, digest, deadline)
            handles.append(handle)
        return handles

    def delete_batch(self, handles: list[str]) -> int:
        return sum(self._in_flight.pop(h, None) is not None for h in handles)

    def depth(self) -> int:
        return len(self._visible) + len(self._in_flight)

    def close(self) -> None:
        self._visible.clear()
        self._in_flight.clear()


# --------------------------------------------------------------------------------------------
# The bare SQLite loop: one table, rulebus's pragmas, one transaction per call.

# The pragmas and connection settings of rulebus.stores.sqlite.connection.Connections, mirrored.
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")

_BARE_SCHEMA = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5_of_body TEXT NOT NULL,
    visible_at REAL NOT NULL,
    receipt_handle TEXT
);
CREATE INDEX messages_by_visibility ON messages (visible_at, seq);
CREATE INDEX messages_by_handle ON messages (receipt_handle);
"""


class BareSQLite:
    """A batch insert, a select+update marking up to 10 in flight with new handles, a delete of
    up to 10 by handle: each one ``BEGIN IMMEDIATE`` transaction, as rulebus's writes are."""

    name = "bare SQLite loop"

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="rulebus-bench-bare-")
        self._db = sqlite3.connect(Path(self._dir) / "bare.db", timeout=30.0, isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            self._db.execute(pragma)
        self._db.executescript(_BARE_SCHEMA)

    def _run(self, work: Any) -> Any:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def send_batch(self, entries: list[Entry]) -> int:
        now = time.time()
        rows = [
            (
                str(uuid.uuid4()),
                e["MessageBody"],
                hashlib.md5(e["MessageBody"].encode("utf-8")).hexdigest(),
                now,
            )
            for e in entries
        ]
        sql = "INSERT INTO messages (message_id, body, md5_of_body, visible_at) VALUES (?, ?, ?, ?)"
        self._run(lambda: self._db.executemany(sql, rows))
        return len(rows)

    def _take(self) -> list[str]:
        now = time.time()
        rows = self._db.execute(
            "SELECT seq, message_id, body, md5_of_body FROM messages WHERE visible_at <= ? "
            "ORDER BY visible_at, seq LIMIT ?",
            (now, BATCH),
        ).fetchall()
        updates = [(now + VISIBILITY_TIMEOUT, uuid.uuid4().hex, row[0]) for row in rows]
        self._db.executemany("UPDATE messages SET visible_at = ?, receipt_handle = ? WHERE seq = ?", updates)
        return [handle for _, handle, _ in updates]

    def receive(self) -> list[str]:
        result: list[str] = self._run(self._take)
        return result

    def delete_batch(self, handles: list[str]) -> int:
        def work() -> int:
            cursor = self._db.executemany(
                "DELETE FROM messages WHERE receipt_handle = ?", [(h,) for h in handles]
            )
            return cursor.rowcount

        result: int = self._run(work)
        return result

    def depth(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM messages").fetchone()[0])

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Redis: the bench's own redis-server (persistence off, as for the bare loop), and the bare
# redis-py loop: the commands an SQS queue needs on Redis, pipelined as rulebus pipelines them.

_REDIS: dict[str, Any] = {}


def redis_missing() -> str | None:
    """Why the Redis engines cannot run here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "redis-py is not installed (pip install 'rulebus[redis]')"
    return None


def _redis_server() -> tuple[str, Any]:
    """(URL, client) of a redis-server started for this run on a free loopback port."""
    if "url" not in _REDIS:
        import atexit
        import socket
        import subprocess

        import redis

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        folder = tempfile.mkdtemp(prefix="rulebus-bench-redis-")
        process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                folder,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        atexit.register(lambda: (process.terminate(), process.wait(), shutil.rmtree(folder, True)))
        client = redis.Redis(port=port, decode_responses=True)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        _REDIS.update(url=f"redis://127.0.0.1:{port}/0", client=client, n=0)
    return _REDIS["url"], _REDIS["client"]


def fresh_redis_url() -> str:
    """The bench server's URL with a prefix no earlier engine used (each starts empty)."""
    url, _ = _redis_server()
    _REDIS["n"] += 1
    return f"{url}?prefix=bench{_REDIS['n']}"


class BareRedis:
    """The least an SQS queue does on Redis, without scripts: a send stores each message (its
    id, body and MD5) and files it by arrival, all in one pipeline; a receive pops up to 10
    (ZPOPMIN) and files them in flight with their deadline (a second round trip), under new
    receipt handles that name the message; a delete drops a batch in one pipeline."""

    name = "bare redis-py loop"

    def __init__(self) -> None:
        _, self._client = _redis_server()
        _REDIS["n"] += 1
        self._prefix = f"bare{_REDIS['n']}:"
        self._seq = 0

    def send_batch(self, entries: list[Entry]) -> int:
        pipe = self._client.pipeline(transaction=False)
        for entry in entries:
            text = entry["MessageBody"]
            message_id = str(uuid.uuid4())
            self._seq += 1
            digest = hashlib.md5(text.encode("utf-8")).hexdigest()
            pipe.hset(self._prefix + "body", message_id, f"{digest}|{text}")
            pipe.zadd(self._prefix + "ready", {message_id: self._seq})
        pipe.execute()
        return len(entries)

    def receive(self) -> list[str]:
        popped = self._client.zpopmin(self._prefix + "ready", BATCH)
        if not popped:
            return []
        deadline = time.time() + VISIBILITY_TIMEOUT
        self._client.zadd(self._prefix + "flight", {message_id: deadline for message_id, _ in popped})
        # A handle names its message, as rulebus's do, so a delete needs no look-up.
        return [f"{message_id}:{uuid.uuid4().hex}" for message_id, _ in popped]

    def delete_batch(self, handles: list[str]) -> int:
        ids = [handle.partition(":")[0] for handle in handles]
        pipe = self._client.pipeline(transaction=False)
        pipe.zrem(self._prefix + "flight", *ids)
        pipe.hdel(self._prefix + "body", *ids)
        removed, _ = pipe.execute()
        return int(removed)

    def depth(self) -> int:
        return int(self._client.zcard(self._prefix + "ready")) + int(
            self._client.zcard(self._prefix + "flight")
        )

    def close(self) -> None:
        keys = self._client.keys(self._prefix + "*")
        if keys:
            self._client.delete(*keys)


# --------------------------------------------------------------------------------------------
# moto: boto3 against moto.mock_aws, in process.


class MotoSQS:
    """boto3's SQS client under ``moto.mock_aws``: the whole client stack, no network."""

    name = "moto SQS (boto3)"

    def __init__(self) -> None:
        import boto3  # type: ignore[import-untyped]
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        # Fake keys passed explicitly: nothing is looked up in the environment or on disk.
        self._client = boto3.client(
            "sqs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self._url = self._client.create_queue(QueueName="bench")["QueueUrl"]

    def send_batch(self, entries: list[Entry]) -> int:
        return len(self._client.send_message_batch(QueueUrl=self._url, Entries=entries)["Successful"])

    def receive(self) -> list[str]:
        answer = self._client.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=0
        )
        return [m["ReceiptHandle"] for m in answer.get("Messages", [])]

    def delete_batch(self, handles: list[str]) -> int:
        answer = self._client.delete_message_batch(QueueUrl=self._url, Entries=delete_entries(handles))
        return len(answer["Successful"])

    def depth(self) -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        shown = self._client.get_queue_attributes(QueueUrl=self._url, AttributeNames=names)["Attributes"]
        return sum(int(value) for value in shown.values())

    def close(self) -> None:
        self._mock.stop()


def moto_missing() -> str | None:
    """Why moto cannot run here, or None."""
    try:
        import boto3  # noqa: F401
        import moto  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


# --------------------------------------------------------------------------------------------
# The topic: 100 queue subscriptions, a tenth of them matching each message.

SUBSCRIPTIONS = 100
GROUPS = 10  # subscription i wants group i % 10, so each message matches 100 / 10 of them


def group_attributes(k: int) -> dict[str, dict[str, str]]:
    return {"group": {"DataType": "String", "StringValue": str(k % GROUPS)}}


class FilteredTopic:
    """A broker (memory unless ``store`` says otherwise) with one topic and 100 queues subscribed
    with filter policies."""

    def __init__(self, store: str | None = None) -> None:
        self._dir = None
        if store == "sqlite":
            self._dir = tempfile.mkdtemp(prefix="rulebus-bench-topic-")
            self.broker = rulebus.Broker(Path(self._dir) / "topic.db")
        elif store == "redis":
            self.broker = rulebus.Broker(store=fresh_redis_url())
        else:
            self.broker = rulebus.Broker()
        self.topic = self.broker.topic("bench-topic")
        self.queues = []
        for i in range(SUBSCRIPTIONS):
            queue = self.broker.queue(f"sub-{i:03d}")
            self.topic.subscribe(queue, filter_policy={"group": [str(i % GROUPS)]})
            self.queues.append(queue)

    def deliveries(self) -> tuple[int, int]:
        """(delivered, filtered out), summed over the subscriptions."""
        subscriptions = self.topic.subscriptions
        return (
            sum(s.delivered_count for s in subscriptions),
            sum(s.filtered_count for s in subscriptions),
        )

    def depths(self) -> list[int]:
        return [
            int(q.get_attributes(["ApproximateNumberOfMessages"])["ApproximateNumberOfMessages"])
            for q in self.queues
        ]

    def close(self) -> None:
        self.broker.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def expected_depths(n: int) -> list[int]:
    """What each subscribed queue holds after n publishes of groups 0, 1, 2, ... in turn."""
    per_group = [len(range(g, n, GROUPS)) for g in range(GROUPS)]
    return [per_group[i % GROUPS] for i in range(SUBSCRIPTIONS)]


def publish_batches(n: int) -> list[list[Entry]]:
    entries = [
        {"Id": str(k % BATCH), "Message": body(k), "MessageAttributes": group_attributes(k)} for k in range(n)
    ]
    return [entries[i : i + BATCH] for i in range(0, n, BATCH)]
