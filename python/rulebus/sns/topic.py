"""An SNS standard topic: subscriptions, filter policies, publish and what subscribers receive.

Why it looks like this: SNS is fan-out plus filtering. The filtering is the Rust engine's job, so
each topic keeps one ``RuleSet("sns")`` whose rule names are subscription ARNs; a publish asks it
once which subscriptions match and delivers to those only. Everything else here is SNS's surface:
limits, error texts (spec/aws-semantics.md section 2) and the exact notification envelope.

Topics and their subscriptions live in the broker's store (``rulebus.stores``): with
``Broker("app.db")`` they survive restarts and every broker on the file sees the same ones, and a
publish from any of them delivers to every subscription. Each ``Topic`` object keeps a view of them
(``Subscription`` objects and one compiled ``RuleSet``) and re-reads the store's records only when
the topic's subscription version there changed. Not stored: subscriptions to Python callables
(they cannot be persisted, so they live and deliver in the process that made them only) and the
delivery counters (``delivered_count``... count this process's deliveries).

FIFO topics (names ending ``.fifo``, created with ``fifo_topic=True``; spec 2.1-2.3, 2.5): publish
needs a MessageGroupId, a MessageDeduplicationId (or ContentBasedDeduplication: SHA-256 of the
body) deduplicates for 5 minutes (per group with FifoThroughputScope=MessageGroup), each message gets
an increasing SequenceNumber, and deliveries to FIFO queues carry the group id and the SNS message id
as deduplication id, so a FIFO queue keeps the topic's order per group. Standard queues may subscribe
too (allowed since 2023, spec 7). Their envelope has SequenceNumber and no signature fields.

HTTP/S endpoints (spec 2.2, 2.5, 2.7) get real POSTs with SNS's headers: a SubscriptionConfirmation
when they subscribe (they stay PendingConfirmation until ``confirm_subscription(token)``), then
notifications, retried per the effective delivery policy (5xx, 429, no answer; a 4xx is the
endpoint refusing and is not retried) and then moved to the subscription's dead-letter queue.
Those POSTs happen after ``subscribe`` and ``publish`` return, as on AWS, each subscription on
its own lane (``rulebus.delivery``): a slow or failing endpoint delays neither the publisher nor
other subscriptions, and ``wait_for_deliveries`` waits for them. Retry delays are slept by
``Topic.sleep`` (or the broker clock's ``sleep``). Queue and callable subscriptions are served
before ``publish`` returns: a message acknowledged by publish is already in its queues (and, on
SQLite, on disk). Pending HTTP/S deliveries live in the process: they are lost if it dies.

Error codes are SNS's query codes (``InvalidParameter``, ``ParameterValueInvalid``...). Texts come
from spec section 2 unless a comment at the text says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import partial
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, Callable, Union
from urllib.parse import urlsplit

from rulebus._core import DeliveryCounter, FanOut, FilterPolicy, RuleSet, sns_notification_head
from rulebus._errors import AwsError, InvalidFilterPolicyError
from rulebus.arn import Arn, queue_name, stream_name
from rulebus.delivery import DeliveryLanes
from rulebus.kinesis.stream import Stream
from rulebus.sqs.queue import Queue
from rulebus.stores.base import NotFound
from rulebus.stores.receipts import new_message_id
from rulebus.stores.records import StoredMessage, SubscriptionRecord
from rulebus.transport import HTTP_PROTOCOLS, post_with_retries

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["PublishResult", "Subscription", "Topic", "validate_topic_name"]

INVALID_PARAMETER = "InvalidParameter"
PARAMETER_VALUE_INVALID = "ParameterValueInvalid"
TOO_MANY_ENTRIES = "TooManyEntriesInBatchRequest"
EMPTY_BATCH = "EmptyBatchRequest"
IDS_NOT_DISTINCT = "BatchEntryIdsNotDistinct"
INVALID_BATCH_ENTRY_ID = "InvalidBatchEntryId"
BATCH_REQUEST_TOO_LONG = "BatchRequestTooLong"

#: Message (attributes included) and a whole batch: 256 KB (spec 2.3).
MAX_MESSAGE_BYTES = 262_144
MAX_BATCH_ENTRIES = 10
MAX_SUBJECT_LENGTH = 99  # "must be less than 100 characters"

_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
# MessageGroupId / MessageDeduplicationId: 1-128 alphanumerics and punctuation (as SQS, spec 1.9).
_FIFO_ID = re.compile(r"[!-~]{1,128}")  # printable ASCII but space: alphanumerics and punctuation
_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
_ATTRIBUTE_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
_CONTROL_CHAR = re.compile("[\x00-\x1f\x7f]")
# An SQS queue URL given where an ARN belongs ("Invalid parameter: SQS endpoint ARN"), not an HTTP/S endpoint.
_SQS_QUEUE_URL = re.compile(r"https?://sqs\.[^/]+\.amazonaws\.com/\d{12}/[^/?#]+/?")

#: ConfirmSubscription tokens are valid for 2 days (spec 2.2).
TOKEN_LIFETIME_SECONDS = 2 * 24 * 3600
USER_AGENT = "Amazon Simple Notification Service Agent"
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
#: The default healthy retry policy of HTTP/S deliveries (spec 2.1's EffectiveDeliveryPolicy).
DEFAULT_RETRY_POLICY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")

_DEFAULT_EFFECTIVE_DELIVERY_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,'
    '"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}'
)
_POLICY_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]

FIFO_THROUGHPUT_SCOPES = ("Topic", "MessageGroup")
FILTER_POLICY_SCOPES = ("MessageAttributes", "MessageBody")
#: What SetSubscriptionAttributes can set (AWS's API reference; the last two we refuse, see there).
SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)
_FILTER_POLICY_ERROR = "Invalid parameter: FilterPolicy: "
_FILTER_POLICY_ERROR_ON_SUBSCRIBE = "Invalid parameter: Attributes Reason: FilterPolicy: "

#: CreateTopic keywords and the attributes they set.
TOPIC_KWARGS = {
    "display_name": "DisplayName",
    "policy": "Policy",
    "delivery_policy": "DeliveryPolicy",
    "signature_version": "SignatureVersion",
    "tracing_config": "TracingConfig",
    "kms_master_key_id": "KmsMasterKeyId",
    "fifo_topic": "FifoTopic",
    "content_based_deduplication": "ContentBasedDeduplication",
    "fifo_throughput_scope": "FifoThroughputScope",
}

Subscriber = Union[Queue, str, Callable[[dict[str, Any]], Any]]


def _invalid(message: str, code: str = INVALID_PARAMETER) -> AwsError:
    return AwsError(code, message)


def validate_topic_name(name: Any) -> None:
    """1-256 characters of ``[A-Za-z0-9_-]``, or 1-251 of them then ``.fifo`` (spec 2.1); whether a
    ``.fifo`` name goes with FifoTopic=true is checked by ``check_topic_attributes``."""
    if not isinstance(name, str):
        raise TypeError(f"topic name must be str, not {type(name).__name__}")
    if not _TOPIC_NAME.fullmatch(name) and not _FIFO_TOPIC_NAME.fullmatch(name):
        raise _invalid("Invalid parameter: Topic Name")


def topic_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def _attribute_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def topic_attributes_from_kwargs(attributes: Mapping[str, Any]) -> dict[str, str]:
    """CreateTopic's attributes from snake_case keywords (values as Python or AWS strings)."""
    result: dict[str, str] = {}
    for key, value in attributes.items():
        if key not in TOPIC_KWARGS:
            raise TypeError(f"unknown topic attribute {key!r}")
        result[TOPIC_KWARGS[key]] = _attribute_string(value)
    return result


def _bool_attribute(attributes: Mapping[str, str], name: str) -> bool:
    value = attributes.get(name, "false")
    if value.lower() not in ("true", "false"):
        # Our wording, as SNS words RawMessageDelivery (spec 2.2).
        raise _invalid(
            f"Invalid parameter: Attributes Reason: {name}: Invalid value [{value}]. Must be true or false."
        )
    return value.lower() == "true"


def check_topic_attributes(name: str, attributes: Mapping[str, str]) -> bool:
    """CreateTopic's FIFO rules (spec 2.1): a ``.fifo`` name needs FifoTopic=true and FifoTopic=true
    a ``.fifo`` name; ContentBasedDeduplication and FifoThroughputScope only on FIFO topics.
    Returns whether the topic is FIFO."""
    fifo = _bool_attribute(attributes, "FifoTopic")
    if fifo and not name.endswith(".fifo"):
        # LocalStack's / moto's wording (not in the spec).
        raise _invalid(
            "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase "
            "and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 "
            "characters long."
        )
    if not fifo and name.endswith(".fifo"):
        # A standard topic's name may not hold a '.' (spec 2.1's text for a bad name).
        raise _invalid("Invalid parameter: Topic Name")
    content_based = _bool_attribute(attributes, "ContentBasedDeduplication")
    scope = attributes.get("FifoThroughputScope")
    if not fifo and (content_based or scope is not None):
        which = "ContentBasedDeduplication" if content_based else "FifoThroughputScope"
        # Our wording in SNS's style (the spec has none).
        raise _invalid(f"Invalid parameter: Attributes Reason: {which}: only valid for FIFO topics")
    if scope is not None and scope not in FIFO_THROUGHPUT_SCOPES:
        # Our wording, as SNS words FilterPolicyScope (spec 2.2).
        raise _invalid(
            f"Invalid parameter: Attributes Reason: FifoThroughputScope: Invalid value [{scope}]. "
            "Please use either Topic or MessageGroup"
        )
    return fifo


def _check_fifo_id(parameter: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be str, not {type(value).__name__}")
    if not _FIFO_ID.fullmatch(value):
        # SQS's reason (spec 1.9) in SNS's "Invalid parameter: X Reason: Y" form; our wording.
        raise _invalid(
            f"Invalid parameter: {parameter} Reason: {parameter} can only include alphanumeric and "
            "punctuation characters. 1 to 128 in length."
        )
    return value


# --------------------------------------------------------------------------------------------
# Message attributes (spec 2.4). Code ParameterValueInvalid throughout.


def _check_attribute_name(name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"message attribute names must be str, not {type(name).__name__}")
    if len(name.encode("utf-8")) >= 256:
        raise _invalid(
            "Length of message attribute name must be less than 256 bytes.", PARAMETER_VALUE_INVALID
        )
    if name.startswith("."):
        raise _invalid(
            "Invalid message attribute name starting with character '.' was found.", PARAMETER_VALUE_INVALID
        )
    if name.endswith("."):
        # LocalStack's wording (not in the spec).
        raise _invalid(
            "Invalid message attribute name ending with character '.' was found.", PARAMETER_VALUE_INVALID
        )
    for index, char in enumerate(name):
        if not _ATTRIBUTE_NAME_CHAR.fullmatch(char):
            # LocalStack's wording (not in the spec).
            raise _invalid(
                f"Invalid non-alphanumeric character '#x{ord(char):X}' was found in the message attribute "
                "name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
                PARAMETER_VALUE_INVALID,
            )
        if char == "." and index and name[index - 1] == ".":
            raise _invalid(
                "Message attribute name can not have successive '.' character.", PARAMETER_VALUE_INVALID
            )


def validate_sns_message_attributes(
    attributes: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Check Publish's MessageAttributes (boto3's form) as SNS does; return a normalised copy
    holding ``DataType`` and the one value key the type uses (``BinaryValue`` as bytes)."""
    if not attributes:
        return {}
    result: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        _check_attribute_name(name)
        if not isinstance(attribute, Mapping):
            raise TypeError(f"message attribute {name!r} must be a mapping")
        data_type = attribute.get("DataType")
        if not data_type:
            # LocalStack's wording (not in the spec).
            raise _invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value.",
                PARAMETER_VALUE_INVALID,
            )
        if not isinstance(data_type, str):
            raise TypeError(f"DataType of message attribute {name!r} must be str")
        parts = data_type.split(".")
        if parts[0] not in ("String", "Number", "Binary") or len(parts) > 2 or "" in parts:
            raise _invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                "type prefixes is Binary, Number, and String.",
                PARAMETER_VALUE_INVALID,
            )
        field_kind = "Binary" if parts[0] == "Binary" else "String"
        value_key = f"{field_kind}Value"
        if "StringValue" not in attribute and "BinaryValue" not in attribute:
            raise _invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{data_type}'.",
                PARAMETER_VALUE_INVALID,
            )
        if attribute.get(value_key) is None:
            raise _invalid(
                f"The message attribute '{name}' with type '{data_type}' must use field '{field_kind}'.",
                PARAMETER_VALUE_INVALID,
            )
        value = attribute[value_key]
        if not value:
            raise _invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{data_type}'.",
                PARAMETER_VALUE_INVALID,
            )
        if field_kind == "Binary":
            if isinstance(value, str):
                value = value.encode("utf-8")
            result[name] = {"DataType": data_type, "BinaryValue": bytes(value)}
            continue
        if not isinstance(value, str):
            raise TypeError(f"StringValue of message attribute {name!r} must be str")
        if parts[0] == "Number":
            try:
                Decimal(value.strip())
            except InvalidOperation:
                # Other emulators' wording (not in the spec, not verified).
                raise _invalid(
                    f"Could not cast message attribute '{name}' value to number.", PARAMETER_VALUE_INVALID
                ) from None
        result[name] = {"DataType": data_type, "StringValue": value}
    return result


# A name ``_check_attribute_name`` certainly accepts: the allowed characters, dots only between
# others (never first, last or doubled), ASCII so its UTF-8 length is its length. A name that does
# not match goes through the full check, which raises its own text (or accepts the empty name).
_PLAIN_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def _plain_attributes(
    attributes: dict[Any, Any],
) -> tuple[dict[str, dict[str, Any]], int, tuple[str, ...]] | None:
    """What ``validate_sns_message_attributes`` returns for the usual MessageAttributes (a dict of
    dicts: plainly valid names, ``String`` or ``Number`` values), with their size as
    ``_attributes_size`` counts it and a key naming them (``(name, type, value)`` after each
    other); None for any other shape, which then takes the full validation and its error texts.
    Every check this passes is one the full validation makes and passes, so the result is equal."""
    result: dict[str, dict[str, Any]] = {}
    size = 0
    key: list[str] = []
    for name, attribute in attributes.items():
        if (
            type(name) is not str
            or len(name) >= 256
            or not _PLAIN_ATTRIBUTE_NAME.fullmatch(name)
            or type(attribute) is not dict
        ):
            return None
        data_type = attribute.get("DataType")
        value = attribute.get("StringValue")
        if type(data_type) is not str or type(value) is not str or not value:
            return None
        if data_type == "Number":
            try:
                Decimal(value.strip())
            except InvalidOperation:
                return None
        elif data_type != "String":
            return None
        result[name] = {"DataType": data_type, "StringValue": value}
        # len("String") == len("Number") == 6, and the name is ASCII.
        size += len(name) + 6 + (len(value) if value.isascii() else len(value.encode("utf-8")))
        key += (name, data_type, value)
    return result, size, tuple(key)


def _attributes_key(attributes: Mapping[str, Mapping[str, Any]]) -> tuple[Any, ...]:
    """A key naming validated attributes as ``_plain_attributes`` does (Binary values as bytes)."""
    key: list[Any] = []
    for name, attribute in attributes.items():
        key += (name, attribute["DataType"], attribute.get("StringValue", attribute.get("BinaryValue")))
    return tuple(key)


def _attributes_size(attributes: Mapping[str, Mapping[str, Any]]) -> int:
    size = 0
    for name, attribute in attributes.items():
        value = attribute.get("BinaryValue")
        if value is None:
            value = attribute["StringValue"].encode("utf-8")
        size += len(name.encode("utf-8")) + len(attribute["DataType"].encode("utf-8")) + len(value)
    return size


def notification_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The envelope's form: ``{"Type", "Value"}``, Binary values base64 (spec 2.5)."""
    result: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        binary = attribute.get("BinaryValue")
        value = base64.b64encode(binary).decode("ascii") if binary is not None else attribute["StringValue"]
        result[name] = {"Type": attribute["DataType"], "Value": value}
    return result


# The last millisecond _timestamp formatted and its text, and the last second's: strftime is most
# of a timestamp's cost, and publishes come many to a second, often several to a millisecond.
# Each a tuple, replaced whole, so threads never see one torn.
_LAST_MILLI: tuple[int, str] = (0, "1970-01-01T00:00:00.000Z")
_LAST_SECOND: tuple[int, str] = (0, "1970-01-01T00:00:00")


def _timestamp(seconds: float) -> str:
    """``2021-02-16T21:41:19.978Z``: UTC, millisecond precision (spec 2.5)."""
    global _LAST_MILLI, _LAST_SECOND
    millis = round(seconds * 1000)
    last = _LAST_MILLI
    if last[0] == millis:
        return last[1]
    second = millis // 1000
    whole = _LAST_SECOND
    if whole[0] != second:
        whole = _LAST_SECOND = (
            second,
            datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        )
    text = f"{whole[1]}.{millis % 1000:03d}Z"
    _LAST_MILLI = (millis, text)
    return text


#: A publish's MessageId: UUID-shaped (version 4) and unique across processes, minted as SQS
#: message ids are (a random per-process prefix and a counter: no system call per publish).
_new_message_id = new_message_id


# One encoder for every envelope: json.dumps with options builds a new encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_ENCODE_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def format_envelope(notification: Mapping[str, Any]) -> str:
    """The SQS body of a notification, formatted as SNS's own (Jackson's pretty printer: two-space
    indent, ``" : "`` separators, each message attribute on one compact line)."""
    lines = []
    for key, value in notification.items():
        if key == "MessageAttributes":
            lines.append(_attributes_lines(value))
        else:
            lines.append(f'  "{key}" : {_ENCODE(value)}')
    return "{\n" + ",\n".join(lines) + "\n}"


def _attributes_tail(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """What follows the UnsubscribeURL in the envelope of a message with these (validated,
    non-empty) attributes: ``format_envelope``'s lines for ``notification_attributes(attributes)``,
    each ``{"Type","Value"}`` object written out (both values are str) instead of going through
    a JSON encoder, which costs more than the rest of the line."""
    lines = []
    for name, attribute in attributes.items():
        binary = attribute.get("BinaryValue")
        value = base64.b64encode(binary).decode("ascii") if binary is not None else attribute["StringValue"]
        lines.append(
            f"    {encode_basestring(name)} : "
            f'{{"Type":{encode_basestring(attribute["DataType"])},"Value":{encode_basestring(value)}}}'
        )
    inner = ",\n".join(lines)
    return f',\n  "MessageAttributes" : {{\n{inner}\n  }}\n}}'


def _attributes_lines(attributes: Mapping[str, Any]) -> str:
    """The envelope's MessageAttributes member, as ``format_envelope`` lays it out."""
    inner = ",\n".join(
        f"    {_ENCODE(name)} : {_ENCODE_COMPACT(attribute)}" for name, attribute in attributes.items()
    )
    return f'  "MessageAttributes" : {{\n{inner}\n  }}'


#: Stands for a subscription's UnsubscribeURL while an envelope is laid out once per publish.
_UNSUBSCRIBE_SLOT = "\x00unsubscribe\x00"
_UNSUBSCRIBE_KEY = '"UnsubscribeURL" : '
# The slot as the envelope's UnsubscribeURL member: nowhere else in an envelope (a string value
# that equals the slot is written after another key, and quotes inside strings are escaped).
_UNSUBSCRIBE_MEMBER = _UNSUBSCRIBE_KEY + _ENCODE(_UNSUBSCRIBE_SLOT)


class _Envelope:
    """One publish's notification for one message body, laid out once for all subscriptions:
    only UnsubscribeURL differs between them (and it is not signed), so each subscription's
    notification is a copy with its URL, and its SQS body the text around the URL. A standard
    publish that only stores texts never needs the dict: ``make`` builds it on first use."""

    __slots__ = ("_make", "_notification", "head", "tail")

    def __init__(
        self,
        notification: dict[str, Any] | None,
        head: str,
        tail: str,
        make: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self._notification = notification
        self._make = make
        self.head = head
        self.tail = tail

    @property
    def notification(self) -> dict[str, Any]:
        if self._notification is None:
            self._notification = self._make()  # type: ignore[misc]
        return self._notification

    @classmethod
    def build(cls, notification: dict[str, Any]) -> _Envelope:
        before, tail = format_envelope(notification).split(_UNSUBSCRIBE_MEMBER)
        return cls(notification, before + _UNSUBSCRIBE_KEY, tail)

    def for_subscription(self, subscription: Subscription) -> tuple[dict[str, Any], str]:
        return self.notification_for(subscription), self.text_for(subscription)

    def notification_for(self, subscription: Subscription) -> dict[str, Any]:
        notification = dict(self.notification)
        notification["UnsubscribeURL"] = subscription.unsubscribe_url
        return notification

    def text_for(self, subscription: Subscription) -> str:
        quoted = subscription._unsubscribe_json
        if quoted is None:
            quoted = subscription._unsubscribe_json = _ENCODE(subscription.unsubscribe_url)
        return self.head + quoted + self.tail


# --------------------------------------------------------------------------------------------
# Results and subscriptions.


@dataclass(frozen=True)
class PublishResult:
    """Publish's answer: the message's id (a UUID) and, on a FIFO topic, its SequenceNumber."""

    message_id: str
    sequence_number: str | None = None


def _add_filtered(subscription: Subscription, count: int) -> None:
    """Add to the filtered count the subscription holds (see ``_FilteredCount``): as
    ``filtered_count += count``, without the descriptor's look-up of the plan's part."""
    subscription.__dict__["filtered_count"] = subscription.__dict__.get("filtered_count", 0) + count


class _FilteredCount:
    """``Subscription.filtered_count``, exact without a publish touching every subscription it
    filters out: while a topic's route plan (``_RoutePlan``) is in force, it counts the publishes
    that evaluated its subscriptions and, per filtered subscription, those that matched; the
    difference is added to what the instance holds (under this attribute's name, which the
    descriptor shadows) when the plan is dropped (``Topic._drop_plan``). Read and written under
    the topic's lock, so a count is never seen half moved. A data descriptor as a dataclass
    field's default keeps the field, its default of 0, ``__init__`` and ``repr`` as they were."""

    def __get__(self, subscription: Subscription | None, owner: Any = None) -> int:
        if subscription is None:
            return 0  # the class attribute: the dataclass takes it for the field's default
        topic: Topic | None = subscription.__dict__.get("topic")
        if topic is None:
            held: int = subscription.__dict__.get("filtered_count", 0)
            return held
        with topic._sync_lock:
            held = subscription.__dict__.get("filtered_count", 0)
            return held + topic._unsettled_filtered(subscription)

    def __set__(self, subscription: Subscription, value: int) -> None:
        topic: Topic | None = subscription.__dict__.get("topic")  # not set yet while __init__ runs
        if topic is None:
            subscription.__dict__["filtered_count"] = value
            return
        with topic._sync_lock:
            subscription.__dict__["filtered_count"] = value - topic._unsettled_filtered(subscription)


def _delivery_counter(subscription: Subscription) -> DeliveryCounter:
    """The native counter behind ``subscription.delivered_count`` (see ``_DeliveredCount``)."""
    counter: DeliveryCounter | None = subscription.__dict__.get("_delivered")
    if counter is None:
        counter = subscription.__dict__["_delivered"] = DeliveryCounter()
    return counter


class _DeliveredCount:
    """``Subscription.delivered_count``, held in a native ``DeliveryCounter``: the native fan-out
    (``Store.put_notifications``) counts what it stores there, and every other delivery adds to
    it with ``add``, which a thread's read-modify-write could not lose. A data descriptor as a
    dataclass field's default, as ``_FilteredCount``."""

    def __get__(self, subscription: Subscription | None, owner: Any = None) -> int:
        if subscription is None:
            return 0  # the class attribute: the dataclass takes it for the field's default
        value: int = _delivery_counter(subscription).value
        return value

    def __set__(self, subscription: Subscription, value: int) -> None:
        _delivery_counter(subscription).value = value


@dataclass(eq=False)
class Subscription:
    """One subscription of a topic. ``filtered_count`` counts the messages its filter policy kept
    out (SNS's NumberOfNotificationsFilteredOut), ``delivered_count`` those delivered,
    ``dead_lettered_count`` those that failed (after the retries, for HTTP/S) and went to the
    subscription's dead-letter queue, and ``failed_count`` failed deliveries that did not (no
    RedrivePolicy, or the dead-letter queue refused them too): the queue gone, SQS refusing the
    message, an HTTP/S endpoint unreachable or answering other than 2xx.

    ``subscription_arn`` is always the subscription's ARN; ``arn`` is what Subscribe answers:
    ``"pending confirmation"`` while an HTTP/S subscription awaits ConfirmSubscription (unless it
    was made with ``return_subscription_arn=True``), the ARN otherwise."""

    subscription_arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    target: Any = field(repr=False)
    filter_policy: str | None = None
    filter_policy_scope: str | None = None
    raw_message_delivery: bool = False
    delivery_policy: str | None = None
    redrive_policy: str | None = None
    pending_confirmation: bool = False
    return_subscription_arn: bool = True
    token: str | None = field(default=None, repr=False)
    token_issued: float = field(default=0.0, repr=False)
    filtered_count: int = _FilteredCount()  # type: ignore[assignment]  # an int, counted lazily
    delivered_count: int = _DeliveredCount()  # type: ignore[assignment]  # an int, counted natively
    dead_lettered_count: int = 0
    failed_count: int = 0
    #: The topic this subscription belongs to (set by the topic; ``set_attribute`` goes through it).
    topic: Topic | None = field(default=None, repr=False)
    _unsubscribe_url: str | None = field(default=None, repr=False)
    _unsubscribe_json: str | None = field(default=None, repr=False)
    _queue: Queue | None = field(default=None, repr=False)  # an sqs subscription's, once looked up

    @property
    def unsubscribe_url(self) -> str:
        """The UnsubscribeURL of its notifications."""
        if self._unsubscribe_url is None:
            region = Arn.parse(self.topic_arn).region  # type: ignore[union-attr]  # a topic's own ARN
            self._unsubscribe_url = f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={self.subscription_arn}"
        return self._unsubscribe_url

    @property
    def arn(self) -> str:
        """SubscriptionArn as Subscribe returns it (see the class docstring)."""
        if self.pending_confirmation and not self.return_subscription_arn:
            return "pending confirmation"
        return self.subscription_arn

    @property
    def attributes(self) -> dict[str, str]:
        """GetSubscriptionAttributes."""
        attributes = {
            "ConfirmationWasAuthenticated": "false" if self.pending_confirmation else "true",
            "Endpoint": self.endpoint,
            "Owner": self.owner,
            "PendingConfirmation": "true" if self.pending_confirmation else "false",
            "Protocol": self.protocol,
            "RawMessageDelivery": "true" if self.raw_message_delivery else "false",
            "SubscriptionArn": self.subscription_arn,
            "TopicArn": self.topic_arn,
        }
        if self.filter_policy is not None:
            attributes["FilterPolicy"] = self.filter_policy
            attributes["FilterPolicyScope"] = self.filter_policy_scope or "MessageAttributes"
        if self.delivery_policy is not None:
            attributes["DeliveryPolicy"] = self.delivery_policy
        if self.redrive_policy is not None:
            attributes["RedrivePolicy"] = self.redrive_policy
        if self.topic is not None and self.protocol != "python":
            attributes["EffectiveDeliveryPolicy"] = self.topic._effective_delivery_policy(self)
        return attributes

    def set_attribute(self, attribute_name: str, attribute_value: Any) -> None:
        """SetSubscriptionAttributes: see :meth:`Topic.set_subscription_attributes`."""
        if self.topic is None:
            raise _invalid("Subscription does not exist", "NotFound")
        self.topic.set_subscription_attributes(self, attribute_name, attribute_value)

    @property
    def dead_letter_target_arn(self) -> str | None:
        if self.redrive_policy is None:
            return None
        return str(json.loads(self.redrive_policy)["deadLetterTargetArn"])

    def adopt(self, record: SubscriptionRecord) -> None:
        """Take the settings of the stored record (another broker may have changed them)."""
        self.filter_policy = record.filter_policy
        self.filter_policy_scope = record.filter_policy_scope
        self.raw_message_delivery = record.raw_message_delivery
        self.delivery_policy = record.delivery_policy
        self.redrive_policy = record.redrive_policy
        self.pending_confirmation = record.pending_confirmation
        self.token = record.token
        self.token_issued = record.token_issued

    def _same_settings(
        self, policy: str | None, scope: str | None, raw: bool, delivery: str | None, redrive: str | None
    ) -> bool:
        return (
            _canonical(self.filter_policy) == _canonical(policy)
            and self.filter_policy_scope == scope
            and self.raw_message_delivery == raw
            and _canonical(self.delivery_policy) == _canonical(delivery)
            and _canonical(self.redrive_policy) == _canonical(redrive)
        )


def _bad_scope(scope: Any) -> InvalidFilterPolicyError:
    reason = f"FilterPolicyScope: Invalid value [{scope}]. Please use either MessageBody or MessageAttributes"
    return InvalidFilterPolicyError(f"Invalid parameter: {reason}", reason)


def _compile_filter_policy(policy: str | Mapping[str, Any], scope: str, subscribing: bool) -> str:
    """The policy's text once the engine accepts it in ``scope``. The engine words its errors as
    SetSubscriptionAttributes does ("Invalid parameter: FilterPolicy: ..."); Subscribe puts
    "Attributes Reason: " before the attribute's name (spec 2.6)."""
    try:
        return FilterPolicy(policy, scope=scope).text  # type: ignore[arg-type]
    except InvalidFilterPolicyError as error:
        message = str(error)
        if subscribing and message.startswith(_FILTER_POLICY_ERROR):
            message = _FILTER_POLICY_ERROR_ON_SUBSCRIBE + message[len(_FILTER_POLICY_ERROR) :]
            raise InvalidFilterPolicyError(message, error.reason) from None
        raise


def _canonical(policy: str | None) -> Any:
    return None if policy is None else json.loads(policy)


def _raw_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid(
        f"Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [{value}]. "
        "Must be true or false."
    )


def _json_object_attribute(value: Any, name: str) -> dict[str, Any] | None:
    """A JSON-object subscription attribute given as a mapping or a JSON string (our wording)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid(f"Invalid parameter: Attributes Reason: {name}: failed to parse JSON.") from None
    if not isinstance(value, Mapping):
        raise _invalid(f"Invalid parameter: Attributes Reason: {name}: must be a JSON object.")
    return dict(value)


def _redrive_policy(value: Any, fifo: bool = False) -> str | None:
    """RedrivePolicy ``{"deadLetterTargetArn": <SQS queue ARN>}`` as its compact JSON text; the
    dead-letter queue is FIFO for a FIFO topic's subscriptions, standard otherwise."""
    policy = _json_object_attribute(value, "RedrivePolicy")
    if policy is None:
        return None
    target = policy.get("deadLetterTargetArn")
    if not isinstance(target, str) or queue_name(target) is None:
        # Our wording in SNS's style (the spec has none).
        raise _invalid("Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is invalid")
    if fifo and not target.endswith(".fifo"):
        raise _invalid(
            "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
            "Subscription to a FIFO Topic."
        )
    if not fifo and target.endswith(".fifo"):
        raise _invalid(
            "Invalid parameter: Attributes Reason: RedrivePolicy: a FIFO queue can not be the dead-letter "
            "queue of a subscription to a standard topic"
        )
    return json.dumps(policy, separators=(",", ":"))


def _check_retry_policy(policy: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A healthy retry policy with SNS's defaults filled in and its limits (spec 2.7) checked."""
    merged = dict(DEFAULT_RETRY_POLICY)
    merged.update(policy)

    def fail(reason: str) -> AwsError:
        # Our wording in SNS's style (the spec has none).
        return _invalid(f"Invalid parameter: Attributes Reason: {name}: {reason}")

    for key in (
        "minDelayTarget",
        "maxDelayTarget",
        "numRetries",
        "numNoDelayRetries",
        "numMinDelayRetries",
        "numMaxDelayRetries",
    ):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(f"{key} must be a non-negative integer")
    if merged["numRetries"] > 100:
        raise fail("numRetries must be at most 100")
    if not 1 <= merged["minDelayTarget"] <= merged["maxDelayTarget"] <= 3600:
        raise fail("need 1 <= minDelayTarget <= maxDelayTarget <= 3600")
    phases = merged["numNoDelayRetries"] + merged["numMinDelayRetries"] + merged["numMaxDelayRetries"]
    if phases > merged["numRetries"]:
        raise fail("numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries exceed numRetries")
    if merged["backoffFunction"] not in BACKOFF_FUNCTIONS:
        raise fail(f"backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")
    return merged


def _subscription_delivery_policy(value: Any, protocol: str) -> str | None:
    policy = _json_object_attribute(value, "DeliveryPolicy")
    if policy is None:
        return None
    if protocol not in HTTP_PROTOCOLS:
        # Our wording: a DeliveryPolicy's retries are for HTTP/S endpoints (spec 2.7).
        raise _invalid(
            f"Invalid parameter: Attributes Reason: Delivery protocol [{protocol}] does not support "
            "delivery policies"
        )
    retry = policy.get("healthyRetryPolicy", {})
    if not isinstance(retry, Mapping):
        raise _invalid(
            "Invalid parameter: Attributes Reason: DeliveryPolicy: healthyRetryPolicy must be an object"
        )
    _check_retry_policy(retry, "DeliveryPolicy")
    return json.dumps(policy, separators=(",", ":"))


def retry_delays(policy: Mapping[str, Any]) -> list[float]:
    """The seconds to wait before each retry of a failed HTTP/S delivery: ``numNoDelayRetries``
    at once, ``numMinDelayRetries`` after ``minDelayTarget``, the backoff phase going from
    ``minDelayTarget`` to ``maxDelayTarget`` along ``backoffFunction``, then
    ``numMaxDelayRetries`` after ``maxDelayTarget`` (spec 2.7). AWS publishes the backoff
    functions only as curves; these shapes (linear, arithmetic = triangular numbers, geometric =
    squares, exponential = powers of two, all normalised to the phase) are ours."""
    low, high = float(policy["minDelayTarget"]), float(policy["maxDelayTarget"])
    no_delay, at_min, at_max = (
        policy["numNoDelayRetries"],
        policy["numMinDelayRetries"],
        policy["numMaxDelayRetries"],
    )
    backoff = max(0, policy["numRetries"] - no_delay - at_min - at_max)
    curve: list[float] = []
    for step in range(backoff):
        last = backoff - 1
        if last == 0:
            fraction = 0.0
        elif policy["backoffFunction"] == "arithmetic":
            fraction = step * (step + 1) / (last * (last + 1))
        elif policy["backoffFunction"] == "geometric":
            fraction = (step / last) ** 2
        elif policy["backoffFunction"] == "exponential":
            fraction = (2**step - 1) / (2**last - 1)
        else:
            fraction = step / last
        curve.append(low + (high - low) * fraction)
    return ([0.0] * no_delay + [low] * at_min + curve + [high] * at_max)[: policy["numRetries"]]


@dataclass
class _Prepared:
    message: str
    subject: str | None
    attributes: dict[str, dict[str, Any]]
    per_protocol: dict[str, str] | None  # MessageStructure=json: the parsed object's string entries
    group_id: str | None = None
    deduplication_id: str | None = None  # FIFO topics: explicit, or the body's SHA-256
    attributes_key: tuple[Any, ...] | None = None  # see _plain_attributes; None: not made yet


# --------------------------------------------------------------------------------------------
# The route plan: what a standard topic's publish delivers to, worked out once per change of its
# subscriptions instead of once per publish.

# How a route delivers (set by _RoutePlan, taken by Topic._deliver_routes).
_PLAIN_QUEUE = 0  # a standard queue of this broker: put_notifications (or put_plain_many)
_OTHER_QUEUE = 1  # any other queue subscription: _fan_out, SendMessage's checks and errors
_HTTP = 2  # on the subscription's lane, after publish returns
_NOW = 3  # kinesis (and any other protocol): _attempt, before publish returns

#: Selections a plan remembers, by message attributes, before it forgets them all.
_SELECTIONS_MAX = 256


class _Route:
    """One delivering (confirmed) subscription in a route plan, with what its deliveries need."""

    __slots__ = (
        "counter",
        "filtered",
        "index",
        "kind",
        "matched",
        "queue",
        "quoted_url",
        "raw",
        "selections",
        "subscription",
    )

    def __init__(self, index: int, subscription: Subscription, kind: int, queue: str | None) -> None:
        self.index = index  # its place in subscription order: deliveries keep that order
        self.subscription = subscription
        self.kind = kind
        self.queue = queue  # _PLAIN_QUEUE: the queue's name
        self.raw = subscription.raw_message_delivery
        # Its UnsubscribeURL as JSON: its envelope is envelope.head + quoted_url + envelope.tail.
        quoted = subscription._unsubscribe_json
        if quoted is None:
            quoted = subscription._unsubscribe_json = _ENCODE(subscription.unsubscribe_url)
        self.quoted_url = quoted
        self.counter = _delivery_counter(subscription)
        self.filtered = subscription.filter_policy is not None
        # Filtered routes: publishes of this plan the policy let through (``matches``): those
        # counted here, and the ``uses`` of the remembered selections that match it.
        self.matched = 0
        self.selections: list[_Selection] = []

    def matches(self) -> int:
        return self.matched + sum(selection.uses for selection in self.selections)


class _RoutePlan:
    """A standard topic's subscriptions as a publish without MessageStructure or MessageGroupId
    delivers to them: those without a filter policy (``always``), those with one by ARN (the
    RuleSet's rule names, ``filtered``), in subscription order, pending ones left out. Built under
    the topic's lock when a publish finds none, dropped (``Topic._drop_plan``) whenever the
    subscriptions, their settings or the RuleSet change. Python callables run user code in the
    middle of a publish, which may change the subscriptions; with one subscribed the plan is
    ``general`` and publishes take the subscription-by-subscription loop, as before.

    ``selections`` remembers, by message attributes, which routes a publish delivers to and which
    of them count a match: when no route's policy looks at the body, the engine's answer depends
    on the attributes alone (and the RuleSet, which does not change under a plan).

    ``evaluations`` counts the publishes that evaluated the filtered routes; a filtered route's
    ``filtered_count`` is ``evaluations - route.matches()`` more than its subscription holds (see
    ``_FilteredCount``). A remembered selection counts the publishes that took it (``uses``)
    rather than each of its routes counting them: a publish then counts once, however many
    subscriptions it matches. All of it only moves under the topic's lock."""

    def __init__(self, topic: Topic) -> None:
        context = topic.context
        self.region = context.region
        self.account = context.account
        self.evaluations = 0
        self.selections: dict[tuple[Any, ...], _Selection] = {}
        self.tails: dict[tuple[Any, ...], str] = {}  # envelope tails by message attributes
        always: list[_Route] = []
        filtered: dict[str, _Route] = {}
        self.general = False
        self.body_rules = False
        for index, subscription in enumerate(topic._subscriptions.values()):
            if subscription.pending_confirmation:
                continue
            protocol = subscription.protocol
            if protocol == "python":
                self.general = True
                always, filtered = [], {}
                break
            queue: str | None = None
            if protocol == "sqs":
                queue = self._own_queue(subscription.target, context)
                kind = _PLAIN_QUEUE if queue is not None and not queue.endswith(".fifo") else _OTHER_QUEUE
            else:
                kind = _HTTP if protocol in HTTP_PROTOCOLS else _NOW
            route = _Route(index, subscription, kind, queue)
            if subscription.filter_policy is None:
                always.append(route)
            else:
                filtered[subscription.subscription_arn] = route
                if subscription.filter_policy_scope == "MessageBody":
                    self.body_rules = True
        self.always = tuple(always)
        self.filtered = filtered
        self.unfiltered = _Selection(self.always, ())  # what every publish gets
        # The envelope's parts that are the same for every publish (see Topic._standard_envelope).
        self.arn = topic_arn(topic.name, self.region, self.account)
        self.signature_version = topic._set_attributes.get("SignatureVersion", "1")
        self.signing_cert_url = _signing_cert_url(self.region)
        self.topic = (self.arn, self.signature_version, self.signing_cert_url)  # put_notifications'

    def tail(self, prepared: _Prepared) -> str:
        """The envelope's text after the UnsubscribeURL: the message attributes (made once per
        attribute values, as they repeat) and the closing brace."""
        attributes = prepared.attributes
        if not attributes:
            return "\n}"
        key = prepared.attributes_key
        tail = self.tails.get(key) if key is not None else None
        if tail is None:
            tail = _attributes_tail(attributes)
            if key is not None:
                if len(self.tails) >= _SELECTIONS_MAX:
                    self.tails.clear()
                self.tails[key] = tail
        return tail

    def _own_queue(self, target: Any, context: Context) -> str | None:
        """The name of the queue ``Topic._queue_for`` gives for this target when that is a plain
        ``Queue`` of this broker (then its prepare_message and the store's plain puts agree on
        what a plain delivery is, and on its SenderId, the broker's account), else None."""
        if isinstance(target, str):
            arn = Arn.parse(target)
            return arn.named("sqs") if arn is not None and arn.is_in(self.region, self.account) else None
        if type(target) is Queue and target.context is context:
            return target.name
        return None

    def remember(self, key: tuple[Any, ...], selection: _Selection) -> None:
        """Keep ``selection`` for the publishes with these message attributes; its matches are
        counted by its ``uses`` from now on (see ``_Route.matches``)."""
        if len(self.selections) >= _SELECTIONS_MAX:
            for known in self.selections.values():  # settle their uses into the routes' counts
                for route in known.matched:
                    route.matched += known.uses
            for route in self.filtered.values():
                route.selections.clear()
            self.selections.clear()
        self.selections[key] = selection
        for route in selection.matched:
            route.selections.append(selection)

    def select(self, names: Sequence[str]) -> _Selection:
        """Where a publish whose filter policies matched ``names`` goes."""
        hits = tuple(self.filtered[name] for name in names if name in self.filtered)
        if not hits:
            return self.unfiltered
        return _Selection(tuple(sorted(self.always + hits, key=_route_index)), hits)


class _Selection:
    """The routes one publish goes to, in subscription order, and the filtered ones among them
    (each counts a match). ``fan_out``: when every route stores the envelope in a plain queue
    (the usual fan-out), the routes as ``Store.put_notifications`` takes them."""

    __slots__ = ("fan_out", "matched", "routes", "uses")

    def __init__(self, routes: tuple[_Route, ...], matched: tuple[_Route, ...]) -> None:
        self.routes = routes
        self.matched = matched
        self.uses = 0  # publishes that took it while the plan remembered it (see _RoutePlan)
        self.fan_out: FanOut | None = None
        if routes and all(route.kind == _PLAIN_QUEUE and not route.raw for route in routes):
            self.fan_out = FanOut([(route.queue, route.quoted_url, route.counter) for route in routes])  # type: ignore[misc]


def _route_index(route: _Route) -> int:
    return route.index


def _first(item: tuple[int, Any]) -> int:
    return item[0]


# --------------------------------------------------------------------------------------------
# The topic.


class Topic:
    """One SNS topic, standard or FIFO; get it with ``broker.topic(name)``.

    The topic and its subscriptions are records in the broker's store; this object (the broker
    keeps one per name, so every ``broker.topic(name)`` returns the same object) holds a view of
    them: ``Subscription`` objects and the compiled filter policies, brought up to date from the
    store whenever the topic's subscription version there changed. Subscriptions to Python
    callables are not stored: they belong to this object (and process) only.
    """

    def __init__(self, context: Context, name: str, attributes: Mapping[str, str] | None = None) -> None:
        #: The broker's context (see :mod:`rulebus.context`).
        self.context = context
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self._targets = context.targets
        self.name = name
        self._set_attributes: dict[str, str] = dict(attributes or {})
        #: FifoTopic=true (the name then ends ``.fifo``).
        self.fifo = check_topic_attributes(name, self._set_attributes)
        self._content_based_deduplication = _bool_attribute(self._set_attributes, "ContentBasedDeduplication")
        self._deduplication_per_group = self._set_attributes.get("FifoThroughputScope") == "MessageGroup"
        # The view of the subscriptions, in subscription order: the store's, and the callables'.
        self._subscriptions: dict[str, Subscription] = {}
        self._rules = RuleSet("sns")
        # The (policy, scope) of each subscription with a rule in ``_rules``, by ARN.
        self._ruled: dict[str, tuple[str, str]] = {}
        self._version: int | None = None  # the store's subscription version the view reflects
        #: Sleeps the delays between HTTP/S retries, unless the broker's clock has a ``sleep``
        #: (which wins); replace it in tests so that they never sleep.
        self.sleep: Callable[[float], Any] = time.sleep
        self._lanes = DeliveryLanes(f"rulebus-sns:{name}")
        # The view (subscriptions and RuleSet) changes under this lock, one thread at a time; the
        # route plan is built, dropped and counted in under it too.
        self._sync_lock = threading.RLock()
        self._plan: _RoutePlan | None = None  # built by the next standard publish that needs it

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"

    @property
    def arn(self) -> str:
        """``arn:aws:sns:<region>:<account>:<name>``."""
        return topic_arn(self.name, self._region, self._account)

    @property
    def attributes(self) -> dict[str, str]:
        """GetTopicAttributes (spec 2.1 defaults)."""
        account = self._account
        policy = {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": _POLICY_ACTIONS,
                    "Resource": self.arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        }
        attributes = {
            "Policy": json.dumps(policy, separators=(",", ":")),
            "Owner": account,
            "SubscriptionsPending": str(self._count(pending=True)),
            "TopicArn": self.arn,
            "EffectiveDeliveryPolicy": _DEFAULT_EFFECTIVE_DELIVERY_POLICY,
            "SubscriptionsConfirmed": str(self._count(pending=False)),
            "DisplayName": "",
            "SubscriptionsDeleted": "0",
        }
        if self.fifo:
            attributes["FifoTopic"] = "true"
            attributes["ContentBasedDeduplication"] = "false"
            attributes["SignatureVersion"] = "2"
        attributes.update(self._set_attributes)
        for name in ("FifoTopic", "ContentBasedDeduplication"):
            if name in attributes:
                attributes[name] = attributes[name].lower()
        return attributes

    def _count(self, pending: bool) -> int:
        self._sync()
        return sum(1 for s in self._subscriptions.values() if s.pending_confirmation == pending)

    @property
    def subscriptions(self) -> list[Subscription]:
        """ListSubscriptionsByTopic, in subscription order."""
        self._sync()
        return list(self._subscriptions.values())

    # ------------------------------------------------------------------ the store's subscriptions

    def _sync(self) -> None:
        """Bring the view up to date with the store, if the subscription version moved: drop the
        subscriptions gone from it, add the new ones (keeping existing objects, their counters and
        local targets), and update the filter policies in the RuleSet to match."""
        store = self._store
        if store.topics.subscriptions_version(self.name) == self._version:
            return
        with self._sync_lock:
            self._refresh(store)

    def _refresh(self, store: Any) -> None:
        version, records = store.topics.subscriptions(self.name)
        stored = {record.subscription_arn: record for record in records}
        for arn, subscription in list(self._subscriptions.items()):
            if subscription.protocol != "python" and arn not in stored:
                del self._subscriptions[arn]
        for arn, record in stored.items():
            known = self._subscriptions.get(arn)
            if known is None:
                self._subscriptions[arn] = _subscription_from_record(record, self)
            else:
                known.adopt(record)
        self._sync_rules()
        self._version = version

    def _sync_rules(self) -> None:
        """Make the RuleSet hold exactly the subscriptions' filter policies, each in its scope.
        Every change of the view ends here, so the route plan is dropped here too."""
        with self._sync_lock:
            self._drop_plan()
            self._apply_rules()

    def _drop_plan(self) -> None:
        """Forget the route plan (the next publish builds a new one), settling the filtered
        counts it kept into its subscriptions. Under the lock."""
        with self._sync_lock:
            plan, self._plan = self._plan, None
            if plan is None:
                return
            for route in plan.filtered.values():
                _add_filtered(route.subscription, plan.evaluations - route.matches())

    def _unsettled_filtered(self, subscription: Subscription) -> int:
        """What the route plan counted as filtered out for this subscription and it does not hold
        yet (see ``_FilteredCount``). Under the lock."""
        plan = self._plan
        if plan is None:
            return 0
        route = plan.filtered.get(subscription.subscription_arn)
        if route is None or route.subscription is not subscription:
            return 0
        return plan.evaluations - route.matches()

    def _apply_rules(self) -> None:
        wanted = {
            arn: (s.filter_policy, s.filter_policy_scope or "MessageAttributes")
            for arn, s in self._subscriptions.items()
            if s.filter_policy is not None
        }
        for arn in self._ruled.keys() - wanted.keys():
            self._rules.remove(arn)
        for arn, (policy, scope) in wanted.items():
            if self._ruled.get(arn) != (policy, scope):
                self._rules.add(arn, policy, scope=scope)  # type: ignore[arg-type]
        self._ruled = wanted  # type: ignore[assignment]

    def _record(self, subscription: Subscription) -> SubscriptionRecord:
        return SubscriptionRecord(
            subscription_arn=subscription.subscription_arn,
            topic=self.name,
            protocol=subscription.protocol,
            endpoint=subscription.endpoint,
            owner=subscription.owner,
            filter_policy=subscription.filter_policy,
            filter_policy_scope=subscription.filter_policy_scope,
            raw_message_delivery=subscription.raw_message_delivery,
            delivery_policy=subscription.delivery_policy,
            redrive_policy=subscription.redrive_policy,
            pending_confirmation=subscription.pending_confirmation,
            token=subscription.token,
            token_issued=subscription.token_issued,
        )

    # ------------------------------------------------------------------ subscriptions

    def _endpoint(self, target: Subscriber) -> tuple[str, str, Any]:
        """(protocol, endpoint, what to deliver to) for a subscriber."""
        if isinstance(target, Queue):
            return "sqs", target.arn, target
        if isinstance(target, Stream):
            return "kinesis", target.arn, target.arn
        if isinstance(target, str):
            scheme = target.split(":", 1)[0].lower()
            if scheme in HTTP_PROTOCOLS and not _SQS_QUEUE_URL.fullmatch(target):
                try:
                    hostname = urlsplit(target).hostname
                except ValueError:
                    hostname = None
                if not hostname:
                    # Our wording in SNS's style (the spec has none).
                    raise _invalid("Invalid parameter: Endpoint")
                return scheme, target, target
            if stream_name(target) is not None:
                return "kinesis", target, target
            if not isinstance(target, str) or queue_name(target) is None:
                raise _invalid("Invalid parameter: SQS endpoint ARN")
            return "sqs", target, target
        if callable(target):
            # A Python callable is our own protocol; its endpoint names the object, for display.
            name = getattr(target, "__qualname__", type(target).__qualname__)
            return "python", f"python:{name}:{id(target):x}", target
        raise TypeError(
            "a subscriber must be a Queue, an SQS queue ARN, an http(s):// URL or a callable, "
            f"not {type(target).__name__}"
        )

    def subscribe(
        self,
        target: Subscriber,
        filter_policy: str | Mapping[str, Any] | None = None,
        filter_policy_scope: str = "MessageAttributes",
        raw_message_delivery: bool | str = False,
        delivery_policy: str | Mapping[str, Any] | None = None,
        redrive_policy: str | Mapping[str, Any] | None = None,
        return_subscription_arn: bool = False,
    ) -> Subscription:
        """Subscribe: a Queue (or an SQS queue ARN), an ``http://`` or ``https://`` URL, a
        callable receiving the notification dict, or a Kinesis ``Stream`` (or its ARN), which
        gets each notification (the message alone with raw delivery) as a record keyed by the
        SNS message id: a rulebus addition, as SNS itself reaches streams only through Firehose.

        Idempotent: the same endpoint with the same settings gives the existing subscription, with
        other settings "Subscription already exists with different attributes". An invalid filter
        policy raises ``InvalidFilterPolicyError`` (SNS's text) and subscribes nothing.

        An HTTP/S subscription starts PendingConfirmation: this call POSTs it a
        SubscriptionConfirmation (synchronously, retried per the delivery policy; a failure does not
        raise) whose ``Token`` ``confirm_subscription`` takes; until then it receives nothing, and
        its ``arn`` is ``"pending confirmation"`` unless ``return_subscription_arn`` is true.
        ``delivery_policy`` (HTTP/S only) is ``{"healthyRetryPolicy": {...}}`` (spec 2.7);
        ``redrive_policy`` is ``{"deadLetterTargetArn": <SQS queue ARN>}``: where a delivery that
        failed (after its retries) goes.
        """
        protocol, endpoint, deliver_to = self._endpoint(target)
        if protocol == "sqs" and endpoint.endswith(".fifo") and not self.fifo:
            raise _invalid(
                "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                "subscribed to standard SNS topics"
            )
        raw = _raw_flag(raw_message_delivery)
        delivery = _subscription_delivery_policy(delivery_policy, protocol)
        redrive = _redrive_policy(redrive_policy, self.fifo)
        if raw and protocol == "python":
            # Our wording: SNS allows raw delivery only for sqs, http/s and firehose (spec 2.5).
            raise _invalid(
                "Invalid parameter: Attributes Reason: Delivery protocol [python] does not support raw "
                "message delivery"
            )
        policy_text: str | None = None
        scope: str | None = None
        if filter_policy_scope not in FILTER_POLICY_SCOPES:
            raise _bad_scope(filter_policy_scope)
        if filter_policy is not None:
            policy_text = _compile_filter_policy(filter_policy, filter_policy_scope, subscribing=True)
            scope = filter_policy_scope
        arn = f"{self.arn}:{uuid.uuid4()}"
        pending = protocol in HTTP_PROTOCOLS
        subscription = Subscription(
            subscription_arn=arn,
            topic_arn=self.arn,
            protocol=protocol,
            endpoint=endpoint,
            owner=self._account,
            target=deliver_to,
            filter_policy=policy_text,
            filter_policy_scope=scope,
            raw_message_delivery=raw,
            delivery_policy=delivery,
            redrive_policy=redrive,
            pending_confirmation=pending,
            return_subscription_arn=return_subscription_arn or not pending,
        )
        subscription.topic = self
        if pending:
            subscription.token = secrets.token_hex(128)
            subscription.token_issued = self._clock()
        if protocol == "python":
            existing = next(
                (
                    s
                    for s in self._subscriptions.values()
                    if s.protocol == protocol and s.endpoint == endpoint
                ),
                None,
            )
        else:
            stored, version = self._store.topics.add_subscription(self._record(subscription))
            if version == -1:
                raise _invalid("Topic does not exist", "NotFound")
            self._sync()
            existing = None
            if stored.subscription_arn != arn:
                existing = self._subscriptions[stored.subscription_arn]
        if existing is not None:
            if existing._same_settings(policy_text, scope, raw, delivery, redrive):
                if return_subscription_arn:
                    existing.return_subscription_arn = True
                if existing.pending_confirmation:
                    # Subscribing again re-sends the confirmation (same token).
                    self._request_confirmation(existing)
                return existing
            raise _invalid(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
            )
        if protocol == "python":
            self._subscriptions[arn] = subscription
            self._sync_rules()
        else:
            # The view's object (built by _sync) gets what only the subscribing call knows.
            own = self._subscriptions[arn]
            own.target = deliver_to
            own.return_subscription_arn = subscription.return_subscription_arn
            subscription = own
            self._drop_plan()  # it may hold the ARN as the target
        if pending:
            self._request_confirmation(subscription)
        return subscription

    def confirm_subscription(self, token: str) -> Subscription:
        """ConfirmSubscription: the pending HTTP/S subscription with this token (valid 2 days) is
        confirmed and receives notifications from now on; confirming again answers the same
        subscription. An unknown or expired token: InvalidParameter "Invalid parameter: Token"."""
        if not isinstance(token, str):
            raise TypeError(f"token must be str, not {type(token).__name__}")
        self._sync()
        for subscription in self._subscriptions.values():
            if token and subscription.token == token:
                if subscription.pending_confirmation:
                    if self._clock() - subscription.token_issued > TOKEN_LIFETIME_SECONDS:
                        break
                    record = replace(self._record(subscription), pending_confirmation=False)
                    self._store.topics.update_subscription(record)
                    subscription.pending_confirmation = False
                    self._drop_plan()
                return subscription
        raise _invalid("Invalid parameter: Token")

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Unsubscribe (a Subscription or its ARN); unsubscribing twice is not an error."""
        arn = subscription.subscription_arn if isinstance(subscription, Subscription) else subscription
        local = self._subscriptions.get(arn)
        if local is None or local.protocol != "python":
            self._store.topics.remove_subscription(self.name, arn)
        if self._subscriptions.pop(arn, None) is not None:
            self._sync_rules()

    def set_subscription_attributes(
        self, subscription: Subscription | str, attribute_name: str, attribute_value: Any
    ) -> None:
        """SetSubscriptionAttributes: one of DeliveryPolicy, FilterPolicy, FilterPolicyScope,
        RawMessageDelivery or RedrivePolicy (a Subscription or its ARN). Values are validated as
        Subscribe validates them, with SetSubscriptionAttributes' texts; an empty FilterPolicy,
        DeliveryPolicy or RedrivePolicy removes it. The change is stored, so every broker on the
        store delivers by it from its next publish."""
        self._sync()
        arn = subscription.subscription_arn if isinstance(subscription, Subscription) else subscription
        own = self._subscriptions.get(arn)
        if own is None:
            raise _invalid("Subscription does not exist", "NotFound")
        if attribute_name not in SUBSCRIPTION_ATTRIBUTES:
            # LocalStack's wording (not in the spec).
            raise _invalid("Invalid parameter: AttributeName")
        if attribute_name in ("SubscriptionRoleArn", "ReplayPolicy"):
            # Our wording: these serve Firehose subscriptions and FIFO topic archives, which
            # rulebus does not have.
            raise _invalid(f"Invalid parameter: {attribute_name}: not supported by rulebus")
        value = "" if attribute_value is None else attribute_value
        changes: dict[str, Any] = {}
        if attribute_name == "RawMessageDelivery":
            raw = _raw_flag(value)
            if raw and own.protocol == "python":
                raise _invalid(
                    "Invalid parameter: Attributes Reason: Delivery protocol [python] does not support raw "
                    "message delivery"
                )
            changes["raw_message_delivery"] = raw
        elif attribute_name == "DeliveryPolicy":
            changes["delivery_policy"] = _subscription_delivery_policy(value or None, own.protocol)
        elif attribute_name == "RedrivePolicy":
            changes["redrive_policy"] = _redrive_policy(value or None, self.fifo)
        elif attribute_name == "FilterPolicyScope":
            if value not in FILTER_POLICY_SCOPES:
                raise _bad_scope(value)
            if own.filter_policy is not None:  # the policy must hold in its new scope too
                _compile_filter_policy(own.filter_policy, value, subscribing=False)
            changes["filter_policy_scope"] = value
        elif value == "":  # FilterPolicy: none, every message is delivered
            changes["filter_policy"] = None
        else:
            scope = own.filter_policy_scope or "MessageAttributes"
            changes["filter_policy"] = _compile_filter_policy(value, scope, subscribing=False)
            changes["filter_policy_scope"] = scope
        if own.protocol == "python":
            for name, changed in changes.items():
                setattr(own, name, changed)
        else:
            record = replace(self._record(own), **changes)
            if self._store.topics.update_subscription(record) == -1:
                raise _invalid("Topic does not exist", "NotFound")
            own.adopt(record)
        self._sync_rules()

    def _effective_delivery_policy(self, subscription: Subscription) -> str:
        """EffectiveDeliveryPolicy as GetSubscriptionAttributes shows it: the retry policy in force."""
        retry = self._delivery_settings(subscription)[0] if subscription.protocol in HTTP_PROTOCOLS else None
        policy = {
            "healthyRetryPolicy": retry or DEFAULT_RETRY_POLICY,
            "sicklyRetryPolicy": None,
            "throttlePolicy": None,
            "guaranteed": False,
        }
        return json.dumps(policy, separators=(",", ":"))

    # ------------------------------------------------------------------ publish

    def _prepare(
        self,
        message: Any,
        subject: str | None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None,
        message_structure: str | None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> _Prepared:
        if not isinstance(message, str):
            raise TypeError(f"message must be str, not {type(message).__name__}")
        if not message:
            raise _invalid("Invalid parameter: Empty message")
        if subject is not None:
            if not isinstance(subject, str):
                raise TypeError(f"subject must be str, not {type(subject).__name__}")
            # Less than 100 characters, no line breaks or control characters, starting with a
            # letter, number or punctuation mark (AWS's Publish reference).
            if (
                not subject
                or len(subject) > MAX_SUBJECT_LENGTH
                or _CONTROL_CHAR.search(subject)
                or subject[0].isspace()
            ):
                raise _invalid("Invalid parameter: Subject")
        plain = _plain_attributes(message_attributes) if type(message_attributes) is dict else None
        if plain is not None:
            attributes, attributes_size, key = plain
        else:
            attributes = validate_sns_message_attributes(message_attributes)
            attributes_size, key = _attributes_size(attributes), None
        message_size = len(message) if message.isascii() else len(message.encode("utf-8"))
        if message_size + attributes_size > MAX_MESSAGE_BYTES:
            raise _invalid("Invalid parameter: Message too long")
        per_protocol: dict[str, str] | None = None
        if message_structure is not None:
            if message_structure != "json":
                # Our wording in SNS's style (the spec has none).
                raise _invalid("Invalid parameter: MessageStructure")
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise _invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
            if not isinstance(parsed.get("default"), str):
                raise _invalid("Invalid parameter: Message Structure - No default entry in JSON message body")
            # Non-string values are ignored (spec 2.3).
            per_protocol = {key: value for key, value in parsed.items() if isinstance(value, str)}
        if not self.fifo:
            if deduplication_id is not None:
                raise _invalid(
                    "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                    "MessageDeduplicationId parameter that is not valid for this topic type"
                )
            # Standard topics may carry MessageGroupId, for standard (fair) queues (spec 2.3).
            if group_id is not None:
                _check_fifo_id("MessageGroupId", group_id)
            return _Prepared(message, subject, attributes, per_protocol, group_id, attributes_key=key)
        if group_id is None or group_id == "":
            raise _invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        _check_fifo_id("MessageGroupId", group_id)
        if deduplication_id is not None:
            _check_fifo_id("MessageDeduplicationId", deduplication_id)
        elif self._content_based_deduplication:
            # SHA-256 of the body only (spec 1.9, 2.3): the Message as published.
            deduplication_id = hashlib.sha256(message.encode("utf-8")).hexdigest()
        else:
            raise _invalid(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        return _Prepared(message, subject, attributes, per_protocol, group_id, deduplication_id)

    def publish(
        self,
        message: str,
        subject: str | None = None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        message_structure: str | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> PublishResult:
        """Publish to every subscription whose filter policy matches (all without one).

        FIFO topics need ``message_group_id`` and ``message_deduplication_id`` (unless
        ContentBasedDeduplication is on); a duplicate within 5 minutes answers with the first
        message's id and sequence number and is delivered to nobody (spec 2.3). Standard topics
        refuse ``message_deduplication_id`` and pass ``message_group_id`` on to standard queues."""
        prepared = self._prepare(
            message,
            subject,
            message_attributes,
            message_structure,
            message_group_id,
            message_deduplication_id,
        )
        ((message_id, sequence_number),) = self._deliver([prepared])
        return PublishResult(message_id, sequence_number)

    def publish_batch(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """PublishBatch: 1-10 entries ``{"Id", "Message", "Subject"?, "MessageStructure"?,
        "MessageAttributes"?, "MessageGroupId"?, "MessageDeduplicationId"?}``; returns
        ``{"Successful": [{"Id", "MessageId", "SequenceNumber" (FIFO)}], "Failed": [{"Id", "Code",
        "Message", "SenderFault"}]}``. Request-level problems raise ``AwsError``."""
        if not entries:
            # LocalStack's wording (not in the spec).
            raise _invalid("The batch request doesn't contain any entries", EMPTY_BATCH)
        if len(entries) > MAX_BATCH_ENTRIES:
            raise _invalid("The batch request contains more entries than permissible.", TOO_MANY_ENTRIES)
        ids: list[str] = []
        total = 0  # the messages' UTF-8 bytes
        for entry in entries:
            entry_id = entry.get("Id")
            if not isinstance(entry_id, str) or not _BATCH_ENTRY_ID.fullmatch(entry_id):
                raise _invalid(
                    "The Id of a batch entry in the batch request contains an impermissible character: "
                    f"{entry_id}",
                    INVALID_BATCH_ENTRY_ID,
                )
            if len(entry_id) > 80:
                raise _invalid(
                    f"The Id of a batch entry in the batch request is too long: {entry_id}",
                    INVALID_BATCH_ENTRY_ID,
                )
            if entry_id in ids:
                # LocalStack's wording (not in the spec).
                raise _invalid("Two or more batch entries in the request have the same Id.", IDS_NOT_DISTINCT)
            ids.append(entry_id)
            message = entry.get("Message")
            if isinstance(message, str):
                total += len(message) if message.isascii() else len(message.encode("utf-8"))
        if total > MAX_MESSAGE_BYTES:
            raise _invalid(
                "The length of all the messages put together is more than the limit.", BATCH_REQUEST_TOO_LONG
            )
        failed: list[dict[str, Any]] = []
        accepted: list[str] = []
        prepared: list[_Prepared] = []
        for entry_id, entry in zip(ids, entries):
            try:
                prepared.append(
                    self._prepare(
                        entry.get("Message", ""),
                        entry.get("Subject"),
                        entry.get("MessageAttributes"),
                        entry.get("MessageStructure"),
                        entry.get("MessageGroupId"),
                        entry.get("MessageDeduplicationId"),
                    )
                )
            except AwsError as error:
                failed.append(
                    {
                        "Id": entry_id,
                        "Code": error.code,
                        "Message": error.message,
                        "SenderFault": error.sender_fault,
                    }
                )
                continue
            accepted.append(entry_id)
        successful: list[dict[str, Any]] = []
        for entry_id, (message_id, sequence_number) in zip(accepted, self._deliver(prepared)):
            success = {"Id": entry_id, "MessageId": message_id}
            if sequence_number is not None:
                success["SequenceNumber"] = sequence_number
            successful.append(success)
        return {"Successful": successful, "Failed": failed}

    # ------------------------------------------------------------------ delivery

    def _deduplicate(self, prepared: _Prepared, message_id: str, now: float) -> PublishResult:
        """A FIFO publish's result: the first message's within the 5-minute window (then
        ``message_id`` is not that of the result), else a new sequence number, remembered."""
        scope = (prepared.group_id or "") if self._deduplication_per_group else ""
        # Increasing, not consecutive (spec 1.9's SequenceNumber shape). The store keeps the window
        # and the counter, so every broker on it deduplicates and numbers alike.
        first_id, sequence_number = self._store.topics.fifo_publish(
            self.name, scope, prepared.deduplication_id or "", message_id, now, 1 + secrets.randbelow(1 << 16)
        )
        return PublishResult(first_id, sequence_number)

    def _deliver(self, prepared: Sequence[_Prepared]) -> list[tuple[str, str | None]]:
        """Deliver publishes (one, or a batch's accepted entries, in order; a batch's share one
        reading of the clock); each one's MessageId and SequenceNumber (FIFO topics). A standard
        topic's routes come from its route plan; the usual fan-out (``_Selection.fan_out``) of
        consecutive publishes is stored in one store call."""
        now = self._clock()
        timestamp = _timestamp(now)
        if self.fifo:
            fifo = [self._deliver_each(entry, _new_message_id(), now, timestamp) for entry in prepared]
            return [(result.message_id, result.sequence_number) for result in fifo]
        self._sync()
        with self._sync_lock:
            plan = self._plan
            if plan is None or plan.region != self._region or plan.account != self._account:
                self._drop_plan()
                plan = self._plan = _RoutePlan(self)
            general = plan.general
            selections = [
                None
                if general or entry.per_protocol is not None or entry.group_id is not None
                else self._select(plan, entry)
                for entry in prepared
            ]
        results: list[tuple[str, str | None]] = []
        # Consecutive publishes to their usual fan-out, for one _put_notifications call: each
        # one's (fan_out, message_id, subject, message, tail), and what a refusal needs.
        publishes: list[tuple[FanOut, str, str | None, str, str]] = []
        waiting: list[tuple[_Selection, _Prepared, str]] = []
        for entry, selection in zip(prepared, selections):
            message_id = _new_message_id()
            results.append((message_id, None))
            if selection is not None and selection.fan_out is not None:
                tail = plan.tail(entry)
                publishes.append((selection.fan_out, message_id, entry.subject, entry.message, tail))
                waiting.append((selection, entry, message_id))
                continue
            if publishes:  # stored first: every queue receives the publishes in order
                self._put_notifications(plan, publishes, waiting, now, timestamp)
                publishes, waiting = [], []
            if selection is None:  # MessageStructure, MessageGroupId, Python callables
                self._deliver_each(entry, message_id, now, timestamp)
            elif selection.routes:
                self._deliver_routes(plan, selection, entry, message_id, now, timestamp)
        if publishes:
            self._put_notifications(plan, publishes, waiting, now, timestamp)
        return results

    def _put_notifications(
        self,
        plan: _RoutePlan,
        publishes: list[tuple[FanOut, str, str | None, str, str]],
        waiting: list[tuple[_Selection, _Prepared, str]],
        now: float,
        timestamp: str,
    ) -> None:
        """Store consecutive publishes to their usual fan-out (``Store.put_notifications``). A
        delivery the store refuses takes the long way (``_fan_out``: SendMessage's checks,
        dead-lettering) before any later publish is stored, so each queue receives them in order."""
        store, account = self._store, self._account
        start = 0
        while start < len(publishes):
            done, refused = store.queues.put_notifications(
                plan.topic, publishes[start:] if start else publishes, account, now, timestamp
            )
            start += done
            if refused:  # of the last publish stored
                selection, prepared, message_id = waiting[start - 1]
                envelope = self._standard_envelope(plan, prepared, message_id, timestamp)
                slow = []
                for number in refused:
                    route = selection.routes[number]
                    text = f"{envelope.head}{route.quoted_url}{envelope.tail}"
                    slow.append((route.subscription, envelope, prepared.message, text))
                self._fan_out(slow, prepared.attributes, None, now)

    def _select(self, plan: _RoutePlan, prepared: _Prepared) -> _Selection:
        """The routes of a publish, counted in the plan (see ``_RoutePlan``). Under the lock, so
        the RuleSet is the plan's and no count is lost to a plan being dropped meanwhile."""
        if not plan.filtered:
            return plan.unfiltered
        key = None
        if not plan.body_rules:
            key = prepared.attributes_key
            if key is None:
                key = _attributes_key(prepared.attributes)
            selection = plan.selections.get(key)
        else:
            selection = None
        if selection is None:
            names = self._rules.matches(prepared.message, prepared.attributes or None)
            selection = plan.select(names)
            if key is not None:
                plan.remember(key, selection)
        plan.evaluations += 1
        if key is None:  # not remembered: its matches are counted in its routes
            for route in selection.matched:
                route.matched += 1
        else:
            selection.uses += 1
        return selection

    def _deliver_routes(
        self,
        plan: _RoutePlan,
        selection: _Selection,
        prepared: _Prepared,
        message_id: str,
        now: float,
        timestamp: str,
    ) -> None:
        """A standard publish to its routes, as ``_deliver_each`` would deliver it: HTTP/S on
        lanes, other protocols now, then the queues. Plain envelopes to standard queues of this
        broker go in one ``put_plain_many``; what it refuses, and every other queue delivery, take
        ``_fan_out`` (SendMessage's checks, dead-lettering), in subscription order."""
        envelope = self._standard_envelope(plan, prepared, message_id, timestamp)
        head, tail = envelope.head, envelope.tail
        body = prepared.message
        attributes = prepared.attributes
        slow: list[tuple[int, tuple[Subscription, _Envelope, str, str]]] = []
        plain: list[tuple[str, str]] = []
        plain_routes: list[_Route] = []
        for route in selection.routes:
            kind = route.kind
            if kind == _PLAIN_QUEUE and not (route.raw and attributes):
                text = body if route.raw else f"{head}{route.quoted_url}{tail}"
                plain.append((route.queue, text))  # type: ignore[arg-type]
                plain_routes.append(route)
                continue
            subscription = route.subscription
            if kind <= _OTHER_QUEUE:  # a raw delivery with attributes, or not a plain queue
                slow.append((route.index, (subscription, envelope, body, f"{head}{route.quoted_url}{tail}")))
                continue
            notification, text = envelope.for_subscription(subscription)
            delivery = partial(self._attempt, subscription, notification, body, attributes, None, text)
            if kind == _HTTP:
                # After Publish has answered, on the subscription's own lane (see rulebus.delivery).
                self._lanes.submit(subscription.subscription_arn, delivery)
            else:
                delivery()
        if plain:
            refused = set(self._store.queues.put_plain_many(plain, self._account, now))
            for number, route in enumerate(plain_routes):
                if number in refused:  # the long way, where it succeeds or fails as SendMessage would
                    text = f"{head}{route.quoted_url}{tail}"
                    slow.append((route.index, (route.subscription, envelope, body, text)))
                else:
                    route.counter.add(1)
            if refused:
                slow.sort(key=_first)
        if slow:
            self._fan_out([delivery for _, delivery in slow], attributes, None, now)

    def _standard_envelope(
        self, plan: _RoutePlan, prepared: _Prepared, message_id: str, timestamp: str
    ) -> _Envelope:
        """``_Envelope.build`` of a standard topic's notification (``_notification``, then the
        message attributes), laid out directly: the same dict, the same texts byte for byte."""
        tail = plan.tail(prepared)
        # Native: format_envelope's text of the same members, _placeholder_signature's signature.
        head = sns_notification_head(
            message_id,
            plan.arn,
            prepared.subject,
            prepared.message,
            timestamp,
            plan.signature_version,
            plan.signing_cert_url,
        )
        make = partial(self._standard_notification, plan, prepared, message_id, timestamp)
        return _Envelope(None, head, tail, make)

    @staticmethod
    def _standard_notification(
        plan: _RoutePlan, prepared: _Prepared, message_id: str, timestamp: str
    ) -> dict[str, Any]:
        """``_notification`` of a standard topic, with the message attributes after it."""
        notification: dict[str, Any] = {"Type": "Notification", "MessageId": message_id, "TopicArn": plan.arn}
        if prepared.subject is not None:
            notification["Subject"] = prepared.subject
        notification["Message"] = prepared.message
        notification["Timestamp"] = timestamp
        notification["SignatureVersion"] = plan.signature_version
        notification["Signature"] = _placeholder_signature(notification, _NOTIFICATION_SIGNED_KEYS)
        notification["SigningCertURL"] = plan.signing_cert_url
        notification["UnsubscribeURL"] = _UNSUBSCRIBE_SLOT
        if prepared.attributes:
            notification["MessageAttributes"] = notification_attributes(prepared.attributes)
        return notification

    def _deliver_each(
        self, prepared: _Prepared, message_id: str, now: float, timestamp: str
    ) -> PublishResult:
        """The general delivery: FIFO topics, MessageStructure=json, MessageGroupId, Python
        callables subscribed. Subscription by subscription, each evaluated as it comes."""
        result = PublishResult(message_id)
        if self.fifo:
            result = self._deduplicate(prepared, message_id, now)
            if result.message_id != message_id:
                return result  # a duplicate: accepted, delivered to nobody
        # Message attributes are sent only when MessageStructure is not json (spec 2.3).
        sent_attributes = prepared.attributes if prepared.per_protocol is None else {}
        envelope_attributes = notification_attributes(sent_attributes) if sent_attributes else None
        matched: dict[str, set[str]] = {}
        envelopes: dict[str, _Envelope] = {}
        to_queues: list[tuple[Subscription, _Envelope, str, str]] = []
        self._sync()
        # Without MessageStructure every subscription gets the same body: one engine call, and a
        # loop that does no more than it must per subscription (a topic may have thousands).
        same_body = prepared.message if prepared.per_protocol is None else None
        same_matches = self._matching(same_body, prepared, matched) if same_body is not None else None
        for subscription in list(self._subscriptions.values()):
            if subscription.pending_confirmation:
                continue
            if same_body is None:
                body = self._message_for(prepared, subscription.protocol)
                selected = self._matching(body, prepared, matched)
            else:
                body, selected = same_body, same_matches  # type: ignore[assignment]
            if subscription.filter_policy is not None and subscription.subscription_arn not in selected:
                _add_filtered(subscription, 1)
                continue
            envelope = envelopes.get(body)
            if envelope is None:
                base = self._notification(
                    message_id, timestamp, prepared.subject, body, result.sequence_number
                )
                if envelope_attributes is not None:
                    base["MessageAttributes"] = envelope_attributes
                envelope = envelopes[body] = _Envelope.build(base)
            if subscription.protocol == "sqs":
                # The notification itself is needed only if the delivery fails (see _fan_out).
                to_queues.append((subscription, envelope, body, envelope.text_for(subscription)))
                continue
            notification, text = envelope.for_subscription(subscription)
            delivery = partial(
                self._attempt, subscription, notification, body, sent_attributes, prepared.group_id, text
            )
            if subscription.protocol in HTTP_PROTOCOLS:
                # After Publish has answered, on the subscription's own lane (see rulebus.delivery).
                self._lanes.submit(subscription.subscription_arn, delivery)
            else:
                delivery()
        if to_queues:
            self._fan_out(to_queues, sent_attributes, prepared.group_id, now)
        return result

    def _fan_out(
        self,
        deliveries: list[tuple[Subscription, _Envelope, str, str]],
        attributes: dict[str, dict[str, Any]],
        group_id: str | None,
        now: float,
    ) -> None:
        """Deliver one publish to its queue subscriptions in one store call (one lock, or one
        SQLite transaction). A message a queue refuses, or a queue gone, takes the single path
        (``_attempt``), which dead-letters it as SNS would."""
        batches: list[tuple[str, list[StoredMessage]]] = []
        stored_for: list[tuple[Subscription, _Envelope, str, str]] = []
        for delivery in deliveries:
            subscription, envelope, body, text = delivery
            try:
                queue = subscription._queue
                if queue is None:
                    queue = subscription._queue = self._queue_for(subscription.target)
                raw = subscription.raw_message_delivery
                fifo = queue.name.endswith(".fifo")
                message = queue.prepare_message(
                    body if raw else text,
                    message_attributes=(attributes or None) if raw else None,
                    message_group_id=group_id,
                    message_deduplication_id=envelope.notification["MessageId"] if fifo else None,
                    now=now,
                )
            except AwsError:
                notification = envelope.notification_for(subscription)
                self._attempt(subscription, notification, body, attributes, group_id, text)
                continue
            batches.append((queue.name, [message]))
            stored_for.append(delivery)
        if not batches:
            return
        try:
            self._store.queues.put_messages_many(batches)
        except NotFound:  # a queue went away in between: one by one, so the others still get theirs
            for subscription, envelope, body, text in stored_for:
                notification = envelope.notification_for(subscription)
                self._attempt(subscription, notification, body, attributes, group_id, text)
            return
        for subscription, _, _, _ in stored_for:
            _delivery_counter(subscription).add(1)

    def _attempt(
        self,
        subscription: Subscription,
        notification: dict[str, Any],
        body: str,
        attributes: dict[str, dict[str, Any]],
        group_id: str | None,
        envelope: str | None = None,
    ) -> None:
        """One delivery, its retries included; what the endpoint refuses goes to the
        subscription's dead-letter queue, else is dropped (spec 2.7). ``envelope`` is the
        notification already formatted, when the caller has it."""
        try:
            self._send(subscription, notification, body, attributes, group_id, envelope)
        except AwsError:
            self._dead_letter(subscription, notification, body, attributes, group_id)
        else:
            _delivery_counter(subscription).add(1)

    def wait_for_deliveries(self, timeout: float | None = None) -> bool:
        """Block until every HTTP/S delivery handed over so far (subscription confirmations,
        notifications, their retries and dead-lettering) has finished; False if ``timeout``
        seconds ran out first. Publish and Subscribe return before they POST, as on AWS; queue
        and callable subscriptions are served before Publish returns."""
        return self._lanes.wait(timeout)

    def _dead_letter(
        self,
        subscription: Subscription,
        notification: dict[str, Any],
        body: str,
        attributes: dict[str, dict[str, Any]],
        group_id: str | None = None,
    ) -> None:
        """A failed delivery: to the RedrivePolicy's queue as the endpoint would have got it
        (the raw message, or the envelope), else counted in ``failed_count``."""
        target = subscription.dead_letter_target_arn
        if target is not None:
            try:
                queue = self._queue_for(target)
                payload = body if subscription.raw_message_delivery else format_envelope(notification)
                self._to_queue(
                    queue,
                    payload,
                    attributes if subscription.raw_message_delivery else {},
                    notification,
                    group_id,
                )
            except AwsError:
                pass
            else:
                subscription.dead_lettered_count += 1
                return
        subscription.failed_count += 1

    @staticmethod
    def _message_for(prepared: _Prepared, protocol: str) -> str:
        if prepared.per_protocol is None:
            return prepared.message
        return prepared.per_protocol.get(protocol, prepared.per_protocol["default"])

    def _matching(self, body: str, prepared: _Prepared, cache: dict[str, set[str]]) -> set[str]:
        """The subscriptions whose policy matches: one engine call per distinct body (each rule is
        matched in its own scope; a body that is not a JSON object matches no body policy)."""
        if body not in cache:
            cache[body] = set(self._rules.matches(body, prepared.attributes or None))
        return cache[body]

    def _notification(
        self,
        message_id: str,
        timestamp: str,
        subject: str | None,
        message: str,
        sequence_number: str | None = None,
    ) -> dict[str, Any]:
        """The envelope, its UnsubscribeURL a slot each subscription fills (see ``_Envelope``); a
        FIFO topic's has SequenceNumber and no signature fields (spec 2.5)."""
        region = self._region
        notification: dict[str, Any] = {"Type": "Notification", "MessageId": message_id}
        if sequence_number is not None:
            notification["SequenceNumber"] = sequence_number
        notification["TopicArn"] = self.arn
        if subject is not None:
            notification["Subject"] = subject
        notification["Message"] = message
        notification["Timestamp"] = timestamp
        if self.fifo:
            notification["UnsubscribeURL"] = _UNSUBSCRIBE_SLOT
            return notification
        notification["SignatureVersion"] = self._set_attributes.get("SignatureVersion", "1")
        notification["Signature"] = _placeholder_signature(notification, _NOTIFICATION_SIGNED_KEYS)
        notification["SigningCertURL"] = _signing_cert_url(region)
        notification["UnsubscribeURL"] = _UNSUBSCRIBE_SLOT
        return notification

    def _request_confirmation(self, subscription: Subscription) -> None:
        """Hand the SubscriptionConfirmation (spec 2.5) of a pending HTTP/S subscription to its lane."""
        region = self._region
        message_id = str(uuid.uuid4())
        token = subscription.token or ""
        confirmation: dict[str, Any] = {
            "Type": "SubscriptionConfirmation",
            "MessageId": message_id,
            "Token": token,
            "TopicArn": self.arn,
            "Message": (
                f"You have chosen to subscribe to the topic {self.arn}.\n"
                "To confirm the subscription, visit the SubscribeURL included in this message."
            ),
            "SubscribeURL": (
                f"https://sns.{region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={self.arn}"
                f"&Token={token}"
            ),
            "Timestamp": _timestamp(self._clock()),
            "SignatureVersion": self._set_attributes.get("SignatureVersion", "1"),
        }
        confirmation["Signature"] = _placeholder_signature(confirmation, _CONFIRMATION_SIGNED_KEYS)
        confirmation["SigningCertURL"] = _signing_cert_url(region)
        body = format_envelope(confirmation)
        post = partial(self._post, subscription, "SubscriptionConfirmation", message_id, body)
        self._lanes.submit(subscription.subscription_arn, post)

    def _post(
        self, subscription: Subscription, message_type: str, message_id: str, body: str, raw: bool = False
    ) -> bool:
        """POST with SNS's headers, retried per the effective delivery policy unless the endpoint
        answers with a client error; True once it got a 2xx."""
        headers = {
            "x-amz-sns-message-type": message_type,
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": self.arn,
        }
        if message_type != "SubscriptionConfirmation":
            headers["x-amz-sns-subscription-arn"] = subscription.subscription_arn
        if raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        retry, content_type = self._delivery_settings(subscription)
        headers["Content-Type"] = content_type
        headers["User-Agent"] = USER_AGENT
        return post_with_retries(subscription.endpoint, body, headers, retry_delays(retry), self._sleep)

    def _sleep(self, seconds: float) -> None:
        clock_sleep = getattr(self._clock, "sleep", None)
        if callable(clock_sleep):
            clock_sleep(seconds)
        else:
            self.sleep(seconds)

    def _delivery_settings(self, subscription: Subscription) -> tuple[dict[str, Any], str]:
        """The effective healthy retry policy and Content-Type: SNS's defaults, the topic's
        DeliveryPolicy ``"http"`` part, then the subscription's (unless the topic disables
        subscription overrides). A topic policy that does not check out is ignored."""
        retry: dict[str, Any] = dict(DEFAULT_RETRY_POLICY)
        content_type = DEFAULT_CONTENT_TYPE
        try:
            topic_http = json.loads(self._set_attributes.get("DeliveryPolicy") or "{}").get("http") or {}
            retry = _check_retry_policy(topic_http.get("defaultHealthyRetryPolicy") or {}, "DeliveryPolicy")
            content_type = (topic_http.get("defaultRequestPolicy") or {}).get(
                "headerContentType", content_type
            )
            overrides = not topic_http.get("disableSubscriptionOverrides", False)
        except (AwsError, AttributeError, TypeError, ValueError):
            overrides = True
        if overrides and subscription.delivery_policy is not None:
            own = json.loads(subscription.delivery_policy)
            retry = _check_retry_policy({**retry, **(own.get("healthyRetryPolicy") or {})}, "DeliveryPolicy")
            content_type = (own.get("requestPolicy") or {}).get("headerContentType", content_type)
        return retry, str(content_type)

    def _send(
        self,
        subscription: Subscription,
        notification: dict[str, Any],
        body: str,
        attributes: dict[str, dict[str, Any]],
        group_id: str | None = None,
        envelope: str | None = None,
    ) -> None:
        if subscription.protocol == "python":
            subscription.target(notification)
            return
        if envelope is None:
            envelope = format_envelope(notification)
        if subscription.protocol in HTTP_PROTOCOLS:
            raw = subscription.raw_message_delivery
            payload = body if raw else envelope
            if not self._post(subscription, "Notification", notification["MessageId"], payload, raw):
                # Our code for the failure; it only decides the dead-letter path, it is not raised.
                raise AwsError("EndpointUnreachable", f"delivery to {subscription.endpoint} failed")
            return
        if subscription.protocol == "kinesis":
            self._to_stream(
                subscription, body if subscription.raw_message_delivery else envelope, notification
            )
            return
        queue = self._queue_for(subscription.target)
        if subscription.raw_message_delivery:
            self._to_queue(queue, body, attributes, notification, group_id)
        else:
            self._to_queue(queue, envelope, {}, notification, group_id)

    def _to_stream(self, subscription: Subscription, data: str, notification: Mapping[str, Any]) -> None:
        """PutRecord to a subscribed stream, the SNS message id as partition key."""
        arn = Arn.parse(subscription.endpoint)
        name = arn.named("kinesis", "stream") if arn is not None else None
        if (
            arn is None
            or name is None
            or not arn.is_in(self._region, self._account)
            or (stream := self._targets.find_stream(name)) is None
        ):
            raise AwsError("ResourceNotFoundException", f"Stream {name} does not exist.")
        stream.put_record(data, notification["MessageId"])

    def _to_queue(
        self,
        queue: Queue,
        body: str,
        attributes: dict[str, dict[str, Any]],
        notification: Mapping[str, Any],
        group_id: str | None,
    ) -> None:
        """SendMessage to a subscribed (or dead-letter) queue: a FIFO queue gets the message's group
        and the SNS message id as deduplication id, so it keeps the topic's order per group; a
        standard queue gets the group id, if any, for fairness (spec 1.9, 2.3)."""
        if queue.name.endswith(".fifo"):
            queue.send(
                body,
                message_attributes=attributes or None,
                message_group_id=group_id,
                message_deduplication_id=notification["MessageId"],
            )
        else:
            queue.send(body, message_attributes=attributes or None, message_group_id=group_id)

    def _queue_for(self, target: Queue | str) -> Queue:
        if isinstance(target, Queue):
            return target
        arn = Arn.parse(target)
        name = arn.named("sqs") if arn is not None else None
        if arn is None or name is None or not arn.is_in(self._region, self._account):
            raise AwsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
        return self._targets.queue(name)


def _subscription_from_record(record: SubscriptionRecord, topic: Topic) -> Subscription:
    """A stored subscription as this process sees it: its target is the endpoint (queue ARN or
    URL); Subscribe's ``arn`` says "pending confirmation" while it awaits confirmation."""
    return Subscription(
        subscription_arn=record.subscription_arn,
        topic_arn=topic.arn,
        protocol=record.protocol,
        endpoint=record.endpoint,
        owner=record.owner,
        target=record.endpoint,
        filter_policy=record.filter_policy,
        filter_policy_scope=record.filter_policy_scope,
        raw_message_delivery=record.raw_message_delivery,
        delivery_policy=record.delivery_policy,
        redrive_policy=record.redrive_policy,
        pending_confirmation=record.pending_confirmation,
        return_subscription_arn=not record.pending_confirmation,
        token=record.token,
        token_issued=record.token_issued,
        topic=topic,
    )


_NOTIFICATION_SIGNED_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_SIGNED_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def _signing_cert_url(region: str) -> str:
    return f"https://sns.{region}.amazonaws.com/SimpleNotificationService-rulebus0000000000000000000000.pem"


def _placeholder_signature(notification: Mapping[str, Any], keys: Sequence[str]) -> str:
    """A stand-in for SNS's RSA signature: base64 of a SHA-256 over SNS's string to sign (spec 2.5),
    so it is stable for one notification, but it verifies against no certificate."""
    text = "".join(f"{key}\n{notification[key]}\n" for key in keys if key in notification)
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest() * 8).decode("ascii")
