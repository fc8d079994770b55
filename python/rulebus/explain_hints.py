"""Hints at the common mistakes behind a pattern that does not match, for ``rulebus
test-pattern --explain``: one line each, saying what to change.

The hints look at the pattern's shape and at the event's keys and value types only; they never
decide whether anything matches (the engine does), so a hint can only be shown beside the
engine's answer, never change it. Three mistakes are recognised:

- an operator object not wrapped in a list: ``{"price": {"numeric": [">", 1]}}`` where
  ``{"price": [{"numeric": [">", 1]}]}`` was meant (EventBridge reads the former as a field
  named ``numeric`` under ``price``; SNS refuses it, or reads it likewise in MessageBody scope);
- a number given as a string, or a string as a number: ``["5"]`` against ``5``, ``[5]``
  against ``"5"``, a ``numeric`` condition against ``"5"``;
- a key spelled with another case than the event's: ``Detail`` against ``detail``.

Two more say what AWS's own message leaves out: which envelope fields an event given to
TestEventPattern lacks (``missing_envelope``), and which numbers of a refused pattern are not
finite (``non_finite_numbers``: ``NaN``, ``Infinity``, or a literal too large for a double).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

#: The operators of event patterns and filter policies (Amazon EventBridge User Guide, "Content
#: filtering in Amazon EventBridge event patterns"; Amazon SNS Developer Guide, "Amazon SNS
#: message filtering").
OPERATORS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"}
)

#: The event fields TestEventPattern requires at the event's top level (EventBridge API
#: Reference, TestEventPattern; ``resources`` is not one of them).
ENVELOPE_FIELDS = ("id", "account", "source", "time", "region", "detail-type")

# A JSON number's text, as a pattern or an event may hold it in a string by mistake.
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def hints(pattern: str | bytes | Any, event: str | bytes | Any | None = None) -> list[str]:
    """The hints for ``pattern`` against ``event`` (each JSON text or already parsed), in the
    pattern's order, without repeats. With no event (a pattern the engine refused), only the
    pattern's own shape is looked at. Input that is not a JSON object gives no hint."""
    pattern = _parsed(pattern)
    if not isinstance(pattern, dict):
        return []
    if event is None:
        events: list[dict[str, Any]] | None = None
    else:
        parsed = _parsed(event)
        events = [parsed] if isinstance(parsed, dict) else []
    try:
        return list(dict.fromkeys(_walk(pattern, events, ())))
    except RecursionError:  # nesting deeper than Python's stack: no hints rather than a crash
        return []


def missing_envelope(event: str | bytes | Any) -> str | None:
    """The hint for an event TestEventPattern refused ("Parameter Event is not valid."): the
    envelope fields it lacks, or that it is not a JSON object; None when neither is the cause."""
    parsed = _parsed(event)
    if not isinstance(parsed, dict):
        return "the event must be a JSON object (an EventBridge event)"
    missing = [field for field in ENVELOPE_FIELDS if field not in parsed]
    if not missing:
        return None
    return (
        f"the event lacks the envelope field{'s' if len(missing) > 1 else ''} "
        f"{', '.join(json.dumps(field) for field in missing)}, which TestEventPattern requires "
        f"({', '.join(ENVELOPE_FIELDS)}); match without --envelope to test the pattern alone"
    )


def non_finite_numbers(pattern: str | bytes) -> str | None:
    """The hint for a pattern refused for a number that is not finite: ``NaN``, ``Infinity``,
    ``-Infinity`` (which JSON does not have) or a literal beyond a double's range (``1e400``);
    None when the pattern's text holds none."""
    found: list[str] = []

    def constant(text: str) -> float:
        found.append(text)
        return 0.0

    def number(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            found.append(text)
        return value

    try:
        json.loads(pattern, parse_constant=constant, parse_float=number, parse_int=number)
    except (ValueError, RecursionError):
        return None
    if not found:
        return None
    named = list(dict.fromkeys(found))
    return (
        f"{', '.join(named)} {'is not a finite number' if len(named) == 1 else 'are not finite numbers'}"
        ": patterns compare finite numbers only (JSON has no NaN or infinity, and a double ends "
        'near 1.8e308); for an open range leave that bound out, as in {"numeric": [">", 0]}'
    )


def _parsed(value: str | bytes | Any) -> Any:
    if not isinstance(value, (str, bytes, bytearray)):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def _walk(
    pattern: dict[str, Any], events: list[dict[str, Any]] | None, path: tuple[str, ...]
) -> Iterator[str]:
    """``events``: the event's objects at ``path`` (several when the event has arrays there);
    ``None`` when there is no event to compare with."""
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            for branch in value:
                if isinstance(branch, dict):
                    yield from _walk(branch, events, path)
            continue
        here = (*path, key)
        children: list[Any] | None = None
        if events is not None:
            children, spelled = _children(events, key)
            if spelled is not None:
                yield (
                    f'{_dotted(here)}: the event spells this key "{spelled}"; keys are case-sensitive, '
                    f'so write "{spelled}" in the pattern'
                )
        if isinstance(value, dict):
            if OPERATORS.intersection(value):
                yield (
                    f"{_dotted(here)}: an operator must be inside a list: write "
                    f'"{key}": [{_json(value)}] instead of "{key}": {_json(value)}'
                )
            else:
                objects = None if children is None else [c for c in children if isinstance(c, dict)]
                yield from _walk(value, objects, here)
        elif isinstance(value, list) and children is not None:
            yield from _value_hints(here, value, [c for c in children if not isinstance(c, dict)])


def _children(events: list[dict[str, Any]], key: str) -> tuple[list[Any], str | None]:
    """The event's values under ``key`` (arrays flattened), and the key's spelling in the event
    when the event has it only in another case."""
    if any(key in event for event in events):
        return list(_flattened(event[key] for event in events if key in event)), None
    folded = key.casefold()
    for event in events:
        for other in event:
            if other.casefold() == folded:
                return list(_flattened(e[other] for e in events if other in e)), other
    return [], None


def _flattened(values: Iterable[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from _flattened(value)
        else:
            yield value


def _value_hints(path: tuple[str, ...], wanted: list[Any], actual: list[Any]) -> Iterator[str]:
    numbers = [a for a in actual if _is_number(a)]
    number_texts = [a for a in actual if isinstance(a, str) and _NUMBER_TEXT.fullmatch(a)]
    for value in wanted:
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
            if any(float(value) == number for number in numbers) and value not in actual:
                yield (
                    f'{_dotted(path)}: the pattern has the string "{value}" but the event has the '
                    f"number {_json(_first_equal(numbers, float(value)))}: write {value} without quotes"
                )
        elif _is_number(value):
            if any(float(text) == value for text in number_texts) and value not in numbers:
                text = _first_equal_text(number_texts, value)
                yield (
                    f"{_dotted(path)}: the pattern has the number {_json(value)} but the event has the "
                    f'string "{text}": write "{text}" in quotes'
                )
        elif isinstance(value, dict) and "numeric" in value and number_texts:
            yield (
                f'{_dotted(path)}: "numeric" compares numbers, but the event has the string '
                f'"{number_texts[0]}": send it as a number, without quotes'
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _first_equal(numbers: list[Any], target: float) -> Any:
    return next(n for n in numbers if n == target)


def _first_equal_text(texts: list[str], target: Any) -> str:
    return next(t for t in texts if float(t) == target)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
