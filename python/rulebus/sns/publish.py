"""Publish and PublishBatch requests: their checks and limits, and a publish as it is delivered.

Texts are SNS's (Amazon SNS API Reference, "Publish" and "PublishBatch") unless a comment at the
text says otherwise.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from rulebus import _jsontext as jsontext
from rulebus import validation
from rulebus.sns.attributes import check_fifo_id
from rulebus.sns.errors import (
    BATCH_REQUEST_TOO_LONG,
    EMPTY_BATCH,
    IDS_NOT_DISTINCT,
    INVALID_BATCH_ENTRY_ID,
    TOO_MANY_ENTRIES,
    invalid,
)
from rulebus.sns.message_attributes import attributes_size, plain_attributes, validate_sns_message_attributes

__all__ = [
    "MAX_BATCH_ENTRIES",
    "MAX_MESSAGE_BYTES",
    "Prepared",
    "PublishResult",
    "batch_entry_ids",
    "prepare",
]

#: Message (attributes included) and a whole batch: 256 KB (SNS API Reference, Publish, PublishBatch).
MAX_MESSAGE_BYTES = 262_144
MAX_BATCH_ENTRIES = 10
MAX_SUBJECT_LENGTH = 99  # "must be less than 100 characters"

_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
# Every id of a batch joined by spaces, each one plain and at most 80 characters: the usual batch
# checked in one match (batch_entry_ids's fallback finds which id is wrong otherwise).
_PLAIN_BATCH_IDS = re.compile(r"[A-Za-z0-9_-]{1,80}(?: [A-Za-z0-9_-]{1,80})*")
# The members of PublishBatchRequestEntry (botocore's SNS model).
_PUBLISH_BATCH_ENTRY = frozenset(
    (
        "Id",
        "Message",
        "Subject",
        "MessageStructure",
        "MessageAttributes",
        "MessageDeduplicationId",
        "MessageGroupId",
    )
)
_CONTROL_CHAR = re.compile("[\x00-\x1f\x7f]")


class PublishResult(NamedTuple):
    """Publish's answer: the message's id (a UUID) and, on a FIFO topic, its SequenceNumber.
    A named tuple, not a frozen dataclass: one is made per publish, and it costs half as much."""

    message_id: str
    sequence_number: str | None = None


@dataclass
class Prepared:
    """A publish that passed its checks, as it is delivered."""

    message: str
    subject: str | None
    attributes: dict[str, dict[str, Any]]
    per_protocol: dict[str, str] | None  # MessageStructure=json: the parsed object's string entries
    group_id: str | None = None
    deduplication_id: str | None = None  # FIFO topics: explicit, or the body's SHA-256
    attributes_key: tuple[Any, ...] | None = None  # see plain_attributes; None: not made yet

    def message_for(self, protocol: str) -> str:
        """The message a subscription of this protocol receives (MessageStructure=json: its
        protocol's entry, else ``default``)."""
        if self.per_protocol is None:
            return self.message
        return self.per_protocol.get(protocol, self.per_protocol["default"])

    @property
    def sent_attributes(self) -> dict[str, dict[str, Any]]:
        """The message attributes subscribers receive: none with MessageStructure=json
        (SNS API Reference, Publish)."""
        return self.attributes if self.per_protocol is None else {}


def prepare(
    fifo: bool,
    content_based_deduplication: bool,
    message: Any,
    subject: str | None,
    message_attributes: Mapping[str, Mapping[str, Any]] | None,
    message_structure: str | None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
) -> Prepared:
    """Publish's checks of one message for a topic (FIFO or not, with or without
    ContentBasedDeduplication); raises SNS's error for the first that fails."""
    # The usual publish (an ASCII message, no other text parameter) passes these checks inline:
    # five calls cost a tenth of a batch entry's publish.
    if type(message) is not str or not message.isascii():
        validation.text(message, "Message", validation.SNS)
    if subject is not None or message_structure is not None:
        validation.text(subject, "Subject", validation.SNS, required=False)
        validation.text(message_structure, "MessageStructure", validation.SNS, required=False)
    if group_id is not None or deduplication_id is not None:
        validation.text(group_id, "MessageGroupId", validation.SNS, required=False)
        validation.text(deduplication_id, "MessageDeduplicationId", validation.SNS, required=False)
    if not message:
        raise invalid("Invalid parameter: Empty message")
    # Less than 100 characters, no line breaks or control characters, starting with a
    # letter, number or punctuation mark (AWS's Publish reference).
    if subject is not None and (
        not subject
        or len(subject) > MAX_SUBJECT_LENGTH
        or _CONTROL_CHAR.search(subject)
        or subject[0].isspace()
    ):
        raise invalid("Invalid parameter: Subject")
    plain = plain_attributes(message_attributes) if type(message_attributes) is dict else None
    if plain is not None:
        attributes, size, key = plain
    else:
        attributes = validate_sns_message_attributes(message_attributes)
        size, key = attributes_size(attributes), None
    message_size = len(message) if message.isascii() else len(message.encode("utf-8"))
    if message_size + size > MAX_MESSAGE_BYTES:
        raise invalid("Invalid parameter: Message too long")
    per_protocol: dict[str, str] | None = None
    if message_structure is not None:
        if message_structure != "json":
            # Our wording in SNS's style (AWS documents no text for this).
            raise invalid("Invalid parameter: MessageStructure")
        try:
            parsed = jsontext.loads(message)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
        if not isinstance(parsed.get("default"), str):
            raise invalid("Invalid parameter: Message Structure - No default entry in JSON message body")
        # Non-string values are ignored (SNS API Reference, Publish: MessageStructure).
        per_protocol = {key: value for key, value in parsed.items() if isinstance(value, str)}
    if not fifo:
        if deduplication_id is not None:
            raise invalid(
                "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                "MessageDeduplicationId parameter that is not valid for this topic type"
            )
        # Standard topics may carry MessageGroupId, for standard (fair) queues (SNS API Reference, Publish).
        if group_id is not None:
            check_fifo_id("MessageGroupId", group_id)
        return Prepared(message, subject, attributes, per_protocol, group_id, attributes_key=key)
    if group_id is None or group_id == "":
        raise invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    check_fifo_id("MessageGroupId", group_id)
    if deduplication_id is not None:
        check_fifo_id("MessageDeduplicationId", deduplication_id)
    elif content_based_deduplication:
        # SHA-256 of the body only (SNS API Reference, Publish): the Message as published.
        deduplication_id = hashlib.sha256(message.encode("utf-8")).hexdigest()
    else:
        raise invalid(
            "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly"
        )
    return Prepared(message, subject, attributes, per_protocol, group_id, deduplication_id)


def batch_entry_ids(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """PublishBatch's request-level checks (entry count, ids, total size); the entries' ids."""
    validation.entries(entries, "PublishBatchRequestEntries", validation.SNS, _PUBLISH_BATCH_ENTRY)
    if not entries:
        # LocalStack's wording (AWS's text is undocumented).
        raise invalid("The batch request doesn't contain any entries", EMPTY_BATCH)
    if len(entries) > MAX_BATCH_ENTRIES:
        raise invalid("The batch request contains more entries than permissible.", TOO_MANY_ENTRIES)
    ids: list[Any] = [entry.get("Id") for entry in entries]
    messages: list[Any] = [entry.get("Message") for entry in entries]
    # The usual batch (plain distinct ids, ASCII messages), in a few C-level passes: joining
    # fails on a non-str, and with as many spaces as separators (none inside an id) one match
    # checks every id.
    try:
        joined_ids, joined_messages = " ".join(ids), "".join(messages)
    except TypeError:
        joined_ids = joined_messages = ""
    if (
        _PLAIN_BATCH_IDS.fullmatch(joined_ids)
        and joined_ids.count(" ") == len(ids) - 1
        and joined_messages.isascii()
        and len(set(ids)) == len(ids)
        and len(joined_messages) <= MAX_MESSAGE_BYTES
    ):
        return ids
    return _checked_ids(entries)


def _checked_ids(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """batch_entry_ids's checks one entry at a time: the first that fails raises SNS's error."""
    ids: list[str] = []
    total = 0  # the messages' UTF-8 bytes
    for entry in entries:
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not _BATCH_ENTRY_ID.fullmatch(entry_id):
            raise invalid(
                "The Id of a batch entry in the batch request contains an impermissible character: "
                f"{entry_id}",
                INVALID_BATCH_ENTRY_ID,
            )
        if len(entry_id) > 80:
            raise invalid(
                f"The Id of a batch entry in the batch request is too long: {entry_id}",
                INVALID_BATCH_ENTRY_ID,
            )
        if entry_id in ids:
            # LocalStack's wording (AWS's text is undocumented).
            raise invalid("Two or more batch entries in the request have the same Id.", IDS_NOT_DISTINCT)
        ids.append(entry_id)
        message = entry.get("Message")
        if isinstance(message, str):
            # surrogatepass: a message with a lone surrogate is counted, then refused alone.
            total += len(message) if message.isascii() else len(message.encode("utf-8", "surrogatepass"))
    if total > MAX_MESSAGE_BYTES:
        raise invalid(
            "The length of all the messages put together is more than the limit.", BATCH_REQUEST_TOO_LONG
        )
    return ids
