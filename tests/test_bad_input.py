"""Bad input is answered as AWS answers it, on every public method, on both stores.

Two parts: a table of (call, bad input, expected error class, code, message) for the cases whose
answer is known exactly, and a sweep that calls every public method with None, wrong types and
lone surrogates in each parameter and in each member of a batch entry, asserting that the answer
is a ``RulebusError`` (never an AttributeError, a plain TypeError, a UnicodeEncodeError or an
sqlite3 error) and that the store still holds what was put before.

The engine (Pattern, FilterPolicy, RuleSet, test_event_pattern) answers from the native binding:
a str with lone surrogates reaches the core as its invalid UTF-8 bytes (refused as AWS refuses
invalid UTF-8), and a wrong Python type is a ParameterTypeError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import rulebus
from rulebus import (
    AwsError,
    Broker,
    InvalidEventError,
    InvalidFilterPolicyError,
    InvalidPatternError,
    RulebusError,
)
from rulebus._errors import ParameterTypeError

SURROGATE = "\ud800"


@dataclass
class World:
    """What the calls act on: a broker with one of each thing, and a message kept to check that
    no bad call loses data."""

    broker: Broker
    queue: rulebus.Queue
    topic: rulebus.Topic
    subscription: rulebus.Subscription
    bus: rulebus.EventBus
    stream: rulebus.Stream
    idempotency: rulebus.Idempotency

    def still_usable(self) -> None:
        (message,) = self.broker.queue("kept").receive(10, visibility_timeout=0)
        assert message.body == "kept before"
        self.queue.send("after")
        assert self.topic.publish("after").message_id
        assert (
            self.bus.put_events([{"Source": "s", "DetailType": "d", "Detail": "{}"}])["FailedEntryCount"] == 0
        )
        assert self.stream.put_record(b"after", "k")["SequenceNumber"]


@pytest.fixture
def world(make_broker: Callable[..., Broker]) -> World:
    broker = make_broker(background_move_tasks=False, background_schedules=False, background_retries=False)
    broker.queue("kept").send("kept before")
    queue = broker.queue("q")
    topic = broker.topic("t")
    bus = broker.event_bus("b")
    bus.put_rule("r", event_pattern={"source": ["s"]})
    bus.create_archive("a")
    return World(
        broker,
        queue,
        topic,
        topic.subscribe(queue),
        bus,
        broker.stream("s", 1),
        rulebus.Idempotency(broker, "i"),
    )


# ------------------------------------------------------------------------------------------ table

# An event with every member TestEventPattern requires, and a lone surrogate in its detail.
ENVELOPE = (
    '{"id": "1", "account": "1", "source": "s", "time": "t", "region": "r", "detail-type": "d", '
    '"detail": {"a": "\ud800"}}'
)

Call = Callable[[World], Any]


@dataclass
class Row:
    """One bad call and AWS's answer: the error class, its ``code`` and a regular expression its
    message must match in full."""

    name: str
    call: Call
    error: type[Exception]
    code: str
    message: str
    marks: tuple[Any, ...] = ()


def _null(where: str) -> str:
    return re.escape(
        f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: "
    ) + ("Member must not be null")


def _model(where: str, value: str, constraint: str) -> str:
    return re.escape(
        f"1 validation error detected: Value '{value}' at '{where}' "
        f"failed to satisfy constraint: {constraint}"
    )


SQS_BODY_CHARS = re.escape(
    "Invalid binary character '#xD800' was found in the message body, the set of allowed characters is "
    "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
)

ROWS = [
    # ---- SQS
    Row(
        "send None",
        lambda w: w.queue.send(None),
        AwsError,
        "MissingParameter",
        re.escape("The request must contain the parameter MessageBody."),
    ),
    Row(
        "send int body",
        lambda w: w.queue.send(7),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value 7 for parameter MessageBody is invalid. Reason: Must be a string."),
    ),
    Row(
        "send surrogate body",
        lambda w: w.queue.send(SURROGATE),
        AwsError,
        "InvalidMessageContents",
        SQS_BODY_CHARS,
    ),
    Row(
        "send attributes not a map",
        lambda w: w.queue.send("b", message_attributes="x"),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value x for parameter MessageAttributes is invalid. Reason: Must be a map."),
    ),
    Row(
        "send surrogate attribute value",
        lambda w: w.queue.send(
            "b", message_attributes={"a": {"DataType": "String", "StringValue": SURROGATE}}
        ),
        AwsError,
        "InvalidParameterValue",
        r"Invalid binary character '#xD800' was found in the value of .*",
    ),
    Row(
        "send surrogate attribute type",
        lambda w: w.queue.send(
            "b", message_attributes={"a": {"DataType": "String." + SURROGATE, "StringValue": "v"}}
        ),
        AwsError,
        "InvalidParameterValue",
        re.escape(
            r"Value String.\ud800 for parameter DataType is invalid. Reason: Must be valid Unicode text"
            " (a lone surrogate has no UTF-8 form)."
        ),
    ),
    Row(
        "send_batch None",
        lambda w: w.queue.send_batch(None),
        AwsError,
        "MissingParameter",
        re.escape("The request must contain the parameter Entries."),
    ),
    Row(
        "send_batch [None]",
        lambda w: w.queue.send_batch([None]),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value null for parameter Entries[0] is invalid. Reason: Must be a map."),
    ),
    Row(
        "send_batch unknown member",
        lambda w: w.queue.send_batch([{"Id": "1", "MessageBody": "b", "Bogus": 1}]),
        AwsError,
        "InvalidParameterValue",
        re.escape(
            "Value Bogus for parameter Entries[0] is invalid. Reason: Unknown parameter in Entries[0]: "
            '"Bogus", must be one of: DelaySeconds, Id, MessageAttributes, MessageBody, '
            "MessageDeduplicationId, MessageGroupId, MessageSystemAttributes"
        ),
    ),
    Row(
        "delete_batch unknown member",
        lambda w: w.queue.delete_batch([{"Id": "1", "ReceiptHandle": "h", "X": 1}]),
        AwsError,
        "InvalidParameterValue",
        r"Value X for parameter Entries\[0\] is invalid\. Reason: Unknown .*",
    ),
    Row(
        "change_visibility_batch not a list",
        lambda w: w.queue.change_visibility_batch("x"),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value x for parameter Entries is invalid. Reason: Must be a list."),
    ),
    Row(
        "set_attributes str",
        lambda w: w.queue.set_attributes("str"),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value str for parameter Attributes is invalid. Reason: Must be a map."),
    ),
    Row(
        "get_attributes None",
        lambda w: w.queue.get_attributes(None),
        AwsError,
        "MissingParameter",
        re.escape("The request must contain the parameter AttributeNames."),
    ),
    Row(
        "receive float",
        lambda w: w.queue.receive(1.5),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value 1.5 for parameter MaxNumberOfMessages is invalid. Reason: Must be an integer."),
    ),
    Row(
        "receive attribute names int",
        lambda w: w.queue.receive(1, attribute_names=7),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value 7 for parameter AttributeNames is invalid. Reason: Must be a list."),
    ),
    Row(
        "delete None",
        lambda w: w.queue.delete(None),
        AwsError,
        "MissingParameter",
        re.escape("The request must contain the parameter ReceiptHandle."),
    ),
    Row(
        "change_visibility NaN",
        lambda w: w.queue.change_visibility("h", math.nan),
        AwsError,
        "ReceiptHandleIsInvalid",
        re.escape('The input receipt handle "h" is not a valid receipt handle.'),
    ),
    # ---- SNS
    Row(
        "publish None",
        lambda w: w.topic.publish(None),
        AwsError,
        "InvalidParameter",
        re.escape("Invalid parameter: Message"),
    ),
    Row(
        "publish surrogate subject",
        lambda w: w.topic.publish("m", subject=SURROGATE),
        AwsError,
        "InvalidParameter",
        re.escape(
            "Invalid parameter: Subject Reason: Must be valid Unicode text "
            "(a lone surrogate has no UTF-8 form)."
        ),
    ),
    Row(
        "publish surrogate attribute value",
        lambda w: w.topic.publish(
            "m", message_attributes={"a": {"DataType": "String", "StringValue": SURROGATE}}
        ),
        AwsError,
        "InvalidParameter",
        re.escape(
            "Invalid parameter: StringValue Reason: Must be valid Unicode text"
            " (a lone surrogate has no UTF-8 form)."
        ),
    ),
    Row(
        "publish attribute unknown member",
        lambda w: w.topic.publish(
            "m", message_attributes={"a": {"DataType": "String", "StringValue": "v", "X": 1}}
        ),
        AwsError,
        "InvalidParameter",
        r"Invalid parameter: MessageAttributes\.a Reason: Unknown parameter .*",
    ),
    Row(
        "publish_batch [None]",
        lambda w: w.topic.publish_batch([None]),
        ParameterTypeError,
        "InvalidParameter",
        re.escape("Invalid parameter: PublishBatchRequestEntries[0] Reason: Must be a map."),
    ),
    Row(
        "publish_batch unknown member",
        lambda w: w.topic.publish_batch([{"Id": "1", "Message": "m", "Bogus": 1}]),
        AwsError,
        "InvalidParameter",
        r"Invalid parameter: PublishBatchRequestEntries\[0\] Reason: Unknown .*",
    ),
    Row(
        "unsubscribe garbage",
        lambda w: w.topic.unsubscribe("garbage"),
        AwsError,
        "InvalidParameter",
        re.escape("Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"),
    ),
    Row(
        "confirm_subscription None",
        lambda w: w.topic.confirm_subscription(None),
        AwsError,
        "InvalidParameter",
        re.escape("Invalid parameter: Token"),
    ),
    Row(
        "subscribe int",
        lambda w: w.topic.subscribe(7),
        ParameterTypeError,
        "InvalidParameter",
        r"Invalid parameter: Endpoint Reason: Must be a Queue, .*",
    ),
    Row(
        "subscribe surrogate filter policy",
        lambda w: w.topic.subscribe(w.queue, filter_policy='{"a": ["\ud800"]}'),
        InvalidFilterPolicyError,
        "InvalidParameter",
        r"Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON\. "
        r"Invalid UTF-8 middle byte 0xa0(.|\n)*",
    ),
    Row(
        "set_subscription_attributes garbage",
        lambda w: w.topic.set_subscription_attributes("x", "RawMessageDelivery", "true"),
        AwsError,
        "InvalidParameter",
        r"Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 .*",
    ),
    Row(
        "topic bad policy",
        lambda w: w.broker.topic("t2", policy="{bad"),
        AwsError,
        "InvalidParameter",
        re.escape("Invalid parameter: Policy Error: null"),
    ),
    Row(
        "topic surrogate display name",
        lambda w: w.broker.topic("t3", display_name=SURROGATE),
        AwsError,
        "InvalidParameter",
        r"Invalid parameter: DisplayName Reason: Must be valid Unicode text.*",
    ),
    Row(
        "topic None",
        lambda w: w.broker.topic(None),
        AwsError,
        "InvalidParameter",
        re.escape("Invalid parameter: Name"),
    ),
    # ---- EventBridge
    Row(
        "put_events None", lambda w: w.bus.put_events(None), AwsError, "ValidationException", _null("entries")
    ),
    Row(
        "put_events [None]",
        lambda w: w.bus.put_events([None]),
        ParameterTypeError,
        "ValidationException",
        _model("entries[0]", "null", "Member must be a map"),
    ),
    Row(
        "put_events unknown member",
        lambda w: w.bus.put_events([{"Source": "s", "DetailType": "d", "Detail": "{}", "Bogus": 1}]),
        AwsError,
        "ValidationException",
        r".*at 'entries\[0\]' failed to satisfy constraint: Unknown parameter .*",
    ),
    Row(
        "put_events int source",
        lambda w: w.bus.put_events([{"Source": 7, "DetailType": "d", "Detail": "{}"}]),
        ParameterTypeError,
        "ValidationException",
        _model("entries.1.member.source", "7", "Member must be a string"),
    ),
    Row(
        "put_events NaN time",
        lambda w: w.bus.put_events([{"Source": "s", "DetailType": "d", "Detail": "{}", "Time": math.nan}]),
        AwsError,
        "ValidationException",
        re.escape("Parameter Time is not valid: nan"),
    ),
    Row(
        "put_rule surrogate pattern",
        lambda w: w.bus.put_rule("r2", event_pattern='{"a": ["\ud800"]}'),
        AwsError,
        "InvalidEventPatternException",
        r"Event pattern is not valid\. Reason: Invalid UTF-8 middle byte 0xa0(.|\n)*",
    ),
    Row(
        "put_rule int pattern",
        lambda w: w.bus.put_rule("r2", event_pattern=7),
        ParameterTypeError,
        "ValidationException",
        _model("eventPattern", "7", "Member must be a JSON object or its text"),
    ),
    Row(
        "put_rule surrogate description",
        lambda w: w.bus.put_rule("r2", {"a": ["b"]}, description=SURROGATE),
        AwsError,
        "ValidationException",
        _model("description", r"\ud800", "Member must be valid Unicode text"),
    ),
    Row(
        "put_targets None",
        lambda w: w.bus.put_targets("r", None),
        AwsError,
        "ValidationException",
        _null("targets"),
    ),
    Row(
        "put_targets unknown member",
        lambda w: w.bus.put_targets("r", [{"Id": "t", "Arn": w.queue.arn, "X": 1}]),
        AwsError,
        "ValidationException",
        r".*at 'targets\[0\]' failed to satisfy constraint: Unknown parameter .*",
    ),
    Row(
        "put_targets int InputPath",
        lambda w: w.bus.put_targets("r", [{"Id": "t", "Arn": w.queue.arn, "InputPath": 7}]),
        ParameterTypeError,
        "ValidationException",
        _model("targets.1.member.inputPath", "7", "Member must be a string"),
    ),
    Row(
        "remove_targets None",
        lambda w: w.bus.remove_targets("r", None),
        AwsError,
        "ValidationException",
        _null("ids"),
    ),
    Row(
        "describe_rule list",
        lambda w: w.bus.describe_rule([]),
        ParameterTypeError,
        "ValidationException",
        _model("name", "[]", "Member must be a string"),
    ),
    Row(
        "create_archive surrogate description",
        lambda w: w.bus.create_archive("a2", description=SURROGATE),
        AwsError,
        "ValidationException",
        _model("description", r"\ud800", "Member must be valid Unicode text"),
    ),
    Row(
        "update_archive float retention",
        lambda w: w.bus.update_archive("a", retention_days=1.5),
        ParameterTypeError,
        "ValidationException",
        _model("retentionDays", "1.5", "Member must be an integer"),
    ),
    Row(
        "start_replay NaN start",
        lambda w: w.bus.start_replay("p", "a", math.nan, 10.0),
        AwsError,
        "ValidationException",
        _model("eventStartTime", "nan", "Member must be a finite number"),
    ),
    Row(
        "list_rules int prefix",
        lambda w: w.bus.list_rules(7),
        ParameterTypeError,
        "ValidationException",
        _model("namePrefix", "7", "Member must be a string"),
    ),
    Row(
        "create_event_bus surrogate description",
        lambda w: w.broker.create_event_bus("b2", SURROGATE),
        AwsError,
        "ValidationException",
        _model("description", r"\ud800", "Member must be valid Unicode text"),
    ),
    # ---- Kinesis
    Row(
        "put_records None",
        lambda w: w.stream.put_records(None),
        AwsError,
        "ValidationException",
        _null("records"),
    ),
    Row(
        "put_records unknown member",
        lambda w: w.stream.put_records([{"Data": b"d", "PartitionKey": "k", "X": 1}]),
        AwsError,
        "ValidationException",
        r".*at 'records\[0\]' failed to satisfy constraint: Unknown parameter .*",
    ),
    Row(
        "put_record surrogate key",
        lambda w: w.stream.put_record(b"d", SURROGATE),
        AwsError,
        "ValidationException",
        _model("partitionKey", r"\ud800", "Member must be valid Unicode text"),
    ),
    Row(
        "put_record surrogate data",
        lambda w: w.stream.put_record(SURROGATE, "k"),
        AwsError,
        "ValidationException",
        _model("data", r"\ud800", "Member must be valid Unicode text"),
    ),
    Row(
        "get_shard_iterator NaN",
        lambda w: w.stream.get_shard_iterator("shardId-000000000000", "AT_TIMESTAMP", timestamp=math.nan),
        AwsError,
        "ValidationException",
        _model("timestamp", "nan", "Member must be a finite number"),
    ),
    Row(
        "get_records float limit",
        lambda w: w.stream.get_records("x", 1.5),
        ParameterTypeError,
        "ValidationException",
        _model("limit", "1.5", "Member must be an integer"),
    ),
    Row(
        "consumer empty name",
        lambda w: w.stream.consumer(""),
        AwsError,
        "ValidationException",
        _model("consumerName", "", "Member must have length greater than or equal to 1"),
    ),
    Row(
        "consumer bad position",
        lambda w: w.stream.consumer("c", "AT_TIMESTAMP"),
        AwsError,
        "ValidationException",
        _model(
            "initialPosition", "AT_TIMESTAMP", "Member must satisfy enum value set: [TRIM_HORIZON, LATEST]"
        ),
    ),
    Row(
        "update_shard_count None",
        lambda w: w.stream.update_shard_count(None),
        AwsError,
        "ValidationException",
        _null("targetShardCount"),
    ),
    # ---- Broker
    Row(
        "Broker region None",
        lambda w: Broker(region=None),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("region must be a str naming an AWS region, not NoneType"),
    ),
    Row(
        "Broker region bad",
        lambda w: Broker(region="mars"),
        AwsError,
        "InvalidParameterValue",
        re.escape("Invalid region mars: not an AWS region name."),
    ),
    Row(
        "Broker account short",
        lambda w: Broker(account="123"),
        AwsError,
        "InvalidParameterValue",
        re.escape("Invalid account id 123: must be 12 digits."),
    ),
    Row(
        "start_message_move_task int",
        lambda w: w.broker.start_message_move_task(7),
        ParameterTypeError,
        "InvalidParameterValue",
        re.escape("Value 7 for parameter SourceArn is invalid. Reason: Must be a Queue or a queue ARN."),
    ),
    Row("queue None", lambda w: w.broker.queue(None), AwsError, "InvalidParameterValue", r".*QueueName.*"),
    # ---- idempotency
    Row(
        "idempotency key None",
        lambda w: w.idempotency.run(None, print),
        AwsError,
        "ValidationException",
        _null("key"),
    ),
    Row(
        "idempotency function not callable",
        lambda w: w.idempotency.run("k", 7),
        ParameterTypeError,
        "ValidationException",
        _model("function", "7", "Member must be callable"),
    ),
    Row(
        "idempotency ttl NaN",
        lambda w: rulebus.Idempotency(w.broker, "n", ttl=math.nan),
        AwsError,
        "ValidationException",
        _model("ttl", "nan", "Member must be a finite number"),
    ),
    # ---- engine
    Row(
        "Pattern surrogate",
        lambda w: rulebus.Pattern('{"a": ["\ud800"]}'),
        InvalidPatternError,
        "InvalidEventPatternException",
        r"Event pattern is not valid\. Reason: Invalid UTF-8 .*(.|\n)*",
    ),
    Row(
        "FilterPolicy surrogate",
        lambda w: rulebus.FilterPolicy('{"a": ["\ud800"]}'),
        InvalidFilterPolicyError,
        "InvalidParameter",
        r"Invalid parameter: FilterPolicy: failed to parse JSON\. Invalid UTF-8 (.|\n)*",
    ),
    Row(
        "Pattern.matches surrogate event",
        lambda w: rulebus.Pattern('{"a": ["x"]}').matches('{"a": "\ud800"}'),
        InvalidEventError,
        "ValidationException",
        r"Event is not valid: Invalid UTF-8 .*",
    ),
    Row(
        "test_event_pattern surrogate event",
        lambda w: rulebus.test_event_pattern('{"a": ["x"]}', ENVELOPE),
        InvalidEventError,
        "ValidationException",
        re.escape("Parameter Event is not valid."),
    ),
    Row(
        "RuleSet.matches_many None",
        lambda w: rulebus.RuleSet().matches_many(None),
        RulebusError,
        "",
        ".*",
    ),
    Row(
        "RuleSet.add None name",
        lambda w: rulebus.RuleSet().add(None, '{"a": ["x"]}'),
        RulebusError,
        "",
        ".*",
    ),
    Row(
        "RuleSet.add surrogate pattern",
        lambda w: rulebus.RuleSet().add("n", '{"a": ["\ud800"]}'),
        InvalidPatternError,
        "InvalidEventPatternException",
        r"Event pattern is not valid\. Reason: Invalid UTF-8 (.|\n)*",
    ),
    Row(
        "Pattern from a bytes-valued mapping",
        lambda w: rulebus.Pattern({"a": [b"x"]}),
        ParameterTypeError,
        "ValidationException",
        re.escape("Object of type bytes is not JSON serializable"),
    ),
]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name, marks=row.marks) for row in ROWS])
def test_bad_input_gets_the_services_answer(world: World, row: Row) -> None:
    with pytest.raises(row.error) as caught:
        row.call(world)
    error = caught.value
    if row.code:
        assert getattr(error, "code", None) == row.code
    assert re.fullmatch(row.message, str(error)), str(error)
    # Every message is printable text, whatever the input held.
    str(error).encode("utf-8")
    world.still_usable()


def test_a_wrong_type_is_also_a_type_error(world: World) -> None:
    """ParameterTypeError keeps the TypeError these calls raised before (code catching it works)."""
    with pytest.raises(TypeError):
        world.queue.send(7)
    with pytest.raises(AwsError):
        world.queue.send(7)


def test_the_stores_agree_on_a_surrogate_in_a_name_or_description(make_broker: Callable[..., Broker]) -> None:
    """Refused before any store sees it: the same answer on memory and SQLite (run on each)."""
    broker = make_broker()
    answers = []
    for call in (
        lambda: broker.create_event_bus("b", SURROGATE),
        lambda: broker.event_bus("default").put_rule("r", {"a": ["b"]}, description=SURROGATE),
        lambda: broker.topic("t", display_name=SURROGATE),
        lambda: broker.stream("s", 1).consumer("c" + SURROGATE),
        lambda: rulebus.Idempotency(broker, "n" + SURROGATE),
    ):
        with pytest.raises(AwsError) as caught:
            call()
        answers.append(caught.value.code)
    assert answers == ["ValidationException"] * 2 + ["InvalidParameter"] + ["ValidationException"] * 2
    assert broker.event_buses()[0].name == "default" and len(broker.event_buses()) == 1


# ------------------------------------------------------------------------------------------ sweep

BAD_VALUES: list[Any] = [None, 7, 1.5, math.nan, True, b"x", [], {}, object(), SURROGATE, ""]


def _calls(w: World) -> list[tuple[str, Callable[..., Any], list[Any]]]:
    """Every public method with arguments that work, to spoil one at a time."""
    q, t, bus, s = w.queue, w.topic, w.bus, w.stream
    attribute = {"DataType": "String", "StringValue": "v"}
    iterator = s.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    consumer = s.consumer("c")
    return [
        ("Broker.queue", w.broker.queue, ["q2"]),
        ("Broker.delete_queue", w.broker.delete_queue, ["q3"]),
        ("Broker.topic", w.broker.topic, ["t2"]),
        ("Broker.delete_topic", w.broker.delete_topic, ["t3"]),
        ("Broker.event_bus", w.broker.event_bus, ["b2", "d"]),
        ("Broker.create_event_bus", w.broker.create_event_bus, ["b3", "d"]),
        ("Broker.delete_event_bus", w.broker.delete_event_bus, ["b4"]),
        ("Broker.stream", w.broker.stream, ["s2", 1]),
        ("Broker.delete_stream", w.broker.delete_stream, ["s3"]),
        ("Broker.start_message_move_task", w.broker.start_message_move_task, [q.arn, None, 10]),
        ("Broker.list_message_move_tasks", w.broker.list_message_move_tasks, [q.arn, 1]),
        ("Broker.cancel_message_move_task", w.broker.cancel_message_move_task, ["h"]),
        ("Queue.get_attributes", q.get_attributes, [["All"]]),
        ("Queue.set_attributes", q.set_attributes, [{"DelaySeconds": "0"}]),
        ("Queue.send", q.send, ["b", {"a": attribute}, 0, None, None]),
        (
            "Queue.send_batch",
            q.send_batch,
            [[{"Id": "1", "MessageBody": "b", "DelaySeconds": 0, "MessageAttributes": {"a": attribute}}]],
        ),
        ("Queue.receive", q.receive, [1, 0, 0, ["All"], ["All"], None]),
        ("Queue.delete", q.delete, ["h"]),
        ("Queue.change_visibility", q.change_visibility, ["h", 10]),
        ("Queue.delete_batch", q.delete_batch, [[{"Id": "1", "ReceiptHandle": "h"}]]),
        (
            "Queue.change_visibility_batch",
            q.change_visibility_batch,
            [[{"Id": "1", "ReceiptHandle": "h", "VisibilityTimeout": 1}]],
        ),
        ("Topic.subscribe", t.subscribe, [q, {"a": ["b"]}, "MessageAttributes", False, None, None, False]),
        ("Topic.confirm_subscription", t.confirm_subscription, ["token"]),
        ("Topic.unsubscribe", t.unsubscribe, [w.subscription.subscription_arn + "x"]),
        (
            "Topic.set_subscription_attributes",
            t.set_subscription_attributes,
            [w.subscription.subscription_arn, "RawMessageDelivery", "true"],
        ),
        ("Topic.publish", t.publish, ["m", "subject", {"a": attribute}, None, None, None]),
        (
            "Topic.publish_batch",
            t.publish_batch,
            [[{"Id": "1", "Message": "m", "Subject": "s", "MessageAttributes": {"a": attribute}}]],
        ),
        ("Topic.wait_for_deliveries", t.wait_for_deliveries, [0.01]),
        ("Subscription.set_attribute", w.subscription.set_attribute, ["RawMessageDelivery", "true"]),
        ("EventBus.put_rule", bus.put_rule, ["r2", {"source": ["x"]}, None, "ENABLED", "d"]),
        ("EventBus.describe_rule", bus.describe_rule, ["r"]),
        ("EventBus.list_rules", bus.list_rules, ["r"]),
        ("EventBus.enable_rule", bus.enable_rule, ["r"]),
        ("EventBus.disable_rule", bus.disable_rule, ["r"]),
        ("EventBus.delete_rule", bus.delete_rule, ["rx"]),
        (
            "EventBus.put_targets",
            bus.put_targets,
            [
                "r",
                [
                    {
                        "Id": "t",
                        "Arn": q.arn,
                        "InputPath": "$.detail",
                        "RetryPolicy": {"MaximumRetryAttempts": 1},
                    }
                ],
            ],
        ),
        ("EventBus.remove_targets", bus.remove_targets, ["r", ["t"]]),
        ("EventBus.list_targets_by_rule", bus.list_targets_by_rule, ["r"]),
        (
            "EventBus.put_events",
            bus.put_events,
            [
                [
                    {
                        "Source": "x",
                        "DetailType": "d",
                        "Detail": "{}",
                        "Resources": ["r"],
                        "Time": 1.0,
                        "EventBusName": "b",
                    }
                ]
            ],
        ),
        ("EventBus.create_archive", bus.create_archive, ["a2", {"source": ["x"]}, 0, "d"]),
        ("EventBus.describe_archive", bus.describe_archive, ["a"]),
        ("EventBus.update_archive", bus.update_archive, ["a", {"source": ["x"]}, 1, "d"]),
        ("EventBus.delete_archive", bus.delete_archive, ["ax"]),
        ("EventBus.list_archives", bus.list_archives, ["a", "ENABLED"]),
        ("EventBus.start_replay", bus.start_replay, ["p", "a", 0.0, 10.0, None, "d"]),
        ("EventBus.cancel_replay", bus.cancel_replay, ["px"]),
        ("EventBus.describe_replay", bus.describe_replay, ["px"]),
        ("EventBus.list_replays", bus.list_replays, ["p", "RUNNING"]),
        ("EventBus.wait_for_replay", bus.wait_for_replay, ["px", 0.01]),
        ("EventBus.wait_for_deliveries", bus.wait_for_deliveries, [0.01]),
        ("Stream.consumer", s.consumer, ["c2", "TRIM_HORIZON"]),
        ("Stream.increase_retention_period", s.increase_retention_period, [24]),
        ("Stream.decrease_retention_period", s.decrease_retention_period, [24]),
        ("Stream.put_record", s.put_record, [b"d", "k", None, None]),
        (
            "Stream.put_records",
            s.put_records,
            [[{"Data": b"d", "PartitionKey": "k", "ExplicitHashKey": "1"}]],
        ),
        (
            "Stream.get_shard_iterator",
            s.get_shard_iterator,
            ["shardId-000000000000", "AT_TIMESTAMP", None, 0.0],
        ),
        ("Stream.get_records", s.get_records, [iterator, 10]),
        ("Stream.split_shard", s.split_shard, ["shardId-000000000000", "1000"]),
        ("Stream.merge_shards", s.merge_shards, ["shardId-000000000000", "shardId-000000000001"]),
        ("Stream.update_shard_count", s.update_shard_count, [2, "UNIFORM_SCALING"]),
        ("StreamConsumer.records", lambda stop, wait: list(consumer.records(stop, wait)), [True, 0.01]),
        (
            "Idempotency",
            lambda name, ttl, lease: rulebus.Idempotency(w.broker, name, ttl, lease),
            ["n", 1.0, 1.0],
        ),
        ("Idempotency.run", w.idempotency.run, ["k", lambda: 1]),
        ("Idempotency.record", w.idempotency.record, ["k"]),
        ("Idempotency.forget", w.idempotency.forget, ["k"]),
        ("Idempotency.purge", w.idempotency.purge, [1.0]),
    ]


def _spoiled(args: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    """The arguments with one spoiled: each parameter by each bad value; each batch entry replaced
    by a non-mapping or given an unknown member; each member of an entry or of a mapping by each
    bad value."""
    for index, arg in enumerate(args):
        for bad in BAD_VALUES:
            yield f"arg{index}={bad!r}", [*args[:index], bad, *args[index + 1 :]]
        if isinstance(arg, list) and arg and isinstance(arg[0], dict):
            entry = arg[0]
            for bad in (None, 7, "s"):
                yield f"arg{index}[0]={bad!r}", [*args[:index], [bad], *args[index + 1 :]]
            yield f"arg{index}[0].Bogus", [*args[:index], [{**entry, "Bogus": 1}], *args[index + 1 :]]
            for key in entry:
                for bad in BAD_VALUES:
                    yield (
                        f"arg{index}[0].{key}={bad!r}",
                        [*args[:index], [{**entry, key: bad}], *args[index + 1 :]],
                    )
                if isinstance(entry[key], dict):
                    for inner in entry[key]:
                        for bad in BAD_VALUES:
                            spoiled = {**entry, key: {**entry[key], inner: bad}}
                            yield (
                                f"arg{index}[0].{key}.{inner}={bad!r}",
                                [*args[:index], [spoiled], *args[index + 1 :]],
                            )
        if isinstance(arg, dict):
            for key, value in arg.items():
                for bad in BAD_VALUES:
                    yield f"arg{index}.{key}={bad!r}", [*args[:index], {**arg, key: bad}, *args[index + 1 :]]
                if isinstance(value, dict):
                    for inner in value:
                        for bad in BAD_VALUES:
                            spoiled = {**arg, key: {**value, inner: bad}}
                            yield (
                                f"arg{index}.{key}.{inner}={bad!r}",
                                [*args[:index], spoiled, *args[index + 1 :]],
                            )


def test_every_public_method_answers_bad_input_with_a_rulebus_error(world: World) -> None:
    """The sweep: any outcome but a result or a RulebusError is listed; none may be."""
    crashes = []
    calls = _calls(world)
    assert len(calls) > 60
    for name, method, args in calls:
        for label, spoiled in _spoiled(args):
            try:
                method(*spoiled)
            except RulebusError as error:
                str(error).encode("utf-8")  # the message is text whatever the input held
            except Exception as error:  # what the sweep is looking for
                crashes.append(f"{name}({label}): {type(error).__name__}: {error}")
    assert crashes == []
    world.still_usable()


ENGINE_CALLS: list[tuple[str, Callable[..., Any], list[Any]]] = [
    ("Pattern", rulebus.Pattern, ['{"a": ["b"]}']),
    ("Pattern.matches", rulebus.Pattern('{"a": ["b"]}').matches, ['{"a": "b"}']),
    ("FilterPolicy", rulebus.FilterPolicy, ['{"a": ["b"]}', "MessageAttributes"]),
    (
        "FilterPolicy.matches",
        rulebus.FilterPolicy('{"a": ["b"]}').matches,
        [{"a": {"Type": "String", "Value": "b"}}],
    ),
    ("RuleSet.add", rulebus.RuleSet().add, ["n", '{"a": ["b"]}']),
    ("RuleSet.remove", rulebus.RuleSet().remove, ["n"]),
    ("RuleSet.matches", rulebus.RuleSet().matches, ['{"a": "b"}']),
    ("RuleSet.matches_many", rulebus.RuleSet().matches_many, [['{"a": "b"}']]),
    ("test_event_pattern", rulebus.test_event_pattern, ['{"a": ["b"]}', '{"a": "b"}']),
]


@pytest.mark.parametrize("name, method, args", ENGINE_CALLS, ids=[call[0] for call in ENGINE_CALLS])
def test_the_engine_answers_bad_input_with_a_rulebus_error(
    name: str, method: Callable[..., Any], args: list[Any]
) -> None:
    crashes = []
    for label, spoiled in _spoiled(args):
        try:
            method(*spoiled)
        except RulebusError:
            pass
        except Exception as error:  # what the sweep is looking for
            crashes.append(f"{name}({label}): {type(error).__name__}: {error}")
    assert crashes == []
