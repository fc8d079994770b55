"""Enhanced fan-out (python/rulebus/kinesis/fan_out.py) on every store: registered consumers
(RegisterStreamConsumer and the rest) and SubscribeToShard's events, read through the store so
that a subscription sees records any broker on the file puts."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

import pytest
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker
from rulebus.kinesis import fan_out
from rulebus.kinesis.fan_out import MAX_CONSUMERS_PER_STREAM, consumer_arn_parts
from rulebus.kinesis.stream import Stream

SHARD = "shardId-000000000000"


@pytest.fixture
def stream(broker: Broker) -> Stream:
    return broker.stream("clicks", shards=1)


def data(event: dict[str, Any]) -> list[bytes]:
    return [record["Data"] for record in event["Records"]]


def test_register_describe_list_and_deregister(broker: Broker, stream: Stream, clock: FakeClock) -> None:
    consumer = stream.register_consumer("app")
    arn = consumer["ConsumerARN"]
    assert arn == f"{stream.arn}/consumer/app:{int(clock())}"
    assert consumer_arn_parts(arn) == ("us-east-1", "000000000000", "clicks", "app", int(clock()))
    assert consumer["ConsumerStatus"] == "ACTIVE" and "StreamARN" not in consumer
    clock.advance(5)
    stream.register_consumer("other")
    assert [c["ConsumerName"] for c in stream.consumers()] == ["app", "other"]
    assert stream.describe_summary()["ConsumerCount"] == 2
    by_name = stream.describe_consumer("app")
    assert by_name == stream.describe_consumer(consumer_arn=arn)
    assert by_name["StreamARN"] == stream.arn
    with pytest.raises(AwsError) as raised:
        stream.register_consumer("app")
    assert raised.value.code == "ResourceInUseException"
    stream.deregister_consumer(consumer_arn=arn)
    assert [c["ConsumerName"] for c in stream.consumers()] == ["other"]
    with pytest.raises(AwsError) as raised:
        stream.describe_consumer(consumer_arn=arn)
    assert raised.value.code == "ResourceNotFoundException"
    # Registered again later, the consumer has a new ARN; the old one names nothing.
    clock.advance(5)
    again = stream.register_consumer("app")
    assert again["ConsumerARN"] != arn
    with pytest.raises(AwsError):
        stream.describe_consumer(consumer_arn=arn)


def test_consumer_names_and_the_limit(stream: Stream) -> None:
    for bad in ("", "a b", "x" * 129):
        with pytest.raises(AwsError) as raised:
            stream.register_consumer(bad)
        assert raised.value.code == "ValidationException"
    for n in range(MAX_CONSUMERS_PER_STREAM):
        stream.register_consumer(f"c{n}")
    with pytest.raises(AwsError) as raised:
        stream.register_consumer("one-too-many")
    assert raised.value.code == "LimitExceededException"
    assert len(stream.consumers()) == MAX_CONSUMERS_PER_STREAM


def test_consumers_go_with_their_stream(broker: Broker, stream: Stream) -> None:
    stream.register_consumer("app")
    with pytest.raises(AwsError) as raised:
        broker.delete_stream("clicks")
    assert raised.value.code == "ResourceInUseException"
    broker.delete_stream("clicks", enforce_consumer_deletion=True)
    recreated = broker.stream("clicks")
    assert recreated.consumers() == []
    recreated.register_consumer("app")  # the name is free again


def test_subscribe_from_each_starting_position(stream: Stream) -> None:
    arn = stream.register_consumer("app")["ConsumerARN"]
    first = stream.put_record(b"one", "k")
    stream.put_records([{"Data": b"two", "PartitionKey": "k"}, {"Data": b"three", "PartitionKey": "k"}])

    def first_event(position: dict[str, Any]) -> dict[str, Any]:
        return next(iter(stream.subscribe_to_shard(arn, SHARD, position)))

    horizon = first_event({"Type": "TRIM_HORIZON"})
    assert data(horizon) == [b"one", b"two", b"three"]
    assert horizon["ContinuationSequenceNumber"] == horizon["Records"][-1]["SequenceNumber"]
    assert horizon["MillisBehindLatest"] == 0
    at = first_event({"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": first["SequenceNumber"]})
    assert data(at) == [b"one", b"two", b"three"]
    after = first_event({"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": first["SequenceNumber"]})
    assert data(after) == [b"two", b"three"]
    when = first_event({"Type": "AT_TIMESTAMP", "Timestamp": 0})
    assert data(when) == [b"one", b"two", b"three"]


def test_records_come_as_they_are_put_and_continuation_resumes(
    stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fan_out, "HEARTBEAT_SECONDS", 0.05)
    arn = stream.register_consumer("app")["ConsumerARN"]
    subscription = stream.subscribe_to_shard(arn, SHARD, {"Type": "LATEST"})
    events = iter(subscription)
    empty = next(events)  # nothing put yet: an event without records
    assert empty["Records"] == []
    # Before any record, the continuation resumes at the shard's beginning.
    resumed = stream.subscribe_to_shard(
        arn, SHARD, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": empty["ContinuationSequenceNumber"]}
    )
    stream.put_record(b"a", "k")
    assert data(next(events)) == [b"a"]
    assert data(next(iter(resumed))) == [b"a"]
    subscription.close()
    assert list(events) == []


def test_a_subscription_waits_for_a_put_from_another_thread(stream: Stream) -> None:
    arn = stream.register_consumer("app")["ConsumerARN"]
    subscription = stream.subscribe_to_shard(arn, SHARD, {"Type": "LATEST"})
    putter = threading.Timer(0.2, lambda: stream.put_record(b"later", "k"))
    putter.start()
    event = next(iter(subscription))
    putter.join()
    assert data(event) == [b"later"]


def test_a_closed_shard_ends_with_its_children(stream: Stream) -> None:
    arn = stream.register_consumer("app")["ConsumerARN"]
    stream.put_record(b"before", "k")
    stream.split_shard(SHARD, str(2**127))
    (event,) = list(stream.subscribe_to_shard(arn, SHARD, {"Type": "TRIM_HORIZON"}))
    assert data(event) == [b"before"]
    assert event["ContinuationSequenceNumber"] is None
    children = {
        shard["ShardId"] for shard in stream.describe()["Shards"] if shard.get("ParentShardId") == SHARD
    }
    assert {child["ShardId"] for child in event["ChildShards"]} == children and len(children) == 2


def test_the_subscription_lasts_five_minutes_of_the_clock(stream: Stream, clock: FakeClock) -> None:
    arn = stream.register_consumer("app")["ConsumerARN"]
    subscription = stream.subscribe_to_shard(arn, SHARD, {"Type": "TRIM_HORIZON"})
    stream.put_record(b"x", "k")
    events = iter(subscription)
    assert data(next(events)) == [b"x"]
    clock.advance(fan_out.SUBSCRIPTION_SECONDS)
    assert list(events) == []


def test_events_async(stream: Stream, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fan_out, "HEARTBEAT_SECONDS", 30.0)
    arn = stream.register_consumer("app")["ConsumerARN"]
    subscription = stream.subscribe_to_shard(arn, SHARD, {"Type": "LATEST"})

    async def run() -> list[bytes]:
        async def put_later() -> None:
            await asyncio.sleep(0.1)
            stream.put_record(b"async", "k")

        task = asyncio.ensure_future(put_later())
        async for event in subscription.events_async():
            await task
            return data(event)
        return []

    assert asyncio.run(run()) == [b"async"]


def test_subscribe_errors(stream: Stream) -> None:
    arn = stream.register_consumer("app")["ConsumerARN"]
    cases: list[tuple[Callable[[], Any], str]] = [
        (
            lambda: stream.subscribe_to_shard(arn + "0", SHARD, {"Type": "LATEST"}),
            "ResourceNotFoundException",
        ),
        (
            lambda: stream.subscribe_to_shard(arn, "shardId-000000000009", {"Type": "LATEST"}),
            "ResourceNotFoundException",
        ),
        (lambda: stream.subscribe_to_shard(arn, SHARD, {"Type": "SOMEWHERE"}), "ValidationException"),
        (
            lambda: stream.subscribe_to_shard(arn, SHARD, {"Type": "AT_SEQUENCE_NUMBER"}),
            "InvalidArgumentException",
        ),
    ]
    for call, code in cases:
        with pytest.raises(AwsError) as raised:
            call()
        assert raised.value.code == code


def test_a_stream_deleted_under_a_subscription_ends_it_with_an_error(broker: Broker, stream: Stream) -> None:
    arn = stream.register_consumer("app")["ConsumerARN"]
    subscription = stream.subscribe_to_shard(arn, SHARD, {"Type": "TRIM_HORIZON"})
    broker.delete_stream("clicks", enforce_consumer_deletion=True)
    with pytest.raises(AwsError) as raised:
        next(iter(subscription))
    assert raised.value.code == "ResourceNotFoundException"
