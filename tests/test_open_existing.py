"""Opening a queue, topic, bus or stream without creating it (``Broker.get_*``) on every store:
AWS's not-found error for a name that is not there, and nothing made by asking."""

from __future__ import annotations

import pytest
from rulebus import AwsError, Broker


def test_get_queue_of_a_missing_name_raises_sqs_not_found_and_creates_nothing(broker: Broker) -> None:
    with pytest.raises(AwsError) as raised:
        broker.get_queue("orders")
    error = raised.value
    assert (error.code, error.query_code, error.message) == (
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )
    assert broker.queues() == []


def test_get_queue_of_a_name_no_queue_can_have_answers_as_get_queue_url(broker: Broker) -> None:
    with pytest.raises(AwsError) as raised:
        broker.get_queue("no spaces allowed")
    assert raised.value.code == "QueueDoesNotExist"


def test_get_queue_opens_an_existing_queue_with_its_messages(broker: Broker) -> None:
    first = broker
    first.queue("orders").send("hello")
    opened = first.get_queue("orders")
    assert opened.name == "orders"
    assert [message.body for message in opened.receive()] == ["hello"]


def test_get_queue_after_delete_raises(broker: Broker) -> None:
    broker.queue("orders")
    broker.delete_queue("orders")
    with pytest.raises(AwsError, match=r"^The specified queue does not exist\.$"):
        broker.get_queue("orders")


def test_queue_still_creates(broker: Broker) -> None:
    broker.queue("orders")
    assert broker.get_queue("orders").name == "orders"


def test_get_topic_of_a_missing_name_raises_sns_not_found(broker: Broker) -> None:
    with pytest.raises(AwsError) as raised:
        broker.get_topic("alerts")
    assert (raised.value.code, raised.value.message, raised.value.status) == (
        "NotFound",
        "Topic does not exist",
        404,
    )
    assert broker.topics() == []
    broker.topic("alerts")
    assert broker.get_topic("alerts") is broker.topic("alerts")


def test_get_event_bus_of_a_missing_name_raises_resource_not_found(broker: Broker) -> None:
    with pytest.raises(AwsError) as raised:
        broker.get_event_bus("orders")
    assert (raised.value.code, raised.value.message) == (
        "ResourceNotFoundException",
        "Event bus orders does not exist.",
    )
    assert [bus.name for bus in broker.event_buses()] == ["default"]
    assert broker.get_event_bus().name == "default"
    broker.event_bus("orders")
    assert broker.get_event_bus("orders") is broker.event_bus("orders")


def test_get_stream_of_a_missing_name_raises_resource_not_found(broker: Broker) -> None:
    with pytest.raises(AwsError) as raised:
        broker.get_stream("clicks")
    assert (raised.value.code, raised.value.message) == (
        "ResourceNotFoundException",
        f"Stream clicks under account {broker.account} not found.",
    )
    assert broker.streams() == []
    broker.stream("clicks", shards=2)
    assert broker.get_stream("clicks").describe_summary()["OpenShardCount"] == 2
