"""SQS standard-queue semantics (docs/semantics.md, 'SQS queues') on both stores.

Every test runs on the memory store and on an SQLite file; time is a fake clock the tests move,
so nothing sleeps, except the long-polling test, which needs a real thread and a real wait.
No assertion is about how long anything took.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import START, FakeClock
from rulebus import AwsError, Broker
from rulebus.sqs.queue import Queue
from rulebus.stores import SQLiteStore


@pytest.fixture
def queue(broker: Broker) -> Queue:
    return broker.queue("orders")


def counts(queue: Queue) -> tuple[int, int, int]:
    attributes = queue.attributes
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        int(attributes["ApproximateNumberOfMessagesDelayed"]),
    )


# ------------------------------------------------------------------------------------------
# Send, receive, delete.


def test_send_receive_delete(queue: Queue) -> None:
    sent = queue.send("hello")
    assert sent.md5_of_message_body == "5d41402abc4b2a76b9719d911017c592"
    assert sent.md5_of_message_attributes is None
    assert counts(queue) == (1, 0, 0)
    (message,) = queue.receive()
    assert message.body == "hello"
    assert message.message_id == sent.message_id
    assert message.md5_of_body == sent.md5_of_message_body
    assert message.attributes == {}
    assert message.message_attributes == {}
    assert message.md5_of_message_attributes is None
    assert counts(queue) == (0, 1, 0)
    assert queue.receive() == []
    queue.delete(message.receipt_handle)
    assert counts(queue) == (0, 0, 0)


def test_receive_oldest_first_up_to_max(queue: Queue) -> None:
    for n in range(12):
        queue.send(f"m{n}")
    assert [m.body for m in queue.receive(max_messages=10)] == [f"m{n}" for n in range(10)]
    assert [m.body for m in queue.receive(max_messages=10)] == ["m10", "m11"]


def test_message_attributes_and_digest(queue: Queue) -> None:
    attributes: dict[str, dict[str, Any]] = {
        "attribName1": {"DataType": "String", "StringValue": "attribValue 1"},
        "binaryAttribute": {"DataType": "Binary", "BinaryValue": b"Hello binary world!"},
        "customNumberTypeAttrib": {
            "DataType": "Number.float",
            "StringValue": "4563442423554324324264524243.32543234",
        },
    }
    sent = queue.send("x", message_attributes=attributes)
    assert sent.md5_of_message_attributes == "c932db14a896c663f83c260297d594ff"  # the guide's vector

    (plain,) = queue.receive()
    assert plain.message_attributes == {}
    assert plain.md5_of_message_attributes is None

    queue.change_visibility(plain.receipt_handle, 0)
    (everything,) = queue.receive(message_attribute_names=["All"])
    assert everything.message_attributes == attributes
    assert everything.md5_of_message_attributes == "c932db14a896c663f83c260297d594ff"

    queue.change_visibility(everything.receipt_handle, 0)
    (some,) = queue.receive(message_attribute_names=["attribName1", "binary.*"])
    assert list(some.message_attributes) == ["attribName1"]  # "binary.*" selects "binary.x" names
    assert some.md5_of_message_attributes == "19e27d4e946b072f3f58da80d94fd778"
    queue.delete(some.receipt_handle)

    queue.send("dotted", message_attributes={"trace.id": {"DataType": "String", "StringValue": "1"}})
    (dotted,) = queue.receive(message_attribute_names=["trace.*"])
    assert list(dotted.message_attributes) == ["trace.id"]


def test_system_attributes(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    clock.advance(2)
    (first,) = queue.receive(attribute_names=["All"], visibility_timeout=0)
    assert first.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": str(int(START * 1000)),
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": str(int((START + 2) * 1000)),
    }
    clock.advance(3)
    (second,) = queue.receive(attribute_names=["ApproximateReceiveCount", "MessageGroupId"])
    assert second.attributes == {"ApproximateReceiveCount": "2"}
    assert second.receipt_handle != first.receipt_handle
    with aws_error("InvalidAttributeName", "Unknown Attribute Bogus."):
        queue.receive(attribute_names=["Bogus"])


# ------------------------------------------------------------------------------------------
# Visibility.


def test_visibility_timeout_expiry(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    (first,) = queue.receive()
    clock.advance(29.9)
    assert queue.receive() == []
    clock.advance(0.1)
    (again,) = queue.receive(attribute_names=["ApproximateReceiveCount"])
    assert again.message_id == first.message_id
    assert again.attributes["ApproximateReceiveCount"] == "2"


def test_visibility_timeout_from_queue_and_override(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("short", visibility_timeout=5)
    queue.send("x")
    queue.receive()
    clock.advance(5)
    assert len(queue.receive(visibility_timeout=100)) == 1
    clock.advance(99)
    assert queue.receive() == []
    clock.advance(1)
    assert len(queue.receive()) == 1


def test_change_visibility(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    (message,) = queue.receive()
    clock.advance(20)
    queue.change_visibility(message.receipt_handle, 60)  # counted from now, not from the receive
    clock.advance(59)
    assert queue.receive() == []
    clock.advance(1)
    (again,) = queue.receive()
    queue.change_visibility(again.receipt_handle, 0)
    assert len(queue.receive()) == 1


def test_change_visibility_after_expiry_rehides(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    (message,) = queue.receive()
    clock.advance(31)
    queue.change_visibility(message.receipt_handle, 10)
    assert queue.receive() == []
    assert counts(queue) == (0, 1, 0)


def test_change_visibility_errors(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    (message,) = queue.receive()
    with aws_error(
        "InvalidParameterValue",
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, "
        "if provided.",
    ):
        queue.change_visibility(message.receipt_handle, 43_201)
    clock.advance(100)
    with aws_error("InvalidParameterValue"):
        queue.change_visibility(message.receipt_handle, 43_200)  # beyond 12 h after the receive
    queue.change_visibility(message.receipt_handle, 43_100)
    queue.delete(message.receipt_handle)
    with aws_error(
        "InvalidParameterValue",
        f"Value {message.receipt_handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
        "exist or is not available for visibility timeout change.",
    ):
        queue.change_visibility(message.receipt_handle, 10)


# ------------------------------------------------------------------------------------------
# Receipt handles (Amazon SQS Developer Guide, 'Amazon SQS visibility timeout').


def test_garbage_receipt_handle(queue: Queue) -> None:
    text = 'The input receipt handle "garbage" is not a valid receipt handle.'
    with aws_error("ReceiptHandleIsInvalid", text):
        queue.delete("garbage")
    with aws_error("ReceiptHandleIsInvalid", text):
        queue.change_visibility("garbage", 10)


def test_handle_of_another_queue_is_invalid(broker: Broker, queue: Queue) -> None:
    queue.send("x")
    (message,) = queue.receive()
    with aws_error("ReceiptHandleIsInvalid"):
        broker.queue("other").delete(message.receipt_handle)


def test_old_handle_still_deletes(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    (first,) = queue.receive()
    clock.advance(30)
    (second,) = queue.receive()
    assert second.receipt_handle != first.receipt_handle
    queue.delete(first.receipt_handle)
    assert counts(queue) == (0, 0, 0)
    queue.delete(first.receipt_handle)  # deleting again succeeds
    queue.delete(second.receipt_handle)


def test_delete_after_visibility_expiry(queue: Queue, clock: FakeClock) -> None:
    queue.send("x")
    (message,) = queue.receive()
    clock.advance(31)
    queue.delete(message.receipt_handle)
    assert queue.receive() == []


# ------------------------------------------------------------------------------------------
# Delays.


def test_delays(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("slow", delay_seconds=10)
    queue.send("queue delay")
    queue.send("own delay", delay_seconds=0)
    queue.send("longer", delay_seconds=20)
    assert counts(queue) == (1, 0, 2)
    assert [m.body for m in queue.receive(max_messages=10)] == ["own delay"]
    assert counts(queue) == (0, 1, 2)
    clock.advance(10)
    assert [m.body for m in queue.receive(max_messages=10)] == ["queue delay"]
    clock.advance(10)
    assert [m.body for m in queue.receive(max_messages=10)] == ["longer"]
    with aws_error(
        "InvalidParameterValue",
        "Value 901 for parameter DelaySeconds is invalid. Reason: Must be >= 0 and <= 900, if provided.",
    ):
        queue.send("x", delay_seconds=901)


# ------------------------------------------------------------------------------------------
# Limits.


def test_receive_limits(queue: Queue) -> None:
    for bad in (0, 11):
        with aws_error(
            "InvalidParameterValue",
            f"Value {bad} for parameter MaxNumberOfMessages is invalid. "
            "Reason: Must be between 1 and 10, if provided.",
        ):
            queue.receive(max_messages=bad)
    for bad in (-1, 21):
        with aws_error(
            "InvalidParameterValue",
            f"Value {bad} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, "
            "if provided.",
        ):
            queue.receive(wait_seconds=bad)
    with aws_error("InvalidParameterValue"):
        queue.receive(visibility_timeout=43_201)


def test_body_rules(broker: Broker) -> None:
    queue = broker.queue("small", maximum_message_size=1024)
    with aws_error("MissingParameter", "The request must contain the parameter MessageBody."):
        queue.send("")
    queue.send("x" * 1024)
    with aws_error(
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    ):
        queue.send("x" * 1025)
    with aws_error("InvalidParameterValue"):
        queue.send("é" * 513)  # 1026 bytes in UTF-8
    # Attribute names, types and values count toward the size (SQS API Reference, SendMessage).
    with aws_error("InvalidParameterValue"):
        queue.send("x" * 1000, message_attributes={"name": {"DataType": "String", "StringValue": "v" * 20}})
    with aws_error("InvalidMessageContents"):
        queue.send("bad \x00 char")
    with aws_error("InvalidParameterValue"):
        queue.send(
            "x", message_attributes={f"a{n}": {"DataType": "String", "StringValue": "v"} for n in range(11)}
        )


# ------------------------------------------------------------------------------------------
# Batches.


def test_send_batch(broker: Broker) -> None:
    queue = broker.queue("batch", maximum_message_size=1024)
    result = queue.send_batch(
        [
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "x" * 1025},
            {
                "Id": "c",
                "MessageBody": "three",
                "MessageAttributes": {"attribName1": {"DataType": "String", "StringValue": "attribValue 1"}},
                "DelaySeconds": 5,
            },
        ]
    )
    assert [s["Id"] for s in result["Successful"]] == ["a", "c"]
    assert result["Successful"][0]["MD5OfMessageBody"] == "f97c5d29941bfb1b2fdab0874906ab82"
    assert "MD5OfMessageAttributes" not in result["Successful"][0]
    assert result["Successful"][1]["MD5OfMessageAttributes"] == "19e27d4e946b072f3f58da80d94fd778"
    assert result["Failed"] == [
        {
            "Id": "b",
            "SenderFault": True,
            "Code": "InvalidParameterValue",
            "Message": "One or more parameters cannot be validated. Reason: Message must be shorter than "
            "1024 bytes.",
        }
    ]
    assert counts(queue) == (1, 0, 1)


def test_batch_request_errors(queue: Queue) -> None:
    with aws_error("EmptyBatchRequest"):
        queue.send_batch([])
    with aws_error(
        "TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10. You have sent 11.",
    ):
        queue.send_batch([{"Id": str(n), "MessageBody": "x"} for n in range(11)])
    with aws_error("BatchEntryIdsNotDistinct"):
        queue.send_batch([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    invalid_id = (
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
        "It can be at most 80 letters long."
    )
    for bad in ("a.b", "", "x" * 81):
        with aws_error("InvalidBatchEntryId", invalid_id):
            queue.send_batch([{"Id": bad, "MessageBody": "x"}])
    with aws_error(
        "BatchRequestTooLong",
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.",
    ):
        queue.send_batch(
            [{"Id": "a", "MessageBody": "x" * 524_288}, {"Id": "b", "MessageBody": "x" * 524_289}]
        )
    with aws_error("TooManyEntriesInBatchRequest"):
        queue.delete_batch([{"Id": str(n), "ReceiptHandle": "h"} for n in range(11)])
    with aws_error("EmptyBatchRequest"):
        queue.change_visibility_batch([])
    assert counts(queue) == (0, 0, 0)


def test_delete_and_change_visibility_batch(queue: Queue, clock: FakeClock) -> None:
    queue.send_batch([{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)])
    messages = queue.receive(max_messages=10)
    result = queue.change_visibility_batch(
        [
            {"Id": "a", "ReceiptHandle": messages[0].receipt_handle, "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
        ]
    )
    assert result["Successful"] == [{"Id": "a"}]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("b", "ReceiptHandleIsInvalid", True)
    ]
    assert counts(queue) == (1, 2, 0)
    result = queue.delete_batch(
        [{"Id": f"d{n}", "ReceiptHandle": m.receipt_handle} for n, m in enumerate(messages)]
        + [{"Id": "bad", "ReceiptHandle": "garbage"}]
    )
    assert result["Successful"] == [{"Id": "d0"}, {"Id": "d1"}, {"Id": "d2"}]
    assert [f["Id"] for f in result["Failed"]] == ["bad"]
    assert counts(queue) == (0, 0, 0)


# ------------------------------------------------------------------------------------------
# Purge, retention.


def test_purge(queue: Queue, clock: FakeClock) -> None:
    queue.send("in flight")
    queue.receive()
    queue.send("visible")
    queue.send("delayed", delay_seconds=60)
    assert counts(queue) == (1, 1, 1)
    queue.purge()
    assert counts(queue) == (0, 0, 0)
    clock.advance(59)
    with aws_error(
        "PurgeQueueInProgress",
        "Only one PurgeQueue operation on orders is allowed every 60 seconds.",
    ):
        queue.purge()
    clock.advance(1)
    queue.purge()


def test_retention(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("brief", message_retention_period=60)
    queue.send("old")
    clock.advance(30)
    queue.send("newer")
    (received,) = queue.receive()
    clock.advance(30)  # "old" is now 60 s old: gone, in flight or not
    assert counts(queue) == (1, 0, 0)
    with aws_error("InvalidParameterValue"):
        queue.change_visibility(received.receipt_handle, 10)
    assert [m.body for m in queue.receive(max_messages=10)] == ["newer"]


def test_reducing_retention_expires_older_messages(queue: Queue, clock: FakeClock) -> None:
    queue.send("old")
    clock.advance(120)
    queue.send("new")
    queue.set_attributes(message_retention_period=60)
    assert [m.body for m in queue.receive(max_messages=10)] == ["new"]


# ------------------------------------------------------------------------------------------
# Long polling.


def test_long_poll_wakes_on_send_from_another_thread(broker: Broker) -> None:
    queue = broker.queue("waiting")
    started = threading.Event()

    def sender() -> None:
        started.wait()
        broker.queue("waiting").send("wake up")

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        started.set()
        messages = queue.receive(wait_seconds=20)
    finally:
        thread.join()
    assert [m.body for m in messages] == ["wake up"]


def test_queue_wait_time_default_applies_only_when_asked(broker: Broker) -> None:
    queue = broker.queue("polling", receive_message_wait_time_seconds=0)
    assert queue.receive(wait_seconds=0) == []


def test_concurrent_receivers_never_share_a_message(make_broker: Callable[[], Broker]) -> None:
    """Receives are atomic: consumers on their own threads (own SQLite connections) split the
    messages between them, each message going to exactly one."""
    broker = make_broker()
    queue = broker.queue("shared")
    for start in range(0, 100, 10):
        queue.send_batch([{"Id": str(n), "MessageBody": str(n)} for n in range(start, start + 10)])
    taken: list[list[str]] = [[] for _ in range(4)]

    def consume(mine: list[str]) -> None:
        while True:
            messages = queue.receive(max_messages=3)
            if not messages:
                return
            mine.extend(m.body for m in messages)

    threads = [threading.Thread(target=consume, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [body for mine in taken for body in mine]
    assert sorted(everything, key=int) == [str(n) for n in range(100)]


def test_sqlite_file_shared_with_another_process(tmp_path: Path) -> None:
    """Another process sees and takes what this one sent, through the file alone. Both use the
    real clock: the child cannot share the fake one (its messages would look 3 years old)."""
    path = tmp_path / "shared.db"
    with Broker(path) as broker:
        broker.queue("ipc").send("from parent")
        script = (
            "import sys, rulebus\n"
            "q = rulebus.Broker(sys.argv[1]).queue('ipc')\n"
            "(m,) = q.receive()\n"
            "q.delete(m.receipt_handle)\n"
            "q.send('reply to ' + m.body)\n"
        )
        subprocess.run([sys.executable, "-c", script, str(path)], check=True)
        assert [m.body for m in broker.queue("ipc").receive(max_messages=10)] == ["reply to from parent"]


# ------------------------------------------------------------------------------------------
# Broker and attributes.


def test_create_queue_idempotency(broker: Broker) -> None:
    first = broker.queue("q", visibility_timeout=60)
    assert broker.queue("q", visibility_timeout="60") == first
    assert broker.queue("q").attributes["VisibilityTimeout"] == "60"  # open keeps attributes
    with aws_error(
        "QueueNameExists",
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    ):
        broker.queue("q", visibility_timeout=30)
    with aws_error("QueueNameExists"):
        broker.queue("q", visibility_timeout=60, delay_seconds=5)


def test_queue_identity_and_listing(broker: Broker) -> None:
    queue = broker.queue("orders")
    assert queue.arn == "arn:aws:sqs:us-east-1:000000000000:orders"
    assert queue.url == "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
    broker.queue("alpha")
    assert [q.name for q in broker.queues()] == ["alpha", "orders"]
    with aws_error("InvalidParameterValue"):
        broker.queue("bad name")


def test_delete_queue(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("doomed")
    queue.send("x")
    broker.delete_queue("doomed")
    assert broker.queues() == []
    missing = ("QueueDoesNotExist", "The specified queue does not exist.")
    with aws_error(*missing):
        queue.send("x")
    with aws_error(*missing):
        queue.receive()
    with aws_error(*missing):
        broker.delete_queue("doomed")
    clock.advance(60)
    assert broker.queue("doomed").receive() == []  # re-created empty


DELETED_RECENTLY = (
    "QueueDeletedRecently",
    "You must wait 60 seconds after deleting a queue before you can create another queue with the same name.",
)


def test_a_send_to_a_queue_another_broker_deleted_is_queue_does_not_exist(
    make_broker: Callable[[], Broker], request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params["make_broker"] not in ("sqlite", "redis"):
        pytest.skip("each broker on this store has a store of its own")
    sender = make_broker()
    queue = sender.queue("doomed")
    queue.send("known")  # the sender has read the queue's record
    make_broker().delete_queue("doomed")
    with pytest.raises(AwsError) as gone:
        queue.send("too late")
    assert gone.value.code == "QueueDoesNotExist"


def test_queue_deleted_recently(make_broker: Callable[[], Broker], clock: FakeClock) -> None:
    broker = make_broker()
    broker.queue("doomed", visibility_timeout=45)
    broker.queue("other")
    broker.delete_queue("doomed")
    clock.advance(59.5)
    with aws_error(*DELETED_RECENTLY):
        broker.queue("doomed")
    with aws_error(*DELETED_RECENTLY):
        broker.queue("doomed", visibility_timeout=45)
    with pytest.raises(AwsError) as info:
        broker.queue("doomed")
    assert (info.value.query_code, info.value.status) == ("AWS.SimpleQueueService.QueueDeletedRecently", 400)
    assert [q.name for q in broker.queues()] == ["other"]  # nothing was created
    broker.queue("fresh")  # other names are not blocked
    if isinstance(broker._store, SQLiteStore):  # the block is in the file, for every broker on it
        with aws_error(*DELETED_RECENTLY):
            make_broker().queue("doomed")
    clock.advance(0.5)  # 60 s after the deletion, by the broker's clock
    assert broker.queue("doomed").attributes["VisibilityTimeout"] == "30"  # a new queue
    broker.delete_queue("doomed")  # each deletion blocks the name again
    with aws_error(*DELETED_RECENTLY):
        broker.queue("doomed")


def test_queue_recreate_delay_is_configurable(tmp_path: Path, clock: FakeClock) -> None:
    for path in (None, tmp_path / "rulebus.db"):
        with Broker(path, clock=clock, queue_recreate_delay=0) as broker:
            broker.queue("doomed").send("x")
            broker.delete_queue("doomed")
            assert broker.queue("doomed").receive() == []


def test_error_codes(broker: Broker) -> None:
    """``code`` is the modeled shape name, ``query_code`` the legacy code, ``status`` the HTTP
    status (docs/semantics.md, 'Errors')."""
    queue = broker.queue("orders")
    expected = {
        "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
        "QueueNameExists": ("QueueAlreadyExists", 400),
        "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
        "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
        "InvalidParameterValue": ("InvalidParameterValue", 400),
        "InvalidAttributeName": ("InvalidAttributeName", 400),
    }
    errors: dict[str, AwsError] = {}
    queue.purge()
    for action in (
        lambda: broker.delete_queue("missing"),
        lambda: broker.queue("orders", delay_seconds=5),
        queue.purge,  # the second of two
        lambda: queue.send_batch([]),
        lambda: broker.queue("bad name"),
        lambda: queue.set_attributes({"Colour": "red"}),
    ):
        with pytest.raises(AwsError) as info:
            action()
        errors[info.value.code] = info.value
    assert {code: (e.query_code, e.status) for code, e in errors.items()} == expected
    assert all(e.sender_fault for e in errors.values())
    plain = AwsError("SomeCode", "text")
    assert (plain.query_code, plain.status, plain.sender_fault) == ("SomeCode", 400, True)


def test_attributes(queue: Queue, clock: FakeClock) -> None:
    attributes = queue.attributes
    assert attributes["QueueArn"] == queue.arn
    assert attributes["CreatedTimestamp"] == str(int(START))
    assert attributes["LastModifiedTimestamp"] == str(int(START))
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["MaximumMessageSize"] == "1048576"
    clock.advance(10)
    queue.set_attributes({"DelaySeconds": "5"})
    queue.set_attributes(visibility_timeout=45)
    attributes = queue.attributes
    assert (attributes["DelaySeconds"], attributes["VisibilityTimeout"]) == ("5", "45")
    assert attributes["LastModifiedTimestamp"] == str(int(START + 10))
    assert attributes["CreatedTimestamp"] == str(int(START))
    assert queue.get_attributes([]) == {}
    assert queue.get_attributes(["DelaySeconds", "ApproximateNumberOfMessages"]) == {
        "DelaySeconds": "5",
        "ApproximateNumberOfMessages": "0",
    }
    with aws_error("InvalidAttributeName"):
        queue.get_attributes(["Nope"])
    with aws_error("InvalidAttributeValue"):
        queue.set_attributes(visibility_timeout=43_201)


def test_fifo_queues_are_created_through_the_broker(broker: Broker) -> None:
    queue = broker.queue("tx.fifo", content_based_deduplication=True)
    assert queue.attributes["FifoQueue"] == "true"


# ------------------------------------------------------------------------------------------
# Persistence.


def test_message_survives_reopened_sqlite_broker(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "durable.db"
    with Broker(path, clock=clock) as broker:
        queue = broker.queue("durable", visibility_timeout=40)
        sent = queue.send(
            "persist me", message_attributes={"b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
        )
        queue.send("in flight")
        in_flight = queue.receive(max_messages=1)
        assert [m.body for m in in_flight] == ["persist me"]
    with Broker(path, clock=clock) as reopened:
        queue = reopened.queue("durable")
        assert queue.attributes["VisibilityTimeout"] == "40"
        assert counts(queue) == (1, 1, 0)
        clock.advance(40)
        messages = queue.receive(max_messages=10, message_attribute_names=["All"], attribute_names=["All"])
        assert [m.body for m in messages] == ["persist me", "in flight"]
        assert messages[0].message_id == sent.message_id
        assert messages[0].message_attributes == {"b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
        assert messages[0].md5_of_message_attributes == sent.md5_of_message_attributes
        assert messages[0].attributes["ApproximateReceiveCount"] == "2"
        reopened.queue("durable").delete(in_flight[0].receipt_handle)  # old handles survive too
        assert counts(queue) == (0, 1, 0)


# --- peek: looking without receiving ------------------------------------------------------------


def test_peek_shows_every_message_in_send_order_with_its_state(queue: Queue) -> None:
    queue.send("first", message_attributes={"Kind": {"DataType": "String", "StringValue": "a"}})
    queue.send("delayed", delay_seconds=60)
    queue.send("third")
    received = queue.receive(max_messages=1)
    assert [m.body for m in received] == ["first"]
    held = queue.peek(max_messages=10)
    assert [(m.body, m.state) for m in held] == [
        ("first", "in flight"),
        ("delayed", "delayed"),
        ("third", "visible"),
    ]
    assert held[0].message_id == received[0].message_id
    assert held[0].attributes["ApproximateReceiveCount"] == "1"
    assert held[0].message_attributes == {"Kind": {"DataType": "String", "StringValue": "a"}}
    assert "ApproximateFirstReceiveTimestamp" not in held[2].attributes  # never received
    assert queue.peek(max_messages=2)[-1].body == "delayed"


def test_peek_receives_nothing(queue: Queue, clock: FakeClock) -> None:
    queue.send("look")
    for _ in range(3):
        assert [m.attributes["ApproximateReceiveCount"] for m in queue.peek()] == ["0"]
    counts = queue.get_attributes(["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    assert counts == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "0"}
    received = queue.receive(attribute_names=["ApproximateReceiveCount"])
    assert [(m.body, m.attributes["ApproximateReceiveCount"]) for m in received] == [("look", "1")]
    clock.advance(5)
    assert queue.peek()[0].state == "in flight"  # a peek does not end the visibility either
    assert queue.receive() == []


def test_peek_leaves_dead_letter_moves_to_receives(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    dlq = broker.queue("dlq")
    source = broker.queue("source", redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    source.send("poison")
    for _ in range(5):
        source.peek()
    assert dlq.peek() == []
    assert [m.body for m in source.receive()] == ["poison"]


def test_peek_skips_expired_messages_and_refuses_nonsense(
    make_broker: Callable[..., Broker], clock: FakeClock
) -> None:
    queue = make_broker().queue("short", message_retention_period=60)
    queue.send("old")
    clock.advance(61)
    queue.send("new")
    assert [m.body for m in queue.peek()] == ["new"]
    with pytest.raises(ValueError):
        queue.peek(max_messages=0)


def test_peek_on_a_missing_queue_is_queue_does_not_exist(broker: Broker) -> None:
    queue = broker.queue("gone")
    broker.delete_queue("gone")
    with pytest.raises(AwsError) as raised:
        queue.peek()
    assert raised.value.code == "QueueDoesNotExist"


def test_peek_skips_expired_messages_and_counts_only_what_it_shows(
    make_broker: Callable[..., Broker], clock: FakeClock
) -> None:
    queue = make_broker().queue("short-lived", message_retention_period=60)
    for n in range(3):
        queue.send(f"old{n}")
    clock.advance(61)
    for n in range(3):
        queue.send(f"new{n}")
    assert [m.body for m in queue.peek(max_messages=2)] == ["new0", "new1"]
    assert [m.body for m in queue.peek(max_messages=10)] == ["new0", "new1", "new2"]
