"""RuleSet("sns").matches_many: the same answers as ``matches`` item by item, the same error at
the same item, and the GIL released while a batch is matched."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import rulebus
from hypothesis import given, settings
from hypothesis import strategies as st

_KEYS = ["a", "b", "c"]
_CONDITIONS = [
    ["x"],
    ["x", "y"],
    [{"prefix": "x"}],
    [{"anything-but": "y"}],
    [{"numeric": [">", 1]}],
    [{"exists": False}],
    [{"exists": True}],
]


@st.composite
def policies(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A policy over keys a..c, of either scope (body ones sometimes nested under "n")."""
    scope = draw(st.sampled_from(["MessageAttributes", "MessageBody"]))
    keys = draw(st.lists(st.sampled_from(_KEYS), max_size=3, unique=True))
    policy: dict[str, Any] = {key: draw(st.sampled_from(_CONDITIONS)) for key in keys}
    if scope == "MessageBody" and draw(st.booleans()):
        policy = {"n": policy}
    return policy, scope


_VALUES = st.sampled_from(["x", "y", "xy", 2, 0, [1, "x"]])


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    """A body as ``matches`` takes it: absent, not JSON, or an object as text, bytes or a dict."""
    kind = draw(st.sampled_from(["none", "not json", "str", "bytes", "dict"]))
    if kind == "none":
        return None
    if kind == "not json":
        return "not json"
    fields = draw(st.dictionaries(st.sampled_from([*_KEYS, "n"]), _VALUES, max_size=4))
    body = {**fields, "n": dict(fields)}
    return {"str": json.dumps(body), "bytes": json.dumps(body).encode(), "dict": body}[kind]


@st.composite
def attribute_maps(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """Message attributes in the notification form or boto3's Publish form."""
    out: dict[str, dict[str, Any]] = {}
    for name in draw(st.lists(st.sampled_from(_KEYS), max_size=3, unique=True)):
        data_type = draw(st.sampled_from(["String", "Number", "String.Array"]))
        value = draw(st.sampled_from(["x", "y", "2", '["x", 2]', 3]))
        if draw(st.booleans()):
            out[name] = {"Type": data_type, "Value": value}
        else:
            out[name] = {"DataType": data_type, "StringValue": value}
    return out


# Items ``matches`` refuses, each with a different error: a body of no JSON type, attributes
# that are no mapping, an attribute that is no mapping, an attribute without a type, a tuple
# that is no pair (read as a body), a list pair (read as a body).
_INVALID = [
    42,
    ("{}", ["not", "a", "mapping"]),
    ("{}", {"a": "x"}),
    (None, {"a": {"Value": "x"}}),
    ("{}", {}, {}),
    ['{"a": "x"}', {}],
]


@st.composite
def items(draw: st.DrawFn) -> Any:
    """A batch item: a body alone or a (body, attributes) pair, attributes maybe None."""
    body = draw(bodies())
    shape = draw(st.sampled_from(["body", "pair", "pair without attributes"]))
    if shape == "body":
        return body
    return (body, None if shape == "pair without attributes" else draw(attribute_maps()))


def _matches_one_by_one(rs: rulebus.RuleSet, batch: list[Any]) -> list[list[str]]:
    """What matches_many answers, by ``matches``: a 2-tuple is (body, attributes), else a body."""
    return [
        rs.matches(*item) if isinstance(item, tuple) and len(item) == 2 else rs.matches(item)
        for item in batch
    ]


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as error:  # the outcome compared is the error's type and text
        return type(error).__name__, str(error)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(policies(), min_size=1, max_size=8),
    st.lists(st.integers(0, 4), max_size=2),
    st.lists(items(), max_size=12),
    st.none() | st.tuples(st.integers(0, 12), st.sampled_from(_INVALID)),
)
def test_matches_many_is_matches_item_by_item(
    rules: list[tuple[dict[str, Any], str]],
    removed: list[int],
    batch: list[Any],
    invalid: tuple[int, Any] | None,
) -> None:
    rs = rulebus.RuleSet("sns")
    for i, (policy, scope) in enumerate(rules):
        # Names repeat: a later policy replaces an earlier one, maybe in the other scope.
        with contextlib.suppress(rulebus.InvalidFilterPolicyError):  # e.g. an empty nested object
            rs.add(f"p{i % 5}", policy, scope=scope)
    for i in removed:
        if f"p{i}" in rs:
            rs.remove(f"p{i}")
    if invalid is not None:
        at, item = invalid
        batch.insert(min(at, len(batch)), item)
    remaining = iter(batch)
    assert _outcome(lambda: rs.matches_many(remaining)) == _outcome(lambda: _matches_one_by_one(rs, batch))
    if invalid is not None:
        # Items are read one at a time: reading stopped at the invalid one.
        assert list(remaining) == batch[min(invalid[0], len(batch) - 1) + 1 :]


def test_an_invalid_item_raises_matches_error_for_it() -> None:
    rs = rulebus.RuleSet("sns")
    rs.add("red", {"color": ["red"]})
    red = ("{}", {"color": {"Type": "String", "Value": "red"}})
    with pytest.raises(rulebus.ParameterTypeError) as expected:
        rs.matches("{}", {"color": "red"})
    with pytest.raises(rulebus.ParameterTypeError) as raised:
        rs.matches_many([red, ("{}", {"color": "red"}), red])
    assert str(raised.value) == str(expected.value)
    assert rs.matches_many([red, "{}", (None, None), None]) == [["red"], [], [], []]


def test_results_follow_the_rules_after_removals() -> None:
    # Names are kept by position between batches: a removal shifts the positions.
    rs = rulebus.RuleSet("sns")
    for name in ("a", "b", "c"):
        rs.add(name, "{}")
    assert rs.matches_many([None]) == [["a", "b", "c"]]
    rs.remove("a")
    assert rs.matches_many([None]) == [["b", "c"]]
    rs.add("a", {"k": ["v"]}, scope="MessageBody")
    assert rs.matches_many(['{"k": "v"}', "{}"]) == [["b", "c", "a"], ["b", "c"]]


def test_another_thread_runs_while_a_large_batch_is_matched() -> None:
    rs = rulebus.RuleSet("sns")
    for i in range(100):
        rs.add(f"p{i}", {"store": [f"s{i}"], "price": [{"numeric": [">", i]}]})
    rs.add("body", {"order": {"total": [{"numeric": [">", 100]}]}}, scope="MessageBody")
    batch = [
        (
            '{"order": {"total": 120}}',
            {"store": {"Type": "String", "Value": f"s{i % 150}"}, "price": {"Type": "Number", "Value": "50"}},
        )
        for i in range(200_000)
    ]
    rs.matches_many(batch[:1])  # the rules' indexes are built (a change is applied without the GIL)
    counter = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # gives the GIL back at once: the counter moves only while it is free

    # With the interval this long the interpreter never takes the GIL from this thread: the
    # counting thread runs only when the GIL is given up.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    thread = threading.Thread(target=count)
    try:
        thread.start()
        before = counter[0]
        found = rs.matches_many(batch)
        after = counter[0]
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        thread.join()
    assert after > before
    assert found[0] == ["p0", "body"] and found[149] == ["body"] and len(found) == len(batch)


def _reads_then_raises(batch: list[Any]) -> Iterator[Any]:
    yield from batch
    raise LookupError("the iterable failed")


def test_an_iterable_that_raises_raises_through() -> None:
    rs = rulebus.RuleSet("sns")
    rs.add("all", "{}")
    with pytest.raises(LookupError, match="the iterable failed"):
        rs.matches_many(_reads_then_raises(["{}", None]))
    with pytest.raises(rulebus.ParameterTypeError):
        rs.matches_many(42)  # type: ignore[arg-type]
