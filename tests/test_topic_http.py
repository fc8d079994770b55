"""HTTP/S subscriptions (docs/semantics.md, 'SNS topics') against a local HTTP server.

The server runs in a thread on 127.0.0.1 (port 0) and records every request. Deliveries happen
after publish and subscribe return, on the subscription's delivery lane, so the tests wait for
them (``settled``) before looking. Retry delays go to an injected sleep that only records them:
nothing here sleeps or asserts on time.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any, Callable

import pytest
from helpers.http_endpoint import Endpoint
from rulebus import AwsError, Broker
from rulebus.sns.policies import retry_delays
from rulebus.sns.topic import Topic

START = 1_700_000_000.123
CONFIRMATION_KEYS = [
    "Type",
    "MessageId",
    "Token",
    "TopicArn",
    "Message",
    "SubscribeURL",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
]
NOTIFICATION_KEYS = [
    "Type",
    "MessageId",
    "TopicArn",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
]


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(clock=lambda: START)


@pytest.fixture
def sleeps(topic: Topic) -> list[float]:
    recorded: list[float] = []
    topic.sleep = recorded.append
    return recorded


@pytest.fixture
def topic(broker: Broker) -> Topic:
    return broker.topic("orders")


def settled(topic: Topic) -> None:
    """Wait for the topic's HTTP deliveries (they run after publish and subscribe return)."""
    assert topic.wait_for_deliveries(timeout=30)


def confirm(topic: Topic, endpoint: Endpoint, **kwargs: Any) -> Any:
    subscription = topic.subscribe(endpoint.url, **kwargs)
    settled(topic)
    token = endpoint.requests[-1].json()["Token"]
    topic.confirm_subscription(token)
    endpoint.requests.clear()
    return subscription


def unreachable_url() -> str:
    """A local port nobody listens on (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# ---------------------------------------------------------------------- confirmation


def test_subscribe_posts_confirmation_and_stays_pending(
    broker: Broker, topic: Topic, endpoint: Endpoint, sleeps: list[float]
) -> None:
    subscription = topic.subscribe(endpoint.url)
    settled(topic)
    assert subscription.arn == "pending confirmation"
    assert subscription.subscription_arn.startswith(topic.arn + ":")
    assert subscription.protocol == "http"
    assert subscription.endpoint == endpoint.url
    attributes = subscription.attributes
    assert attributes["PendingConfirmation"] == "true"
    assert attributes["ConfirmationWasAuthenticated"] == "false"
    assert attributes["SubscriptionArn"] == subscription.subscription_arn
    assert topic.attributes["SubscriptionsPending"] == "1"
    assert topic.attributes["SubscriptionsConfirmed"] == "0"

    [request] = endpoint.requests
    assert request.path == "/sns/hook?x=1"
    body = request.json()
    assert list(body) == CONFIRMATION_KEYS
    assert body["Type"] == "SubscriptionConfirmation"
    assert body["TopicArn"] == topic.arn
    assert re.fullmatch(r"[0-9a-f]{256}", body["Token"])
    assert body["SubscribeURL"] == (
        f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic.arn}"
        f"&Token={body['Token']}"
    )
    assert body["Message"].startswith(f"You have chosen to subscribe to the topic {topic.arn}.")
    assert body["Timestamp"] == "2023-11-14T22:13:20.123Z"
    assert body["SignatureVersion"] == "1"
    assert request.body.startswith('{\n  "Type" : "SubscriptionConfirmation",\n')
    headers = request.headers
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == body["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic.arn
    assert "x-amz-sns-subscription-arn" not in headers
    assert "x-amz-sns-rawdelivery" not in headers
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"

    # Pending: receives nothing.
    topic.publish("early")
    settled(topic)
    assert len(endpoint.requests) == 1
    assert subscription.delivered_count == 0 and subscription.filtered_count == 0

    confirmed = topic.confirm_subscription(body["Token"])
    assert confirmed is subscription
    assert subscription.arn == subscription.subscription_arn
    assert subscription.attributes["PendingConfirmation"] == "false"
    assert topic.attributes["SubscriptionsConfirmed"] == "1"
    assert topic.attributes["SubscriptionsPending"] == "0"
    assert topic.confirm_subscription(body["Token"]) is subscription  # again: same answer
    assert sleeps == []


def test_return_subscription_arn(topic: Topic, endpoint: Endpoint) -> None:
    subscription = topic.subscribe(endpoint.url, return_subscription_arn=True)
    settled(topic)
    assert subscription.arn == subscription.subscription_arn
    assert subscription.pending_confirmation


def test_bad_and_expired_tokens(endpoint: Endpoint) -> None:
    now = [START]
    broker = Broker(clock=lambda: now[0])
    topic = broker.topic("t")
    topic.subscribe(endpoint.url)
    settled(topic)
    token = endpoint.requests[-1].json()["Token"]
    for bad in ("nope", ""):
        with pytest.raises(AwsError, match=r"^Invalid parameter: Token$") as info:
            topic.confirm_subscription(bad)
        assert info.value.code == "InvalidParameter"
    now[0] += 2 * 24 * 3600 + 1
    with pytest.raises(AwsError, match=r"^Invalid parameter: Token$"):
        topic.confirm_subscription(token)


def test_subscribe_again_resends_confirmation(topic: Topic, endpoint: Endpoint) -> None:
    first = topic.subscribe(endpoint.url)
    assert topic.subscribe(endpoint.url) is first
    settled(topic)
    tokens = [request.json()["Token"] for request in endpoint.requests]
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    with pytest.raises(AwsError, match="Subscription already exists with different attributes"):
        topic.subscribe(endpoint.url, raw_message_delivery=True)


def test_unreachable_endpoint_can_still_subscribe(topic: Topic, sleeps: list[float]) -> None:
    subscription = topic.subscribe(unreachable_url())
    settled(topic)
    assert subscription.pending_confirmation
    assert sleeps == [20.0, 20.0, 20.0]  # the confirmation is retried too


def test_endpoint_errors(topic: Topic) -> None:
    with pytest.raises(AwsError, match=r"^Invalid parameter: Endpoint$"):
        topic.subscribe("http://")
    with pytest.raises(AwsError, match=r"^Invalid parameter: SQS endpoint ARN$"):
        topic.subscribe("https://sqs.us-east-1.amazonaws.com/000000000000/q")
    with pytest.raises(AwsError, match="RedrivePolicy"):
        topic.subscribe("http://example.invalid/", redrive_policy={"deadLetterTargetArn": "nope"})
    with pytest.raises(AwsError, match="DeliveryPolicy"):
        topic.subscribe(
            "http://example.invalid/", delivery_policy={"healthyRetryPolicy": {"numRetries": 101}}
        )
    with pytest.raises(AwsError, match="DeliveryPolicy"):
        topic.subscribe(
            "http://example.invalid/",
            delivery_policy={"healthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}},
        )
    assert topic.subscriptions == []


# ---------------------------------------------------------------------- notifications


def test_notification_post(topic: Topic, endpoint: Endpoint) -> None:
    subscription = confirm(topic, endpoint)
    result = topic.publish(
        "hello", subject="Hi", message_attributes={"n": {"DataType": "Number", "StringValue": "7"}}
    )
    settled(topic)
    [request] = endpoint.requests
    body = request.json()
    assert list(body) == [*NOTIFICATION_KEYS[:3], "Subject", *NOTIFICATION_KEYS[3:], "MessageAttributes"]
    assert body["Type"] == "Notification"
    assert body["MessageId"] == result.message_id
    assert body["Message"] == "hello"
    assert body["Subject"] == "Hi"
    assert body["MessageAttributes"] == {"n": {"Type": "Number", "Value": "7"}}
    assert body["UnsubscribeURL"].endswith(f"SubscriptionArn={subscription.subscription_arn}")
    assert request.headers["x-amz-sns-message-type"] == "Notification"
    assert request.headers["x-amz-sns-message-id"] == result.message_id
    assert request.headers["x-amz-sns-topic-arn"] == topic.arn
    assert request.headers["x-amz-sns-subscription-arn"] == subscription.subscription_arn
    assert request.headers["content-type"] == "text/plain; charset=UTF-8"
    assert request.headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert "x-amz-sns-rawdelivery" not in request.headers
    assert subscription.delivered_count == 1 and subscription.failed_count == 0


def test_raw_delivery_posts_the_message(topic: Topic, endpoint: Endpoint) -> None:
    subscription = confirm(topic, endpoint, raw_message_delivery=True)
    topic.publish('{"a": 1}', message_attributes={"k": {"DataType": "String", "StringValue": "v"}})
    settled(topic)
    [request] = endpoint.requests
    assert request.body == '{"a": 1}'
    assert request.headers["x-amz-sns-rawdelivery"] == "true"
    assert request.headers["x-amz-sns-message-type"] == "Notification"
    assert request.headers["x-amz-sns-subscription-arn"] == subscription.subscription_arn


def test_http_key_of_message_structure_and_filter(topic: Topic, endpoint: Endpoint) -> None:
    confirm(topic, endpoint, filter_policy={"k": ["yes"]})
    message = json.dumps({"default": "d", "http": "for http"})
    topic.publish(message, message_structure="json")  # json structure: no attributes, filtered out
    settled(topic)
    topic.publish("m", message_attributes={"k": {"DataType": "String", "StringValue": "yes"}})
    settled(topic)
    assert [request.json()["Message"] for request in endpoint.requests] == ["m"]


# ---------------------------------------------------------------------- retries and DLQ


def test_failing_endpoint_is_retried_then_dead_lettered(
    broker: Broker, topic: Topic, endpoint: Endpoint, sleeps: list[float]
) -> None:
    dlq = broker.queue("dlq")
    subscription = confirm(topic, endpoint, redrive_policy={"deadLetterTargetArn": dlq.arn})
    endpoint.status = 500
    result = topic.publish("lost", subject="S")  # must not raise
    settled(topic)
    assert len(endpoint.requests) == 3 + 1  # numRetries + 1 (the default policy)
    assert {request.json()["MessageId"] for request in endpoint.requests} == {result.message_id}
    assert sleeps == [20.0, 20.0, 20.0]
    [message] = dlq.receive(max_messages=10)
    envelope = json.loads(message.body)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == result.message_id
    assert envelope["Message"] == "lost"
    assert subscription.dead_lettered_count == 1
    assert subscription.failed_count == 0 and subscription.delivered_count == 0
    assert json.loads(subscription.attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn}

    endpoint.status = 204  # recovers: any 2xx is a success
    endpoint.requests.clear()
    topic.publish("ok")
    settled(topic)
    assert len(endpoint.requests) == 1
    assert subscription.delivered_count == 1


def test_subscription_delivery_policy_shapes_the_retries(
    broker: Broker, topic: Topic, endpoint: Endpoint, sleeps: list[float]
) -> None:
    policy = {
        "healthyRetryPolicy": {
            "numRetries": 6,
            "numNoDelayRetries": 1,
            "numMinDelayRetries": 1,
            "numMaxDelayRetries": 1,
            "minDelayTarget": 1,
            "maxDelayTarget": 5,
            "backoffFunction": "linear",
        }
    }
    subscription = confirm(topic, endpoint, delivery_policy=policy)
    endpoint.status = 500
    topic.publish("x")
    settled(topic)
    assert len(endpoint.requests) == 7
    assert sleeps == [0.0, 1.0, 1.0, 3.0, 5.0, 5.0]
    assert subscription.failed_count == 1  # no RedrivePolicy: dropped and counted
    assert json.loads(subscription.attributes["DeliveryPolicy"]) == policy


def test_topic_delivery_policy_and_disabled_overrides(broker: Broker, endpoint: Endpoint) -> None:
    topic = broker.topic(
        "t",
        delivery_policy={
            "http": {
                "defaultHealthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 7, "maxDelayTarget": 7},
                "disableSubscriptionOverrides": True,
                "defaultRequestPolicy": {"headerContentType": "application/json"},
            }
        },
    )
    sleeps: list[float] = []
    topic.sleep = sleeps.append
    confirm(topic, endpoint, delivery_policy={"healthyRetryPolicy": {"numRetries": 5}})
    endpoint.status = 503
    topic.publish("x")
    settled(topic)
    assert sleeps == [7.0]
    assert [request.headers["content-type"] for request in endpoint.requests] == ["application/json"] * 2


def test_unreachable_endpoint_never_raises_and_dead_letters_raw(
    broker: Broker, topic: Topic, endpoint: Endpoint, sleeps: list[float]
) -> None:
    dlq = broker.queue("dlq")
    url = unreachable_url()
    subscription = topic.subscribe(
        url, raw_message_delivery=True, redrive_policy=json.dumps({"deadLetterTargetArn": dlq.arn})
    )
    settled(topic)
    token = subscription.token
    assert token is not None
    topic.confirm_subscription(token)
    sleeps.clear()
    topic.publish("raw body", message_attributes={"k": {"DataType": "String", "StringValue": "v"}})
    settled(topic)
    assert sleeps == [20.0, 20.0, 20.0]
    [message] = dlq.receive(max_messages=10, message_attribute_names=["All"])
    assert message.body == "raw body"
    assert subscription.dead_lettered_count == 1


def test_missing_dead_letter_queue_counts_failed(
    topic: Topic, endpoint: Endpoint, sleeps: list[float]
) -> None:
    subscription = confirm(
        topic, endpoint, redrive_policy={"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:gone"}
    )
    endpoint.status = 500
    topic.publish("x")
    settled(topic)
    assert subscription.failed_count == 1 and subscription.dead_lettered_count == 0


def test_broker_clock_sleep_wins(endpoint: Endpoint) -> None:
    class Clock:
        def __init__(self) -> None:
            self.now = START
            self.slept: list[float] = []

        def __call__(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.slept.append(seconds)
            self.now += seconds

    clock = Clock()
    topic = Broker(clock=clock).topic("t")
    topic.sleep = lambda seconds: pytest.fail("the broker clock's sleep should be used")
    confirm(topic, endpoint)
    endpoint.status = 500
    topic.publish("x")
    settled(topic)
    assert clock.slept == [20.0, 20.0, 20.0]


def test_retry_delay_shapes() -> None:
    base = {"numNoDelayRetries": 0, "numMinDelayRetries": 0, "numMaxDelayRetries": 0, "numRetries": 5}
    assert retry_delays({**base, "minDelayTarget": 1, "maxDelayTarget": 9, "backoffFunction": "linear"}) == [
        1.0,
        3.0,
        5.0,
        7.0,
        9.0,
    ]
    for function in ("arithmetic", "geometric", "exponential"):
        delays = retry_delays({**base, "minDelayTarget": 1, "maxDelayTarget": 9, "backoffFunction": function})
        assert delays[0] == 1.0 and delays[-1] == 9.0 and delays == sorted(delays)
    assert (
        retry_delays(
            {**base, "numRetries": 0, "minDelayTarget": 1, "maxDelayTarget": 1, "backoffFunction": "linear"}
        )
        == []
    )


# ---------------------------------------------------------------------- client errors, asynchrony


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_not_retried(
    broker: Broker, topic: Topic, endpoint: Endpoint, sleeps: list[float], status: int
) -> None:
    dlq = broker.queue("dlq")
    subscription = confirm(topic, endpoint, redrive_policy={"deadLetterTargetArn": dlq.arn})
    endpoint.status = status
    topic.publish("refused")
    settled(topic)
    assert len(endpoint.requests) == 1  # no retry: straight to the dead-letter queue
    assert sleeps == []
    [message] = dlq.receive()
    assert json.loads(message.body)["Message"] == "refused"
    assert subscription.dead_lettered_count == 1 and subscription.delivered_count == 0


@pytest.mark.parametrize("status", [429, 500, 503, 302])
def test_server_errors_and_throttling_are_retried(
    topic: Topic, endpoint: Endpoint, sleeps: list[float], status: int
) -> None:
    subscription = confirm(topic, endpoint)
    endpoint.status = status
    topic.publish("again")
    settled(topic)
    assert len(endpoint.requests) == 4
    assert sleeps == [20.0, 20.0, 20.0]
    assert subscription.failed_count == 1


def test_publish_returns_before_a_slow_endpoint_answers(
    broker: Broker, topic: Topic, endpoint: Endpoint
) -> None:
    confirm(topic, endpoint)
    fast = broker.queue("fast")
    topic.subscribe(fast)
    endpoint.hold.clear()  # the endpoint takes the POST but does not answer yet
    try:
        first = topic.publish("one")
        second = topic.publish("two")
        # The queue subscription got both while the endpoint still holds the first POST.
        assert [json.loads(m.body)["MessageId"] for m in fast.receive(max_messages=10)] == [
            first.message_id,
            second.message_id,
        ]
        assert not topic.wait_for_deliveries(timeout=0.05)
    finally:
        endpoint.hold.set()
    settled(topic)
    # One lane per subscription: the endpoint got them one after the other, in publish order.
    assert [request.json()["Message"] for request in endpoint.requests] == ["one", "two"]


def test_a_served_broker_s_urls_point_at_its_server(
    make_broker: Callable[..., Broker], endpoint: Endpoint
) -> None:
    # `rulebus serve` gives its brokers its own URL: a subscriber confirms and unsubscribes there.
    topic = make_broker(clock=lambda: START, endpoint_url="http://127.0.0.1:4566/").topic("served")
    subscription = confirm(topic, endpoint)
    topic.publish("hello")
    settled(topic)
    notification = endpoint.requests[-1].json()
    assert notification["UnsubscribeURL"] == (
        f"http://127.0.0.1:4566/?Action=Unsubscribe&SubscriptionArn={subscription.subscription_arn}"
    )
    topic.subscribe(endpoint.url + "?again")
    settled(topic)
    assert (
        endpoint.requests[-1]
        .json()["SubscribeURL"]
        .startswith(f"http://127.0.0.1:4566/?Action=ConfirmSubscription&TopicArn={topic.arn}&Token=")
    )
