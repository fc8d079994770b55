"""Every delivery failure is logged on the ``rulebus`` loggers with the resource names and the
error (WARNING when the message still goes somewhere, ERROR when it is dropped), and counted;
and an SNS subscription that is a Python callable never makes Publish raise (docs/observability.md).
Every test runs on each store; retries run when a test says so."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import pytest
from helpers.fake_clock import FakeClock
from helpers.http_endpoint import Endpoint
from rulebus import Broker
from rulebus.events.bus import EventBus
from rulebus.sns.topic import Topic
from rulebus.transport import redacted


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_retries=False)


@pytest.fixture
def topic(broker: Broker) -> Topic:
    return broker.topic("orders")


@pytest.fixture
def bus(broker: Broker) -> EventBus:
    bus = broker.event_bus("shop")
    bus.put_rule("all", event_pattern={"source": ["com.shop"]})
    return bus


def broken(notification: Any) -> None:
    raise ValueError("handler broke")


def logged(caplog: pytest.LogCaptureFixture, logger: str) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == logger]


def put(bus: EventBus) -> str:
    result = bus.put_events([{"Source": "com.shop", "DetailType": "Order", "Detail": "{}"}])
    assert result["FailedEntryCount"] == 0
    return str(result["Entries"][0]["EventId"])


# ---------------------------------------------------------------------- SNS


def test_sns_callable_that_raises_never_fails_publish_and_is_logged_and_counted(
    broker: Broker, topic: Topic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    queue = broker.queue("copies")
    failing = topic.subscribe(broken)
    topic.subscribe(queue)
    message_id = topic.publish("hello").message_id
    # The queue subscribed after the failing callable still got the message.
    assert [json.loads(m.body)["Message"] for m in queue.receive()] == ["hello"]
    assert (failing.failed_count, failing.delivered_count) == (1, 0)
    [(level, text)] = logged(caplog, "rulebus.sns")
    assert level == logging.ERROR
    assert message_id in text and failing.subscription_arn in text
    assert "ValueError: handler broke" in text and "dropped" in text


def test_sns_callable_that_raises_goes_to_the_subscription_dead_letter_queue(
    broker: Broker, topic: Topic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    dlq = broker.queue("dlq")
    failing = topic.subscribe(broken, redrive_policy={"deadLetterTargetArn": dlq.arn})
    topic.publish("hello")
    assert [json.loads(m.body)["Message"] for m in dlq.receive()] == ["hello"]
    assert (failing.dead_lettered_count, failing.failed_count) == (1, 0)
    [(level, text)] = logged(caplog, "rulebus.sns")
    assert level == logging.WARNING
    assert failing.subscription_arn in text and dlq.arn in text and "handler broke" in text


def test_sns_dead_letter_queue_that_is_gone_is_logged_as_dropped(
    broker: Broker, topic: Topic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    gone = "arn:aws:sqs:us-east-1:000000000000:gone"
    subscription = topic.subscribe(
        "arn:aws:sqs:us-east-1:000000000000:missing", redrive_policy={"deadLetterTargetArn": gone}
    )
    topic.publish("hello")
    assert (subscription.failed_count, subscription.dead_letter_failed_count) == (1, 1)
    [(level, text)] = logged(caplog, "rulebus.sns")
    assert level == logging.ERROR
    assert subscription.subscription_arn in text and gone in text
    assert "The specified queue does not exist." in text


def test_sns_http_endpoint_that_fails_is_logged(
    broker: Broker, topic: Topic, endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    topic.sleep = lambda seconds: None
    subscription = topic.subscribe(
        endpoint.url, delivery_policy={"healthyRetryPolicy": {"numRetries": 0}}
    )
    assert topic.wait_for_deliveries(timeout=30)
    topic.confirm_subscription(endpoint.requests[-1].json()["Token"])
    endpoint.status = 500
    topic.publish("hello")
    assert topic.wait_for_deliveries(timeout=30)
    assert subscription.failed_count == 1
    [(level, text)] = logged(caplog, "rulebus.sns")
    assert level == logging.ERROR and subscription.subscription_arn in text and endpoint.url in text


def test_logged_endpoints_hide_their_credentials() -> None:
    assert redacted("https://user:secret@example.com:8443/hook?x=1") == "https://***@example.com:8443/hook?x=1"
    assert redacted("https://example.com/a@b") == "https://example.com/a@b"
    assert redacted("arn:aws:sqs:us-east-1:000000000000:q") == "arn:aws:sqs:us-east-1:000000000000:q"


# ---------------------------------------------------------------------- EventBridge


def test_bus_callable_target_that_raises_is_logged_at_each_retry_then_dropped(
    bus: EventBus, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    bus.put_targets("all", [{"Id": "fn", "Arn": broken, "RetryPolicy": {"MaximumRetryAttempts": 1}}])
    event_id = put(bus)
    [(level, text)] = logged(caplog, "rulebus.events")
    assert level == logging.WARNING
    assert event_id in text and "bus shop" in text and "rule all" in text and "target fn" in text
    assert "ERROR_FROM_TARGET: ValueError: handler broke" in text and "retry 1" in text
    clock.advance(3600)
    assert bus.run_retries() == 1
    assert [level for level, _ in logged(caplog, "rulebus.events")] == [logging.WARNING, logging.ERROR]
    last = logged(caplog, "rulebus.events")[-1][1]
    assert "MaximumRetryAttempts reached" in last and "dropped" in last
    assert bus.metrics["FailedInvocations"] == 2


def test_bus_target_that_does_not_exist_is_logged_and_dead_lettered(
    broker: Broker, bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    dlq = broker.queue("dlq")
    missing = "arn:aws:sqs:us-east-1:000000000000:missing"
    bus.put_targets("all", [{"Id": "q", "Arn": missing, "DeadLetterConfig": {"Arn": dlq.arn}}])
    put(bus)
    assert len(dlq.receive()) == 1
    [(level, text)] = logged(caplog, "rulebus.events")
    assert level == logging.WARNING
    assert missing in text and "NO_RESOURCE" in text and dlq.arn in text
    assert bus.metrics["InvocationsSentToDLQ"] == 1


def test_bus_dead_letter_queue_that_is_gone_is_logged_as_dropped(
    bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    gone = "arn:aws:sqs:us-east-1:000000000000:gone"
    bus.put_targets(
        "all",
        [{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:000000000000:missing", "DeadLetterConfig": {"Arn": gone}}],
    )
    put(bus)
    [(level, text)] = logged(caplog, "rulebus.events")
    assert level == logging.ERROR and gone in text and "dropped" in text
    assert bus.metrics["InvocationsFailedToBeSentToDLQ"] == 1


def test_bus_http_target_that_fails_is_logged(
    bus: EventBus, endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rulebus")
    endpoint.status = 400  # a client error: not retried
    bus.put_targets("all", [{"Id": "hook", "Arn": endpoint.url}])
    put(bus)
    assert bus.wait_for_deliveries(timeout=30)
    [(level, text)] = logged(caplog, "rulebus.events")
    assert level == logging.ERROR and "target hook" in text and "answered 400" in text
