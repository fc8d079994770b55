"""The operations the native protocol readers and writers are tested on, and what their plans
(``rulebus.aws.protocols.awsjson.native_plan``) say about a request's params: whether reading
them takes a member only the Python reader reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.model import OperationModel
from rulebus.aws.protocols import service_models


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


def operations(
    services: Iterable[str], protocol: str, output: bool = False
) -> list[tuple[str, OperationModel]]:
    """``(service, operation)`` for every operation of ``services`` in ``protocol``'s model that
    has an input shape (with ``output``: an output shape, not an event stream), in name order."""
    found = []
    for service in services:
        model = service_models(service).model(protocol)
        assert model is not None
        for name in sorted(model.operation_names):
            operation = model.operation_model(name)
            shape = operation.output_shape if output else operation.input_shape
            if shape is not None and not (output and shape.event_stream_name):
                found.append((service, operation))
    return found
