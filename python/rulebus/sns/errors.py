"""SNS's error codes (the query API's ``Code``) and the exception a check raises."""

from __future__ import annotations

from rulebus._errors import AwsError

__all__ = ["INVALID_PARAMETER", "PARAMETER_VALUE_INVALID", "invalid", "not_found", "topic_does_not_exist"]

INVALID_PARAMETER = "InvalidParameter"
PARAMETER_VALUE_INVALID = "ParameterValueInvalid"
TOO_MANY_ENTRIES = "TooManyEntriesInBatchRequest"
EMPTY_BATCH = "EmptyBatchRequest"
IDS_NOT_DISTINCT = "BatchEntryIdsNotDistinct"
INVALID_BATCH_ENTRY_ID = "InvalidBatchEntryId"
BATCH_REQUEST_TOO_LONG = "BatchRequestTooLong"


def invalid(message: str, code: str = INVALID_PARAMETER) -> AwsError:
    return AwsError(code, message)


def not_found(what: str = "Topic") -> AwsError:
    """SNS's error for an operation naming a topic (or ``what``) that is not there."""
    return AwsError("NotFound", f"{what} does not exist", status=404)


def topic_does_not_exist() -> AwsError:
    return not_found("Topic")
