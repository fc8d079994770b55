"""Type stubs of the native module (rust/python)."""

from collections.abc import Iterable, Mapping
from typing import Any, Literal, final

from typing_extensions import TypeAlias

__all__ = ["FilterPolicy", "Pattern", "RuleSet", "test_event_pattern"]

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
    def explain(self, event: _JsonInput) -> list[dict[str, Any]]:
        """Why the event does not match: one dict per failing condition, with keys "branch"
        (the ``$or`` branch), "path", "operator", "expected" (the pattern's values), "actual"
        (the event's values there, empty when absent) and "message"; empty when it matches."""

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

_Message: TypeAlias = _JsonInput | tuple[_JsonInput | None, Mapping[str, Mapping[str, Any]] | None]

@final
class RuleSet:
    """Many named rules of one dialect ("eventbridge" patterns or "sns" filter policies),
    compiled together and matched at once."""

    def __new__(cls, dialect: Literal["eventbridge", "sns"] = "eventbridge") -> RuleSet: ...
    @property
    def dialect(self) -> str: ...
    def add(
        self,
        name: str,
        pattern: _JsonInput,
        scope: Literal["MessageAttributes", "MessageBody"] | None = None,
    ) -> None:
        """Adds a rule or replaces the rule of that name; a bad pattern raises and changes
        nothing. ``scope`` is the filter policy scope of the sns dialect."""
    def remove(self, name: str) -> None:
        """Removes the rule of that name (``KeyError`` if there is none)."""
    def __len__(self) -> int: ...
    def __contains__(self, key: str, /) -> bool: ...
    def names(self) -> list[str]:
        """The rules' names, in the order they were first added."""
    def matches(
        self,
        event: _JsonInput | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[str]:
        """The names of the rules that match: an event (eventbridge) or a message body and
        attributes (sns)."""
    def explain(self, name: str, event: _JsonInput) -> list[dict[str, Any]]:
        """Why the event does not match the named rule (see ``Pattern.explain``)."""
    def stats(self) -> dict[str, int]:
        """Size of the compiled rules: "rules", "states" and "bytes" (approximate)."""
    def route_events(
        self,
        entries: list[tuple[str, str, str, str, list[str], str]],
        account: str,
        region: str,
    ) -> list[tuple[str, list[str]] | None]:
        """PutEvents' routing in one call: per entry ``(id, detail_type, source, time,
        resources, detail)``, the event's text and the rules it matches, or None for a
        malformed detail (EventBridge rule sets)."""
    def matches_many(self, events: Iterable[_Message]) -> list[list[str]]:
        """``matches`` for each event, the GIL released for the batch (sns: bodies or
        ``(body, attributes)`` pairs)."""

def test_event_pattern(pattern: _JsonInput, event: _JsonInput) -> bool:
    """AWS TestEventPattern: validates the pattern and the event envelope, then matches."""
