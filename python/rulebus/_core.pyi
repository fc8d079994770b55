"""Type stubs of the native module (rust/python)."""

from collections.abc import Mapping
from typing import Any, Literal, final

from typing_extensions import TypeAlias

__all__ = ["FilterPolicy", "Pattern", "test_event_pattern"]

_JsonInput: TypeAlias = str | bytes | bytearray | memoryview | Mapping[str, Any]

@final
class Pattern:
    """An EventBridge event pattern, validated and compiled once, matched many times."""

    def __new__(cls, pattern: _JsonInput) -> Pattern: ...
    @property
    def text(self) -> str:
        """The pattern's JSON text as given (or as serialised from a mapping)."""
    def matches(self, event: _JsonInput) -> bool:
        """Whether the event matches, with EventBridge's semantics (array-consistent)."""

@final
class FilterPolicy:
    """An SNS subscription filter policy for one scope."""

    def __new__(
        cls,
        policy: _JsonInput,
        scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes",
    ) -> FilterPolicy: ...
    @property
    def text(self) -> str: ...
    @property
    def scope(self) -> str: ...
    def matches(
        self,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        body: _JsonInput | None = None,
    ) -> bool:
        """Whether SNS would deliver the message: ``attributes`` for MessageAttributes scope
        (notification form ``{"Type", "Value"}`` or boto3's ``{"DataType", "StringValue"}``),
        ``body`` for MessageBody scope."""

def test_event_pattern(pattern: _JsonInput, event: _JsonInput) -> bool:
    """AWS TestEventPattern: validates the pattern and the event envelope, then matches."""
