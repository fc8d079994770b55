"""What the fuzz test of `rulebus serve` found, each pinned where it was fixed: requests that
answered 500 (InternalFailure) instead of the client error AWS gives."""

from __future__ import annotations

import json
import sys

import pytest
from rulebus._jsontext import MAX_DEPTH, loads
from rulebus.aws.dispatch import Dispatcher, HttpRequest
from rulebus.aws.protocols import Reply


def call(dispatcher: Dispatcher, target: str, document: bytes, version: str = "1.1") -> Reply:
    headers = {"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}"}
    return dispatcher(HttpRequest("POST", "/", "", headers, document))


def error_type(reply: Reply) -> str:
    return str(json.loads(reply.body)["__type"]).rpartition("#")[2]


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_a_body_nested_past_the_parser_is_a_serialization_error() -> None:
    for body in (b"[" * 50_000 + b"]" * 50_000, b'{"QueueName":' + b"[" * 50_000 + b"]" * 50_000 + b"}"):
        reply = call(Dispatcher(), "AmazonSQS.CreateQueue", body, "1.0")
        assert (reply.status, error_type(reply)) == (400, "SerializationException")


@pytest.mark.parametrize("epoch", ["1e20", "-1e300", "1e999"])
def test_a_timestamp_past_any_calendar_is_a_serialization_error(epoch: str) -> None:
    iterator = '"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP"'
    body = f'{{{iterator},"Timestamp":{epoch}}}'
    reply = call(Dispatcher(), "Kinesis_20131202.GetShardIterator", body.encode())
    assert (reply.status, error_type(reply)) == (400, "SerializationException")
    entry = f'{{"Entries":[{{"Source":"a","DetailType":"b","Detail":"{{}}","Time":{epoch}}}]}}'
    reply = call(Dispatcher(), "AWSEvents.PutEvents", entry.encode())
    assert (reply.status, error_type(reply)) == (400, "SerializationException")


@pytest.mark.parametrize("attribute", ["RedrivePolicy", "RedriveAllowPolicy", "Policy"])
def test_a_queue_policy_nested_past_the_parser_is_an_invalid_attribute(attribute: str) -> None:
    document = {"QueueName": "q", "Attributes": {attribute: "[" * 50_000 + "]" * 50_000}}
    reply = call(Dispatcher(), "AmazonSQS.CreateQueue", json.dumps(document).encode(), "1.0")
    assert (reply.status, error_type(reply)) == (400, "InvalidAttributeValue")


def test_an_event_as_deep_as_aws_takes_is_delivered_through_an_input_transformer() -> None:
    # EventBridge takes details up to 1,000 levels deep; a target that reads the event's members
    # parsed it again deep in the delivery's call stack, where the parser ran out of room.
    dispatcher = Dispatcher()
    url = json.loads(call(dispatcher, "AmazonSQS.CreateQueue", b'{"QueueName":"deep"}', "1.0").body)[
        "QueueUrl"
    ]
    call(
        dispatcher,
        "AWSEvents.PutRule",
        json.dumps({"Name": "r", "EventPattern": '{"source":["a"]}'}).encode(),
    )
    target = {
        "Id": "1",
        "Arn": "arn:aws:sqs:us-east-1:000000000000:deep",
        "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '"<s>"'},
    }
    assert (
        call(
            dispatcher, "AWSEvents.PutTargets", json.dumps({"Rule": "r", "Targets": [target]}).encode()
        ).status
        == 200
    )
    entry = {"Source": "a", "DetailType": "b", "Detail": nested_object(MAX_DEPTH - 10)}
    reply = call(dispatcher, "AWSEvents.PutEvents", json.dumps({"Entries": [entry]}).encode())
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["FailedEntryCount"] == 0
    received = call(dispatcher, "AmazonSQS.ReceiveMessage", json.dumps({"QueueUrl": url}).encode(), "1.0")
    assert [m["Body"] for m in json.loads(received.body)["Messages"]] == ['"a"']


def _at_depth(frames: int, text: str) -> object:
    return loads(text) if frames == 0 else _at_depth(frames - 1, text)


def test_loads_reads_up_to_max_depth_from_deep_in_a_stack_and_refuses_deeper() -> None:
    deep_in_stack = sys.getrecursionlimit() // 4
    assert _at_depth(deep_in_stack, nested_object(MAX_DEPTH - 1)) is not None
    with pytest.raises(json.JSONDecodeError):
        _at_depth(deep_in_stack, nested_object(MAX_DEPTH * 20))


def test_loads_leaves_the_recursion_limit_as_it_found_it() -> None:
    limit = sys.getrecursionlimit()
    _at_depth(50, nested_object(MAX_DEPTH - 1))
    with pytest.raises(json.JSONDecodeError):
        loads(nested_object(MAX_DEPTH * 20))
    assert sys.getrecursionlimit() == limit
