"""SNS FIFO topics (docs/semantics.md, 'FIFO topics') on an in-memory broker with a fake clock."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker
from rulebus.sns.topic import Topic
from rulebus.sqs.queue import Message, Queue


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def broker(make_broker: Callable[..., Broker], clock: FakeClock) -> Broker:
    return make_broker(clock=clock)


@pytest.fixture
def topic(broker: Broker) -> Topic:
    return broker.topic("orders.fifo", fifo_topic=True)


@pytest.fixture
def fifo_queue(broker: Broker, topic: Topic) -> Queue:
    queue = broker.queue("orders.fifo")
    topic.subscribe(queue)
    return queue


def drain(queue: Queue) -> list[Message]:
    """Every message of the queue, receiving and deleting until it is empty."""
    received: list[Message] = []
    while True:
        batch = queue.receive(max_messages=10, attribute_names=["All"])
        if not batch:
            return received
        for message in batch:
            received.append(message)
            queue.delete(message.receipt_handle)


def messages(queue: Queue) -> list[str]:
    return [json.loads(m.body)["Message"] for m in drain(queue)]


def fails(text: str, code: str = "InvalidParameter") -> Any:
    class _Raises:
        def __enter__(self) -> None:
            self.context = pytest.raises(AwsError)
            self.info = self.context.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = bool(self.context.__exit__(*exc))
            assert self.info.value.code == code
            assert self.info.value.message == text
            return handled

    return _Raises()


# ------------------------------------------------------------------ topic attributes (2.1)


def test_fifo_topic_attributes(topic: Topic) -> None:
    attributes = topic.attributes
    assert topic.fifo
    assert topic.arn == "arn:aws:sns:us-east-1:000000000000:orders.fifo"
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["SignatureVersion"] == "2"
    assert "FifoTopic" not in Broker().topic("plain").attributes


def test_fifo_topic_optional_attributes(broker: Broker) -> None:
    topic = broker.topic(
        "t.fifo", fifo_topic="true", content_based_deduplication=True, fifo_throughput_scope="MessageGroup"
    )
    assert topic.attributes["ContentBasedDeduplication"] == "true"
    assert topic.attributes["FifoThroughputScope"] == "MessageGroup"


def test_create_is_idempotent_and_refuses_other_attributes(broker: Broker, topic: Topic) -> None:
    assert broker.topic("orders.fifo", fifo_topic=True) is topic
    assert broker.topic("orders.fifo") is topic
    with fails("Invalid parameter: Attributes Reason: Topic already exists with different attributes"):
        broker.topic("orders.fifo", fifo_topic=True, content_based_deduplication=True)


def test_fifo_name_needs_fifo_topic(broker: Broker) -> None:
    with fails("Invalid parameter: Topic Name"):
        broker.topic("t.fifo")
    with fails("Invalid parameter: Topic Name"):
        broker.topic("t.fifo", fifo_topic=False)


def test_fifo_topic_needs_fifo_name(broker: Broker) -> None:
    with fails(
        "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase "
        "and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 "
        "characters long."
    ):
        broker.topic("t", fifo_topic=True)


@pytest.mark.parametrize("name", ["x" * 252 + ".fifo", ".fifo", "a.b.fifo", "a b.fifo"])
def test_bad_fifo_names(broker: Broker, name: str) -> None:
    with fails("Invalid parameter: Topic Name"):
        broker.topic(name, fifo_topic=True)


def test_longest_fifo_name(broker: Broker) -> None:
    assert broker.topic("x" * 251 + ".fifo", fifo_topic=True).fifo


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"content_based_deduplication": True}, "ContentBasedDeduplication"),
        ({"fifo_throughput_scope": "Topic"}, "FifoThroughputScope"),
    ],
)
def test_fifo_only_attributes_on_standard_topic(broker: Broker, kwargs: dict[str, Any], name: str) -> None:
    with fails(f"Invalid parameter: Attributes Reason: {name}: only valid for FIFO topics"):
        broker.topic("plain", **kwargs)


def test_bad_attribute_values(broker: Broker) -> None:
    with fails(
        "Invalid parameter: Attributes Reason: FifoThroughputScope: Invalid value [Queue]. "
        "Please use either Topic or MessageGroup"
    ):
        broker.topic("t.fifo", fifo_topic=True, fifo_throughput_scope="Queue")
    with fails(
        "Invalid parameter: Attributes Reason: FifoTopic: Invalid value [yes]. Must be true or false."
    ):
        broker.topic("t.fifo", fifo_topic="yes")
    with fails(
        "Invalid parameter: Attributes Reason: ContentBasedDeduplication: Invalid value [1]. "
        "Must be true or false."
    ):
        broker.topic("t.fifo", fifo_topic=True, content_based_deduplication=1)


# ------------------------------------------------------------------ subscriptions (2.2)


def test_fifo_and_standard_queues_subscribe(broker: Broker, topic: Topic) -> None:
    topic.subscribe(broker.queue("a.fifo"))
    topic.subscribe("arn:aws:sqs:us-east-1:000000000000:b.fifo")
    topic.subscribe(broker.queue("standard"))  # allowed since 2023
    assert [s.endpoint.rsplit(":", 1)[1] for s in topic.subscriptions] == ["a.fifo", "b.fifo", "standard"]


def test_standard_topic_still_refuses_fifo_queues(broker: Broker) -> None:
    with fails(
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
        "standard SNS topics"
    ):
        broker.topic("plain").subscribe(broker.queue("a.fifo"))


def test_fifo_subscription_dead_letter_queue_must_be_fifo(broker: Broker, topic: Topic) -> None:
    with fails(
        "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
        "Subscription to a FIFO Topic."
    ):
        topic.subscribe(
            broker.queue("a.fifo"),
            redrive_policy={"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
        )
    subscription = topic.subscribe(
        broker.queue("a.fifo"),
        redrive_policy={"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq.fifo"},
    )
    assert subscription.dead_letter_target_arn == "arn:aws:sqs:us-east-1:000000000000:dlq.fifo"


def test_failed_delivery_goes_to_the_fifo_dead_letter_queue(broker: Broker, topic: Topic) -> None:
    dlq = broker.queue("dlq.fifo")
    subscription = topic.subscribe(
        "arn:aws:sqs:us-east-1:000000000000:missing.fifo",
        redrive_policy={"deadLetterTargetArn": dlq.arn},
    )
    for index in range(3):
        topic.publish(f"m{index}", message_group_id="g", message_deduplication_id=f"d{index}")
    assert subscription.dead_lettered_count == 3
    received = drain(dlq)
    assert [json.loads(m.body)["Message"] for m in received] == ["m0", "m1", "m2"]
    assert {m.attributes["MessageGroupId"] for m in received} == {"g"}


# ------------------------------------------------------------------ publish (2.3)


def test_message_group_id_required(topic: Topic) -> None:
    with fails("Invalid parameter: The MessageGroupId parameter is required for FIFO topics"):
        topic.publish("hi", message_deduplication_id="d")
    with fails("Invalid parameter: The MessageGroupId parameter is required for FIFO topics"):
        topic.publish("hi", message_group_id="", message_deduplication_id="d")


def test_deduplication_id_required_without_content_based_deduplication(topic: Topic) -> None:
    with fails(
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    ):
        topic.publish("hi", message_group_id="g")


@pytest.mark.parametrize("parameter", ["MessageGroupId", "MessageDeduplicationId"])
@pytest.mark.parametrize("value", ["has space", "é", "x" * 129])
def test_bad_fifo_ids(topic: Topic, parameter: str, value: str) -> None:
    ids = {"MessageGroupId": "g", "MessageDeduplicationId": "d", parameter: value}
    with fails(
        f"Invalid parameter: {parameter} Reason: {parameter} can only include alphanumeric and punctuation "
        "characters. 1 to 128 in length."
    ):
        topic.publish(
            "hi",
            message_group_id=ids["MessageGroupId"],
            message_deduplication_id=ids["MessageDeduplicationId"],
        )


def test_punctuation_ids_accepted(topic: Topic) -> None:
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    assert topic.publish(
        "hi", message_group_id=punctuation, message_deduplication_id="x" * 128
    ).sequence_number


def test_standard_topic_refuses_deduplication_id(broker: Broker) -> None:
    with fails(
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
        "parameter that is not valid for this topic type"
    ):
        broker.topic("plain").publish("hi", message_deduplication_id="d")


def test_standard_topic_forwards_group_id_to_standard_queues(broker: Broker) -> None:
    topic = broker.topic("plain")
    queue = broker.queue("fair")
    topic.subscribe(queue)
    result = topic.publish("hi", message_group_id="tenant-1")
    assert result.sequence_number is None
    (message,) = drain(queue)
    assert message.attributes.get("MessageGroupId") == "tenant-1"


def test_sequence_numbers_increase(topic: Topic) -> None:
    numbers = [
        topic.publish("m", message_group_id="g", message_deduplication_id=str(i)).sequence_number
        for i in range(5)
    ]
    assert all(n is not None and n.isdigit() and len(n) == 20 for n in numbers)
    values = [int(n or "0") for n in numbers]
    assert values == sorted(set(values))


def test_order_kept_per_group_through_a_fifo_queue(topic: Topic, fifo_queue: Queue) -> None:
    for index in range(12):
        group = "ab"[index % 2]
        topic.publish(f"{group}{index}", message_group_id=group, message_deduplication_id=str(index))
    received = drain(fifo_queue)
    by_group: dict[str, list[str]] = {}
    for message in received:
        by_group.setdefault(message.attributes["MessageGroupId"], []).append(
            json.loads(message.body)["Message"]
        )
    assert by_group == {"a": [f"a{i}" for i in range(0, 12, 2)], "b": [f"b{i}" for i in range(1, 12, 2)]}


def test_queue_gets_group_and_sns_message_id_as_deduplication_id(topic: Topic, fifo_queue: Queue) -> None:
    result = topic.publish("hi", message_group_id="g", message_deduplication_id="mine")
    (message,) = drain(fifo_queue)
    assert message.attributes["MessageGroupId"] == "g"
    assert message.attributes["MessageDeduplicationId"] == result.message_id


def test_fifo_topic_delivers_to_standard_queue(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("standard")
    topic.subscribe(queue)
    topic.publish("hi", message_group_id="g", message_deduplication_id="d")
    assert [json.loads(m.body)["Message"] for m in drain(queue)] == ["hi"]


def test_duplicate_within_five_minutes(topic: Topic, fifo_queue: Queue, clock: FakeClock) -> None:
    first = topic.publish("one", message_group_id="g", message_deduplication_id="d")
    clock.advance(299.9)
    again = topic.publish("two", message_group_id="other", message_deduplication_id="d")
    assert again == first
    assert messages(fifo_queue) == ["one"]
    clock.advance(0.1)
    later = topic.publish("three", message_group_id="g", message_deduplication_id="d")
    assert later.message_id != first.message_id
    assert int(later.sequence_number or "0") > int(first.sequence_number or "0")
    assert messages(fifo_queue) == ["three"]


def test_duplicate_window_counts_from_the_first_publish(
    topic: Topic, fifo_queue: Queue, clock: FakeClock
) -> None:
    first = topic.publish("one", message_group_id="g", message_deduplication_id="d")
    clock.advance(200)
    assert topic.publish("one", message_group_id="g", message_deduplication_id="d") == first
    clock.advance(100)
    assert topic.publish("one", message_group_id="g", message_deduplication_id="d") != first
    assert messages(fifo_queue) == ["one", "one"]


def test_content_based_deduplication(broker: Broker) -> None:
    topic = broker.topic("cbd.fifo", fifo_topic=True, content_based_deduplication=True)
    queue = broker.queue("cbd.fifo")
    topic.subscribe(queue)
    first = topic.publish("same", message_group_id="g")
    assert topic.publish("same", message_group_id="g", subject="other subject") == first
    assert topic.publish("different", message_group_id="g") != first
    # An explicit id wins over the body's hash.
    assert topic.publish("same", message_group_id="g", message_deduplication_id="explicit") != first
    sha = hashlib.sha256(b"same").hexdigest()
    assert topic.publish("else", message_group_id="g", message_deduplication_id=sha) == first
    assert messages(queue) == ["same", "different", "same"]


def test_deduplication_scope_topic_and_message_group(broker: Broker) -> None:
    per_topic = broker.topic("t.fifo", fifo_topic=True)
    per_group = broker.topic("g.fifo", fifo_topic=True, fifo_throughput_scope="MessageGroup")
    for topic in (per_topic, per_group):
        a = topic.publish("m", message_group_id="a", message_deduplication_id="d")
        b = topic.publish("m", message_group_id="b", message_deduplication_id="d")
        assert (a == b) is (topic is per_topic)


def test_duplicates_reach_nobody(topic: Topic) -> None:
    seen: list[dict[str, Any]] = []
    subscription = topic.subscribe(seen.append)
    topic.publish("m", message_group_id="g", message_deduplication_id="d")
    topic.publish("m", message_group_id="g", message_deduplication_id="d")
    assert len(seen) == 1
    assert subscription.delivered_count == 1


# ------------------------------------------------------------------ envelope (2.5)


def test_fifo_envelope_keys(broker: Broker, topic: Topic, fifo_queue: Queue) -> None:
    result = topic.publish(
        "hello",
        subject="Hi",
        message_attributes={"n": {"DataType": "Number", "StringValue": "7"}},
        message_group_id="g",
        message_deduplication_id="d",
    )
    (message,) = drain(fifo_queue)
    envelope = json.loads(message.body)
    assert list(envelope) == [
        "Type",
        "MessageId",
        "SequenceNumber",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert envelope["MessageId"] == result.message_id
    assert envelope["SequenceNumber"] == result.sequence_number
    assert envelope["Timestamp"] == "2023-11-14T22:13:20.000Z"
    assert envelope["MessageAttributes"] == {"n": {"Type": "Number", "Value": "7"}}
    assert envelope["UnsubscribeURL"] == (
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        f"{topic.subscriptions[0].subscription_arn}"
    )


def test_fifo_envelope_without_subject_or_attributes(topic: Topic) -> None:
    seen: list[dict[str, Any]] = []
    topic.subscribe(seen.append)
    topic.publish("hello", message_group_id="g", message_deduplication_id="d")
    assert list(seen[0]) == [
        "Type",
        "MessageId",
        "SequenceNumber",
        "TopicArn",
        "Message",
        "Timestamp",
        "UnsubscribeURL",
    ]


def test_raw_delivery_to_fifo_queue(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("raw.fifo")
    topic.subscribe(queue, raw_message_delivery=True)
    topic.publish(
        "raw body",
        message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
        message_group_id="g",
        message_deduplication_id="d",
    )
    (message,) = queue.receive(message_attribute_names=["All"], attribute_names=["All"])
    assert message.body == "raw body"
    assert message.message_attributes["k"]["StringValue"] == "v"
    assert message.attributes["MessageGroupId"] == "g"


# ------------------------------------------------------------------ publish_batch (2.3)


def test_publish_batch_per_entry_groups(topic: Topic, fifo_queue: Queue) -> None:
    result = topic.publish_batch(
        [
            {"Id": "1", "Message": "a1", "MessageGroupId": "a", "MessageDeduplicationId": "1"},
            {"Id": "2", "Message": "b1", "MessageGroupId": "b", "MessageDeduplicationId": "2"},
            {"Id": "3", "Message": "a2", "MessageGroupId": "a", "MessageDeduplicationId": "3"},
            {"Id": "4", "Message": "no group", "MessageDeduplicationId": "4"},
            {"Id": "5", "Message": "dup", "MessageGroupId": "a", "MessageDeduplicationId": "1"},
        ]
    )
    successful = result["Successful"]
    assert [entry["Id"] for entry in successful] == ["1", "2", "3", "5"]
    assert all(set(entry) == {"Id", "MessageId", "SequenceNumber"} for entry in successful)
    assert successful[3]["MessageId"] == successful[0]["MessageId"]
    assert successful[3]["SequenceNumber"] == successful[0]["SequenceNumber"]
    assert result["Failed"] == [
        {
            "Id": "4",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
            "SenderFault": True,
        }
    ]
    by_group: dict[str, list[str]] = {}
    for message in drain(fifo_queue):
        by_group.setdefault(message.attributes["MessageGroupId"], []).append(
            json.loads(message.body)["Message"]
        )
    assert by_group == {"a": ["a1", "a2"], "b": ["b1"]}


def test_standard_publish_batch_has_no_sequence_numbers(broker: Broker) -> None:
    result = broker.topic("plain").publish_batch(
        [{"Id": "1", "Message": "m"}, {"Id": "2", "Message": "m", "MessageDeduplicationId": "d"}]
    )
    assert set(result["Successful"][0]) == {"Id", "MessageId"}
    assert result["Failed"][0]["Id"] == "2"
    assert result["Failed"][0]["Message"].startswith("Invalid parameter: MessageDeduplicationId Reason:")
