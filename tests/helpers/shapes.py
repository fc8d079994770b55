"""Hypothesis strategies of values for botocore shapes: what a client could send or a service
answer, member for member, for any operation of any model."""

from __future__ import annotations

import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import strategies as st

MAX_DEPTH = 4

# Text that XML 1.0 can carry (no C0 controls but tab, LF and CR; no surrogates), so that every
# generated string can travel in every protocol; CR and '&<>"' stay in to exercise escaping.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\t\n\r&<>\"'"),
    max_size=12,
)
TIMESTAMPS = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=datetime.timezone.utc)
)


_CACHE: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}


def values(shape: Shape, nonempty: bool, scope: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``shape`` (of the model ``scope`` names: strategies are kept by shape name)."""
    key = (scope, shape.name, shape.type_name, nonempty, depth)
    strategy = _CACHE.get(key)
    if strategy is None:
        strategy = _CACHE[key] = _values(shape, nonempty, scope, depth)
    return strategy


def _values(shape: Shape, nonempty: bool, scope: str, depth: int) -> st.SearchStrategy[Any]:
    """Values of ``shape``. ``nonempty``: no empty map or structure anywhere (the query protocol
    writes nothing for those, so they cannot come back), lists of at least one item below the
    top (an empty nested list of structures writes nothing either)."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if shape.is_document_type:
            return st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
        return _structure(shape, nonempty, scope, depth)
    if kind == "list":
        assert isinstance(shape, ListShape)
        if depth >= MAX_DEPTH:
            return st.just([])
        return st.lists(
            values(shape.member, nonempty, scope, depth + 1), min_size=1 if nonempty else 0, max_size=3
        )
    if kind == "map":
        assert isinstance(shape, MapShape)
        if depth >= MAX_DEPTH and not nonempty:
            return st.just({})
        return st.dictionaries(
            values(shape.key, nonempty, scope, depth + 1),
            values(shape.value, nonempty, scope, depth + 1),
            min_size=1 if nonempty else 0,
            max_size=3,
        )
    if kind == "string":
        enum = shape.enum
        return st.sampled_from(enum) if enum else TEXT
    if kind in ("integer", "long"):
        return st.integers(min_value=-(2**31), max_value=2**31 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if kind == "timestamp":
        return TIMESTAMPS
    if kind == "blob":
        return st.binary(max_size=16)
    raise AssertionError(f"no strategy for {kind}")


def _structure(
    shape: StructureShape, nonempty: bool, scope: str, depth: int
) -> st.SearchStrategy[dict[str, Any]]:
    members = shape.members
    required = [name for name in shape.required_members if name in members]
    optional = [name for name in members if name not in required]
    if shape.is_tagged_union:
        return st.sampled_from(list(members)).flatmap(
            lambda name: values(members[name], nonempty, scope, depth + 1).map(lambda value: {name: value})
        )
    if depth >= MAX_DEPTH:
        optional = []

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = list(required)
        if optional:
            chosen += draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
        if nonempty and not chosen and members:
            chosen = [draw(st.sampled_from(list(members)))]
        return {name: draw(values(members[name], nonempty, scope, depth + 1)) for name in chosen}

    return build()
