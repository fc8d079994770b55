"""Lambda's metrics per function (``broker.metrics()["AWS/Lambda"]``, docs/observability.md):
invocations, errors, duration, concurrency, throttles and the asynchronous invocations' metrics,
on every store, driven by ``run_functions()`` on a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from rulebus import Broker


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False, background_retries=False)


def lambda_metrics(broker: Broker, name: str) -> dict[str, float]:
    return broker.metrics()["AWS/Lambda"][f"FunctionName={name}"]


def failing(event: Any, context: Any) -> None:
    raise RuntimeError("down")


def test_a_function_reports_every_metric_from_zero(broker: Broker) -> None:
    broker.function("idle", lambda event, context: None)
    assert lambda_metrics(broker, "idle") == {
        "Invocations": 0,
        "Errors": 0,
        "Throttles": 0,
        "Duration": 0,
        "ConcurrentExecutions": 0,
        "DeadLetterErrors": 0,
        "DestinationDeliveryFailures": 0,
        "AsyncEventsReceived": 0,
        "AsyncEventAge": 0,
        "AsyncEventsDropped": 0,
    }


def test_invocations_errors_duration_and_concurrency(broker: Broker) -> None:
    seen: list[float] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.append(lambda_metrics(broker, "worker")["ConcurrentExecutions"])
        if event["Records"][0]["body"] == "bad":
            raise ValueError("bad record")

    queue = broker.queue("jobs")
    broker.function("worker", handler)
    broker.create_event_source_mapping(function_name="worker", event_source_arn=queue, batch_size=1)
    queue.send("good")
    queue.send("bad")
    assert broker.run_functions() == 2
    counts = lambda_metrics(broker, "worker")
    assert seen == [1, 1]
    assert (counts["Invocations"], counts["Errors"], counts["ConcurrentExecutions"]) == (2, 1, 0)
    assert counts["Duration"] > 0
    broker.get_function("worker").invoke({"Records": [{"body": "good"}]})
    assert lambda_metrics(broker, "worker")["Invocations"] == 3


def test_asynchronous_events_received_age_and_dropped(broker: Broker, clock: FakeClock) -> None:
    function = broker.function("on-alert", failing, maximum_retry_attempts=0)
    topic = broker.topic("alerts")
    topic.subscribe(function)
    topic.publish("disk full")
    clock.advance(2.5)
    broker.run_functions()
    counts = lambda_metrics(broker, "on-alert")
    assert counts["AsyncEventsReceived"] == 1
    assert counts["AsyncEventAge"] == 2500
    assert (counts["Invocations"], counts["Errors"], counts["AsyncEventsDropped"]) == (1, 1, 1)


def test_a_missing_dead_letter_queue_or_destination_is_counted(broker: Broker) -> None:
    missing = "arn:aws:sqs:us-east-1:000000000000:nowhere"
    broker.function("dlq-gone", failing, maximum_retry_attempts=0, dead_letter_config=missing)
    broker.function("destination-gone", failing, maximum_retry_attempts=0, on_failure=missing)
    broker.function(
        "dlq-there", failing, maximum_retry_attempts=0, dead_letter_config=broker.queue("dlq").arn
    )
    topic = broker.topic("alerts")
    for name in ("dlq-gone", "destination-gone", "dlq-there"):
        topic.subscribe(broker.get_function(name))
    topic.publish("disk full")
    broker.run_functions()
    gone = lambda_metrics(broker, "dlq-gone")
    assert (gone["DeadLetterErrors"], gone["DestinationDeliveryFailures"], gone["AsyncEventsDropped"]) == (
        1,
        0,
        1,
    )
    other = lambda_metrics(broker, "destination-gone")
    assert (other["DeadLetterErrors"], other["DestinationDeliveryFailures"], other["AsyncEventsDropped"]) == (
        0,
        1,
        1,
    )
    there = lambda_metrics(broker, "dlq-there")
    assert (there["DeadLetterErrors"], there["AsyncEventsDropped"]) == (0, 0)


def test_throttles_count_once_per_event(broker: Broker) -> None:
    handler_calls: list[Any] = []
    broker.function("paused", lambda event, context: handler_calls.append(event), reserved_concurrency=0)
    topic = broker.topic("alerts")
    topic.subscribe(broker.get_function("paused"))
    topic.publish("one")
    topic.publish("two")
    for _ in range(3):
        broker.run_functions()
    counts = lambda_metrics(broker, "paused")
    assert (counts["Throttles"], counts["Invocations"]) == (2, 0)
    assert handler_calls == []


def test_prometheus_text_names_the_function(broker: Broker) -> None:
    function = broker.function("f", lambda event, context: "ok")
    function.invoke({})
    text = broker.metrics_text()
    assert 'rulebus_lambda_invocations_total{function="f"} 1\n' in text
    assert "# TYPE rulebus_lambda_concurrent_executions gauge\n" in text
    assert 'rulebus_lambda_concurrent_executions{function="f"} 0\n' in text
    assert "# TYPE rulebus_lambda_duration_total counter\n" in text


def test_a_mapping_held_by_reserved_concurrency_counts_one_throttle_per_spell(broker: Broker) -> None:
    queue = broker.queue("jobs")
    broker.function("paused", lambda event, context: None, reserved_concurrency=0)
    broker.create_event_source_mapping(function_name="paused", event_source_arn=queue)
    for _ in range(3):
        broker.run_functions()
    assert lambda_metrics(broker, "paused")["Throttles"] == 0  # nothing waiting: not throttled
    queue.send("waiting")
    for _ in range(3):
        broker.run_functions()
    counts = lambda_metrics(broker, "paused")
    assert (counts["Throttles"], counts["Invocations"]) == (1, 0)
    assert queue.get_attributes(["ApproximateNumberOfMessages"])["ApproximateNumberOfMessages"] == "1"
