"""The store's batch operations on both stores: delete_messages, change_visibilities and
put_messages_many answer as the one-message operations would, entry by entry, and
Queue.prepare_message builds what send would store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker
from rulebus.stores import NotFound
from rulebus.stores.records import ChangeVisibilityResult, DeleteResult


@pytest.fixture(params=["memory", "sqlite", "redis"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    clock = FakeClock()
    if request.param == "redis":
        made = Broker(store=request.getfixturevalue("redis_url"), clock=clock)
    else:
        made = Broker(tmp_path / "q.db" if request.param == "sqlite" else None, clock=clock)
    yield made
    made.close()


def test_delete_messages_reports_each_id_in_order(broker: Broker) -> None:
    queue = broker.queue("plain")
    ids = [queue.send(f"m{i}").message_id for i in range(3)]
    queue.receive(max_messages=10)
    results = broker._store.queues.delete_messages("plain", [ids[0], "nope", ids[0], ids[2]])
    assert results == [DeleteResult.DELETED, DeleteResult.GONE, DeleteResult.GONE, DeleteResult.DELETED]
    assert [m.message_id for m in queue.receive(max_messages=10, visibility_timeout=0)] == []
    broker._clock.advance(31)  # type: ignore[attr-defined]
    assert [m.message_id for m in queue.receive(max_messages=10)] == [ids[1]]


def test_delete_messages_on_fifo_keeps_visible_ones(broker: Broker) -> None:
    queue = broker.queue("tx.fifo", content_based_deduplication=True)
    first = queue.send("a", message_group_id="g").message_id
    second = queue.send("b", message_group_id="h").message_id
    now = broker._clock()
    queue.receive(max_messages=1)  # only the first is in flight
    results = broker._store.queues.delete_messages("tx.fifo", [second, first, second], in_flight_at=now)
    assert results == [DeleteResult.EXPIRED, DeleteResult.DELETED, DeleteResult.EXPIRED]
    assert [m.body for m in queue.receive(max_messages=10)] == ["b"]


def test_delete_messages_on_a_missing_queue(broker: Broker) -> None:
    with pytest.raises(NotFound) as info:
        broker._store.queues.delete_messages("missing", ["x"])
    assert (info.value.kind, info.value.name) == ("queue", "missing")


def test_change_visibilities_in_order(broker: Broker) -> None:
    queue = broker.queue("plain")
    sent = queue.send("m").message_id
    queue.receive()
    now = broker._clock()
    results = broker._store.queues.change_visibilities("plain", [(sent, 0), ("nope", 5), (sent, 50_000)], now)
    assert results == [
        ChangeVisibilityResult.CHANGED,
        ChangeVisibilityResult.NOT_FOUND,
        ChangeVisibilityResult.BEYOND_LIMIT,
    ]
    assert [m.message_id for m in queue.receive()] == [sent]


def test_put_messages_many_fans_out_in_one_call(broker: Broker) -> None:
    plain = broker.queue("plain")
    other = broker.queue("other")
    fifo = broker.queue("tx.fifo", content_based_deduplication=True)
    batches = [
        ("plain", [plain.prepare_message("hello")]),
        ("other", [other.prepare_message("hello", delay_seconds=5)]),
        ("tx.fifo", [fifo.prepare_message("hello", message_group_id="g")]),
        ("tx.fifo", [fifo.prepare_message("hello", message_group_id="g")]),  # a duplicate
    ]
    stored = broker._store.queues.put_messages_many(batches)
    assert [len(batch) for batch in stored] == [1, 1, 1, 1]
    assert stored[2][0].sequence_number is not None
    assert stored[3][0].message_id == stored[2][0].message_id  # deduplicated, as put_messages does
    assert [m.body for m in plain.receive()] == ["hello"]
    assert other.receive() == []  # delayed
    assert [m.message_id for m in fifo.receive(max_messages=10)] == [stored[2][0].message_id]


def test_put_messages_many_stores_nothing_when_a_queue_is_missing(broker: Broker) -> None:
    plain = broker.queue("plain")
    with pytest.raises(NotFound) as info:
        broker._store.queues.put_messages_many([("plain", [plain.prepare_message("x")]), ("missing", [])])
    assert info.value.name == "missing"
    assert plain.receive() == []


def test_prepare_message_validates_as_send_does(broker: Broker) -> None:
    fifo = broker.queue("tx.fifo")
    with pytest.raises(AwsError) as info:
        fifo.prepare_message("x")
    assert info.value.code == "MissingParameter"
