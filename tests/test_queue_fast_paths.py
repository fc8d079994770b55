"""The queues' fast paths keep SQS's semantics: the memory store's send-order deque and its heap of
messages visible again, the SQLite store's lazy deletion of expired messages and its in-flight
count taken with the receive, and the Queue's lean paths for plain sends and receives."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker


def test_a_message_visible_again_comes_before_newer_ones(broker: Broker) -> None:
    queue = broker.queue("order")
    for body in ("a", "b", "c"):
        queue.send(body)
    (first,) = queue.receive()
    queue.change_visibility(first.receipt_handle, 0)
    assert [m.body for m in queue.receive(max_messages=10)] == ["a", "b", "c"]


def test_a_delayed_message_takes_its_send_order_place(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("delays")
    queue.send("late", delay_seconds=10)
    queue.send("now")
    assert [m.body for m in queue.receive(max_messages=10)] == ["now"]
    queue.send("later")
    clock.advance(10)
    assert [m.body for m in queue.receive(max_messages=10)] == ["late", "later"]


def test_many_visibility_changes_leave_each_message_once(broker: Broker) -> None:
    # Each change files the message again; the stale entries are compacted away on the way.
    queue = broker.queue("churn")
    queue.send("a")
    queue.send("b")
    (received,) = queue.receive()
    for _ in range(300):
        queue.change_visibility(received.receipt_handle, 0)
    assert [m.body for m in queue.receive(max_messages=10)] == ["a", "b"]
    assert queue.receive(max_messages=10) == []


def test_a_message_expiring_just_after_a_receive_is_not_received(broker: Broker, clock: FakeClock) -> None:
    # The SQLite store deletes expired rows at most once a second; its receive skips them anyway.
    queue = broker.queue("brief", message_retention_period=60)
    queue.send("old")
    clock.advance(30)
    queue.send("young")
    clock.advance(29.5)
    assert queue.receive(visibility_timeout=0) != []  # deletes nothing: none has expired yet
    clock.advance(0.6)  # "old" is past retention, within a second of that receive
    assert [m.body for m in queue.receive(max_messages=10)] == ["young"]
    counts = queue.get_attributes(["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}


def test_plain_and_general_batch_entries_answer_alike(broker: Broker) -> None:
    queue = broker.queue("mixed")
    entries = [
        {"Id": "plain", "MessageBody": "hello"},
        {"Id": "tab", "MessageBody": "a\tb"},
        {
            "Id": "attrs",
            "MessageBody": "x",
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
        },
        {"Id": "bad", "MessageBody": "\x00"},
        {"Id": "empty", "MessageBody": ""},
        {"Id": "unicode", "MessageBody": "héllo"},
    ]
    result = queue.send_batch(entries)
    assert [s["Id"] for s in result["Successful"]] == ["plain", "tab", "attrs", "unicode"]
    assert [(f["Id"], f["Code"]) for f in result["Failed"]] == [
        ("bad", "InvalidMessageContents"),
        ("empty", "MissingParameter"),
    ]
    received = queue.receive(max_messages=10, message_attribute_names=["All"])
    assert [m.body for m in received] == ["hello", "a\tb", "x", "héllo"]
    assert [m.message_attributes for m in received][2] == {"k": {"DataType": "String", "StringValue": "v"}}
    assert all(m.attributes == {} for m in received)


def test_a_plain_body_over_the_size_limit_fails_alone(broker: Broker) -> None:
    queue = broker.queue("small", maximum_message_size=1024)
    result = queue.send_batch(
        [{"Id": "1", "MessageBody": "x" * 1024}, {"Id": "2", "MessageBody": "x" * 1025}]
    )
    assert [s["Id"] for s in result["Successful"]] == ["1"]
    assert [(f["Id"], f["Code"]) for f in result["Failed"]] == [("2", "InvalidParameterValue")]


def test_sqlite_queue_records_are_fresh_across_brokers(tmp_path: Path, clock: FakeClock) -> None:
    # Each SQLite store caches queue records per connection; another store's writes show at once.
    with (
        Broker(tmp_path / "shared.db", clock=clock) as one,
        Broker(tmp_path / "shared.db", clock=clock) as two,
    ):
        mine, theirs = one.queue("shared"), two.queue("shared")
        mine.send("x")
        assert theirs.attributes["VisibilityTimeout"] == "30"
        mine.set_attributes(visibility_timeout=45)
        assert theirs.attributes["VisibilityTimeout"] == "45"
        theirs.set_attributes(maximum_message_size=1024)
        result = mine.send_batch([{"Id": "1", "MessageBody": "x" * 1025}])
        assert [f["Code"] for f in result["Failed"]] == ["InvalidParameterValue"]
        two.delete_queue("shared")
        with pytest.raises(AwsError) as info:
            mine.send("y")
        assert info.value.code == "QueueDoesNotExist"
