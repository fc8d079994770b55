"""The SNS notification envelope: what a subscriber receives unless raw delivery is on.

One writer, the native one (``rulebus._core``): ``sns_notification_head`` lays out a
notification up to its UnsubscribeURL (Jackson's pretty printer as SNS uses it: two-space indent,
``" : "`` separators, strings escaped as Python's ``json`` escapes them) with a stand-in
signature of the same size as SNS's (``rulebus.sns.signing`` swaps in a real one where a
subscriber verifies it: ``rulebus serve``'s HTTP/S deliveries), or, given a SequenceNumber,
writes a FIFO topic's (no signature members); ``sns_attributes_tail`` writes
what follows the UnsubscribeURL (the message attributes, one compact line each, and the closing
brace); ``sns_confirmation_text`` writes a SubscriptionConfirmation whole. The native fan-out
writes the same head when it stores a publish. This module only passes them values, joins a
publish's pieces with each subscription's UnsubscribeURL, and takes the dict a Python callable
receives from that text, so every path delivers the same bytes (Amazon SNS Developer Guide,
"Amazon SNS message and JSON formats").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from rulebus._core import sns_attributes_tail, sns_json_string, sns_notification_head

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = [
    "Envelope",
    "TopicSigning",
    "attributes_tail",
    "notification_attributes",
    "quote",
    "signing_cert_url",
    "timestamp",
]

#: A JSON string as the envelope writes it (non-ASCII kept, control characters escaped): the
#: native writer's escaping, so an UnsubscribeURL is written as the rest of the envelope is.
quote = sns_json_string

#: The tail of a notification without message attributes (what ``sns_attributes_tail([])`` writes).
_NO_ATTRIBUTES_TAIL = sns_attributes_tail([])


class TopicSigning(NamedTuple):
    """What every notification of a topic says about the topic (the native fan-out's ``topic``)."""

    arn: str
    signature_version: str
    signing_cert_url: str


def signing_cert_url(context: Context) -> str:
    """The SigningCertURL of a broker's messages: its signer's certificate where its server
    serves it, else a name at AWS's endpoint (no certificate there verifies them)."""
    signer = context.sns_signer
    if signer is not None and context.endpoint_url is not None:
        return signer.certificate_url(context.endpoint_url)
    return f"https://sns.{context.region}.amazonaws.com/SimpleNotificationService-rulebus0000000000000000000000.pem"


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
    attributes (written natively: the MessageAttributes member, if any, and the closing brace)."""
    if not attributes:
        return _NO_ATTRIBUTES_TAIL
    return sns_attributes_tail(
        [(name, attribute["DataType"], _native_value(attribute)) for name, attribute in attributes.items()]
    )


def _native_value(attribute: Mapping[str, Any]) -> str | bytes:
    """An attribute's value as ``sns_attributes_tail`` takes it: Binary as bytes (it writes them
    in base64), else the text."""
    binary = attribute.get("BinaryValue")
    return bytes(binary) if binary is not None else str(attribute["StringValue"])


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
            message_id,
            topic.arn,
            subject,
            message,
            sent_at,
            topic.signature_version,
            topic.signing_cert_url,
            sequence_number,
        )
        return cls(message_id, head, tail)

    def text(self, quoted_url: str) -> str:
        """The envelope of the subscription whose UnsubscribeURL is ``quoted_url`` (as JSON)."""
        return f"{self.head}{quoted_url}{self.tail}"

    def as_dict(self, quoted_url: str) -> dict[str, Any]:
        """The notification a Python callable receives: the text's members, in its order."""
        parsed: dict[str, Any] = json.loads(self.text(quoted_url))
        return parsed
