"""Event source mappings from Kinesis streams, as Lambda runs them (docs/functions.md): the
record's shape, shard order and checkpoints, starting positions, retries of a failing batch,
bisecting, retry and age limits with the OnFailure destination, partial batch responses,
filters on ``data`` and resharding. Driven by ``run_functions()`` on a fake clock, on every
store."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import FakeClock
from rulebus import Broker, Stream


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False)


class Recorder:
    """A handler recording the data of each batch; ``reply(datas)`` answers (or raises)."""

    def __init__(self, reply: Callable[[list[str]], Any] = lambda datas: None) -> None:
        self.events: list[dict[str, Any]] = []
        self.reply = reply

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.reply(datas(event))

    def batches(self) -> list[list[str]]:
        return [datas(event) for event in self.events]


def datas(event: dict[str, Any]) -> list[str]:
    return [base64.b64decode(record["kinesis"]["data"]).decode() for record in event["Records"]]


def fail_on(bad: str) -> Callable[[list[str]], Any]:
    def reply(batch: list[str]) -> Any:
        if bad in batch:
            raise RuntimeError(f"cannot take {bad}")

    return reply


def mapped(broker: Broker, stream: Stream, handler: Recorder, **settings: Any) -> dict[str, Any]:
    broker.function("worker", handler)
    settings.setdefault("starting_position", "TRIM_HORIZON")
    return broker.create_event_source_mapping(function_name="worker", event_source_arn=stream, **settings)


def put(stream: Stream, *items: str, key: str = "k") -> list[str]:
    return [stream.put_record(item.encode(), partition_key=key)["SequenceNumber"] for item in items]


def test_the_event_is_lambdas_kinesis_event(broker: Broker) -> None:
    stream = broker.stream("clicks")
    handler = Recorder()
    mapping = mapped(broker, stream, handler)
    assert mapping["batch_size"] == 100
    assert mapping["starting_position"] == "TRIM_HORIZON"
    assert (mapping["maximum_retry_attempts"], mapping["maximum_record_age_in_seconds"]) == (-1, -1)
    (sequence,) = put(stream, '{"page": "/"}', key="user-1")
    assert broker.run_functions() == 1
    ((record,),) = [event["Records"] for event in handler.events]
    shard = stream.describe()["Shards"][0]["ShardId"]
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "user-1",
            "sequenceNumber": sequence,
            "data": base64.b64encode(b'{"page": "/"}').decode(),
            "approximateArrivalTimestamp": record["kinesis"]["approximateArrivalTimestamp"],
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": record["invokeIdentityArn"],
        "awsRegion": broker.region,
        "eventSourceARN": stream.arn,
    }
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    json.dumps(handler.events)


def test_a_shard_is_read_in_order_from_its_checkpoint(broker: Broker) -> None:
    stream = broker.stream("clicks")
    handler = Recorder()
    mapped(broker, stream, handler, batch_size=2)
    put(stream, "a", "b", "c")
    assert broker.run_functions() == 2
    put(stream, "d")
    assert broker.run_functions() == 1
    assert handler.batches() == [["a", "b"], ["c"], ["d"]]
    assert broker.run_functions() == 0


def test_latest_starts_with_what_arrives_after_the_mapping(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    put(stream, "before")
    clock.advance(1)
    handler = Recorder()
    mapped(broker, stream, handler, starting_position="LATEST")
    clock.advance(1)
    put(stream, "after")
    broker.run_functions()
    assert handler.batches() == [["after"]]


def test_a_failing_batch_is_tried_again_until_it_succeeds(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    attempts: list[int] = []

    def reply(batch: list[str]) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    handler = Recorder(reply)
    mapped(broker, stream, handler)
    put(stream, "a", "b")
    assert broker.run_functions() == 1
    assert broker.run_functions() == 0  # waits for its retry (1 s, then 2 s)
    clock.advance(1)
    assert broker.run_functions() == 1
    clock.advance(2)
    assert broker.run_functions() == 1
    put(stream, "c")
    broker.run_functions()
    assert handler.batches() == [["a", "b"], ["a", "b"], ["a", "b"], ["c"]]


def test_retries_run_out_and_the_batch_goes_to_the_destination(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    failures = broker.queue("failures")
    handler = Recorder(fail_on("bad"))
    mapped(
        broker,
        stream,
        handler,
        maximum_retry_attempts=1,
        destination_config={"OnFailure": {"Destination": failures.arn}},
    )
    sequences = put(stream, "bad", "other")
    broker.run_functions()
    clock.advance(1)
    broker.run_functions()
    assert len(handler.events) == 2  # the first try and one retry
    put(stream, "next")
    broker.run_functions()
    assert handler.batches()[-1] == ["next"]  # the failed batch was skipped
    record = json.loads(failures.receive(10)[0].body)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == tuple(sequences)
    assert info["batchSize"] == 2
    assert info["streamArn"] == stream.arn
    assert info["shardId"] == stream.describe()["Shards"][0]["ShardId"]


def test_records_too_old_are_skipped(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    failures = broker.queue("failures")
    handler = Recorder(fail_on("bad"))
    mapped(
        broker,
        stream,
        handler,
        maximum_record_age_in_seconds=60,
        destination_config={"OnFailure": {"Destination": failures.arn}},
    )
    put(stream, "bad")
    broker.run_functions()
    clock.advance(61)
    broker.run_functions()
    record = json.loads(failures.receive(10)[0].body)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"


def test_bisecting_isolates_the_bad_record(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    failures = broker.queue("failures")
    handler = Recorder(fail_on("X"))
    mapped(
        broker,
        stream,
        handler,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=2,
        destination_config={"OnFailure": {"Destination": failures.arn}},
    )
    put(stream, "a", "b", "c", "X")
    for _ in range(4):
        broker.run_functions()
        clock.advance(2)
    assert handler.batches() == [["a", "b", "c", "X"], ["a", "b"], ["c", "X"], ["c"], ["X"]]
    info = json.loads(failures.receive(10)[0].body)["KinesisBatchInfo"]
    assert info["batchSize"] == 1


def test_batch_item_failures_resume_from_the_lowest_reported(broker: Broker, clock: FakeClock) -> None:
    stream = broker.stream("clicks")
    sequences: list[str] = []

    def reply(batch: list[str]) -> Any:
        if batch[0] == "a":
            return {"batchItemFailures": [{"itemIdentifier": sequences[2]}, {"itemIdentifier": sequences[1]}]}
        return None

    handler = Recorder(reply)
    mapped(broker, stream, handler, function_response_types=["ReportBatchItemFailures"])
    sequences.extend(put(stream, "a", "b", "c"))
    broker.run_functions()
    clock.advance(1)
    broker.run_functions()
    assert handler.batches() == [["a", "b", "c"], ["b", "c"]]


def test_filters_match_the_decoded_data(broker: Broker) -> None:
    stream = broker.stream("clicks")
    handler = Recorder()
    mapped(
        broker, stream, handler, filter_criteria={"Filters": [{"Pattern": '{"data": {"kind": ["click"]}}'}]}
    )
    put(stream, '{"kind": "click"}', '{"kind": "view"}', "plain text")
    broker.run_functions()
    assert handler.batches() == [['{"kind": "click"}']]
    put(stream, '{"kind": "view"}')
    assert broker.run_functions() == 1  # read and skipped: nothing invoked
    assert len(handler.events) == 1


def test_children_are_read_after_their_parent(broker: Broker) -> None:
    stream = broker.stream("clicks")
    handler = Recorder()
    mapped(broker, stream, handler)
    put(stream, "old-1", "old-2")
    stream.update_shard_count(2)
    put(stream, "new-1", key="a")
    put(stream, "new-2", key="b")
    broker.run_functions()
    batches = handler.batches()
    assert batches[0] == ["old-1", "old-2"]
    assert sorted(item for batch in batches[1:] for item in batch) == ["new-1", "new-2"]
    assert broker.run_functions() == 0


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"starting_position": None}, "ValidationException"),
        ({"starting_position": "EARLIEST"}, "ValidationException"),
        ({"starting_position": "AT_TIMESTAMP"}, "ValidationException"),
        ({"parallelization_factor": 11}, "ValidationException"),
        ({"maximum_retry_attempts": 10001}, "ValidationException"),
        ({"maximum_record_age_in_seconds": 30}, "InvalidParameterValueException"),
        ({"scaling_config": {"MaximumConcurrency": 2}}, "InvalidParameterValueException"),
    ],
)
def test_stream_settings_lambda_refuses(broker: Broker, settings: dict[str, Any], code: str) -> None:
    stream = broker.stream("clicks")
    broker.function("worker", Recorder())
    settings = {"starting_position": "TRIM_HORIZON", **settings}
    with aws_error(code):
        broker.create_event_source_mapping(function_name="worker", event_source_arn=stream.arn, **settings)
    assert broker.list_event_source_mappings() == []


def test_a_queue_takes_no_stream_settings(broker: Broker) -> None:
    queue = broker.queue("orders")
    broker.function("worker", Recorder())
    with aws_error("InvalidParameterValueException"):
        broker.create_event_source_mapping(
            function_name="worker", event_source_arn=queue.arn, starting_position="LATEST"
        )


def test_one_mapping_per_stream_and_function(broker: Broker) -> None:
    stream = broker.stream("clicks")
    first = mapped(broker, stream, Recorder())
    message = (
        f'The event source arn (" {stream.arn} ") and function (" worker ") provided mapping already exists. '
        f"Please update or delete the existing mapping with UUID {first['uuid']}"
    )
    with aws_error("ResourceConflictException", message):
        broker.create_event_source_mapping(
            function_name="worker", event_source_arn=stream.arn, starting_position="LATEST"
        )
