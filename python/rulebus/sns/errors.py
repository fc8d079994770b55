"""SNS's error codes (the query API's ``Code``) and the exception a check raises."""

from __future__ import annotations

from rulebus._errors import AwsError

__all__ = ["INVALID_PARAMETER", "PARAMETER_VALUE_INVALID", "invalid"]

INVALID_PARAMETER = "InvalidParameter"
PARAMETER_VALUE_INVALID = "ParameterValueInvalid"
TOO_MANY_ENTRIES = "TooManyEntriesInBatchRequest"
EMPTY_BATCH = "EmptyBatchRequest"
IDS_NOT_DISTINCT = "BatchEntryIdsNotDistinct"
INVALID_BATCH_ENTRY_ID = "InvalidBatchEntryId"
BATCH_REQUEST_TOO_LONG = "BatchRequestTooLong"


def invalid(message: str, code: str = INVALID_PARAMETER) -> AwsError:
    return AwsError(code, message)
