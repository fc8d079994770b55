"""Streams as the destination of an event bus's target and of a topic's subscription (issue 6),
on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker
from rulebus.kinesis.stream import Stream


@pytest.fixture(params=["memory", "sqlite", "redis"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    path = tmp_path / "rulebus.db" if request.param == "sqlite" else None
    store = request.getfixturevalue("redis_url") if request.param == "redis" else None
    with Broker(path, store=store, clock=FakeClock(), background_retries=False) as opened:
        yield opened


def everything(stream: Stream) -> list[dict[str, Any]]:
    consumer = stream.consumer("test")
    try:
        return [
            {"PartitionKey": r["PartitionKey"], "Data": r["Data"].decode("utf-8")}
            for r in consumer.records(stop_at_end=True)
        ]
    finally:
        consumer.close()


def test_bus_target_with_a_partition_key_path(broker: Broker) -> None:
    stream = broker.stream("orders", shards=2)
    bus = broker.event_bus("shop")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "r",
        [
            {"Id": "keyed", "Arn": stream, "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"}},
            {"Id": "by-id", "Arn": stream.arn, "InputPath": "$.detail"},
        ],
    )
    result = bus.put_events(
        [{"Source": "com.shop", "DetailType": "Order", "Detail": json.dumps({"customer": "c-7", "n": 1})}]
    )
    event_id = result["Entries"][0]["EventId"]
    records = everything(stream)
    assert sorted(r["PartitionKey"] for r in records) == sorted(["c-7", event_id])
    keyed = next(r for r in records if r["PartitionKey"] == "c-7")
    assert json.loads(keyed["Data"])["id"] == event_id  # the whole event
    by_id = next(r for r in records if r["PartitionKey"] == event_id)
    assert json.loads(by_id["Data"]) == {"customer": "c-7", "n": 1}


def test_bus_target_stream_gone_is_not_retried(broker: Broker) -> None:
    dlq = broker.queue("dlq")
    bus = broker.event_bus("shop")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    gone = "arn:aws:kinesis:us-east-1:000000000000:stream/gone"
    bus.put_targets("r", [{"Id": "s", "Arn": gone, "DeadLetterConfig": {"Arn": dlq.arn}}])
    bus.put_events([{"Source": "com.shop", "DetailType": "Order", "Detail": "{}"}])
    [message] = dlq.receive(message_attribute_names=["All"])
    assert message.message_attributes["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"
    assert bus.pending_retries() == 0


def test_invalid_partition_key_path(broker: Broker) -> None:
    bus = broker.event_bus("shop")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    with pytest.raises(AwsError, match="PartitionKeyPath for target s is invalid"):
        bus.put_targets(
            "r",
            [{"Id": "s", "Arn": broker.stream("x").arn, "KinesisParameters": {"PartitionKeyPath": "detail"}}],
        )


def test_topic_subscription_writes_to_a_stream(broker: Broker) -> None:
    stream = broker.stream("notifications")
    topic = broker.topic("alerts")
    enveloped = topic.subscribe(stream)
    assert (enveloped.protocol, enveloped.endpoint) == ("kinesis", stream.arn)
    raw_stream = broker.stream("raw")
    topic.subscribe(raw_stream.arn, raw_message_delivery=True, filter_policy={"level": ["high"]})
    first = topic.publish(
        "disk full", message_attributes={"level": {"DataType": "String", "StringValue": "high"}}
    )
    second = topic.publish(
        "cpu warm", message_attributes={"level": {"DataType": "String", "StringValue": "low"}}
    )
    records = everything(stream)
    assert [r["PartitionKey"] for r in records] == [first.message_id, second.message_id]
    assert [json.loads(r["Data"])["Message"] for r in records] == ["disk full", "cpu warm"]
    assert everything(raw_stream) == [{"PartitionKey": first.message_id, "Data": "disk full"}]
