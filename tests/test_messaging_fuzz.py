"""Bad input never crashes: the messaging APIs given random values answer with AWS's errors
(``AwsError``, or a rulebus error for a pattern or policy), a ``TypeError`` for a value of the
wrong Python type, or a result; never another exception, and the broker keeps working after."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rulebus import AwsError, Broker, RulebusError

# Text with the characters that break naive code: controls, quotes, backslashes, surrogates,
# non-BMP characters, and the characters SQS refuses.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\ud800", "\ufffe", "\U0001f600", "{", "}", "[", "]"]),
    ),
    max_size=40,
)
JSONISH: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
EXPECTED = (AwsError, RulebusError, TypeError)


def maybe_json(value: Any) -> Any:
    """A JSON text of the value about half the time, the value itself otherwise."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return value


@pytest.fixture(scope="module")
def broker() -> Broker:
    return Broker(background_retries=False)


def settles(call: Any, cases: Counter[str], name: str) -> None:
    cases[name] += 1
    with contextlib.suppress(*EXPECTED):
        call()


@given(
    entries=st.lists(
        st.dictionaries(
            st.sampled_from(["Source", "DetailType", "Detail", "Resources", "Time", "EventBusName"]),
            st.one_of(TEXT, JSONISH.map(maybe_json), st.lists(TEXT, max_size=3)),
            max_size=6,
        ),
        min_size=0,
        max_size=12,
    )
)
def test_put_events(broker: Broker, cases: Counter[str], entries: list[dict[str, Any]]) -> None:
    bus = broker.event_bus("fuzz")
    if "r" not in [r["Name"] for r in bus.list_rules()]:
        bus.put_rule("r", event_pattern={"source": [{"prefix": ""}]})
        bus.put_targets("r", [{"Id": "q", "Arn": broker.queue("fuzz-sink").arn}])
    settles(lambda: bus.put_events(entries), cases, "messaging fuzz: put_events")
    good = bus.put_events([{"Source": "s", "DetailType": "d", "Detail": "{}"}])
    assert good["FailedEntryCount"] == 0


@given(pattern=JSONISH, name=TEXT, state=TEXT)
def test_put_rule(broker: Broker, cases: Counter[str], pattern: Any, name: str, state: str) -> None:
    bus = broker.event_bus("fuzz-rules")
    settles(
        lambda: bus.put_rule(name or "r", event_pattern=maybe_json(pattern), state=state),
        cases,
        "messaging fuzz: put_rule",
    )


@given(target=st.dictionaries(TEXT, JSONISH, max_size=5), input_=JSONISH)
def test_put_targets(broker: Broker, cases: Counter[str], target: dict[str, Any], input_: Any) -> None:
    bus = broker.event_bus("fuzz-targets")
    bus.put_rule("r", event_pattern={"source": ["x"]})
    target = {"Id": "t", "Arn": broker.queue("fuzz-target").arn, **target, "Input": maybe_json(input_)}
    settles(lambda: bus.put_targets("r", [target]), cases, "messaging fuzz: put_targets")


@given(body=TEXT, attributes=st.dictionaries(TEXT, st.dictionaries(TEXT, JSONISH, max_size=3), max_size=3))
def test_send(broker: Broker, cases: Counter[str], body: str, attributes: dict[str, Any]) -> None:
    queue = broker.queue("fuzz-queue")
    settles(lambda: queue.send(body, message_attributes=attributes), cases, "messaging fuzz: send")
    settles(lambda: queue.receive(max_messages=10), cases, "messaging fuzz: receive")


@given(
    message=TEXT,
    subject=st.none() | TEXT,
    attributes=st.dictionaries(TEXT, st.dictionaries(TEXT, JSONISH, max_size=3), max_size=3),
    policy=JSONISH,
)
def test_publish(
    broker: Broker, cases: Counter[str], message: str, subject: Any, attributes: dict[str, Any], policy: Any
) -> None:
    topic = broker.topic("fuzz-topic")
    settles(
        lambda: topic.subscribe(broker.queue("fuzz-sub"), filter_policy=maybe_json(policy)),
        cases,
        "messaging fuzz: subscribe",
    )
    settles(
        lambda: topic.publish(message, subject=subject, message_attributes=attributes),
        cases,
        "messaging fuzz: publish",
    )


@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(["Data", "PartitionKey", "ExplicitHashKey"]),
            st.one_of(TEXT, st.binary(max_size=20)),
            max_size=3,
        ),
        max_size=5,
    )
)
def test_put_records(broker: Broker, cases: Counter[str], records: list[dict[str, Any]]) -> None:
    stream = broker.stream("fuzz-stream", shards=2)
    settles(lambda: stream.put_records(records), cases, "messaging fuzz: put_records")
