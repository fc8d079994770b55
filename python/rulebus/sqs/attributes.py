"""SQS queue identity and queue attributes, validated the way SQS validates them.

Everything here is pure and store-independent: a queue's attributes are a value (a frozen
dataclass) so that ``CreateQueue``'s idempotency rule ("same name and equal attributes -> the same
queue, otherwise QueueAlreadyExists") is plain equality, and so that any store can persist them as
the string map AWS itself uses (``to_aws``) and read them back (``from_aws``) without loss.

Sources: the SQS API Reference (CreateQueue, SetQueueAttributes), the Amazon SQS Developer Guide
(dead-letter queues, FIFO queues) and docs/semantics.md, 'SQS queues'. Texts AWS does not
document were taken from emulators whose tests were recorded
against AWS; each such place says so, and the module docstring of the tests lists them.

What is *not* checked here, because it needs the broker's state: that a dead-letter target exists
("Dead letter target does not exist."), that it is in the same account and region, and the
redrive-allow policy of the target. Those belong to the queue registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rulebus import _jsontext as jsontext
from rulebus import validation
from rulebus._errors import AwsError, sqs_error
from rulebus.arn import Arn

__all__ = [
    "ATTRIBUTE_NAMES",
    "QueueAttributes",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "is_internal_queue",
    "queue_arn",
    "queue_url",
    "validate_queue_name",
]

# --------------------------------------------------------------------------------------------
# Error codes (the legacy query codes boto3 surfaces as Error.Code; docs/semantics.md, 'Errors').

INVALID_PARAMETER_VALUE = "InvalidParameterValue"
INVALID_ATTRIBUTE_NAME = "InvalidAttributeName"
INVALID_ATTRIBUTE_VALUE = "InvalidAttributeValue"

# --------------------------------------------------------------------------------------------
# Queue identity (SQS API Reference, CreateQueue).

MAX_QUEUE_NAME_LENGTH = 80
FIFO_SUFFIX = ".fifo"
_NAME_BODY = re.compile(r"[A-Za-z0-9_-]+")

# AWS does not document the FIFO-name text; it is the text emulators recorded against AWS give
# (LocalStack and others) for FifoQueue=true on a name without the suffix.
FIFO_NAME_MESSAGE = (
    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
    "must end with .fifo suffix and be 1 to 80 in length."
)


def _invalid_name(name: str) -> AwsError:
    # The developer guide's example, word for word (the name is echoed in parentheses).
    return sqs_error(
        INVALID_PARAMETER_VALUE,
        f"Value ({validation.shown(name)}) for parameter QueueName is invalid. "
        "Must be an alphanumeric String of 1 to 80 in length.",
    )


#: What the name of a queue rulebus keeps for itself starts with (a function's event queue,
#: rulebus.functions.event_queue): a colon, which no SQS queue name has, so no user queue collides.
INTERNAL_QUEUE_PREFIX = "lambda:async:"


def is_internal_queue(name: str) -> bool:
    """Whether ``name`` is a queue rulebus keeps for itself, never listed with the account's."""
    return name.startswith(INTERNAL_QUEUE_PREFIX)


def validate_queue_name(name: str) -> None:
    """Refuse a queue name SQS would refuse: 1-80 characters of ``[A-Za-z0-9_-]``, optionally
    followed by ``.fifo`` (the suffix counts toward the 80; a dot anywhere else is refused).

    Whether a ``.fifo`` name is allowed *for this queue* depends on the FifoQueue attribute, so
    that check lives in :meth:`QueueAttributes.from_aws`; this function only checks the form.
    Names are case-sensitive, so nothing is folded.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_QUEUE_NAME_LENGTH:
        raise _invalid_name(str(name))
    body = name[: -len(FIFO_SUFFIX)] if name.endswith(FIFO_SUFFIX) else name
    # fullmatch on an ASCII class: str.isalnum() would let non-ASCII letters through.
    if not _NAME_BODY.fullmatch(body):
        raise _invalid_name(name)


def is_fifo_name(name: str) -> bool:
    """Whether the name carries the FIFO suffix (what decides the queue type at creation)."""
    return name.endswith(FIFO_SUFFIX)


DEFAULT_HOST_TEMPLATE = "https://sqs.{region}.amazonaws.com"


def queue_arn(name: str, region: str, account: str) -> str:
    """``arn:aws:sqs:<region>:<account>:<name>``: the identity redrive policies, redrive-allow
    policies and SNS subscriptions refer to (Amazon SQS Developer Guide, 'Amazon SQS queue and
    message identifiers')."""
    validate_queue_name(name)
    return f"arn:aws:sqs:{region}:{account}:{name}"


def queue_url(name: str, region: str, account: str, host: str | None = None) -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` (same page), or the same path under
    ``host`` when an emulator endpoint serves it (``http://localhost:4566``). A host without a
    scheme gets ``https://``, as AWS's URLs always have one."""
    validate_queue_name(name)
    if host is None:
        base = DEFAULT_HOST_TEMPLATE.format(region=region)
    else:
        base = host if "://" in host else f"https://{host}"
    return f"{base.rstrip('/')}/{account}/{name}"


# --------------------------------------------------------------------------------------------
# Attribute values.


def _invalid_value(attribute: str) -> AwsError:
    # The text SQS gives for any out-of-range or malformed scalar attribute (AWS documents
    # only the code, InvalidAttributeValue; texts recorded by emulators).
    return sqs_error(INVALID_ATTRIBUTE_VALUE, f"Invalid value for the parameter {attribute}.")


def _unknown_attribute(attribute: str) -> AwsError:
    # Recorded against AWS: "Unknown Attribute FifoQueue." / "Unknown Attribute ContentBasedDeduplication."
    return sqs_error(INVALID_ATTRIBUTE_NAME, f"Unknown Attribute {attribute}.")


# An integer as SQS's Java parser reads it: optional sign, ASCII digits, nothing else (no spaces,
# no decimals, no exponent; " 6" and "544.43" are refused).
_INTEGER = re.compile(r"[+-]?[0-9]+")

# (attribute, minimum, maximum) of every integer attribute (SQS API Reference, SetQueueAttributes).
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1_024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}


def _parse_int(attribute: str, value: str) -> int:
    low, high = INTEGER_RANGES[attribute]
    if not isinstance(value, str) or not _INTEGER.fullmatch(value):
        raise _invalid_value(attribute)
    number = int(value)
    if not low <= number <= high:
        raise _invalid_value(attribute)
    return number


def _parse_bool(attribute: str, value: str) -> bool:
    # SQS reads booleans case-insensitively ("True" works from the console's JSON); it shows them
    # lower-case. Anything else is a bad value.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid_value(attribute)


def _parse_choice(attribute: str, value: str, choices: tuple[str, ...]) -> str:
    # Enumerated values are case-sensitive on AWS ("messageGroup", not "messagegroup").
    if value not in choices:
        raise _invalid_value(attribute)
    return value


def _compact(value: Any) -> str:
    """JSON as SQS shows it back: compact, no spaces, keys in the order given."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Redrive policy (SQS API Reference, SetQueueAttributes; 'Using dead-letter queues in Amazon SQS').

MIN_MAX_RECEIVE_COUNT = 1
MAX_MAX_RECEIVE_COUNT = 1_000
_REDRIVE_KEYS = ("deadLetterTargetArn", "maxReceiveCount")


def _is_sqs_arn(text: object) -> bool:
    """Whether a redrive policy's deadLetterTargetArn is an SQS ARN (any partition; SQS checks
    only that it names an SQS resource, whether the queue exists is the broker's check)."""
    arn = Arn.parse(text)
    if arn is None or arn.service != "sqs" or not arn.partition:
        return False
    return bool(arn.resource) and ":" not in arn.resource


def _redrive_error(raw: str, reason: str) -> AwsError:
    # "Value <raw> for parameter RedrivePolicy is invalid. Reason: <reason>." The raw value is
    # echoed as sent. AWS documents no texts here; these are the texts recorded against AWS.
    return sqs_error(
        INVALID_PARAMETER_VALUE, f"Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}"
    )


@dataclass(frozen=True)
class RedrivePolicy:
    """Where a message goes after ``max_receive_count`` receives: the dead-letter queue's ARN.

    The DLQ must be an SQS queue of the same type as its source (FIFO with FIFO), which the ARN
    alone tells; that it exists is the broker's check, since only the broker knows its queues.
    """

    dead_letter_target_arn: str
    max_receive_count: int

    @classmethod
    def parse(cls, raw: str, *, fifo: bool) -> RedrivePolicy:
        """Read RedrivePolicy's JSON string, refusing it with SQS's texts."""
        try:
            document = jsontext.loads(raw)
        except (TypeError, ValueError):
            document = None
        if not isinstance(document, dict):
            raise sqs_error(
                INVALID_ATTRIBUTE_VALUE,
                "Invalid value for the parameter RedrivePolicy. "
                "Reason: Redrive policy is not a valid JSON map.",
            )
        if any(key not in _REDRIVE_KEYS for key in document):
            raise _redrive_error(
                raw, "Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn]."
            )
        for key in ("maxReceiveCount", "deadLetterTargetArn"):
            if key not in document:
                raise _redrive_error(raw, f"Redrive policy does not contain mandatory attribute: {key}.")
        count = document["maxReceiveCount"]
        # AWS takes the count as a JSON number or a numeric string ("5"); booleans and floats no.
        count_text = count if isinstance(count, str) else json.dumps(count)
        valid = not isinstance(count, bool) and _INTEGER.fullmatch(count_text) is not None
        number = int(count_text) if valid else None
        if number is None or not MIN_MAX_RECEIVE_COUNT <= number <= MAX_MAX_RECEIVE_COUNT:
            raise _redrive_error(
                raw,
                f"Invalid value for maxReceiveCount: {count_text}, valid values are from "
                f"{MIN_MAX_RECEIVE_COUNT} to {MAX_MAX_RECEIVE_COUNT} both inclusive.",
            )
        arn = document["deadLetterTargetArn"]
        if not _is_sqs_arn(arn):
            raise _redrive_error(raw, "Only SQS queues are valid resources for deadLetterTargetArn.")
        if arn.endswith(FIFO_SUFFIX) != fifo:
            # The doubled full stop is AWS's own (recorded text).
            raise _redrive_error(raw, "Dead-letter queue must be same type of queue as the source..")
        return cls(arn, number)

    def to_aws(self) -> str:
        """The JSON GetQueueAttributes shows: ARN first, the count as a number."""
        return _compact(
            {"deadLetterTargetArn": self.dead_letter_target_arn, "maxReceiveCount": self.max_receive_count}
        )


# --------------------------------------------------------------------------------------------
# Redrive-allow policy (SQS API Reference, SetQueueAttributes; 'Using dead-letter queues in Amazon SQS').

REDRIVE_PERMISSIONS = ("allowAll", "denyAll", "byQueue")
MAX_SOURCE_QUEUE_ARNS = 10
_ALLOW_UNSUPPORTED = (
    "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the redrive "
    "allow policy, as it\u2019s in an unsupported format."  # AWS's curly apostrophe
)


def _allow_error(raw: str, reason: str) -> AwsError:
    return sqs_error(
        INVALID_PARAMETER_VALUE,
        f"Value {raw} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the "
        f"redrive allow policy. {reason}",
    )


@dataclass(frozen=True)
class RedriveAllowPolicy:
    """Which source queues may use this queue as their dead-letter queue.

    Absent means ``allowAll`` (SQS API Reference, SetQueueAttributes); ``source_queue_arns`` is
    only allowed, and then required (1 to 10 ARNs), with ``byQueue``.
    """

    redrive_permission: str = "allowAll"
    source_queue_arns: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, raw: str) -> RedriveAllowPolicy:
        """Read RedriveAllowPolicy's JSON string, refusing it with SQS's texts."""
        try:
            document = jsontext.loads(raw)
        except (TypeError, ValueError):
            document = None
        unsupported = sqs_error(INVALID_ATTRIBUTE_VALUE, _ALLOW_UNSUPPORTED)
        if not isinstance(document, dict) or any(
            key not in ("redrivePermission", "sourceQueueArns") for key in document
        ):
            raise unsupported
        permission = document.get("redrivePermission")
        if permission not in REDRIVE_PERMISSIONS:
            raise unsupported
        arns = document.get("sourceQueueArns")
        if arns is not None and (not isinstance(arns, list) or not all(isinstance(a, str) for a in arns)):
            raise unsupported
        if permission == "byQueue":
            if not arns:
                raise _allow_error(
                    raw,
                    "When you specify the byQueue permission type, you must also specify one or more "
                    "sourceQueueArns values.",
                )
            if len(arns) > MAX_SOURCE_QUEUE_ARNS:
                raise _allow_error(
                    raw,
                    f"The maximum number of source queue ARNs you can specify is {MAX_SOURCE_QUEUE_ARNS}.",
                )
        elif arns is not None:
            raise _allow_error(
                raw, "To specify one or more source queue ARNs, you must set redrivePermission to byQueue."
            )
        return cls(permission, tuple(arns) if arns is not None else None)

    def allows(self, source_arn: str) -> bool:
        """Whether a queue with this ARN may name this queue as its dead-letter target."""
        if self.redrive_permission == "allowAll":
            return True
        if self.redrive_permission == "denyAll":
            return False
        return source_arn in (self.source_queue_arns or ())

    def to_aws(self) -> str:
        document: dict[str, Any] = {"redrivePermission": self.redrive_permission}
        if self.source_queue_arns is not None:
            document["sourceQueueArns"] = list(self.source_queue_arns)
        return _compact(document)


# --------------------------------------------------------------------------------------------
# The attribute set.

DEDUPLICATION_SCOPES = ("messageGroup", "queue")
FIFO_THROUGHPUT_LIMITS = ("perQueue", "perMessageGroupId")
FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")

# Every attribute CreateQueue/SetQueueAttributes accepts, in the order GetQueueAttributes lists
# them. Read-only ones (QueueArn, CreatedTimestamp, Approximate*...) are the queue's business.
ATTRIBUTE_NAMES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "Policy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)

# Pythonic keyword -> AWS attribute name, for from_kwargs (keyword arguments mirror
# AWS's parameters in snake_case).
_KWARG_NAMES = {
    "delay_seconds": "DelaySeconds",
    "maximum_message_size": "MaximumMessageSize",
    "message_retention_period": "MessageRetentionPeriod",
    "receive_message_wait_time_seconds": "ReceiveMessageWaitTimeSeconds",
    "visibility_timeout": "VisibilityTimeout",
    "redrive_policy": "RedrivePolicy",
    "redrive_allow_policy": "RedriveAllowPolicy",
    "policy": "Policy",
    "kms_master_key_id": "KmsMasterKeyId",
    "kms_data_key_reuse_period_seconds": "KmsDataKeyReusePeriodSeconds",
    "sqs_managed_sse_enabled": "SqsManagedSseEnabled",
    "fifo_queue": "FifoQueue",
    "content_based_deduplication": "ContentBasedDeduplication",
    "deduplication_scope": "DeduplicationScope",
    "fifo_throughput_limit": "FifoThroughputLimit",
}

_SSE_CONFLICT = (
    "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE "
    "or SQS SSE."
)


def _kwarg_to_aws(value: Any) -> str:
    """One Python value as the string SQS expects: bools lower-case, mappings and lists as JSON,
    numbers in decimal. Strings pass through, so the AWS string forms work here too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Mapping, list, tuple)):
        return _compact(dict(value) if isinstance(value, Mapping) else list(value))
    return str(value)


@dataclass(frozen=True)
class QueueAttributes:
    """Every settable attribute of one SQS queue, with AWS's defaults (SQS API Reference, SetQueueAttributes).

    Frozen and comparable, because CreateQueue's idempotency is attribute equality. ``fifo_queue``
    is fixed at creation and decides which attributes exist at all: the FIFO-only ones stay at
    their defaults (and are not shown) on a standard queue.
    """

    delay_seconds: int = 0
    maximum_message_size: int = 1_048_576  # 262,144 before Aug 2025 (SQS API Reference, SetQueueAttributes)
    message_retention_period: int = 345_600  # 4 days
    receive_message_wait_time_seconds: int = 0
    visibility_timeout: int = 30
    redrive_policy: RedrivePolicy | None = None
    redrive_allow_policy: RedriveAllowPolicy | None = None  # None behaves as allowAll
    policy: str | None = None
    kms_master_key_id: str | None = None
    kms_data_key_reuse_period_seconds: int = 300
    sqs_managed_sse_enabled: bool = True
    fifo_queue: bool = False
    content_based_deduplication: bool = False
    deduplication_scope: str = "queue"
    fifo_throughput_limit: str = "perQueue"

    # ---------------------------------------------------------------------------- construction

    @classmethod
    def from_aws(cls, name: str, attributes: Mapping[str, str] | None = None) -> QueueAttributes:
        """CreateQueue's view: the queue's name and AWS's string-valued attribute map.

        Checks the name, the name against FifoQueue, each value's form and range, the FIFO-only
        attributes on a standard queue, and the combinations SQS refuses; raises :class:`AwsError`
        with SQS's code and message for the first problem found.
        """
        attributes = dict(attributes or {})
        if not is_internal_queue(name):  # (read back from a store: a name rulebus gave)
            validate_queue_name(name)
        fifo_text = attributes.pop("FifoQueue", None)
        fifo = False if fifo_text is None else _parse_bool("FifoQueue", fifo_text)
        if fifo and not is_fifo_name(name):
            raise sqs_error(INVALID_PARAMETER_VALUE, FIFO_NAME_MESSAGE)
        if is_fifo_name(name) and not fifo:
            # A dot is only allowed as the suffix of a FIFO queue's name.
            raise _invalid_name(name)
        return cls(fifo_queue=fifo)._apply(attributes, creating=True)

    @classmethod
    def from_kwargs(cls, name: str, **kwargs: Any) -> QueueAttributes:
        """``broker.queue(name, visibility_timeout=30, redrive_policy={...})``'s view.

        Keywords are the attribute names in snake_case; values may be Python values (ints, bools,
        dicts for the two policies and ``policy``) or AWS's strings. A ``.fifo`` name implies
        ``fifo_queue=True`` (``broker.queue("tx.fifo")`` should just work), which AWS's raw API
        does not. An unknown keyword is a programming error, hence TypeError, not an AWS error.
        """
        attributes: dict[str, str] = {}
        for key, value in kwargs.items():
            if key not in _KWARG_NAMES:
                raise TypeError(f"unknown queue attribute keyword: {key!r}")
            if value is not None:
                attributes[_KWARG_NAMES[key]] = _kwarg_to_aws(value)
        if is_fifo_name(name):
            attributes.setdefault("FifoQueue", "true")
        return cls.from_aws(name, attributes)

    def updated(self, attributes: Mapping[str, str]) -> QueueAttributes:
        """SetQueueAttributes' view: these attributes changed, the rest kept.

        The queue type cannot change (SQS API Reference, CreateQueue): FifoQueue on a standard queue
        is an unknown attribute; on a FIFO queue anything but "true" is refused as a change of type.
        """
        attributes = dict(attributes)
        if "FifoQueue" in attributes:
            value = attributes.pop("FifoQueue")
            if not self.fifo_queue:
                raise _unknown_attribute("FifoQueue")
            if not _parse_bool("FifoQueue", value):
                raise sqs_error(
                    INVALID_ATTRIBUTE_VALUE,
                    "Invalid value for the parameter FifoQueue. "
                    "Reason: Modifying queue type is not supported.",
                )
        return self._apply(attributes, creating=False)

    def _apply(self, attributes: dict[str, str], *, creating: bool) -> QueueAttributes:
        """Validate ``attributes`` (FifoQueue already removed) over ``self``; return the result."""
        for key in attributes:
            if key not in ATTRIBUTE_NAMES or key == "FifoQueue":
                raise _unknown_attribute(key)
        if not self.fifo_queue:
            for key in FIFO_ONLY:
                if key not in attributes:
                    continue
                if key == "ContentBasedDeduplication":
                    raise _unknown_attribute(key)
                # AWS's recorded text for DeduplicationScope; FifoThroughputLimit by analogy.
                raise sqs_error(
                    INVALID_ATTRIBUTE_NAME, f"You can specify the {key} only when FifoQueue is set to true."
                )

        changes: dict[str, Any] = {}
        for key in INTEGER_RANGES:
            if key in attributes:
                changes[_snake(key)] = _parse_int(key, attributes[key])
        if "RedrivePolicy" in attributes:
            raw = attributes["RedrivePolicy"]
            # An empty policy removes the dead-letter queue (what SetQueueAttributes uses for it).
            changes["redrive_policy"] = RedrivePolicy.parse(raw, fifo=self.fifo_queue) if raw != "" else None
        if "RedriveAllowPolicy" in attributes:
            raw = attributes["RedriveAllowPolicy"]
            changes["redrive_allow_policy"] = RedriveAllowPolicy.parse(raw) if raw != "" else None
        if "Policy" in attributes:
            changes["policy"] = _parse_policy(attributes["Policy"])
        if "KmsMasterKeyId" in attributes:
            changes["kms_master_key_id"] = attributes["KmsMasterKeyId"] or None
        if "SqsManagedSseEnabled" in attributes:
            changes["sqs_managed_sse_enabled"] = _parse_bool(
                "SqsManagedSseEnabled", attributes["SqsManagedSseEnabled"]
            )
        if "ContentBasedDeduplication" in attributes:
            changes["content_based_deduplication"] = _parse_bool(
                "ContentBasedDeduplication", attributes["ContentBasedDeduplication"]
            )
        if "DeduplicationScope" in attributes:
            changes["deduplication_scope"] = _parse_choice(
                "DeduplicationScope", attributes["DeduplicationScope"], DEDUPLICATION_SCOPES
            )
        if "FifoThroughputLimit" in attributes:
            changes["fifo_throughput_limit"] = _parse_choice(
                "FifoThroughputLimit", attributes["FifoThroughputLimit"], FIFO_THROUGHPUT_LIMITS
            )

        # Server-side encryption: one kind at a time. Naming a KMS key switches SQS-managed SSE
        # off unless the caller explicitly asked for both, which SQS refuses.
        if changes.get("kms_master_key_id") and "sqs_managed_sse_enabled" not in changes:
            changes["sqs_managed_sse_enabled"] = False
        if changes.get("sqs_managed_sse_enabled") and "kms_master_key_id" not in changes:
            changes["kms_master_key_id"] = None

        result = _replace(self, changes)
        if result.kms_master_key_id and result.sqs_managed_sse_enabled:
            raise sqs_error(INVALID_ATTRIBUTE_VALUE, _SSE_CONFLICT)
        if (
            result.fifo_throughput_limit == "perMessageGroupId"
            and result.deduplication_scope != "messageGroup"
        ):
            # SetQueueAttributes: perMessageGroupId requires DeduplicationScope=messageGroup. Text unverified.
            raise sqs_error(
                INVALID_ATTRIBUTE_VALUE,
                "The perMessageGroupId value is allowed only when the value for DeduplicationScope is "
                "messageGroup.",
            )
        return result

    # ---------------------------------------------------------------------------- views

    @property
    def high_throughput(self) -> bool:
        """High-throughput FIFO: both per-group settings (SQS API Reference, SetQueueAttributes)."""
        return (
            self.fifo_queue
            and self.deduplication_scope == "messageGroup"
            and self.fifo_throughput_limit == "perMessageGroupId"
        )

    @property
    def redrive_permission(self) -> str:
        """The effective redrive permission: ``allowAll`` when no policy was set (SQS API Reference,
        SetQueueAttributes)."""
        return self.redrive_allow_policy.redrive_permission if self.redrive_allow_policy else "allowAll"

    def to_aws(self) -> dict[str, str]:
        """The settable attributes as GetQueueAttributes (``All``) shows them: strings, optional
        ones only when set, FIFO ones only on FIFO queues. ``from_aws(name, a.to_aws()) == a``."""
        shown: dict[str, str] = {
            "DelaySeconds": str(self.delay_seconds),
            "MaximumMessageSize": str(self.maximum_message_size),
            "MessageRetentionPeriod": str(self.message_retention_period),
            "ReceiveMessageWaitTimeSeconds": str(self.receive_message_wait_time_seconds),
            "VisibilityTimeout": str(self.visibility_timeout),
        }
        if self.redrive_policy is not None:
            shown["RedrivePolicy"] = self.redrive_policy.to_aws()
        if self.redrive_allow_policy is not None:
            shown["RedriveAllowPolicy"] = self.redrive_allow_policy.to_aws()
        if self.policy is not None:
            shown["Policy"] = self.policy
        if self.kms_master_key_id is not None:
            shown["KmsMasterKeyId"] = self.kms_master_key_id
            shown["KmsDataKeyReusePeriodSeconds"] = str(self.kms_data_key_reuse_period_seconds)
        shown["SqsManagedSseEnabled"] = "true" if self.sqs_managed_sse_enabled else "false"
        if self.fifo_queue:
            shown["FifoQueue"] = "true"
            shown["ContentBasedDeduplication"] = "true" if self.content_based_deduplication else "false"
            shown["DeduplicationScope"] = self.deduplication_scope
            shown["FifoThroughputLimit"] = self.fifo_throughput_limit
        return shown


def _parse_policy(raw: str) -> str | None:
    """The access policy is kept as given (SQS echoes it), but it must be a JSON object.
    AWS does not document the exact refusal text; the generic one is used."""
    if raw == "":
        return None
    try:
        document = jsontext.loads(raw)
    except (TypeError, ValueError):
        document = None
    if not isinstance(document, dict):
        raise _invalid_value("Policy")
    return raw


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(attribute: str) -> str:
    return _SNAKE.sub("_", attribute).lower()


def _replace(attributes: QueueAttributes, changes: Mapping[str, Any]) -> QueueAttributes:
    return replace(attributes, **changes)
