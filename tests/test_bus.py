"""EventBridge buses (docs/semantics.md, 'EventBridge buses') on both stores: rules, targets, PutEvents,
delivery, input shaping, retries and dead-letter queues. Time is a fake clock that the tests
move; retries run when a test says so (``run_retries``), so nothing sleeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers.fake_clock import START, FakeClock
from helpers.http_endpoint import Endpoint
from rulebus import AwsError, Broker
from rulebus.events.bus import EventBus


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    # Retries run when a test calls run_retries, not on the timer's thread.
    return make_broker(background_retries=False)


@pytest.fixture
def bus(broker: Broker) -> EventBus:
    return broker.event_bus("shop")


def entry(detail: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "Source": "com.shop",
        "DetailType": "Order Placed",
        "Detail": json.dumps(detail if detail is not None else {"amount": 120}),
        **fields,
    }


def bodies(broker: Broker, queue: str) -> list[Any]:
    return [json.loads(m.body) for m in broker.queue(queue).receive(max_messages=10)]


# ---------------------------------------------------------------------- buses and rules


def test_default_bus_and_arns(broker: Broker, bus: EventBus) -> None:
    assert broker.event_bus().arn == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    assert bus.arn == "arn:aws:events:us-east-1:000000000000:event-bus/shop"
    assert [b.name for b in broker.event_buses()] == ["default", "shop"]
    assert broker.event_bus().put_rule("r", event_pattern={"source": ["x"]}) == (
        "arn:aws:events:us-east-1:000000000000:rule/r"
    )
    assert bus.put_rule("r", event_pattern={"source": ["x"]}) == (
        "arn:aws:events:us-east-1:000000000000:rule/shop/r"
    )
    with pytest.raises(AwsError, match=r"^Cannot delete event bus default\.$"):
        broker.delete_event_bus("default")
    with pytest.raises(AwsError, match=r"^Event bus shop already exists\.$") as info:
        broker.create_event_bus("shop")
    assert info.value.code == "ResourceAlreadyExistsException"


def test_put_rule_describe_list_and_replace(bus: EventBus) -> None:
    arn = bus.put_rule(
        "big", event_pattern={"detail": {"amount": [{"numeric": [">", 100]}]}}, description="d"
    )
    described = bus.describe_rule("big")
    assert described == {
        "Name": "big",
        "Arn": arn,
        "EventPattern": '{"detail": {"amount": [{"numeric": [">", 100]}]}}',
        "State": "ENABLED",
        "Description": "d",
        "EventBusName": "shop",
        "CreatedBy": "000000000000",
    }
    bus.put_rule("big", event_pattern='{"source": ["com.shop"]}')  # replaces: the description goes
    assert "Description" not in bus.describe_rule("big")
    assert bus.describe_rule("big")["EventPattern"] == '{"source": ["com.shop"]}'
    bus.put_rule("all", event_pattern={"source": [{"prefix": ""}]}, state="DISABLED")
    assert [r["Name"] for r in bus.list_rules()] == ["all", "big"]
    assert [r["Name"] for r in bus.list_rules(name_prefix="b")] == ["big"]


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"name": "bad name", "event_pattern": "{}"}, "ValidationException", "failed to satisfy constraint"),
        ({"name": "x" * 65, "event_pattern": "{}"}, "ValidationException", "less than or equal to 64"),
        (
            {"name": "r"},
            "ValidationException",
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ),
        (
            {"name": "r", "event_pattern": '{"a": 1}'},
            "InvalidEventPatternException",
            'Event pattern is not valid. Reason: "a" must be an object or an array',
        ),
        (
            {"name": "r", "schedule_expression": "rate(5 minutes)"},
            "ValidationException",
            "ScheduleExpression is supported only on the default event bus.",
        ),
        ({"name": "r", "event_pattern": "{}", "state": "ON"}, "ValidationException", "enum value set"),
    ],
)
def test_put_rule_errors(bus: EventBus, kwargs: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(AwsError) as info:
        bus.put_rule(**kwargs)
    assert info.value.code == code
    assert message in info.value.message
    assert bus.list_rules() == []


def test_schedule_on_default_bus_is_validated(broker: Broker) -> None:
    default = broker.event_bus()
    default.put_rule("tick", schedule_expression="rate(5 minutes)")
    assert default.describe_rule("tick")["ScheduleExpression"] == "rate(5 minutes)"
    with pytest.raises(AwsError, match=r"^Parameter ScheduleExpression is not valid\.$"):
        default.put_rule("tock", schedule_expression="rate(1 minutes)")


def test_missing_rule_and_delete(bus: EventBus, broker: Broker) -> None:
    with pytest.raises(AwsError, match=r"^Rule nope does not exist on EventBus shop\.$") as info:
        bus.describe_rule("nope")
    assert info.value.code == "ResourceNotFoundException"
    bus.delete_rule("nope")  # idempotent
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "q", "Arn": broker.queue("q").arn}])
    with pytest.raises(AwsError, match=r"^Rule can't be deleted since it has targets\.$"):
        bus.delete_rule("r")
    bus.remove_targets("r", ["q"])
    bus.delete_rule("r")
    assert bus.list_rules() == []


def test_rules_per_bus_limit(make_broker: Callable[..., Broker]) -> None:
    bus = make_broker(rules_per_bus=2).event_bus("b")
    bus.put_rule("one", event_pattern={"source": ["1"]})
    bus.put_rule("two", event_pattern={"source": ["2"]})
    bus.put_rule("two", event_pattern={"source": ["22"]})  # replacing is no new rule
    with pytest.raises(AwsError, match="exceeds the maximum number allowed") as info:
        bus.put_rule("three", event_pattern={"source": ["3"]})
    assert info.value.code == "LimitExceededException"


# ---------------------------------------------------------------------- targets


def test_targets_limit_and_listing(bus: EventBus, broker: Broker) -> None:
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    queue = broker.queue("q")
    result = bus.put_targets("r", [{"Id": f"t{i}", "Arn": queue} for i in range(5)])
    assert result == {"FailedEntryCount": 0, "FailedEntries": []}
    assert [t["Arn"] for t in bus.list_targets_by_rule("r")] == [queue.arn] * 5
    bus.put_targets("r", [{"Id": "t0", "Arn": queue.arn, "Input": '{"x": 1}'}])  # replace by Id
    assert bus.list_targets_by_rule("r")[0]["Input"] == '{"x": 1}'
    with pytest.raises(
        AwsError, match=r"^The requested resource exceeds the maximum number allowed\.$"
    ) as info:
        bus.put_targets("r", [{"Id": "t5", "Arn": queue.arn}])
    assert info.value.code == "LimitExceededException"
    assert len(bus.list_targets_by_rule("r")) == 5


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"Id": "bad id!", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}, "targets.1.member.id"),
        (
            {
                "Id": "t",
                "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                "Input": "{}",
                "InputPath": "$.detail",
            },
            "Only one of Input, InputPath, or InputTransformer must be provided for target t.",
        ),
        (
            {"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q.fifo"},
            "Parameter(s) SqsParameters must be specified for target: t.",
        ),
        (
            {
                "Id": "t",
                "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                "RetryPolicy": {"MaximumRetryAttempts": 186},
            },
            "less than or equal to 185",
        ),
        (
            {
                "Id": "t",
                "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                "RetryPolicy": {"MaximumEventAgeInSeconds": 59},
            },
            "greater than or equal to 60",
        ),
        (
            {
                "Id": "t",
                "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:d.fifo"},
            },
            "standard SQS queue",
        ),
    ],
)
def test_invalid_targets_change_nothing(bus: EventBus, target: dict[str, Any], message: str) -> None:
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    with pytest.raises(AwsError) as info:
        bus.put_targets("r", [target])
    assert info.value.code == "ValidationException"
    assert message in info.value.message
    assert bus.list_targets_by_rule("r") == []


# ---------------------------------------------------------------------- put_events


def test_envelope_delivered_to_a_queue(broker: Broker, bus: EventBus, clock: FakeClock) -> None:
    bus.put_rule("big", event_pattern={"detail": {"amount": [{"numeric": [">", 100]}]}})
    bus.put_targets("big", [{"Id": "q", "Arn": broker.queue("orders")}])
    result = bus.put_events([entry({"amount": 120}, Resources=["r1"]), entry({"amount": 5})])
    assert result["FailedEntryCount"] == 0
    ids = [e["EventId"] for e in result["Entries"]]
    [message] = broker.queue("orders").receive(max_messages=10)
    assert json.loads(message.body) == {
        "version": "0",
        "id": ids[0],
        "detail-type": "Order Placed",
        "source": "com.shop",
        "account": "000000000000",
        "time": "2023-11-14T22:13:20Z",
        "region": "us-east-1",
        "resources": ["r1"],
        "detail": {"amount": 120},
    }
    assert message.body.startswith('{"version":"0","id":')  # compact, in the envelope's key order
    assert bus.metrics["MatchedEvents"] == 1 and bus.metrics["Invocations"] == 1


def test_entry_time_and_event_bus_name(broker: Broker, bus: EventBus) -> None:
    other = broker.event_bus("other")
    other.put_rule("all", event_pattern={"source": ["com.shop"]})
    other.put_targets("all", [{"Id": "q", "Arn": broker.queue("other-q").arn}])
    bus.put_events([entry(Time=START + 3600.9, EventBusName="other"), entry(EventBusName=other.arn)])
    events = bodies(broker, "other-q")
    assert [e["time"] for e in events] == ["2023-11-14T23:13:20Z", "2023-11-14T22:13:20Z"]
    with pytest.raises(AwsError, match=r"^Event bus nowhere does not exist\.$") as info:
        bus.put_events([entry(EventBusName="nowhere")])
    assert info.value.code == "ResourceNotFoundException"


def test_per_entry_failures(broker: Broker, bus: EventBus) -> None:
    bus.put_rule("all", event_pattern={"source": [{"prefix": ""}]})
    bus.put_targets("all", [{"Id": "q", "Arn": broker.queue("all").arn}])
    result = bus.put_events(
        [
            {"DetailType": "x", "Detail": "{}"},
            {"Source": "s", "Detail": "{}"},
            {"Source": "s", "DetailType": "x"},
            {"Source": "s", "DetailType": "x", "Detail": "[1]"},
            {"Source": "s", "DetailType": "x", "Detail": "not json"},
            entry(),
        ]
    )
    assert result["FailedEntryCount"] == 5
    assert result["Entries"][:5] == [
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument.",
        },
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
    ]
    assert "EventId" in result["Entries"][5]
    assert len(bodies(broker, "all")) == 1


def test_request_limits(bus: EventBus, make_broker: Callable[..., Broker]) -> None:
    with pytest.raises(AwsError, match="Member must have length less than or equal to 10") as info:
        bus.put_events([entry()] * 11)
    assert info.value.code == "ValidationException"
    with pytest.raises(AwsError, match="Member must have length greater than or equal to 1"):
        bus.put_events([])
    small = make_broker(max_events_size=100).event_bus("small")
    with pytest.raises(AwsError, match=r"^Total size of the entries in the request is over the limit\.$"):
        small.put_events([entry({"text": "x" * 100})])
    with pytest.raises(AwsError, match="detailType"):
        bus.put_events([entry(DetailType="d" * 129)])


def test_disabled_rules_match_nothing(broker: Broker, bus: EventBus) -> None:
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "q", "Arn": broker.queue("q").arn}])
    bus.disable_rule("r")
    bus.put_events([entry()])
    assert bodies(broker, "q") == []
    bus.enable_rule("r")
    bus.put_events([entry()])
    assert len(bodies(broker, "q")) == 1


# ---------------------------------------------------------------------- targets of each kind


def test_input_shaping_callables_topics_and_fifo_queues(broker: Broker, bus: EventBus) -> None:
    received: list[Any] = []
    fifo = broker.queue("orders.fifo", content_based_deduplication=True)
    topic = broker.topic("alerts")
    topic.subscribe(broker.queue("alert-inbox"))
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "r",
        [
            {"Id": "call", "Arn": received.append, "InputPath": "$.detail"},
            {
                "Id": "fifo",
                "Arn": fifo,
                "SqsParameters": {"MessageGroupId": "g1"},
                "InputTransformer": {
                    "InputPathsMap": {"amount": "$.detail.amount", "rule": "$.source"},
                    "InputTemplate": '{"total": <amount>, "from": "<rule>", "rule": <aws.events.rule-name>}',
                },
            },
            {"Id": "topic", "Arn": topic.arn, "Input": '{"constant": true}'},
        ],
    )
    bus.put_events([entry({"amount": 7})])
    assert received == [{"amount": 7}]
    [message] = fifo.receive(attribute_names=["All"])
    assert json.loads(message.body) == {"total": 7, "from": "com.shop", "rule": "r"}
    assert message.attributes["MessageGroupId"] == "g1"
    [envelope] = bodies(broker, "alert-inbox")
    assert json.loads(envelope["Message"]) == {"constant": True}


def test_bus_target_forwards_the_event(broker: Broker, bus: EventBus) -> None:
    other = broker.event_bus("audit")
    other.put_rule("all", event_pattern={"source": ["com.shop"]})
    other.put_targets("all", [{"Id": "q", "Arn": broker.queue("audit-q").arn}])
    bus.put_rule("fwd", event_pattern={"source": ["com.shop"]})
    bus.put_targets("fwd", [{"Id": "bus", "Arn": other}])
    event_id = bus.put_events([entry()])["Entries"][0]["EventId"]
    [event] = bodies(broker, "audit-q")
    assert event["id"] == event_id


# ---------------------------------------------------------------------- retries and DLQ


def dead_letters(broker: Broker, queue: str) -> list[tuple[Any, dict[str, str]]]:
    messages = broker.queue(queue).receive(max_messages=10, message_attribute_names=["All"])
    return [
        (json.loads(m.body), {k: v["StringValue"] for k, v in m.message_attributes.items()}) for m in messages
    ]


def test_failing_target_retried_until_attempts_run_out(
    broker: Broker, bus: EventBus, clock: FakeClock
) -> None:
    calls: list[Any] = []

    def flaky(event: Any) -> None:
        calls.append(event)
        raise RuntimeError("down")

    dlq = broker.queue("dlq")
    delivered = broker.queue("fine")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    rule_arn = bus.describe_rule("r")["Arn"]
    bus.put_targets(
        "r",
        [
            {
                "Id": "flaky",
                "Arn": flaky,
                "RetryPolicy": {"MaximumRetryAttempts": 3},
                "DeadLetterConfig": {"Arn": dlq.arn},
            },
            {"Id": "fine", "Arn": delivered},
        ],
    )
    event_id = bus.put_events([entry()])["Entries"][0]["EventId"]
    # The failing target held up nothing: the other target has the event already.
    assert len(delivered.receive(max_messages=10)) == 1
    assert len(calls) == 1 and bus.pending_retries() == 1
    assert bus.run_retries() == 0  # nothing due before the backoff passes
    for _ in range(3):
        clock.advance(3600)
        assert bus.run_retries() == 1
    assert len(calls) == 4 and bus.pending_retries() == 0
    [(event, attributes)] = dead_letters(broker, "dlq")
    assert event["id"] == event_id
    target_arn = attributes.pop("TARGET_ARN")
    assert target_arn.startswith("python:")
    assert attributes == {
        "RULE_ARN": rule_arn,
        "ERROR_CODE": "ERROR_FROM_TARGET",
        "ERROR_MESSAGE": "RuntimeError: down",
        "RETRY_ATTEMPTS": "3",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
    }
    assert bus.metrics["InvocationsSentToDLQ"] == 1
    assert bus.metrics["RetryInvocationAttempts"] == 3


def test_event_age_limit(broker: Broker, bus: EventBus, clock: FakeClock) -> None:
    dlq = broker.queue("dlq")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})

    def down(event: Any) -> None:
        raise ValueError("no")

    bus.put_targets(
        "r",
        [
            {
                "Id": "t",
                "Arn": down,
                "RetryPolicy": {"MaximumEventAgeInSeconds": 60},
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        ],
    )
    bus.put_events([entry()])
    clock.advance(120)
    bus.run_retries()
    [(_, attributes)] = dead_letters(broker, "dlq")
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert attributes["RETRY_ATTEMPTS"] == "1"


def test_missing_queue_is_not_retried(broker: Broker, bus: EventBus) -> None:
    dlq = broker.queue("dlq")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    gone = "arn:aws:sqs:us-east-1:000000000000:gone"
    bus.put_targets("r", [{"Id": "t", "Arn": gone, "DeadLetterConfig": {"Arn": dlq.arn}}])
    bus.put_events([entry()])
    assert bus.pending_retries() == 0
    [(_, attributes)] = dead_letters(broker, "dlq")
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    assert attributes["TARGET_ARN"] == gone
    assert attributes["RETRY_ATTEMPTS"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes


def test_without_dlq_a_failed_event_is_dropped(broker: Broker, bus: EventBus) -> None:
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:gone"}])
    bus.put_events([entry()])
    assert bus.metrics["FailedInvocations"] == 1
    assert bus.metrics["InvocationsSentToDLQ"] == 0


# ---------------------------------------------------------------------- sharing through the store


def test_rules_made_by_one_broker_route_for_another(tmp_path: Path, clock: FakeClock) -> None:
    with Broker(tmp_path / "s.db", clock=clock) as one, Broker(tmp_path / "s.db", clock=clock) as two:
        one.event_bus("shop").put_rule("r", event_pattern={"source": ["com.shop"]})
        one.event_bus("shop").put_targets("r", [{"Id": "q", "Arn": one.queue("q").arn}])
        two.event_bus("shop").put_events([entry()])
        assert len(bodies(one, "q")) == 1
        one.event_bus("shop").disable_rule("r")
        two.event_bus("shop").put_events([entry()])
        assert bodies(one, "q") == []


# ---------------------------------------------------------------------- schedules


def test_scheduled_rule_fires_on_time(make_broker: Callable[..., Broker], clock: FakeClock) -> None:
    broker = make_broker(background_schedules=False)
    default = broker.event_bus()
    received: list[dict[str, Any]] = []
    arn = default.put_rule("tick", schedule_expression="rate(5 minutes)")
    default.put_targets("tick", [{"Id": "t", "Arn": received.append}])
    assert broker.run_schedules() == 0  # nothing due yet
    clock.advance(5 * 60)
    assert broker.run_schedules() == 1
    [event] = received
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [arn]
    assert event["detail"] == {}
    assert event["time"].endswith(":00Z")  # the scheduled minute
    clock.advance(30 * 60)  # six more fire times passed: each fires, in order
    assert broker.run_schedules() == 6
    assert len(received) == 7
    assert [e["time"] for e in received] == sorted(e["time"] for e in received)
    default.disable_rule("tick")
    clock.advance(60 * 60)
    assert broker.run_schedules() == 0


def test_scheduled_fires_happen_once_across_brokers(tmp_path: Path, clock: FakeClock) -> None:
    with (
        Broker(tmp_path / "s.db", clock=clock, background_schedules=False) as one,
        Broker(tmp_path / "s.db", clock=clock, background_schedules=False) as two,
    ):
        one.event_bus().put_rule("tick", schedule_expression="cron(0/10 * * * ? *)")
        one.event_bus().put_targets("tick", [{"Id": "q", "Arn": one.queue("ticks").arn}])
        clock.advance(3600)
        fired = two.run_schedules() + one.run_schedules()
        assert fired == 6
        assert len(one.queue("ticks").receive(max_messages=10)) == 6


# ---------------------------------------------------------------------- HTTP endpoints


def test_http_target_gets_the_event(broker: Broker, bus: EventBus, endpoint: Endpoint) -> None:
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "hook", "Arn": endpoint.url, "InputPath": "$.detail"}])
    bus.put_events([entry({"amount": 3})])
    assert bus.wait_for_deliveries(timeout=30)
    [request] = endpoint.requests
    assert request.json() == {"amount": 3}
    assert request.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("status", "retried"), [(500, True), (429, True), (404, False), (400, False)])
def test_http_errors_retried_or_not(
    broker: Broker, bus: EventBus, endpoint: Endpoint, clock: FakeClock, status: int, retried: bool
) -> None:
    dlq = broker.queue("dlq")
    endpoint.status = status
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "r",
        [
            {
                "Id": "hook",
                "Arn": endpoint.url,
                "RetryPolicy": {"MaximumRetryAttempts": 1},
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        ],
    )
    bus.put_events([entry()])
    assert bus.wait_for_deliveries(timeout=30)
    assert bus.pending_retries() == (1 if retried else 0)
    clock.advance(3600)
    bus.run_retries()
    assert len(endpoint.requests) == (2 if retried else 1)
    [(_, attributes)] = dead_letters(broker, "dlq")
    assert attributes["ERROR_CODE"] == "ERROR_FROM_TARGET"
    assert attributes["ERROR_MESSAGE"].endswith(f"answered {status}")
    assert attributes["RETRY_ATTEMPTS"] == ("1" if retried else "0")


# ---------------------------------------------------------------------- malformed details


@pytest.mark.parametrize(
    "detail",
    [
        '{"a": NaN}',
        '{"a": 1} trailing',
        '{"a": 1}, "source": "forged"',
        '{"a": "\x01"}',
        '{"a": 01}',
        "{" + '"a":{' * 1200 + "}" * 1201,
        '{"a": "\ud800"}',
    ],
)
def test_malformed_details_fail_their_entry_only(broker: Broker, bus: EventBus, detail: str) -> None:
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "q", "Arn": broker.queue("q").arn}])
    result = bus.put_events([{"Source": "com.shop", "DetailType": "x", "Detail": detail}, entry()])
    assert result["FailedEntryCount"] == 1
    assert result["Entries"][0] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert len(bodies(broker, "q")) == 1


def test_detail_is_delivered_as_sent_without_whitespace(broker: Broker, bus: EventBus) -> None:
    bus.put_rule("r", event_pattern={"detail": {"n": [{"numeric": ["=", 2.5]}]}})
    bus.put_targets("r", [{"Id": "q", "Arn": broker.queue("q").arn}])
    bus.put_events([entry(Detail='{ "n" : 2.50 ,\n "s" : "a  b\\u00e9" }')])  # type: ignore[arg-type]
    [message] = broker.queue("q").receive()
    assert message.body.endswith(',"detail":{"n":2.50,"s":"a  b\\u00e9"}}')
    assert json.loads(message.body)["detail"] == {"n": 2.5, "s": "a  bé"}


# ---------------------------------------------------------------------- re-entry and threads


def test_a_callable_target_may_put_events_on_the_same_bus(broker: Broker, bus: EventBus) -> None:
    queue = broker.queue("all")
    bus.put_rule("to-queue", event_pattern={"source": [{"prefix": ""}]})
    bus.put_targets("to-queue", [{"Id": "q", "Arn": queue}])

    def echo(event: Any) -> None:
        bus.put_events([{"Source": "echo", "DetailType": "x", "Detail": "{}"}])

    bus.put_rule("echo", event_pattern={"source": ["com.shop"]})
    bus.put_targets("echo", [{"Id": "e", "Arn": echo}])
    bus.put_events([entry({"n": 1}), entry({"n": 2})])
    sources = sorted(json.loads(m.body)["source"] for m in queue.receive(max_messages=10))
    # Both outer events and both echoes reached the queue: the inner calls lost nothing of the outer's.
    assert sources == ["com.shop", "com.shop", "echo", "echo"]


def test_threads_putting_events_on_one_bus(broker: Broker, bus: EventBus) -> None:
    import threading

    queue = broker.queue("all")
    bus.put_rule("all", event_pattern={"source": ["com.shop"]})
    bus.put_targets("all", [{"Id": "q", "Arn": queue}])

    def put(worker: int) -> None:
        for i in range(50):
            bus.put_events([entry({"worker": worker, "i": i, "j": j}) for j in range(10)])

    threads = [threading.Thread(target=put, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen = []
    while messages := queue.receive(max_messages=10):
        seen.extend((d["worker"], d["i"], d["j"]) for d in (json.loads(m.body)["detail"] for m in messages))
        queue.delete_batch(
            [{"Id": str(k), "ReceiptHandle": m.receipt_handle} for k, m in enumerate(messages)]
        )
    assert sorted(seen) == [(w, i, j) for w in range(4) for i in range(50) for j in range(10)]
