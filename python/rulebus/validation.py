"""Bad input answered as AWS answers it: the checks each public method of the services makes
first, before anything reaches a store.

A request that AWS refuses because a parameter breaks its model (absent, of the wrong type, not
Unicode text, an unknown member in a batch entry) is refused here with the error the service
gives for an invalid parameter, worded as that service words it:

========== =========================== ==================================================
service    code                        message
========== =========================== ==================================================
SQS        MissingParameter            "The request must contain the parameter P."
SQS        InvalidParameterValue       "Value V for parameter P is invalid. Reason: R"
SNS        InvalidParameter            "Invalid parameter: P" (+ " Reason: R")
EventBridge ValidationException        "1 validation error detected: Value V at 'p' failed
Kinesis                                to satisfy constraint: R" (null: "Member must not
                                       be null")
========== =========================== ==================================================

The missing-parameter texts are AWS's; the reasons for a wrong type, for text that is not valid
Unicode and for an unknown entry member are rulebus's choice in AWS's style (AWS's JSON services
answer a JSON type mismatch with SerializationException and SDKs refuse unknown members before
sending, so there is no service text to copy; the unknown-member reason borrows botocore's
wording, which is what a boto3 user sees).

Wrong Python types (None where a list is required, an int where a str is) raise
:class:`~rulebus._errors.ParameterTypeError`: an ``AwsError`` with the service's code and
message above that is also a ``TypeError``, so code that caught the ``TypeError`` these used to
be keeps working while every refusal is a ``RulebusError``.

A lone surrogate (``"\\ud800"``) is a Python str that has no UTF-8 form, so it cannot travel in
a request: it is refused like any other invalid text, before a store (SQLite cannot encode it)
sees it, so the memory and SQLite stores answer alike. SQS message bodies and attribute values
keep SQS's own InvalidMessageContents / InvalidParameterValue texts (their character checks
cover surrogates).

The checks are cheap on purpose (hot paths call them): an ``isinstance`` and, for text, one C scan
that only non-ASCII strings pay.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any, overload

from rulebus._errors import AwsError, ParameterTypeError, sqs_error
from rulebus.arn import Arn

_DICT_ONLY = frozenset((dict,))

__all__ = [
    "EVENTS",
    "IDEMPOTENCY",
    "KINESIS",
    "LAMBDA",
    "PIPES",
    "SNS",
    "SQS",
    "Wording",
    "account_id",
    "arn",
    "engine_text",
    "entries",
    "finite_number",
    "integer",
    "is_text",
    "json_text",
    "keys",
    "mapping",
    "pattern",
    "region_name",
    "shown",
    "string_list",
    "text",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Longest value an error message shows (AWS's messages quote values whole; a cap keeps a 1 MB
#: body out of a traceback).
_SHOWN_LIMIT = 256


def is_text(value: str) -> bool:
    """Whether a str is valid Unicode text, i.e. has a UTF-8 form (no lone surrogates). ASCII
    strings answer without a scan (``isascii`` reads a flag)."""
    return value.isascii() or _SURROGATE.search(value) is None


def shown(value: Any) -> str:
    """A value as an error message quotes it: printable whatever it holds (a lone surrogate is
    shown as ``\\ud800``, since the message itself must be valid text), None as ``null``."""
    if value is None:
        return "null"
    text_value = value if isinstance(value, str) else repr(value)
    if len(text_value) > _SHOWN_LIMIT:
        text_value = text_value[:_SHOWN_LIMIT] + "..."
    return text_value if is_text(text_value) else text_value.encode("utf-8", "backslashreplace").decode()


class Wording:
    """How one service words a parameter it refuses (see the module docstring's table)."""

    def missing(self, parameter: str) -> AwsError:
        raise NotImplementedError

    def invalid(self, parameter: str, value: Any, reason: str) -> AwsError:
        raise NotImplementedError

    def wrong_type(self, parameter: str, value: Any, expected: str) -> ParameterTypeError:
        error = self.invalid(parameter, value, self.type_reason(expected))
        return ParameterTypeError(error.code, error.message, query_code=error.query_code, status=error.status)

    def type_reason(self, expected: str) -> str:
        return f"Must be {expected}."

    def not_text(self, parameter: str, value: Any) -> AwsError:
        return self.invalid(parameter, value, self.text_reason())

    def text_reason(self) -> str:
        # rulebus's choice: what AWS would say of a string with no UTF-8 form is not recorded.
        return "Must be valid Unicode text (a lone surrogate has no UTF-8 form)."


class _SqsWording(Wording):
    def missing(self, parameter: str) -> AwsError:
        return sqs_error("MissingParameter", f"The request must contain the parameter {parameter}.")

    def invalid(self, parameter: str, value: Any, reason: str) -> AwsError:
        # The shape of SQS's range errors ("Value 11 for parameter MaxNumberOfMessages is invalid.").
        return sqs_error(
            "InvalidParameterValue",
            f"Value {shown(value)} for parameter {parameter} is invalid. Reason: {reason}",
        )


class _SnsWording(Wording):
    def missing(self, parameter: str) -> AwsError:
        return AwsError("InvalidParameter", f"Invalid parameter: {parameter}")

    def invalid(self, parameter: str, value: Any, reason: str) -> AwsError:
        # SNS's shape: "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value ...".
        return AwsError("InvalidParameter", f"Invalid parameter: {parameter} Reason: {reason}")


class _JsonWording(Wording):
    """EventBridge and Kinesis: the request model's ValidationException. Parameters are named as
    the model's members are in these messages (``entries``, ``targets.1.member.id``)."""

    def missing(self, parameter: str) -> AwsError:
        return AwsError(
            "ValidationException",
            f"1 validation error detected: Value null at '{parameter}' failed to satisfy constraint: "
            "Member must not be null",
        )

    def invalid(self, parameter: str, value: Any, reason: str) -> AwsError:
        return AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{shown(value)}' at '{parameter}' failed to satisfy "
            f"constraint: {reason}",
        )

    def type_reason(self, expected: str) -> str:
        return f"Member must be {expected}"

    def text_reason(self) -> str:
        return "Member must be valid Unicode text"


SQS: Wording = _SqsWording()
SNS: Wording = _SnsWording()
EVENTS: Wording = _JsonWording()
KINESIS: Wording = _JsonWording()
#: Lambda's request model answers as EventBridge's does (AWS Lambda API Reference, 'Common Errors').
LAMBDA: Wording = _JsonWording()
#: EventBridge Pipes' request model answers the same way (EventBridge Pipes API Reference).
PIPES: Wording = _JsonWording()
#: rulebus's idempotency helper is no AWS API: refused in the JSON services' request-model style.
IDEMPOTENCY: Wording = _JsonWording()


# ------------------------------------------------------------------------------------------ checks


def _refused(value: Any, parameter: str, wording: Wording, required: bool, expected: str) -> None:
    """A value a check does not take: None is the missing-parameter error when ``required`` (else
    it passes and the check returns None); anything else is the wrong-type error naming what was
    ``expected``."""
    if value is not None:
        raise wording.wrong_type(parameter, value, expected)
    if required:
        raise wording.missing(parameter)


@overload
def text(value: Any, parameter: str, wording: Wording) -> str: ...
@overload
def text(value: Any, parameter: str, wording: Wording, *, required: bool) -> str | None: ...
def text(value: Any, parameter: str, wording: Wording, *, required: bool = True) -> str | None:
    """A str parameter that must be valid Unicode text; None is the missing-parameter error when
    ``required``, else passes (returned as None)."""
    if isinstance(value, str):
        if value.isascii() or _SURROGATE.search(value) is None:
            return value
        raise wording.not_text(parameter, value)
    _refused(value, parameter, wording, required, "a string")
    return None


@overload
def integer(value: Any, parameter: str, wording: Wording) -> int: ...
@overload
def integer(value: Any, parameter: str, wording: Wording, *, required: bool) -> int | None: ...
def integer(value: Any, parameter: str, wording: Wording, *, required: bool = True) -> int | None:
    """An int parameter (bools are not ints here, as on the wire); None as :func:`text`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    _refused(value, parameter, wording, required, "an integer")
    return None


def finite_number(value: Any, parameter: str, wording: Wording, *, required: bool = True) -> Any:
    """An int or float parameter that must be finite (NaN and infinities have no JSON form)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            # rulebus's choice of reason, in the model's style.
            raise wording.invalid(parameter, value, "Member must be a finite number")
        return value
    _refused(value, parameter, wording, required, "a number")
    return None


def mapping(value: Any, parameter: str, wording: Wording, *, required: bool = True) -> Any:
    """A mapping parameter (a JSON object on the wire)."""
    if isinstance(value, Mapping):
        return value
    _refused(value, parameter, wording, required, "a map")
    return None


def _sequence(value: Any, parameter: str, wording: Wording, required: bool) -> Any:
    if isinstance(value, (list, tuple)) or (
        isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray, memoryview))
    ):
        return value
    _refused(value, parameter, wording, required, "a list")
    return None


def string_list(value: Any, parameter: str, wording: Wording, *, required: bool = True) -> Any:
    """A list of str, each valid Unicode text."""
    items = _sequence(value, parameter, wording, required)
    if items is not None:
        for item in items:
            text(item, parameter, wording)
    return items


def entries(
    value: Any,
    parameter: str,
    wording: Wording,
    members: frozenset[str],
    *,
    required: bool = True,
) -> Any:
    """A list of batch entries, each a mapping whose keys are among the entry shape's
    ``members``: an unknown member is refused, as botocore refuses it before sending (its wording;
    AWS never sees such a request). One pass, no copies: the entries are returned as given."""
    items = _sequence(value, parameter, wording, required)
    if items is None:
        return None
    # The usual request, all dicts with known members, checked in two C-level passes (a type
    # set, then every key of every entry at once); the loop below finds what is wrong otherwise.
    if set(map(type, items)) <= _DICT_ONLY and members.issuperset(chain.from_iterable(items)):
        return items
    superset = members.issuperset
    for entry in items:
        # type() first: the Mapping ABC check costs several times more, and entries are dicts.
        if (type(entry) is not dict and not isinstance(entry, Mapping)) or not superset(entry):
            index = _index_of(items, entry)
            if not isinstance(entry, Mapping):
                raise wording.wrong_type(f"{parameter}[{index}]", entry, "a map")
            keys(entry, f"{parameter}[{index}]", wording, members)
    return items


def keys(value: Mapping[Any, Any], parameter: str, wording: Wording, members: frozenset[str]) -> None:
    """A mapping of a structure shape (a message attribute value, a target's parameters): every
    key among the shape's ``members``, as botocore refuses others before sending (its wording)."""
    if not members.issuperset(value):
        unknown = next(key for key in value if key not in members)
        raise wording.invalid(
            parameter,
            unknown,
            f'Unknown parameter in {parameter}: "{shown(unknown)}", must be one of: '
            + ", ".join(sorted(members)),
        )


def engine_text(value: Any) -> Any:
    """A pattern, policy or event on its way to the engine: a str with a lone surrogate goes as
    its UTF-8 bytes with the surrogate kept (``surrogatepass``), which the engine refuses as it
    refuses any invalid UTF-8, with its own (AWS's) error; handed the str, the binding would
    replace the surrogate with U+FFFD and accept it. Anything else is returned as given."""
    if isinstance(value, str) and not (value.isascii() or _SURROGATE.search(value) is None):
        return value.encode("utf-8", "surrogatepass")
    return value


def pattern(value: Any, parameter: str, wording: Wording) -> Any:
    """An event pattern or filter policy parameter: its JSON text or a mapping (None passes).
    Its text goes to the engine through :func:`engine_text`, for the engine's own errors."""
    if value is None or isinstance(value, (str, Mapping)):
        return value
    raise wording.wrong_type(parameter, value, "a JSON object or its text")


def json_text(value: Mapping[str, Any], parameter: str, wording: Wording) -> str:
    """A mapping parameter (a pattern, a policy) as JSON text; ASCII, so a lone surrogate in it
    travels escaped, as valid JSON. A value with no JSON form (bytes, an object, a cycle, NaN) is
    the wrong type."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise wording.wrong_type(parameter, value, f"JSON ({error})") from None


def arn(value: Any, parameter: str, wording: Wording) -> str:
    """An ARN parameter: valid text of ``arn:partition:service:region:account:resource`` shape,
    else AWS's "An ARN must have at least 6 elements, not N" (SNS's answer to a malformed
    TopicArn or SubscriptionArn, e.g. Unsubscribe of "pending confirmation")."""
    checked = text(value, parameter, wording)
    if Arn.parse(checked) is None:
        raise wording.invalid(
            parameter, checked, f"An ARN must have at least 6 elements, not {len(checked.split(':'))}"
        )
    return checked


def _index_of(items: Sequence[Any], entry: Any) -> int:
    """The position of ``entry`` (by identity) in ``items``, for an error message."""
    return next(index for index, item in enumerate(items) if item is entry)


# ------------------------------------------------------------------------------------------ identity

#: AWS region names: partition prefix, area, number (us-east-1, eu-central-2, us-gov-west-1,
#: cn-north-1, ap-southeast-4, il-central-1, us-isob-east-1).
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_ACCOUNT = re.compile(r"[0-9]{12}")


def _identity(value: Any, form: re.Pattern[str], what: str, invalid: str) -> str:
    """A broker's region or account: a str of ``form``, else rulebus's InvalidParameterValue
    (AWS refuses an unknown region or a malformed account before any service sees a request,
    so there is no service text to copy)."""
    if not isinstance(value, str):
        raise ParameterTypeError("InvalidParameterValue", f"{what}, not {type(value).__name__}")
    if not value.isascii() or not form.fullmatch(value):
        raise AwsError("InvalidParameterValue", invalid.format(shown(value)))
    return value


def region_name(value: Any) -> str:
    """A region a broker's ARNs can carry (``us-east-1``), as the SDKs require it."""
    return _identity(
        value,
        _REGION,
        "region must be a str naming an AWS region",
        "Invalid region {}: not an AWS region name.",
    )


def account_id(value: Any) -> str:
    """A 12-digit AWS account id, what ARNs and queue URLs carry."""
    return _identity(
        value, _ACCOUNT, "account must be a str of 12 digits", "Invalid account id {}: must be 12 digits."
    )
