"""Asynchronous invocation, as Lambda does it for EventBridge targets: PutEvents never fails
because a function did, a failed event is tried again after one and then two minutes (by the
broker's clock), and what runs out of attempts or age goes to the on-failure destination or the
dead-letter queue (docs/functions.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from helpers.recording_handler import Handler
from rulebus import Broker


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False, background_retries=False)


def route_to(broker: Broker, arn: str) -> Any:
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    bus.put_targets("orders", [{"Id": "function", "Arn": arn}])
    return bus


def put_order(bus: Any) -> dict[str, Any]:
    result: dict[str, Any] = bus.put_events(
        [{"Source": "com.shop", "DetailType": "Order Placed", "Detail": '{"id": 7}'}]
    )
    return result


def test_an_eventbridge_target_invokes_the_function_with_the_event(broker: Broker) -> None:
    handler = Handler()
    function = broker.function("on-order", handler)
    bus = route_to(broker, function.arn)
    result = put_order(bus)
    assert handler.events == []  # handed over, not yet run: Lambda queues it
    assert broker.run_functions() == 1
    (event,) = handler.events
    assert event["id"] == result["Entries"][0]["EventId"]
    assert event["source"] == "com.shop"
    assert event["detail-type"] == "Order Placed"
    assert event["detail"] == {"id": 7}


def test_a_target_may_be_the_function_object(broker: Broker) -> None:
    handler = Handler()
    function = broker.function("on-order", handler)
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    bus.put_targets("orders", [{"Id": "function", "Arn": function}])
    assert bus.list_targets_by_rule("orders")[0]["Arn"] == function.arn
    put_order(bus)
    broker.run_functions()
    assert len(handler.events) == 1


def test_a_failing_function_is_tried_three_times_then_recorded(broker: Broker, clock: FakeClock) -> None:
    failures = broker.queue("failures")
    handler = Handler(fail=True)
    function = broker.function("on-order", handler, on_failure=failures.arn)
    bus = route_to(broker, function.arn)
    assert put_order(bus)["FailedEntryCount"] == 0  # PutEvents never fails for the function
    assert broker.run_functions() == 1
    assert broker.run_functions() == 0  # the retry waits a minute
    clock.advance(60)
    assert broker.run_functions() == 1
    clock.advance(119)
    assert broker.run_functions() == 0  # then two
    clock.advance(1)
    assert broker.run_functions() == 1
    assert len(handler.events) == 3
    (message,) = failures.receive(10)
    record = json.loads(message.body)
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == function.arn + ":$LATEST"
    assert record["requestPayload"] == handler.events[0]
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"] == {"errorMessage": "boom", "errorType": "ValueError"}
    clock.advance(3600)
    assert broker.run_functions() == 0


def test_the_on_failure_destination_may_be_a_bus_or_a_function(broker: Broker) -> None:
    records = Handler()
    recorder = broker.function("failure-records", records)
    failing = broker.function("fails", Handler(fail=True), maximum_retry_attempts=0, on_failure=recorder)
    failed_events = broker.queue("failed-events")
    audit = broker.event_bus("audit")
    audit.put_rule("failures", event_pattern={"detail-type": ["Lambda Function Invocation Result - Failure"]})
    audit.put_targets("failures", [{"Id": "q", "Arn": failed_events.arn}])
    to_bus = broker.function("fails-too", Handler(fail=True), maximum_retry_attempts=0, on_failure=audit.arn)
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    bus.put_targets("orders", [{"Id": "a", "Arn": failing.arn}, {"Id": "b", "Arn": to_bus.arn}])
    put_order(bus)
    broker.run_functions()
    (record,) = records.events
    assert record["requestContext"]["functionArn"] == failing.arn + ":$LATEST"
    (message,) = failed_events.receive(10)
    event = json.loads(message.body)
    assert event["source"] == "lambda"
    assert event["resources"] == [to_bus.arn]
    assert event["detail"]["requestContext"]["condition"] == "RetriesExhausted"


def test_no_retries_with_maximum_retry_attempts_zero(broker: Broker) -> None:
    failures = broker.queue("failures")
    handler = Handler(fail=True)
    function = broker.function("on-order", handler, maximum_retry_attempts=0, on_failure=failures)
    put_order(route_to(broker, function.arn))
    broker.run_functions()
    assert len(handler.events) == 1
    assert json.loads(failures.receive(10)[0].body)["requestContext"]["approximateInvokeCount"] == 1


def test_an_event_too_old_for_another_attempt_is_recorded(broker: Broker, clock: FakeClock) -> None:
    failures = broker.queue("failures")
    handler = Handler(fail=True)
    function = broker.function("on-order", handler, maximum_event_age_in_seconds=60, on_failure=failures.arn)
    put_order(route_to(broker, function.arn))
    broker.run_functions()
    clock.advance(60)
    broker.run_functions()
    assert len(handler.events) == 2  # the third attempt would come 180 s after the event
    record = json.loads(failures.receive(10)[0].body)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"


def test_the_dead_letter_queue_gets_the_event_itself(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("dead")
    handler = Handler(fail=True)
    function = broker.function("on-order", handler, maximum_retry_attempts=0, dead_letter_config=dlq.arn)
    put_order(route_to(broker, function.arn))
    broker.run_functions()
    (message,) = dlq.receive(10, message_attribute_names=["All"])
    assert json.loads(message.body) == handler.events[0]
    attributes = message.message_attributes
    assert attributes["ErrorMessage"]["StringValue"] == "boom"
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["RequestID"]["StringValue"]


def test_a_successful_event_goes_nowhere_else(broker: Broker) -> None:
    failures = broker.queue("failures")
    handler = Handler()
    function = broker.function("on-order", handler, on_failure=failures.arn)
    put_order(route_to(broker, function.arn))
    broker.run_functions()
    assert len(handler.events) == 1
    assert failures.peek() == []


def test_a_target_naming_no_function_fails_the_delivery_not_put_events(broker: Broker) -> None:
    dlq = broker.queue("rule-dlq")
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    missing = f"arn:aws:lambda:{broker.region}:{broker.account}:function:nobody"
    bus.put_targets("orders", [{"Id": "f", "Arn": missing, "DeadLetterConfig": {"Arn": dlq.arn}}])
    assert put_order(bus)["FailedEntryCount"] == 0
    (message,) = dlq.receive(10, message_attribute_names=["All"])
    assert message.message_attributes["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"


def test_the_pool_runs_asynchronous_events(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    handler = Handler()
    function = broker.function("on-order", handler)
    put_order(route_to(broker, function.arn))
    assert broker.wait_until_idle(timeout=30) is True
    assert len(handler.events) == 1


# ---------------------------------------------------------------------------------- SNS


def test_a_topic_invokes_a_subscribed_function_with_lambdas_sns_event(broker: Broker) -> None:
    handler = Handler()
    function = broker.function("notify", handler)
    topic = broker.topic("alerts")
    subscription = topic.subscribe(function.arn)
    assert (subscription.protocol, subscription.endpoint) == ("lambda", function.arn)
    assert topic.subscribe(function) == subscription  # the Function object names the same endpoint
    sent = topic.publish(
        "disk full", message_attributes={"severity": {"DataType": "String", "StringValue": "high"}}
    )
    broker.run_functions()
    (event,) = handler.events
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == subscription.subscription_arn
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == sent.message_id
    assert sns["TopicArn"] == topic.arn
    assert sns["Subject"] is None
    assert sns["Message"] == "disk full"
    assert sns["MessageAttributes"] == {"severity": {"Type": "String", "Value": "high"}}
    assert {"Timestamp", "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl"} <= set(sns)
    assert subscription.delivered_count == 1


def test_publish_never_fails_because_the_function_did(broker: Broker, clock: FakeClock) -> None:
    failures = broker.queue("failures")
    handler = Handler(fail=True)
    function = broker.function("notify", handler, maximum_retry_attempts=1, on_failure=failures)
    topic = broker.topic("alerts")
    topic.subscribe(function)
    topic.publish("disk full", subject="ops")
    broker.run_functions()
    clock.advance(60)
    broker.run_functions()
    assert len(handler.events) == 2
    record = json.loads(failures.receive(10)[0].body)
    assert record["requestPayload"]["Records"][0]["Sns"]["Subject"] == "ops"


def test_a_subscribed_function_the_broker_lacks_fails_the_delivery(broker: Broker) -> None:
    dlq = broker.queue("sns-dlq")
    topic = broker.topic("alerts")
    missing = f"arn:aws:lambda:{broker.region}:{broker.account}:function:nobody"
    subscription = topic.subscribe(missing, redrive_policy={"deadLetterTargetArn": dlq.arn})
    topic.publish("disk full")
    assert subscription.delivered_count == 0
    assert json.loads(dlq.receive(10)[0].body)["Message"] == "disk full"


def test_a_filter_policy_chooses_what_the_function_gets(broker: Broker) -> None:
    handler = Handler()
    function = broker.function("notify", handler)
    topic = broker.topic("alerts")
    topic.subscribe(function, filter_policy={"severity": ["high"]})
    for severity in ("low", "high"):
        topic.publish(
            severity, message_attributes={"severity": {"DataType": "String", "StringValue": severity}}
        )
    broker.run_functions()
    assert [event["Records"][0]["Sns"]["Message"] for event in handler.events] == ["high"]
