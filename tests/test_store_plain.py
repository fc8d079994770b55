"""Store.put_plain_many and put_plain_batch on every store (natively in memory), and the native
StoredMessage the stores keep: what a fan-out or a batch stores is what SendMessage would have
stored, and what they refuse is left for the long way."""

from __future__ import annotations

import base64
import hashlib
import json
import string
import uuid

import pytest
from rulebus import Broker
from rulebus._core import DeliveryCounter, FanOut, sns_notification_head
from rulebus._errors import NotFound
from rulebus.stores import MemoryStore
from rulebus.stores.receipts import _MINTED, make_receipt_handle, new_message_id, parse_receipt_handle
from rulebus.stores.records import StoredMessage

ENVELOPE = '{\n  "Type" : "Notification",\n  "Message" : "hello"\n}'


def test_plain_deliveries_arrive_as_sends_would(broker: Broker) -> None:
    first, second = broker.queue("first"), broker.queue("second")
    delayed = broker.queue("delayed", delay_seconds=5)
    now = broker._clock()
    deliveries = [("first", ENVELOPE), ("second", "b1"), ("delayed", "late"), ("second", "b2")]
    assert broker._store.queues.put_plain_many(deliveries, "123456789012", now) == []

    (message,) = first.receive(max_messages=10, attribute_names=["All"])
    assert message.body == ENVELOPE
    assert message.md5_of_body == hashlib.md5(ENVELOPE.encode()).hexdigest()
    assert message.message_attributes == {}
    assert message.attributes["SenderId"] == "123456789012"
    assert message.attributes["SentTimestamp"] == str(int(now * 1000))
    assert [m.body for m in second.receive(max_messages=10)] == ["b1", "b2"]  # in delivery order
    assert delayed.receive() == []
    broker._clock.advance(5)  # type: ignore[attr-defined]
    assert [m.body for m in delayed.receive()] == ["late"]


def test_what_is_not_plain_for_its_queue_is_refused_and_not_stored(broker: Broker) -> None:
    broker.queue("small", maximum_message_size=1024)
    broker.queue("tx.fifo")
    ok = broker.queue("ok")
    deliveries = [
        ("missing", "x"),  # no such queue
        ("tx.fifo", "x"),  # FIFO needs a group id
        ("small", "y" * 1025),  # over the queue's MaximumMessageSize
        ("ok", ""),  # empty
        ("ok", "caf\u00e9"),  # not ASCII: SendMessage's own checks decide
        ("ok", "tab\there"),  # not printable ASCII (a valid body, but the long way's to judge)
        ("ok", "line one\nline two"),  # lines are plain
        ("small", "y" * 1024),
    ]
    refused = broker._store.queues.put_plain_many(deliveries, "123456789012", broker._clock())
    assert refused == [0, 1, 2, 3, 4, 5]
    assert [m.body for m in ok.receive(max_messages=10)] == ["line one\nline two"]
    counts = broker.queue("small").get_attributes(["ApproximateNumberOfMessages"])
    assert counts == {"ApproximateNumberOfMessages": "1"}
    assert broker.queue("tx.fifo").get_attributes(["ApproximateNumberOfMessages"]) == {
        "ApproximateNumberOfMessages": "0"
    }


def test_plain_deliveries_wake_a_long_poll_and_get_distinct_ids(broker: Broker) -> None:
    queue = broker.queue("q")
    version = broker._store.version()
    broker._store.queues.put_plain_many([("q", "a"), ("q", "b")], "123456789012", broker._clock())
    if isinstance(broker._store, MemoryStore):  # SQLite's waiters poll the file instead
        assert broker._store.version() != version
    ids = {m.message_id for m in queue.receive(max_messages=10)}
    assert len(ids) == 2


def test_a_plain_batch_is_stored_as_sends_would_and_answers_ids_and_digests(broker: Broker) -> None:
    queue = broker.queue("q", delay_seconds=2)
    now = broker._clock()
    bodies = ["first", "line one\nline two", "x" * 1000]
    sent = broker._store.queues.put_plain_batch("q", bodies, "123456789012", now)
    assert sent is not None
    assert [md5 for _, md5 in sent] == [hashlib.md5(body.encode()).hexdigest() for body in bodies]
    assert len({message_id for message_id, _ in sent}) == 3
    assert queue.receive(max_messages=10) == []  # the queue's DelaySeconds holds them
    broker._clock.advance(2)  # type: ignore[attr-defined]
    received = queue.receive(max_messages=10, attribute_names=["All"])
    assert [(m.message_id, m.md5_of_body, m.body) for m in received] == [
        (message_id, md5, body) for (message_id, md5), body in zip(sent, bodies)
    ]
    assert all(m.attributes["SenderId"] == "123456789012" for m in received)
    assert received[0].attributes["SentTimestamp"] == str(int(now * 1000))


@pytest.mark.parametrize(
    ("queue", "bodies"),
    [
        ("tx.fifo", ["a"]),  # FIFO: a group id is needed
        ("q", ["a", ""]),  # one empty body
        ("q", ["a", "caf\u00e9"]),  # not ASCII: SendMessage's own checks decide
        ("q", ["a", "tab\there"]),
        ("q", ["a", "y" * 1025]),  # over the queue's MaximumMessageSize
        ("q", ["a", None]),
    ],
)
def test_a_batch_with_a_body_that_is_not_plain_stores_nothing(
    broker: Broker, queue: str, bodies: list[str]
) -> None:
    broker.queue("q", maximum_message_size=1024)
    broker.queue("tx.fifo")
    assert broker._store.queues.put_plain_batch(queue, bodies, "123456789012", broker._clock()) is None
    assert broker.queue(queue).get_attributes(["ApproximateNumberOfMessages"]) == {
        "ApproximateNumberOfMessages": "0"
    }


def test_a_plain_batch_for_a_missing_queue_is_not_found(broker: Broker) -> None:
    with pytest.raises(NotFound):
        broker._store.queues.put_plain_batch("missing", ["a"], "123456789012", broker._clock())


def test_stored_message_replace_and_received() -> None:
    message = StoredMessage(new_message_id(), "body", None, {}, None, "acct", 10.0, 10.0)
    assert message.md5_of_body == hashlib.md5(b"body").hexdigest()  # computed when first read
    received = message.received(12.0, 30.0)
    assert (received.visible_at, received.receive_count) == (42.0, 1)
    assert (received.first_receive_timestamp, received.last_receive_timestamp) == (12.0, 12.0)
    again = received.received(50.0, 0.0)
    assert again.receive_count == 2
    assert (again.first_receive_timestamp, again.last_receive_timestamp) == (12.0, 50.0)
    assert message.receive_count == 0  # immutable: each change is a new message
    changed = message.replace(body="other", sequence_number="1", message_group_id=None)
    assert changed.body == "other" and changed.sequence_number == "1"
    assert changed.md5_of_body == hashlib.md5(b"other").hexdigest()  # a new body, a new digest
    assert changed.message_id == message.message_id
    with pytest.raises(TypeError):
        message.replace(colour="blue")
    given = StoredMessage("id", "body", "not-an-md5-but-kept", {}, None, "acct", 0.0, 0.0)
    assert given.md5_of_body == "not-an-md5-but-kept"


def test_wrapped_deliveries_are_head_middle_tail(broker: Broker) -> None:
    a, b = broker.queue("a"), broker.queue("b", maximum_message_size=1024)
    head, tail = '{"UnsubscribeURL" : ', "}"
    deliveries = [("a", '"https://a"'), ("b", '"https://b"'), ("b", "x" * 1010)]
    refused = broker._store.queues.put_plain_many(
        deliveries, "123456789012", broker._clock(), wrap=(head, tail)
    )
    assert refused == [2]  # 1,010 bytes wrapped are over b's 1,024
    assert [m.body for m in a.receive()] == ['{"UnsubscribeURL" : "https://a"}']
    assert [m.body for m in b.receive(max_messages=10)] == ['{"UnsubscribeURL" : "https://b"}']


TOPIC = ("arn:aws:sns:us-east-1:123456789012:t", "1", "https://sns.us-east-1.amazonaws.com/cert.pem")


def test_notifications_are_head_route_and_tail_and_counted(broker: Broker) -> None:
    a, b = broker.queue("a"), broker.queue("b")
    counters = [DeliveryCounter(), DeliveryCounter(5)]
    both = FanOut([("a", '"https://a"', counters[0]), ("b", '"https://b"', counters[1])])
    only_b = FanOut([("b", '"https://b"', counters[1])])
    publishes = [(both, "id-1", None, "first", "\n}"), (only_b, "id-2", "S", "second", ',\n  "X" : 1\n}')]
    now = broker._clock()
    stamp = "2026-11-29T07:00:00.000Z"
    assert broker._store.queues.put_notifications(TOPIC, publishes, "123456789012", now, stamp) == (2, [])
    arn, version, cert = TOPIC

    def head(message_id: str, subject: str | None, message: str) -> str:
        return sns_notification_head(message_id, arn, subject, message, stamp, version, cert)

    assert [m.body for m in a.receive(max_messages=10)] == [head("id-1", None, "first") + '"https://a"\n}']
    assert [m.body for m in b.receive(max_messages=10)] == [
        head("id-1", None, "first") + '"https://b"\n}',
        head("id-2", "S", "second") + '"https://b",\n  "X" : 1\n}',
    ]
    assert [c.value for c in counters] == [1, 7]


def test_a_refused_notification_stops_the_publishes_after_it(broker: Broker) -> None:
    """The routes refused are those of the last publish stored; later publishes wait, so the
    caller sends the refused ones the long way first and every queue keeps publish order."""
    ok, small = broker.queue("ok"), broker.queue("small", maximum_message_size=1024)
    counter, small_counter, gone_counter = DeliveryCounter(), DeliveryCounter(), DeliveryCounter()
    fan_out = FanOut([("gone", '"g"', gone_counter), ("ok", '"o"', counter), ("small", '"s"', small_counter)])
    publishes = [(fan_out, f"id-{n}", None, text, "\n}") for n, text in enumerate(["a", "x" * 1000, "c"])]
    store, now, stamp = broker._store, broker._clock(), "2026-11-29T07:00:00.000Z"
    assert store.queues.put_notifications(TOPIC, publishes, "1", now, stamp) == (1, [0])  # no queue "gone"
    broker.queue("gone")
    assert store.queues.put_notifications(TOPIC, publishes[1:], "1", now, stamp) == (
        1,
        [2],
    )  # too long for small
    assert store.queues.put_notifications(TOPIC, publishes[2:], "1", now, stamp) == (1, [])
    assert store.queues.put_notifications(TOPIC, [], "1", now, stamp) == (0, [])
    assert [json.loads(m.body)["Message"][:1] for m in ok.receive(max_messages=10)] == ["a", "x", "c"]
    assert [json.loads(m.body)["Message"] for m in small.receive(max_messages=10)] == ["a", "c"]
    assert (gone_counter.value, counter.value, small_counter.value) == (2, 3, 2)


def test_fan_out_routes_and_counters() -> None:
    counter = DeliveryCounter(2)
    counter.add(3)
    counter.value += 1
    assert counter.value == 6
    assert repr(counter) == "DeliveryCounter(6)"
    fan_out = FanOut([("q", '"u"', counter)])
    assert len(fan_out) == 1
    ((queue, middle, same),) = fan_out.routes
    assert (queue, middle, same) == ("q", '"u"', counter) and same is counter
    with pytest.raises(TypeError):
        FanOut([("q", 1, counter)])  # type: ignore[list-item]


@pytest.mark.parametrize("queue", ["orders", "q-\u00fc.fifo", "x" * 80])
def test_receipt_handles_name_their_message_and_are_new_each_time(queue: str) -> None:
    """Handles are URL-safe base64 of ("rb1", queue, message id, a new token) on lines: parsed
    back from the text alone (not only from this process's cache), and never the same twice."""
    first, second = make_receipt_handle(queue, "m-1"), make_receipt_handle(queue, "m-1")
    assert first != second
    for handle in (first, second):
        assert set(handle) <= set(string.ascii_letters + string.digits + "-_=")
        raw = base64.urlsafe_b64decode(handle).decode()
        prefix, named_queue, message_id, token = raw.split("\n")
        assert (prefix, named_queue, message_id) == ("rb1", queue, "m-1")
        assert uuid.UUID(token).version == 4
    _MINTED.clear()  # decoded, not looked up
    assert parse_receipt_handle(first) == (queue, "m-1")
    assert parse_receipt_handle("not-a-handle") is None
