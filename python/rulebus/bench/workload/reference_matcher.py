"""An EventBridge event-pattern matcher in plain Python, written from the documentation alone.

It decides the benchmark's expected counts, so it must not share a line with the engine it
checks: it imports nothing from rulebus and works on ``json.loads`` output, one pattern at a time,
as the Amazon EventBridge User Guide describes matching ("Creating Amazon EventBridge event
patterns" and "Content filtering in Amazon EventBridge event patterns"):

- a pattern is an object whose leaves are arrays of values; an event matches when every field the
  pattern names matches one of the array's values (``$or`` takes any of its alternatives);
- when the event's field is an array, it matches when any of its elements does, arrays within
  arrays included; objects inside arrays are matched element by element, every field of one
  nested pattern from the same element;
- strings and null match exactly, numbers by value; ``prefix``, ``suffix`` (plain or with
  ``equals-ignore-case``), ``equals-ignore-case`` and ``wildcard`` match strings only; ``numeric``
  matches numbers only; ``exists`` asks whether the field is present with a value that is not an
  object; ``anything-but`` matches a present value that is none of those listed (or that lacks the
  prefix or suffix, or misses the wildcard); a value of another type than those listed is never
  excluded.

Numbers are compared as Python floats. EventBridge documents six digits after the decimal point;
the benchmark's generator keeps every coordinate at least 1e-5 away from the values the rules
compare with, so the difference cannot change a count there. Operators the benchmark's rule sets
do not use (``cidr``, ``anything-but`` with ``numeric``) raise ``NotImplementedError`` rather than
answer wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Callable

Matcher = Callable[[list[Any], bool], bool]  # (the field's leaf values, present?) -> match
_ABSENT = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _leaves(value: Any) -> Iterator[Any]:
    """The field's values: an array is its elements, arrays within arrays flattened."""
    if isinstance(value, list):
        for element in value:
            yield from _leaves(element)
    elif not isinstance(value, dict):
        yield value


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    """The objects a nested pattern is matched against: the field's, or its arrays' elements."""
    if isinstance(value, list):
        for element in value:
            yield from _objects(element)
    elif isinstance(value, dict):
        yield value


def _same(want: Any, value: Any) -> bool:
    if _is_number(want):
        return _is_number(value) and float(value) == float(want)
    if want is None or isinstance(want, (str, bool)):
        return type(value) is type(want) and value == want
    raise NotImplementedError(f"an exact value of type {type(want).__name__}")


def _wildcard(expression: str) -> re.Pattern[str]:
    """``*`` stands for any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash."""
    parts = []
    i = 0
    while i < len(expression):
        char = expression[i]
        if char == "\\" and i + 1 < len(expression):
            parts.append(re.escape(expression[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _folded(text: str) -> str:
    return text.casefold()


def _text_test(operator: str, operand: Any) -> Callable[[str], bool]:
    """A test on one string value: prefix, suffix, equals-ignore-case or wildcard."""
    if operator in ("prefix", "suffix"):
        if isinstance(operand, dict):
            (inner, text), *more = operand.items()
            if more or inner != "equals-ignore-case":
                raise NotImplementedError(f"{operator} with {operand!r}")
            folded = _folded(text)
            if operator == "prefix":
                return lambda value: _folded(value).startswith(folded)
            return lambda value: _folded(value).endswith(folded)
        if operator == "prefix":
            return lambda value: value.startswith(operand)
        return lambda value: value.endswith(operand)
    if operator == "equals-ignore-case":
        choices = {_folded(text) for text in (operand if isinstance(operand, list) else [operand])}
        return lambda value: _folded(value) in choices
    if operator == "wildcard":
        compiled = [_wildcard(text) for text in (operand if isinstance(operand, list) else [operand])]
        return lambda value: any(c.fullmatch(value) for c in compiled)
    raise NotImplementedError(operator)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _numeric(conditions: list[Any]) -> Callable[[float], bool]:
    pairs = [(_COMPARE[conditions[i]], float(conditions[i + 1])) for i in range(0, len(conditions), 2)]
    return lambda value: all(compare(value, bound) for compare, bound in pairs)


def _anything_but(operand: Any) -> Callable[[Any], bool]:
    """Whether one value is excluded by ``anything-but``."""
    if isinstance(operand, dict):
        (operator, inner), *more = operand.items()
        if more or operator not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise NotImplementedError(f"anything-but {operand!r}")
        test = _text_test(operator, inner)
        return lambda value: isinstance(value, str) and test(value)
    listed = operand if isinstance(operand, list) else [operand]
    return lambda value: any(_same(want, value) for want in listed)


def _matcher(item: Any) -> Matcher:
    """One element of a pattern's array."""
    if not isinstance(item, dict):
        return lambda values, present: any(_same(item, v) for v in values)
    (operator, operand), *more = item.items()
    if more and operator != "numeric":
        raise NotImplementedError(f"an operator object with several keys: {item!r}")
    if operator == "exists":
        return lambda values, present: (present and bool(values)) == operand
    if operator == "numeric":
        within = _numeric(operand)
        return lambda values, present: any(_is_number(v) and within(float(v)) for v in values)
    if operator == "anything-but":
        excluded = _anything_but(operand)
        return lambda values, present: any(not excluded(v) for v in values)
    test = _text_test(operator, operand)
    return lambda values, present: any(isinstance(v, str) and test(v) for v in values)


class Pattern:
    """One event pattern, compiled once; ``matches`` takes an event parsed by ``json.loads``."""

    def __init__(self, pattern: dict[str, Any]) -> None:
        self._test = self._compile(pattern)

    def matches(self, event: Any) -> bool:
        return self._test(event)

    def _compile(self, pattern: dict[str, Any]) -> Callable[[Any], bool]:
        tests: list[Callable[[Any], bool]] = []
        for key, spec in pattern.items():
            if key == "$or":
                tests.append(self._any_of([self._compile(p) for p in spec]))
            elif isinstance(spec, dict):
                tests.append(self._nested(key, self._compile(spec)))
            elif isinstance(spec, list):
                tests.append(self._leaf(key, [_matcher(item) for item in spec]))
            else:
                raise ValueError(f"{key}: a pattern's leaves are arrays")
        return lambda node: all(test(node) for test in tests)

    @staticmethod
    def _any_of(alternatives: list[Callable[[Any], bool]]) -> Callable[[Any], bool]:
        return lambda node: any(alternative(node) for alternative in alternatives)

    @staticmethod
    def _nested(key: str, inner: Callable[[Any], bool]) -> Callable[[Any], bool]:
        def test(node: Any) -> bool:
            value = node.get(key, _ABSENT) if isinstance(node, dict) else _ABSENT
            objects = list(_objects(value)) if value is not _ABSENT else []
            # No object there: the nested fields are all absent, which only "exists": false accepts.
            return any(inner(o) for o in objects) if objects else inner({})

        return test

    @staticmethod
    def _leaf(key: str, matchers: list[Matcher]) -> Callable[[Any], bool]:
        def test(node: Any) -> bool:
            value = node.get(key, _ABSENT) if isinstance(node, dict) else _ABSENT
            present = value is not _ABSENT
            values = list(_leaves(value)) if present else []
            return any(m(values, present) for m in matchers)

        return test
