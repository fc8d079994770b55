"""An SNS standard topic: subscriptions, filter policies, publish and what subscribers receive.

Why it looks like this: SNS is fan-out plus filtering. The filtering is the Rust engine's job, so
each topic keeps one ``RuleSet("sns")`` whose rule names are subscription ARNs; a publish asks it
once which subscriptions match and delivers to those only. Everything else here is SNS's surface:
limits, error texts (spec/aws-semantics.md section 2) and the exact notification envelope.

Topics and subscriptions live in the broker's memory for now (not in its store): they do not survive
a restart of a ``Broker("app.db")``. FIFO topics and HTTP/S endpoints are not supported yet.

Error codes are SNS's query codes (``InvalidParameter``, ``ParameterValueInvalid``...). Texts come
from spec section 2 unless a comment at the text says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Callable, Union

from rulebus._core import FilterPolicy, RuleSet
from rulebus._errors import AwsError, InvalidFilterPolicyError
from rulebus.queue import Queue

if TYPE_CHECKING:
    from rulebus.broker import Broker

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
_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
_ATTRIBUTE_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
_CONTROL_CHAR = re.compile("[\x00-\x1f\x7f]")
_QUEUE_ARN = re.compile(r"arn:aws:sqs:([^:]+):([^:]+):([^:]+)")

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

#: CreateTopic keywords and the attributes they set. FifoTopic and its companions come with FIFO.
TOPIC_KWARGS = {
    "display_name": "DisplayName",
    "policy": "Policy",
    "delivery_policy": "DeliveryPolicy",
    "signature_version": "SignatureVersion",
    "tracing_config": "TracingConfig",
    "kms_master_key_id": "KmsMasterKeyId",
}

Subscriber = Union[Queue, str, Callable[[dict[str, Any]], Any]]


def _invalid(message: str, code: str = INVALID_PARAMETER) -> AwsError:
    return AwsError(code, message)


def validate_topic_name(name: Any) -> None:
    """1-256 characters of ``[A-Za-z0-9_-]`` (spec 2.1); ``.fifo`` names need FIFO topics."""
    if not isinstance(name, str):
        raise TypeError(f"topic name must be str, not {type(name).__name__}")
    if name.endswith(".fifo"):
        raise NotImplementedError("FIFO topics are not supported yet")
    if not _TOPIC_NAME.fullmatch(name):
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
        if key in ("fifo_topic", "content_based_deduplication"):
            raise NotImplementedError("FIFO topics are not supported yet")
        if key not in TOPIC_KWARGS:
            raise TypeError(f"unknown topic attribute {key!r}")
        result[TOPIC_KWARGS[key]] = _attribute_string(value)
    return result


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


def _timestamp(seconds: float) -> str:
    """``2021-02-16T21:41:19.978Z``: UTC, millisecond precision (spec 2.5)."""
    millis = round(seconds * 1000)
    moment = datetime.fromtimestamp(millis // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def format_envelope(notification: Mapping[str, Any]) -> str:
    """The SQS body of a notification, formatted as SNS's own (Jackson's pretty printer: two-space
    indent, ``" : "`` separators, each message attribute on one compact line)."""
    lines = []
    for key, value in notification.items():
        if key == "MessageAttributes":
            inner = ",\n".join(
                f"    {json.dumps(name, ensure_ascii=False)} : "
                f"{json.dumps(attribute, ensure_ascii=False, separators=(',', ':'))}"
                for name, attribute in value.items()
            )
            lines.append(f'  "MessageAttributes" : {{\n{inner}\n  }}')
        else:
            lines.append(f"  {json.dumps(key)} : {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}"


# --------------------------------------------------------------------------------------------
# Results and subscriptions.


@dataclass(frozen=True)
class PublishResult:
    """Publish's answer: the message's id (a UUID)."""

    message_id: str


@dataclass(eq=False)
class Subscription:
    """One subscription of a topic. ``filtered_count`` counts the messages its filter policy kept
    out (SNS's NumberOfNotificationsFilteredOut), ``delivered_count`` those delivered, and
    ``failed_count`` deliveries that failed (the queue gone, SQS refusing the message)."""

    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    target: Any = field(repr=False)
    filter_policy: str | None = None
    filter_policy_scope: str | None = None
    raw_message_delivery: bool = False
    filtered_count: int = 0
    delivered_count: int = 0
    failed_count: int = 0

    @property
    def attributes(self) -> dict[str, str]:
        """GetSubscriptionAttributes."""
        attributes = {
            "ConfirmationWasAuthenticated": "true",
            "Endpoint": self.endpoint,
            "Owner": self.owner,
            "PendingConfirmation": "false",
            "Protocol": self.protocol,
            "RawMessageDelivery": "true" if self.raw_message_delivery else "false",
            "SubscriptionArn": self.arn,
            "TopicArn": self.topic_arn,
        }
        if self.filter_policy is not None:
            attributes["FilterPolicy"] = self.filter_policy
            attributes["FilterPolicyScope"] = self.filter_policy_scope or "MessageAttributes"
        return attributes

    def _same_settings(self, policy: str | None, scope: str | None, raw: bool) -> bool:
        return (
            _canonical(self.filter_policy) == _canonical(policy)
            and self.filter_policy_scope == scope
            and self.raw_message_delivery == raw
        )


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


@dataclass
class _Prepared:
    message: str
    subject: str | None
    attributes: dict[str, dict[str, Any]]
    per_protocol: dict[str, str] | None  # MessageStructure=json: the parsed object's string entries


# --------------------------------------------------------------------------------------------
# The topic.


class Topic:
    """One SNS standard topic; get it with ``broker.topic(name)``.

    Its subscriptions and the compiled filter policies are held by this object, which the broker
    keeps in memory (one per name), so every ``broker.topic(name)`` returns the same object.
    """

    def __init__(self, broker: Broker, name: str, attributes: Mapping[str, str] | None = None) -> None:
        self._broker = broker
        self.name = name
        self._set_attributes: dict[str, str] = dict(attributes or {})
        self._subscriptions: dict[str, Subscription] = {}
        self._rules = RuleSet("sns")

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"

    @property
    def arn(self) -> str:
        """``arn:aws:sns:<region>:<account>:<name>``."""
        return topic_arn(self.name, self._broker.region, self._broker.account)

    @property
    def attributes(self) -> dict[str, str]:
        """GetTopicAttributes (spec 2.1 defaults)."""
        account = self._broker.account
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
            "SubscriptionsPending": "0",
            "TopicArn": self.arn,
            "EffectiveDeliveryPolicy": _DEFAULT_EFFECTIVE_DELIVERY_POLICY,
            "SubscriptionsConfirmed": str(len(self._subscriptions)),
            "DisplayName": "",
            "SubscriptionsDeleted": "0",
        }
        attributes.update(self._set_attributes)
        return attributes

    @property
    def subscriptions(self) -> list[Subscription]:
        """ListSubscriptionsByTopic, in subscription order."""
        return list(self._subscriptions.values())

    # ------------------------------------------------------------------ subscriptions

    def _endpoint(self, target: Subscriber) -> tuple[str, str, Any]:
        """(protocol, endpoint, what to deliver to) for a subscriber."""
        if isinstance(target, Queue):
            return "sqs", target.arn, target
        if isinstance(target, str):
            match = _QUEUE_ARN.fullmatch(target)
            if match is None:
                raise _invalid("Invalid parameter: SQS endpoint ARN")
            return "sqs", target, target
        if callable(target):
            # A Python callable is our own protocol; its endpoint names the object, for display.
            name = getattr(target, "__qualname__", type(target).__qualname__)
            return "python", f"python:{name}:{id(target):x}", target
        raise TypeError(
            f"a subscriber must be a Queue, an SQS queue ARN or a callable, not {type(target).__name__}"
        )

    def subscribe(
        self,
        target: Subscriber,
        filter_policy: str | Mapping[str, Any] | None = None,
        filter_policy_scope: str = "MessageAttributes",
        raw_message_delivery: bool | str = False,
    ) -> Subscription:
        """Subscribe: a Queue (or an SQS queue ARN) or a callable receiving the notification dict.

        Idempotent: the same endpoint with the same settings gives the existing subscription, with
        other settings "Subscription already exists with different attributes". An invalid filter
        policy raises ``InvalidFilterPolicyError`` (SNS's text) and subscribes nothing.
        """
        protocol, endpoint, deliver_to = self._endpoint(target)
        if protocol == "sqs" and endpoint.endswith(".fifo"):
            raise _invalid(
                "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                "subscribed to standard SNS topics"
            )
        raw = _raw_flag(raw_message_delivery)
        if raw and protocol == "python":
            # Our wording: SNS allows raw delivery only for sqs, http/s and firehose (spec 2.5).
            raise _invalid(
                "Invalid parameter: Attributes Reason: Delivery protocol [python] does not support raw "
                "message delivery"
            )
        policy_text: str | None = None
        scope: str | None = None
        if filter_policy_scope not in ("MessageAttributes", "MessageBody"):
            reason = (
                f"FilterPolicyScope: Invalid value [{filter_policy_scope}]. "
                "Please use either MessageBody or MessageAttributes"
            )
            raise InvalidFilterPolicyError(f"Invalid parameter: {reason}", reason)
        if filter_policy is not None:
            compiled = FilterPolicy(filter_policy, scope=filter_policy_scope)  # type: ignore[arg-type]
            policy_text = compiled.text
            scope = filter_policy_scope
        for existing in self._subscriptions.values():
            if existing.protocol == protocol and existing.endpoint == endpoint:
                if existing._same_settings(policy_text, scope, raw):
                    return existing
                raise _invalid(
                    "Invalid parameter: Attributes Reason: Subscription already exists with different "
                    "attributes"
                )
        arn = f"{self.arn}:{uuid.uuid4()}"
        if policy_text is not None:
            self._rules.add(arn, policy_text, scope=scope)  # type: ignore[arg-type]
        subscription = Subscription(
            arn=arn,
            topic_arn=self.arn,
            protocol=protocol,
            endpoint=endpoint,
            owner=self._broker.account,
            target=deliver_to,
            filter_policy=policy_text,
            filter_policy_scope=scope,
            raw_message_delivery=raw,
        )
        self._subscriptions[arn] = subscription
        return subscription

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Unsubscribe (a Subscription or its ARN); unsubscribing twice is not an error."""
        arn = subscription.arn if isinstance(subscription, Subscription) else subscription
        removed = self._subscriptions.pop(arn, None)
        if removed is not None and removed.filter_policy is not None:
            self._rules.remove(arn)

    # ------------------------------------------------------------------ publish

    def _prepare(
        self,
        message: Any,
        subject: str | None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None,
        message_structure: str | None,
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
        attributes = validate_sns_message_attributes(message_attributes)
        if len(message.encode("utf-8")) + _attributes_size(attributes) > MAX_MESSAGE_BYTES:
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
        return _Prepared(message, subject, attributes, per_protocol)

    def publish(
        self,
        message: str,
        subject: str | None = None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        message_structure: str | None = None,
    ) -> PublishResult:
        """Publish to every subscription whose filter policy matches (all without one)."""
        prepared = self._prepare(message, subject, message_attributes, message_structure)
        return self._deliver(prepared)

    def publish_batch(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """PublishBatch: 1-10 entries ``{"Id", "Message", "Subject"?, "MessageStructure"?,
        "MessageAttributes"?}``; returns ``{"Successful": [{"Id", "MessageId"}], "Failed": [{"Id",
        "Code", "Message", "SenderFault"}]}``. Request-level problems raise ``AwsError``."""
        if not entries:
            # LocalStack's wording (not in the spec).
            raise _invalid("The batch request doesn't contain any entries", EMPTY_BATCH)
        if len(entries) > MAX_BATCH_ENTRIES:
            raise _invalid("The batch request contains more entries than permissible.", TOO_MANY_ENTRIES)
        ids: list[str] = []
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
        total = sum(
            len(entry["Message"].encode("utf-8"))
            for entry in entries
            if isinstance(entry.get("Message"), str)
        )
        if total > MAX_MESSAGE_BYTES:
            raise _invalid(
                "The length of all the messages put together is more than the limit.", BATCH_REQUEST_TOO_LONG
            )
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry_id, entry in zip(ids, entries):
            try:
                prepared = self._prepare(
                    entry.get("Message", ""),
                    entry.get("Subject"),
                    entry.get("MessageAttributes"),
                    entry.get("MessageStructure"),
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
            result = self._deliver(prepared)
            successful.append({"Id": entry_id, "MessageId": result.message_id})
        return {"Successful": successful, "Failed": failed}

    # ------------------------------------------------------------------ delivery

    def _deliver(self, prepared: _Prepared) -> PublishResult:
        message_id = str(uuid.uuid4())
        timestamp = _timestamp(self._broker._clock())
        # Message attributes are sent only when MessageStructure is not json (spec 2.3).
        sent_attributes = prepared.attributes if prepared.per_protocol is None else {}
        matched: dict[str, set[str]] = {}
        for subscription in list(self._subscriptions.values()):
            body = self._message_for(prepared, subscription.protocol)
            if subscription.filter_policy is not None and subscription.arn not in self._matching(
                body, prepared, matched
            ):
                subscription.filtered_count += 1
                continue
            notification = self._notification(subscription, message_id, timestamp, prepared.subject, body)
            if sent_attributes:
                notification["MessageAttributes"] = notification_attributes(sent_attributes)
            try:
                self._send(subscription, notification, body, sent_attributes)
            except AwsError:
                # SNS drops what the endpoint refuses (no subscription DLQ yet, spec 2.7).
                subscription.failed_count += 1
            else:
                subscription.delivered_count += 1
        return PublishResult(message_id)

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
        self, subscription: Subscription, message_id: str, timestamp: str, subject: str | None, message: str
    ) -> dict[str, Any]:
        region = self._broker.region
        notification: dict[str, Any] = {"Type": "Notification", "MessageId": message_id, "TopicArn": self.arn}
        if subject is not None:
            notification["Subject"] = subject
        notification["Message"] = message
        notification["Timestamp"] = timestamp
        notification["SignatureVersion"] = self._set_attributes.get("SignatureVersion", "1")
        notification["Signature"] = _placeholder_signature(notification)
        notification["SigningCertURL"] = (
            f"https://sns.{region}.amazonaws.com/SimpleNotificationService-rulebus0000000000000000000000.pem"
        )
        notification["UnsubscribeURL"] = (
            f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription.arn}"
        )
        return notification

    def _send(
        self,
        subscription: Subscription,
        notification: dict[str, Any],
        body: str,
        attributes: dict[str, dict[str, Any]],
    ) -> None:
        if subscription.protocol == "python":
            subscription.target(notification)
            return
        queue = self._queue_for(subscription.target)
        if subscription.raw_message_delivery:
            queue.send(body, message_attributes=attributes or None)
        else:
            queue.send(format_envelope(notification))

    def _queue_for(self, target: Queue | str) -> Queue:
        if isinstance(target, Queue):
            return target
        region, account, name = _QUEUE_ARN.fullmatch(target).groups()  # type: ignore[union-attr]
        if (region, account) != (self._broker.region, self._broker.account):
            raise AwsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
        return Queue(self._broker, name)


def _placeholder_signature(notification: Mapping[str, Any]) -> str:
    """A stand-in for SNS's RSA signature: base64 of a SHA-256 over SNS's string to sign (spec 2.5),
    so it is stable for one notification, but it verifies against no certificate."""
    keys = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    text = "".join(f"{key}\n{notification[key]}\n" for key in keys if key in notification)
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest() * 8).decode("ascii")
