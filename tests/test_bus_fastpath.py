"""put_events' fast paths (python/rulebus/events: bus.py, put_events.py, delivery.py), on both
stores: requests of the usual shape skip the general entry checks (the engine reads them whole,
``RuleSet.route_common``, then ``_put_common``), and plain queue deliveries go to the store in
one ``put_plain_many`` call (``flush_queue_deliveries``), the others the long way. Each test pins
down something these could get wrong: the same results as the general path, deliveries the store
refuses failing exactly as before (dead letters, metrics, no retries), each queue's messages in
entry order, messages alike whichever way they went, exact metrics."""

from __future__ import annotations

import hashlib
import json
from types import MappingProxyType
from typing import Any, Callable

import pytest
from helpers.fake_clock import FakeClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rulebus import AwsError, Broker
from rulebus._core import RuleSet
from rulebus.events.bus import EventBus
from rulebus.sqs.queue import Message
from rulebus.stores.receipts import TOKENS

ACCOUNT = "000000000000"


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    # Retries run when a test calls run_retries, not on the timer's thread.
    return make_broker(background_retries=False)


@pytest.fixture
def bus(broker: Broker) -> EventBus:
    return broker.event_bus("shop")


def entry(detail: Any = None, **fields: Any) -> dict[str, Any]:
    return {
        "Source": "com.shop",
        "DetailType": "Order Placed",
        # Non-ASCII stays as it is (not \u-escaped): the event's text carries it.
        "Detail": detail
        if isinstance(detail, str)
        else json.dumps(detail if detail is not None else {}, ensure_ascii=False),
        **fields,
    }


def qarn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"


def drain(broker: Broker, name: str) -> list[Message]:
    """Every message of the queue, in receive order (deleted as received)."""
    queue = broker.queue(name)
    got: list[Message] = []
    while messages := queue.receive(
        max_messages=10, attribute_names=["All"], message_attribute_names=["All"]
    ):
        got.extend(messages)
        queue.delete_batch(
            [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)]
        )
    return got


def details(broker: Broker, name: str) -> list[Any]:
    """The ``n`` of each message's event detail (the body itself when it is not an event)."""
    out = []
    for message in drain(broker, name):
        body = json.loads(message.body)
        out.append(body["detail"].get("n") if isinstance(body, dict) and "detail" in body else body)
    return out


def dead_letters(broker: Broker, name: str) -> list[tuple[Any, dict[str, str]]]:
    return [
        (json.loads(m.body), {k: v["StringValue"] for k, v in m.message_attributes.items()})
        for m in drain(broker, name)
    ]


# ---------------------------------------------------------------------- which requests go fast


def common(entries: Any, bus: str, limit: int) -> Any:
    """What the engine's reader of the usual request makes of ``entries`` (None: not usual)."""
    return RuleSet("eventbridge").route_common(entries, bus, limit, ACCOUNT, "us-east-1", "t", TOKENS, {})


def test_only_the_usual_shape_takes_the_fast_path() -> None:
    usual = entry({"n": 1})
    routed = common([usual], "shop", 1_048_576)
    assert routed is not None
    failed, results, accepted, plain = routed
    [(event_id, text, matched)] = accepted
    assert (failed, results, matched) == (0, [{"EventId": event_id}], [])
    assert plain == ([], {}, 0, 0, 0)  # (no rule matched: nothing to deliver)
    assert json.loads(text) == {
        "version": "0",
        "id": event_id,
        "detail-type": "Order Placed",
        "source": "com.shop",
        "account": ACCOUNT,
        "time": "t",
        "region": "us-east-1",
        "resources": [],
        "detail": {"n": 1},
    }
    assert common((usual,) * 10, "shop", 1_048_576) is not None
    assert common([entry(EventBusName="shop")], "shop", 1_048_576) is not None
    assert common([{**usual, "DetailType": "d" * 128}], "shop", 1_048_576) is not None
    assert common([{**usual, "DetailType": "é" * 128}], "shop", 1_048_576) is not None
    general: list[Any] = [
        [],
        [usual] * 11,
        "not a list",
        [MappingProxyType(usual)],
        [entry(EventBusName="other")],
        [entry(EventBusName=f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/shop")],
        [entry(Resources=["r"])],
        [entry(Time=1_700_000_000)],
        [entry(TraceHeader="t")],
        [{**usual, "Source": ""}],
        [{"DetailType": "x", "Detail": "{}", "EventBusName": "shop"}],
        [{**usual, "Detail": b"{}"}],
        [{**usual, "DetailType": "d" * 129}],
        [{**usual, "DetailType": "é" * 129}],
        [usual, {**usual, "Source": None}],
        [{**usual, "Source": "com.shop\ud800"}],
        [{**usual, "EventBusName": None, "Source": "x"}],
        [{**usual, "Other": "shop"}],
    ]
    for entries in general:
        assert common(entries, "shop", 1_048_576) is None, entries
    # Sizes are counted in UTF-8 bytes, four times over (as _over_size's quick bound counts
    # characters): a request that may be over goes the general way.
    assert common([usual], "shop", 4 * (len(usual["Detail"]) + 20 + 4)) is not None
    assert common([usual], "shop", 4 * (len(usual["Detail"]) + 20 + 4) - 1) is None
    wide = {**usual, "Source": "é"}  # one character, two bytes: 13 characters, 14 bytes in all
    assert common([wide], "shop", 4 * (len(usual["Detail"]) + 13 + 4)) is None
    assert common([wide], "shop", 4 * (len(usual["Detail"]) + 14 + 4)) is not None


def test_the_usual_request_fails_entries_as_the_general_path_words_them() -> None:
    rules = RuleSet("eventbridge")
    rules.add("all", '{"source": [{"prefix": ""}]}')
    entries = [entry("not json"), entry({"n": 1}, Source="aws.ec2"), entry({"n": 2}), entry("[1]")]
    routed = rules.route_common(entries, "shop", 1_048_576, ACCOUNT, "us-east-1", "t", TOKENS, {})
    assert routed is not None
    failed, results, accepted, _ = routed
    assert failed == 3
    assert results[0] is None and results[1] is False and results[3] is None
    [(event_id, text, matched)] = accepted
    assert results[2] == {"EventId": event_id} and matched == ["all"]
    assert json.loads(text)["detail"] == {"n": 2}
    [(other_id, _, _)] = common([entry()], "shop", 1_048_576)[2]
    assert other_id != event_id  # each call mints its own ids


def test_the_engine_plans_plain_deliveries_by_each_rules_queues() -> None:
    rules = RuleSet("eventbridge")
    rules.add("small", '{"detail": {"n": [{"numeric": ["<", 3]}]}}')
    rules.add("odd", '{"detail": {"n": [1, 3, 5]}}')
    rules.add("gone", '{"detail": {"n": [4]}}')

    def plan(queues: dict[str, Any], *details: Any) -> Any:
        entries = [entry(detail) for detail in details]
        routed = rules.route_common(entries, "shop", 1_048_576, ACCOUNT, "us-east-1", "t", TOKENS, queues)
        assert routed is not None
        texts = {json.loads(text)["detail"]["n"]: text for _, text, _ in routed[2]}
        return routed[3], texts

    queues = {"small": ("a", "b"), "odd": ("b",)}  # ("gone": a rule no longer in the view)
    planned, texts = plan(queues, {"n": 1}, {"n": 2}, {"n": 4}, {"n": 7})
    assert planned == (
        [("a", texts[1]), ("b", texts[1]), ("b", texts[1]), ("a", texts[2]), ("b", texts[2])],
        {"a": 2, "b": 3},
        3,  # events that matched a rule (4 matched "gone" alone)
        3,  # rules triggered
        max(len(texts[1]), len(texts[2]), len(texts[4])),
    )
    # Not plain: a rule that delivers otherwise, or a text with DEL or a non-ASCII character
    # (JSON escapes the other control characters: a tab in a detail is "\t" in the text).
    assert plan({**queues, "odd": None}, {"n": 2}, {"n": 3})[0] is None
    for odd in ("a\x7fb", "é"):
        assert plan(queues, {"n": 1, "s": odd})[0] is None, odd
        assert plan(queues, {"n": 7, "s": odd})[0] == ([], {}, 0, 0, 0)  # (matched nothing)
    assert plan(queues, {"n": 1, "s": "a\tb"})[0] is not None


def _normalized(text: str, ids: list[str]) -> str:
    for position, event_id in enumerate(ids):
        text = text.replace(event_id, f"<event {position}>")
    return text


def _run(broker: Broker, name: str, entries: list[Any]) -> tuple[Any, list[str], dict[str, int], int, int]:
    """A bus of its own with a queue of its own, an archive and a callable; the normalized
    results, the queue's bodies, the metrics, the archive's count and the callable's calls
    after putting ``entries``."""
    bus = broker.event_bus(name)
    calls: list[Any] = []
    bus.put_rule("all", event_pattern={"source": [{"prefix": ""}]})
    bus.put_rule("big", event_pattern={"detail": {"n": [{"numeric": [">", 2]}]}})
    bus.put_targets("all", [{"Id": "q", "Arn": qarn(f"{name}-q")}])
    bus.put_targets("big", [{"Id": "q", "Arn": qarn(f"{name}-q")}, {"Id": "c", "Arn": calls.append}])
    broker.queue(f"{name}-q")
    bus.create_archive(f"{name}-archive")
    try:
        result: Any = bus.put_events(entries)
    except AwsError as error:
        result = (error.code, error.message)
    ids = [e["EventId"] for e in result["Entries"] if "EventId" in e] if isinstance(result, dict) else []
    normalized = json.loads(_normalized(json.dumps(result), ids))
    bodies = [_normalized(m.body, ids) for m in drain(broker, f"{name}-q")]
    archived = bus.describe_archive(f"{name}-archive")["EventCount"]
    return normalized, bodies, dict(bus.metrics), archived, len(calls)


CASES: dict[str, list[dict[str, Any]]] = {
    "plain": [entry({"n": n}) for n in range(10)],
    "aws source": [entry({"n": 1}), entry({"n": 5}, Source="aws.ec2"), entry({"n": 3})],
    "malformed": [entry("not json"), entry({"n": 4}), entry("[1]"), entry('{"n": }')],
    "lone surrogate": [entry({"n": 3}), entry('{"n": 9, "s": "\ud800"}'), entry({"n": 1})],
    "escaped surrogate": [entry('{"n": 9, "s": "\\ud800"}')],
    "non-ascii and DEL": [entry({"n": 3, "s": "é"}), entry('{"n": 4, "s": "a\x7fb"}'), entry({"n": 5})],
    "bus named": [entry({"n": 3}, EventBusName="<bus>"), entry({"n": 1})],
    "all failing": [entry("nope"), entry({"n": 1}, Source="aws.s3")],
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_path_answers_as_the_general_one(broker: Broker, case: str) -> None:
    def entries(bus: str) -> list[dict[str, Any]]:
        return [{k: (bus if v == "<bus>" else v) for k, v in e.items()} for e in CASES[case]]

    fast_entries = entries("fast")
    # (A lone surrogate has no UTF-8: the engine declines the request, the general path answers.)
    assert (common(fast_entries, "fast", broker.max_events_size) is None) == (case == "lone surrogate")
    # The same entries as read-only mappings, which only the general path takes.
    general_entries = [MappingProxyType(e) for e in entries("general")]
    assert _run(broker, "fast", fast_entries) == _run(broker, "general", general_entries)


def test_a_missing_bus_is_refused_alike(broker: Broker) -> None:
    bus = broker.event_bus("shop")
    broker.delete_event_bus("shop")
    for entries in ([entry()], [MappingProxyType(entry())]):
        with pytest.raises(AwsError, match=r"^Event bus shop does not exist\.$") as info:
            bus.put_events(entries)  # type: ignore[arg-type]
        assert info.value.code == "ResourceNotFoundException"


def test_event_time_follows_the_clock(broker: Broker, bus: EventBus, clock: FakeClock) -> None:
    bus.put_rule("all", event_pattern={"source": ["com.shop"]})
    bus.put_targets("all", [{"Id": "q", "Arn": broker.queue("q").arn}])
    for step in (0, 0.4, 0.7, 3600):
        clock.advance(step)
        bus.put_events([entry()])
    times = [json.loads(m.body)["time"] for m in drain(broker, "q")]
    assert times == [
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:21Z",
        "2023-11-14T23:13:21Z",
    ]


# ---------------------------------------------------------------------- plain deliveries


def test_messages_are_alike_whichever_way_they_went(broker: Broker, bus: EventBus, clock: FakeClock) -> None:
    """An ASCII event goes put_plain_many's way, a non-ASCII one the long way: the same
    attributes either way, the queue's DelaySeconds honoured by both."""
    broker.queue("slow", delay_seconds=5)
    bus.put_rule("all", event_pattern={"source": ["com.shop"]})
    bus.put_targets("all", [{"Id": "q", "Arn": qarn("slow")}])
    bus.put_events([entry({"n": 1})])
    bus.put_events([entry({"n": 2, "s": "é"})])
    assert drain(broker, "slow") == []
    clock.advance(5)
    messages = drain(broker, "slow")
    assert [json.loads(m.body)["detail"]["n"] for m in messages] == [1, 2]
    for message in messages:
        assert message.md5_of_body == hashlib.md5(message.body.encode()).hexdigest()
        assert message.message_attributes == {} and message.md5_of_message_attributes is None
        assert {k: v for k, v in message.attributes.items() if k != "ApproximateFirstReceiveTimestamp"} == {
            "ApproximateReceiveCount": "1",
            "SenderId": ACCOUNT,
            "SentTimestamp": "1700000000000",
        }
    assert bus.metrics == {"MatchedEvents": 2, "TriggeredRules": 2, "Invocations": 2}


def test_events_reach_each_queue_in_entry_order(broker: Broker, bus: EventBus) -> None:
    broker.queue("a")
    broker.queue("b")
    bus.put_rule("to-a", event_pattern={"detail": {"q": ["a", "ab"]}})
    bus.put_rule("to-b", event_pattern={"detail": {"q": ["b", "ab"]}})
    bus.put_rule("none", event_pattern={"detail": {"q": ["none"]}})
    bus.put_targets("to-a", [{"Id": "a", "Arn": qarn("a")}])
    bus.put_targets("to-b", [{"Id": "b", "Arn": qarn("b")}, {"Id": "b2", "Arn": qarn("b")}])
    bus.put_targets("none", [{"Id": "a", "Arn": qarn("a")}])
    kinds = ["a", "b", "ab", "x", "a", "ab", "b", "b", "a", "ab"]
    result = bus.put_events([entry({"n": n, "q": q}) for n, q in enumerate(kinds)])
    assert result["FailedEntryCount"] == 0
    assert details(broker, "a") == [n for n, q in enumerate(kinds) if "a" in q]
    # Two targets of one rule on queue b: each event twice, one after the other.
    assert details(broker, "b") == [n for n, q in enumerate(kinds) if "b" in q for _ in range(2)]
    matched = sum(1 for q in kinds if q != "x")
    triggered = sum(len(q) for q in kinds if q != "x")
    invocations = sum({"a": 1, "b": 2, "ab": 3, "x": 0}[q] for q in kinds)
    assert bus.metrics == {"MatchedEvents": matched, "TriggeredRules": triggered, "Invocations": invocations}


def test_order_kept_when_deliveries_to_a_queue_go_both_ways(broker: Broker, bus: EventBus) -> None:
    """The long way for a non-ASCII or DEL-holding event, a MessageGroupId (fair queue) or a
    reshaped payload; the plain way for the rest: one queue gets them all in entry order."""
    broker.queue("q")
    bus.put_rule("whole", event_pattern={"detail": {"w": [True]}})
    bus.put_rule("fair", event_pattern={"detail": {"f": [True]}})
    bus.put_rule("shaped", event_pattern={"detail": {"s": [True]}})
    bus.put_targets("whole", [{"Id": "q", "Arn": qarn("q")}])
    bus.put_targets("fair", [{"Id": "q", "Arn": qarn("q"), "SqsParameters": {"MessageGroupId": "g"}}])
    bus.put_targets("shaped", [{"Id": "q", "Arn": qarn("q"), "InputPath": "$.detail.n"}])
    # A template's tab or carriage return is kept: SendMessage takes it, put_plain_many does not.
    bus.put_rule("tab", event_pattern={"detail": {"tab": [True]}})
    bus.put_rule("cr", event_pattern={"detail": {"cr": [True]}})
    for name, text in (("tab", "\t"), ("cr", "\r")):
        template = {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": f"<n>{text}"}
        bus.put_targets(name, [{"Id": "q", "Arn": qarn("q"), "InputTransformer": template}])
    calls = [
        [
            entry({"n": 0, "w": True}),
            entry({"n": 1, "w": True, "t": "é"}),
            entry({"n": 2, "w": True}),
        ],
        [
            entry('{"n": 3, "w": true, "t": "\x7f"}'),
            entry({"n": 4, "w": True}),
            entry({"n": 5, "f": True}),
            entry({"n": 6, "w": True}),
            entry({"n": 7, "s": True}),
        ],
        [entry({"n": 8, "s": True}), entry({"n": 9, "w": True}), entry({"n": 10, "s": True})],
        [entry({"n": 11, "tab": True}), entry({"n": 12, "w": True})],
        [entry({"n": 13, "cr": True}), entry({"n": 14, "s": True})],
    ]
    for events in calls:
        bus.put_events(events)
    messages = drain(broker, "q")
    got = [json.loads(m.body) for m in messages]
    assert [b if isinstance(b, int) else b["detail"]["n"] for b in got] == list(range(15))
    assert messages[11].body == "11\t" and messages[13].body == "13\r"
    assert [m.attributes.get("MessageGroupId") for m in messages] == [None] * 5 + ["g"] + [None] * 9
    assert bus.metrics == {"MatchedEvents": 15, "TriggeredRules": 15, "Invocations": 15}


def test_a_fifo_target_with_sqs_parameters(broker: Broker, bus: EventBus) -> None:
    broker.queue("orders.fifo", content_based_deduplication=True)
    broker.queue("plain")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "r",
        [
            {"Id": "fifo", "Arn": qarn("orders.fifo"), "SqsParameters": {"MessageGroupId": "g1"}},
            {"Id": "plain", "Arn": qarn("plain")},
        ],
    )
    bus.put_events([entry({"n": n}) for n in range(5)])
    bus.put_events([entry({"n": n}) for n in range(5, 8)])
    fifo = drain(broker, "orders.fifo")
    assert [json.loads(m.body)["detail"]["n"] for m in fifo] == list(range(8))
    assert {m.attributes["MessageGroupId"] for m in fifo} == {"g1"}
    sequence = [int(m.attributes["SequenceNumber"]) for m in fifo]
    assert sequence == sorted(sequence) and len(set(sequence)) == 8
    assert details(broker, "plain") == list(range(8))
    assert bus.metrics == {"MatchedEvents": 8, "TriggeredRules": 8, "Invocations": 16}


# ---------------------------------------------------------------------- what the store refuses


def test_a_message_too_large_for_its_queue_is_dead_lettered(broker: Broker, bus: EventBus) -> None:
    broker.queue("small", maximum_message_size=1024)
    broker.queue("dlq")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "t", "Arn": qarn("small"), "DeadLetterConfig": {"Arn": qarn("dlq")}}])
    result = bus.put_events([entry({"n": 0}), entry({"n": 1, "pad": "x" * 1024}), entry({"n": 2})])
    assert result["FailedEntryCount"] == 0
    assert details(broker, "small") == [0, 2]
    [(event, attributes)] = dead_letters(broker, "dlq")
    assert event["detail"]["n"] == 1 and event["id"] == result["Entries"][1]["EventId"]
    assert attributes == {
        "RULE_ARN": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/shop/r",
        "TARGET_ARN": qarn("small"),
        "ERROR_CODE": "INVALID_PARAMETER",
        "ERROR_MESSAGE": "InvalidParameterValue: One or more parameters are invalid. "
        "Reason: Message must be shorter than 1024 bytes.",
        "RETRY_ATTEMPTS": "0",
    }
    assert bus.pending_retries() == 0
    assert bus.metrics == {
        "MatchedEvents": 3,
        "TriggeredRules": 3,
        "Invocations": 3,
        "FailedInvocations": 1,
        "InvocationsSentToDLQ": 1,
    }


def test_a_deleted_queue_fails_its_deliveries_only(broker: Broker, bus: EventBus) -> None:
    broker.queue("gone")
    broker.queue("kept")
    broker.queue("dlq")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "r",
        [
            {"Id": "gone", "Arn": qarn("gone"), "DeadLetterConfig": {"Arn": qarn("dlq")}},
            {"Id": "kept", "Arn": qarn("kept")},
        ],
    )
    broker.delete_queue("gone")
    bus.put_events([entry({"n": 0}), entry({"n": 1})])
    assert details(broker, "kept") == [0, 1]
    letters = dead_letters(broker, "dlq")
    assert [event["detail"]["n"] for event, _ in letters] == [0, 1]
    assert {a["ERROR_CODE"] for _, a in letters} == {"NO_RESOURCE"}
    assert {a["ERROR_MESSAGE"] for _, a in letters} == {"Queue gone does not exist."}
    assert {a["RETRY_ATTEMPTS"] for _, a in letters} == {"0"}
    assert bus.pending_retries() == 0
    assert bus.metrics == {
        "MatchedEvents": 2,
        "TriggeredRules": 2,
        "Invocations": 4,
        "FailedInvocations": 2,
        "InvocationsSentToDLQ": 2,
    }


def test_a_queue_of_another_region_is_not_reached(broker: Broker, bus: EventBus) -> None:
    broker.queue("q")
    broker.queue("dlq")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets(
        "r", [{"Id": "t", "Arn": qarn("q", "eu-west-1"), "DeadLetterConfig": {"Arn": qarn("dlq")}}]
    )
    bus.put_events([entry({"n": 0})])
    assert drain(broker, "q") == []
    [(_, attributes)] = dead_letters(broker, "dlq")
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    assert attributes["ERROR_MESSAGE"] == "Queue q does not exist."
    assert bus.metrics["FailedInvocations"] == 1 and bus.metrics["Invocations"] == 1


def test_dead_letters_precede_the_calls_deliveries(broker: Broker, bus: EventBus) -> None:
    """As when every delivery went the long way: a failure is dead-lettered before the call's
    messages are stored, so a DLQ that is also a target gets the dead letter first."""
    broker.queue("dlq")
    broker.queue("q")
    bus.put_rule("fails", event_pattern={"detail": {"n": [0]}})
    bus.put_rule("to-dlq", event_pattern={"detail": {"n": [1]}})
    dlq = {"Arn": qarn("dlq")}
    # A queue that is gone, and a payload SendMessage refuses (a control character from the
    # template), on an existing queue.
    control = {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": "<n>\x01"}
    bus.put_targets(
        "fails",
        [
            {"Id": "gone", "Arn": qarn("never-made"), "DeadLetterConfig": dlq},
            {"Id": "control", "Arn": qarn("q"), "InputTransformer": control, "DeadLetterConfig": dlq},
        ],
    )
    bus.put_targets("to-dlq", [{"Id": "t", "Arn": qarn("dlq")}])
    bus.put_events([entry({"n": 1}), entry({"n": 0}), entry({"n": 1})])
    letters = dead_letters(broker, "dlq")
    assert [(event["detail"]["n"], attributes.get("ERROR_CODE")) for event, attributes in letters] == [
        (0, "NO_RESOURCE"),
        (0, "INVALID_PARAMETER"),
        (1, None),
        (1, None),
    ]
    assert letters[1][1]["ERROR_MESSAGE"].startswith("InvalidMessageContents: Invalid binary character '#x1'")
    assert drain(broker, "q") == []
    assert bus.metrics["FailedInvocations"] == 2 and bus.metrics["InvocationsSentToDLQ"] == 2


def test_deliveries_the_store_refuses_go_the_long_way(
    broker: Broker, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a queue change between the flush's look-up and put_plain_many (here: a store that
    refuses some), the deliveries it refused still arrive, once each, and count once."""
    broker.queue("a")
    broker.queue("b")
    bus.put_rule("r", event_pattern={"source": ["com.shop"]})
    bus.put_targets("r", [{"Id": "a", "Arn": qarn("a")}, {"Id": "b", "Arn": qarn("b")}])
    store = broker._store
    original = store.queues.put_plain_many
    seen: list[int] = []

    def refusing(deliveries: Any, sender_id: str, now: float) -> list[int]:
        seen.append(len(deliveries))
        odd = [i for i in range(len(deliveries)) if i % 2]
        kept = [d for i, d in enumerate(deliveries) if not i % 2]
        assert original(kept, sender_id, now) == []
        return odd

    monkeypatch.setattr(store.queues, "put_plain_many", refusing)
    bus.put_events([entry({"n": n}) for n in range(5)])
    assert seen == [10]
    assert sorted(details(broker, "a")) == list(range(5))
    assert sorted(details(broker, "b")) == list(range(5))
    assert bus.metrics == {"MatchedEvents": 5, "TriggeredRules": 5, "Invocations": 10}
    # Refused while later deliveries to the queue went the long way: stored in entry order with them.
    monkeypatch.setattr(store.queues, "put_plain_many", lambda deliveries, *_: list(range(len(deliveries))))
    bus.put_events([entry({"n": 0}), entry({"n": 1, "t": "é"}), entry({"n": 2})])
    assert details(broker, "a") == [0, 1, 2]
    assert details(broker, "b") == [0, 1, 2]


# ---------------------------------------------------------------------- re-entry


def test_a_callable_putting_events_on_its_bus_counts_exactly(broker: Broker, bus: EventBus) -> None:
    broker.queue("all")
    bus.put_rule("to-queue", event_pattern={"source": [{"prefix": ""}]})
    bus.put_targets("to-queue", [{"Id": "q", "Arn": qarn("all")}])

    def echo(event: Any) -> None:
        result = bus.put_events(
            [{"Source": "echo", "DetailType": "x", "Detail": json.dumps(event["detail"])}]
        )
        assert result["FailedEntryCount"] == 0

    bus.put_rule("echo", event_pattern={"source": ["com.shop"]})
    bus.put_targets("echo", [{"Id": "e", "Arn": echo}])
    bus.put_events([entry({"n": 1}), entry({"n": 2})])
    got = [(json.loads(m.body)["source"], json.loads(m.body)["detail"]["n"]) for m in drain(broker, "all")]
    # Each inner call stores its own event before it returns; the outer ones come at the end.
    assert got == [("echo", 1), ("echo", 2), ("com.shop", 1), ("com.shop", 2)]
    assert bus.metrics == {"MatchedEvents": 4, "TriggeredRules": 6, "Invocations": 6}


# ---------------------------------------------------------------------- the plain lane

# Targets a rule may have: two standard queues, one with the smallest MaximumMessageSize (so a
# long event does not fit), a FIFO queue, a queue that does not exist, an input transformer.
_TARGETS = {
    "a": {"Arn": qarn("a")},
    "b": {"Arn": qarn("b")},
    "small": {"Arn": qarn("small")},
    "fifo": {"Arn": qarn("f.fifo"), "SqsParameters": {"MessageGroupId": "g"}},
    "gone": {"Arn": qarn("gone")},
    "shaped": {"Arn": qarn("a"), "InputPath": "$.detail"},
}
_RULES = st.lists(
    st.tuples(
        st.sets(st.integers(0, 3), min_size=1),
        st.lists(st.sampled_from(sorted(_TARGETS)), max_size=3, unique=True),
    ),
    min_size=1,
    max_size=4,
)
_EVENTS = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 1500), st.booleans()), min_size=1, max_size=10
)


def _bus_with(rules: list[tuple[set[int], list[str]]], *, general: bool) -> tuple[Broker, EventBus]:
    broker = Broker(background_retries=False)
    for name in ("a", "b", "dlq"):
        broker.queue(name)
    broker.queue("small", maximum_message_size=1024)
    broker.queue("f.fifo", content_based_deduplication=True)
    bus = broker.event_bus("shop")
    if general:  # an enabled archive on the bus: every request takes the general path
        bus.create_archive("keep", event_pattern={"source": ["nothing"]})
    for index, (values, targets) in enumerate(rules):
        bus.put_rule(f"r{index}", event_pattern={"detail": {"n": sorted(values)}})
        if targets:
            bus.put_targets(
                f"r{index}",
                [{"Id": t, **_TARGETS[t], "DeadLetterConfig": {"Arn": qarn("dlq")}} for t in targets],
            )
    return broker, bus


def _delivered(broker: Broker) -> dict[str, list[Any]]:
    """Each queue's messages, in order, with what differs between two brokers (ids, times) left out."""
    out: dict[str, list[Any]] = {}
    for name in ("a", "b", "small", "f.fifo", "dlq"):
        bodies = []
        for message in drain(broker, name):
            body = json.loads(message.body)
            if isinstance(body, dict):
                body.pop("id", None)
                body.pop("time", None)
            attributes = {k: v["StringValue"] for k, v in message.message_attributes.items()}
            bodies.append((body, sorted(attributes.items())))
        out[name] = bodies
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=_RULES, events=_EVENTS)
def test_the_plain_lane_delivers_as_the_general_path(
    rules: list[tuple[set[int], list[str]]], events: list[tuple[int, int, bool]]
) -> None:
    """``BusDelivery.deliver_plain`` (taken when every delivery of a request is plain) stores,
    counts and refuses exactly what the general path (forced here by an archive) does."""
    entries = [entry({"n": n, "pad": ("é" if accented else "x") * pad}) for n, pad, accented in events]
    answers = []
    for general in (False, True):
        broker, bus = _bus_with(rules, general=general)
        with broker:
            result = bus.put_events(entries)
            answers.append(
                (
                    result["FailedEntryCount"],
                    [sorted(r) for r in result["Entries"]],
                    _delivered(broker),
                    dict(bus.metrics),
                )
            )
    assert answers[0] == answers[1]


def test_the_plain_lane_is_taken_only_when_every_delivery_is_plain(
    broker: Broker, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker.queue("a")
    broker.queue("f.fifo", content_based_deduplication=True)
    bus.put_rule("r", event_pattern={"detail": {"n": [1]}})
    bus.put_targets("r", [{"Id": "a", "Arn": qarn("a")}])
    bus.put_rule("fifo", event_pattern={"detail": {"n": [2]}})
    bus.put_targets("fifo", [{"Id": "f", "Arn": qarn("f.fifo"), "SqsParameters": {"MessageGroupId": "g"}}])
    taken: list[bool] = []
    original = bus._delivery.deliver_plain

    def spy(*args: Any) -> bool:
        taken.append(original(*args))
        return taken[-1]

    monkeypatch.setattr(bus._delivery, "deliver_plain", spy)
    bus.put_events([entry({"n": 1}), entry({"n": 1})])
    bus.put_events([entry({"n": 1}), entry({"n": 2})])  # one FIFO delivery: the general path
    bus.put_events([entry({"n": 1, "t": "é"})])  # not ASCII: the general path
    assert taken == [True, False, False]
    assert details(broker, "a") == [1, 1, 1, 1]
    assert len(drain(broker, "f.fifo")) == 1
    assert bus.metrics == {"MatchedEvents": 5, "TriggeredRules": 5, "Invocations": 5}
