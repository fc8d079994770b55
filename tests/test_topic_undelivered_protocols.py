"""SNS's protocols rulebus subscribes and does not deliver to (email, email-json, sms, lambda,
firehose) on every store: checked as SNS checks them, stored, listed, described, confirmed and
removed like the others; publishes pass them over and reach the other subscriptions as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest
from rulebus import AwsError, Broker, InvalidFilterPolicyError
from rulebus.sns import Endpoint
from rulebus.sns.topic import Subscription, Topic

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:notify"
STREAM = "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive"
ROLE = "arn:aws:iam::123456789012:role/sns-to-firehose"

#: Each protocol's endpoint, and whether it starts PendingConfirmation.
ENDPOINTS = {
    "email": ("ops@example.com", True),
    "email-json": ("robots@example.com", True),
    "sms": ("+15555550100", False),
    "lambda": (FUNCTION, False),
    "firehose": (STREAM, False),
}


def subscribe_every_protocol(topic: Topic) -> dict[str, Subscription]:
    subscribed = {}
    for protocol, (endpoint, _) in ENDPOINTS.items():
        role = ROLE if protocol == "firehose" else None
        subscribed[protocol] = topic.subscribe(Endpoint(protocol, endpoint), subscription_role_arn=role)
    return subscribed


def bodies(broker: Broker, queue: str) -> list[str]:
    return [json.loads(m.body)["Message"] for m in broker.queue(queue).receive(max_messages=10)]


def test_each_protocol_is_stored_listed_and_described(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    subscribed = subscribe_every_protocol(topic)
    listed = {s.protocol: s for s in broker.topic("alarms").subscriptions}
    assert set(listed) == set(ENDPOINTS)
    for protocol, (endpoint, pending) in ENDPOINTS.items():
        subscription = subscribed[protocol]
        assert listed[protocol].subscription_arn == subscription.subscription_arn
        assert subscription.arn == ("pending confirmation" if pending else subscription.subscription_arn)
        attributes = subscription.attributes
        assert attributes["Protocol"] == protocol
        assert attributes["Endpoint"] == endpoint
        assert attributes["PendingConfirmation"] == ("true" if pending else "false")
        assert attributes["ConfirmationWasAuthenticated"] == ("false" if pending else "true")
        assert ("SubscriptionRoleArn" in attributes) == (protocol == "firehose")
        assert (subscription.token is not None) == pending
    assert subscribed["firehose"].attributes["SubscriptionRoleArn"] == ROLE
    counts = topic.attributes
    assert (counts["SubscriptionsPending"], counts["SubscriptionsConfirmed"]) == ("2", "3")


def test_they_survive_on_sqlite_and_other_brokers_see_them(tmp_path: Path) -> None:
    path = tmp_path / "rulebus.db"
    with Broker(path) as broker:
        subscribed = subscribe_every_protocol(broker.topic("alarms"))
        with Broker(path) as other:
            seen = {s.protocol: s for s in other.topic("alarms").subscriptions}
            assert {p: s.attributes for p, s in seen.items()} == {
                p: s.attributes for p, s in subscribed.items()
            }
            other.topic("alarms").confirm_subscription(subscribed["email"].token or "")
        assert not broker.topic("alarms").subscriptions[0].pending_confirmation
    with Broker(path) as reopened:
        kept = {s.protocol: s for s in reopened.topic("alarms").subscriptions}
        assert kept["firehose"].attributes["SubscriptionRoleArn"] == ROLE
        assert kept["email-json"].token == subscribed["email-json"].token


def test_an_email_subscription_is_confirmed_by_its_token(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    subscription = topic.subscribe(Endpoint("email", "ops@example.com"))
    assert subscription.pending_confirmation and subscription.token is not None
    again = topic.subscribe(Endpoint("email", "ops@example.com"))
    assert again is subscription  # idempotent, same token
    assert topic.confirm_subscription(subscription.token) is subscription
    assert subscription.attributes["PendingConfirmation"] == "false"
    assert subscription.attributes["ConfirmationWasAuthenticated"] == "true"
    assert subscription.arn == subscription.subscription_arn
    assert not broker.topic("alarms").subscriptions[0].pending_confirmation
    with pytest.raises(AwsError, match="Invalid parameter: Token"):
        topic.confirm_subscription("not-a-token")


def test_publish_reaches_the_queues_and_passes_the_others_over(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    first = topic.subscribe(broker.queue("first"))
    subscribed = subscribe_every_protocol(topic)
    topic.confirm_subscription(subscribed["email"].token or "")
    last = topic.subscribe(broker.queue("last"))
    topic.publish("one")
    topic.publish_batch([{"Id": "a", "Message": "two"}, {"Id": "b", "Message": "three"}])
    structured = json.dumps({"default": "four", "sqs": "four for queues", "email": "four by mail"})
    topic.publish(structured, message_structure="json")  # evaluated route by route
    expected = ["one", "two", "three", "four for queues"]
    assert bodies(broker, "first") == expected
    assert bodies(broker, "last") == expected
    assert (first.delivered_count, last.delivered_count) == (4, 4)
    for subscription in subscribed.values():
        assert (subscription.delivered_count, subscription.failed_count) == (0, 0)


def test_the_native_fan_out_still_serves_the_queues(make_broker: Callable[..., Broker]) -> None:
    """The protocols rulebus does not deliver to are no routes: a publish to queues and them is
    the usual fan-out, one native store call for the queues."""
    broker = make_broker()
    topic = broker.topic("alarms")
    topic.subscribe(broker.queue("q"))
    topic.subscribe(Endpoint("sms", "+15555550100"))
    store = broker._store
    with mock.patch.object(store.queues, "put_notifications", wraps=store.queues.put_notifications) as put:
        topic.publish("hello")
    assert put.call_count == 1
    ((fan_out, *_),) = put.call_args.args[1]
    assert len(fan_out.routes) == 1
    assert bodies(broker, "q") == ["hello"]


def test_filter_policies_on_them_are_validated_and_kept(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    policy = {"severity": ["high"]}
    subscription = topic.subscribe(Endpoint("sms", "+15555550100"), filter_policy=policy)
    assert json.loads(subscription.attributes["FilterPolicy"]) == policy
    assert subscription.attributes["FilterPolicyScope"] == "MessageAttributes"
    with pytest.raises(InvalidFilterPolicyError, match="Invalid parameter: Attributes Reason: FilterPolicy"):
        topic.subscribe(Endpoint("email", "ops@example.com"), filter_policy={"severity": "high"})
    assert [s.protocol for s in topic.subscriptions] == ["sms"]
    topic.set_subscription_attributes(subscription, "FilterPolicy", json.dumps({"severity": ["low"]}))
    assert json.loads(broker.topic("alarms").subscriptions[0].attributes["FilterPolicy"]) == {
        "severity": ["low"]
    }
    attributes = {"severity": {"DataType": "String", "StringValue": "low"}}
    topic.publish("matched", message_attributes=attributes)  # matches, and is delivered to nobody
    assert subscription.delivered_count == 0


def test_unsubscribe(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    subscribed = subscribe_every_protocol(topic)
    queue = topic.subscribe(broker.queue("q"))
    for subscription in subscribed.values():
        topic.unsubscribe(subscription)
    assert [s.subscription_arn for s in broker.topic("alarms").subscriptions] == [queue.subscription_arn]
    topic.unsubscribe(subscribed["email"])  # unsubscribing twice is not an error


@pytest.mark.parametrize(
    ("protocol", "endpoint", "message"),
    [
        ("email", "ops.example.com", "Invalid parameter: Email address"),
        ("email", "ops@example.com;dev@example.com", "Invalid parameter: Email address"),
        ("email-json", "ops@localhost", "Invalid parameter: Email address"),
        ("sms", "+1555--5550100", "Invalid SMS endpoint: +1555--5550100"),
        ("sms", "/+15555550100", "Invalid SMS endpoint: /+15555550100"),
        ("sms", "+1555555010012345", "Invalid SMS endpoint: +1555555010012345"),
        ("sms", "ops@example.com", "Invalid SMS endpoint: ops@example.com"),
        ("lambda", "notify", "Invalid parameter: Lambda endpoint ARN"),
        ("lambda", "arn:aws:sqs:us-east-1:123456789012:q", "Invalid parameter: Lambda endpoint ARN"),
        ("lambda", "arn:aws:lambda:us-east-1:123456789012:layer:x", "Invalid parameter: Lambda endpoint ARN"),
        ("firehose", "archive", "Invalid parameter: Firehose endpoint ARN"),
        ("firehose", FUNCTION, "Invalid parameter: Firehose endpoint ARN"),
        ("pigeon", "coop", "Invalid parameter: Amazon SNS does not support this protocol string: pigeon"),
    ],
)
def test_invalid_endpoints(protocol: str, endpoint: str, message: str) -> None:
    with pytest.raises(AwsError) as raised:
        Endpoint(protocol, endpoint)
    assert (raised.value.code, raised.value.message) == ("InvalidParameter", message)


def test_valid_endpoints_of_each_shape() -> None:
    for protocol, endpoint in (
        ("sms", "15555550100"),
        ("sms", "+1-555-555-0100"),
        ("sms", "+44.20.7946.0958"),
        ("lambda", FUNCTION + ":live"),
        ("email", "first.last+tag@mail.example.co.uk"),
    ):
        assert Endpoint(protocol, endpoint).endpoint == endpoint


def test_application_endpoints_do_not_exist() -> None:
    with pytest.raises(AwsError) as raised:
        Endpoint("application", "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/4e1d")
    assert raised.value.code == "NotFound"
    assert raised.value.message.startswith("Endpoint does not exist")
    with pytest.raises(AwsError) as raised:
        Endpoint("application", "device-token")
    assert raised.value.code == "InvalidParameter"


def test_subscription_role_arn(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    with pytest.raises(AwsError, match="SubscriptionRoleArn is required for the firehose protocol"):
        topic.subscribe(Endpoint("firehose", STREAM))
    with pytest.raises(AwsError, match="SubscriptionRoleArn: not an IAM role ARN"):
        topic.subscribe(Endpoint("firehose", STREAM), subscription_role_arn=FUNCTION)
    with pytest.raises(AwsError, match="SubscriptionRoleArn is only valid for the firehose protocol"):
        topic.subscribe(Endpoint("lambda", FUNCTION), subscription_role_arn=ROLE)
    assert topic.subscriptions == []
    subscription = topic.subscribe(Endpoint("firehose", STREAM), subscription_role_arn=ROLE)
    assert topic.subscribe(Endpoint("firehose", STREAM), subscription_role_arn=ROLE) is subscription
    other = ROLE + "-2"
    with pytest.raises(AwsError, match="Subscription already exists with different attributes"):
        topic.subscribe(Endpoint("firehose", STREAM), subscription_role_arn=other)
    topic.set_subscription_attributes(subscription, "SubscriptionRoleArn", other)
    assert broker.topic("alarms").subscriptions[0].attributes["SubscriptionRoleArn"] == other
    sms = topic.subscribe(Endpoint("sms", "+15555550100"))
    with pytest.raises(AwsError, match="only valid for the firehose protocol"):
        topic.set_subscription_attributes(sms, "SubscriptionRoleArn", ROLE)


def test_raw_message_delivery_is_firehoses_alone(make_broker: Callable[..., Broker]) -> None:
    topic = make_broker().topic("alarms")
    for protocol in ("email", "email-json", "sms", "lambda"):
        endpoint, _ = ENDPOINTS[protocol]
        with pytest.raises(AwsError, match=rf"Delivery protocol \[{protocol}\] does not support raw"):
            topic.subscribe(Endpoint(protocol, endpoint), raw_message_delivery=True)
    firehose = topic.subscribe(
        Endpoint("firehose", STREAM), subscription_role_arn=ROLE, raw_message_delivery=True
    )
    assert firehose.attributes["RawMessageDelivery"] == "true"
    sms = topic.subscribe(Endpoint("sms", "+15555550100"))
    with pytest.raises(AwsError, match=r"Delivery protocol \[sms\] does not support raw"):
        topic.set_subscription_attributes(sms, "RawMessageDelivery", "true")


def test_an_endpoint_of_a_delivered_protocol_is_its_plain_subscriber(
    make_broker: Callable[..., Broker],
) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    queue = broker.queue("q")
    subscription = topic.subscribe(Endpoint("sqs", queue.arn))
    assert (subscription.protocol, subscription.endpoint) == ("sqs", queue.arn)
    topic.publish("hello")
    assert bodies(broker, "q") == ["hello"]
    with pytest.raises(AwsError, match="Invalid parameter: SQS endpoint ARN"):
        topic.subscribe(Endpoint("sqs", "https://example.com/"))
    with pytest.raises(AwsError, match="Endpoint must match the specified protocol"):
        topic.subscribe(Endpoint("https", "http://example.com/"))


def test_eventbridge_targets_a_topic_with_them(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("alarms")
    topic.subscribe(Endpoint("email", "ops@example.com"))
    topic.subscribe(Endpoint("lambda", FUNCTION))
    topic.subscribe(broker.queue("q"))
    bus = broker.event_bus("default")
    bus.put_rule("all", event_pattern={"source": ["app"]})
    bus.put_targets("all", [{"Id": "t", "Arn": topic.arn}])
    result: Any = bus.put_events([{"Source": "app", "DetailType": "x", "Detail": "{}"}])
    assert result["FailedEntryCount"] == 0
    (message,) = bodies(broker, "q")
    assert json.loads(message)["source"] == "app"
