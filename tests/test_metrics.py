"""Metrics by CloudWatch's names (``Broker.metrics``, ``Broker.metrics_text``) on every store: each
counter moves with the calls that count it, the gauges are the store's, and the counters belong to
the broker's process (docs/observability.md)."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker
from rulebus.metrics import prometheus


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_retries=False)


def sqs(broker: Broker, queue: str) -> dict[str, float]:
    return broker.metrics()["AWS/SQS"][f"QueueName={queue}"]


def attr(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def test_sqs_counters_and_gauges(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("orders")
    assert sqs(broker, "orders") == {
        "NumberOfMessagesSent": 0,
        "NumberOfMessagesReceived": 0,
        "NumberOfMessagesDeleted": 0,
        "NumberOfEmptyReceives": 0,
        "ApproximateNumberOfMessagesVisible": 0,
        "ApproximateNumberOfMessagesNotVisible": 0,
        "ApproximateNumberOfMessagesDelayed": 0,
        "ApproximateAgeOfOldestMessage": 0,
    }
    queue.send("a")
    clock.advance(30)
    queue.send_batch([{"Id": "1", "MessageBody": "b"}, {"Id": "2", "MessageBody": "c"}])
    queue.send("later", delay_seconds=60)
    clock.advance(15)
    received = queue.receive(max_messages=2)
    queue.delete(received[0].receipt_handle)
    queue.delete_batch([{"Id": "x", "ReceiptHandle": received[1].receipt_handle}])
    queue.receive()
    queue.receive()  # nothing visible now: an empty receive
    metrics = sqs(broker, "orders")
    assert metrics == {
        "NumberOfMessagesSent": 4,
        "NumberOfMessagesReceived": 3,
        "NumberOfMessagesDeleted": 2,
        "NumberOfEmptyReceives": 1,
        "ApproximateNumberOfMessagesVisible": 0,
        "ApproximateNumberOfMessagesNotVisible": 1,
        "ApproximateNumberOfMessagesDelayed": 1,
        "ApproximateAgeOfOldestMessage": 15,  # "c", sent 15 s ago, is the oldest left
    }


def test_sns_counters_and_the_queues_they_deliver_to(broker: Broker) -> None:
    topic = broker.topic("alerts")
    high, low = broker.queue("high"), broker.queue("low")
    topic.subscribe(high, filter_policy={"level": ["high"]})
    topic.subscribe(low)
    topic.publish("one", message_attributes={"level": attr("high")})
    topic.publish_batch([{"Id": "1", "Message": "two"}, {"Id": "2", "Message": "three"}])
    metrics = broker.metrics()
    assert metrics["AWS/SNS"]["TopicName=alerts"] == {
        "NumberOfMessagesPublished": 3,
        "NumberOfNotificationsDelivered": 4,
        "NumberOfNotificationsFailed": 0,
        "NumberOfNotificationsFilteredOut": 2,
        "NumberOfNotificationsRedrivenToDlq": 0,
        "NumberOfNotificationsFailedToRedriveToDlq": 0,
    }
    assert metrics["AWS/SQS"]["QueueName=high"]["NumberOfMessagesSent"] == 1
    assert metrics["AWS/SQS"]["QueueName=low"]["NumberOfMessagesSent"] == 3
    assert metrics["AWS/SQS"]["QueueName=low"]["ApproximateNumberOfMessagesVisible"] == 3


def test_sns_failed_deliveries_are_counted(broker: Broker) -> None:
    topic = broker.topic("alerts")
    dlq = broker.queue("dlq")

    def broken(notification: Any) -> None:
        raise RuntimeError("no")

    def also_broken(notification: Any) -> None:
        raise RuntimeError("no")

    topic.subscribe(broken)
    topic.subscribe(also_broken, redrive_policy={"deadLetterTargetArn": dlq.arn})
    topic.subscribe(
        "arn:aws:sqs:us-east-1:000000000000:missing",
        redrive_policy={"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:gone"},
    )
    topic.publish("x")
    counts = broker.metrics()["AWS/SNS"]["TopicName=alerts"]
    assert counts["NumberOfNotificationsFailed"] == 3
    assert counts["NumberOfNotificationsRedrivenToDlq"] == 1
    assert counts["NumberOfNotificationsFailedToRedriveToDlq"] == 1
    assert counts["NumberOfNotificationsDelivered"] == 0
    assert broker.metrics()["AWS/SQS"]["QueueName=dlq"]["ApproximateNumberOfMessagesVisible"] == 1


def test_bus_metrics_and_the_queues_its_rules_deliver_to(broker: Broker) -> None:
    bus = broker.event_bus("shop")
    whole, shaped = broker.queue("whole"), broker.queue("shaped")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    targets = [{"Id": "w", "Arn": whole}, {"Id": "s", "Arn": shaped, "InputPath": "$.detail"}]
    bus.put_targets("orders", targets)
    entries = [
        {"Source": "com.shop", "DetailType": "Order", "Detail": json.dumps({"n": n})} for n in range(3)
    ]
    bus.put_events(entries)
    bus.put_events([{"Source": "com.other", "DetailType": "Order", "Detail": "{}"}])
    metrics = broker.metrics()
    shop = metrics["AWS/Events"]["EventBusName=shop"]
    assert (shop["MatchedEvents"], shop["TriggeredRules"], shop["Invocations"]) == (3, 3, 6)
    assert shop["FailedInvocations"] == 0
    assert metrics["AWS/SQS"]["QueueName=whole"]["NumberOfMessagesSent"] == 3
    assert metrics["AWS/SQS"]["QueueName=shaped"]["NumberOfMessagesSent"] == 3
    assert metrics["AWS/Events"]["EventBusName=default"]["Invocations"] == 0


def test_each_rule_counts_its_own_matches_and_invocations(broker: Broker) -> None:
    """Whole events into standard queues: put_events' fast lane, counted per request."""
    bus = broker.event_bus("shop")
    orders, everything, audit = broker.queue("orders"), broker.queue("everything"), broker.queue("audit")
    bus.put_rule("orders", event_pattern={"detail-type": ["Order"]})
    bus.put_targets("orders", [{"Id": "o", "Arn": orders.arn}])
    bus.put_rule("all", event_pattern={"source": ["com.shop"]})
    bus.put_targets("all", [{"Id": "e", "Arn": everything.arn}, {"Id": "a", "Arn": audit.arn}])
    bus.put_rule("idle", event_pattern={"source": ["nobody"]})
    bus.put_events(
        [{"Source": "com.shop", "DetailType": "Order", "Detail": "{}"} for _ in range(3)]
        + [{"Source": "com.shop", "DetailType": "Refund", "Detail": "{}"}]
    )
    events = broker.metrics()["AWS/Events"]
    rule = {name: events[f"EventBusName=shop,RuleName={name}"] for name in ("orders", "all", "idle")}
    assert [(r["MatchedEvents"], r["TriggeredRules"], r["Invocations"]) for r in rule.values()] == [
        (3, 3, 3),
        (4, 4, 8),
        (0, 0, 0),
    ]
    shop = events["EventBusName=shop"]
    assert (shop["MatchedEvents"], shop["TriggeredRules"], shop["Invocations"]) == (4, 7, 11)
    for _ in range(300):  # more requests than the fast lane keeps before it counts them
        bus.put_events([{"Source": "com.shop", "DetailType": "Refund", "Detail": "{}"}])
    assert broker.metrics()["AWS/Events"]["EventBusName=shop,RuleName=all"]["Invocations"] == 8 + 600


def test_a_rules_failed_invocations_and_dead_letters(broker: Broker) -> None:
    dlq = broker.queue("dlq")
    missing = f"arn:aws:sqs:{broker.region}:{broker.account}:missing"
    bus = broker.event_bus("default")
    bus.put_rule("lost", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "lost",
        [
            {"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dlq.arn}},
            {"Id": "nowhere", "Arn": missing, "DeadLetterConfig": {"Arn": missing}},
        ],
    )
    bus.put_rule("fine", event_pattern={"source": ["com.shop"]})
    bus.put_targets("fine", [{"Id": "q", "Arn": broker.queue("fine").arn, "InputPath": "$.detail"}])
    bus.put_events([{"Source": "com.shop", "DetailType": "Order", "Detail": "{}"}])
    events = broker.metrics()["AWS/Events"]
    lost, fine = events["RuleName=lost"], events["RuleName=fine"]  # the default bus: RuleName alone
    assert (lost["Invocations"], lost["FailedInvocations"]) == (2, 2)
    assert (lost["InvocationsSentToDLQ"], lost["InvocationsFailedToBeSentToDLQ"]) == (1, 1)
    assert (fine["Invocations"], fine["FailedInvocations"], fine["InvocationsSentToDLQ"]) == (1, 0, 0)
    default = events["EventBusName=default"]
    assert (default["Invocations"], default["FailedInvocations"], default["TriggeredRules"]) == (3, 2, 2)


def test_kinesis_counters_and_iterator_age(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    stream.put_record(b"a", partition_key="k")
    stream.put_records([{"Data": b"b", "PartitionKey": "k"}, {"Data": b"c", "PartitionKey": "k"}])
    clock.advance(2)
    iterator = stream.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    read = stream.get_records(iterator, limit=2)
    assert len(read["Records"]) == 2
    counts = broker.metrics()["AWS/Kinesis"]["StreamName=clicks"]
    assert counts == {
        "IncomingRecords": 3,
        "GetRecords.Records": 2,
        "GetRecords.IteratorAgeMilliseconds": 2000,
    }


def test_counters_belong_to_the_broker_that_counted(make_broker: Callable[..., Broker]) -> None:
    first = make_broker()
    first.queue("orders").send("a")
    second = make_broker()
    counted = {broker: broker.metrics()["AWS/SQS"].get("QueueName=orders") for broker in (first, second)}
    assert counted[first] is not None and counted[first]["NumberOfMessagesSent"] == 1
    if counted[second] is not None:  # the same store (an SQLite file): its gauges, not its counts
        assert counted[second]["NumberOfMessagesSent"] == 0
        assert counted[second]["ApproximateNumberOfMessagesVisible"] == 1


def test_a_mistyped_queue_name_leaves_no_metrics(broker: Broker) -> None:
    with pytest.raises(AwsError):
        broker.get_queue("ordrs")
    assert broker.metrics()["AWS/SQS"] == {}


def test_prometheus_text() -> None:
    text = prometheus(
        {
            "AWS/SQS": {
                'QueueName=a"b': {"NumberOfMessagesSent": 3, "ApproximateNumberOfMessagesVisible": 1},
                "QueueName=c": {"NumberOfMessagesSent": 0, "ApproximateNumberOfMessagesVisible": 0},
            },
            "AWS/Events": {
                "EventBusName=default": {"InvocationsSentToDLQ": 2},
                "RuleName=r": {"InvocationsSentToDLQ": 1},
                "EventBusName=shop,RuleName=s": {"InvocationsSentToDLQ": 0},
            },
            "AWS/Kinesis": {"StreamName=s": {"GetRecords.Records": 5}},
        }
    )
    assert text == (
        "# TYPE rulebus_events_invocations_sent_to_dlq_total counter\n"
        'rulebus_events_invocations_sent_to_dlq_total{bus="default"} 2\n'
        "# TYPE rulebus_events_rule_invocations_sent_to_dlq_total counter\n"
        'rulebus_events_rule_invocations_sent_to_dlq_total{bus="default",rule="r"} 1\n'
        'rulebus_events_rule_invocations_sent_to_dlq_total{bus="shop",rule="s"} 0\n'
        "# TYPE rulebus_kinesis_get_records_records_total counter\n"
        'rulebus_kinesis_get_records_records_total{stream="s"} 5\n'
        "# TYPE rulebus_sqs_approximate_number_of_messages_visible gauge\n"
        'rulebus_sqs_approximate_number_of_messages_visible{queue="a\\"b"} 1\n'
        'rulebus_sqs_approximate_number_of_messages_visible{queue="c"} 0\n'
        "# TYPE rulebus_sqs_number_of_messages_sent_total counter\n"
        'rulebus_sqs_number_of_messages_sent_total{queue="a\\"b"} 3\n'
        'rulebus_sqs_number_of_messages_sent_total{queue="c"} 0\n'
    )


def test_metrics_text_is_the_brokers_metrics(broker: Broker) -> None:
    broker.queue("orders").send("a")
    text = broker.metrics_text()
    assert 'rulebus_sqs_number_of_messages_sent_total{queue="orders"} 1\n' in text
    assert 'rulebus_events_invocations_total{bus="default"} 0\n' in text
    assert text == prometheus(broker.metrics())
