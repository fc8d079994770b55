"""Store records (``rulebus.stores.records``) as JSON text, as the Redis store keeps them."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, TypeVar

__all__ = ["from_json", "to_json"]

R = TypeVar("R")

# Per record class: its fields that are tuples (JSON gives lists back).
_TUPLES: dict[type, tuple[str, ...]] = {}


def to_json(record: Any) -> str:
    return json.dumps(dataclasses.asdict(record), ensure_ascii=False)


def from_json(cls: type[R], text: str) -> R:
    tuples = _TUPLES.get(cls)
    if tuples is None:
        hints = typing.get_type_hints(cls)
        tuples = _TUPLES[cls] = tuple(
            name for name, hint in hints.items() if typing.get_origin(hint) is tuple or hint is tuple
        )
    fields = json.loads(text)
    for name in tuples:
        if name in fields:
            fields[name] = tuple(fields[name])
    return cls(**fields)
