"""The events a function receives. From an SQS queue, in the shape the AWS Lambda Developer Guide
documents ('Using Lambda with Amazon SQS', example event): ``{"Records": [...]}`` with one record
per message, its system attributes as SQS names them and its message attributes in Lambda's
camel-case form (binary values base64-encoded)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from rulebus.sqs.queue import Message

__all__ = ["sns_event", "sqs_event", "sqs_message_attribute", "sqs_record"]


def _base64(value: Any) -> str:
    data = value.encode() if isinstance(value, str) else bytes(value)
    return base64.b64encode(data).decode("ascii")


def sqs_message_attribute(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """One message attribute as Lambda shows it: ``stringValue`` or ``binaryValue`` (base64),
    the (always empty) list values, and ``dataType``."""
    shown: dict[str, Any] = {}
    if "StringValue" in attribute:
        shown["stringValue"] = attribute["StringValue"]
    if "BinaryValue" in attribute:
        shown["binaryValue"] = _base64(attribute["BinaryValue"])
    shown["stringListValues"] = list(attribute.get("StringListValues", ()))
    shown["binaryListValues"] = [_base64(value) for value in attribute.get("BinaryListValues", ())]
    shown["dataType"] = attribute["DataType"]
    return shown


def sqs_record(message: Message, queue_arn: str, region: str) -> dict[str, Any]:
    """One received message as a record of Lambda's SQS event (received with every system and
    message attribute, as Lambda's poller asks for them)."""
    record: dict[str, Any] = {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": dict(message.attributes),
        "messageAttributes": {
            name: sqs_message_attribute(attribute) for name, attribute in message.message_attributes.items()
        },
        "md5OfBody": message.md5_of_body,
    }
    if message.md5_of_message_attributes is not None:
        record["md5OfMessageAttributes"] = message.md5_of_message_attributes
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = queue_arn
    record["awsRegion"] = region
    return record


def sqs_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The event one invocation receives."""
    return {"Records": [dict(record) for record in records]}


#: The members of an SNS notification a function sees, with Lambda's casing of the two URLs
#: (AWS Lambda Developer Guide, 'Invoking Lambda functions with Amazon SNS notifications').
_SNS_MEMBERS = (
    ("Type", "Type"),
    ("MessageId", "MessageId"),
    ("TopicArn", "TopicArn"),
    ("Subject", "Subject"),
    ("Message", "Message"),
    ("Timestamp", "Timestamp"),
    ("SignatureVersion", "SignatureVersion"),
    ("Signature", "Signature"),
    ("SigningCertUrl", "SigningCertURL"),
    ("UnsubscribeUrl", "UnsubscribeURL"),
)


def sns_event(notification: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event a function subscribed to a topic receives for one notification (the
    notification as an HTTP endpoint would get it): one record, ``Subject`` null when the
    message has none, ``MessageAttributes`` always there."""
    sns: dict[str, Any] = {name: notification.get(source) for name, source in _SNS_MEMBERS}
    sns["MessageAttributes"] = dict(notification.get("MessageAttributes", {}))
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }
