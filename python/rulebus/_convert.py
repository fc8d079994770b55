"""Serialises Python mappings for the native module, which reads JSON text. The native module
writes plain dicts itself, the same text byte for byte; it calls this for the rest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rulebus._errors import ParameterTypeError


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    # A value with no JSON form cannot be in a pattern, policy or event on the wire: the request
    # model's refusal (rulebus's wording, json's), also a TypeError as it used to be.
    raise ParameterTypeError(
        "ValidationException", f"Object of type {type(value).__name__} is not JSON serializable"
    )


def to_json(value: Mapping[str, Any]) -> str:
    """JSON text of a mapping (any Mapping, nested ones too). ASCII output keeps strings with
    lone surrogates representable; NaN and infinities come out as their non-JSON tokens, which
    the engine then refuses as AWS does."""
    return json.dumps(value, default=_plain)
