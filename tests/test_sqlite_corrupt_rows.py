"""A damaged row in an SQLite file fails its own resource, never the others.

Each case builds a file with one of everything, damages one column of one row through a plain
sqlite3 connection (as another program or a bad disk would), and checks the outcome. A row that
is a resource itself (a queue, topic, bus, archive, replay, stream, shard, idempotency key) makes
that resource raise ``StoreCorruptError`` naming it and its table; a row that is a member of a
resource (a subscription, rule, target, stream record) is set aside into ``corrupt_rows`` and its
resource works without it. Either way, every other resource keeps working."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rulebus import Broker, Idempotency, StoreCorruptError
from rulebus.stores import SQLiteStore

ATTRIBUTE = {"kind": {"DataType": "String", "StringValue": "a"}}
EVENT = {"Source": "shop", "DetailType": "order", "Detail": "{}"}


def build(path: Path) -> None:
    """One of everything, each with a twin that the damage never touches."""
    with Broker(path) as broker:
        for name in ("q", "other", "from-t", "from-bus"):
            broker.queue(name)
        for name in ("t", "t2"):
            topic = broker.topic(name)
            topic.subscribe(broker.queue("from-t"), filter_policy={"kind": ["a"]}, raw_message_delivery=True)
            topic.subscribe(broker.queue("other"), raw_message_delivery=True)
        for name in ("shop", "shop2"):
            bus = broker.create_event_bus(name)
            bus.put_rule("r1", event_pattern={"source": ["shop"]})
            bus.put_targets("r1", [{"Id": "1", "Arn": broker.queue("from-bus").arn}])
            bus.put_rule("r2", event_pattern={"source": ["shop"]})
            bus.put_targets("r2", [{"Id": "1", "Arn": broker.queue("other").arn}])
            bus.create_archive(f"{name}-archive")
            bus.start_replay(f"{name}-replay", bus.describe_archive(f"{name}-archive")["ArchiveArn"], 0, 1)
            bus.wait_for_replay(f"{name}-replay")
        for name in ("st", "st2"):
            stream = broker.stream(name)
            for data in (b"r0", b"r1", b"r2"):
                stream.put_record(data, "key")
        for name in ("k", "k2"):
            Idempotency(broker, "app").run(name, lambda: "done")


def stream_data(broker: Broker, name: str) -> list[bytes]:
    stream = broker.stream(name)
    shard = stream.describe()["Shards"][0]["ShardId"]
    iterator = stream.get_shard_iterator(shard, "TRIM_HORIZON")
    return [record["Data"] for record in stream.get_records(iterator)["Records"]]


def drain(broker: Broker, name: str) -> list[str]:
    bodies = []
    while batch := broker.queue(name).receive(max_messages=10):
        bodies.extend(m.body for m in batch)
        broker.queue(name).delete_batch(
            [{"Id": str(n), "ReceiptHandle": m.receipt_handle} for n, m in enumerate(batch)]
        )
    return sorted(bodies)


# What each resource does when it works; the damaged one's use is the case's own.
def use_queue(broker: Broker, name: str) -> None:
    broker.queue(name).send("ping")
    assert "ping" in drain(broker, name)


def use_topic(broker: Broker, name: str) -> None:
    broker.topic(name).publish(f"via {name}", message_attributes=ATTRIBUTE)
    assert drain(broker, "from-t") == [f"via {name}"]


def use_bus(broker: Broker, name: str) -> None:
    assert broker.event_bus(name).put_events([EVENT])["FailedEntryCount"] == 0
    assert len(drain(broker, "from-bus")) == 1


def use_archive(broker: Broker, bus: str) -> None:
    assert broker.event_bus(bus).describe_archive(f"{bus}-archive")["ArchiveName"] == f"{bus}-archive"


def use_replay(broker: Broker, bus: str) -> None:
    assert broker.event_bus(bus).describe_replay(f"{bus}-replay")["ReplayName"] == f"{bus}-replay"


def use_stream(broker: Broker, name: str) -> None:
    broker.stream(name).put_record(b"more", "key")
    assert stream_data(broker, name)[-1] == b"more"


def use_key(broker: Broker, key: str) -> None:
    record = Idempotency(broker, "app").record(key)
    assert record is not None and record.status == "COMPLETED"


def everything_else_works(broker: Broker, spared: str) -> None:
    """The listings, and every resource but the damaged one (``spared`` names its kind)."""
    assert {"q", "other", "from-t", "from-bus"} <= {q.name for q in broker.queues()}
    # A topic or bus whose own row is damaged is left out of the broker's listing of objects.
    assert {"t2"} <= {t.name for t in broker.topics()}
    assert {"shop2"} <= {b.name for b in broker.event_buses()}
    assert {"st", "st2"} <= {s.name for s in broker.streams()}
    drain(broker, "other")
    for kind, use, twin in (
        ("queue", use_queue, "other"),
        ("topic", use_topic, "t2"),
        ("bus", use_bus, "shop2"),
        ("archive", use_archive, "shop2"),
        ("replay", use_replay, "shop2"),
        ("stream", use_stream, "st2"),
        ("key", use_key, "k2"),
    ):
        use(broker, twin)
        # (a bus's archives and replays are reached through it)
        if kind != spared and not (spared == "bus" and kind in ("archive", "replay")):
            use(
                broker,
                {
                    "queue": "q",
                    "topic": "t",
                    "bus": "shop",
                    "archive": "shop",
                    "replay": "shop",
                    "stream": "st",
                    "key": "k",
                }[kind],
            )


@dataclass(frozen=True)
class Resource:
    """A damage to a resource's row: ``use`` on it raises StoreCorruptError naming ``resource``."""

    table: str
    damage: str  # SET ... WHERE ...
    kind: str
    resource: str
    use: Callable[[Broker], Any]


RESOURCES = {
    "queue attributes not JSON": Resource(
        "queues", "attributes = '{not json' WHERE name = 'q'", "queue", "queue 'q'", lambda b: b.queue("q")
    ),
    "queue attributes a list": Resource(
        "queues", "attributes = '[1, 2]' WHERE name = 'q'", "queue", "queue 'q'", lambda b: b.queue("q")
    ),
    "queue attribute of the wrong type": Resource(
        "queues",
        """attributes = '{"VisibilityTimeout": {"s": 1}}' WHERE name = 'q'""",
        "queue",
        "queue 'q'",
        lambda b: b.queue("q"),
    ),
    "queue timestamp as text": Resource(
        "queues",
        "created_timestamp = 'monday' WHERE name = 'q'",
        "queue",
        "queue 'q'",
        lambda b: b.queue("q"),
    ),
    "topic attributes not JSON": Resource(
        "topics", "attributes = '{not' WHERE name = 't'", "topic", "topic 't'", lambda b: b.topic("t")
    ),
    "topic attributes a number": Resource(
        "topics", "attributes = '7' WHERE name = 't'", "topic", "topic 't'", lambda b: b.topic("t")
    ),
    "bus creation time as text": Resource(
        "event_buses",
        "creation_time = 'x' WHERE name = 'shop'",
        "bus",
        "event bus 'shop'",
        lambda b: b.event_bus("shop").describe(),
    ),
    "archive retention as text": Resource(
        "archives",
        "retention_days = 'x' WHERE name = 'shop-archive'",
        "archive",
        "archive 'shop-archive'",
        lambda b: b.event_bus("shop").describe_archive("shop-archive"),
    ),
    "archive pattern not JSON": Resource(
        "archives",
        "event_pattern = '{' WHERE name = 'shop-archive'",
        "archive",
        "archive 'shop-archive'",
        lambda b: b.event_bus("shop").describe_archive("shop-archive"),
    ),
    "replay rule ARNs not JSON": Resource(
        "replays",
        "filter_arns = 'nope' WHERE name = 'shop-replay'",
        "replay",
        "replay 'shop-replay'",
        lambda b: b.event_bus("shop").describe_replay("shop-replay"),
    ),
    "stream scalings not JSON": Resource(
        "streams",
        "scalings = '{' WHERE name = 'st'",
        "stream",
        "stream 'st'",
        lambda b: b.stream("st").describe(),
    ),
    "stream creation time a blob": Resource(
        "streams",
        "creation_time = x'00' WHERE name = 'st'",
        "stream",
        "stream 'st'",
        lambda b: b.stream("st").describe(),
    ),
    "shard hash key not a number": Resource(
        "stream_shards",
        "starting_hash_key = 'zz' WHERE stream_id = (SELECT stream_id FROM streams WHERE name = 'st')",
        "stream",
        "stream 'st'",
        lambda b: b.stream("st").put_record(b"x", "key"),
    ),
    "idempotency expiry as text": Resource(
        "idempotency_keys",
        "expires_at = 'later' WHERE key = 'app#k'",
        "key",
        "idempotency key 'app#k'",
        lambda b: Idempotency(b, "app").run("k", lambda: "again"),
    ),
}


@pytest.mark.parametrize("case", RESOURCES.values(), ids=list(RESOURCES))
def test_a_damaged_resource_row_fails_that_resource_alone(tmp_path: Path, case: Resource) -> None:
    path = tmp_path / "app.db"
    build(path)
    with sqlite3.connect(path) as raw:
        raw.execute(f"UPDATE {case.table} SET {case.damage}")
    with Broker(path) as broker:  # opening the file works
        with pytest.raises(StoreCorruptError) as raised:
            case.use(broker)
        error = raised.value
        assert (error.table, error.resource, error.path) == (case.table, case.resource, str(path))  # type: ignore[attr-defined]
        message = str(error)
        assert case.resource in message and repr(case.table) in message
        assert "Restore the file from a backup" in message
        everything_else_works(broker, case.kind)
        with pytest.raises(StoreCorruptError):  # still, every time: nothing was changed
            case.use(broker)


def test_a_damaged_queue_can_be_deleted_and_created_again(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    build(path)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE queues SET attributes = 'garbage' WHERE name = 'q'")
    with Broker(path, queue_recreate_delay=0) as broker:
        broker.delete_queue("q")
        use_queue(broker, "q")


@dataclass(frozen=True)
class Member:
    """A damage to a member's row: it is set aside as ``(table, owner, key)`` and ``check``
    shows its resource working without it."""

    table: str
    damage: str
    owner: str
    key: Callable[[sqlite3.Connection], str]
    check: Callable[[Broker], None]

    @property
    def kind(self) -> str:
        """The kind of resource that holds the member (for everything_else_works)."""
        return {"subscriptions": "topic", "rules": "bus", "targets": "bus", "stream_records": "stream"}[
            self.table
        ]


def subscription_arn(raw: sqlite3.Connection) -> str:
    return str(
        raw.execute(
            "SELECT subscription_arn FROM subscriptions WHERE topic = 't' AND endpoint LIKE '%:from-t'"
        ).fetchone()[0]
    )


def record_key(raw: sqlite3.Connection, where: str) -> str:
    """The key a stream record is set aside under: shard/seq."""
    return f"0/{raw.execute(f'SELECT seq FROM stream_records WHERE {where}').fetchone()[0]}"


def topic_without_the_subscription(broker: Broker) -> None:
    broker.topic("t").publish("still", message_attributes=ATTRIBUTE)
    assert drain(broker, "from-t") == []
    assert drain(broker, "other") == ["still"]
    assert len(broker.topic("t").subscriptions) == 1


def bus_without_rule_one(broker: Broker) -> None:
    assert broker.event_bus("shop").put_events([EVENT])["FailedEntryCount"] == 0
    assert drain(broker, "from-bus") == []
    assert len(drain(broker, "other")) == 1
    assert [r["Name"] for r in broker.event_bus("shop").list_rules()] == ["r2"]


def bus_without_target_one(broker: Broker) -> None:
    assert broker.event_bus("shop").put_events([EVENT])["FailedEntryCount"] == 0
    assert drain(broker, "from-bus") == []
    assert len(drain(broker, "other")) == 1
    assert [r["Name"] for r in broker.event_bus("shop").list_rules()] == ["r1", "r2"]
    assert broker.event_bus("shop").list_targets_by_rule("r1") == []


def stream_without_record_one(broker: Broker) -> None:
    assert stream_data(broker, "st") == [b"r0", b"r2"]


SUBSCRIPTION = "WHERE topic = 't' AND endpoint LIKE '%:from-t'"
MEMBERS = {
    "filter policy not JSON": Member(
        "subscriptions",
        f"filter_policy = '{{bad' {SUBSCRIPTION}",
        "t",
        subscription_arn,
        topic_without_the_subscription,
    ),
    "filter policy a list": Member(
        "subscriptions",
        f"filter_policy = '[1]' {SUBSCRIPTION}",
        "t",
        subscription_arn,
        topic_without_the_subscription,
    ),
    "raw delivery flag as text": Member(
        "subscriptions",
        f"raw_message_delivery = 'yes' {SUBSCRIPTION}",
        "t",
        subscription_arn,
        topic_without_the_subscription,
    ),
    "redrive policy without its ARN": Member(
        "subscriptions",
        f"redrive_policy = '{{}}' {SUBSCRIPTION}",
        "t",
        subscription_arn,
        topic_without_the_subscription,
    ),
    "rule pattern not JSON": Member(
        "rules",
        "event_pattern = '{bad' WHERE bus = 'shop' AND name = 'r1'",
        "shop",
        lambda raw: "r1",
        bus_without_rule_one,
    ),
    "rule creation time as text": Member(
        "rules",
        "creation_time = 'x' WHERE bus = 'shop' AND name = 'r1'",
        "shop",
        lambda raw: "r1",
        bus_without_rule_one,
    ),
    "target not JSON": Member(
        "targets",
        "target = '{bad' WHERE bus = 'shop' AND rule = 'r1'",
        "shop",
        lambda raw: "r1/1",
        bus_without_target_one,
    ),
    "target without an Arn": Member(
        "targets",
        """target = '{"Id": "1"}' WHERE bus = 'shop' AND rule = 'r1'""",
        "shop",
        lambda raw: "r1/1",
        bus_without_target_one,
    ),
    "record data as text": Member(
        "stream_records",
        "data = 'text' WHERE data = x'7231' AND stream_id = 1",
        "st",
        lambda raw: record_key(raw, "data = 'text'"),
        stream_without_record_one,
    ),
    "record partition key a blob": Member(
        "stream_records",
        "partition_key = x'00' WHERE data = x'7231' AND stream_id = 1",
        "st",
        lambda raw: record_key(raw, "typeof(partition_key) = 'blob'"),
        stream_without_record_one,
    ),
}


@pytest.mark.parametrize("case", MEMBERS.values(), ids=list(MEMBERS))
def test_a_damaged_member_row_is_set_aside_and_its_resource_works(
    tmp_path: Path, case: Member, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "app.db"
    build(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute(f"UPDATE {case.table} SET {case.damage}").rowcount == 1
        key = case.key(raw)
    store = SQLiteStore(path)
    with Broker(store=store) as broker:
        with caplog.at_level("WARNING", logger="rulebus.stores.sqlite"):
            case.check(broker)
        (aside,) = store.corrupt_rows()
        assert (aside.table, aside.owner, aside.key) == (case.table, case.owner, key)
        assert aside.error and aside.row
        (warning,) = [r for r in caplog.records if r.name == "rulebus.stores.sqlite"]
        assert "corrupt_rows" in warning.getMessage() and key in warning.getMessage()
        case.check(broker)  # again: nothing left to set aside
        assert len(store.corrupt_rows()) == 1
        everything_else_works(broker, case.kind)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM corrupt_rows").fetchone()[0] == 1


def test_corrupt_rows_lists_messages_set_aside_too(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    store = SQLiteStore(path)
    with Broker(store=store) as broker:
        queue = broker.queue("q")
        sent = [queue.send(body).message_id for body in ("a", "b")]
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE messages SET message_attributes = '[' WHERE message_id = ?", (sent[0],))
        assert [m.body for m in queue.receive(max_messages=10)] == ["b"]
        (aside,) = store.corrupt_rows()
        assert (aside.table, aside.owner, aside.key) == ("messages", "q", sent[0])
        assert [m.message_id for m in store.corrupt_messages()] == [sent[0]]
