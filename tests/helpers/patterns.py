"""Hypothesis strategies for EventBridge patterns and events that match (or nearly match) them."""

from __future__ import annotations

import random
import re
from typing import Any

from hypothesis import strategies as st

KEYS = ("a", "b", "c", "d", "e")
STRINGS = (
    "", "a", "b", "ab", "abc", "A", "aB", "Abc", "ba", "cab", "x.y", "a*b", "5", "1.0", "null",
    "true", "foo", "FOO", "fooBar", 'q"uote', "back\\slash", "tab\tnew\nline", "sp ace",
    "\u00e9", "\u00c9", "\u65e5\u672c", "\U0001f600", "a\U0001f600b", "\u03a9",
)  # fmt: skip
# equals-ignore-case operands stay ASCII: there Python's lower() is Java's per-char case mapping.
ASCII_STRINGS = tuple(s for s in STRINGS if s.isascii())
PIECES = ("", "a", "b", "A", "B", "x", "ab", "5", ".", "*", '"', "\\", " ", "\u00e9", "\U0001f600")
# Numbers that survive decimal -> double -> decimal, inside every documented range, and whose sums
# with the deltas below stay exact enough for Python's float comparisons to be the engine's.
NUMBERS = (
    0, 1, -1, 2, 3, 5, 10, 100, 1000, -5, 0.5, 1.5, -2.5, 3.25, 2.0, 5.0, 0.1, 7.125, 123456.75,
    1e9, -1e9, -0.0,
)  # fmt: skip
DELTAS = (0, -1, 1, -0.5, 0.5, -0.25, 0.25)
MAX_PATTERN_LENGTH = 4096  # TestEventPattern's EventPattern limit

strings = st.sampled_from(STRINGS)
nonempty_strings = st.sampled_from([s for s in STRINGS if s])
ascii_strings = st.sampled_from(ASCII_STRINGS)
nonempty_ascii_strings = st.sampled_from([s for s in ASCII_STRINGS if s])
numbers = st.sampled_from(NUMBERS)
constants = st.sampled_from([True, False, None])
pieces = st.sampled_from(PIECES)
built_strings = st.lists(pieces, max_size=4).map("".join)
scalars = st.one_of(strings, numbers, constants, built_strings)


# --- patterns -------------------------------------------------------------------------------------


@st.composite
def wildcards(draw: st.DrawFn) -> str:
    """A wildcard operand: `*` anywhere, never two in a row, no backslash (no escapes)."""
    if draw(st.booleans()):
        parts = draw(st.lists(st.sampled_from(["*", "a", "b", "ab", "A", "x.", "5", '"', " "]), max_size=5))
        text = "".join(parts)
    else:
        base = draw(strings.filter(lambda s: "\\" not in s))
        at = draw(st.integers(0, len(base)))
        text = base[:at] + "*" + base[at:]
    return re.sub(r"\*+", "*", text)


def one_or_list(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return values | st.lists(values, min_size=1, max_size=3)


anything_but_operands = st.one_of(
    strings,
    numbers,
    st.lists(strings, min_size=1, max_size=3),
    st.lists(numbers, min_size=1, max_size=3),
    st.fixed_dictionaries({"prefix": one_or_list(nonempty_strings)}),
    st.fixed_dictionaries({"suffix": one_or_list(nonempty_strings)}),
    st.fixed_dictionaries({"equals-ignore-case": one_or_list(nonempty_ascii_strings)}),
    st.fixed_dictionaries({"wildcard": one_or_list(wildcards())}),
)


@st.composite
def numeric_terms(draw: st.DrawFn) -> list[Any]:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return ["=", draw(numbers)]
    if kind == 1:
        return [draw(st.sampled_from(["<", "<=", ">", ">="])), draw(numbers)]
    low = draw(numbers)
    high = low + draw(st.sampled_from([0.5, 1, 10, 1000]))
    return [draw(st.sampled_from([">", ">="])), low, draw(st.sampled_from(["<", "<="])), high]


matchers = st.one_of(
    strings,
    numbers,
    constants,
    st.fixed_dictionaries({"prefix": strings}),
    st.fixed_dictionaries({"suffix": strings}),
    st.fixed_dictionaries({"equals-ignore-case": ascii_strings}),
    st.fixed_dictionaries({"wildcard": wildcards()}),
    st.fixed_dictionaries({"prefix": st.fixed_dictionaries({"equals-ignore-case": nonempty_ascii_strings})}),
    st.fixed_dictionaries({"suffix": st.fixed_dictionaries({"equals-ignore-case": nonempty_ascii_strings})}),
    st.fixed_dictionaries({"anything-but": anything_but_operands}),
    st.fixed_dictionaries({"numeric": numeric_terms()}),
    st.fixed_dictionaries({"exists": st.booleans()}),
)
value_lists = st.lists(matchers, min_size=1, max_size=3)


@st.composite
def pattern_objects(
    draw: st.DrawFn, depth: int = 0, taken: frozenset[str] = frozenset(), min_keys: int = 1
) -> dict[str, Any]:
    """A pattern object. Keys of a `$or` branch differ from its siblings' keys, so that no sub-rule
    names one path twice."""
    free = [k for k in KEYS if k not in taken]
    keys = draw(st.lists(st.sampled_from(free), min_size=min_keys, max_size=3, unique=True))
    obj: dict[str, Any] = {}
    for key in keys:
        if depth < 2 and draw(st.integers(0, 2 + 2 * depth)) >= 2 + depth:
            obj[key] = draw(pattern_objects(depth + 1))
        else:
            obj[key] = draw(value_lists)
    if depth < 2 and len(free) - len(keys) >= 1 and draw(st.integers(0, 4)) == 4:
        branch = pattern_objects(depth + 1, frozenset(taken | set(keys)))
        obj["$or"] = draw(st.lists(branch, min_size=2, max_size=3))
    return obj


def collapse_pattern(rnd: random.Random, obj: dict[str, Any]) -> dict[str, Any]:
    """Sometimes move a nested object's entries up as dotted keys: {"a": {"b": X}} -> {"a.b": X}.
    Paths do not change, so the pattern means the same."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "$or":
            out[key] = [collapse_pattern(rnd, branch) for branch in value]
        elif isinstance(value, dict):
            value = collapse_pattern(rnd, value)
            if "$or" not in value and rnd.random() < 0.25:
                out.update({f"{key}.{sub}": v for sub, v in value.items()})
            else:
                out[key] = value
        else:
            out[key] = value
    return out


@st.composite
def patterns(draw: st.DrawFn) -> dict[str, Any]:
    return collapse_pattern(draw(st.randoms(use_true_random=False)), draw(pattern_objects()))


# --- events built to hit a pattern ----------------------------------------------------------------


@st.composite
def recased(draw: st.DrawFn, text: str) -> str:
    upper = draw(st.integers(0, 2 ** len(text) - 1))  # bit i: character i in upper case
    return "".join(c.upper() if upper >> i & 1 else c.lower() for i, c in enumerate(text))


@st.composite
def filled(draw: st.DrawFn, wildcard: str) -> str:
    """A string the wildcard matches: every `*` replaced by a random piece."""
    parts = wildcard.split("*")
    return "".join(part + (draw(built_strings) if i < len(parts) - 1 else "") for i, part in enumerate(parts))


@st.composite
def excluded_values(draw: st.DrawFn, operand: Any) -> Any:
    """A value that anything-but's operand excludes (or nearly does)."""
    if isinstance(operand, list):
        return draw(excluded_values(draw(st.sampled_from(operand))))
    if isinstance(operand, dict):
        [(op, arg)] = operand.items()
        arg = draw(st.sampled_from(arg)) if isinstance(arg, list) else arg
        if op == "prefix":
            return arg + draw(built_strings)
        if op == "suffix":
            return draw(built_strings) + arg
        if op == "equals-ignore-case":
            return draw(recased(arg))
        return draw(filled(arg))
    return draw(near(operand))


@st.composite
def near(draw: st.DrawFn, value: Any) -> Any:
    """The value itself or a value close to it (same number as int or float, other case...)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        options = [value, float(value), value + 1]
        if float(value).is_integer():
            options.append(int(value))
        return draw(st.sampled_from(options))
    return draw(st.sampled_from([value, value, value.upper(), value + "a", value[1:]]))


@st.composite
def witnesses(draw: st.DrawFn, value_list: list[Any]) -> Any:
    """A value that one of the matchers likely matches, sometimes one it just misses, sometimes noise."""
    if draw(st.integers(0, 5)) == 5:
        return draw(scalars)
    matcher = value_list[draw(st.integers(0, len(value_list) - 1))]
    if not isinstance(matcher, dict):
        return draw(near(matcher))
    [(op, arg)] = matcher.items()
    if op == "prefix":
        if isinstance(arg, dict):
            return draw(recased(arg["equals-ignore-case"])) + draw(built_strings)
        return draw(st.sampled_from([arg, arg[:-1]])) + draw(built_strings)
    if op == "suffix":
        if isinstance(arg, dict):
            return draw(built_strings) + draw(recased(arg["equals-ignore-case"]))
        return draw(built_strings) + draw(st.sampled_from([arg, arg[1:]]))
    if op == "equals-ignore-case":
        return draw(recased(arg))
    if op == "wildcard":
        return draw(filled(arg))
    if op == "numeric":
        bound = draw(st.sampled_from(arg[1::2]))
        return bound + draw(st.sampled_from(DELTAS))
    if op == "anything-but":
        return draw(excluded_values(arg)) if draw(st.booleans()) else draw(scalars)
    return draw(scalars)  # exists


@st.composite
def leaf_values(draw: st.DrawFn, value_list: list[Any]) -> Any:
    """The event's value for a pattern leaf: a scalar, an array (maybe nested, maybe empty) of
    them, or an object (which is not a value)."""
    one = witnesses(value_list)
    kind = draw(st.integers(0, 9))
    if kind < 6:
        return draw(one)
    if kind < 9:
        return draw(st.lists(one | st.lists(one, max_size=2), max_size=3))
    return {"z": draw(one)}


def deep_merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            deep_merge(into[key], value)
        else:
            into[key] = value


@st.composite
def event_objects(draw: st.DrawFn, pattern: dict[str, Any], sparse: bool = False) -> dict[str, Any]:
    """An event object for a pattern object; a sparse one (an array element) misses more fields, so
    that a match often needs fields from different elements."""
    event: dict[str, Any] = {}
    for key, value in pattern.items():
        if key == "$or":
            for branch in value:
                if draw(st.integers(0, 3)) < 3:
                    deep_merge(event, draw(event_objects(branch, sparse)))
        elif draw(st.integers(0, 9)) >= (5 if sparse else 9):
            continue  # the field is missing
        elif isinstance(value, list):
            event[key] = draw(leaf_values(value))
        else:
            event[key] = draw(nested_values(value))
    if draw(st.integers(0, 4)) == 4:
        event.setdefault(draw(st.sampled_from((*KEYS, "z"))), draw(scalars))
    return event


@st.composite
def nested_values(draw: st.DrawFn, pattern: dict[str, Any]) -> Any:
    kind = draw(st.integers(0, 5))
    if kind < 3:
        return draw(event_objects(pattern))
    if kind < 5:  # an array of objects: array consistency decides
        element = event_objects(pattern, sparse=True) | event_objects(pattern) | scalars
        return draw(st.lists(element, min_size=1, max_size=4))
    return draw(st.sampled_from([[], "a", 1, None]))


def collapse_event(rnd: random.Random, node: Any) -> Any:
    """Sometimes move all of an object's entries up as dotted keys. The paths do not change."""
    if isinstance(node, list):
        return [collapse_event(rnd, element) for element in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        value = collapse_event(rnd, value)
        if isinstance(value, dict) and value and rnd.random() < 0.2:
            for sub, v in value.items():
                out.setdefault(f"{key}.{sub}", v)
        else:
            out[key] = value
    return out


@st.composite
def any_patterns_and_events(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    pattern = draw(patterns())
    event = draw(event_objects(pattern))
    return pattern, collapse_event(draw(st.randoms(use_true_random=False)), event)


@st.composite
def array_patterns_and_events(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An object of several conditions that the event holds as an array of sparse objects, so
    that array consistency often decides."""
    key = draw(st.sampled_from(KEYS))
    inner = draw(pattern_objects(depth=1, min_keys=2))
    elements = draw(st.lists(event_objects(inner, sparse=True), min_size=2, max_size=4))
    rnd = draw(st.randoms(use_true_random=False))
    return collapse_pattern(rnd, {key: inner}), collapse_event(rnd, {key: elements})


def patterns_and_events() -> st.SearchStrategy[tuple[dict[str, Any], dict[str, Any]]]:
    return st.one_of(any_patterns_and_events(), array_patterns_and_events())
