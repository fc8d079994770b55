"""What the native AWS JSON reader's plans (``rulebus.aws.protocols.awsjson.native_plan``) say
about a request's params: whether reading them takes a member only the Python reader reads."""

from __future__ import annotations

from typing import Any


def python_only(plan: tuple[Any, ...], value: Any) -> bool:
    """Whether ``value`` (params, or a member's value, as the Python reader read it) holds a
    value that ``plan`` leaves to the Python reader (floats, timestamps, blobs, documents)."""
    kind = plan[0]
    if kind == "other":
        return True
    if value is None:
        return False
    if kind == "structure":
        wires = {name: member for name, _, member in plan[1]}
        return any(python_only(wires[name], item) for name, item in value.items())
    if kind == "list":
        return any(python_only(plan[1], item) for item in value)
    if kind == "map":
        return any(python_only(plan[2], item) for item in value.values())
    return False
