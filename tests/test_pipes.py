"""EventBridge Pipes (docs/pipes.md): a queue or stream, filter criteria, an optional enrichment
function and a target, polled by the functions' runtime. Driven by ``run_functions()`` on a fake
clock, on every store."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from rulebus import Broker, Queue
from rulebus._errors import AwsError


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False)


class Recorder:
    """A handler that records each event and answers with ``reply(event)``."""

    def __init__(self, reply: Callable[[Any], Any] = lambda event: None) -> None:
        self.events: list[Any] = []
        self.reply = reply

    def __call__(self, event: Any, context: Any) -> Any:
        self.events.append(event)
        return self.reply(event)


def bodies(queue: Queue) -> list[str]:
    return sorted(message.body for message in queue.receive(max_messages=10, wait_seconds=0))


def error_of(call: Callable[[], Any]) -> AwsError:
    with pytest.raises(AwsError) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------------------------- the API


def test_create_answers_with_pipes_shape_and_describe_settles(broker: Broker, clock: FakeClock) -> None:
    source = broker.queue("orders")
    target = broker.queue("shipped")
    answer = broker.create_pipe(name="ship", source=source.arn, target=target)
    assert answer == {
        "Arn": "arn:aws:pipes:us-east-1:000000000000:pipe/ship",
        "Name": "ship",
        "DesiredState": "RUNNING",
        "CurrentState": "CREATING",
        "CreationTime": answer["CreationTime"],
        "LastModifiedTime": answer["LastModifiedTime"],
    }
    assert isinstance(answer["CreationTime"], datetime)
    assert answer["CreationTime"].timestamp() == clock.now
    described = broker.describe_pipe("ship")
    assert described["CurrentState"] == "RUNNING"
    assert described["Source"] == source.arn
    assert described["Target"] == target.arn
    assert described["RoleArn"] == "arn:aws:iam::000000000000:role/rulebus-pipe"
    listed = broker.list_pipes()
    assert [pipe["Name"] for pipe in listed["Pipes"]] == ["ship"]
    assert "NextToken" not in listed


def test_list_pipes_filters_and_pages(broker: Broker) -> None:
    source = broker.queue("in")
    target = broker.queue("out")
    for name in ("a-1", "a-2", "b-1"):
        broker.create_pipe(name=name, source=source, target=target)
    broker.stop_pipe("a-2")
    assert [pipe["Name"] for pipe in broker.list_pipes(name_prefix="a-")["Pipes"]] == ["a-1", "a-2"]
    assert [pipe["Name"] for pipe in broker.list_pipes(desired_state="STOPPED")["Pipes"]] == ["a-2"]
    first = broker.list_pipes(limit=2)
    assert [pipe["Name"] for pipe in first["Pipes"]] == ["a-1", "a-2"]
    rest = broker.list_pipes(limit=2, next_token=first["NextToken"])
    assert [pipe["Name"] for pipe in rest["Pipes"]] == ["b-1"]
    assert "NextToken" not in rest


def test_delete_pipe_stops_it(broker: Broker) -> None:
    source = broker.queue("in")
    target = broker.queue("out")
    broker.create_pipe(name="p", source=source, target=target)
    answer = broker.delete_pipe("p")
    assert (answer["CurrentState"], answer["DesiredState"]) == ("DELETING", "DELETED")
    source.send("left alone")
    assert broker.run_functions() == 0
    assert bodies(source) == ["left alone"]
    error = error_of(lambda: broker.describe_pipe("p"))
    assert (error.code, error.status) == ("NotFoundException", 404)


# ---------------------------------------------------------------------------------- validation


def test_validation_errors(broker: Broker) -> None:
    source = broker.queue("in")
    target = broker.queue("out")
    stream = broker.stream("clicks", shards=1)
    broker.create_pipe(name="taken", source=source, target=target)
    cases: list[tuple[Callable[[], Any], str, str]] = [
        (
            lambda: broker.create_pipe(name="bad name!", source=source, target=target),
            "ValidationException",
            "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern",
        ),
        (
            lambda: broker.create_pipe(name="taken", source=source, target=target),
            "ConflictException",
            "Pipe taken already exists.",
        ),
        (
            lambda: broker.create_pipe(
                name="big",
                source=source,
                target=target,
                source_parameters={"SqsQueueParameters": {"BatchSize": 11}},
            ),
            "ValidationException",
            "BatchSize 11 is more than this target takes at once (10).",
        ),
        (
            lambda: broker.create_pipe(
                name="huge",
                source=source,
                target=target,
                source_parameters={"SqsQueueParameters": {"BatchSize": 10001}},
            ),
            "ValidationException",
            "Value '10001' at 'sourceParameters.sqsQueueParameters.batchSize' failed to satisfy constraint: "
            "Member must have value less than or equal to 10000",
        ),
        (
            lambda: broker.create_pipe(name="s", source=stream, target=target),
            "ValidationException",
            '{"ValidationErrorFields":[{"Name":"SourceParameters.KinesisStreamParameters",'
            '"Message":"Missing required parameter."}]}',
        ),
        (
            lambda: broker.create_pipe(
                name="f",
                source=source,
                target=target,
                source_parameters={"FilterCriteria": {"Filters": [{"Pattern": '{"body": "x"}'}]}},
            ),
            "ValidationException",
            "Invalid FilterCriteria",
        ),
        (
            lambda: broker.create_pipe(
                name="k", source=source, target=stream, target_parameters={"KinesisStreamParameters": {}}
            ),
            "ValidationException",
            "Value null at 'targetParameters.kinesisStreamParameters.partitionKey'",
        ),
        (
            lambda: broker.create_pipe(
                name="t", source=source, target=target, target_parameters={"InputTemplate": '{"a": <nope>}'}
            ),
            "ValidationException",
            "contains invalid placeholder nope",
        ),
        (
            lambda: broker.create_pipe(
                name="m", source=source, target="arn:aws:sqs:us-east-1:000000000000:missing"
            ),
            "ValidationException",
            "Target arn:aws:sqs:us-east-1:000000000000:missing does not exist.",
        ),
        (
            lambda: broker.create_pipe(name="d", source=source, target=target, desired_state="PAUSED"),
            "ValidationException",
            "Member must satisfy enum value set: [RUNNING, STOPPED]",
        ),
        (lambda: broker.stop_pipe("nope"), "NotFoundException", "Pipe nope does not exist."),
        (
            lambda: broker.update_pipe("nope", description="x"),
            "NotFoundException",
            "Pipe nope does not exist.",
        ),
    ]
    for call, code, text in cases:
        error = error_of(call)
        assert error.code == code, (code, text, error.message)
        assert text in error.message
    assert [pipe["Name"] for pipe in broker.list_pipes()["Pipes"]] == ["taken"]


# ---------------------------------------------------------------------------------- running


def test_queue_to_queue_with_a_filter(broker: Broker) -> None:
    source = broker.queue("orders")
    target = broker.queue("big-orders")
    broker.create_pipe(
        name="big",
        source=source,
        target=target,
        source_parameters={
            "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"amount": [{"numeric": [">", 100]}]}}'}]}
        },
    )
    source.send('{"id": 1, "amount": 500}')
    source.send('{"id": 2, "amount": 5}')
    source.send("not json")
    assert broker.run_functions() == 1
    (delivered,) = target.receive(max_messages=10)
    record = json.loads(delivered.body)
    assert record["body"] == '{"id": 1, "amount": 500}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == source.arn
    # Filtered-out messages are deleted, as a mapping's are: nothing is left in the source.
    assert source.get_attributes(["All"])["ApproximateNumberOfMessages"] == "0"
    assert source.get_attributes(["All"])["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_queue_to_function_with_enrichment(broker: Broker) -> None:
    source = broker.queue("orders")
    enrich = Recorder(lambda batch: [{**item, "customer": f"c-{item['id']}"} for item in batch])
    deliver = Recorder()
    broker.function("enrich", enrich)
    target = broker.function("deliver", deliver)
    broker.create_pipe(
        name="p",
        source=source,
        enrichment=broker.get_function("enrich"),
        enrichment_parameters={"InputTemplate": '{"id": <$.body.id>, "pipe": "<aws.pipes.pipe-name>"}'},
        target=target,
        target_parameters={"InputTemplate": '{"order": <$.id>, "who": "<$.customer>"}'},
    )
    source.send('{"id": 7}')
    source.send('{"id": 8}')
    assert broker.run_functions() == 1
    assert enrich.events == [[{"id": 7, "pipe": "p"}, {"id": 8, "pipe": "p"}]]
    assert deliver.events == [[{"order": 7, "who": "c-7"}, {"order": 8, "who": "c-8"}]]
    assert bodies(source) == []


def test_an_enrichment_that_returns_nothing_ends_the_batch(broker: Broker) -> None:
    source = broker.queue("orders")
    target = broker.queue("out")
    broker.function("drop-all", Recorder(lambda batch: []))
    broker.create_pipe(
        name="p",
        source=source,
        enrichment="arn:aws:lambda:us-east-1:000000000000:function:drop-all",
        target=target,
    )
    source.send("x")
    broker.run_functions()
    assert bodies(target) == []
    assert bodies(source) == []


def test_stream_to_bus(broker: Broker) -> None:
    stream = broker.stream("clicks", shards=1)
    bus = broker.event_bus("shop")
    caught = broker.queue("caught")
    bus.put_rule("from-pipe", event_pattern={"source": ["Pipe clicks-to-bus"]})
    bus.put_targets("from-pipe", [{"Id": "q", "Arn": caught.arn}])
    broker.create_pipe(
        name="clicks-to-bus",
        source=stream,
        target=bus,
        source_parameters={
            "KinesisStreamParameters": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 10},
            "FilterCriteria": {"Filters": [{"Pattern": '{"data": {"page": ["/buy"]}}'}]},
        },
    )
    stream.put_record(json.dumps({"page": "/buy", "user": "u1"}), partition_key="u1")
    stream.put_record(json.dumps({"page": "/home", "user": "u2"}), partition_key="u2")
    assert broker.run_functions() == 1
    (message,) = caught.receive(max_messages=10)
    event = json.loads(message.body)
    assert event["source"] == "Pipe clicks-to-bus"
    assert event["detail-type"] == "Event from aws:kinesis"
    detail = event["detail"]
    assert detail["partitionKey"] == "u1"
    assert json.loads(base64.b64decode(detail["data"])) == {"page": "/buy", "user": "u1"}
    assert detail["eventSourceARN"] == stream.arn
    assert "kinesis" not in detail  # Pipes' Kinesis records are flat


def test_queue_to_stream_with_a_dynamic_partition_key(broker: Broker) -> None:
    source = broker.queue("orders")
    stream = broker.stream("orders-stream", shards=1)
    broker.create_pipe(
        name="p",
        source=source,
        target=stream,
        target_parameters={
            "KinesisStreamParameters": {"PartitionKey": "$.body.customer"},
            "InputTemplate": '{"id": <$.body.id>}',
        },
    )
    source.send('{"id": 1, "customer": "ann"}')
    broker.run_functions()
    shard = stream.describe()["Shards"][0]["ShardId"]
    records = stream.get_records(stream.get_shard_iterator(shard, "TRIM_HORIZON"))["Records"]
    assert [(record["PartitionKey"], json.loads(record["Data"])) for record in records] == [
        ("ann", {"id": 1})
    ]


def test_fifo_target_group_id_from_the_record(broker: Broker) -> None:
    source = broker.queue("orders")
    target = broker.queue("per-customer.fifo", content_based_deduplication=True)
    broker.create_pipe(
        name="p",
        source=source,
        target=target,
        target_parameters={
            "SqsQueueParameters": {"MessageGroupId": "$.body.customer"},
            "InputTemplate": "order <$.body.id>",
        },
    )
    error = error_of(lambda: broker.create_pipe(name="q", source=source, target=target))
    assert (error.code, error.message) == (
        "ValidationException",
        "MessageGroupId is required for a FIFO queue target.",
    )
    source.send('{"id": 1, "customer": "ann"}')
    source.send('{"id": 2, "customer": "bob"}')
    broker.run_functions()
    received = target.receive(max_messages=10, attribute_names=["MessageGroupId"])
    assert sorted((m.body, m.attributes["MessageGroupId"]) for m in received) == [
        ("order 1", "ann"),
        ("order 2", "bob"),
    ]


def test_a_failing_target_returns_the_batch_then_the_dlq_takes_it(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("orders-dlq")
    source = broker.queue(
        "orders", visibility_timeout=30, redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2}
    )
    calls = Recorder(lambda batch: (_ for _ in ()).throw(RuntimeError("down")))
    target = broker.function("down", calls)
    broker.create_pipe(name="p", source=source, target=target)
    source.send("order")
    broker.run_functions()
    assert len(calls.events) == 1
    # In flight until the visibility timeout ends: nothing more happens meanwhile.
    assert broker.run_functions() == 0
    clock.advance(31)
    broker.run_functions()
    assert len(calls.events) == 2
    assert bodies(dlq) == []
    clock.advance(31)
    broker.run_functions()  # the third receive moves it to the DLQ (maxReceiveCount 2)
    assert len(calls.events) == 2
    assert bodies(dlq) == ["order"]


def test_a_target_functions_batch_item_failures_return_only_those(broker: Broker, clock: FakeClock) -> None:
    source = broker.queue("orders", visibility_timeout=30)

    def reply(batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]} for record in batch if record["body"] == "bad"
            ]
        }

    calls = Recorder(reply)
    broker.create_pipe(name="p", source=source, target=broker.function("f", calls))
    source.send("good")
    source.send("bad")
    broker.run_functions()
    clock.advance(31)
    broker.run_functions()
    assert [[record["body"] for record in batch] for batch in calls.events][1] == ["bad"]


def test_stop_and_start(broker: Broker) -> None:
    source = broker.queue("orders")
    target = broker.queue("out")
    broker.create_pipe(name="p", source=source, target=target, desired_state="STOPPED")
    assert broker.describe_pipe("p")["CurrentState"] == "STOPPED"
    source.send("waiting")
    assert broker.run_functions() == 0
    assert broker.wait_until_idle(timeout=5)
    started = broker.start_pipe("p")
    assert (started["CurrentState"], started["DesiredState"]) == ("STARTING", "RUNNING")
    assert broker.run_functions() == 1
    assert [json.loads(body)["body"] for body in bodies(target)] == ["waiting"]
    stopped = broker.stop_pipe("p")
    assert (stopped["CurrentState"], stopped["DesiredState"]) == ("STOPPING", "STOPPED")
    source.send("later")
    assert broker.run_functions() == 0
    assert bodies(source) == ["later"]


def test_update_pipe_changes_the_target_and_keeps_the_rest(broker: Broker) -> None:
    source = broker.queue("orders")
    first = broker.queue("first")
    second = broker.queue("second")
    broker.create_pipe(
        name="p",
        source=source,
        target=first,
        source_parameters={"FilterCriteria": {"Filters": [{"Pattern": '{"body": {"keep": [true]}}'}]}},
    )
    answer = broker.update_pipe("p", target=second, description="moved")
    assert answer["CurrentState"] == "UPDATING"
    described = broker.describe_pipe("p")
    assert (described["Target"], described["Description"]) == (second.arn, "moved")
    assert (
        described["SourceParameters"]["FilterCriteria"]["Filters"][0]["Pattern"]
        == '{"body": {"keep": [true]}}'
    )
    source.send('{"keep": true}')
    source.send('{"keep": false}')
    broker.run_functions()
    assert bodies(first) == []
    assert [json.loads(body)["body"] for body in bodies(second)] == ['{"keep": true}']


def test_queue_to_topic_and_fire_and_forget_function(broker: Broker) -> None:
    source = broker.queue("alerts-in")
    topic = broker.topic("alerts")
    subscriber = broker.queue("alerts-out")
    topic.subscribe(subscriber, raw_message_delivery=True)
    broker.create_pipe(
        name="to-topic", source=source, target=topic, target_parameters={"InputTemplate": "<$.body>"}
    )
    later = Recorder()
    second = broker.queue("second-in")
    broker.create_pipe(
        name="async",
        source=second,
        target=broker.function("later", later),
        target_parameters={"LambdaFunctionParameters": {"InvocationType": "FIRE_AND_FORGET"}},
    )
    source.send("disk full")
    second.send("queued")
    broker.run_functions()
    assert bodies(subscriber) == ["disk full"]
    assert [[record["body"] for record in batch] for batch in later.events] == [["queued"]]
    assert bodies(second) == []


def test_a_stream_batch_that_keeps_failing_goes_to_the_dead_letter_queue(
    broker: Broker, clock: FakeClock
) -> None:
    stream = broker.stream("clicks", shards=1)
    dlq = broker.queue("clicks-dlq")
    calls = Recorder(lambda batch: (_ for _ in ()).throw(RuntimeError("down")))
    broker.create_pipe(
        name="p",
        source=stream,
        target=broker.function("down", calls),
        source_parameters={
            "KinesisStreamParameters": {
                "StartingPosition": "TRIM_HORIZON",
                "MaximumRetryAttempts": 1,
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        },
    )
    stream.put_record("x", partition_key="k")
    broker.run_functions()
    clock.advance(60)
    broker.run_functions()
    assert len(calls.events) == 2
    (message,) = dlq.receive(max_messages=10)
    info = json.loads(message.body)["KinesisBatchInfo"]
    assert (info["batchSize"], info["streamArn"]) == (1, stream.arn)
