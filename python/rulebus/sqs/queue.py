"""An SQS queue: the API a caller holds, with SQS's limits, defaults, errors and digests.

Why the split with :mod:`rulebus.stores`: this module decides *what SQS would answer* (validation,
texts, result shapes, which attributes a receive shows) and asks the store to do each state change
atomically; it never knows which store it runs on. FIFO queues (docs/semantics.md,
'FIFO queues') are validated here (group and deduplication ids, no per-message delay) and
ordered, deduplicated and numbered by the store; dead-letter moves (docs/semantics.md,
'Dead-letter queues') happen inside the store's receive, and the checks a
RedrivePolicy needs against other queues are :func:`check_queue_attributes`.

Error codes are the legacy query codes boto3 surfaces as ``Error.Code`` (docs/semantics.md, 'Errors'), like
:mod:`rulebus.sqs.attributes` uses. Texts are SQS's; where AWS documents none, the
comment at the constant says where the text comes from.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from rulebus import validation
from rulebus._errors import AwsError, StoreLockedError, sqs_error
from rulebus.sqs.attributes import (
    _KWARG_NAMES,
    ATTRIBUTE_NAMES,
    FIFO_SUFFIX,
    QueueAttributes,
    _kwarg_to_aws,
    queue_arn,
    queue_url,
)
from rulebus.sqs.errors import queue_does_not_exist
from rulebus.sqs.message_attributes import (
    md5_of_message_attributes,
    md5_of_message_body,
    md5_of_trace_header,
    trace_header,
    validate_message_attributes,
)
from rulebus.stores.base import NotFound
from rulebus.stores.receipts import new_message_id, parse_receipt_handle
from rulebus.stores.records import (
    ChangeVisibilityResult,
    DeleteResult,
    InFlightLimitReached,
    QueueRecord,
    ReceivedMessage,
    StoredMessage,
)
from rulebus.stores.semantics import is_plain_body, plain_message, queue_name_from_arn

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["HeldMessage", "Message", "Queue", "SendResult", "check_queue_attributes"]

# --------------------------------------------------------------------------------------------
# Codes (the SQS API Reference's modeled shape names; the legacy query codes are in SQS_ERRORS).

INVALID_PARAMETER_VALUE = "InvalidParameterValue"
MISSING_PARAMETER = "MissingParameter"
INVALID_MESSAGE_CONTENTS = "InvalidMessageContents"
INVALID_ATTRIBUTE_NAME = "InvalidAttributeName"
RECEIPT_HANDLE_IS_INVALID = "ReceiptHandleIsInvalid"
PURGE_QUEUE_IN_PROGRESS = "PurgeQueueInProgress"
TOO_MANY_ENTRIES = "TooManyEntriesInBatchRequest"
EMPTY_BATCH = "EmptyBatchRequest"
IDS_NOT_DISTINCT = "BatchEntryIdsNotDistinct"
INVALID_BATCH_ENTRY_ID = "InvalidBatchEntryId"
BATCH_REQUEST_TOO_LONG = "BatchRequestTooLong"
OVER_LIMIT = "OverLimit"

# --------------------------------------------------------------------------------------------
# Limits (SQS API Reference; Amazon SQS Developer Guide, 'Amazon SQS message quotas').

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576
MAX_RECEIVE_MESSAGES = 10
MAX_WAIT_SECONDS = 20
MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_TIMEOUT = 43_200
PURGE_INTERVAL = 60.0
#: In-flight messages a standard queue allows before a short poll fails with OverLimit (Amazon
#: SQS Developer Guide, 'Amazon SQS message quotas': "approximately 120,000"). A module constant
#: so tests can lower it.
MAX_IN_FLIGHT_MESSAGES = 120_000
# AWS's OverLimit text as recorded in a query-protocol response (Cbsoftware/pressureNET-server#74,
# 2014; the report breaks the line after the first sentence). Not verified against today's JSON
# protocol.
_OVER_LIMIT_MESSAGE = (
    "Too many messages have been received without being deleted. "
    "Please delete your received messages or let them timeout before receiving more."
)
# Long polls re-check at least this often (real seconds), so that a delay or a visibility timeout
# that ends during the wait is seen even if nothing else changes.
_LONG_POLL_SLICE = 1.0
# How long a step of an asyncio long poll waits for another process's lock before it counts as
# finding nothing (and the poll awaits the store's change signal again).
_ASYNC_LOCK_WAIT = 0.05

_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
# The members of each batch entry shape (botocore's SQS model); others are refused.
_ENTRY_MEMBERS = {
    "SendMessageBatchRequestEntry": frozenset(
        (
            "Id",
            "MessageBody",
            "DelaySeconds",
            "MessageAttributes",
            "MessageSystemAttributes",
            "MessageDeduplicationId",
            "MessageGroupId",
        )
    ),
    "DeleteMessageBatchRequestEntry": frozenset(("Id", "ReceiptHandle")),
    "ChangeMessageVisibilityBatchRequestEntry": frozenset(("Id", "ReceiptHandle", "VisibilityTimeout")),
}
# Entry ids seen valid: callers reuse a few ("0".."9"), and a set lookup is cheaper than the regex.
_VALID_ENTRY_IDS: set[str] = set()
_INVALID_BODY_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_INVALID_ASCII_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # the same set, within ASCII

# The order of ReceiveMessage's MessageSystemAttributeNames (SQS API Reference). Those after the
# first four appear only on messages that carry them (FIFO, redriven, traced): asked for on other
# messages, they are not shown, as on AWS.
SYSTEM_ATTRIBUTE_NAMES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
# SendMessage: 1-128 characters, alphanumerics and punctuation, i.e. printable ASCII but the space.
_FIFO_ID = re.compile(r"[!-~]{1,128}")
_COUNT_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
_READ_ONLY_ATTRIBUTES = ("QueueArn", *_COUNT_ATTRIBUTES, "CreatedTimestamp", "LastModifiedTimestamp")


def _error(code: str, message: str) -> AwsError:
    return sqs_error(code, message)


def _visibility_error(outcome: ChangeVisibilityResult, receipt_handle: Any, timeout: Any) -> AwsError | None:
    """ChangeMessageVisibility's error for what the store found, or None when it changed."""
    if outcome is ChangeVisibilityResult.NOT_FOUND:
        return _out_of_range(
            "ReceiptHandle",
            receipt_handle,
            "Message does not exist or is not available for visibility timeout change.",
        )
    if outcome is ChangeVisibilityResult.BEYOND_LIMIT:
        # This text is not verified against AWS.
        return _out_of_range(
            "VisibilityTimeout",
            timeout,
            f"Total VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY_TIMEOUT} seconds]",
        )
    return None


def _out_of_range(parameter: str, value: Any, reason: str) -> AwsError:
    # "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: ..." (SQS's shape,
    # as recorded against AWS).
    return _error(
        INVALID_PARAMETER_VALUE, f"Value {value} for parameter {parameter} is invalid. Reason: {reason}"
    )


def _check_int(parameter: str, value: Any, low: int, high: int, reason: str) -> int:
    """Integer parameters: Python bools and floats are the wrong type (ParameterTypeError, also
    a TypeError), out of range is SQS's range error."""
    number = validation.integer(value, parameter, validation.SQS)
    if not low <= number <= high:
        raise _out_of_range(parameter, number, reason)
    return number


def _check_delay(value: Any) -> int:
    # Undocumented text; AWS's wording for the per-message DelaySeconds range.
    return _check_int("DelaySeconds", value, 0, MAX_DELAY_SECONDS, "Must be >= 0 and <= 900, if provided.")


def _not_for_this_queue_type(parameter: str, value: Any) -> AwsError:
    # AWS's recorded text for DelaySeconds on FIFO; the same wording for other wrong-type parameters.
    return _out_of_range(
        parameter, value, "The request include parameter that is not valid for this queue type."
    )


def _check_fifo_id(parameter: str, given: Any) -> str:
    value = validation.text(given, parameter, validation.SQS)
    if not _FIFO_ID.fullmatch(value):
        raise _out_of_range(
            parameter,
            value,
            f"{parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length.",
        )
    return value


def _check_visibility(value: Any) -> int:
    # Undocumented text; the shape of SQS's text for WaitTimeSeconds.
    return _check_int(
        "VisibilityTimeout", value, 0, MAX_VISIBILITY_TIMEOUT, "Must be >= 0 and <= 43200, if provided."
    )


# --------------------------------------------------------------------------------------------
# Results.


@dataclass(frozen=True)
class SendResult:
    """SendMessage's answer. ``md5_of_message_attributes`` is None without attributes and
    ``md5_of_message_system_attributes`` without an AWSTraceHeader, as SQS then omits the field
    (SQS API Reference, SendMessage)."""

    message_id: str
    md5_of_message_body: str
    md5_of_message_attributes: str | None = None
    sequence_number: str | None = None  # FIFO queues only
    md5_of_message_system_attributes: str | None = None


class _ReceiveCall(NamedTuple):
    """A ReceiveMessage call that passed its checks, as each of its steps needs it."""

    max_messages: int
    wait: int  # seconds of long poll (0: a short poll)
    visibility_timeout: int
    attempt: str | None  # a FIFO queue's ReceiveRequestAttemptId
    limit: int | None  # the in-flight limit of a standard queue
    system_names: tuple[str, ...]
    message_attribute_names: Sequence[str] | None


@dataclass(frozen=True)
class Message:
    """One received message. ``attributes`` holds the system attributes asked for (timestamps in
    epoch milliseconds, as strings), ``message_attributes`` the user attributes asked for, and
    ``md5_of_message_attributes`` their digest (None when none are returned), which SDKs check."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    md5_of_message_attributes: str | None = None

    # Hand-written (dataclass keeps it): the generated frozen __init__ sets each field through
    # object.__setattr__, a visible share of a receive's cost per message.
    def __init__(
        self,
        message_id: str,
        receipt_handle: str,
        body: str,
        md5_of_body: str,
        attributes: dict[str, str],
        message_attributes: dict[str, dict[str, Any]],
        md5_of_message_attributes: str | None = None,
    ) -> None:
        object.__setattr__(
            self,
            "__dict__",
            {
                "message_id": message_id,
                "receipt_handle": receipt_handle,
                "body": body,
                "md5_of_body": md5_of_body,
                "attributes": attributes,
                "message_attributes": message_attributes,
                "md5_of_message_attributes": md5_of_message_attributes,
            },
        )


@dataclass(frozen=True)
class HeldMessage:
    """A message as :meth:`Queue.peek` shows it: what it holds and where it stands, with no
    receipt handle (nothing was received). ``state`` is ``"visible"``, ``"in flight"`` (received
    and hidden until ``visible_at``) or ``"delayed"`` (never received, hidden until
    ``visible_at``); ``attributes`` are the system attributes a receive asking for ``All`` would
    show, before that receive."""

    message_id: str
    body: str
    md5_of_body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    state: str
    visible_at: float


BatchResult = dict[str, list[dict[str, Any]]]


def _failure(entry_id: str, error: AwsError) -> dict[str, Any]:
    # The wire's BatchResultErrorEntry.Code is the legacy query code (the same for entry errors).
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault,
        "Code": error.query_code,
        "Message": error.message,
    }


def _check_batch(entries: Sequence[Mapping[str, Any]], entry_name: str) -> list[str]:
    """The request-level batch rules (SQS API Reference, SendMessageBatch), in the order SQS
    applies them; returns the ids."""
    validation.entries(entries, "Entries", validation.SQS, _ENTRY_MEMBERS[entry_name])
    if not entries:
        # Undocumented text; AWS's wording (as recorded by LocalStack).
        raise _error(EMPTY_BATCH, f"There should be at least one {entry_name} in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise _error(
            TOO_MANY_ENTRIES,
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {len(entries)}.",
        )
    ids: list[str] = []
    for entry in entries:
        entry_id = entry.get("Id")
        if type(entry_id) is str and entry_id in _VALID_ENTRY_IDS:
            pass
        elif not isinstance(entry_id, str) or not _BATCH_ENTRY_ID.fullmatch(entry_id):
            raise _error(
                INVALID_BATCH_ENTRY_ID,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long.",
            )
        elif len(_VALID_ENTRY_IDS) < 4096:
            _VALID_ENTRY_IDS.add(entry_id)
        if entry_id in ids:
            # Undocumented text; AWS's wording (as recorded by LocalStack).
            raise _error(IDS_NOT_DISTINCT, f"Id {entry_id} repeated.")
        ids.append(entry_id)
    return ids


def _message_size(body: str, attributes: Mapping[str, Mapping[str, Any]]) -> int:
    """What counts toward MaximumMessageSize: the body and each attribute's name, type and value
    (SQS API Reference, SendMessage), all in bytes."""
    size = len(body.encode("utf-8"))
    for name, attribute in attributes.items():
        value = attribute.get("BinaryValue")
        value_size = len(value) if value is not None else len(attribute["StringValue"].encode("utf-8"))
        size += len(name.encode("utf-8")) + len(attribute["DataType"].encode("utf-8")) + value_size
    return size


def _wants(names: Iterable[str] | None, name: str) -> bool:
    """Whether a MessageAttributeNames list selects ``name``: ``All``, ``.*``, the exact name, or a
    ``prefix.*`` covering it (SQS API Reference, ReceiveMessage)."""
    for pattern in names or ():
        if pattern in ("All", ".*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def _millis(seconds: float) -> str:
    return str(int(seconds * 1000))


def _system_attribute(stored: StoredMessage, name: str) -> str | None:
    """One system attribute of a received message as SQS shows it; None when the message has
    none of that name (the FIFO, redrive and trace ones)."""
    if name == "SenderId":
        return stored.sender_id
    if name == "SentTimestamp":
        return _millis(stored.sent_timestamp)
    if name == "ApproximateReceiveCount":
        return str(stored.receive_count)
    if name == "ApproximateFirstReceiveTimestamp":
        first = stored.first_receive_timestamp
        return _millis(first if first is not None else stored.sent_timestamp)
    if name == "SequenceNumber":
        return stored.sequence_number
    if name == "MessageDeduplicationId":
        return stored.message_deduplication_id
    if name == "MessageGroupId":
        return stored.message_group_id
    if name == "DeadLetterQueueSourceArn":
        return stored.dead_letter_source_arn
    if name == "AWSTraceHeader":
        return stored.aws_trace_header
    return None


class Queue:
    """One SQS standard queue, addressed by name through a :class:`~rulebus.broker.Broker`.

    The object holds no state of its own beyond its name: attributes and messages live in the
    broker's store, so several ``Queue`` objects (or processes) on one queue agree. ``context``
    is the broker's (see :mod:`rulebus.context`).
    """

    def __init__(self, context: Context, name: str) -> None:
        self.context = context
        self._store = context.store
        self._clock = context.clock
        self._account = context.account
        self._counters = context.counters
        # This queue's NumberOfMessagesSent... (rulebus.metrics), bound when it first counts: a
        # Queue object is made for any name, and a name that never did anything keeps no entry.
        self._counts: dict[str, int] | None = None
        self.name = name

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Queue) and other.context is self.context and other.name == self.name

    def __hash__(self) -> int:
        return hash((id(self.context), self.name))

    # ------------------------------------------------------------------ identity

    @property
    def arn(self) -> str:
        """``arn:aws:sqs:<region>:<account>:<name>``: what redrive policies and topics refer to."""
        return queue_arn(self.name, self.context.region, self._account)

    @property
    def url(self) -> str:
        """``https://sqs.<region>.amazonaws.com/<account>/<name>``, or the same path under the
        broker's ``endpoint_url`` when one serves it."""
        return queue_url(self.name, self.context.region, self._account, self.context.endpoint_url)

    def _now(self) -> float:
        return self._clock()

    @property
    def _fifo(self) -> bool:
        """Whether this is a FIFO queue, without a store read: only FIFO queues may have (and
        they must have) a ``.fifo`` name (SQS API Reference, CreateQueue), and a queue's type never
        changes."""
        return self.name.endswith(FIFO_SUFFIX)

    def _record(self) -> QueueRecord:
        record = self._store.queues.get_queue(self.name)
        if record is None:
            raise queue_does_not_exist()
        return record

    # ------------------------------------------------------------------ attributes

    def queue_attributes(self) -> QueueAttributes:
        """The queue's attributes as parsed (QueueDoesNotExist if it is gone): what
        :meth:`prepare_message` takes as ``attributes`` to spare a store read per message."""
        return self._record().attributes

    @property
    def attributes(self) -> dict[str, str]:
        """GetQueueAttributes with ``All``: the settable attributes plus the read-only ones."""
        return self.get_attributes(["All"])

    def get_attributes(self, attribute_names: Iterable[str] = ("All",)) -> dict[str, str]:
        """GetQueueAttributes: the named attributes (``All`` for every one; an empty list gives an
        empty map, as on AWS: SQS API Reference, GetQueueAttributes). Unknown names are
        InvalidAttributeName."""
        names = validation.string_list(attribute_names, "AttributeNames", validation.SQS)
        record = self._record()
        now = self._now()
        try:
            counts = self._store.queues.counts(self.name, now)
        except NotFound:
            raise queue_does_not_exist() from None
        everything = {
            "QueueArn": self.arn,
            "ApproximateNumberOfMessages": str(counts.visible),
            "ApproximateNumberOfMessagesNotVisible": str(counts.in_flight),
            "ApproximateNumberOfMessagesDelayed": str(counts.delayed),
            "CreatedTimestamp": str(int(record.created_timestamp)),
            "LastModifiedTimestamp": str(int(record.last_modified_timestamp)),
            **record.attributes.to_aws(),
        }
        if "All" in names:
            return everything
        shown: dict[str, str] = {}
        for name in names:
            if name not in ATTRIBUTE_NAMES and name not in _READ_ONLY_ATTRIBUTES:
                raise _error(INVALID_ATTRIBUTE_NAME, f"Unknown Attribute {name}.")
            if name in everything:
                shown[name] = everything[name]
        return shown

    def set_attributes(self, attributes: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        """SetQueueAttributes, with AWS's string map or the snake_case keywords of
        ``broker.queue(...)`` (or both). Changes apply immediately (AWS takes up to 60 s)."""
        validation.mapping(attributes, "Attributes", validation.SQS, required=False)
        changes: dict[str, str] = dict(attributes or {})
        for key, value in changes.items():
            validation.text(key, "Attributes", validation.SQS)
            validation.text(value, key, validation.SQS)
        for key, value in kwargs.items():
            if key not in _KWARG_NAMES:
                raise TypeError(f"unknown queue attribute keyword: {key!r}")
            changes[_KWARG_NAMES[key]] = _kwarg_to_aws(value) if value is not None else ""
        updated = self._record().attributes.updated(changes)
        check_queue_attributes(self.context, updated, self.name)
        try:
            self._store.queues.update_queue(self.name, updated, self._now())
        except NotFound:
            raise queue_does_not_exist() from None

    # ------------------------------------------------------------------ send

    def _prepare(
        self,
        attributes: QueueAttributes,
        body: Any,
        message_attributes: Mapping[str, Mapping[str, Any]] | None,
        delay_seconds: int | None,
        now: float,
        *,
        batch: bool,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        message_system_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> StoredMessage:
        """Validate one message as SendMessage does and build what the store keeps."""
        header = trace_header(message_system_attributes) if message_system_attributes is not None else None
        if body is None or body == "":
            raise _error(MISSING_PARAMETER, "The request must contain the parameter MessageBody.")
        if not isinstance(body, str):
            raise validation.SQS.wrong_type("MessageBody", body, "a string")
        # Printable ASCII is always allowed: two C scans spare most bodies the regex; ASCII with
        # line breaks (JSON laid out on lines, SNS envelopes) needs only the control-character one.
        if body.isascii():
            # str.replace and isprintable are C scans; the regex is several times slower.
            printable = body.isprintable() or body.replace("\n", " ").isprintable()
            bad = None if printable else _INVALID_ASCII_CHAR.search(body)
        else:
            bad = _INVALID_BODY_CHAR.search(body)
        if bad is not None:
            # Code from SQS API Reference, SendMessage; the text is AWS's wording as reported by users
            # (undocumented).
            raise _error(
                INVALID_MESSAGE_CONTENTS,
                f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, the set "
                "of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | "
                "#x10000 to #x10FFFF",
            )
        validated = validate_message_attributes(message_attributes) if message_attributes else {}
        limit = attributes.maximum_message_size
        size = _message_size(body, validated) if validated or not body.isascii() else len(body)
        if size > limit:
            # As recorded on AWS, single sends and batch entries word it differently.
            prefix = "cannot be validated" if batch else "are invalid"
            raise _error(
                INVALID_PARAMETER_VALUE,
                f"One or more parameters {prefix}. Reason: Message must be shorter than {limit} bytes.",
            )
        if attributes.fifo_queue:
            if delay_seconds is not None:
                raise _not_for_this_queue_type("DelaySeconds", delay_seconds)
            if message_group_id is None or message_group_id == "":
                # As recorded on AWS: MissingParameter for a single send, InvalidParameterValue in a batch.
                raise _error(
                    INVALID_PARAMETER_VALUE if batch else MISSING_PARAMETER,
                    "The request must contain the parameter MessageGroupId.",
                )
            _check_fifo_id("MessageGroupId", message_group_id)
            if message_deduplication_id is not None:
                _check_fifo_id("MessageDeduplicationId", message_deduplication_id)
            elif attributes.content_based_deduplication:
                message_deduplication_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
            else:
                raise _error(
                    INVALID_PARAMETER_VALUE,
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly",
                )
        else:
            if message_deduplication_id is not None:
                raise _not_for_this_queue_type("MessageDeduplicationId", message_deduplication_id)
            if message_group_id is not None:  # fair queues: accepted, no ordering
                _check_fifo_id("MessageGroupId", message_group_id)
        delay = attributes.delay_seconds if delay_seconds is None else _check_delay(delay_seconds)
        return StoredMessage(
            message_id=new_message_id(),
            body=body,
            md5_of_body=md5_of_message_body(body),
            message_attributes=validated,
            md5_of_message_attributes=md5_of_message_attributes(validated) if validated else None,
            sender_id=self._account,
            sent_timestamp=now,
            visible_at=now + delay,
            message_group_id=message_group_id,
            message_deduplication_id=message_deduplication_id,
            aws_trace_header=header,
        )

    def prepare_message(
        self,
        body: str,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        delay_seconds: int | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        message_system_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        attributes: QueueAttributes | None = None,
        now: float | None = None,
    ) -> StoredMessage:
        """Internal (for topics and buses, not a user API): SendMessage's validation and the
        message it would store, without storing it, so that one publish can reach many queues in
        one store call::

            batches = [(q.name, [q.prepare_message(body, attrs)]) for q in queues]
            stored = store.queues.put_messages_many(batches)  # one list per queue, in order

        Raises what :meth:`send` raises for a bad message (an AwsError, or TypeError). Pass the
        queue's ``attributes`` when already read, to spare a store read (QueueDoesNotExist comes
        from that read; ``put_messages_many`` raises NotFound), and ``now`` to stamp many alike."""
        if attributes is None:
            attributes = self._record().attributes
        if now is None:
            now = self._now()
        if (
            message_attributes is None
            and delay_seconds is None
            and message_group_id is None
            and message_deduplication_id is None
            and message_system_attributes is None
            and not attributes.fifo_queue
            and is_plain_body(body, attributes.maximum_message_size)
        ):
            # What topics and buses usually deliver (ASCII JSON, perhaps on lines), built without
            # _prepare's checks, as send_batch does for its usual entry.
            return plain_message(body, self._account, now, now + attributes.delay_seconds)
        return self._prepare(
            attributes,
            body,
            message_attributes,
            delay_seconds,
            now,
            batch=False,
            message_group_id=message_group_id,
            message_deduplication_id=message_deduplication_id,
            message_system_attributes=message_system_attributes,
        )

    def send(
        self,
        body: str,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        delay_seconds: int | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        message_system_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> SendResult:
        """SendMessage. ``delay_seconds`` (0-900) overrides the queue's DelaySeconds (standard
        queues only). FIFO queues need ``message_group_id`` and a ``message_deduplication_id``
        unless ContentBasedDeduplication is on; a duplicate within 5 minutes answers with the
        first message's id and sequence number and is not enqueued again (SQS API Reference, SendMessage).
        ``message_system_attributes`` is AWS's shape, ``{"AWSTraceHeader": {"DataType": "String",
        "StringValue": "Root=..."}}``: the header is kept with the message and returned by a
        receive asking for ``AWSTraceHeader`` (or ``All``)."""
        validation.mapping(message_attributes, "MessageAttributes", validation.SQS, required=False)
        message = self.prepare_message(
            body,
            message_attributes,
            delay_seconds,
            message_group_id,
            message_deduplication_id,
            message_system_attributes,
        )
        try:
            (stored,) = self._store.queues.put_messages(self.name, [message])
        except NotFound:
            raise queue_does_not_exist() from None
        counts = self._counts
        if counts is None:
            counts = self._counted()
        counts["NumberOfMessagesSent"] += 1
        # The digest of what this request sent, even when a FIFO duplicate answers with the first
        # message's id.
        header = message.aws_trace_header
        return SendResult(
            stored.message_id,
            stored.md5_of_body,
            stored.md5_of_message_attributes,
            stored.sequence_number,
            md5_of_trace_header(header) if header is not None else None,
        )

    def send_batch(self, entries: Sequence[Mapping[str, Any]]) -> BatchResult:
        """SendMessageBatch: 1-10 entries ``{"Id", "MessageBody", "DelaySeconds"?,
        "MessageAttributes"?, "MessageSystemAttributes"?, "MessageGroupId"?,
        "MessageDeduplicationId"?}`` (as :meth:`send` takes them); returns ``{"Successful": [...],
        "Failed": [...]}`` as AWS does, with a bad entry failing alone. The whole request is
        refused when it breaks a batch rule."""
        ids = _check_batch(entries, "SendMessageBatchRequestEntry")
        total = 0
        for entry in entries:
            body = entry.get("MessageBody")
            if isinstance(body, str):
                # surrogatepass: a body with a lone surrogate is counted, then refused alone.
                total += len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))
        if total > MAX_BATCH_BYTES:
            raise _error(
                BATCH_REQUEST_TOO_LONG,
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes.",
            )
        now = self._now()
        if all(len(entry) == 2 for entry in entries):
            # The usual request: each entry an Id and a body. When every body is plain and the
            # queue a standard one, the store takes them in one step (put_plain_batch), as the
            # loop below would have; otherwise it stores nothing, and the loop decides.
            bodies = [entry.get("MessageBody") for entry in entries]
            try:
                digests = self._store.queues.put_plain_batch(self.name, bodies, self._account, now)
            except NotFound:
                raise queue_does_not_exist() from None
            if digests is not None:
                self._counters.sqs_add(self.name, "NumberOfMessagesSent", len(digests))
                successful = [
                    {"Id": entry_id, "MessageId": message_id, "MD5OfMessageBody": md5}
                    for entry_id, (message_id, md5) in zip(ids, digests)
                ]
                return {"Successful": successful, "Failed": []}
        attributes = self._record().attributes
        accepted: list[tuple[str, StoredMessage]] = []
        failed: list[dict[str, Any]] = []
        # The usual entry (an Id and a body of printable ASCII within the size limit, on a
        # standard queue) passes every check of _prepare: built here without them.
        plain = not attributes.fifo_queue
        limit = attributes.maximum_message_size
        visible_at = now + attributes.delay_seconds
        sender = self._account
        for entry_id, entry in zip(ids, entries):
            body = entry.get("MessageBody")
            if plain and len(entry) == 2 and is_plain_body(body, limit):
                accepted.append((entry_id, plain_message(body, sender, now, visible_at)))
                continue
            try:
                message = self._prepare(
                    attributes,
                    entry.get("MessageBody"),
                    entry.get("MessageAttributes"),
                    entry.get("DelaySeconds"),
                    now,
                    batch=True,
                    message_group_id=entry.get("MessageGroupId"),
                    message_deduplication_id=entry.get("MessageDeduplicationId"),
                    message_system_attributes=entry.get("MessageSystemAttributes"),
                )
            except AwsError as error:
                failed.append(_failure(entry_id, error))
                continue
            accepted.append((entry_id, message))
        try:
            stored = (
                self._store.queues.put_messages(self.name, [message for _, message in accepted])
                if accepted
                else []
            )
        except NotFound:
            raise queue_does_not_exist() from None
        if stored:
            self._counters.sqs_add(self.name, "NumberOfMessagesSent", len(stored))
        successful = []
        for (entry_id, sent), message in zip(accepted, stored):
            result: dict[str, Any] = {
                "Id": entry_id,
                "MessageId": message.message_id,
                "MD5OfMessageBody": message.md5_of_body,
            }
            if message.md5_of_message_attributes is not None:
                result["MD5OfMessageAttributes"] = message.md5_of_message_attributes
            if sent.aws_trace_header is not None:  # this entry's, as send's
                result["MD5OfMessageSystemAttributes"] = md5_of_trace_header(sent.aws_trace_header)
            if message.sequence_number is not None:
                result["SequenceNumber"] = message.sequence_number
            successful.append(result)
        return {"Successful": successful, "Failed": failed}

    # ------------------------------------------------------------------ receive

    def receive(
        self,
        max_messages: int = 1,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        attribute_names: Sequence[str] | None = None,
        message_attribute_names: Sequence[str] | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """ReceiveMessage: up to ``max_messages`` (1-10) messages, oldest first.

        With a wait (``wait_seconds`` 0-20, else the queue's ReceiveMessageWaitTimeSeconds) the
        call returns as soon as at least one message is available, and empty only when the wait
        ends (Amazon SQS Developer Guide, 'Amazon SQS short and long polling'). Unlike AWS's short
        poll, which samples servers, an empty result here means there really was no visible
        message. On a clock with a ``sleep`` method (a test's fake clock) the wait passes on
        that clock instead of in real time (docs/semantics.md, section 1.1).
        ``attribute_names`` selects system attributes (``All`` or names),
        ``message_attribute_names`` user attributes.

        ``receive_request_attempt_id`` (FIFO queues; ignored on standard ones, where AWS documents
        it as not applying): retried within 5 minutes, a receive with the same id returns the same
        messages with the same receipt handles, hidden again for the visibility timeout, unless
        one of them was modified in between (deleted, or its visibility changed): then it is an
        ordinary receive. A standard queue with :data:`MAX_IN_FLIGHT_MESSAGES` in flight refuses
        a short poll with OverLimit and returns nothing to a long poll.
        """
        call = self._receive_call(
            max_messages,
            wait_seconds,
            visibility_timeout,
            attribute_names,
            message_attribute_names,
            receive_request_attempt_id,
        )
        if not call.wait:  # a short poll: one step
            return self._received(call, self._receive_step(call, 0.0))
        poll = self._poll(call, lock_wait=None)
        try:
            while True:
                self._store.wait(*next(poll))
        except StopIteration as done:
            return self._received(call, done.value)

    async def receive_async(
        self,
        max_messages: int = 1,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        attribute_names: Sequence[str] | None = None,
        message_attribute_names: Sequence[str] | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """:meth:`receive` for asyncio: a long poll awaits the store's change signal instead of
        holding a thread, so one event loop serves any number of waiting receives. Each step
        waits at most :data:`_ASYNC_LOCK_WAIT` for another process's lock (then finds nothing
        and awaits again), so the loop is never held for long."""
        call = self._receive_call(
            max_messages,
            wait_seconds,
            visibility_timeout,
            attribute_names,
            message_attribute_names,
            receive_request_attempt_id,
        )
        if not call.wait:
            return self._received(call, self._receive_step(call, 0.0))
        poll = self._poll(call, lock_wait=_ASYNC_LOCK_WAIT)
        try:
            while True:
                await self._store.wait_async(*next(poll))
        except StopIteration as done:
            return self._received(call, done.value)

    def _receive_call(
        self,
        max_messages: int,
        wait_seconds: int | None,
        visibility_timeout: int | None,
        attribute_names: Sequence[str] | None,
        message_attribute_names: Sequence[str] | None,
        receive_request_attempt_id: str | None,
    ) -> _ReceiveCall:
        """ReceiveMessage's checks, and what its steps need."""
        _check_int(
            "MaxNumberOfMessages",
            max_messages,
            1,
            MAX_RECEIVE_MESSAGES,
            "Must be between 1 and 10, if provided.",
        )
        if wait_seconds is not None:
            _check_int(
                "WaitTimeSeconds", wait_seconds, 0, MAX_WAIT_SECONDS, "Must be >= 0 and <= 20, if provided."
            )
        if visibility_timeout is not None:
            _check_visibility(visibility_timeout)
        if attribute_names is not None:
            validation.string_list(attribute_names, "AttributeNames", validation.SQS)
        if message_attribute_names is not None:
            validation.string_list(message_attribute_names, "MessageAttributeNames", validation.SQS)
        validation.text(receive_request_attempt_id, "ReceiveRequestAttemptId", validation.SQS, required=False)
        system_names = self._system_attribute_names(attribute_names)
        attributes = self._record().attributes
        wait = attributes.receive_message_wait_time_seconds if wait_seconds is None else wait_seconds
        timeout = attributes.visibility_timeout if visibility_timeout is None else visibility_timeout
        attempt = None
        if attributes.fifo_queue and receive_request_attempt_id is not None:
            # Undocumented text: MessageGroupId's, whose alphabet and length the API reference
            # gives ReceiveRequestAttemptId too (unverified against AWS).
            attempt = _check_fifo_id("ReceiveRequestAttemptId", receive_request_attempt_id)

        # The in-flight limit (MAX_IN_FLIGHT_MESSAGES) applies to standard queues; the store checks it in the
        # receive: at the limit a short poll is refused and a long poll finds nothing.
        limit = None if attributes.fifo_queue else MAX_IN_FLIGHT_MESSAGES
        return _ReceiveCall(
            max_messages, wait, timeout, attempt, limit, system_names, message_attribute_names
        )

    def _poll(
        self, call: _ReceiveCall, lock_wait: float | None
    ) -> Generator[tuple[int, float], None, list[ReceivedMessage]]:
        """A long poll's steps, shared by :meth:`receive` and :meth:`receive_async`: yields
        ``(since, timeout)`` whenever the poll should wait on the store's change signal (the
        caller waits, blocking or awaiting), and returns what it received. Each step waits for
        another process's lock at most ``lock_wait`` (None: what is left of the poll)."""
        wait = call.wait
        clock_sleep = self._clock_sleep()
        if clock_sleep is not None:
            return self._receive_on_clock(call, clock_sleep)
        deadline = time.monotonic() + wait
        remaining = float(wait)
        while True:
            since = self._store.version()
            received = self._receive_step(call, remaining if lock_wait is None else min(remaining, lock_wait))
            remaining = deadline - time.monotonic()
            if received or remaining <= 0:
                return received
            yield since, min(remaining, _LONG_POLL_SLICE)

    def _clock_sleep(self) -> Callable[[float], object] | None:
        """The broker clock's ``sleep``, if it has one: a fake clock that moves when slept on."""
        clock_sleep = getattr(self._clock, "sleep", None)
        return clock_sleep if callable(clock_sleep) else None

    def _receive_on_clock(
        self, call: _ReceiveCall, clock_sleep: Callable[[float], object]
    ) -> list[ReceivedMessage]:
        """A long poll on a clock that has ``sleep`` (a test's fake clock): the wait passes on
        that clock, a second at a time, so that a delayed message or one whose visibility ends
        within the wait is received when it would be on AWS, and an empty poll ends at once in
        real time, its wait spent on the clock."""
        deadline = self._now() + call.wait
        while True:
            received = self._receive_step(call, _ASYNC_LOCK_WAIT)
            remaining = deadline - self._now()
            if received or remaining <= 0:
                return received
            clock_sleep(min(remaining, 1.0))

    def _receive_step(self, call: _ReceiveCall, lock_wait: float) -> list[ReceivedMessage]:
        """One look for visible messages (taking them); empty when a long poll should wait on."""
        wait = call.wait
        try:
            # A long poll waits for another process's lock no longer than ``lock_wait``: then it
            # finds nothing, as if nothing had arrived. A short poll waits the store's busy
            # timeout, then raises StoreLockedError.
            with self._store.lock_wait(lock_wait) if wait else contextlib.nullcontext():
                return self._store.queues.receive(
                    self.name,
                    call.max_messages,
                    self._now(),
                    call.visibility_timeout,
                    call.attempt,
                    call.limit,
                )
        except InFlightLimitReached:
            if not wait:
                raise _error(OVER_LIMIT, _OVER_LIMIT_MESSAGE) from None
            return []
        except StoreLockedError:
            if not wait:
                raise
            return []
        except NotFound:
            raise queue_does_not_exist() from None

    def _received(self, call: _ReceiveCall, received: list[ReceivedMessage]) -> list[Message]:
        """ReceiveMessage's answer: the messages with the attributes the call asked for."""
        counts = self._counts
        if counts is None:
            counts = self._counted()
        if received:
            counts["NumberOfMessagesReceived"] += len(received)
        else:
            counts["NumberOfEmptyReceives"] += 1
        system_names, message_attribute_names = call.system_names, call.message_attribute_names
        if not system_names and not message_attribute_names:
            # The usual receive asks for no attributes: nothing to choose per message.
            return [
                Message(m.message_id, r.receipt_handle, m.body, m.md5_of_body, {}, {})
                for r in received
                for m in (r.message,)
            ]
        return [
            self._message(r.message, r.receipt_handle, system_names, message_attribute_names)
            for r in received
        ]

    @staticmethod
    def _system_attribute_names(names: Sequence[str] | None) -> tuple[str, ...]:
        if not names:
            return ()
        if "All" in names:
            return SYSTEM_ATTRIBUTE_NAMES
        for name in names:
            if name not in SYSTEM_ATTRIBUTE_NAMES:
                # Undocumented text; the "Unknown Attribute" wording SQS uses elsewhere (SetQueueAttributes).
                raise _error(INVALID_ATTRIBUTE_NAME, f"Unknown Attribute {name}.")
        return tuple(name for name in SYSTEM_ATTRIBUTE_NAMES if name in names)

    @staticmethod
    def _message(
        stored: StoredMessage,
        receipt_handle: str,
        system_names: Sequence[str],
        message_attribute_names: Sequence[str] | None,
    ) -> Message:
        # Built per message received: nothing is computed that was not asked for.
        shown: dict[str, str] = {}
        for name in system_names:
            value = _system_attribute(stored, name)
            if value is not None:
                shown[name] = value
        chosen: dict[str, dict[str, Any]] = {}
        digest = None
        if stored.message_attributes and message_attribute_names:
            chosen = {
                name: dict(attribute)
                for name, attribute in stored.message_attributes.items()
                if _wants(message_attribute_names, name)
            }
            # The digest covers what is returned: SDKs recompute it over the returned attributes.
            if len(chosen) == len(stored.message_attributes):
                digest = stored.md5_of_message_attributes
            elif chosen:
                digest = md5_of_message_attributes(chosen)
        return Message(
            message_id=stored.message_id,
            receipt_handle=receipt_handle,
            body=stored.body,
            md5_of_body=stored.md5_of_body,
            attributes=shown,
            message_attributes=chosen,
            md5_of_message_attributes=digest,
        )

    # ------------------------------------------------------------------ delete / visibility

    def _message_id(self, receipt_handle: str) -> str:
        validation.text(receipt_handle, "ReceiptHandle", validation.SQS)
        parsed = parse_receipt_handle(receipt_handle)
        # A handle minted for another queue is as invalid here as garbage (SQS's text for garbage).
        if parsed is None or parsed[0] != self.name:
            raise _error(
                RECEIPT_HANDLE_IS_INVALID,
                f'The input receipt handle "{receipt_handle}" is not a valid receipt handle.',
            )
        return parsed[1]

    def delete(self, receipt_handle: str) -> None:
        """DeleteMessage. On a standard queue any handle the message was ever received with works,
        even after its visibility timeout ended or once the message is gone; on a FIFO queue the
        handle expires with the message's visibility (SQS API Reference, DeleteMessage)."""
        message_id = self._message_id(receipt_handle)
        in_flight_at = self._now() if self._fifo else None
        try:
            result = self._store.queues.delete_message(self.name, message_id, in_flight_at)
        except NotFound:
            raise queue_does_not_exist() from None
        if result is DeleteResult.EXPIRED:
            raise _out_of_range("ReceiptHandle", receipt_handle, "The receipt handle has expired.")
        counts = self._counts
        if counts is None:
            counts = self._counted()
        counts["NumberOfMessagesDeleted"] += 1

    def _counted(self) -> dict[str, int]:
        """This queue's counters, bound the first time it counts (see ``__init__``)."""
        counts = self._counts = self._counters.sqs_counts(self.name)
        return counts

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        """ChangeMessageVisibility: the message becomes visible ``timeout`` seconds from *now*
        (0 = at once), even if its visibility had already expired (SQS API Reference,
        ChangeMessageVisibility)."""
        message_id = self._message_id(receipt_handle)
        _check_visibility(timeout)
        try:
            outcome = self._store.queues.change_visibility(self.name, message_id, self._now(), timeout)
        except NotFound:
            raise queue_does_not_exist() from None
        error = _visibility_error(outcome, receipt_handle, timeout)
        if error is not None:
            raise error

    def delete_batch(self, entries: Sequence[Mapping[str, Any]]) -> BatchResult:
        """DeleteMessageBatch: ``[{"Id", "ReceiptHandle"}]``, AWS's Successful/Failed shape.
        Answers as :meth:`delete` entry by entry would, in one store call."""
        ids = _check_batch(entries, "DeleteMessageBatchRequestEntry")
        # Per entry: the handle, and its message id or the error that fails the entry.
        plan: list[tuple[str, Any, str | AwsError]] = []
        message_ids: list[str] = []
        name = self.name
        for entry_id, entry in zip(ids, entries):
            handle = entry.get("ReceiptHandle", "")
            parsed = parse_receipt_handle(handle)
            if parsed is not None and parsed[0] == name:  # else _message_id words the error
                message_ids.append(parsed[1])
                plan.append((entry_id, handle, parsed[1]))
                continue
            try:
                plan.append((entry_id, handle, self._message_id(handle)))
            except AwsError as error:
                plan.append((entry_id, handle, error))
        outcomes: Iterator[DeleteResult] = iter(())
        if message_ids:
            in_flight_at = self._now() if self._fifo else None
            try:
                results = self._store.queues.delete_messages(name, message_ids, in_flight_at)
            except NotFound:
                raise queue_does_not_exist() from None
            if len(plan) == len(results) and DeleteResult.EXPIRED not in results:
                self._counters.sqs_add(name, "NumberOfMessagesDeleted", len(results))
                return {"Successful": [{"Id": entry_id} for entry_id in ids], "Failed": []}
            outcomes = iter(results)
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry_id, handle, target in plan:
            if isinstance(target, str) and next(outcomes) is DeleteResult.EXPIRED:
                target = _out_of_range("ReceiptHandle", handle, "The receipt handle has expired.")
            if isinstance(target, AwsError):
                failed.append(_failure(entry_id, target))
            else:
                successful.append({"Id": entry_id})
        if successful:
            self._counters.sqs_add(name, "NumberOfMessagesDeleted", len(successful))
        return {"Successful": successful, "Failed": failed}

    def change_visibility_batch(self, entries: Sequence[Mapping[str, Any]]) -> BatchResult:
        """ChangeMessageVisibilityBatch: ``[{"Id", "ReceiptHandle", "VisibilityTimeout"}]``.
        Answers as :meth:`change_visibility` entry by entry would, in one store call."""
        ids = _check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")
        plan: list[tuple[str, Any, Any, AwsError | None]] = []
        changes: list[tuple[str, float]] = []
        try:
            for entry_id, entry in zip(ids, entries):
                handle = entry.get("ReceiptHandle", "")
                timeout = entry.get("VisibilityTimeout", 0)
                try:
                    message_id = self._message_id(handle)
                    _check_visibility(timeout)
                except AwsError as error:
                    plan.append((entry_id, handle, timeout, error))
                    continue
                plan.append((entry_id, handle, timeout, None))
                changes.append((message_id, timeout))
        except BaseException:
            # A programming error (a timeout that is no int) stops the batch where it is, as
            # when entries ran one by one: the entries before it still take effect.
            if changes:
                with contextlib.suppress(NotFound):
                    self._store.queues.change_visibilities(self.name, changes, self._now())
            raise
        try:
            outcomes = iter(
                self._store.queues.change_visibilities(self.name, changes, self._now()) if changes else ()
            )
        except NotFound:
            raise queue_does_not_exist() from None
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry_id, handle, timeout, refused in plan:
            if refused is None:
                refused = _visibility_error(next(outcomes), handle, timeout)
            if refused is not None:
                failed.append(_failure(entry_id, refused))
            else:
                successful.append({"Id": entry_id})
        return {"Successful": successful, "Failed": failed}

    # ------------------------------------------------------------------ dead-letter queues

    def dead_letter_source_queues(self) -> list[Queue]:
        """ListDeadLetterSourceQueues: the queues whose RedrivePolicy targets this one, by name."""
        sources = []
        for name in self._store.queues.queue_names():
            record = self._store.queues.get_queue(name)
            policy = record.attributes.redrive_policy if record is not None else None
            if policy is not None and policy.dead_letter_target_arn == self.arn:
                sources.append(Queue(self.context, name))
        return sources

    # ------------------------------------------------------------------ peek

    def peek(self, max_messages: int = 10) -> list[HeldMessage]:
        """The first ``max_messages`` (at least 1) messages the queue holds, visible, in flight
        and delayed alike, in send order, without receiving them: no receive is counted, no
        visibility changes, so consumers see exactly what they would have. SQS has no such action
        (the console's "poll for messages" receives); this is for looking at a queue, in a
        console or a test. QueueDoesNotExist if the queue is gone."""
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        now = self._now()
        try:
            stored = self._store.queues.peek(self.name, now, max_messages)
        except NotFound:
            raise queue_does_not_exist() from None
        held = []
        for message in stored:
            if message.visible_at <= now:
                state = "visible"
            else:
                state = "in flight" if message.receive_count > 0 else "delayed"
            attributes = {}
            for name in SYSTEM_ATTRIBUTE_NAMES:
                value = _system_attribute(message, name)
                if value is not None:
                    attributes[name] = value
            if message.receive_count == 0:
                del attributes["ApproximateFirstReceiveTimestamp"]  # never received: none yet
            held.append(
                HeldMessage(
                    message.message_id,
                    message.body,
                    message.md5_of_body,
                    attributes,
                    dict(message.message_attributes),
                    state,
                    message.visible_at,
                )
            )
        return held

    # ------------------------------------------------------------------ purge

    def purge(self) -> None:
        """PurgeQueue: delete every message, in flight or not; at most once per 60 s
        (SQS API Reference, PurgeQueue)."""
        try:
            purged = self._store.queues.purge(self.name, self._now(), PURGE_INTERVAL)
        except NotFound:
            raise queue_does_not_exist() from None
        if not purged:
            raise _error(
                PURGE_QUEUE_IN_PROGRESS,
                f"Only one PurgeQueue operation on {self.name} is allowed every 60 seconds.",
            )


# --------------------------------------------------------------------------------------------
# Checks against other queues.


def check_queue_attributes(context: Context, attributes: QueueAttributes, name: str | None = None) -> None:
    """What CreateQueue and SetQueueAttributes check beyond the attributes themselves (those are
    :class:`~rulebus.sqs.attributes.QueueAttributes`' job): a RedrivePolicy's target must be a
    queue of this broker (same region and account, and existing) and, when ``name`` (the source
    queue) is known, its RedriveAllowPolicy must admit the source. The same-type rule is already
    enforced when the policy is parsed, since an ARN tells a FIFO queue by its name."""
    policy = attributes.redrive_policy
    if policy is None:
        return
    arn = policy.dead_letter_target_arn
    target_name = queue_name_from_arn(arn)
    target = context.store.queues.get_queue(target_name)
    if target is None or arn != queue_arn(target_name, context.region, context.account):
        raise _error(
            INVALID_PARAMETER_VALUE,
            f"Value {policy.to_aws()} for parameter RedrivePolicy is invalid. "
            "Reason: Dead letter target does not exist.",
        )
    allow = target.attributes.redrive_allow_policy
    if (
        name is not None
        and allow is not None
        and not allow.allows(queue_arn(name, context.region, context.account))
    ):
        # Undocumented by AWS; the wording an emulator (goaws-style) records for a refusing target.
        raise _error(
            INVALID_PARAMETER_VALUE,
            f"Value {arn} for parameter RedrivePolicy is invalid. "
            f"Reason: Queue {arn} does not allow this queue to use it as a dead letter queue.",
        )
