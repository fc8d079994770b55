"""Store.put_plain_many on both stores (natively in memory), and the native StoredMessage the
stores keep: what a fan-out stores is what SendMessage would have stored, and what it refuses is
left for the long way."""

from __future__ import annotations

import base64
import hashlib
import string
import uuid

import pytest
from rulebus import Broker
from rulebus.store import (
    _MINTED,
    MemoryStore,
    StoredMessage,
    make_receipt_handle,
    new_message_id,
    parse_receipt_handle,
)

ENVELOPE = '{\n  "Type" : "Notification",\n  "Message" : "hello"\n}'


def test_plain_deliveries_arrive_as_sends_would(broker: Broker) -> None:
    first, second = broker.queue("first"), broker.queue("second")
    delayed = broker.queue("delayed", delay_seconds=5)
    now = broker._clock()
    deliveries = [("first", ENVELOPE), ("second", "b1"), ("delayed", "late"), ("second", "b2")]
    assert broker._store.put_plain_many(deliveries, "123456789012", now) == []

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
    refused = broker._store.put_plain_many(deliveries, "123456789012", broker._clock())
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
    broker._store.put_plain_many([("q", "a"), ("q", "b")], "123456789012", broker._clock())
    if isinstance(broker._store, MemoryStore):  # SQLite's waiters poll the file instead
        assert broker._store.version() != version
    ids = {m.message_id for m in queue.receive(max_messages=10)}
    assert len(ids) == 2


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
    refused = broker._store.put_plain_many(deliveries, "123456789012", broker._clock(), wrap=(head, tail))
    assert refused == [2]  # 1,010 bytes wrapped are over b's 1,024
    assert [m.body for m in a.receive()] == ['{"UnsubscribeURL" : "https://a"}']
    assert [m.body for m in b.receive(max_messages=10)] == ['{"UnsubscribeURL" : "https://b"}']


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
