"""Property tests: the engine against the reference matcher (tests/reference.py), and fuzzing.

The generators build random EventBridge patterns from a small vocabulary and events built from the
same keys and values, so that a good share of the events match; arrays of objects make array
consistency matter. The fuzz tests feed random and mutated input to every entry point: the only
exceptions allowed are InvalidPatternError (for a pattern or policy) and InvalidEventError (for an
event).

Run longer with RULEBUS_FUZZ_EXAMPLES=20000 (see conftest.py).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from typing import Any

import pytest
import rulebus
from helpers.patterns import (
    KEYS,
    MAX_PATTERN_LENGTH,
    PIECES,
    STRINGS,
    any_patterns_and_events,
    constants,
    event_objects,
    numbers,
    patterns,
    patterns_and_events,
    strings,
    value_lists,
)
from helpers.reference import ObjectPairs, reference_matches
from hypothesis import assume, given
from hypothesis import event as note_event
from hypothesis import strategies as st

# --- JSON helpers ---------------------------------------------------------------------------------


def escaped_json(value: Any) -> str:
    """JSON text with every character of every string (keys included) written as a \\uXXXX escape."""
    if isinstance(value, str):
        units = value.encode("utf-16-be")
        return '"' + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)) + '"'
    if isinstance(value, (dict, ObjectPairs)):
        return "{" + ",".join(f"{escaped_json(k)}:{escaped_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(escaped_json(v) for v in value) + "]"
    return json.dumps(value)


def number_spellings(number: float) -> list[str]:
    """Ways to write the same decimal value in JSON: 5 = 5.0 = 5e0 = 50E-1, 0.25 = 25e-2."""
    text = json.dumps(number)
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    if "e" in body or "E" in body:
        return [text]
    whole, _, fraction = body.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    spellings = [text, f"{text}e0", f"{text}E+0", f"{sign}{digits}e-{len(fraction)}" if fraction else text]
    spellings.append(f"{text}00" if fraction else f"{text}.0")
    if digits != "0":
        spellings.append(f"{sign}{digits}0E-{len(fraction) + 1}")
    return spellings


def respelled_json(value: Any, rnd: random.Random) -> str:
    """JSON text of the value with every number written one of the ways that mean the same."""
    if isinstance(value, (dict, ObjectPairs)):
        return "{" + ",".join(f"{json.dumps(k)}:{respelled_json(v, rnd)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(respelled_json(v, rnd) for v in value) + "]"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return rnd.choice(number_spellings(value))
    return json.dumps(value)


def pairs_json(value: Any) -> str:
    """JSON text of a value whose objects may be ObjectPairs (duplicate keys kept)."""
    if isinstance(value, (dict, ObjectPairs)):
        return "{" + ",".join(f"{json.dumps(k)}:{pairs_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(pairs_json(v) for v in value) + "]"
    return json.dumps(value)


def reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


NOT_JSON = object()


def strict_json(text: str | bytes) -> Any:
    """The value of strict JSON text (UTF-8, no NaN/Infinity), objects as ObjectPairs; NOT_JSON
    when the text is not JSON."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=reject_constant, object_pairs_hook=ObjectPairs)
    except (ValueError, RecursionError):
        return NOT_JSON


def leading_object(text: str | bytes) -> Any:
    """The JSON object that starts the text, when that is how the text starts, else None. Like
    event-ruler (Jackson reads one value and stops) the engine may ignore what follows it."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        decoder = json.JSONDecoder(parse_constant=reject_constant, object_pairs_hook=ObjectPairs)
        value, _ = decoder.raw_decode(text.lstrip(" \t\n\r"))
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, ObjectPairs) else None


# Characters whose case mapping in Python is Java's per-char one (see ASCII_STRINGS).
KNOWN_CHARACTERS = frozenset("".join(STRINGS) + "".join(PIECES) + "".join(map(chr, range(128))))


def plain_values(value: Any) -> bool:
    """Whether the reference's Python comparisons are the engine's for this value: finite numbers
    exact in a double, strings of known characters. Mutated text can make others."""
    if isinstance(value, (dict, ObjectPairs)):
        return all(plain_values(k) and plain_values(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_values(v) for v in value)
    if isinstance(value, str):
        return KNOWN_CHARACTERS.issuperset(value)
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < 1e15
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) < 2**53
    return True


def show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


# --- the engine against the reference -------------------------------------------------------------


@given(patterns_and_events(), st.randoms(use_true_random=False))
def test_engine_agrees_with_reference(
    cases: Counter[str], case: tuple[dict[str, Any], dict[str, Any]], rnd: random.Random
) -> None:
    pattern, event = case
    pattern_text = json.dumps(pattern, ensure_ascii=False)
    assume(len(pattern_text) <= MAX_PATTERN_LENGTH)
    cases["engine agrees with reference"] += 1
    expected = reference_matches(pattern, event)
    note_event(f"reference says {expected}")
    text = json.dumps(event, ensure_ascii=False)
    why = f"pattern {pattern_text} event {text}: reference says {expected}"

    compiled = rulebus.Pattern(pattern_text)
    assert compiled.matches(text) is expected, why
    assert compiled.matches(text.encode()) is expected, f"{why} (event as bytes)"
    assert compiled.matches(bytearray(text.encode())) is expected, f"{why} (event as bytearray)"
    assert compiled.matches(event) is expected, f"{why} (event as dict)"
    assert compiled.matches(escaped_json(event)) is expected, f"{why} (event with \\u escapes)"
    assert compiled.matches(json.dumps(event, indent=2)) is expected, f"{why} (event indented, ASCII)"
    respelled = respelled_json(event, rnd)
    assert compiled.matches(respelled) is expected, f"{why} (event numbers spelled {respelled})"
    assert rulebus.Pattern(pattern).matches(text) is expected, f"{why} (pattern as dict)"
    for other in (escaped_json(pattern), respelled_json(pattern, rnd)):
        if len(other) <= MAX_PATTERN_LENGTH:
            assert rulebus.Pattern(other).matches(text) is expected, f"{why} (pattern spelled {other})"


@given(st.data())
def test_duplicate_pattern_keys_last_wins(cases: Counter[str], data: st.DataObject) -> None:
    """A key given twice in a pattern object: the last occurrence wins (as EventBridge does)."""
    pattern, event = data.draw(any_patterns_and_events())
    leaf_keys = [k for k, v in pattern.items() if k != "$or" and isinstance(v, list)]
    assume(leaf_keys)
    key = data.draw(st.sampled_from(leaf_keys))
    other = data.draw(value_lists)
    cases["duplicate pattern keys"] += 1
    text = json.dumps(event)
    for pairs, winner in (
        ([(key, other), *pattern.items()], pattern),
        ([*pattern.items(), (key, other)], {**pattern, key: other}),
    ):
        source = pairs_json(ObjectPairs(pairs))
        expected = reference_matches(winner, event)
        assert rulebus.Pattern(source).matches(text) is expected, f"pattern {source} event {text}: {expected}"


@given(st.data())
def test_duplicate_event_keys_keep_every_value(cases: Counter[str], data: st.DataObject) -> None:
    pattern, first = data.draw(patterns_and_events())
    second = data.draw(event_objects(pattern))
    event = ObjectPairs([*first.items(), *second.items()])  # keys of both, duplicates kept
    cases["duplicate event keys"] += 1
    expected = reference_matches(pattern, event)
    note_event(f"reference says {expected}")
    text = pairs_json(event)
    assert rulebus.Pattern(json.dumps(pattern)).matches(text) is expected, (
        f"pattern {json.dumps(pattern)} event {text}: reference says {expected}"
    )


MUTATION_CHARS = '{}[]":,.\\/-+0123456789eEabnrtu* \t\n'


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with 1-3 characters dropped, replaced, duplicated or inserted."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        how = draw(st.integers(0, 3))
        new = draw(st.sampled_from(MUTATION_CHARS))
        if how == 0:
            text = text[:at] + text[at + 1 :]
        elif how == 1:
            text = text[:at] + new + text[at + 1 :]
        elif how == 2:
            text = text[:at] + text[at : at + 1] + text[at:]
        else:
            text = text[:at] + new + text[at:]
    return text


@given(st.data())
def test_mutated_event_text(cases: Counter[str], data: st.DataObject) -> None:
    """A mutated event is refused exactly when it is not a JSON object; when it still is one, the
    engine and the reference agree on it."""
    pattern, event = data.draw(patterns_and_events())
    text = data.draw(mutated(json.dumps(event)))
    cases["mutated event text"] += 1
    compiled = rulebus.Pattern(json.dumps(pattern))
    why = f"pattern {json.dumps(pattern)} event {text!r}"
    parsed = strict_json(text)
    if isinstance(parsed, ObjectPairs):
        note_event("mutated event is a JSON object")
        result = compiled.matches(text)
    else:
        parsed = leading_object(text)
        if parsed is None:
            note_event("mutated event is not a JSON object")
            with pytest.raises(rulebus.InvalidEventError):
                compiled.matches(text)
            return
        note_event("mutated event is a JSON object and more")
        try:
            result = compiled.matches(text)
        except rulebus.InvalidEventError:
            return
    if plain_values(parsed):
        assert result is reference_matches(pattern, parsed), why
    else:
        assert isinstance(result, bool), why


# --- documented examples, held by the reference and the engine ----------------------------------------

SPEC_EXAMPLES = [
    # (pattern, event, expected); event-ruler's value semantics and the rules recorded on AWS
    ({"x": [1]}, {"x": 1.0}, True),
    ({"x": [1]}, {"x": 1e0}, True),
    ({"x": [{"numeric": ["=", 3.018e2]}]}, {"x": 301.8}, True),
    ({"x": [0]}, {"x": -0.0}, True),
    ({"x": ["5"]}, {"x": 5}, False),
    ({"x": [5]}, {"x": "5"}, False),
    ({"x": [{"numeric": [">", 0]}]}, {"x": "5"}, False),
    ({"x": [{"numeric": [">", 0]}]}, {"x": None}, False),
    ({"x": [None]}, {"x": None}, True),
    ({"x": [None]}, {"x": "null"}, False),
    ({"x": [None]}, {"x": []}, False),
    ({"x": [None]}, {}, False),
    ({"x": [{"exists": True}]}, {"x": None}, True),
    ({"x": [{"exists": True}]}, {"x": ""}, True),
    ({"x": [{"exists": True}]}, {"x": False}, True),
    ({"x": [{"exists": True}]}, {"x": []}, False),
    ({"x": [{"exists": True}]}, {"x": {"y": 1}}, False),
    ({"x": [{"exists": True}]}, {}, False),
    ({"x": {"y": [{"exists": True}]}}, {"x": [{"z": 1}, {"y": 2}]}, True),
    ({"x": [{"exists": False}]}, {"x": None}, False),
    ({"x": [{"exists": False}]}, {}, True),
    ({"x": [{"exists": False}]}, {"x": []}, True),
    ({"x": [{"exists": False}]}, {"x": {"y": 1}}, True),
    ({"x": {"y": [{"exists": False}]}}, {"w": 1}, True),
    ({"x": [{"anything-but": ["roses"]}, {"exists": False}]}, {}, True),
    ({"x": [{"anything-but": ["roses"]}, {"exists": False}]}, {"x": "roses"}, False),
    ({"x": [{"anything-but": ["roses"]}, {"exists": False}]}, {"x": "tulips"}, True),
    ({"x": [""]}, {"x": ""}, True),
    ({"x": [True]}, {"x": True}, True),
    ({"x": ["true"]}, {"x": True}, False),
    ({"x": ["b"]}, {"x": ["a", "b"]}, True),
    ({"x": ["b"]}, {"x": [["a"], ["b"]]}, True),
    (
        {"e": {"f": ["Anna"], "l": ["Jones"]}},
        {"e": [{"f": "Anna", "l": "Smith"}, {"f": "Peter", "l": "Jones"}]},
        False,
    ),
    (
        {"e": {"f": ["Anna"], "l": ["Jones"]}},
        {"e": [{"f": "Anna", "l": "Jones"}, {"f": "Peter", "l": "Smith"}]},
        True,
    ),
    ({"x": [{"anything-but": "a"}]}, {}, False),
    ({"x": [{"anything-but": "a"}]}, {"x": None}, True),
    ({"x": [{"anything-but": "a"}]}, {"x": 5}, True),
    ({"x": [{"anything-but": 5}]}, {"x": "a"}, True),
    ({"x": [{"anything-but": 5}]}, {"x": 5.0}, False),
    ({"x": [{"anything-but": "a"}]}, {"x": ["a", "b"]}, True),
    ({"x": [{"anything-but": "a"}]}, {"x": ["a"]}, False),
    ({"x": [{"anything-but": "a"}]}, {"x": []}, False),
    ({"x": [{"anything-but": {"prefix": "a"}}]}, {"x": 5}, True),
    ({"x": [{"anything-but": {"suffix": ["a", "b"]}}]}, {"x": "cab"}, False),
    ({"x": [{"anything-but": {"wildcard": "*"}}]}, {"x": 5}, True),
    ({"x": [{"anything-but": {"wildcard": ""}}]}, {"x": ""}, False),
    ({"x": [{"prefix": "12"}]}, {"x": 123}, False),
    ({"x": [{"prefix": ""}]}, {"x": "abc"}, True),
    ({"x": [{"suffix": ""}]}, {"x": "abc"}, True),
    ({"x": [{"equals-ignore-case": ""}]}, {"x": ""}, True),
    ({"x": [{"equals-ignore-case": ""}]}, {"x": "a"}, False),
    ({"x": [{"wildcard": ""}]}, {"x": ""}, True),
    ({"x": [{"wildcard": ""}]}, {"x": "a"}, False),
    ({"x": [{"wildcard": "*"}]}, {"x": ""}, True),
    ({"x": [{"wildcard": "*"}]}, {"x": 5}, False),
    ({"x": [{"prefix": {"equals-ignore-case": "ab"}}]}, {"x": "aBc"}, True),
    ({"x": [{"numeric": [">", 0, "<=", 5]}]}, {"x": 5}, True),
    ({"x": [{"numeric": [">", 0, "<=", 5]}]}, {"x": 0}, False),
    ({"a.b": [1]}, {"a": {"b": 1}}, True),
    ({"a": {"b": [1]}}, {"a.b": 1}, True),
    ({"a": {"b.c": [1]}}, {"a.b": {"c": 1}}, True),
    ({"$or": [{"a": [1]}, {"b": [2]}]}, {"b": 2}, True),
    ({"$or": [{"a": [1]}, {"b": [2]}]}, {"a": 2, "b": 1}, False),
]


@pytest.mark.parametrize(("pattern", "event", "expected"), SPEC_EXAMPLES)
def test_reference_follows_the_spec(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert reference_matches(pattern, event) is expected


@pytest.mark.parametrize(("pattern", "event", "expected"), SPEC_EXAMPLES)
def test_engine_follows_the_spec(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert rulebus.Pattern(json.dumps(pattern)).matches(json.dumps(event)) is expected


def test_reference_keeps_duplicate_keys() -> None:
    event = json.loads('{"x": "1", "x": "2"}', object_pairs_hook=ObjectPairs)
    assert reference_matches({"x": ["1"]}, event)
    assert reference_matches({"x": ["2"]}, event)


# --- fuzzing: nothing may crash -------------------------------------------------------------------

json_keys = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(
        ["$or", "prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists",
         "cidr", "exactly", "=", "<", ">=", "regex", "a.b", ""]
    ),
    st.text(max_size=4),
)  # fmt: skip
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
    st.text(max_size=8),
    st.sampled_from([">", "<=", "=", "10.0.0.0/24", "a**b", "a\\b", "*"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(json_keys, json_values, max_size=4)


def build_pattern(source: Any) -> rulebus.Pattern | None:
    """The compiled pattern, or None when it is refused with InvalidPatternError (any other
    exception fails the test). Text that is not a JSON object must be refused."""
    try:
        compiled = rulebus.Pattern(source)
    except rulebus.InvalidPatternError as error:
        assert isinstance(error.reason, str)
        assert str(error).startswith("Event pattern is not valid. Reason: "), str(error)
        return None
    if isinstance(source, (str, bytes)):
        assert leading_object(source) is not None, f"accepted a pattern that is no JSON object: {source!r}"
    return compiled


def match_event(compiled: rulebus.Pattern, event: Any) -> bool | None:
    """The answer, or None when the event is refused with InvalidEventError. A JSON object must be
    answered; text that does not start with a JSON object must be refused."""
    try:
        result = compiled.matches(event)
    except rulebus.InvalidEventError:
        parsed = strict_json(event) if isinstance(event, (str, bytes)) else event
        assert not isinstance(parsed, (dict, ObjectPairs)), f"refused a JSON object event: {show(event)}"
        return None
    assert isinstance(result, bool)
    if isinstance(event, (str, bytes)):
        assert leading_object(event) is not None, f"answered an event that is no JSON object: {event!r}"
    return result


SAMPLE_EVENTS = [
    '{"a": 1, "b": ["x", {"c": null}], "d": {"e": "f"}}',
    '{"source": "com.shop", "detail": {"amount": 120}}',
    "{}",
]


@given(st.one_of(st.binary(max_size=120), st.text(max_size=120)))
def test_fuzz_pattern_from_random_input(cases: Counter[str], source: str | bytes) -> None:
    cases["fuzz pattern: random bytes/text"] += 1
    compiled = build_pattern(source)
    note_event(f"accepted: {compiled is not None}")
    if compiled is not None:
        for event in SAMPLE_EVENTS:
            match_event(compiled, event)


@given(st.one_of(json_values, json_objects))
def test_fuzz_pattern_from_random_json(cases: Counter[str], value: Any) -> None:
    cases["fuzz pattern: random JSON"] += 1
    text = json.dumps(value)
    compiled = build_pattern(text)
    note_event(f"accepted: {compiled is not None}")
    if isinstance(value, dict):
        from_dict = build_pattern(value)
        assert (from_dict is None) == (compiled is None), f"text and dict disagree on validity: {text}"
    if compiled is not None:
        for event in SAMPLE_EVENTS:
            match_event(compiled, event)


@given(st.data())
def test_fuzz_pattern_from_mutated_pattern(cases: Counter[str], data: st.DataObject) -> None:
    pattern, event = data.draw(patterns_and_events())
    text = data.draw(mutated(json.dumps(pattern)))
    cases["fuzz pattern: mutated valid pattern"] += 1
    compiled = build_pattern(text)
    note_event(f"accepted: {compiled is not None}")
    if compiled is not None:
        match_event(compiled, json.dumps(event))
        match_event(compiled, event)


@given(st.data())
def test_fuzz_event(cases: Counter[str], data: st.DataObject) -> None:
    pattern = data.draw(patterns())
    compiled = rulebus.Pattern(json.dumps(pattern))
    event = data.draw(
        st.one_of(
            st.binary(max_size=120),
            st.text(max_size=120),
            json_values.map(json.dumps),
            json_objects.map(json.dumps),
            json_objects,
        )
    )
    cases["fuzz event"] += 1
    note_event(f"answered: {match_event(compiled, event) is not None}")


# --- fuzzing SNS filter policies ------------------------------------------------------------------

SCOPES = ("MessageAttributes", "MessageBody")


def build_policy(source: Any, scope: str) -> rulebus.FilterPolicy | None:
    """The filter policy, or None when refused with InvalidFilterPolicyError. Text that is not a
    JSON object (nor starts with one), and a scope SNS does not know, must be refused."""
    try:
        policy = rulebus.FilterPolicy(source, scope=scope)
    except rulebus.InvalidFilterPolicyError as error:
        assert isinstance(error.reason, str)
        return None
    assert scope in SCOPES, f"accepted the scope {scope!r}"
    if isinstance(source, (str, bytes)):
        assert leading_object(source) is not None, f"accepted a policy that is no JSON object: {source!r}"
    return policy


def match_body(policy: rulebus.FilterPolicy, body: Any) -> bool:
    """SNS never refuses a message for its body: a body that is not a JSON object is no match,
    unless the policy is the empty one, {}, which filters nothing."""
    result = policy.matches(body=body)
    assert isinstance(result, bool)
    # The engine reads the policy's leading object and ignores what follows it (as Jackson does).
    filters = leading_object(policy.text) != ObjectPairs()
    if filters and isinstance(body, (str, bytes)) and leading_object(body) is None:
        assert result is False, f"a body that is no JSON object matched: {body!r}"
    return result


attribute_values = st.one_of(
    st.builds(lambda s: {"Type": "String", "Value": s}, st.one_of(strings, st.text(max_size=8))),
    st.builds(lambda s: {"DataType": "String", "StringValue": s}, st.one_of(strings, st.text(max_size=8))),
    st.builds(lambda n: {"Type": "Number", "Value": json.dumps(n)}, numbers),
    st.builds(lambda n: {"DataType": "Number", "StringValue": json.dumps(n)}, numbers),
    st.builds(
        lambda v: {"Type": "String.Array", "Value": json.dumps(v)},
        st.lists(st.one_of(strings, numbers, constants), max_size=3),
    ),
    st.builds(lambda b: {"DataType": "Binary", "BinaryValue": b}, st.binary(max_size=8)),
)
attribute_maps = st.dictionaries(st.sampled_from((*KEYS, "z")), attribute_values, max_size=4)


def exercise_policy(policy: rulebus.FilterPolicy, scope: str, data: st.DataObject) -> None:
    if scope == "MessageBody":
        body = data.draw(
            st.one_of(
                patterns().flatmap(event_objects).map(json.dumps),
                json_objects,
                json_objects.map(json.dumps),
                json_values.map(json.dumps),
                st.text(max_size=60),
                st.binary(max_size=60),
            )
        )
        note_event(f"body matched: {match_body(policy, body)}")
        if isinstance(body, str):
            assert match_body(policy, body.encode()) is match_body(policy, body)
    else:
        result = policy.matches(attributes=data.draw(attribute_maps))
        assert isinstance(result, bool)


@given(st.data())
def test_fuzz_filter_policy_from_random_input(cases: Counter[str], data: st.DataObject) -> None:
    source = data.draw(st.one_of(st.binary(max_size=120), st.text(max_size=120), json_values.map(json.dumps)))
    scope = data.draw(st.sampled_from(SCOPES))
    cases["fuzz filter policy: random input"] += 1
    policy = build_policy(source, scope)
    note_event(f"accepted: {policy is not None}")
    if policy is not None:
        exercise_policy(policy, scope, data)


@given(st.data())
def test_fuzz_filter_policy_from_patterns(cases: Counter[str], data: st.DataObject) -> None:
    """Generated EventBridge patterns (some SNS accepts, some it refuses), mutated or not, as text
    or as a dict, under either scope or a scope SNS does not know."""
    pattern = data.draw(patterns())
    scope = data.draw(st.sampled_from(SCOPES) | st.sampled_from(["", "messagebody", "MessageBody "]))
    source: Any = data.draw(st.sampled_from([json.dumps(pattern), pattern]) | mutated(json.dumps(pattern)))
    cases["fuzz filter policy: generated and mutated"] += 1
    policy = build_policy(source, scope)
    note_event(f"accepted: {policy is not None}")
    if policy is not None:
        exercise_policy(policy, scope, data)
