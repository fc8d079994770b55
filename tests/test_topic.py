"""SNS standard-topic semantics (docs/semantics.md, 'SNS topics') on an in-memory broker."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus import AwsError, Broker, InvalidFilterPolicyError
from rulebus.sns import publish
from rulebus.sns.topic import Topic

START = 1_700_000_000.123


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(clock=lambda: START)


@pytest.fixture
def topic(broker: Broker) -> Topic:
    return broker.topic("orders")


def attr(value: str, data_type: str = "String") -> dict[str, str]:
    return {"DataType": data_type, "StringValue": value}


def bodies(queue: Any) -> list[str]:
    return [m.body for m in queue.receive(max_messages=10)]


def envelopes(queue: Any) -> list[dict[str, Any]]:
    return [json.loads(body) for body in bodies(queue)]


@contextmanager
def raises(code: str, message: str) -> Iterator[Any]:
    """AWS's error: the exact code and the exact message."""
    with pytest.raises(AwsError, match="^" + re.escape(message) + "$") as info:
        yield info
    assert info.value.code == code


# ---------------------------------------------------------------------- topics


def test_topic_identity_and_default_attributes(broker: Broker, topic: Topic) -> None:
    assert topic.arn == "arn:aws:sns:us-east-1:000000000000:orders"
    assert broker.topic("orders") is topic
    attributes = topic.attributes
    assert attributes["DisplayName"] == ""
    assert attributes["TopicArn"] == topic.arn
    assert attributes["Owner"] == "000000000000"
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert attributes["SubscriptionsPending"] == "0"
    assert attributes["SubscriptionsDeleted"] == "0"
    policy = json.loads(attributes["Policy"])
    assert policy["Id"] == "__default_policy_ID"
    assert len(policy["Statement"][0]["Action"]) == 8
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": "000000000000"}}
    assert (
        json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"]
        == 3
    )
    assert broker.topics() == [topic]


def test_create_topic_idempotent_and_conflicting(broker: Broker) -> None:
    named = broker.topic("t", display_name="Shop")
    assert named.attributes["DisplayName"] == "Shop"
    assert broker.topic("t", display_name="Shop") is named
    assert broker.topic("t") is named
    with raises(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    ):
        broker.topic("t", display_name="Other")


@pytest.mark.parametrize("name", ["", "a" * 257, "has space", "dot.name"])
def test_bad_topic_names(broker: Broker, name: str) -> None:
    with raises("InvalidParameter", "Invalid parameter: Topic Name") as info:
        broker.topic(name)
    assert info.value.code == "InvalidParameter"


def test_a_fifo_name_needs_the_fifo_attribute(broker: Broker) -> None:
    with pytest.raises(AwsError) as error:
        broker.topic("t.fifo")
    assert error.value.message == "Invalid parameter: Topic Name"


def test_delete_topic(broker: Broker, topic: Topic) -> None:
    broker.delete_topic("orders")
    assert broker.topics() == []
    assert broker.topic("orders") is not topic


# ---------------------------------------------------------------------- fan-out and envelope


def test_fan_out_to_two_queues(broker: Broker, topic: Topic) -> None:
    first, second = broker.queue("first"), broker.queue("second")
    topic.subscribe(first)
    topic.subscribe(second.arn)
    result = topic.publish("hello")
    for queue in (first, second):
        (envelope,) = envelopes(queue)
        assert envelope["Message"] == "hello"
        assert envelope["MessageId"] == result.message_id
    assert topic.attributes["SubscriptionsConfirmed"] == "2"


def test_envelope_keys_order_and_values(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    subscription = topic.subscribe(queue)
    topic.publish(
        "body",
        subject="New order",
        message_attributes={
            "price": attr("99.12", "Number"),
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00"},
        },
    )
    (body,) = bodies(queue)
    envelope = json.loads(body)
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic.arn
    assert envelope["Subject"] == "New order"
    assert envelope["Timestamp"] == "2023-11-14T22:13:20.123Z"
    assert envelope["SignatureVersion"] == "1"
    base64.b64decode(envelope["Signature"], validate=True)
    assert envelope["SigningCertURL"].startswith(
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-"
    )
    assert envelope["UnsubscribeURL"] == (
        f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription.arn}"
    )
    assert envelope["MessageAttributes"] == {
        "price": {"Type": "Number", "Value": "99.12"},
        "blob": {"Type": "Binary", "Value": "AA=="},
    }
    assert body.startswith('{\n  "Type" : "Notification",\n')
    # The queue message itself carries no SQS message attributes without raw delivery.
    topic.publish("again", message_attributes={"k": attr("v")})
    (message,) = queue.receive(max_messages=10, message_attribute_names=["All"])
    assert message.message_attributes == {}


def test_envelope_without_subject_or_attributes(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    topic.subscribe(queue)
    topic.publish("plain")
    (envelope,) = envelopes(queue)
    assert "Subject" not in envelope
    assert "MessageAttributes" not in envelope


def test_raw_delivery_with_attributes(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("raw")
    subscription = topic.subscribe(queue, raw_message_delivery="true")
    assert subscription.attributes["RawMessageDelivery"] == "true"
    topic.publish(
        '{"orderId": "o-1"}',
        subject="ignored",
        message_attributes={"Priority": attr("high"), "blob": {"DataType": "Binary", "BinaryValue": b"ab"}},
    )
    (message,) = queue.receive(max_messages=10, message_attribute_names=["All"])
    assert message.body == '{"orderId": "o-1"}'
    assert message.message_attributes["Priority"]["StringValue"] == "high"
    assert message.message_attributes["Priority"]["DataType"] == "String"
    assert message.message_attributes["blob"]["BinaryValue"] == b"ab"


def test_callable_subscriber_gets_notification(topic: Topic) -> None:
    received: list[dict[str, Any]] = []
    subscription = topic.subscribe(received.append)
    assert subscription.protocol == "python"
    topic.publish("hi", message_attributes={"k": attr("v")})
    (notification,) = received
    assert notification["Message"] == "hi"
    assert notification["Type"] == "Notification"
    assert "Subject" not in notification
    assert notification["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert list(notification)[:3] == ["Type", "MessageId", "TopicArn"]
    assert subscription.delivered_count == 1


def test_callable_cannot_use_raw_delivery(topic: Topic) -> None:
    with pytest.raises(AwsError):
        topic.subscribe(print, raw_message_delivery=True)
    assert topic.subscriptions == []


def test_delivery_to_missing_queue_is_dropped(broker: Broker, topic: Topic) -> None:
    subscription = topic.subscribe("arn:aws:sqs:us-east-1:000000000000:nowhere")
    topic.publish("x")
    assert subscription.failed_count == 1


# ---------------------------------------------------------------------- filter policies


def test_attribute_scope_filter_match_and_no_match(broker: Broker, topic: Topic) -> None:
    high, everything = broker.queue("high"), broker.queue("all")
    filtered = topic.subscribe(high, filter_policy={"Priority": ["high"]})
    unfiltered = topic.subscribe(everything)
    topic.publish("a", message_attributes={"Priority": attr("high")})
    topic.publish("b", message_attributes={"Priority": attr("low")})
    topic.publish("c")
    assert [e["Message"] for e in envelopes(high)] == ["a"]
    assert sorted(e["Message"] for e in envelopes(everything)) == ["a", "b", "c"]
    assert filtered.filtered_count == 2
    assert unfiltered.filtered_count == 0
    assert filtered.attributes["FilterPolicy"] == '{"Priority": ["high"]}' or json.loads(
        filtered.attributes["FilterPolicy"]
    ) == {"Priority": ["high"]}
    assert filtered.attributes["FilterPolicyScope"] == "MessageAttributes"


def test_numeric_attribute_filter(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    topic.subscribe(queue, filter_policy='{"price": [{"numeric": [">", 100]}]}')
    topic.publish("cheap", message_attributes={"price": attr("5", "Number")})
    topic.publish("dear", message_attributes={"price": attr("120", "Number")})
    assert [e["Message"] for e in envelopes(queue)] == ["dear"]


def test_body_scope_filter_match_and_no_match(topic: Topic) -> None:
    received: list[dict[str, Any]] = []
    subscription = topic.subscribe(
        received.append,
        filter_policy={"order": {"total": [{"numeric": [">", 100]}]}},
        filter_policy_scope="MessageBody",
    )
    topic.publish('{"order": {"total": 120}}')
    topic.publish('{"order": {"total": 5}}')
    topic.publish("not json")
    topic.publish("x", message_attributes={"order": attr("whatever")})
    assert [n["Message"] for n in received] == ['{"order": {"total": 120}}']
    assert subscription.filtered_count == 3
    assert subscription.attributes["FilterPolicyScope"] == "MessageBody"


def test_invalid_filter_policy_subscribes_nothing(broker: Broker, topic: Topic) -> None:
    with pytest.raises(
        InvalidFilterPolicyError,
        match=r'^Invalid parameter: Attributes Reason: FilterPolicy: "k" must be an object',
    ):
        topic.subscribe(broker.queue("q"), filter_policy={"k": "x"})
    assert topic.subscriptions == []
    assert topic.attributes["SubscriptionsConfirmed"] == "0"


def test_invalid_filter_policy_scope(broker: Broker, topic: Topic) -> None:
    message = (
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. "
        "Please use either MessageBody or MessageAttributes"
    )
    for policy in (None, {"k": ["v"]}):
        with pytest.raises(InvalidFilterPolicyError, match="^" + re.escape(message) + "$"):
            topic.subscribe(broker.queue("q"), filter_policy=policy, filter_policy_scope="RandomValue")
    assert topic.subscriptions == []


# ---------------------------------------------------------------------- subscriptions


def test_subscribe_is_idempotent(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    first = topic.subscribe(queue, filter_policy={"a": ["b"]})
    assert topic.subscribe(queue.arn, filter_policy='{"a":["b"]}') is first
    assert len(topic.subscriptions) == 1
    assert first.arn.startswith(topic.arn + ":")
    attributes = first.attributes
    assert attributes["Protocol"] == "sqs"
    assert attributes["Endpoint"] == queue.arn
    assert attributes["TopicArn"] == topic.arn
    assert attributes["SubscriptionArn"] == first.arn
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["RawMessageDelivery"] == "false"
    with raises(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
    ):
        topic.subscribe(queue, filter_policy={"a": ["c"]})


def test_unsubscribe(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    subscription = topic.subscribe(queue, filter_policy={"a": ["b"]})
    topic.unsubscribe(subscription)
    topic.unsubscribe(subscription.arn)  # twice is fine
    topic.publish("x", message_attributes={"a": attr("b")})
    assert bodies(queue) == []
    # The policy went with it: the same queue can subscribe again with another one.
    topic.subscribe(queue, filter_policy={"a": ["c"]})


def test_subscription_errors(broker: Broker, topic: Topic) -> None:
    with raises("InvalidParameter", "Invalid parameter: SQS endpoint ARN"):
        topic.subscribe("https://sqs.us-east-1.amazonaws.com/000000000000/q")
    with raises(
        "InvalidParameter",
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
        "standard SNS topics",
    ):
        topic.subscribe("arn:aws:sqs:us-east-1:000000000000:q.fifo")
    with raises(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. "
        "Must be true or false.",
    ):
        topic.subscribe(broker.queue("q"), raw_message_delivery="wrongvalue")
    with pytest.raises(TypeError):
        topic.subscribe(42)  # type: ignore[arg-type]
    assert topic.subscriptions == []


# ---------------------------------------------------------------------- publish errors


def test_publish_errors(topic: Topic) -> None:
    with raises("InvalidParameter", "Invalid parameter: Empty message"):
        topic.publish("")
    with raises("InvalidParameter", "Invalid parameter: Message too long"):
        topic.publish("x" * 262_145)
    with raises("InvalidParameter", "Invalid parameter: Message too long"):
        topic.publish("x" * 262_140, message_attributes={"k": attr("vvvvvv")})
    topic.publish("x" * 262_144)
    for subject in ("", "s" * 100, "line\nbreak", " leading"):
        with raises("InvalidParameter", "Invalid parameter: Subject"):
            topic.publish("m", subject=subject)
    topic.publish("m", subject="s" * 99)


def test_message_structure_json(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    received: list[dict[str, Any]] = []
    topic.subscribe(queue)
    topic.subscribe(received.append)
    message = json.dumps({"default": "for everyone", "sqs": "for queues", "email": 3})
    topic.publish(message, message_structure="json", message_attributes={"k": attr("v")})
    (envelope,) = envelopes(queue)
    assert envelope["Message"] == "for queues"
    assert "MessageAttributes" not in envelope
    assert received[0]["Message"] == "for everyone"
    with raises(
        "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"
    ):
        topic.publish("not json", message_structure="json")
    with raises(
        "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"
    ):
        topic.publish("[1]", message_structure="json")
    with raises(
        "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"
    ):
        topic.publish('{"sqs": "x"}', message_structure="json")
    with raises(
        "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"
    ):
        topic.publish('{"default": 1}', message_structure="json")


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            {"attr1": attr("x", "Strang")},
            "The message attribute 'attr1' has an invalid message attribute type, the set of supported type "
            "prefixes is Binary, Number, and String.",
        ),
        (
            {"attr1": attr("", "String")},
            "The message attribute 'attr1' must contain non-empty message attribute value for message "
            "attribute type 'String'.",
        ),
        (
            {"attr1": {"DataType": "String"}},
            "The message attribute 'attr1' must contain non-empty message attribute value for message "
            "attribute type 'String'.",
        ),
        (
            {"attr1": {"DataType": "Number", "BinaryValue": b"1"}},
            "The message attribute 'attr1' with type 'Number' must use field 'String'.",
        ),
        (
            {"attr1": {"DataType": "Binary", "StringValue": "1"}},
            "The message attribute 'attr1' with type 'Binary' must use field 'Binary'.",
        ),
        ({".attr": attr("x")}, "Invalid message attribute name starting with character '.' was found."),
        ({"attr.": attr("x")}, "Invalid message attribute name ending with character '.' was found."),
        ({"a..b": attr("x")}, "Message attribute name can not have successive '.' character."),
        ({"a" * 256: attr("x")}, "Length of message attribute name must be less than 256 bytes."),
        (
            {"a#b": attr("x")},
            "Invalid non-alphanumeric character '#x23' was found in the message attribute name. Can only "
            "include alphanumeric characters, hyphens, underscores, or dots.",
        ),
        ({"n": attr("abc", "Number")}, "Could not cast message attribute 'n' value to number."),
        (
            {"n": {"DataType": ""}},
            "The message attribute 'n' must contain non-empty message attribute value.",
        ),
    ],
)
def test_message_attribute_errors(topic: Topic, attributes: dict[str, Any], message: str) -> None:
    with raises("ParameterValueInvalid", message) as info:
        topic.publish("m", message_attributes=attributes)
    assert info.value.code == "ParameterValueInvalid"


def test_custom_attribute_types_accepted(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    topic.subscribe(queue)
    topic.publish(
        "m", message_attributes={"f": attr("1.5", "Number.float"), "l": attr('["a"]', "String.Array")}
    )
    (envelope,) = envelopes(queue)
    assert envelope["MessageAttributes"]["f"] == {"Type": "Number.float", "Value": "1.5"}


# ---------------------------------------------------------------------- publish_batch


def test_publish_batch_results(broker: Broker, topic: Topic) -> None:
    queue = broker.queue("q")
    topic.subscribe(queue)
    result = topic.publish_batch(
        [
            {"Id": "ok-1", "Message": "one"},
            {"Id": "bad", "Message": ""},
            {"Id": "ok_2", "Message": "two", "Subject": "s", "MessageAttributes": {"k": attr("v")}},
        ]
    )
    assert [entry["Id"] for entry in result["Successful"]] == ["ok-1", "ok_2"]
    assert all(entry["MessageId"] for entry in result["Successful"])
    assert result["Failed"] == [
        {
            "Id": "bad",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Empty message",
            "SenderFault": True,
        }
    ]
    assert sorted(e["Message"] for e in envelopes(queue)) == ["one", "two"]


def test_publish_batch_request_errors(topic: Topic) -> None:
    with raises("EmptyBatchRequest", "The batch request doesn't contain any entries"):
        topic.publish_batch([])
    with raises("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible."):
        topic.publish_batch([{"Id": str(i), "Message": "m"} for i in range(11)])
    with raises(
        "InvalidBatchEntryId",
        "The Id of a batch entry in the batch request contains an impermissible character: msg@123#test",
    ):
        topic.publish_batch([{"Id": "msg@123#test", "Message": "m"}])
    long_id = "a" * 81
    with raises(
        "InvalidBatchEntryId", f"The Id of a batch entry in the batch request is too long: {long_id}"
    ):
        topic.publish_batch([{"Id": long_id, "Message": "m"}])
    with raises("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."):
        topic.publish_batch([{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}])
    with raises("BatchRequestTooLong", "The length of all the messages put together is more than the limit."):
        topic.publish_batch([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "x" * 100_000}])


def test_publish_batch_error_codes(topic: Topic) -> None:
    cases = [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "a b", "Message": "m"}], "InvalidBatchEntryId"),
        ([{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "m"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "a", "Message": "x" * 262_145}], "BatchRequestTooLong"),
    ]
    for entries, code in cases:
        with pytest.raises(AwsError) as info:
            topic.publish_batch(entries)
        assert info.value.code == code


def test_publishing_from_threads_while_subscriptions_change(broker: Broker) -> None:
    import threading

    topic = broker.topic("busy")
    steady = broker.queue("steady")
    topic.subscribe(steady, raw_message_delivery=True)
    errors: list[BaseException] = []

    def publish(worker: int) -> None:
        try:
            for i in range(200):
                topic.publish(
                    f"{worker}-{i}", message_attributes={"k": {"DataType": "String", "StringValue": "v"}}
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for n in range(30):  # subscriptions come and go meanwhile, with and without filter policies
        extra = topic.subscribe(broker.queue(f"extra-{n}"), filter_policy={"k": ["v"]} if n % 2 else None)
        topic.unsubscribe(extra)
    for thread in threads:
        thread.join()
    assert errors == []
    bodies = []
    while messages := steady.receive(max_messages=10):
        bodies.extend(m.body for m in messages)
        steady.delete_batch(
            [{"Id": str(k), "ReceiptHandle": m.receipt_handle} for k, m in enumerate(messages)]
        )
    assert sorted(bodies) == sorted(f"{w}-{i}" for w in range(4) for i in range(200))


def _ids_outcome(check: Callable[[list[dict[str, Any]]], list[str]], entries: list[dict[str, Any]]) -> object:
    try:
        return check(entries)
    except AwsError as error:
        return (error.code, str(error))


# Mostly what passes, so that batches whose every entry is plain but one come up often.
_ENTRY_IDS = st.one_of(
    st.text(alphabet="ab_-", min_size=1, max_size=3),
    st.text(alphabet="ab_-", min_size=1, max_size=3),
    st.text(alphabet="ab_- @\u00e9", max_size=3),
    st.sampled_from(["a b", "a  b", " a", "a ", "a\u00e9", ""]),
    st.just("x" * 81),
    st.just("y" * 80),
    st.none(),
    st.integers(),
)
_MESSAGES = st.one_of(
    st.text(alphabet="mn", max_size=3),
    st.text(max_size=3),
    st.just("x" * 140_000),
    st.just("\u00e9" * 140_000),
    st.none(),
    st.integers(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.fixed_dictionaries({"Id": _ENTRY_IDS, "Message": _MESSAGES}), min_size=1, max_size=10))
def test_the_usual_batchs_id_check_agrees_with_the_entry_by_entry_one(entries: list[dict[str, Any]]) -> None:
    # batch_entry_ids checks the usual batch in one pass and falls back to the entry-by-entry
    # checks otherwise: both must accept and refuse the same batches, with the same error.
    assert _ids_outcome(publish.batch_entry_ids, entries) == _ids_outcome(publish._checked_ids, entries)
