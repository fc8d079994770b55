"""Equality that also holds types: ``True == 1`` and ``1 == 1.0`` in Python, not here."""

from __future__ import annotations

from typing import Any


def assert_same(got: Any, want: Any, path: str = "") -> None:
    """``got`` equals ``want`` and every value in it has the same type as its counterpart
    (dicts compared key by key in order, lists item by item)."""
    assert type(got) is type(want), (
        f"{path or 'value'}: {type(got).__name__} {got!r}, want {type(want).__name__} {want!r}"
    )
    if isinstance(want, dict):
        assert list(got) == list(want), f"{path or 'value'}: keys {list(got)}, want {list(want)}"
        for key, value in want.items():
            assert_same(got[key], value, f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{path or 'value'}: {len(got)} items, want {len(want)}"
        for index, (item, wanted) in enumerate(zip(got, want)):
            assert_same(item, wanted, f"{path}[{index}]")
    else:
        assert got == want, f"{path or 'value'}: {got!r}, want {want!r}"
