"""Every wire handler, fed requests that fit the operation's input shape (as the codec delivers
them) but hold random values: each answers with an output that fits its shape or raises an
AwsError, never another exception."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

import botocore.session
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from helpers.aws_shapes import shape_problems
from helpers.aws_wire import Wire
from rulebus import AwsError
from rulebus.aws.services import SERVICES

ACCOUNT = "123456789012"
TEXTS = [
    "",
    "q",
    "t",
    "s",
    "default",
    "x" * 300,
    "All",
    "{}",
    '{"source": ["a"]}',
    "not json",
    "http://localhost:4566/123456789012/q",
    "arn:aws:sqs:us-east-1:123456789012:q",
    "arn:aws:sns:us-east-1:123456789012:t",
    "arn:aws:events:us-east-1:123456789012:event-bus/default",
    "arn:aws:events:us-east-1:123456789012:rule/r",
    "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    "shardId-000000000000",
    "TRIM_HORIZON",
    "sqs",
    "http",
    "0",
    "é\u2028",
]
EVENT = (
    '{"id": "1", "account": "123456789012", "source": "a", "time": "2030-01-01T00:00:00Z",'
    ' "region": "us-east-1", "resources": [], "detail-type": "x", "detail": {}}'
)
#: Values that name the prepared resources, chosen most of the time for members of these names,
#: so that the random requests get past the lookups to the operations themselves.
HINTS = {
    "QueueUrl": "http://localhost:4566/123456789012/q",
    "QueueName": "q",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
    "TargetArn": "arn:aws:sns:us-east-1:123456789012:t",
    "ResourceArn": "arn:aws:sns:us-east-1:123456789012:t",
    "ResourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    "StreamName": "s",
    "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    "ShardId": "shardId-000000000000",
    "ShardToSplit": "shardId-000000000000",
    "Name": "r",
    "Rule": "r",
    "EventBusName": "default",
    "EventSourceArn": "arn:aws:events:us-east-1:123456789012:event-bus/default",
    "Message": "hello",
    "MessageBody": "hello",
    "Endpoint": "arn:aws:sqs:us-east-1:123456789012:q",
    "Protocol": "sqs",
    "EventPattern": '{"source": ["a"]}',
    "Event": EVENT,
    "PartitionKey": "k",
    "Label": "label",
    "Id": "1",
}
OPERATIONS = sorted((service, name) for service, operations in SERVICES.items() for name in operations)
_SESSION = botocore.session.get_session()


def _value(shape: Shape, rng: random.Random, depth: int = 0, name: str = "") -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return {
            member_name: _value(member, rng, depth + 1, member_name)
            for member_name, member in shape.members.items()
            if member_name in shape.required_members or rng.random() < 0.5
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [
            _value(shape.member, rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 11]) if depth < 3 else 0)
        ]
    if kind == "map":
        assert isinstance(shape, MapShape)
        count = rng.choice([0, 1, 2]) if depth < 3 else 0
        return {
            str(_value(shape.key, rng, depth + 1)): _value(shape.value, rng, depth + 1) for _ in range(count)
        }
    if kind == "string" and name in HINTS and rng.random() < 0.8:
        return HINTS[name]
    if kind == "string":
        enum = shape.metadata.get("enum")
        return rng.choice(enum) if enum and rng.random() < 0.8 else rng.choice(TEXTS)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 2, 10, 20, 21, 301, -1, 2**31])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("double", "float"):
        return rng.choice([0.0, 1.5, -3.0])
    if kind == "blob":
        return rng.choice([b"", b"\x00data", b"x" * 100])
    if kind == "timestamp":
        return datetime.fromtimestamp(rng.choice([0, 1_700_000_000, 1_900_000_000]), tz=timezone.utc)
    raise AssertionError(kind)


def _prepare(wire: Wire) -> None:
    """Resources for the random requests to find: a queue q, topic t, stream s, rule r."""
    wire.sqs("CreateQueue", QueueName="q")
    wire.sns("CreateTopic", Name="t")
    wire.kinesis("CreateStream", StreamName="s", ShardCount=1)
    wire.events("PutRule", Name="r", EventPattern='{"source": ["a"]}')


@pytest.mark.parametrize(("service", "operation"), OPERATIONS)
def test_random_requests_answer_or_raise_aws_errors(wire: Wire, service: str, operation: str) -> None:
    _prepare(wire)
    handler = SERVICES[service][operation]
    model = _SESSION.get_service_model(service).operation_model(operation)
    output_shape = model.output_shape
    rng = random.Random(f"{service}.{operation}")
    for _ in range(40):
        params = _value(model.input_shape, rng) if model.input_shape is not None else {}
        if "WaitTimeSeconds" in params:
            params["WaitTimeSeconds"] = 0  # a long poll would only make the test wait
        try:
            output = handler(wire.broker, wire.request(service, operation, params))
        except AwsError:
            continue
        if output_shape is None:
            assert dict(output) == {}
        else:
            assert shape_problems(output_shape, output) == [], params
