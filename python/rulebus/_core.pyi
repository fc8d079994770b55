"""Type stubs of the native module (rust/python)."""

from collections.abc import Mapping
from typing import Any, Literal, Union

JsonInput = Union[str, bytes, bytearray, memoryview, Mapping[str, Any]]

class Pattern:
    """An EventBridge event pattern, validated and compiled once, matched many times."""

    def __init__(self, pattern: JsonInput) -> None: ...
    @property
    def text(self) -> str:
        """The pattern's JSON text as given (or as serialised from a mapping)."""
    def matches(self, event: JsonInput) -> bool:
        """Whether the event matches, with EventBridge's semantics (array-consistent)."""

class FilterPolicy:
    """An SNS subscription filter policy for one scope."""

    def __init__(
        self,
        policy: JsonInput,
        scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes",
    ) -> None: ...
    @property
    def text(self) -> str: ...
    @property
    def scope(self) -> str: ...
    def matches(
        self,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        body: JsonInput | None = None,
    ) -> bool:
        """Whether SNS would deliver the message: ``attributes`` for MessageAttributes scope
        (notification form ``{"Type", "Value"}`` or boto3's ``{"DataType", "StringValue"}``),
        ``body`` for MessageBody scope."""

def test_event_pattern(pattern: JsonInput, event: JsonInput) -> bool:
    """AWS TestEventPattern: validates the pattern and the event envelope, then matches."""
