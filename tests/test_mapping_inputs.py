"""A Python mapping given as a pattern or an event reads exactly as its JSON text does.

The binding writes a mapping's JSON text natively; it must be the text ``rulebus._convert.to_json``
(``json.dumps``) writes, byte for byte, so that answers, errors and ``Pattern.text`` are the same
whichever form a user passes. Shapes the native walk leaves to the Python converter (other
mappings, container subclasses, lone surrogates, big ints, cycles, deep nesting) are covered too.
"""

from __future__ import annotations

import collections
import enum
import json
import math
import random
import struct
import types
from typing import Any, Callable

import pytest
import rulebus
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus._convert import to_json

PATTERNS = [
    '{"a": ["x"]}',
    '{"a": [{"prefix": "\\u00e9"}]}',
    '{"a": [{"numeric": [">", 0]}]}',
    '{"b": {"c": [{"exists": true}]}}',
    '{"a": [{"anything-but": ["x"]}], "b": [{"exists": false}]}',
    '{"n": [1.5, 100, -2]}',
]


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("ok", call())
    except Exception as e:
        return (type(e), str(e), getattr(e, "reason", None))


def _same_as_text(mapping: Any) -> None:
    """The mapping as pattern and as event gives what its converted text gives."""
    text = _outcome(lambda: to_json(mapping))
    as_pattern = _outcome(lambda: rulebus.Pattern(mapping).text)
    if text[0] != "ok":
        # The converter refuses it: the native path raises the same.
        assert as_pattern == text
        assert _outcome(lambda: rulebus.Pattern(PATTERNS[0]).matches(mapping)) == text
        return
    assert as_pattern == _outcome(lambda: rulebus.Pattern(text[1]).text)
    for pattern in PATTERNS:
        compiled = rulebus.Pattern(pattern)
        as_event = _outcome(lambda c=compiled: c.matches(mapping))
        assert as_event == _outcome(lambda c=compiled: c.matches(text[1]))
    as_policy = _outcome(lambda: rulebus.FilterPolicy(mapping).text)
    assert as_policy == _outcome(lambda: rulebus.FilterPolicy(text[1]).text)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["x", "é", "\u2603", "\U0001f600", 'a"b\\c', "\x00\x1f\x7f", "\ud800", "\udfff x"])
)
keys = (
    st.text()
    | st.sampled_from(["a", "b", "c", "n"])
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.none()
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=5))
def test_any_dict_reads_as_its_text(mapping: dict[Any, Any]) -> None:
    _same_as_text(mapping)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "n"]), scalars, min_size=1))
def test_scalar_fields_read_as_their_text(mapping: dict[str, Any]) -> None:
    _same_as_text(mapping)
    _same_as_text({key: [value] for key, value in mapping.items()})


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_written_as_repr(value: float) -> None:
    assert rulebus.Pattern({"n": [value]}).text == json.dumps({"n": [value]})


def test_floats_of_every_exponent_are_written_as_repr() -> None:
    rng = random.Random(20240612)
    values = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(20000)]
    values += [10.0**e for e in range(-325, 309)] + [1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 0.0, -0.0]
    values += [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2, 1 / 3, 123456789.125]
    finite = [v for v in values if math.isfinite(v)]
    texts = [rulebus.Pattern({"n": [v]}).text for v in finite]
    assert texts == [json.dumps({"n": [v]}) for v in finite]


class Color(str, enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    BIG = 3


class Ratio(float):
    def __repr__(self) -> str:
        return "not used by json"


class Keys(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        return [("a", "from items()")]


class Items(list):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        return iter(["from __iter__"])


SHAPES: dict[str, Any] = {
    "empty": {},
    "nested": {"a": {"b": [1, 2.5, "x", None, True, False, [], {}]}},
    "tuple": {"a": ("x", 1), "b": [(), ((1,),)]},
    "non-string keys": {
        3: "a",
        2.5: "b",
        True: "c",
        None: "d",
        -7: "e",
        float("nan"): "f",
        float("-inf"): "g",
    },
    "control and non-ascii": {"a": 'tab\tnew\nline\x00\x1f\x7f é \u2028 \U0001f600 "q" \\'},
    "key escapes": {'k"e\\y\n\u00e9': 1},
    "big ints": {"a": 2**63, "b": -(2**63) - 1, "c": 2**64, "d": 10**30, "e": 2**63 - 1},
    "non-finite": {"a": float("nan")},
    "infinity": {"a": [float("inf"), float("-inf")]},
    "non-finite pattern": {"n": [float("-inf")]},
    "lone surrogate value": {"a": "x\ud800"},
    "lone surrogate key": {"\udfff": "x"},
    "str and int subclasses": {"a": Color.RED, "n": Size.BIG, Color.RED: Size.BIG, Size.BIG: 1},
    "float subclass": {"n": [Ratio(1.5)], Ratio(2.5): 1},
    "dict subclass": {"a": Keys(a="x")},
    "list subclass": {"a": Items(["x"])},
    "ordered dict": {"a": collections.OrderedDict([("b", 1), ("a", 2)])},
    "mapping proxy": {"a": types.MappingProxyType({"b": 1})},
    "defaultdict": {"a": collections.defaultdict(list, b=[1])},
    "set": {"a": {1, 2}},
    "bytes": {"a": b"x"},
    "object": {"a": object()},
    "tuple key": {(1, 2): "x"},
    "bytes key": {b"k": "x"},
}


@pytest.mark.parametrize("mapping", SHAPES.values(), ids=SHAPES.keys())
def test_shapes_read_as_their_text(mapping: dict[Any, Any]) -> None:
    _same_as_text(mapping)


@pytest.mark.parametrize(
    "mapping",
    [
        collections.OrderedDict([("a", "x")]),
        types.MappingProxyType({"a": "x"}),
        Keys(a="y"),
    ],
    ids=["ordered-dict", "mapping-proxy", "dict-subclass"],
)
def test_other_mappings_at_the_top_read_as_their_text(mapping: Any) -> None:
    _same_as_text(mapping)


def test_cycles_raise_as_json_does() -> None:
    looped: dict[str, Any] = {"a": []}
    looped["a"].append(looped)
    with pytest.raises(ValueError, match="Circular reference detected"):
        rulebus.Pattern('{"b": ["x"]}').matches(looped)
    itself: dict[str, Any] = {}
    itself["a"] = itself
    with pytest.raises(ValueError, match="Circular reference detected"):
        rulebus.Pattern(itself)


def _nested(depth: int, leaf: Any = 1) -> Any:
    node = leaf
    for i in range(depth):
        node = {"a": node} if i % 2 else [node]
    return {"b": "x", "c": node}


def _nested_text(depth: int) -> str:
    """`json.dumps(_nested(depth))`, written without recursion (json.dumps stops short of 1000)."""
    opens = "".join('{"a": ' if i % 2 else "[" for i in reversed(range(depth)))
    closes = "".join("}" if i % 2 else "]" for i in range(depth))
    return '{"b": "x", "c": ' + opens + "1" + closes + "}"


@pytest.mark.parametrize("depth", [1, 2, 500, 998, 999])
def test_nesting_the_engine_reads(depth: int) -> None:
    # the outer object counts: depth + 1 levels, at most 1000
    pattern = rulebus.Pattern('{"b": ["x"]}')
    assert pattern.matches(_nested_text(depth)) is True
    assert pattern.matches(_nested(depth)) is True
    if depth < 500:
        assert _nested_text(depth) == json.dumps(_nested(depth))


@pytest.mark.parametrize("depth", [1000, 1001, 3000])
def test_nesting_past_the_engine_is_refused(depth: int) -> None:
    with pytest.raises(rulebus.InvalidEventError) as info:
        rulebus.Pattern('{"b": ["x"]}').matches(_nested(depth))
    assert "nesting depth" in info.value.reason
    with pytest.raises(rulebus.InvalidPatternError) as pattern_info:
        rulebus.Pattern(_nested(depth, ["x"]))
    assert "nesting depth" in pattern_info.value.reason


def test_a_mapping_event_in_a_batch_reads_as_its_text() -> None:
    rules = rulebus.RuleSet()
    rules.add("x", {"a": ["x"], "n": [{"numeric": [">", 1.5]}]})
    events = [{"a": "x", "n": 2}, {"a": "x", "n": 1.25}, {"a": ("x",), "n": [2.0]}]
    assert rules.matches_many(events) == rules.matches_many([json.dumps(e) for e in events])
    assert rules.matches_many(events) == [["x"], [], ["x"]]
