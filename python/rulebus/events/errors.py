"""EventBridge's errors for a request rulebus refuses: the codes of the EventBridge API Reference
('Common Errors' and each action's Errors), with HTTP status 404 for a resource that is not
there and 400 for the others."""

from __future__ import annotations

from rulebus._errors import AwsError
from rulebus.stores.base import NotFound

__all__ = [
    "ALREADY_EXISTS",
    "INVALID_PATTERN",
    "LIMIT_EXCEEDED",
    "NOT_FOUND",
    "VALIDATION",
    "error",
    "gone",
    "limit_exceeded",
    "missing_bus",
    "missing_rule",
]

VALIDATION = "ValidationException"
NOT_FOUND = "ResourceNotFoundException"
LIMIT_EXCEEDED = "LimitExceededException"
ALREADY_EXISTS = "ResourceAlreadyExistsException"
INVALID_PATTERN = "InvalidEventPatternException"


def error(code: str, message: str) -> AwsError:
    return AwsError(code, message, status=404 if code == NOT_FOUND else 400)


def missing_bus(bus: str) -> AwsError:
    return error(NOT_FOUND, f"Event bus {bus} does not exist.")


def missing_rule(rule: str, bus: str) -> AwsError:
    return error(NOT_FOUND, f"Rule {rule} does not exist on EventBus {bus}.")


def gone(found: NotFound, bus: str) -> AwsError:
    """AWS's error for a bus or rule the store found gone (deleted since it was checked)."""
    return missing_bus(bus) if found.kind == "bus" else missing_rule(found.name, bus)


def limit_exceeded() -> AwsError:
    """A quota reached: rules per bus, targets per rule."""
    return error(LIMIT_EXCEEDED, "The requested resource exceeds the maximum number allowed.")
