"""The store boundary itself: open_store's URLs, Broker(store=...), and the one NotFound every
store raises for a missing queue, bus, rule or stream (the rest of the contract is the whole
suite, run on every store through the make_broker fixture)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.delegating_store import DelegatingStore
from rulebus import AwsError, Broker, RulebusError
from rulebus._core import StoredMessage
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores import InvalidStoreURL, MemoryStore, NotFound, SQLiteStore, Store, open_store
from rulebus.stores.records import QueueRecord, RuleRecord, ShardRecord, StreamRecord, TargetRecord


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def opened(store: Store) -> Store:
    """The store, after checking it keeps what it is given."""
    store.queues.create_queue(QueueRecord("q", QueueAttributes.from_kwargs("q"), 0.0, 0.0))
    assert store.queues.queue_names() == ["q"]
    return store


# ------------------------------------------------------------------ open_store


def test_memory_url_opens_a_memory_store() -> None:
    store = opened(open_store("memory://"))
    assert isinstance(store, MemoryStore)
    assert open_store("memory://").queues.queue_names() == []  # each call a new, empty store
    store.close()


def test_sqlite_url_with_three_slashes_is_relative(in_tmp: Path) -> None:
    (in_tmp / "data").mkdir()
    store = opened(open_store("sqlite:///data/app.db"))
    assert isinstance(store, SQLiteStore)
    assert (in_tmp / "data" / "app.db").exists()
    store.close()


def test_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    path = tmp_path / "abs.db"
    assert path.is_absolute()
    store = opened(open_store(f"sqlite:///{path}"))  # "sqlite:///" + "/tmp/...": four slashes
    assert isinstance(store, SQLiteStore)
    assert path.exists()
    store.close()
    again = open_store(f"sqlite:///{path}")  # the same file: the queue is still there
    assert again.queues.queue_names() == ["q"]
    again.close()


def test_plain_paths_open_sqlite(in_tmp: Path) -> None:
    for target in ("plain.db", in_tmp / "pathlike.db"):
        store = opened(open_store(target))
        assert isinstance(store, SQLiteStore)
        store.close()
    assert (in_tmp / "plain.db").exists() and (in_tmp / "pathlike.db").exists()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("kafka://localhost:9092", "known schemes are 'memory://', 'sqlite://', 'redis://', 'rediss://'"),
        ("redis://localhost:6379/0?prefix=", "prefix must not be empty"),
        ("postgresql://db/app", "unknown store URL scheme 'postgresql'"),
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        ("sqlite://relative.db", "names no file"),
        ("sqlite:///:memory:", "use 'memory://'"),
        ("sqlite:///app.db?mode=ro", "no query parameters"),
        ("memory://somewhere", "takes no path"),
        ("", "must not be empty"),
    ],
)
def test_urls_it_cannot_open_are_refused_clearly(url: str, says: str, in_tmp: Path) -> None:
    with pytest.raises(InvalidStoreURL) as info:
        open_store(url)
    assert says in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RulebusError)
    assert os.listdir(in_tmp) == []  # nothing created


# ------------------------------------------------------------------ Broker(store=...)


def test_broker_takes_a_store_object_and_closes_it() -> None:
    store = DelegatingStore()
    with Broker(store=store) as broker:
        broker.queue("q").send("hello")
        assert store.queues.queue_names() == ["q"]
        assert broker._store is store


def test_broker_takes_a_url(in_tmp: Path) -> None:
    with Broker(store="sqlite:///shared.db") as broker:
        broker.queue("q").send("kept")
    with Broker("shared.db") as again:  # the first positional parameter is still the path
        assert [m.body for m in again.queue("q").receive()] == ["kept"]
    with Broker(store="memory://") as memory:
        assert isinstance(memory._store, MemoryStore)
        assert memory.queues() == []


def test_broker_refuses_a_path_and_a_store() -> None:
    with pytest.raises(TypeError):
        Broker("app.db", store="memory://")


def test_broker_refuses_an_unknown_url() -> None:
    with pytest.raises(InvalidStoreURL):
        Broker(store="kafka://localhost")


# ------------------------------------------------------------------ NotFound from each part


@pytest.fixture(params=["memory", "sqlite", "delegating", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store = {
        "memory": MemoryStore,
        "sqlite": lambda: SQLiteStore(tmp_path / "s.db"),
        "delegating": DelegatingStore,
        "redis": lambda: open_store(request.getfixturevalue("redis_url")),
    }[request.param]()
    yield opened
    opened.close()


def _message() -> StoredMessage:
    return StoredMessage("id-1", "body", "md5", {}, None, "sender", 0.0, 0.0)


def test_queue_store_raises_not_found(store: Store) -> None:
    queues = store.queues
    calls = [
        lambda: queues.put_messages("gone", [_message()]),
        lambda: queues.put_messages_many([("gone", [_message()])]),
        lambda: queues.receive("gone", 1, 0.0, 30.0),
        lambda: queues.delete_messages("gone", ["id-1"]),
        lambda: queues.change_visibilities("gone", [("id-1", 5.0)], 0.0),
        lambda: queues.purge("gone", 0.0, 60.0),
        lambda: queues.counts("gone", 0.0),
        lambda: queues.in_flight("gone", 0.0),
        lambda: queues.delete_queue("gone", 0.0),
    ]
    for call in calls:
        with pytest.raises(NotFound) as info:
            call()
        assert (info.value.kind, info.value.name) == ("queue", "gone")
        assert isinstance(info.value, KeyError) and isinstance(info.value, RulebusError)
        assert str(info.value) == "no queue named 'gone'"
    assert queues.get_queue("gone") is None


def test_bus_store_raises_not_found(store: Store) -> None:
    buses = store.buses
    with pytest.raises(NotFound) as info:
        buses.put_rule(RuleRecord("nobus", "r", None, "rate(1 minute)", "ENABLED", None, 0.0))
    assert (info.value.kind, info.value.name) == ("bus", "nobus")
    with pytest.raises(NotFound) as info:
        buses.put_targets("default-less", "norule", [TargetRecord("default-less", "norule", "t", "{}")], 5)
    assert info.value.kind in ("bus", "rule")


def test_stream_store_raises_not_found(store: Store) -> None:
    streams = store.streams
    calls = [
        lambda: streams.stream_shards("gone"),
        lambda: streams.put_stream_records("gone", [0], [b"x"], ["k"], 0.0),
        lambda: streams.stream_position("gone"),
        lambda: streams.trim_stream("gone", 0.0),
        lambda: streams.reshard("gone", 0, [], [ShardRecord(1, 0, 1, 0)], 0.0),
        lambda: streams.stream_checkpoints("gone", 1, "c"),
    ]
    for call in calls:
        with pytest.raises(NotFound) as info:
            call()
        assert (info.value.kind, info.value.name) == ("stream", "gone")


def test_stream_leases_balance_and_guard_checkpoints(store: Store) -> None:
    """The consumer-group steps of StreamStore: heartbeats that share the shards, a lease that
    runs out and is taken (its token moves on), and checkpoints that land only with the token
    the lease has now."""
    streams = store.streams
    shards = [ShardRecord(i, i, i, 0) for i in range(4)]
    record, _ = streams.create_stream(StreamRecord("s", 0, 0.0, 24), shards)
    sid = record.stream_id
    ready = [0, 1, 2, 3]
    a = streams.acquire_stream_leases("s", sid, "g", "a", 100.0, 10.0, ready)
    assert a == {0: 1, 1: 1, 2: 1, 3: 1}  # alone: everything, first take of each
    assert streams.acquire_stream_leases("s", sid, "g", "b", 101.0, 10.0, ready) == {}  # all held
    a = streams.acquire_stream_leases("s", sid, "g", "a", 102.0, 10.0, ready)
    assert a == {0: 1, 1: 1}  # b is live with none: a keeps its share and frees the rest
    b = streams.acquire_stream_leases("s", sid, "g", "b", 103.0, 10.0, ready)
    assert b == {2: 2, 3: 2}  # taken again: the tokens moved on
    assert streams.commit_stream_checkpoints("s", sid, "g", {2: (1, 50), 3: (2, 60)}) == [2]
    assert streams.stream_checkpoints("s", sid, "g") == {3: 60}
    # a stops heartbeating: past its lease b takes everything, and a's token no longer writes.
    b = streams.acquire_stream_leases("s", sid, "g", "b", 112.5, 10.0, ready)
    assert b == {0: 2, 1: 2, 2: 2, 3: 2}
    assert streams.commit_stream_checkpoints("s", sid, "g", {0: (1, 7)}) == [0]
    leases, workers = streams.stream_group("s", sid, "g")
    assert {s: (lease.owner, lease.token) for s, lease in leases.items()} == {i: ("b", 2) for i in range(4)}
    assert leases[0].expires_at == 122.5
    assert workers == {"b": 122.5}
    # A shard read to its end leaves the ready list: its lease is freed, its token kept.
    assert streams.acquire_stream_leases("s", sid, "g", "b", 113.0, 10.0, [1, 2, 3]) == {1: 2, 2: 2, 3: 2}
    streams.release_stream_leases("s", sid, "g", "b")
    leases, workers = streams.stream_group("s", sid, "g")
    assert {lease.owner for lease in leases.values()} == {""} and workers == {}
    # Given back and not taken since: a late checkpoint with the token still lands.
    assert streams.commit_stream_checkpoints("s", sid, "g", {1: (2, 9)}) == []
    assert streams.stream_checkpoints("s", sid, "g") == {1: 9, 3: 60}
    with pytest.raises(NotFound):
        streams.acquire_stream_leases("s", sid + 1, "g", "a", 0.0, 1.0, ready)
    assert streams.delete_stream("s")
    assert streams.commit_stream_checkpoints("s", sid, "g", {1: (2, 10)}) == []
    streams.release_stream_leases("s", sid, "g", "b")  # no error
    record, _ = streams.create_stream(StreamRecord("s", 0, 0.0, 24), shards)
    assert streams.stream_group("s", record.stream_id, "g") == ({}, {})


def test_services_answer_not_found_with_aws_errors(broker: Broker) -> None:
    queue = broker.queue("q")
    bus = broker.event_bus("shop")
    stream = broker.stream("s")
    broker.delete_queue("q")
    with pytest.raises(AwsError) as info:
        queue.send("x")
    assert (info.value.code, info.value.message) == (
        "QueueDoesNotExist",
        "The specified queue does not exist.",
    )
    with pytest.raises(AwsError) as info:
        broker.delete_queue("q")
    assert info.value.code == "QueueDoesNotExist"
    broker.delete_event_bus("shop")
    with pytest.raises(AwsError) as info:
        bus.put_rule("r", event_pattern={"source": ["x"]})
    assert (info.value.code, info.value.message) == (
        "ResourceNotFoundException",
        "Event bus shop does not exist.",
    )
    broker.delete_stream("s")
    with pytest.raises(AwsError) as info:
        stream.put_record(b"x", partition_key="k")
    assert info.value.code == "ResourceNotFoundException"
