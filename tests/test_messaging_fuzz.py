"""Bad input never crashes, on every store: the messaging APIs given random values answer with
AWS's errors (``AwsError``, or a rulebus error for a pattern or policy), a ``TypeError`` for a
value of the wrong Python type, or a result; never another exception, and the broker keeps
working after.

Each property runs once per backend of the store contract suite (``make_broker``: memory,
SQLite, the delegating store). On SQLite and the delegating store every call is also made on a
memory-store broker, the model, and the two must answer alike: the same error (type, code and
text) or the same result, ids that are random by design (message and event ids, receipt handles)
aside, and deliver the same messages. The case counts in the summary are per backend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import pytest
from helpers.fake_clock import FakeClock
from hypothesis import HealthCheck, given, settings
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

#: Examples per property, as a share of the profile's: all of them on the memory store, fewer
#: where each is made twice (on the model too), and fewer still on SQLite (each call writes a
#: file); generating the examples is most of the time.
SHARE = {"memory": 1, "delegating": 2, "sqlite": 3, "redis": 3}
#: Keys whose values are random by design, left out of the comparison with the model.
RANDOM_KEYS = frozenset(("message_id", "receipt_handle", "EventId", "MessageId"))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def maybe_json(value: Any) -> Any:
    """A JSON text of the value about half the time, the value itself otherwise."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return value


def comparable(value: Any) -> Any:
    """A result with what is random by design (ids, UUIDs inside texts) taken out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    elif isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple result
        value = dict(zip(value._fields, value))
    if isinstance(value, Mapping):
        return {key: comparable(item) for key, item in value.items() if key not in RANDOM_KEYS}
    if isinstance(value, (list, tuple)):
        return [comparable(item) for item in value]
    if isinstance(value, str):
        return UUID.sub("<uuid>", value)
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return value
    return repr(value)  # another broker's Queue or Topic: equal when it names the same one


def outcome(call: Callable[[Broker], Any], broker: Broker) -> tuple[Any, ...]:
    """What a call answered: ("ok", its comparable result) or ("error", what identifies it)."""
    try:
        return ("ok", comparable(call(broker)))
    except AwsError as error:
        return ("error", "AwsError", error.code, str(error))
    except (RulebusError, TypeError) as error:
        return ("error", type(error).__name__, str(error))


class Fuzz:
    """One backend's broker and, unless it is the memory store, the model to agree with."""

    def __init__(self, backend: str, broker: Broker, model: Broker | None, cases: Counter[str]) -> None:
        self.backend = backend
        self.broker = broker
        self.model = model
        self._cases = cases

    def settings(self, test: Callable[..., None]) -> Callable[..., None]:
        """Hypothesis settings for this backend (the brokers outlive the examples on purpose:
        state carries over from one example to the next, as in a long-running process)."""
        examples = max(1, settings().max_examples // SHARE[self.backend])
        return settings(
            max_examples=examples,
            suppress_health_check=[
                *settings().suppress_health_check,
                HealthCheck.function_scoped_fixture,
            ],
        )(test)

    def settles(self, call: Callable[[Broker], Any], name: str) -> None:
        """Make the call; it answers as expected, and as on the model."""
        self._cases[f"messaging fuzz: {name} ({self.backend})"] += 1
        if self.model is None:
            with contextlib.suppress(*EXPECTED):
                call(self.broker)
            return
        assert outcome(call, self.broker) == outcome(call, self.model), name

    def agree(self, call: Callable[[Broker], Any]) -> Any:
        """A call that must succeed, with the same result on the model; the result."""
        result = call(self.broker)
        if self.model is not None:
            assert comparable(result) == comparable(call(self.model))
        return result


@pytest.fixture
def fuzz(
    request: pytest.FixtureRequest, make_broker: Callable[..., Broker], clock: FakeClock, cases: Counter[str]
) -> Iterator[Fuzz]:
    backend = request.node.callspec.params["make_broker"]
    model = None if backend == "memory" else Broker(clock=clock, background_retries=False)
    try:
        yield Fuzz(backend, make_broker(background_retries=False), model, cases)
    finally:
        if model is not None:
            model.close()


def delivered(queue_name: str) -> Callable[[Broker], list[Any]]:
    """Receive what a queue holds (with every attribute); the envelope of a JSON body parsed."""

    def receive(broker: Broker) -> list[Any]:
        messages = broker.queue(queue_name).receive(
            max_messages=10, attribute_names=["All"], message_attribute_names=["All"]
        )
        out: list[Any] = []
        for message in messages:
            with contextlib.suppress(ValueError):
                body = json.loads(message.body)
                # An SNS envelope's signature and URLs hold its random ids.
                if isinstance(body, dict):
                    for key in ("Signature", "SigningCertURL", "UnsubscribeURL"):
                        body.pop(key, None)
                out.append({"json": body, "attributes": message.message_attributes})
                continue
            out.append(message)
        return out

    return receive


def test_put_events(fuzz: Fuzz) -> None:
    @fuzz.settings
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
    def run(entries: list[dict[str, Any]]) -> None:
        def setup(broker: Broker) -> None:
            bus = broker.event_bus("fuzz")
            if "r" not in [r["Name"] for r in bus.list_rules()]:
                bus.put_rule("r", event_pattern={"source": [{"prefix": ""}]})
                bus.put_targets("r", [{"Id": "q", "Arn": broker.queue("fuzz-sink").arn}])

        fuzz.agree(setup)
        fuzz.settles(lambda b: b.event_bus("fuzz").put_events(entries), "put_events")
        good = fuzz.agree(
            lambda b: b.event_bus("fuzz").put_events([{"Source": "s", "DetailType": "d", "Detail": "{}"}])
        )
        assert good["FailedEntryCount"] == 0
        fuzz.agree(delivered("fuzz-sink"))

    run()


def test_put_rule(fuzz: Fuzz) -> None:
    @fuzz.settings
    @given(pattern=JSONISH, name=TEXT, state=TEXT)
    def run(pattern: Any, name: str, state: str) -> None:
        fuzz.settles(
            lambda b: b.event_bus("fuzz-rules").put_rule(
                name or "r", event_pattern=maybe_json(pattern), state=state
            ),
            "put_rule",
        )
        fuzz.agree(lambda b: b.event_bus("fuzz-rules").list_rules())

    run()


def test_put_targets(fuzz: Fuzz) -> None:
    @fuzz.settings
    @given(target=st.dictionaries(TEXT, JSONISH, max_size=5), input_=JSONISH)
    def run(target: dict[str, Any], input_: Any) -> None:
        def put(broker: Broker) -> Any:
            bus = broker.event_bus("fuzz-targets")
            bus.put_rule("r", event_pattern={"source": ["x"]})
            given_target = {
                "Id": "t",
                "Arn": broker.queue("fuzz-target").arn,
                **target,
                "Input": maybe_json(input_),
            }
            return bus.put_targets("r", [given_target])

        fuzz.settles(put, "put_targets")
        fuzz.agree(lambda b: b.event_bus("fuzz-targets").list_targets_by_rule("r"))

    run()


def test_send(fuzz: Fuzz) -> None:
    @fuzz.settings
    @given(
        body=TEXT, attributes=st.dictionaries(TEXT, st.dictionaries(TEXT, JSONISH, max_size=3), max_size=3)
    )
    def run(body: str, attributes: dict[str, Any]) -> None:
        fuzz.settles(lambda b: b.queue("fuzz-queue").send(body, message_attributes=attributes), "send")
        fuzz.settles(delivered("fuzz-queue"), "receive")

    run()


def test_publish(fuzz: Fuzz) -> None:
    @fuzz.settings
    @given(
        message=TEXT,
        subject=st.none() | TEXT,
        attributes=st.dictionaries(TEXT, st.dictionaries(TEXT, JSONISH, max_size=3), max_size=3),
        policy=JSONISH,
    )
    def run(message: str, subject: Any, attributes: dict[str, Any], policy: Any) -> None:
        fuzz.settles(
            lambda b: b.topic("fuzz-topic").subscribe(b.queue("fuzz-sub"), filter_policy=maybe_json(policy)),
            "subscribe",
        )
        fuzz.settles(
            lambda b: b.topic("fuzz-topic").publish(message, subject=subject, message_attributes=attributes),
            "publish",
        )
        fuzz.agree(delivered("fuzz-sub"))

    run()


def test_put_records(fuzz: Fuzz) -> None:
    @fuzz.settings
    @given(
        records=st.lists(
            st.dictionaries(
                st.sampled_from(["Data", "PartitionKey", "ExplicitHashKey"]),
                # Decimal texts: hash keys in and out of range, and valid partition keys, so
                # that whole requests pass too.
                st.one_of(TEXT, st.binary(max_size=20), st.integers(0, 2**129).map(str)),
                max_size=3,
            ),
            max_size=5,
        )
    )
    def run(records: list[dict[str, Any]]) -> None:
        fuzz.settles(lambda b: b.stream("fuzz-stream", shards=2).put_records(records), "put_records")
        good = fuzz.agree(
            lambda b: b.stream("fuzz-stream").put_records([{"Data": b"d", "PartitionKey": "k"}])
        )
        assert good["FailedRecordCount"] == 0
        fuzz.agree(lambda b: b.stream("fuzz-stream").describe()["Shards"])

    run()
