"""Checking a handler's answer against botocore's output shape, as a serialiser would take it:
every member known to the shape, every value of the shape's type, every required member there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

_SESSION = botocore.session.get_session()


def output_shape(service: str, operation: str) -> StructureShape | None:
    model = _SESSION.get_service_model(service)
    return model.operation_model(operation).output_shape


def shape_problems(shape: Shape, value: Any, where: str = "") -> list[str]:
    """What does not fit ``shape`` in ``value`` (empty when it fits)."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            return [f"{where or '<output>'}: a structure, got {type(value).__name__}"]
        problems = []
        for name, member in value.items():
            if name not in shape.members:
                problems.append(f"{where}.{name}: not a member of {shape.name}")
            else:
                problems.extend(shape_problems(shape.members[name], member, f"{where}.{name}"))
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{where}.{name}: required by {shape.name}, missing")
        return problems
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, (list, tuple)):
            return [f"{where}: a list, got {type(value).__name__}"]
        problems = []
        for index, item in enumerate(value):
            problems.extend(shape_problems(shape.member, item, f"{where}[{index}]"))
        return problems
    if kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, Mapping):
            return [f"{where}: a map, got {type(value).__name__}"]
        problems = []
        for key, item in value.items():
            problems.extend(shape_problems(shape.key, key, f"{where}<key>"))
            problems.extend(shape_problems(shape.value, item, f"{where}[{key!r}]"))
        return problems
    expected: tuple[type, ...] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "double": (float, int),
        "float": (float, int),
        "blob": (bytes,),
        "timestamp": (datetime,),
    }[kind]
    if not isinstance(value, expected) or (
        kind in ("integer", "long", "double", "float") and isinstance(value, bool)
    ):
        return [f"{where}: {kind}, got {type(value).__name__} {value!r:.60}"]
    if kind == "timestamp" and value.tzinfo is None:
        return [f"{where}: a timestamp must be timezone-aware"]
    enum = shape.metadata.get("enum")
    if kind == "string" and enum and value not in enum:
        return [f"{where}: {value!r} not in the enum {enum}"]
    return []


def assert_output(service: str, operation: str, output: Mapping[str, Any]) -> None:
    """Fail unless ``output`` fits the operation's output shape (an operation without one must
    answer ``{}``)."""
    shape = output_shape(service, operation)
    if shape is None:
        assert dict(output) == {}, f"{operation} has no output shape, got {output!r}"
        return
    problems = shape_problems(shape, output)
    assert not problems, f"{service} {operation}: " + "; ".join(problems)
