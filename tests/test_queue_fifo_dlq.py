"""SQS FIFO queues and dead-letter queues (docs/semantics.md, 'SQS queues') on both stores.

The fixtures (a fake clock, a broker per store) come from conftest.py and tests/helpers; nothing
sleeps and no assertion is about how long anything took.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import START, FakeClock
from rulebus import Broker
from rulebus.sqs.queue import Queue

# test_queue.py's fixtures (a fake clock, a broker on each store), used here by name.


@pytest.fixture
def fifo(broker: Broker) -> Queue:
    return broker.queue("tx.fifo", content_based_deduplication=True, visibility_timeout=30)


def bodies(messages: list) -> list[str]:
    return [m.body for m in messages]


def counts(queue: Queue) -> tuple[int, int, int]:
    a = queue.attributes
    return (
        int(a["ApproximateNumberOfMessages"]),
        int(a["ApproximateNumberOfMessagesNotVisible"]),
        int(a["ApproximateNumberOfMessagesDelayed"]),
    )


# ------------------------------------------------------------------------------------------
# FIFO: ordering and group blocking.


def test_fifo_returns_a_group_in_order_before_the_next(fifo: Queue) -> None:
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("c1", "c"), ("a3", "a"), ("b2", "b")]:
        fifo.send(body, message_group_id=group)
    assert bodies(fifo.receive(max_messages=10)) == ["a1", "a2", "a3", "b1", "b2", "c1"]


def test_fifo_in_flight_message_blocks_its_whole_group(fifo: Queue, clock: FakeClock) -> None:
    for body, group in [("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")]:
        fifo.send(body, message_group_id=group)
    (a1,) = fifo.receive()
    assert a1.body == "a1"
    (b1,) = fifo.receive()  # group a is blocked, even a2 which was never received
    assert b1.body == "b1"
    assert fifo.receive(max_messages=10) == []
    fifo.delete(a1.receipt_handle)
    assert bodies(fifo.receive(max_messages=10)) == ["a2"]  # b still blocked by b1
    clock.advance(30)  # b1's and a2's visibility ends: b1 comes back before b2, a2 again
    assert bodies(fifo.receive(max_messages=10)) == ["a2", "b1", "b2"]


def test_fifo_change_visibility_zero_unblocks_the_group(fifo: Queue) -> None:
    fifo.send("x1", message_group_id="x")
    fifo.send("x2", message_group_id="x")
    (x1,) = fifo.receive()
    assert fifo.receive() == []
    fifo.change_visibility(x1.receipt_handle, 0)
    received = fifo.receive(max_messages=10, attribute_names=["ApproximateReceiveCount"])
    assert bodies(received) == ["x1", "x2"]
    assert [m.attributes["ApproximateReceiveCount"] for m in received] == ["2", "1"]


def test_fifo_delayed_message_holds_back_what_follows_it_in_its_group(
    broker: Broker, clock: FakeClock
) -> None:
    fifo = broker.queue("delayed.fifo", content_based_deduplication=True, delay_seconds=10)
    fifo.send("a1", message_group_id="a")
    clock.advance(10)
    fifo.send("a2", message_group_id="a")  # delayed until 20
    fifo.send("b1", message_group_id="b")
    clock.advance(5)
    # a1 is visible; a2 is not yet, and nothing of group a behind it may come; b1 neither.
    assert bodies(fifo.receive(max_messages=10)) == ["a1"]
    clock.advance(5)
    assert bodies(fifo.receive(max_messages=10)) == ["b1"]  # a is blocked by a1 in flight


# ------------------------------------------------------------------------------------------
# FIFO: deduplication and sequence numbers.


def test_fifo_deduplication_window_survives_delete(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("dedup.fifo")
    first = queue.send("one", message_group_id="g", message_deduplication_id="d-1")
    again = queue.send("other body", message_group_id="g", message_deduplication_id="d-1")
    assert (again.message_id, again.sequence_number) == (first.message_id, first.sequence_number)
    assert counts(queue) == (1, 0, 0)
    (message,) = queue.receive()
    queue.delete(message.receipt_handle)
    clock.advance(299)
    assert (
        queue.send("one", message_group_id="g", message_deduplication_id="d-1").message_id == first.message_id
    )
    assert counts(queue) == (0, 0, 0)
    clock.advance(1)  # five minutes after the first send
    fresh = queue.send("one", message_group_id="g", message_deduplication_id="d-1")
    assert fresh.message_id != first.message_id
    assert counts(queue) == (1, 0, 0)


def test_fifo_content_based_deduplication_hashes_the_body(fifo: Queue) -> None:
    first = fifo.send("debit 10", message_group_id="acct-1")
    # Queue scope: the same body in another group is still a duplicate; attributes do not count.
    same = fifo.send(
        "debit 10",
        message_group_id="acct-2",
        message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    assert same.message_id == first.message_id
    explicit = fifo.send("debit 10", message_group_id="acct-1", message_deduplication_id="explicit")
    assert explicit.message_id != first.message_id
    (message, _) = fifo.receive(max_messages=10, attribute_names=["All"])
    import hashlib

    assert message.attributes["MessageDeduplicationId"] == hashlib.sha256(b"debit 10").hexdigest()


def test_fifo_deduplication_scope_message_group(broker: Broker) -> None:
    queue = broker.queue("scoped.fifo", deduplication_scope="messageGroup")
    a = queue.send("x", message_group_id="a", message_deduplication_id="same")
    b = queue.send("x", message_group_id="b", message_deduplication_id="same")
    again = queue.send("x", message_group_id="a", message_deduplication_id="same")
    assert a.message_id != b.message_id
    assert again.message_id == a.message_id
    assert counts(queue) == (2, 0, 0)


def test_fifo_sequence_numbers_and_system_attributes(fifo: Queue) -> None:
    sent = [fifo.send(f"m{i}", message_group_id="g", message_deduplication_id=f"d{i}") for i in range(3)]
    numbers = [s.sequence_number for s in sent]
    assert all(n is not None and n.isdigit() and len(n) == 20 for n in numbers)
    assert [int(n) for n in numbers if n] == sorted(int(n) for n in numbers if n)
    assert len(set(numbers)) == 3
    received = fifo.receive(max_messages=10, attribute_names=["All"])
    assert [m.attributes["SequenceNumber"] for m in received] == numbers
    assert [m.attributes["MessageDeduplicationId"] for m in received] == ["d0", "d1", "d2"]
    assert {m.attributes["MessageGroupId"] for m in received} == {"g"}
    assert "DeadLetterQueueSourceArn" not in received[0].attributes
    only = fifo.receive(attribute_names=["MessageGroupId"])
    assert only == []  # the group is in flight


def test_fifo_batch_numbers_and_deduplicates_within_the_request(fifo: Queue) -> None:
    result = fifo.send_batch(
        [
            {"Id": "1", "MessageBody": "same", "MessageGroupId": "g"},
            {"Id": "2", "MessageBody": "same", "MessageGroupId": "g"},
            {"Id": "3", "MessageBody": "other", "MessageGroupId": "g"},
            {"Id": "4", "MessageBody": "no group"},
        ]
    )
    ok = {entry["Id"]: entry for entry in result["Successful"]}
    assert ok["1"]["MessageId"] == ok["2"]["MessageId"]
    assert ok["1"]["SequenceNumber"] == ok["2"]["SequenceNumber"]
    assert int(ok["3"]["SequenceNumber"]) > int(ok["1"]["SequenceNumber"])
    assert result["Failed"] == [
        {
            "Id": "4",
            "SenderFault": True,
            "Code": "InvalidParameterValue",
            "Message": "The request must contain the parameter MessageGroupId.",
        }
    ]
    assert bodies(fifo.receive(max_messages=10)) == ["same", "other"]


def test_fifo_deduplication_survives_reopening_sqlite(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "fifo.db"
    with Broker(path, clock=clock) as broker:
        sent = broker.queue("durable.fifo", content_based_deduplication=True).send(
            "once", message_group_id="g"
        )
    with Broker(path, clock=clock) as reopened:
        queue = reopened.queue("durable.fifo")
        again = queue.send("once", message_group_id="g")
        assert (again.message_id, again.sequence_number) == (sent.message_id, sent.sequence_number)
        later = queue.send("twice", message_group_id="g")
        assert int(later.sequence_number or 0) > int(sent.sequence_number or 0)
        assert bodies(queue.receive(max_messages=10)) == ["once", "twice"]


# ------------------------------------------------------------------------------------------
# FIFO: errors.


def test_fifo_errors(broker: Broker) -> None:
    queue = broker.queue("errors.fifo")
    with aws_error("MissingParameter", "The request must contain the parameter MessageGroupId."):
        queue.send("x", message_deduplication_id="d")
    with aws_error(
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
        "provided explicitly",
    ):
        queue.send("x", message_group_id="g")
    with aws_error(
        "InvalidParameterValue",
        "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is "
        "not valid for this queue type.",
    ):
        queue.send("x", message_group_id="g", message_deduplication_id="d", delay_seconds=2)
    with aws_error(
        "InvalidParameterValue",
        "Value a b for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include "
        "alphanumeric and punctuation characters. 1 to 128 in length.",
    ):
        queue.send("x", message_group_id="a b", message_deduplication_id="d")
    long_id = "d" * 129
    with aws_error(
        "InvalidParameterValue",
        f"Value {long_id} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId "
        "can only include alphanumeric and punctuation characters. 1 to 128 in length.",
    ):
        queue.send("x", message_group_id="g", message_deduplication_id=long_id)
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    assert queue.send("x", message_group_id=punctuation, message_deduplication_id="d" * 128).sequence_number
    assert counts(queue) == (1, 0, 0)


def test_standard_queue_refuses_deduplication_id_and_accepts_group(broker: Broker) -> None:
    queue = broker.queue("plain")
    with aws_error(
        "InvalidParameterValue",
        "Value d for parameter MessageDeduplicationId is invalid. Reason: The request include parameter "
        "that is not valid for this queue type.",
    ):
        queue.send("x", message_deduplication_id="d")
    sent = queue.send("x", message_group_id="tenant-1")  # fair queues
    assert sent.sequence_number is None
    (message,) = queue.receive(attribute_names=["All"])
    assert message.attributes["MessageGroupId"] == "tenant-1"
    assert "SequenceNumber" not in message.attributes


# ------------------------------------------------------------------------------------------
# Dead-letter queues.


def test_message_moves_on_the_receive_that_would_exceed_max_receive_count(
    broker: Broker, clock: FakeClock
) -> None:
    dlq = broker.queue("orders-dlq")
    orders = broker.queue(
        "orders",
        visibility_timeout=30,
        redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3},
    )
    sent = orders.send("poison", message_attributes={"k": {"DataType": "String", "StringValue": "v"}})
    orders.send("fine")
    clock.advance(5)
    deliveries = 0
    for _ in range(5):
        got = [m for m in orders.receive(max_messages=10) if m.body == "poison"]
        deliveries += len(got)
        clock.advance(30)
    assert deliveries == 3
    assert counts(orders) == (0, 0, 0)  # "fine" was never deleted, so it moved too
    moved, fine = dlq.receive(max_messages=10, attribute_names=["All"], message_attribute_names=["All"])
    assert fine.body == "fine"
    assert moved.message_id == sent.message_id
    assert moved.body == "poison"
    assert moved.message_attributes == {"k": {"DataType": "String", "StringValue": "v"}}
    assert moved.md5_of_message_attributes == sent.md5_of_message_attributes
    assert moved.attributes["SentTimestamp"] == str(int(START * 1000))
    assert moved.attributes["ApproximateReceiveCount"] == "1"
    assert moved.attributes["DeadLetterQueueSourceArn"] == orders.arn


def test_fifo_dead_letter_queue_keeps_group_and_frees_it(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("tx-dlq.fifo")
    source = broker.queue(
        "tx.fifo",
        content_based_deduplication=True,
        visibility_timeout=10,
        redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1},
    )
    first = source.send("first", message_group_id="g")
    source.send("second", message_group_id="g")
    assert bodies(source.receive()) == ["first"]
    clock.advance(10)
    # "first" would be received a second time: it moves, and the group's next message is served.
    assert bodies(source.receive(max_messages=10)) == ["second"]
    (moved,) = dlq.receive(attribute_names=["All"])
    assert moved.message_id == first.message_id
    assert moved.attributes["MessageGroupId"] == "g"
    assert moved.attributes["MessageDeduplicationId"] == first.message_id
    assert moved.attributes["SequenceNumber"].isdigit()
    assert moved.attributes["DeadLetterQueueSourceArn"] == source.arn


def test_dead_letter_target_must_exist(broker: Broker) -> None:
    source = broker.queue("src")
    arn = source.arn.replace(":src", ":missing")
    policy = f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":2}}'
    with aws_error(
        "InvalidParameterValue",
        f"Value {policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
    ):
        source.set_attributes({"RedrivePolicy": policy})
    with aws_error("InvalidParameterValue"):
        broker.queue("other", redrive_policy={"deadLetterTargetArn": arn, "maxReceiveCount": 2})
    elsewhere = source.arn.replace("000000000000", "111111111111")
    broker.queue("dlq")
    with aws_error("InvalidParameterValue"):  # same name, another account: not this broker's queue
        source.set_attributes(
            redrive_policy={"deadLetterTargetArn": elsewhere[:-3] + "dlq", "maxReceiveCount": 2}
        )


def test_dead_letter_queue_must_be_the_same_type(broker: Broker) -> None:
    fifo_dlq = broker.queue("dlq.fifo")
    standard_dlq = broker.queue("dlq")
    with aws_error("InvalidParameterValue") as _:
        broker.queue("std", redrive_policy={"deadLetterTargetArn": fifo_dlq.arn, "maxReceiveCount": 1})
    fifo = broker.queue("f.fifo")
    with aws_error("InvalidParameterValue"):
        fifo.set_attributes(redrive_policy={"deadLetterTargetArn": standard_dlq.arn, "maxReceiveCount": 1})


def test_redrive_allow_policy_of_the_target_is_honoured(broker: Broker) -> None:
    denying = broker.queue("denying", redrive_allow_policy={"redrivePermission": "denyAll"})
    source = broker.queue("source")
    with aws_error(
        "InvalidParameterValue",
        f"Value {denying.arn} for parameter RedrivePolicy is invalid. Reason: Queue {denying.arn} does not "
        "allow this queue to use it as a dead letter queue.",
    ):
        source.set_attributes(redrive_policy={"deadLetterTargetArn": denying.arn, "maxReceiveCount": 1})
    picky = broker.queue(
        "picky",
        redrive_allow_policy={"redrivePermission": "byQueue", "sourceQueueArns": [source.arn]},
    )
    source.set_attributes(redrive_policy={"deadLetterTargetArn": picky.arn, "maxReceiveCount": 1})
    stranger = broker.queue("stranger")
    with aws_error("InvalidParameterValue"):
        stranger.set_attributes(redrive_policy={"deadLetterTargetArn": picky.arn, "maxReceiveCount": 1})
    assert source.attributes["RedrivePolicy"] == (
        f'{{"deadLetterTargetArn":"{picky.arn}","maxReceiveCount":1}}'
    )


def test_dead_letter_source_queues(broker: Broker) -> None:
    dlq = broker.queue("dlq")
    assert dlq.dead_letter_source_queues() == []
    policy = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 4}
    b = broker.queue("b", redrive_policy=policy)
    a = broker.queue("a")
    a.set_attributes(redrive_policy=policy)
    broker.queue("unrelated")
    assert dlq.dead_letter_source_queues() == [a, b]
    b.set_attributes({"RedrivePolicy": ""})
    assert dlq.dead_letter_source_queues() == [a]


def test_moved_messages_persist_in_sqlite(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "dlq.db"
    with Broker(path, clock=clock) as broker:
        dlq = broker.queue("dlq")
        source = broker.queue("source", redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
        source.send("bad")
        source.receive()
        clock.advance(30)
        assert source.receive() == []
    with Broker(path, clock=clock) as reopened:
        (moved,) = reopened.queue("dlq").receive(attribute_names=["DeadLetterQueueSourceArn"])
        assert moved.body == "bad"
        assert moved.attributes == {"DeadLetterQueueSourceArn": reopened.queue("source").arn}
