"""The exceptions of rulebus. The Rust core raises these; they carry AWS's codes and messages."""

from __future__ import annotations


class RulebusError(Exception):
    """The root of every error rulebus raises on purpose."""


class InvalidPatternError(RulebusError, ValueError):
    """An EventBridge event pattern that AWS would refuse (InvalidEventPatternException).

    ``str(error)`` is AWS's whole message ("Event pattern is not valid. Reason: ...") and
    ``error.reason`` the reason alone, as event-ruler words it.
    """

    code = "InvalidEventPatternException"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidFilterPolicyError(InvalidPatternError):
    """An SNS filter policy (or scope) that SNS would refuse (InvalidParameter)."""

    code = "InvalidParameter"


class InvalidEventError(RulebusError, ValueError):
    """An event that cannot be matched: not JSON, not an object, or (for ``test_event_pattern``)
    without the envelope fields AWS requires ("Parameter Event is not valid.")."""

    code = "ValidationException"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason if reason is not None else message


class AwsError(RulebusError):
    """An error an AWS API would return: its error code (``QueueDoesNotExist``,
    ``InvalidParameterValue``...), its message, and whether the sender is at fault."""

    def __init__(self, code: str, message: str, sender_fault: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sender_fault = sender_fault

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"
