"""The hints at common pattern mistakes (rulebus.explain_hints): each one given when its
mistake is there, and not given when it is not."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rulebus
from rulebus.explain_hints import OPERATORS, hints

# --- an operator object not wrapped in a list -----------------------------------------------------


def test_operator_outside_a_list() -> None:
    pattern = {"detail": {"price": {"numeric": [">", 1]}}}
    assert hints(pattern, {"detail": {"price": 5}}) == [
        'detail.price: an operator must be inside a list: write "price": [{"numeric": [">", 1]}] '
        'instead of "price": {"numeric": [">", 1]}'
    ]


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_operator_is_recognised(operator: str) -> None:
    [hint] = hints({"a": {operator: "x"}})
    assert hint.startswith("a: an operator must be inside a list")


def test_operator_shape_without_an_event() -> None:
    """A pattern the engine refused: the shape alone is looked at."""
    assert len(hints('{"a": {"prefix": "x"}}')) == 1
    assert hints('{"a": [{"prefix": "x"}]}') == []


def test_operator_inside_a_list_gives_no_hint() -> None:
    assert hints({"price": [{"numeric": [">", 1]}]}, {"price": 0}) == []


def test_a_nested_field_is_not_an_operator() -> None:
    assert hints({"detail": {"numbers": [1]}}, {"detail": {"numbers": 2}}) == []


def test_operators_inside_or_branches() -> None:
    pattern = {"$or": [{"a": ["x"]}, {"b": {"exists": True}}]}
    [hint] = hints(pattern, {"a": "y"})
    assert hint.startswith("b: an operator must be inside a list")


# --- a number given as a string, or the reverse ---------------------------------------------------


def test_string_in_the_pattern_number_in_the_event() -> None:
    assert hints({"price": ["5"]}, {"price": 5}) == [
        'price: the pattern has the string "5" but the event has the number 5: write 5 without quotes'
    ]


def test_number_in_the_pattern_string_in_the_event() -> None:
    assert hints({"price": [5]}, {"price": "5"}) == [
        'price: the pattern has the number 5 but the event has the string "5": write "5" in quotes'
    ]


def test_numbers_compare_by_value() -> None:
    [hint] = hints({"price": [5.0]}, {"price": "5"})
    assert hint.endswith('write "5" in quotes')  # the event's text, which an exact match needs
    assert len(hints({"price": ["5.0"]}, {"price": 5})) == 1


def test_numeric_condition_against_a_string() -> None:
    assert hints({"price": [{"numeric": [">", 1]}]}, {"price": "5"}) == [
        'price: "numeric" compares numbers, but the event has the string "5": send it as a number, '
        "without quotes"
    ]


def test_numbers_in_event_arrays() -> None:
    assert len(hints({"detail": {"ids": ["7"]}}, {"detail": [{"ids": [1, 7]}]})) == 1


@pytest.mark.parametrize(
    ("pattern", "event"),
    [
        ({"price": ["5"]}, {"price": "5"}),  # the same type
        ({"price": [5]}, {"price": 5}),
        ({"price": ["5"]}, {"price": 6}),  # another value: no mix-up to point at
        ({"price": [6]}, {"price": "5"}),
        ({"price": ["five"]}, {"price": 5}),  # not a number's text
        ({"price": ["1_000"]}, {"price": 1000}),  # Python's float() reads it; JSON does not
        ({"price": ["5"]}, {"price": [5, "5"]}),  # the event has the string too
        ({"price": [True]}, {"price": "1"}),  # booleans are not numbers
        ({"price": ["1"]}, {"price": True}),
        ({"price": [{"numeric": [">", 1]}]}, {"price": "five"}),
        ({"price": [{"numeric": [">", 1]}]}, {"price": 5}),
        ({"price": [{"prefix": "5"}]}, {"price": 5}),
    ],
)
def test_no_number_hint_without_the_mix_up(pattern: dict[str, Any], event: dict[str, Any]) -> None:
    assert hints(pattern, event) == []


# --- a key in another case ------------------------------------------------------------------------


def test_key_in_another_case() -> None:
    assert hints({"Detail": {"type": ["a"]}}, {"detail": {"type": "b"}}) == [
        'Detail: the event spells this key "detail"; keys are case-sensitive, so write "detail" in '
        "the pattern"
    ]


def test_key_case_is_followed_down() -> None:
    """The walk goes on under the event's spelling: a mistake below is found too."""
    found = hints({"Detail": {"Type": ["a"]}}, {"detail": {"type": "b"}})
    assert [h.split(":")[0] for h in found] == ["Detail", "Detail.Type"]


@pytest.mark.parametrize(
    ("pattern", "event"),
    [
        ({"detail": {"type": ["a"]}}, {"detail": {"type": "b"}}),  # the same case
        ({"Detail": ["a"]}, {"Detail": "b", "detail": "a"}),  # the event has the pattern's spelling
        ({"Detail": ["a"]}, {"other": "a"}),  # absent in every case
    ],
)
def test_no_case_hint_without_the_mix_up(pattern: dict[str, Any], event: dict[str, Any]) -> None:
    assert hints(pattern, event) == []


# --- input ----------------------------------------------------------------------------------------


def test_text_bytes_and_parsed_input_agree() -> None:
    pattern, event = {"price": ["5"]}, {"price": 5}
    as_text = hints(json.dumps(pattern), json.dumps(event))
    assert as_text == hints(json.dumps(pattern).encode(), json.dumps(event).encode())
    assert as_text == hints(pattern, event)
    assert len(as_text) == 1


def test_each_hint_once() -> None:
    pattern = {"$or": [{"price": ["5"]}, {"price": ["5"], "x": ["y"]}]}
    assert len(hints(pattern, {"price": 5})) == 1


@pytest.mark.parametrize(
    ("pattern", "event"),
    [("{", "{}"), ("[1]", "{}"), ('"x"', "{}"), ("{}", "{"), ("{}", "[1]"), (b"\xff", b"\xfe"), ("{}", "{}")],
)
def test_input_that_is_not_an_object_gives_no_hint(pattern: str | bytes, event: str | bytes) -> None:
    assert hints(pattern, event) == []


def test_deep_nesting_gives_no_hint_rather_than_a_crash() -> None:
    deep = '{"a":' * 5000 + "[1]" + "}" * 5000
    assert hints(deep, deep.replace("[1]", "2")) == []
    nested: dict[str, Any] = {"a": [1]}
    for _ in range(5000):
        nested = {"a": nested}
    assert hints(nested, {}) == []


@pytest.mark.parametrize(
    ("pattern", "fixed", "event"),
    [
        ({"price": ["5"]}, {"price": [5]}, {"price": 5}),
        ({"price": [5]}, {"price": ["5"]}, {"price": "5"}),
        ({"Detail": {"type": ["a"]}}, {"detail": {"type": ["a"]}}, {"detail": {"type": "a"}}),
        ({"price": {"numeric": [">", 1]}}, {"price": [{"numeric": [">", 1]}]}, {"price": 5}),
    ],
)
def test_each_mistake_is_a_real_no_match(
    pattern: dict[str, Any], fixed: dict[str, Any], event: dict[str, Any]
) -> None:
    """The mistakes hinted at are ones the engine does not match, and the change the hint asks
    for makes it match (and leaves no hint)."""
    assert hints(pattern, event)
    assert not rulebus.Pattern(json.dumps(pattern)).matches(json.dumps(event))
    assert rulebus.Pattern(json.dumps(fixed)).matches(json.dumps(event))
    assert hints(fixed, event) == []
