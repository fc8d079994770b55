"""A small, obviously-correct reference matcher for EventBridge event patterns.

It is slow on purpose and exists only to be checked by eye against the documented semantics
(docs/semantics.md, 'The pattern language', the rules recorded against AWS first, and the
EventBridge User Guide, 'Amazon EventBridge event patterns'); the property tests hold the Rust engine to it.

How it works:

1. The event is flattened into (dotted path, scalar value, array-position chain) triples.
   Nested objects join their keys with "."; arrays are "crushed", so every element is a value of
   the parent path; the chain records, for every array a value sits in, (array id, element index).
2. The pattern is expanded into sub-rules (every ``$or`` multiplies them) mapping a dotted path to
   its list of matchers; a sub-rule matches when every path's list is satisfied.
3. A path's list is satisfied by a value at the path that matches one of its matchers, or, when
   it holds ``{"exists": false}``, by absence: no value at the path may sit beside the values
   chosen for the paths sorted before it (event-ruler walks a rule's fields in sorted order and
   judges absence against the array elements chosen so far; its ``testACWithExistFalseRule``
   shows a field absent from the element that holds the other fields counting as absent).
4. The values chosen for the paths of one sub-rule must be array-consistent: no two of them may come
   from different elements of the same array.

Scope: the operators the property tests generate (exact values, prefix, suffix, equals-ignore-case
on ASCII, wildcard without escapes, anything-but in all its forms, numeric, exists). Numbers compare
as Python numbers, which is right for values that survive a decimal -> double -> decimal round trip.
"""

from __future__ import annotations

import itertools
import operator
import re
from typing import Any, Callable

Chain = tuple[tuple[int, int], ...]
Values = dict[str, list[tuple[Any, Chain]]]

# Keys that, when used inside a `$or` branch, make `$or` an ordinary field name.
RESERVED_IN_OR = frozenset(
    [
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
        "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
        "date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
        "ip-address-in-range", "ip-address-not-in-range",
    ]
)  # fmt: skip

NUMERIC_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ObjectPairs(list):  # type: ignore[type-arg]
    """A JSON object with its duplicate keys kept: ``json.loads(text, object_pairs_hook=ObjectPairs)``.
    EventBridge keeps every value of a duplicated key."""

    def items(self) -> list[tuple[str, Any]]:
        return list(self)


def reference_matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a parsed JSON object: dict or ObjectPairs) matches ``pattern`` (a parsed,
    valid pattern) with EventBridge's array-consistent semantics."""
    values = flatten(event)
    return any(sub_rule_matches(rule, values) for rule in sub_rules(pattern))


# --- the event ------------------------------------------------------------------------------------


def join(path: str | None, key: str) -> str:
    return key if path is None else f"{path}.{key}"


def flatten(event: Any) -> Values:
    """Every scalar (string, number, true, false, null) of the event, by dotted path, with the
    positions of the arrays it sits in. Objects and arrays themselves are not values."""
    values: Values = {}
    array_ids = itertools.count()

    def walk(node: Any, path: str | None, chain: Chain) -> None:
        if isinstance(node, (dict, ObjectPairs)):
            for key, child in node.items():
                walk(child, join(path, key), chain)
        elif isinstance(node, list):
            array_id = next(array_ids)
            for index, element in enumerate(node):
                walk(element, path, (*chain, (array_id, index)))
        else:
            assert path is not None, "the event must be a JSON object"
            values.setdefault(path, []).append((node, chain))

    walk(event, None, ())
    return values


# --- the pattern ----------------------------------------------------------------------------------


def sub_rules(pattern: dict[str, Any]) -> list[dict[str, list[Any]]]:
    """The pattern as a list of sub-rules {dotted path: matcher list}, every `$or` expanded."""
    return expand(pattern, None)


def is_or(key: str, value: Any) -> bool:
    return (
        key == "$or"
        and isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(branch, dict) for branch in value)
        and not any(k in RESERVED_IN_OR for branch in value for k in branch)
    )


def expand(obj: dict[str, Any], prefix: str | None) -> list[dict[str, list[Any]]]:
    rules: list[dict[str, list[Any]]] = [{}]
    for key, value in obj.items():
        if is_or(key, value):
            alternatives = [alt for branch in value for alt in expand(branch, prefix)]
        elif isinstance(value, dict):
            alternatives = expand(value, join(prefix, key))
        else:
            alternatives = [{join(prefix, key): value}]
        rules = [{**rule, **alt} for rule in rules for alt in alternatives]
    return rules


# --- matching -------------------------------------------------------------------------------------


def sub_rule_matches(rule: dict[str, list[Any]], values: Values) -> bool:
    """Tries every way to satisfy each path: by one of its matching values, or, where the list
    holds ``{"exists": false}``, by absence. Paths are taken in sorted order, as event-ruler
    walks a rule's fields; a choice holds when the chosen values are array-consistent and each
    path satisfied by absence has no value that could sit beside the values chosen for the paths
    sorted before it."""
    paths = sorted(rule)
    options: list[list[Chain | None]] = []  # per path: chains of matching values; None = absent
    for path in paths:
        present = values.get(path, [])
        chains: list[Chain | None] = [
            chain for value, chain in present if any(value_matches(m, value) for m in rule[path])
        ]
        if any(is_exists_false(m) for m in rule[path]):
            chains.append(None)
        if not chains:
            return False
        options.append(chains)
    for choice in itertools.product(*options):
        fixed: dict[int, int] = {}
        for path, chain in zip(paths, choice):
            if chain is None:
                if any(consistent(other, fixed) for _, other in values.get(path, [])):
                    break
            elif not merge(fixed, chain):
                break
        else:
            return True
    return False


def consistent(chain: Chain, fixed: dict[int, int]) -> bool:
    """Whether a value in ``chain`` uses no array at another index than ``fixed`` does."""
    return all(fixed.get(array_id, index) == index for array_id, index in chain)


def merge(fixed: dict[int, int], chain: Chain) -> bool:
    """Adds ``chain``'s array indexes to ``fixed``; false if one conflicts."""
    if not consistent(chain, fixed):
        return False
    fixed.update(chain)
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_exists_false(matcher: Any) -> bool:
    return isinstance(matcher, dict) and matcher.get("exists") is False


def value_matches(matcher: Any, value: Any) -> bool:
    """Whether one scalar event value matches one entry of a pattern's value list."""
    if not isinstance(matcher, dict):
        return same_value(matcher, value)
    [(op, arg)] = matcher.items()
    if op == "exists":
        return arg is True  # any scalar, null included; exists:false never matches a value
    if op == "numeric":
        return is_number(value) and all(
            NUMERIC_OPERATORS[arg[i]](value, arg[i + 1]) for i in range(0, len(arg), 2)
        )
    if op == "anything-but":
        return not excluded(arg, value)  # null, booleans and other types are never excluded
    if not isinstance(value, str):
        return False  # the remaining operators match strings only
    if op == "prefix":
        if isinstance(arg, dict):
            return value.lower().startswith(arg["equals-ignore-case"].lower())
        return value.startswith(arg)
    if op == "suffix":
        if isinstance(arg, dict):
            return value.lower().endswith(arg["equals-ignore-case"].lower())
        return value.endswith(arg)
    if op == "equals-ignore-case":
        return value.lower() == arg.lower()
    if op == "wildcard":
        return wildcard_matches(arg, value)
    raise ValueError(f"the reference does not know the operator {op!r}")


def same_value(literal: Any, value: Any) -> bool:
    """Exact match: same JSON type, and numbers compare as numbers (1 = 1.0 = 1e0)."""
    if literal is None or isinstance(literal, bool):
        return value is literal
    if is_number(literal):
        return is_number(value) and value == literal
    if isinstance(literal, str):
        return isinstance(value, str) and value == literal
    raise ValueError(f"not a pattern value: {literal!r}")


def excluded(arg: Any, value: Any) -> bool:
    """Whether anything-but's operand excludes the value. String forms exclude only strings and
    number forms only numbers."""
    if isinstance(arg, list):
        return any(excluded(item, value) for item in arg)
    if isinstance(arg, dict):
        [(op, operands)] = arg.items()
        operands = operands if isinstance(operands, list) else [operands]
        if not isinstance(value, str):
            return False
        if op == "prefix":
            return any(value.startswith(p) for p in operands)
        if op == "suffix":
            return any(value.endswith(s) for s in operands)
        if op == "equals-ignore-case":
            return any(value.lower() == s.lower() for s in operands)
        if op == "wildcard":
            return any(wildcard_matches(w, value) for w in operands)
        raise ValueError(f"the reference does not know anything-but {op!r}")
    return same_value(arg, value)


def wildcard_matches(pattern: str, value: str) -> bool:
    """`*` matches any run of characters, the empty run included. Escapes are out of scope."""
    if "\\" in pattern:
        raise ValueError("the reference does not implement wildcard escapes")
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.DOTALL) is not None
