"""The SNS notification envelope: what a subscriber receives unless raw delivery is on.

One writer: the native ``sns_notification_head`` lays out a notification up to its
UnsubscribeURL (Jackson's pretty printer as SNS uses it: two-space indent, ``" : "`` separators,
strings escaped as Python's ``json`` escapes them) and signs it; the native fan-out writes the
same head when it stores a publish. This module only adds what follows the head: each
subscription's UnsubscribeURL and the message attributes (one compact line each), and takes the
dict a Python callable receives from that text, so every path delivers the same bytes
(Amazon SNS Developer Guide, "Parsing message formats").

A FIFO topic's notification carries SequenceNumber after MessageId and no signature members; it
is the native head rewritten at the members' boundaries (a quoted value never holds a line break,
so ``,\\n  "Name" : `` only ever starts a member). A SubscriptionConfirmation has members of its
own, which ``confirmation_text`` lays out the same way.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from rulebus._core import sns_notification_head

__all__ = [
    "Envelope",
    "TopicSigning",
    "attributes_tail",
    "confirmation_text",
    "notification_attributes",
    "quote",
    "signing_cert_url",
    "timestamp",
]

#: A JSON string as the envelope writes it (non-ASCII kept, control characters escaped).
quote = encode_basestring

_NO_ATTRIBUTES_TAIL = "\n}"
_TOPIC_ARN_MEMBER = ',\n  "TopicArn" : '
_SIGNATURE_VERSION_MEMBER = ',\n  "SignatureVersion" : '
_UNSUBSCRIBE_MEMBER = ',\n  "UnsubscribeURL" : '


class TopicSigning(NamedTuple):
    """What every notification of a topic says about the topic (the native fan-out's ``topic``)."""

    arn: str
    signature_version: str
    signing_cert_url: str


def signing_cert_url(region: str) -> str:
    return f"https://sns.{region}.amazonaws.com/SimpleNotificationService-rulebus0000000000000000000000.pem"


# The last millisecond ``timestamp`` formatted and its text, and the last second's: strftime is
# most of a timestamp's cost, and publishes come many to a second, often several to a
# millisecond. Each a tuple, replaced whole, so threads never see one torn.
_LAST_MILLI: tuple[int, str] = (0, "1970-01-01T00:00:00.000Z")
_LAST_SECOND: tuple[int, str] = (0, "1970-01-01T00:00:00")


def timestamp(seconds: float) -> str:
    """``2021-02-16T21:41:19.978Z``: UTC, millisecond precision."""
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


def _attribute_value(attribute: Mapping[str, Any]) -> str:
    binary = attribute.get("BinaryValue")
    return base64.b64encode(binary).decode("ascii") if binary is not None else str(attribute["StringValue"])


def notification_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The envelope's form of validated message attributes: ``{"Type", "Value"}``, Binary
    values base64."""
    return {
        name: {"Type": attribute["DataType"], "Value": _attribute_value(attribute)}
        for name, attribute in attributes.items()
    }


def attributes_tail(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """What follows the UnsubscribeURL in the envelope of a message with these validated
    attributes: the MessageAttributes member (each ``{"Type","Value"}`` on one compact line),
    if any, and the closing brace."""
    if not attributes:
        return _NO_ATTRIBUTES_TAIL
    lines = []
    for name, attribute in attributes.items():
        data_type, value = quote(attribute["DataType"]), quote(_attribute_value(attribute))
        lines.append(f'    {quote(name)} : {{"Type":{data_type},"Value":{value}}}')
    inner = ",\n".join(lines)
    return f',\n  "MessageAttributes" : {{\n{inner}\n  }}\n}}'


class Envelope:
    """One publish's notification for one message body, laid out once for all its subscriptions:
    only UnsubscribeURL differs between them (it is not signed), so a subscription's text is
    ``head + its quoted UnsubscribeURL + tail``."""

    __slots__ = ("head", "message_id", "tail")

    def __init__(self, message_id: str, head: str, tail: str) -> None:
        self.message_id = message_id
        self.head = head
        self.tail = tail

    @classmethod
    def notification(
        cls,
        topic: TopicSigning,
        message_id: str,
        subject: str | None,
        message: str,
        sent_at: str,
        tail: str,
        sequence_number: str | None = None,
    ) -> Envelope:
        """A Notification; with ``sequence_number`` a FIFO topic's (no signature members)."""
        head = sns_notification_head(
            message_id, topic.arn, subject, message, sent_at, topic.signature_version, topic.signing_cert_url
        )
        if sequence_number is not None:
            head = _fifo_head(head, sequence_number)
        return cls(message_id, head, tail)

    def text(self, quoted_url: str) -> str:
        """The envelope of the subscription whose UnsubscribeURL is ``quoted_url`` (as JSON)."""
        return f"{self.head}{quoted_url}{self.tail}"

    def as_dict(self, quoted_url: str) -> dict[str, Any]:
        """The notification a Python callable receives: the text's members, in its order."""
        parsed: dict[str, Any] = json.loads(self.text(quoted_url))
        return parsed


def _fifo_head(head: str, sequence_number: str) -> str:
    """A standard head as a FIFO topic's: SequenceNumber before TopicArn, the members from
    SignatureVersion to SigningCertURL left out."""
    before, arn_member, rest = head.partition(_TOPIC_ARN_MEMBER)
    kept = rest[: rest.index(_SIGNATURE_VERSION_MEMBER)]
    return f'{before},\n  "SequenceNumber" : {quote(sequence_number)}{arn_member}{kept}{_UNSUBSCRIBE_MEMBER}'


_CONFIRMATION_SIGNED_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def confirmation_text(members: Mapping[str, str], cert_url: str) -> str:
    """A SubscriptionConfirmation (``Type`` to ``SignatureVersion``) with its placeholder
    Signature and SigningCertURL added, laid out as a notification is. The signature is a stand-in
    for SNS's RSA signature (base64 of a SHA-256 over SNS's string to sign, signature-sized), as
    the native head signs notifications: stable, but it verifies against no certificate."""
    to_sign = "".join(f"{key}\n{members[key]}\n" for key in _CONFIRMATION_SIGNED_KEYS if key in members)
    signature = base64.b64encode(hashlib.sha256(to_sign.encode("utf-8")).digest() * 8).decode("ascii")
    lines = [f"  {quote(key)} : {quote(value)}" for key, value in members.items()]
    lines.append(f'  "Signature" : {quote(signature)}')
    lines.append(f'  "SigningCertURL" : {quote(cert_url)}')
    return "{\n" + ",\n".join(lines) + "\n}"
