"""The errors the codec itself answers with, worded as each service words them.

A handler raises :class:`~rulebus.AwsError` for what breaks AWS's rules; the codec raises these
for what breaks the wire: a body that is not JSON or not form encoding, a member of the wrong
type, a required member missing, an operation or a service that is not there. Which code a
service uses for each is AWS's (its API Reference's 'Common Errors' and the errors the service
returns), so that a client sees the same error class it would see from AWS.
"""

from __future__ import annotations

from collections.abc import Sequence

from rulebus import validation
from rulebus._errors import AwsError
from rulebus.aws.errors import ServiceNotEmulated

__all__ = [
    "ServiceNotEmulated",
    "bad_member_type",
    "malformed_query_string",
    "missing_action",
    "missing_parameter",
    "not_emulated",
    "serialization_error",
    "unknown_operation",
]

#: How each service words a parameter it refuses (shared with the services' own checks). STS,
#: a query service like SNS that rulebus barely exercises, is worded as SNS is.
_WORDING: dict[str, validation.Wording] = {
    "sqs": validation.SQS,
    "sns": validation.SNS,
    "sts": validation.SNS,
    "events": validation.EVENTS,
    "kinesis": validation.KINESIS,
}


def not_emulated(service: str, emulated: Sequence[str]) -> ServiceNotEmulated:
    return ServiceNotEmulated(service, emulated)


def serialization_error(message: str) -> AwsError:
    """A JSON body, or a member in it, that cannot be read as the model says (Coral's
    SerializationException)."""
    return AwsError("SerializationException", message)


def _coral_path(path: Sequence[str | int]) -> str:
    """Where a member is, as Coral's validation messages say it: ``records.1.member.partitionKey``."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"{step}.member")
        else:
            parts.append(step[:1].lower() + step[1:])
    return ".".join(parts)


def _query_path(path: Sequence[str | int]) -> str:
    return ".".join(str(step) for step in path)


def _wording(service: str) -> validation.Wording:
    return _WORDING.get(service, validation.SNS)


def _name(service: str, path: Sequence[str | int]) -> str:
    """A member as the service's messages name it: ``records.1.member.partitionKey`` (JSON
    services, as Coral's validation does), ``Entries.1.Id`` (query services)."""
    if service in ("events", "kinesis"):
        return _coral_path(path)
    return _query_path(path)


def missing_parameter(service: str, path: Sequence[str | int]) -> AwsError:
    """A required member the request lacks."""
    return _wording(service).missing(_name(service, path))


def bad_member_type(
    service: str, protocol: str, path: Sequence[str | int], value: str, expected: str
) -> AwsError:
    """A member whose value is not of its shape's type (``expected``: "an Integer"...). AWS's
    JSON services answer a JSON value of the wrong kind with SerializationException; the query
    services with their invalid-parameter error."""
    if protocol == "json":
        return serialization_error(f"{value} can not be converted to {expected} (at '{_coral_path(path)}')")
    return _wording(service).wrong_type(_query_path(path), value, expected)


def malformed_query_string(detail: str) -> AwsError:
    """A body or query string that is not form encoding (Common Errors: MalformedQueryString)."""
    return AwsError("MalformedQueryString", f"The query string contains a syntax error: {detail}", status=404)


def missing_action() -> AwsError:
    """A query request without ``Action`` (Common Errors: MissingAction)."""
    return AwsError("MissingAction", "The request is missing an action or a required parameter.")


def unknown_operation(protocol: str, service: str, operation: str, modeled: bool) -> AwsError:
    """An action or target the service does not have (``modeled`` False) or that rulebus does
    not implement (``modeled`` True): AWS's InvalidAction (query) or UnknownOperationException
    (JSON); the message says which of the two it is."""
    why = (
        f"rulebus does not implement {service}:{operation}"
        if modeled
        else "The action or operation requested is invalid. Verify that the action is typed correctly."
    )
    if protocol != "query":  # AWS JSON, in JSON or CBOR bodies
        return AwsError("UnknownOperationException", why)
    return AwsError("InvalidAction", why)
