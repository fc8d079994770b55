"""SetSubscriptionAttributes and GetSubscriptionAttributes (SNS API Reference), on
both stores; on SQLite a change made through one broker governs another broker's publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker, InvalidFilterPolicyError
from rulebus.sns.topic import Subscription, Topic


@pytest.fixture(params=["memory", "sqlite", "redis"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    path = tmp_path / "rulebus.db" if request.param == "sqlite" else None
    store = request.getfixturevalue("redis_url") if request.param == "redis" else None
    with Broker(path, store=store, clock=FakeClock()) as opened:
        yield opened


def attr(value: str, data_type: str = "String") -> dict[str, str]:
    return {"DataType": data_type, "StringValue": value}


def bodies(broker: Broker, queue: str) -> list[str]:
    return [json.loads(m.body)["Message"] for m in broker.queue(queue).receive(max_messages=10)]


def subscribed(broker: Broker, **kwargs: Any) -> tuple[Topic, Subscription]:
    topic = broker.topic("orders")
    return topic, topic.subscribe(broker.queue("inbox"), **kwargs)


def test_filter_policy_set_changed_and_removed(broker: Broker) -> None:
    topic, subscription = subscribed(broker)
    topic.set_subscription_attributes(subscription, "FilterPolicy", '{"tier": ["gold"]}')
    assert subscription.attributes["FilterPolicy"] == '{"tier": ["gold"]}'
    assert subscription.attributes["FilterPolicyScope"] == "MessageAttributes"
    topic.publish("plain", message_attributes={"tier": attr("tin")})
    topic.publish("gold", message_attributes={"tier": attr("gold")})
    assert bodies(broker, "inbox") == ["gold"]
    assert subscription.filtered_count == 1

    subscription.set_attribute("FilterPolicy", {"tier": ["tin"]})  # the same through the subscription
    topic.publish("tin", message_attributes={"tier": attr("tin")})
    topic.publish("gold again", message_attributes={"tier": attr("gold")})
    assert bodies(broker, "inbox") == ["tin"]

    topic.set_subscription_attributes(subscription.subscription_arn, "FilterPolicy", "")
    assert "FilterPolicy" not in subscription.attributes
    topic.publish("anything")
    assert bodies(broker, "inbox") == ["anything"]


def test_scope_switch_rechecks_the_policy(broker: Broker) -> None:
    topic, subscription = subscribed(
        broker,
        filter_policy={"order": {"total": [{"numeric": [">", 100]}]}},
        filter_policy_scope="MessageBody",
    )
    with pytest.raises(InvalidFilterPolicyError) as info:
        topic.set_subscription_attributes(subscription, "FilterPolicyScope", "MessageAttributes")
    assert str(info.value) == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
    )
    assert subscription.attributes["FilterPolicyScope"] == "MessageBody"  # unchanged

    topic.set_subscription_attributes(subscription, "FilterPolicy", {"total": [{"numeric": [">", 100]}]})
    assert subscription.attributes["FilterPolicyScope"] == "MessageBody"  # the new policy keeps the scope
    topic.publish('{"total": 150}')
    topic.publish('{"total": 50}', message_attributes={"total": attr("500", "Number")})
    assert bodies(broker, "inbox") == ['{"total": 150}']

    topic.set_subscription_attributes(subscription, "FilterPolicyScope", "MessageAttributes")
    topic.publish('{"total": 150}')
    topic.publish('{"total": 50}', message_attributes={"total": attr("500", "Number")})
    assert bodies(broker, "inbox") == ['{"total": 50}']


def test_raw_delivery_and_redrive_policy(broker: Broker) -> None:
    topic, subscription = subscribed(broker)
    topic.set_subscription_attributes(subscription, "RawMessageDelivery", "true")
    assert subscription.attributes["RawMessageDelivery"] == "true"
    topic.publish("raw")
    [message] = broker.queue("inbox").receive()
    assert message.body == "raw"

    dlq = broker.queue("dlq")
    topic.set_subscription_attributes(
        subscription, "RedrivePolicy", json.dumps({"deadLetterTargetArn": dlq.arn})
    )
    assert json.loads(subscription.attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn}
    broker.delete_queue("inbox")  # the endpoint is gone: the delivery fails and is dead-lettered
    topic.publish("to the dlq")
    [dead] = dlq.receive()
    assert dead.body == "to the dlq"
    assert subscription.dead_lettered_count == 1

    topic.set_subscription_attributes(subscription, "RedrivePolicy", "")
    assert "RedrivePolicy" not in subscription.attributes
    topic.publish("dropped")
    assert subscription.failed_count == 1


def test_delivery_policy_and_effective_delivery_policy(broker: Broker) -> None:
    topic = broker.topic("orders")
    queued = topic.subscribe(broker.queue("inbox"))
    effective = json.loads(queued.attributes["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 3
    assert list(effective) == ["healthyRetryPolicy", "sicklyRetryPolicy", "throttlePolicy", "guaranteed"]

    topic.sleep = lambda seconds: None  # the confirmation to nowhere retries without waiting
    hook = topic.subscribe("http://127.0.0.1:9/hook")
    assert topic.wait_for_deliveries(timeout=30)
    policy = {"healthyRetryPolicy": {"numRetries": 7, "minDelayTarget": 2, "maxDelayTarget": 9}}
    topic.set_subscription_attributes(hook, "DeliveryPolicy", json.dumps(policy))
    assert json.loads(hook.attributes["DeliveryPolicy"]) == policy
    effective = json.loads(hook.attributes["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 7
    assert effective["healthyRetryPolicy"]["maxDelayTarget"] == 9

    with pytest.raises(AwsError, match=r"Delivery protocol \[sqs\] does not support delivery policies"):
        topic.set_subscription_attributes(queued, "DeliveryPolicy", json.dumps(policy))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Nope", "x", "Invalid parameter: AttributeName"),
        ("Owner", "x", "Invalid parameter: AttributeName"),
        (
            "RawMessageDelivery",
            "maybe",
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [maybe]. "
            "Must be true or false.",
        ),
        (
            "FilterPolicyScope",
            "RandomValue",
            "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. "
            "Please use either MessageBody or MessageAttributes",
        ),
        (
            "FilterPolicy",
            '{"k": "x"}',
            'Invalid parameter: FilterPolicy: "k" must be an object or an array\n'
            ' at [Source: (String)"{"k": "x"}"; line: 1, column: 10]',
        ),
    ],
)
def test_invalid_values(broker: Broker, name: str, value: str, message: str) -> None:
    topic, subscription = subscribed(broker, filter_policy={"k": ["v"]})
    before = subscription.attributes
    with pytest.raises((AwsError, InvalidFilterPolicyError)) as info:  # filter policies: the engine's error
        topic.set_subscription_attributes(subscription, name, value)
    assert str(info.value) == message
    assert info.value.code == "InvalidParameter"
    assert subscription.attributes == before


def test_unknown_subscription(broker: Broker) -> None:
    topic, subscription = subscribed(broker)
    topic.unsubscribe(subscription)
    with pytest.raises(AwsError, match=r"^Subscription does not exist$") as info:
        topic.set_subscription_attributes(subscription, "RawMessageDelivery", "true")
    assert info.value.code == "NotFound"


def test_callable_subscription(broker: Broker) -> None:
    topic = broker.topic("orders")
    received: list[str] = []
    subscription = topic.subscribe(lambda n: received.append(n["Message"]))
    topic.set_subscription_attributes(subscription, "FilterPolicy", {"k": ["yes"]})
    topic.publish("no")
    topic.publish("yes", message_attributes={"k": attr("yes")})
    assert received == ["yes"]
    with pytest.raises(AwsError, match="does not support raw message delivery"):
        topic.set_subscription_attributes(subscription, "RawMessageDelivery", True)


def test_a_change_through_one_broker_governs_the_others(tmp_path: Path) -> None:
    clock = FakeClock()
    with (
        Broker(tmp_path / "shared.db", clock=clock) as one,
        Broker(tmp_path / "shared.db", clock=clock) as two,
    ):
        publisher = one.topic("orders")
        subscription = publisher.subscribe(one.queue("inbox"))
        publisher.publish("before")  # the publisher's view is current before the change
        [seen] = two.topic("orders").subscriptions
        two.topic("orders").set_subscription_attributes(seen, "FilterPolicy", {"k": ["yes"]})
        publisher.publish("no")
        publisher.publish("yes", message_attributes={"k": attr("yes")})
        assert bodies(one, "inbox") == ["before", "yes"]
        assert subscription.attributes["FilterPolicy"] == '{"k": ["yes"]}'
        assert subscription.filtered_count == 1
