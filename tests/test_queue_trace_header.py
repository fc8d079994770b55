"""SQS's AWSTraceHeader system attribute on every store: kept with the message a send carried it
on, returned by a receive that asks for it (or for ``All``), and carried along wherever the
message goes (a FIFO queue, its dead-letter queue, a move task back). SQS API Reference,
SendMessage / SendMessageBatch ``MessageSystemAttributes`` and ReceiveMessage
``MessageSystemAttributeNames``."""

from __future__ import annotations

import functools
from typing import Any, Callable

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import FakeClock
from helpers.sqs_digests import trace_header_digest
from rulebus import Broker
from rulebus.sqs.queue import Queue

HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
OTHER = "Root=1-67891233-abcdef012345678912345678"


def system(header: str) -> dict[str, dict[str, str]]:
    return {"AWSTraceHeader": {"DataType": "String", "StringValue": header}}


@pytest.fixture
def make_broker(make_broker: Callable[..., Broker]) -> Callable[..., Broker]:
    """The shared factory, with move tasks stepped by hand (run_message_move_tasks)."""
    return functools.partial(make_broker, background_move_tasks=False)


def traces(messages: list[Any]) -> dict[str, str | None]:
    return {m.body: m.attributes.get("AWSTraceHeader") for m in messages}


# ------------------------------------------------------------------------------------------
# Send and receive.


def test_a_sent_header_is_received_when_asked_for(broker: Broker) -> None:
    queue = broker.queue("traced")
    sent = queue.send("traced", message_system_attributes=system(HEADER))
    plain = queue.send("plain")
    assert sent.md5_of_message_system_attributes == trace_header_digest(HEADER)
    assert plain.md5_of_message_system_attributes is None
    received = queue.receive(max_messages=10, attribute_names=["AWSTraceHeader"], visibility_timeout=0)
    assert traces(received) == {"traced": HEADER, "plain": None}
    assert [set(m.attributes) for m in received] == [{"AWSTraceHeader"}, set()]
    received = queue.receive(max_messages=10, attribute_names=["All"], visibility_timeout=0)
    assert traces(received) == {"traced": HEADER, "plain": None}
    assert received[0].attributes["ApproximateReceiveCount"] == "2"


def test_the_header_is_not_shown_unless_asked_for(broker: Broker) -> None:
    queue = broker.queue("traced")
    queue.send("traced", message_system_attributes=system(HEADER))
    (message,) = queue.receive(visibility_timeout=0)
    assert message.attributes == {}
    (message,) = queue.receive(attribute_names=["SenderId"])
    assert set(message.attributes) == {"SenderId"}


def test_peek_shows_the_header(broker: Broker) -> None:
    queue = broker.queue("traced")
    queue.send("traced", message_system_attributes=system(HEADER))
    (held,) = queue.peek()
    assert held.attributes["AWSTraceHeader"] == HEADER


def test_a_batch_keeps_each_entrys_header(broker: Broker) -> None:
    queue = broker.queue("batched")
    result = queue.send_batch(
        [
            {"Id": "a", "MessageBody": "a", "MessageSystemAttributes": system(HEADER)},
            {"Id": "b", "MessageBody": "b"},
            {"Id": "c", "MessageBody": "c", "MessageSystemAttributes": system(OTHER)},
            {"Id": "d", "MessageBody": "d", "MessageSystemAttributes": {"Unknown": {"DataType": "String"}}},
        ]
    )
    successful = {entry["Id"]: entry for entry in result["Successful"]}
    assert successful["a"]["MD5OfMessageSystemAttributes"] == trace_header_digest(HEADER)
    assert "MD5OfMessageSystemAttributes" not in successful["b"]
    assert successful["c"]["MD5OfMessageSystemAttributes"] == trace_header_digest(OTHER)
    (failed,) = result["Failed"]  # a bad entry fails alone
    assert (failed["Id"], failed["Code"]) == ("d", "InvalidParameterValue")
    received = queue.receive(max_messages=10, attribute_names=["AWSTraceHeader"])
    assert traces(received) == {"a": HEADER, "b": None, "c": OTHER}


def test_bad_system_attributes_are_refused(broker: Broker) -> None:
    queue = broker.queue("refusing")
    with aws_error("InvalidParameterValue", "Message system attribute name 'Other' is invalid."):
        queue.send("x", message_system_attributes={"Other": {"DataType": "String", "StringValue": "v"}})
    with aws_error(
        "InvalidParameterValue",
        "Value Number for parameter MessageSystemAttributes.AWSTraceHeader.DataType is invalid. "
        "Reason: AWSTraceHeader must be a String.",
    ):
        queue.send("x", message_system_attributes={"AWSTraceHeader": {"DataType": "Number"}})
    # A character SQS refuses in any value (and SQLite could not store): refused, not a crash.
    for bad in ("Root=\x00", "Root=\ud800"):
        with aws_error("InvalidParameterValue"):
            queue.send("x", message_system_attributes=system(bad))
    assert queue.receive() == []


def test_the_header_does_not_count_toward_the_size_limit(broker: Broker) -> None:
    queue = broker.queue("small", maximum_message_size=1024)
    queue.send("x" * 1024, message_system_attributes=system("Root=" + "1" * 2000))
    (message,) = queue.receive(attribute_names=["AWSTraceHeader"])
    assert message.attributes["AWSTraceHeader"] == "Root=" + "1" * 2000


# ------------------------------------------------------------------------------------------
# Where messages go.


def test_a_fifo_queue_keeps_the_header(broker: Broker) -> None:
    queue = broker.queue("traced.fifo", content_based_deduplication=True)
    queue.send("one", message_group_id="g", message_system_attributes=system(HEADER))
    queue.send("two", message_group_id="g")
    duplicate = queue.send("one", message_group_id="g", message_system_attributes=system(OTHER))
    # The digest answers what this request sent, though the first message's id comes back.
    assert duplicate.md5_of_message_system_attributes == trace_header_digest(OTHER)
    received = queue.receive(max_messages=10, attribute_names=["AWSTraceHeader", "MessageGroupId"])
    assert traces(received) == {"one": HEADER, "two": None}
    assert received[0].attributes["MessageGroupId"] == "g"


def dead_lettered(broker: Broker, name: str, **attributes: Any) -> tuple[Queue, Queue]:
    """A source queue (maxReceiveCount 1) and its dead-letter queue, holding a traced message
    and a plain one that exceeded their receives."""
    fifo = name.endswith(".fifo")
    dlq = broker.queue(f"{name[:-5] if fifo else name}-dlq{'.fifo' if fifo else ''}", **attributes)
    source = broker.queue(
        name, redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}, **attributes
    )
    group = {"message_group_id": "g"} if fifo else {}
    source.send("traced", message_system_attributes=system(HEADER), **group)
    source.send("plain", **group)
    while source.receive(max_messages=10, visibility_timeout=0):
        pass
    return source, dlq


@pytest.mark.parametrize("name", ["orders", "orders.fifo"])
def test_the_header_survives_the_dead_letter_queue_and_the_move_back(
    broker: Broker, clock: FakeClock, name: str
) -> None:
    attributes = {"content_based_deduplication": True} if name.endswith(".fifo") else {}
    source, dlq = dead_lettered(broker, name, **attributes)
    held = dlq.receive(max_messages=10, attribute_names=["All"], visibility_timeout=0)
    assert traces(held) == {"traced": HEADER, "plain": None}
    assert {m.attributes["DeadLetterQueueSourceArn"] for m in held} == {source.arn}
    clock.advance(10)
    broker.start_message_move_task(dlq.arn)
    broker.run_message_move_tasks()
    assert dlq.receive() == []
    back = source.receive(max_messages=10, attribute_names=["AWSTraceHeader", "ApproximateReceiveCount"])
    assert traces(back) == {"traced": HEADER, "plain": None}
    assert {m.attributes["ApproximateReceiveCount"] for m in back} == {"1"}


def test_the_header_is_kept_by_the_store(make_broker: Callable[..., Broker]) -> None:
    # On SQLite the second broker opens the same file, as another process would; the others
    # share nothing between brokers, so the message is read back through the first.
    first = make_broker()
    first.queue("kept").send("traced", message_system_attributes=system(HEADER))
    second = make_broker()
    reader = second if second.queues() else first
    (message,) = reader.queue("kept").receive(attribute_names=["AWSTraceHeader"])
    assert message.attributes == {"AWSTraceHeader": HEADER}


def test_topic_deliveries_carry_no_header(broker: Broker) -> None:
    queue = broker.queue("subscriber")
    topic = broker.topic("news")
    topic.subscribe(queue)
    topic.publish("hello")
    (message,) = queue.receive(attribute_names=["All"])
    assert "AWSTraceHeader" not in message.attributes
