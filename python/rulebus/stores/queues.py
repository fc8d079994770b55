"""Where queue state lives: the ``Store`` interface and its memory and SQLite implementations.

The topic, bus, stream and idempotency halves of the interface live in their own modules
(``rulebus.stores.topics``, ``rulebus.stores.buses``...), as mixins these stores inherit.

Why an interface: DESIGN.md requires that no queue, topic or bus code know which store it runs on,
so that a distributed store can later plug in. The store therefore owns every *atomic* step of
SQS's state machine (a receive that hides messages and mints receipt handles, a purge that checks
its 60-second rule, a create-if-absent) while everything about *validation and AWS's texts* stays
in :mod:`rulebus.sqs.queue`. Times are always passed in (``now``, epoch seconds as float) so that the
broker's injectable clock is the only clock, and tests never sleep.

A message is *stored* (visible, or delayed when never received and ``visible_at`` is in the
future), *in flight* (received at least once and ``visible_at`` in the future) or gone (deleted,
purged, or past the queue's retention period, spec 1.6 and 1.2). Retention is applied lazily: an
expired message is never returned or counted, and is physically removed on the next receive.
FIFO queues (spec 1.9) add three things, all inside the same atomic steps: deduplication on send
(a record per deduplication id that outlives the message for 5 minutes), sequence numbers, and a
receive that serves messages in order per group and skips every group with a message in flight.
Dead-letter moves (spec 1.8) happen inside a receive too: a visible message already received
``maxReceiveCount`` times goes to the dead-letter queue instead of being returned, in the same
transaction, so it is delivered exactly ``maxReceiveCount`` times.

The memory store keeps each queue's messages in a native ``MemoryQueue`` (``rulebus._core``; the
ordering is ``rulebus_core::queue``): messages in send order, the visible ones by send order and
the hidden ones by deadline, so a receive takes the oldest visible in O(log n) whatever is hidden.
The SQS rules above stay here, in Python; the native queue is only where messages live, as
immutable ``StoredMessage`` objects (a fan-out's plain messages as native data until first read).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

from rulebus._core import (
    FanOut,
    MemoryQueue,
    StoredMessage,
    Tokens,
    put_notifications,
    put_plain_many,
    sns_notification_head,
)
from rulebus._errors import AwsError, sqs_error
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores.buses import BusStore, MemoryBusStore, SQLiteBusStore
from rulebus.stores.idempotency import IdempotencyStore, MemoryIdempotencyStore, SQLiteIdempotencyStore
from rulebus.stores.streams import MemoryStreamStore, SQLiteStreamStore, StreamStore
from rulebus.stores.topics import (
    MemoryTopicStore,
    SQLiteTopicStore,
    SubscriptionRecord,
    TopicRecord,
    TopicStore,
)

if TYPE_CHECKING:
    from typing import TypeGuard  # annotations only: Python 3.9 runs this module too

__all__ = [
    "ACTIVE_MOVE_TASK_STATUSES",
    "DEDUPLICATION_WINDOW",
    "MOVE_TASK_TARGET_MISSING",
    "QUEUE_DOES_NOT_EXIST",
    "RECEIVE_ATTEMPT_WINDOW",
    "ChangeVisibilityResult",
    "Clock",
    "MemoryStore",
    "MoveTaskRecord",
    "QueueCounts",
    "QueueRecord",
    "ReceivedMessage",
    "SQLiteStore",
    "Store",
    "StoredMessage",
    # Defined in rulebus.stores.topics; re-exported so that ``from rulebus.stores.queues import
    # SubscriptionRecord, TopicRecord`` keeps working.
    "SubscriptionRecord",
    "TopicRecord",
    "make_receipt_handle",
    "parse_receipt_handle",
    "queue_deleted_recently",
    "queue_does_not_exist",
    "queue_name_from_arn",
]

#: The broker's clock: epoch seconds as a float. ``time.time`` unless a test injects its own.
Clock = Callable[[], float]

#: CreateQueue too soon after DeleteQueue of that name (legacy code
#: AWS.SimpleQueueService.QueueDeletedRecently, spec 0 and 1.1).
QUEUE_DELETED_RECENTLY = "QueueDeletedRecently"

#: A missing queue's modeled error (legacy query code AWS.SimpleQueueService.NonExistentQueue, spec 0).
QUEUE_DOES_NOT_EXIST = "QueueDoesNotExist"

#: Visibility may be extended to at most 12 hours after the receive (spec 1.6).
MAX_TOTAL_VISIBILITY = 43_200

#: FIFO deduplication window in seconds (spec 1.9).
DEDUPLICATION_WINDOW = 300.0

#: How long a FIFO ReceiveRequestAttemptId can be retried after the receive it names (spec 1.5).
RECEIVE_ATTEMPT_WINDOW = 300.0

#: Message move task statuses (spec 1.8) under which the source has an active task.
ACTIVE_MOVE_TASK_STATUSES = ("RUNNING", "CANCELLING")

#: A move task's FailureReason when its source or target queue is gone: the legacy code of
#: QueueDoesNotExist, as AWS records it (LocalStack's AWS-validated snapshot
#: test_move_task_delete_destination_queue_while_running).
MOVE_TASK_TARGET_MISSING = "AWS.SimpleQueueService.NonExistentQueue"

# Sequence numbers are decimal strings of 20 digits, as AWS's look; the offset keeps them that long.
_SEQUENCE_BASE = 10**19


def _sequence_number(counter: int) -> str:
    return str(_SEQUENCE_BASE + counter)


def queue_name_from_arn(arn: str) -> str:
    """The queue name an SQS ARN names (its last segment)."""
    return arn.rsplit(":", 1)[-1]


def queue_does_not_exist() -> AwsError:
    """SQS's error for any operation on a queue that is not there (JSON-protocol text, spec 0)."""
    return sqs_error(QUEUE_DOES_NOT_EXIST, "The specified queue does not exist.")


def queue_deleted_recently() -> AwsError:
    """SQS's error for re-creating a queue less than 60 s after deleting it (spec 1.1)."""
    return sqs_error(
        QUEUE_DELETED_RECENTLY,
        "You must wait 60 seconds after deleting a queue before you can create another queue "
        "with the same name.",
    )


# --------------------------------------------------------------------------------------------
# Receipt handles.
#
# A handle names the queue, the message and one receive (a fresh nonce each time, spec 1.5), so a
# store can find the message from the handle alone and old handles keep working for delete and
# change-visibility on standard queues (spec 1.6, moto PR 4655). It is URL-safe base64 so that it
# looks opaque, as AWS's do, and survives every transport unchanged.

_HANDLE_PREFIX = "rb1"


def _token_prefix() -> str:
    """A random prefix shaped as the first 24 digits of a version-4 UUID."""
    digits = os.urandom(10).hex()
    variant = "89ab"[int(digits[15], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[12:15]}-{variant}{digits[16:19]}-"


# Unique tokens, cheaply: a random 74-bit prefix per process and a counter in the last 12 digits
# (uuid4 costs a system call per id, and ids and handle nonces are minted once or twice per
# message). The prefix is drawn again in a forked child, so processes sharing a SQLite file never
# collide. Native, so that the memory store's fan-out mints ids without Python.
_TOKENS = Tokens(_token_prefix())
if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork to survive
    os.register_at_fork(after_in_child=lambda: _TOKENS.reseed(_token_prefix()))


#: A message id: UUID-shaped, as SQS's are, and unique across processes.
new_message_id: Callable[[], str] = _TOKENS.next


# base64's urlsafe decoding, minus its layers of argument coercion (a handle is parsed once per
# message; the native Tokens.receipt_handle writes them).
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


# Handles minted by this process, most recent first to go: what parse_receipt_handle would find
# in them. Most handles come back to the process that minted them (to delete the message), and a
# look-up is cheaper than decoding; bounded, and a miss only means decoding.
_MINTED: dict[str, tuple[str, str]] = {}
_MINTED_MAX = 65_536


_mint_handle = _TOKENS.receipt_handle


def make_receipt_handle(queue: str, message_id: str) -> str:
    """A new receipt handle for one receive of ``message_id`` from ``queue``: URL-safe base64 of
    f"{_HANDLE_PREFIX}\n{queue}\n{message_id}\n{a new token}", written natively."""
    handle = _mint_handle(queue, message_id)
    if len(_MINTED) >= _MINTED_MAX:
        _MINTED.clear()
    _MINTED[handle] = (queue, message_id)
    return handle


def parse_receipt_handle(handle: str) -> tuple[str, str] | None:
    """``(queue, message_id)`` of a handle this module minted, or None for anything else."""
    if not isinstance(handle, str) or not handle or len(handle) > 1024:
        return None
    minted = _MINTED.get(handle)
    if minted is not None:
        return minted
    try:
        raw = binascii.a2b_base64(handle.encode("ascii").translate(_FROM_URLSAFE)).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    parts = raw.split("\n")
    if len(parts) != 4 or parts[0] != _HANDLE_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


# --------------------------------------------------------------------------------------------
# Values exchanged with stores.


@dataclass(frozen=True)
class QueueRecord:
    """One queue as a store keeps it: its attributes and the timestamps SQS reports."""

    name: str
    attributes: QueueAttributes
    created_timestamp: float
    last_modified_timestamp: float
    last_purge_timestamp: float | None = None


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as one receive returned it: its state after the receive and its new handle."""

    message: StoredMessage
    receipt_handle: str

    # Hand-written (dataclass keeps it), as StoredMessage's: one is built per message received.
    def __init__(self, message: StoredMessage, receipt_handle: str) -> None:
        object.__setattr__(self, "__dict__", {"message": message, "receipt_handle": receipt_handle})


def is_plain_body(body: Any, limit: int) -> TypeGuard[str]:
    """A body that passes every check of SendMessage on a standard queue with no attributes:
    printable ASCII (perhaps on lines), not empty, within ``limit`` bytes. Two or three C scans:
    what topics and buses deliver, and most sends, take this way."""
    return (
        type(body) is str
        and 0 < len(body) <= limit
        and body.isascii()
        and (body.isprintable() or body.replace("\n", " ").isprintable())
    )


def plain_message(body: str, sender: str, now: float, visible_at: float) -> StoredMessage:
    """The stored message for a plain body (see :func:`is_plain_body`), no attributes."""
    return StoredMessage(
        new_message_id(), body, hashlib.md5(body.encode()).hexdigest(), {}, None, sender, now, visible_at
    )


class InFlightLimitReached(Exception):
    """Raised by :meth:`Store.receive` when a standard queue already has ``in_flight_limit``
    messages in flight: nothing was received (the queue answers OverLimit or waits)."""


@dataclass(frozen=True)
class QueueCounts:
    """The three ``ApproximateNumberOfMessages*`` attributes, taken at one instant."""

    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class MoveTaskRecord:
    """One message move task (StartMessageMoveTask, spec 1.8) as a store keeps it.

    ``max_number_of_messages_per_second`` is what the caller asked for (None when absent, as
    ListMessageMoveTasks then omits it); ``rate`` is the rate actually applied. The rate limit is
    kept per second of the broker's clock since ``started_timestamp``: ``rate_window`` is the
    index of the last second a step moved in and ``window_moved`` how many it moved then."""

    task_id: str
    source_arn: str
    destination_arn: str | None
    max_number_of_messages_per_second: int | None
    rate: int
    started_timestamp: float
    approximate_number_of_messages_to_move: int
    status: str = "RUNNING"
    approximate_number_of_messages_moved: int = 0
    failure_reason: str | None = None
    rate_window: int = 0
    window_moved: int = 0


class DeleteResult(Enum):
    """What DeleteMessage found."""

    DELETED = "deleted"
    GONE = "gone"  # already deleted, purged or expired: not an error on standard queues
    EXPIRED = "expired"  # FIFO: visible again, so the handle has expired and nothing is deleted


class ChangeVisibilityResult(Enum):
    """What ChangeMessageVisibility found, so the queue can answer with SQS's text."""

    CHANGED = "changed"
    NOT_FOUND = "not_found"  # deleted, purged or expired
    BEYOND_LIMIT = "beyond_limit"  # would end more than 12 h after the receive


def _expiry_cutoff(record: QueueRecord, now: float) -> float:
    """Messages sent at or before this instant are past retention."""
    return now - record.attributes.message_retention_period


class Store(TopicStore, StreamStore, BusStore, IdempotencyStore, ABC):
    """Queue state with the atomic operations SQS needs. Every method that names a missing queue
    raises :func:`queue_does_not_exist`, so callers never check-then-act across processes."""

    # ------------------------------------------------------------------ queues

    @abstractmethod
    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        """Insert ``record`` unless a queue of that name exists; return the stored one (the
        caller compares attributes for CreateQueue's idempotency rule). When no queue of that
        name exists but one was deleted less than ``recreate_after`` seconds before
        ``record.created_timestamp``, insert nothing and raise :func:`queue_deleted_recently`."""

    @abstractmethod
    def get_queue(self, name: str) -> QueueRecord | None:
        """The queue's record, or None."""

    @abstractmethod
    def update_queue(self, name: str, attributes: QueueAttributes, now: float) -> QueueRecord:
        """Replace the attributes (already validated) and the last-modified time."""

    @abstractmethod
    def delete_queue(self, name: str, now: float) -> None:
        """Remove the queue and all its messages, and remember ``now`` as the name's deletion
        time (for :meth:`create_queue`'s ``recreate_after``)."""

    @abstractmethod
    def queue_names(self) -> list[str]:
        """Every queue's name, sorted."""

    # ------------------------------------------------------------------ messages

    @abstractmethod
    def put_messages(self, queue: str, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        """Enqueue messages, all or none, in the given order, and return them as stored.

        On a FIFO queue each message gets a sequence number, and a message whose deduplication id
        was seen in the last :data:`DEDUPLICATION_WINDOW` seconds (per queue, or per group with
        DeduplicationScope=messageGroup; earlier entries of the same call count) is not enqueued:
        its place in the result holds the earlier message's id and sequence number instead.
        ``sent_timestamp`` is the time the window is measured from."""

    def put_messages_many(
        self, batches: Sequence[tuple[str, Sequence[StoredMessage]]]
    ) -> list[list[StoredMessage]]:
        """:meth:`put_messages` for several queues in one atomic step (one lock or one
        transaction): what an SNS topic fanning one publish out to many queues needs. Each
        ``(queue, messages)`` pair is stored exactly as ``put_messages(queue, messages)`` would
        (FIFO numbering and deduplication included; a queue may appear more than once, its
        batches then stored in order) and the results come back in the same order. When any of
        the queues is missing, :func:`queue_does_not_exist` is raised and nothing is stored, so a
        caller that must deliver to the others retries queue by queue.

        This default is not atomic across queues; both stores here override it."""
        for queue, _ in batches:
            if self.get_queue(queue) is None:
                raise queue_does_not_exist()
        return [self.put_messages(queue, messages) for queue, messages in batches]

    def put_plain_many(
        self,
        deliveries: Sequence[tuple[str, str]],
        sender_id: str,
        now: float,
        wrap: tuple[str, str] | None = None,
    ) -> list[int]:
        """Store each ``(queue, body)`` as a new message with no attributes, sent by ``sender_id``
        at ``now`` (visible after the queue's DelaySeconds): the bulk of a topic's or a bus's
        fan-out, in one step. A delivery is taken only where its queue exists, is a standard
        queue, and the body is plain for it (:func:`is_plain_body` with the queue's
        MaximumMessageSize); the rest are left alone and their indices returned, in order, for
        the caller to send the long way (where they succeed or fail as SendMessage would).

        With ``wrap=(head, tail)`` each body is ``head + body + tail``: one notification whose
        subscriptions differ only in a middle piece (SNS's UnsubscribeURL), without building
        every text in Python.

        This default builds the messages in Python and stores them with
        :meth:`put_messages_many`; the memory store does it natively."""
        records: dict[str, QueueRecord | None] = {}
        refused: list[int] = []
        batches: list[tuple[str, list[StoredMessage]]] = []
        for index, (queue, body) in enumerate(deliveries):
            if wrap is not None:
                body = wrap[0] + body + wrap[1]
            if queue not in records:
                records[queue] = self.get_queue(queue)
            record = records[queue]
            if record is None or record.attributes.fifo_queue:
                refused.append(index)
                continue
            attributes = record.attributes
            if not is_plain_body(body, attributes.maximum_message_size):
                refused.append(index)
                continue
            batches.append((queue, [plain_message(body, sender_id, now, now + attributes.delay_seconds)]))
        if batches:
            try:
                self.put_messages_many(batches)
            except AwsError:  # a queue went away in between: none stored, all refused
                return list(range(len(deliveries)))
        return refused

    def put_notifications(
        self,
        topic: tuple[str, str, str],
        publishes: list[tuple[FanOut, str, str | None, str, str]],
        sender_id: str,
        now: float,
        timestamp: str,
    ) -> tuple[int, list[int]]:
        """A standard topic's publishes to their usual fan-out (see ``rulebus._core.FanOut``), in
        one step: each ``(fan_out, message_id, subject, message, tail)`` is one SNS notification
        of ``topic`` (``(TopicArn, SignatureVersion, SigningCertURL)``) published at ``now``
        (``timestamp``), stored in each route's queue as :meth:`put_plain_many` stores a wrapped
        body (the head written by ``sns_notification_head``, the route's UnsubscribeURL, then
        ``tail``), each stored delivery counted in its route's ``DeliveryCounter``. Returns
        ``(done, refused)``: how many publishes were stored, and the indices of the routes of the
        last of them that were refused. It stops after the first publish with a refusal, for the
        topic to send those the long way before any later publish is stored.

        This default goes through :meth:`put_plain_many`; the memory store does it natively."""
        arn, signature_version, signing_cert_url = topic
        for index, (fan_out, message_id, subject, message, tail) in enumerate(publishes):
            routes = fan_out.routes
            head = sns_notification_head(
                message_id, arn, subject, message, timestamp, signature_version, signing_cert_url
            )
            deliveries = [(queue, middle) for queue, middle, _ in routes]
            refused = self.put_plain_many(deliveries, sender_id, now, (head, tail))
            left_out = set(refused)
            for number, (_, _, counter) in enumerate(routes):
                if number not in left_out:
                    counter.add(1)
            if refused:
                return index + 1, refused
        return len(publishes), []

    @abstractmethod
    def receive(
        self,
        queue: str,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        receive_request_attempt_id: str | None = None,
        in_flight_limit: int | None = None,
    ) -> list[ReceivedMessage]:
        """Atomically take up to ``max_messages`` visible messages (oldest first), hide them until
        ``now + visibility_timeout``, count the receive, record the first-receive time and mint a
        new receipt handle for each.

        FIFO queues: see :func:`_fifo_order`. Queues with a RedrivePolicy whose target exists:
        a message that would exceed ``maxReceiveCount`` moves to the target instead (see
        :func:`_moved`).

        With ``receive_request_attempt_id`` (FIFO, spec 1.5): when a receive with that id returned
        messages less than :data:`RECEIVE_ATTEMPT_WINDOW` seconds ago and none of them was
        modified since (deleted, or its visibility changed, e.g. by another receive), return the
        same messages with the same receipt handles, hidden again until ``now +
        visibility_timeout``, without counting a receive; otherwise receive as usual and remember
        the result under that id.

        With ``in_flight_limit`` (standard queues, spec 1.5): take no more than keeps the queue's
        in-flight messages within it, and raise :class:`InFlightLimitReached` when it has that
        many in flight already."""

    @abstractmethod
    def in_flight(self, queue: str, now: float) -> int:
        """How many messages are in flight now (received, not deleted, still hidden)."""

    def delete_message(self, queue: str, message_id: str, in_flight_at: float | None = None) -> DeleteResult:
        """Delete the message. With ``in_flight_at`` (FIFO queues), only while it is still in flight
        at that time: a FIFO receipt handle expires with the message's visibility (spec 1.6)."""
        return self.delete_messages(queue, [message_id], in_flight_at)[0]

    @abstractmethod
    def delete_messages(
        self, queue: str, message_ids: Sequence[str], in_flight_at: float | None = None
    ) -> list[DeleteResult]:
        """:meth:`delete_message` for each id in turn, in one atomic step (DeleteMessageBatch):
        one result per id, in order; an id repeated finds its message gone the second time."""

    def change_visibility(
        self, queue: str, message_id: str, now: float, timeout: float
    ) -> ChangeVisibilityResult:
        """Make the message visible at ``now + timeout``, unless gone or beyond the 12 h limit."""
        return self.change_visibilities(queue, [(message_id, timeout)], now)[0]

    @abstractmethod
    def change_visibilities(
        self, queue: str, changes: Sequence[tuple[str, float]], now: float
    ) -> list[ChangeVisibilityResult]:
        """:meth:`change_visibility` for each ``(message id, timeout)`` in turn, in one atomic
        step (ChangeMessageVisibilityBatch): one result per change, in order."""

    @abstractmethod
    def purge(self, queue: str, now: float, min_interval: float) -> bool:
        """Delete every message, unless the last purge was less than ``min_interval`` ago
        (then change nothing and return False)."""

    @abstractmethod
    def counts(self, queue: str, now: float) -> QueueCounts:
        """Visible, in-flight and delayed messages now, expired ones excluded."""

    # ------------------------------------------------------------------ message move tasks

    @abstractmethod
    def create_move_task(self, record: MoveTaskRecord) -> bool:
        """Insert a new task, unless its source already has an active one (then insert nothing
        and return False). The source queue's visible messages are counted into
        ``approximate_number_of_messages_to_move`` here, at one instant with the check."""

    @abstractmethod
    def move_tasks(self, source_arn: str) -> list[MoveTaskRecord]:
        """The source's tasks, most recently started first."""

    @abstractmethod
    def get_move_task(self, task_id: str) -> MoveTaskRecord | None:
        """One task, or None."""

    @abstractmethod
    def active_move_task_ids(self) -> list[str]:
        """Every task that is RUNNING or CANCELLING, oldest first."""

    @abstractmethod
    def cancel_move_task(self, task_id: str) -> MoveTaskRecord | None:
        """A RUNNING task becomes CANCELLING (its next step ends it); return the task as it is
        after the call (None for an unknown id). Moved messages stay moved."""

    @abstractmethod
    def step_move_task(self, task_id: str, now: float) -> MoveTaskRecord | None:
        """Advance one task atomically: a CANCELLING task becomes CANCELLED; a RUNNING one moves
        as many visible messages (oldest first) as its rate allows in the current second of
        ``now`` (see :func:`_move_budget`), each as a new message (:func:`_redriven`) to the
        destination or, without one, back to the queue its DeadLetterQueueSourceArn names. It
        completes once it has moved ``approximate_number_of_messages_to_move`` messages or the
        source has no visible message left, and fails (:data:`MOVE_TASK_TARGET_MISSING`) when the
        source or a target queue is gone. Returns the task after the step (None if unknown)."""

    # ------------------------------------------------------------------ long polling

    @abstractmethod
    def version(self) -> int:
        """A token that changes whenever any message state may have changed (take it before a
        receive, then :meth:`wait` on it, so a send in between is not missed)."""

    @abstractmethod
    def wait(self, since: int, timeout: float) -> None:
        """Block for at most ``timeout`` real seconds, returning early once :meth:`version`
        differs from ``since``. Spurious early returns are allowed."""

    def close(self) -> None:
        """Release resources; the store is unusable afterwards."""


# --------------------------------------------------------------------------------------------
# Memory.


class MemoryStore(MemoryTopicStore, MemoryStreamStore, MemoryBusStore, MemoryIdempotencyStore, Store):
    """Everything in dictionaries behind one lock. The condition variable on that lock is what
    long polling waits on, so a send from another thread wakes a waiting receive at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting = 0  # threads in wait(), under the lock: _bump wakes them only if any
        self._init_topic_state()
        self._init_bus_state()
        self._init_stream_state()
        self._init_idempotency_state()
        self._queues: dict[str, MemoryQueue] = {}
        self._deleted: dict[str, float] = {}  # queue name -> when it was last deleted
        self._version = 0
        self._sequence = 0  # FIFO sequence numbers, increasing across all queues
        self._move_tasks: dict[str, MoveTaskRecord] = {}  # in start order

    def _queue(self, name: str) -> MemoryQueue:
        queue = self._queues.get(name)
        if queue is None:
            raise queue_does_not_exist()
        return queue

    def _bump(self) -> None:
        self._version += 1
        if self._waiting:  # notify_all is Python code that costs a send a tenth of its time
            self._changed.notify_all()

    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        with self._lock:
            existing = self._queues.get(record.name)
            if existing is not None:
                return existing.record
            deleted = self._deleted.get(record.name)
            if deleted is not None and record.created_timestamp - deleted < recreate_after:
                raise queue_deleted_recently()
            self._deleted.pop(record.name, None)
            self._queues[record.name] = MemoryQueue(record)
            return record

    def get_queue(self, name: str) -> QueueRecord | None:
        with self._lock:
            queue = self._queues.get(name)
            return queue.record if queue is not None else None

    def update_queue(self, name: str, attributes: QueueAttributes, now: float) -> QueueRecord:
        with self._lock:
            queue = self._queue(name)
            queue.record = replace(queue.record, attributes=attributes, last_modified_timestamp=now)
            self._bump()  # a shorter retention or delay can change what a waiter sees
            return queue.record

    def delete_queue(self, name: str, now: float) -> None:
        with self._lock:
            self._queue(name)
            del self._queues[name]
            self._deleted[name] = now
            self._bump()  # waiters on the queue should find out it is gone

    def queue_names(self) -> list[str]:
        with self._lock:
            return sorted(self._queues)

    def put_messages(self, queue: str, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        with self._lock:
            stored = self._put(self._queue(queue), messages)
            self._bump()
            return stored

    def put_messages_many(
        self, batches: Sequence[tuple[str, Sequence[StoredMessage]]]
    ) -> list[list[StoredMessage]]:
        with self._lock:
            states = [self._queue(queue) for queue, _ in batches]  # all there, or nothing stored
            stored = [self._put(state, messages) for state, (_, messages) in zip(states, batches)]
            self._bump()
            return stored

    def put_plain_many(
        self,
        deliveries: Sequence[tuple[str, str]],
        sender_id: str,
        now: float,
        wrap: tuple[str, str] | None = None,
    ) -> list[int]:
        if wrap is not None:  # (the topic's fan-out wraps natively: put_notifications)
            head, tail = wrap
            deliveries = [(queue, head + body + tail) for queue, body in deliveries]
        with self._lock:
            refused = put_plain_many(self._queues, deliveries, sender_id, now, _TOKENS)
            if len(refused) < len(deliveries):
                self._bump()
            return refused

    def put_notifications(
        self,
        topic: tuple[str, str, str],
        publishes: list[tuple[FanOut, str, str | None, str, str]],
        sender_id: str,
        now: float,
        timestamp: str,
    ) -> tuple[int, list[int]]:
        with self._lock:
            refused = put_notifications(self._queues, topic, publishes, sender_id, now, timestamp, _TOKENS)
            if publishes:
                self._bump()  # (also when all were refused: a waiter looks again, finds nothing)
            return refused

    def _put(self, state: MemoryQueue, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        """put_messages on one queue, under the lock."""
        fifo = state.record.attributes.fifo_queue
        if not fifo:
            for message in messages:
                state.add(message, message.sent_timestamp)
            return list(messages)
        if messages:
            now = messages[0].sent_timestamp
            seen = state.deduplication
            for key in [key for key, entry in seen.items() if entry[0] <= now]:
                del seen[key]
        stored: list[StoredMessage] = []
        for message in messages:
            key = _dedup_key(state.record, message)
            earlier = state.deduplication.get(key)
            if earlier is not None and earlier[0] > message.sent_timestamp:
                stored.append(message.replace(message_id=earlier[1], sequence_number=earlier[2]))
                continue
            message = self._sequenced(message)
            state.deduplication[key] = (
                message.sent_timestamp + DEDUPLICATION_WINDOW,
                message.message_id,
                message.sequence_number,
            )
            state.add(message, message.sent_timestamp)
            stored.append(message)
        return stored

    def _sequenced(self, message: StoredMessage) -> StoredMessage:
        self._sequence += 1
        return message.replace(sequence_number=_sequence_number(self._sequence))

    def receive(
        self,
        queue: str,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        receive_request_attempt_id: str | None = None,
        in_flight_limit: int | None = None,
    ) -> list[ReceivedMessage]:
        with self._lock:
            state = self._queue(queue)
            state.drop_expired(now)
            if in_flight_limit is not None:
                state.promote(now)  # then ``in_flight`` is exactly the received ones still hidden
                room = in_flight_limit - state.in_flight_count
                if room <= 0:
                    raise InFlightLimitReached()
                max_messages = min(max_messages, room)
            attempt = receive_request_attempt_id
            if attempt is None:
                return self._receive(state, max_messages, now, visibility_timeout)
            for key in [k for k, (at, _) in state.attempts.items() if at + RECEIVE_ATTEMPT_WINDOW <= now]:
                del state.attempts[key]
            at, entries = state.attempts.get(attempt, (now, []))
            if _replayable(entries, state):
                received = self._replay(state, entries, now, now + visibility_timeout)
            else:
                at, received = now, self._receive(state, max_messages, now, visibility_timeout)
            state.attempts[attempt] = (at, _attempt_entries(received))
            return received

    def _replay(
        self, state: MemoryQueue, entries: Sequence[_AttemptEntry], now: float, visible_at: float
    ) -> list[ReceivedMessage]:
        received = []
        for message_id, receipt_handle, _, _ in entries:
            message = state[message_id].replace(visible_at=visible_at)
            state.update(message, now)
            received.append(ReceivedMessage(message, receipt_handle))
        return received

    def _receive(
        self, state: MemoryQueue, max_messages: int, now: float, visibility_timeout: float
    ) -> list[ReceivedMessage]:
        """The receive itself, under the lock."""
        record = state.record
        target_name = _dead_letter_name(record)
        target = self._queues.get(target_name) if target_name is not None else None
        if target is not None and not _usable_target(record, target.record):
            target = None
        queue = record.name
        fifo = record.attributes.fifo_queue
        if not fifo and target is None:
            # Nothing to move: the queue takes and receives the oldest ones by itself.
            return [
                ReceivedMessage(m, make_receipt_handle(queue, m.message_id))
                for m in state.receive(max_messages, now, visibility_timeout)
            ]
        taken: list[StoredMessage] = []
        moved = False
        if fifo:
            candidates: Iterator[StoredMessage] = iter(_fifo_order(state.values(), now))
        else:
            state.promote(now)
            candidates = iter(lambda: state.take(now), None)
        for message in candidates:
            if target is not None and _exceeds(record, message):
                state.remove(message.message_id)
                arrived = _moved(record, message, now)
                if target.record.attributes.fifo_queue:
                    arrived = self._sequenced(arrived)
                target.add(arrived, now)
                moved = True
                continue
            taken.append(message)
            if len(taken) == max_messages:
                break
        # Placed only now: with a visibility timeout of 0 a message is visible again at once,
        # and one receive must not return it twice.
        received: list[ReceivedMessage] = []
        for message in taken:
            updated = message.received(now, visibility_timeout)
            state.update(updated, now)
            received.append(ReceivedMessage(updated, make_receipt_handle(queue, message.message_id)))
        if moved:
            self._bump()  # a receive waiting on the dead-letter queue should see them
        return received

    def delete_messages(
        self, queue: str, message_ids: Sequence[str], in_flight_at: float | None = None
    ) -> list[DeleteResult]:
        with self._lock:
            state = self._queue(queue)
            results: list[DeleteResult] = []
            for message_id in message_ids:
                message = state.get(message_id)
                if message is None:
                    results.append(DeleteResult.GONE)
                elif in_flight_at is not None and message.visible_at <= in_flight_at:
                    results.append(DeleteResult.EXPIRED)
                else:
                    state.remove(message_id)
                    results.append(DeleteResult.DELETED)
            return results

    def change_visibilities(
        self, queue: str, changes: Sequence[tuple[str, float]], now: float
    ) -> list[ChangeVisibilityResult]:
        with self._lock:
            state = self._queue(queue)
            cutoff = _expiry_cutoff(state.record, now)
            results: list[ChangeVisibilityResult] = []
            for message_id, timeout in changes:
                message = state.get(message_id)
                if message is None or message.sent_timestamp <= cutoff:
                    results.append(ChangeVisibilityResult.NOT_FOUND)
                elif _beyond_limit(message.last_receive_timestamp, now, timeout):
                    results.append(ChangeVisibilityResult.BEYOND_LIMIT)
                else:
                    state.update(message.replace(visible_at=now + timeout), now)
                    results.append(ChangeVisibilityResult.CHANGED)
            if ChangeVisibilityResult.CHANGED in results:
                self._bump()
            return results

    def purge(self, queue: str, now: float, min_interval: float) -> bool:
        with self._lock:
            state = self._queue(queue)
            last = state.record.last_purge_timestamp
            if last is not None and now - last < min_interval:
                return False
            state.clear()
            state.record = replace(state.record, last_purge_timestamp=now)
            return True

    def counts(self, queue: str, now: float) -> QueueCounts:
        with self._lock:
            return QueueCounts(*self._queue(queue).counts(now))

    def in_flight(self, queue: str, now: float) -> int:
        with self._lock:
            state = self._queue(queue)
            # Both only settle what a reader would see anyway; then the set is exactly the
            # received messages still hidden (the clock never goes back under the broker).
            state.drop_expired(now)
            state.promote(now)
            return state.in_flight_count

    # ------------------------------------------------------------------ message move tasks

    def create_move_task(self, record: MoveTaskRecord) -> bool:
        with self._lock:
            source = self._queue(queue_name_from_arn(record.source_arn))
            for task in self._move_tasks.values():
                if task.source_arn == record.source_arn and task.status in ACTIVE_MOVE_TASK_STATUSES:
                    return False
            now = record.started_timestamp
            cutoff = _expiry_cutoff(source.record, now)
            messages = source.values()
            visible = sum(1 for m in messages if cutoff < m.sent_timestamp and m.visible_at <= now)
            self._move_tasks[record.task_id] = replace(record, approximate_number_of_messages_to_move=visible)
            return True

    def move_tasks(self, source_arn: str) -> list[MoveTaskRecord]:
        with self._lock:
            return [task for task in reversed(self._move_tasks.values()) if task.source_arn == source_arn]

    def get_move_task(self, task_id: str) -> MoveTaskRecord | None:
        with self._lock:
            return self._move_tasks.get(task_id)

    def active_move_task_ids(self) -> list[str]:
        with self._lock:
            return [t.task_id for t in self._move_tasks.values() if t.status in ACTIVE_MOVE_TASK_STATUSES]

    def cancel_move_task(self, task_id: str) -> MoveTaskRecord | None:
        with self._lock:
            task = self._move_tasks.get(task_id)
            if task is not None and task.status == "RUNNING":
                task = self._move_tasks[task_id] = replace(task, status="CANCELLING")
            return task

    def step_move_task(self, task_id: str, now: float) -> MoveTaskRecord | None:
        with self._lock:
            task = self._move_tasks.get(task_id)
            if task is None or task.status not in ACTIVE_MOVE_TASK_STATUSES:
                return task
            stepped = _settle_cancelling(task) or self._step_moves(task, now)
            self._move_tasks[task_id] = stepped
            return stepped

    def _step_moves(self, task: MoveTaskRecord, now: float) -> MoveTaskRecord:
        source = self._queues.get(queue_name_from_arn(task.source_arn))
        if source is None:
            return replace(task, status="FAILED", failure_reason=MOVE_TASK_TARGET_MISSING)
        source.drop_expired(now)

        def target_is_fifo(name: str) -> bool | None:
            target = self._queues.get(name)
            return target.record.attributes.fifo_queue if target is not None else None

        def move(old: StoredMessage, new: StoredMessage, target: str, fifo: bool) -> None:
            source.remove(old.message_id)
            new = self._sequenced(new) if fifo else new
            self._queues[target].add(new, now)
            self._bump()

        visible = [m for m in source.values() if m.visible_at <= now]
        return _step_moves(
            task,
            now,
            visible,
            target_is_fifo,
            move,
            lambda: any(m.visible_at <= now for m in source.values()),
        )

    # ------------------------------------------------------------------ long polling

    def version(self) -> int:
        with self._lock:
            return self._version

    def wait(self, since: int, timeout: float) -> None:
        with self._changed:
            self._waiting += 1
            try:
                self._changed.wait_for(lambda: self._version != since, timeout=max(timeout, 0.0))
            finally:
                self._waiting -= 1


def _beyond_limit(last_receive: float | None, now: float, timeout: float) -> bool:
    # Spec 1.6: the total is capped at 12 h from the ReceiveMessage that issued the visibility.
    return last_receive is not None and now + timeout > last_receive + MAX_TOTAL_VISIBILITY


def _dedup_key(record: QueueRecord, message: StoredMessage) -> tuple[str, str]:
    """(scope, deduplication id): the scope is the group with DeduplicationScope=messageGroup."""
    by_group = record.attributes.deduplication_scope == "messageGroup"
    scope = (message.message_group_id or "") if by_group else ""
    return scope, message.message_deduplication_id or ""


def _fifo_order(messages: Sequence[StoredMessage], now: float) -> list[StoredMessage]:
    """A FIFO queue's receivable messages (given in send order) in the order a receive takes them.

    Spec 1.9: while any message of a group is in flight, no message of that group is returned
    (delayed messages, never received, do not block); a receive takes as many messages of one group
    as it can, in send order, before the next group, groups ordered by their oldest message."""
    blocked = {m.message_group_id for m in messages if m.visible_at > now and m.receive_count > 0}
    groups: dict[str | None, list[StoredMessage]] = {}
    for message in messages:
        if message.visible_at <= now and message.message_group_id not in blocked:
            groups.setdefault(message.message_group_id, []).append(message)
    return [message for group in groups.values() for message in group]


def _exceeds(record: QueueRecord, message: StoredMessage) -> bool:
    """Whether receiving ``message`` once more would exceed the queue's maxReceiveCount."""
    policy = record.attributes.redrive_policy
    return policy is not None and message.receive_count >= policy.max_receive_count


def _dead_letter_name(record: QueueRecord) -> str | None:
    policy = record.attributes.redrive_policy
    if policy is None:
        return None
    name = queue_name_from_arn(policy.dead_letter_target_arn)
    return None if name == record.name else name


def _usable_target(source: QueueRecord, target: QueueRecord | None) -> bool:
    # A target deleted or replaced by one of the other type since the policy was set is not used:
    # the message stays where it is, as it would on a queue without a policy.
    return target is not None and target.attributes.fifo_queue == source.attributes.fifo_queue


def _moved(source: QueueRecord, message: StoredMessage, now: float) -> StoredMessage:
    """The message as it arrives on the dead-letter queue (spec 1.8): same id, body, attributes and
    SentTimestamp; never received there; the source's ARN attached; on FIFO the deduplication id
    becomes the message id (the store assigns the new sequence number)."""
    policy = source.attributes.redrive_policy
    assert policy is not None
    source_arn = policy.dead_letter_target_arn.rsplit(":", 1)[0] + ":" + source.name
    return message.replace(
        visible_at=now,
        receive_count=0,
        first_receive_timestamp=None,
        last_receive_timestamp=None,
        message_deduplication_id=(
            message.message_id if message.message_deduplication_id is not None else None
        ),
        sequence_number=None,
        dead_letter_source_arn=source_arn,
    )


# A remembered FIFO receive (spec 1.5), per message: (message id, receipt handle, visible_at,
# receive count) as that receive left it; any difference later means the message was modified.
_AttemptEntry = tuple[str, str, float, int]


def _attempt_entries(received: Sequence[ReceivedMessage]) -> list[_AttemptEntry]:
    return [
        (r.message.message_id, r.receipt_handle, r.message.visible_at, r.message.receive_count)
        for r in received
    ]


def _replayable(entries: Sequence[_AttemptEntry], current: MemoryQueue | Mapping[str, StoredMessage]) -> bool:
    """Whether a remembered receive can be returned again: it returned messages and none of them
    was deleted, expired, received again or had its visibility changed since."""

    def unchanged(entry: _AttemptEntry) -> bool:
        message = current.get(entry[0])
        return message is not None and (message.visible_at, message.receive_count) == entry[2:]

    return bool(entries) and all(unchanged(entry) for entry in entries)


def _redriven(message: StoredMessage, now: float) -> StoredMessage:
    """A message as a move task delivers it (spec 1.8): a *new* message (new id, sent now, never
    received, so its receive count starts again) with the same body, attributes, group and
    deduplication id; the store numbers it on a FIFO target."""
    return message.replace(
        message_id=new_message_id(),
        sent_timestamp=now,
        visible_at=now,
        receive_count=0,
        first_receive_timestamp=None,
        last_receive_timestamp=None,
        sequence_number=None,
        dead_letter_source_arn=None,
    )


def _move_budget(task: MoveTaskRecord, now: float) -> tuple[int, int]:
    """The second of the task's life ``now`` falls in, and how many messages the task may still
    move in it: at most ``rate`` per second of the broker's clock, and never more than it set out
    to move."""
    window = max(0, math.floor(now - task.started_timestamp))
    used = task.window_moved if window == task.rate_window else 0
    left = task.approximate_number_of_messages_to_move - task.approximate_number_of_messages_moved
    return window, max(0, min(task.rate - used, left))


def _step_moves(
    task: MoveTaskRecord,
    now: float,
    candidates: Iterable[StoredMessage],
    target_is_fifo: Callable[[str], bool | None],
    move: Callable[[StoredMessage, StoredMessage, str, bool], None],
    any_visible_left: Callable[[], bool],
) -> MoveTaskRecord:
    """One step of a RUNNING task, whatever the store: ``candidates`` are the source's visible
    messages, oldest first; ``target_is_fifo(name)`` is None for a missing queue; ``move(old, new,
    target, fifo)`` removes ``old`` from the source and enqueues ``new`` on ``target``."""
    window, budget = _move_budget(task, now)
    moved = 0
    failed = False
    for message in candidates:
        if moved >= budget:
            break
        # Without a DestinationArn each message goes back where it was dead-lettered from; one
        # that never was (sent straight to the DLQ) has nowhere to go, like a deleted queue.
        arn = task.destination_arn or message.dead_letter_source_arn
        target = queue_name_from_arn(arn) if arn else None
        fifo = target_is_fifo(target) if target is not None else None
        if target is None or fifo is None:
            failed = True
            break
        move(message, _redriven(message, now), target, fifo)
        moved += 1
    used = task.window_moved if window == task.rate_window else 0
    task = replace(
        task,
        approximate_number_of_messages_moved=task.approximate_number_of_messages_moved + moved,
        rate_window=window,
        window_moved=used + moved,
    )
    if failed:
        return replace(task, status="FAILED", failure_reason=MOVE_TASK_TARGET_MISSING)
    done = task.approximate_number_of_messages_moved >= task.approximate_number_of_messages_to_move
    return replace(task, status="COMPLETED") if done or not any_visible_left() else task


def _settle_cancelling(task: MoveTaskRecord | None) -> MoveTaskRecord | None:
    """A CANCELLING task's next step ends it; None when the task needs a real step."""
    if task is not None and task.status == "CANCELLING":
        return replace(task, status="CANCELLED")
    return None


# --------------------------------------------------------------------------------------------
# SQLite.

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    created_timestamp REAL NOT NULL,
    last_modified_timestamp REAL NOT NULL,
    last_purge_timestamp REAL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5_of_body TEXT NOT NULL,
    message_attributes TEXT NOT NULL,
    md5_of_message_attributes TEXT,
    sender_id TEXT NOT NULL,
    sent_timestamp REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_timestamp REAL,
    last_receive_timestamp REAL,
    message_group_id TEXT,
    message_deduplication_id TEXT,
    sequence_number TEXT,
    dead_letter_source_arn TEXT
);
CREATE TABLE IF NOT EXISTS deduplication (
    queue TEXT NOT NULL,
    scope TEXT NOT NULL,
    deduplication_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT,
    expires_at REAL NOT NULL,
    PRIMARY KEY (queue, scope, deduplication_id)
);
CREATE TABLE IF NOT EXISTS deleted_queues (
    name TEXT PRIMARY KEY,
    deleted_at REAL NOT NULL
);
-- FIFO ReceiveRequestAttemptIds (spec 1.5): what each receive returned, as JSON entries.
CREATE TABLE IF NOT EXISTS receive_attempts (
    queue TEXT NOT NULL,
    attempt_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (queue, attempt_id)
);
CREATE TABLE IF NOT EXISTS move_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    source_arn TEXT NOT NULL,
    destination_arn TEXT,
    max_number_of_messages_per_second INTEGER,
    rate INTEGER NOT NULL,
    started_timestamp REAL NOT NULL,
    approximate_number_of_messages_to_move INTEGER NOT NULL,
    status TEXT NOT NULL,
    approximate_number_of_messages_moved INTEGER NOT NULL,
    failure_reason TEXT,
    rate_window INTEGER NOT NULL,
    window_moved INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS move_tasks_by_source ON move_tasks (source_arn, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (queue, message_id);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at, seq);
CREATE INDEX IF NOT EXISTS messages_by_age ON messages (queue, sent_timestamp);
-- Send order with the visibility alongside: a standard receive walks it from the oldest and
-- stops after the first visible ones, instead of sorting every visible row.
CREATE INDEX IF NOT EXISTS messages_by_order ON messages (queue, seq, visible_at);
"""

_MESSAGE_COLUMNS = (
    "message_id, body, md5_of_body, message_attributes, md5_of_message_attributes, sender_id, "
    "sent_timestamp, visible_at, receive_count, first_receive_timestamp, last_receive_timestamp, "
    "message_group_id, message_deduplication_id, sequence_number, dead_letter_source_arn"
)
# Columns added after the first release of the schema: files created before get them on open.
_ADDED_MESSAGE_COLUMNS = (
    "message_group_id",
    "message_deduplication_id",
    "sequence_number",
    "dead_letter_source_arn",
)

# DELETE ... RETURNING (SQLite 3.35): a batch delete learns what it deleted in one statement.
_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)

# Long polling across processes: poll PRAGMA data_version with a growing sleep (never spinning).
_POLL_FIRST = 0.005
_POLL_MAX = 0.1


def _encode_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """Message attributes as JSON; binary values in base64 under their own key."""
    if not attributes:
        return "{}"  # most messages: spare json.dumps
    encoded: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        item = {"DataType": attribute["DataType"]}
        if "BinaryValue" in attribute:
            item["BinaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode("ascii")
        else:
            item["StringValue"] = attribute["StringValue"]
        encoded[name] = item
    return json.dumps(encoded, ensure_ascii=False)


def _decode_attributes(text: str) -> dict[str, dict[str, Any]]:
    decoded: dict[str, dict[str, Any]] = {}
    if text == "{}":
        return decoded
    for name, item in json.loads(text).items():
        if "BinaryValue" in item:
            decoded[name] = {
                "DataType": item["DataType"],
                "BinaryValue": base64.b64decode(item["BinaryValue"]),
            }
        else:
            decoded[name] = {"DataType": item["DataType"], "StringValue": item["StringValue"]}
    return decoded


def _message_from_row(row: Sequence[Any]) -> StoredMessage:
    return StoredMessage(
        message_id=row[0],
        body=row[1],
        md5_of_body=row[2],
        message_attributes=_decode_attributes(row[3]),
        md5_of_message_attributes=row[4],
        sender_id=row[5],
        sent_timestamp=row[6],
        visible_at=row[7],
        receive_count=row[8],
        first_receive_timestamp=row[9],
        last_receive_timestamp=row[10],
        message_group_id=row[11],
        message_deduplication_id=row[12],
        sequence_number=row[13],
        dead_letter_source_arn=row[14],
    )


def _message_row(queue: str, m: StoredMessage) -> tuple[Any, ...]:
    return (
        queue,
        m.message_id,
        m.body,
        m.md5_of_body,
        _encode_attributes(m.message_attributes),
        m.md5_of_message_attributes,
        m.sender_id,
        m.sent_timestamp,
        m.visible_at,
        m.receive_count,
        m.first_receive_timestamp,
        m.last_receive_timestamp,
        m.message_group_id,
        m.message_deduplication_id,
        m.sequence_number,
        m.dead_letter_source_arn,
    )


# A move task is flat, so its row is its fields in order (the table names its columns the same).
_MOVE_TASK_COLUMNS = ", ".join(f.name for f in fields(MoveTaskRecord))


def _move_task_row(task: MoveTaskRecord) -> tuple[Any, ...]:
    return astuple(task)


def _move_task_from_row(row: Sequence[Any]) -> MoveTaskRecord:
    return MoveTaskRecord(*row)


_INSERT_MESSAGE = f"INSERT INTO messages (queue, {_MESSAGE_COLUMNS}) VALUES ({', '.join('?' * 16)})"

# A queue's in-flight messages; the (queue, visible_at) index limits the scan to hidden ones.
_IN_FLIGHT = (
    "SELECT COUNT(*) FROM messages WHERE queue = ? AND visible_at > ? AND receive_count > 0 "
    "AND +sent_timestamp > ?"
)
# The first visible unexpired messages of a standard queue, each row led by the in-flight count
# (a constant subquery: SQLite evaluates it once), so a receive checks the limit for free.
_FIRST_VISIBLE_WITH_IN_FLIGHT = (
    "SELECT (SELECT COUNT(*) FROM messages WHERE queue = :queue AND visible_at > :now "
    "AND receive_count > 0 AND +sent_timestamp > :cutoff), "
    f"seq, {_MESSAGE_COLUMNS} FROM messages "
    "WHERE queue = :queue AND seq > -1 AND +visible_at <= :now AND +sent_timestamp > :cutoff "
    "ORDER BY seq LIMIT :n"
)
# Standard receives delete expired rows (which they skip anyway) at most this often per queue,
# in seconds of the broker's clock.
_EXPIRY_INTERVAL = 1.0


# (queue name, attributes JSON) -> the parsed attributes. Stored attributes were validated when
# set, and a QueueAttributes is immutable, so one parse per distinct text serves every read
# (a queue's record is read on each send, receive and delete).
_PARSED_ATTRIBUTES: dict[tuple[str, str], QueueAttributes] = {}
_PARSED_ATTRIBUTES_MAX = 1024


def _record_from_row(row: Sequence[Any]) -> QueueRecord:
    key = (row[0], row[1])
    attributes = _PARSED_ATTRIBUTES.get(key)
    if attributes is None:
        attributes = QueueAttributes.from_aws(row[0], json.loads(row[1]))
        if len(_PARSED_ATTRIBUTES) >= _PARSED_ATTRIBUTES_MAX:
            _PARSED_ATTRIBUTES.clear()
        _PARSED_ATTRIBUTES[key] = attributes
    return QueueRecord(
        name=row[0],
        attributes=attributes,
        created_timestamp=row[2],
        last_modified_timestamp=row[3],
        last_purge_timestamp=row[4],
    )


class SQLiteStore(SQLiteTopicStore, SQLiteStreamStore, SQLiteBusStore, SQLiteIdempotencyStore, Store):
    """State in one SQLite file, shared safely by threads and processes.

    WAL lets readers proceed while one writer commits; every write is one ``BEGIN IMMEDIATE``
    transaction, so two processes receiving at once can never both take the same message. Each
    thread (and each process after a fork) gets its own connection, as sqlite3 connections must
    not be shared across threads mid-transaction.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._expired_at: dict[str, float] = {}  # queue -> when a receive last deleted expired rows
        self._queue_writes = 0  # writes to queue rows through this store (see _record)
        # Idempotent DDL; concurrent openers serialise on SQLite's own lock (busy_timeout).
        connection = self._connection()
        connection.executescript(_SCHEMA)
        self._init_topic_schema(connection)
        self._init_bus_schema(connection)
        self._init_stream_schema(connection)
        self._init_idempotency_schema(connection)
        with self._transaction() as connection:
            present = {row[1] for row in connection.execute("PRAGMA table_info(messages)")}
            for column in _ADDED_MESSAGE_COLUMNS:
                if column not in present:
                    connection.execute(f"ALTER TABLE messages ADD COLUMN {column} TEXT")

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the store is closed")
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves. check_same_thread=False
            # only so close() can close every thread's connection; each is used by one thread.
            connection = sqlite3.connect(
                self._path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
            self._local.pid = os.getpid()
            self._local.records = {}  # queue records by name, for this connection (see _record)
            with self._all_lock:
                self._all.append(connection)
        return connection

    @contextmanager
    def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction. IMMEDIATE takes the write lock up front, so a read-then-update (a
        receive) cannot be interleaved with another process's; plain BEGIN is for reads."""
        connection = self._connection()
        connection.execute(begin)
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _record(self, connection: sqlite3.Connection, name: str) -> QueueRecord:
        """The queue's record, from this connection's cache while nothing can have changed it:
        PRAGMA data_version (cheaper than the read) tells whether another connection committed,
        and ``_queue_writes`` whether this store wrote a queue row since (data_version does not
        see a connection's own commits)."""
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        records: dict[str, tuple[int, int, QueueRecord]] = self._local.records
        cached = records.get(name)
        if cached is not None and cached[0] == version and cached[1] == self._queue_writes:
            return cached[2]
        writes = self._queue_writes  # before the read: a write racing with it re-reads next time
        record = self._read_record(connection, name)
        if len(records) >= _PARSED_ATTRIBUTES_MAX:
            records.clear()
        records[name] = (version, writes, record)
        return record

    def _wrote_queue(self) -> None:
        """After a write to a queues row (inside its transaction): cached records are stale."""
        self._queue_writes += 1

    @staticmethod
    def _read_record(connection: sqlite3.Connection, name: str) -> QueueRecord:
        row = connection.execute(
            "SELECT name, attributes, created_timestamp, last_modified_timestamp, last_purge_timestamp "
            "FROM queues WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise queue_does_not_exist()
        return _record_from_row(row)

    def _optional_record(self, connection: sqlite3.Connection, name: str) -> QueueRecord | None:
        try:
            return self._record(connection, name)
        except AwsError:
            return None

    # ------------------------------------------------------------------ queues

    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        with self._transaction() as connection:
            existing = self._optional_record(connection, record.name)
            if existing is not None:
                return existing
            row = connection.execute(
                "SELECT deleted_at FROM deleted_queues WHERE name = ?", (record.name,)
            ).fetchone()
            if row is not None and record.created_timestamp - row[0] < recreate_after:
                raise queue_deleted_recently()
            connection.execute("DELETE FROM deleted_queues WHERE name = ?", (record.name,))
            connection.execute(
                "INSERT OR IGNORE INTO queues VALUES (?, ?, ?, ?, ?)",
                (
                    record.name,
                    json.dumps(record.attributes.to_aws()),
                    record.created_timestamp,
                    record.last_modified_timestamp,
                    record.last_purge_timestamp,
                ),
            )
            self._wrote_queue()
            return self._record(connection, record.name)

    def get_queue(self, name: str) -> QueueRecord | None:
        try:
            return self._record(self._connection(), name)
        except AwsError:
            return None

    def update_queue(self, name: str, attributes: QueueAttributes, now: float) -> QueueRecord:
        with self._transaction() as connection:
            self._record(connection, name)
            connection.execute(
                "UPDATE queues SET attributes = ?, last_modified_timestamp = ? WHERE name = ?",
                (json.dumps(attributes.to_aws()), now, name),
            )
            self._wrote_queue()
            return self._record(connection, name)

    def delete_queue(self, name: str, now: float) -> None:
        with self._transaction() as connection:
            self._record(connection, name)
            connection.execute("DELETE FROM messages WHERE queue = ?", (name,))
            connection.execute("DELETE FROM deduplication WHERE queue = ?", (name,))
            connection.execute("DELETE FROM receive_attempts WHERE queue = ?", (name,))
            connection.execute("DELETE FROM queues WHERE name = ?", (name,))
            self._wrote_queue()
            connection.execute(
                "INSERT OR REPLACE INTO deleted_queues (name, deleted_at) VALUES (?, ?)", (name, now)
            )

    def queue_names(self) -> list[str]:
        rows = self._connection().execute("SELECT name FROM queues ORDER BY name").fetchall()
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ messages

    def put_messages(self, queue: str, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        with self._transaction() as connection:
            return self._put(connection, self._record(connection, queue), messages)

    def put_messages_many(
        self, batches: Sequence[tuple[str, Sequence[StoredMessage]]]
    ) -> list[list[StoredMessage]]:
        with self._transaction() as connection:
            records = [self._record(connection, queue) for queue, _ in batches]  # all, or nothing
            return [
                self._put(connection, record, messages) for record, (_, messages) in zip(records, batches)
            ]

    def _put(
        self, connection: sqlite3.Connection, record: QueueRecord, messages: Sequence[StoredMessage]
    ) -> list[StoredMessage]:
        """put_messages on one queue, inside the caller's transaction."""
        queue = record.name
        if not record.attributes.fifo_queue:
            connection.executemany(_INSERT_MESSAGE, [_message_row(queue, m) for m in messages])
            return list(messages)
        if messages:
            connection.execute(
                "DELETE FROM deduplication WHERE queue = ? AND expires_at <= ?",
                (queue, messages[0].sent_timestamp),
            )
        stored: list[StoredMessage] = []
        for message in messages:
            scope, deduplication_id = _dedup_key(record, message)
            earlier = connection.execute(
                "SELECT message_id, sequence_number FROM deduplication "
                "WHERE queue = ? AND scope = ? AND deduplication_id = ? AND expires_at > ?",
                (queue, scope, deduplication_id, message.sent_timestamp),
            ).fetchone()
            if earlier is not None:
                stored.append(message.replace(message_id=earlier[0], sequence_number=earlier[1]))
                continue
            message = self._insert_fifo(connection, queue, message)
            connection.execute(
                "INSERT OR REPLACE INTO deduplication VALUES (?, ?, ?, ?, ?, ?)",
                (
                    queue,
                    scope,
                    deduplication_id,
                    message.message_id,
                    message.sequence_number,
                    message.sent_timestamp + DEDUPLICATION_WINDOW,
                ),
            )
            stored.append(message)
        return stored

    @staticmethod
    def _insert_fifo(connection: sqlite3.Connection, queue: str, message: StoredMessage) -> StoredMessage:
        """Insert and number: the row's AUTOINCREMENT key only grows, so it orders sequence numbers."""
        cursor = connection.execute(_INSERT_MESSAGE, _message_row(queue, message))
        assert cursor.lastrowid is not None
        message = message.replace(sequence_number=_sequence_number(cursor.lastrowid))
        connection.execute(
            "UPDATE messages SET sequence_number = ? WHERE seq = ?",
            (message.sequence_number, cursor.lastrowid),
        )
        return message

    def receive(
        self,
        queue: str,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        receive_request_attempt_id: str | None = None,
        in_flight_limit: int | None = None,
    ) -> list[ReceivedMessage]:
        with self._transaction() as connection:
            record = self._record(connection, queue)
            cutoff = _expiry_cutoff(record, now)
            # A standard receive skips expired rows itself (its SELECT filters on the cutoff, as
            # every other read does), so deleting them is housekeeping: once a second per queue.
            # FIFO receives read the whole queue and remember attempts: expired rows go first.
            last = self._expired_at.get(queue)
            if record.attributes.fifo_queue or last is None or not 0 <= now - last < _EXPIRY_INTERVAL:
                connection.execute(
                    "DELETE FROM messages WHERE queue = ? AND sent_timestamp <= ?", (queue, cutoff)
                )
                self._expired_at[queue] = now
            attempt = receive_request_attempt_id
            if attempt is None:
                return self._receive(
                    connection, record, max_messages, now, visibility_timeout, in_flight_limit
                )
            connection.execute(
                "DELETE FROM receive_attempts WHERE queue = ? AND received_at <= ?",
                (queue, now - RECEIVE_ATTEMPT_WINDOW),
            )
            row = connection.execute(
                "SELECT received_at, entries FROM receive_attempts WHERE queue = ? AND attempt_id = ?",
                (queue, attempt),
            ).fetchone()
            at, entries = (row[0], [tuple(e) for e in json.loads(row[1])]) if row else (now, [])
            if _replayable(entries, self._messages_by_id(connection, queue, [e[0] for e in entries])):
                received = self._replay(connection, queue, entries, now + visibility_timeout)
            else:
                at, received = (
                    now,
                    self._receive(connection, record, max_messages, now, visibility_timeout, in_flight_limit),
                )
            connection.execute(
                "INSERT OR REPLACE INTO receive_attempts VALUES (?, ?, ?, ?)",
                (queue, attempt, at, json.dumps(_attempt_entries(received))),
            )
            return received

    @staticmethod
    def _messages_by_id(
        connection: sqlite3.Connection, queue: str, message_ids: Sequence[str]
    ) -> dict[str, StoredMessage]:
        found: dict[str, StoredMessage] = {}
        for message_id in message_ids:
            row = connection.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND message_id = ?",
                (queue, message_id),
            ).fetchone()
            if row is not None:
                found[message_id] = _message_from_row(row)
        return found

    def _replay(
        self,
        connection: sqlite3.Connection,
        queue: str,
        entries: Sequence[_AttemptEntry],
        visible_at: float,
    ) -> list[ReceivedMessage]:
        connection.executemany(
            "UPDATE messages SET visible_at = ? WHERE queue = ? AND message_id = ?",
            [(visible_at, queue, entry[0]) for entry in entries],
        )
        current = self._messages_by_id(connection, queue, [entry[0] for entry in entries])
        return [ReceivedMessage(current[entry[0]], entry[1]) for entry in entries]

    def _receive(
        self,
        connection: sqlite3.Connection,
        record: QueueRecord,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        in_flight_limit: int | None = None,
    ) -> list[ReceivedMessage]:
        """The receive itself, inside the caller's transaction."""
        queue = record.name
        cutoff = _expiry_cutoff(record, now)
        target_name = _dead_letter_name(record)
        target = None
        if target_name is not None:
            target = self._optional_record(connection, target_name)
            if not _usable_target(record, target):
                target = None
        if record.attributes.fifo_queue:
            rows = connection.execute(
                f"SELECT seq, {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? ORDER BY seq", (queue,)
            ).fetchall()
            ordered = _fifo_order([_message_from_row(row[1:]) for row in rows], now)
            seqs = {row[1]: row[0] for row in rows}
            candidates: Iterable[tuple[int, StoredMessage]] = ((seqs[m.message_id], m) for m in ordered)
        else:
            # The in-flight count rides on the first read of visible messages (one statement).
            first = connection.execute(
                _FIRST_VISIBLE_WITH_IN_FLIGHT,
                {"queue": queue, "now": now, "cutoff": cutoff, "n": max_messages},
            ).fetchall()
            if in_flight_limit is not None:
                if first:
                    in_flight = first[0][0]
                else:
                    (in_flight,) = connection.execute(_IN_FLIGHT, (queue, now, cutoff)).fetchone()
                room = in_flight_limit - in_flight
                if room <= 0:
                    raise InFlightLimitReached()
                max_messages = min(max_messages, room)
            candidates = self._visible_in_send_order(connection, queue, now, cutoff, max_messages, first)
        taken: list[tuple[int, StoredMessage]] = []
        for seq, candidate in candidates:
            if target is not None and _exceeds(record, candidate):
                connection.execute("DELETE FROM messages WHERE seq = ?", (seq,))
                arrived = _moved(record, candidate, now)
                if target.attributes.fifo_queue:
                    self._insert_fifo(connection, target.name, arrived)
                else:
                    connection.execute(_INSERT_MESSAGE, _message_row(target.name, arrived))
                continue
            taken.append((seq, candidate.received(now, visibility_timeout)))
            if len(taken) == max_messages:
                break
        if taken:
            # One statement for the whole receive: every row taken was read in this transaction,
            # so each one's new state is its old one received at ``now`` (as ``received`` made).
            connection.execute(
                "UPDATE messages SET visible_at = ?, receive_count = receive_count + 1, "
                "first_receive_timestamp = coalesce(first_receive_timestamp, ?), "
                f"last_receive_timestamp = ? WHERE seq IN ({', '.join('?' * len(taken))})",
                (now + visibility_timeout, now, now, *(seq for seq, _ in taken)),
            )
        return [ReceivedMessage(m, make_receipt_handle(queue, m.message_id)) for _, m in taken]

    @staticmethod
    def _visible_in_send_order(
        connection: sqlite3.Connection,
        queue: str,
        now: float,
        cutoff: float,
        chunk: int,
        first: list[Any],
    ) -> Iterator[tuple[int, StoredMessage]]:
        """A standard queue's visible unexpired messages, oldest first: ``first`` (the rows of
        _FIRST_VISIBLE_WITH_IN_FLIGHT), then ``chunk`` at a time (a receive that moves messages to
        a dead-letter queue reads on past them). ``+visible_at`` keeps SQLite on
        messages_by_order: no sort, and it stops once it has enough."""
        rows = first
        while True:
            for row in rows:
                yield row[1], _message_from_row(row[2:])
            if len(rows) < chunk:
                return
            rows = connection.execute(
                f"SELECT NULL, seq, {_MESSAGE_COLUMNS} FROM messages "
                "WHERE queue = ? AND seq > ? AND +visible_at <= ? AND +sent_timestamp > ? "
                "ORDER BY seq LIMIT ?",
                (queue, rows[-1][1], now, cutoff, chunk),
            ).fetchall()

    def delete_messages(
        self, queue: str, message_ids: Sequence[str], in_flight_at: float | None = None
    ) -> list[DeleteResult]:
        distinct = list(dict.fromkeys(message_ids))
        marks = ", ".join("?" * len(distinct))
        # FIFO: only while still in flight (a visible message's handle has expired).
        condition, parameters = ("", ()) if in_flight_at is None else (" AND visible_at > ?", (in_flight_at,))
        with self._transaction() as connection:
            if _RETURNING:
                rows = connection.execute(
                    f"DELETE FROM messages WHERE queue = ? AND message_id IN ({marks}){condition} "
                    "RETURNING message_id",
                    (queue, *distinct, *parameters),
                ).fetchall()
            else:
                found = connection.execute(
                    f"SELECT message_id FROM messages WHERE queue = ? AND message_id IN ({marks}){condition}",
                    (queue, *distinct, *parameters),
                ).fetchall()
                rows = [(message_id,) for (message_id,) in found]
                connection.executemany(
                    "DELETE FROM messages WHERE queue = ? AND message_id = ?", [(queue, r[0]) for r in rows]
                )
            deleted = {row[0] for row in rows}
            expired: set[str] = set()
            if len(deleted) < len(distinct):
                # Something not deleted: the queue may be missing, or (FIFO) a message visible.
                self._record(connection, queue)
                if in_flight_at is not None:
                    left = [i for i in distinct if i not in deleted]
                    expired = {
                        row[0]
                        for row in connection.execute(
                            "SELECT message_id FROM messages WHERE queue = ? "
                            f"AND message_id IN ({', '.join('?' * len(left))})",
                            (queue, *left),
                        )
                    }
        results: list[DeleteResult] = []
        for message_id in message_ids:
            if message_id in expired:
                results.append(DeleteResult.EXPIRED)
            elif message_id in deleted:
                deleted.discard(message_id)  # a repeated id finds it gone
                results.append(DeleteResult.DELETED)
            else:
                results.append(DeleteResult.GONE)
        return results

    def change_visibilities(
        self, queue: str, changes: Sequence[tuple[str, float]], now: float
    ) -> list[ChangeVisibilityResult]:
        with self._transaction() as connection:
            record = self._record(connection, queue)
            cutoff = _expiry_cutoff(record, now)
            results: list[ChangeVisibilityResult] = []
            for message_id, timeout in changes:
                row = connection.execute(
                    "SELECT last_receive_timestamp FROM messages "
                    "WHERE queue = ? AND message_id = ? AND sent_timestamp > ?",
                    (queue, message_id, cutoff),
                ).fetchone()
                if row is None:
                    results.append(ChangeVisibilityResult.NOT_FOUND)
                elif _beyond_limit(row[0], now, timeout):
                    results.append(ChangeVisibilityResult.BEYOND_LIMIT)
                else:
                    connection.execute(
                        "UPDATE messages SET visible_at = ? WHERE queue = ? AND message_id = ?",
                        (now + timeout, queue, message_id),
                    )
                    results.append(ChangeVisibilityResult.CHANGED)
            return results

    def purge(self, queue: str, now: float, min_interval: float) -> bool:
        with self._transaction() as connection:
            record = self._record(connection, queue)
            last = record.last_purge_timestamp
            if last is not None and now - last < min_interval:
                return False
            connection.execute("DELETE FROM messages WHERE queue = ?", (queue,))
            connection.execute("UPDATE queues SET last_purge_timestamp = ? WHERE name = ?", (now, queue))
            self._wrote_queue()
            return True

    def counts(self, queue: str, now: float) -> QueueCounts:
        with self._transaction("BEGIN") as connection:  # one snapshot: the record and the counts agree
            record = self._record(connection, queue)
            row = connection.execute(
                "SELECT "
                "COALESCE(SUM(visible_at <= :now), 0), "
                "COALESCE(SUM(visible_at > :now AND receive_count > 0), 0), "
                "COALESCE(SUM(visible_at > :now AND receive_count = 0), 0) "
                "FROM messages WHERE queue = :queue AND sent_timestamp > :cutoff",
                {"now": now, "queue": queue, "cutoff": _expiry_cutoff(record, now)},
            ).fetchone()
            return QueueCounts(int(row[0]), int(row[1]), int(row[2]))

    def in_flight(self, queue: str, now: float) -> int:
        # Two reads without a transaction around them: an approximate count (spec 1.5) need
        # not see the record and the rows at one instant.
        connection = self._connection()
        record = self._record(connection, queue)
        row = connection.execute(_IN_FLIGHT, (queue, now, _expiry_cutoff(record, now))).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ message move tasks

    def create_move_task(self, record: MoveTaskRecord) -> bool:
        with self._transaction() as connection:
            source = self._record(connection, queue_name_from_arn(record.source_arn))
            active = connection.execute(
                f"SELECT 1 FROM move_tasks WHERE source_arn = ? AND status IN {ACTIVE_MOVE_TASK_STATUSES}",
                (record.source_arn,),
            ).fetchone()
            if active is not None:
                return False
            now = record.started_timestamp
            (visible,) = connection.execute(
                "SELECT COUNT(*) FROM messages WHERE queue = ? AND visible_at <= ? AND sent_timestamp > ?",
                (source.name, now, _expiry_cutoff(source, now)),
            ).fetchone()
            record = replace(record, approximate_number_of_messages_to_move=int(visible))
            self._save_move_task(connection, record)
            return True

    @staticmethod
    def _save_move_task(connection: sqlite3.Connection, record: MoveTaskRecord) -> None:
        connection.execute(
            f"INSERT INTO move_tasks ({_MOVE_TASK_COLUMNS}) VALUES ({', '.join('?' * len(fields(record)))}) "
            "ON CONFLICT (task_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in _MOVE_TASK_COLUMNS.split(", ")[1:]),
            _move_task_row(record),
        )

    @staticmethod
    def _load_move_task(connection: sqlite3.Connection, task_id: str) -> MoveTaskRecord | None:
        row = connection.execute(
            f"SELECT {_MOVE_TASK_COLUMNS} FROM move_tasks WHERE task_id = ?", (task_id,)
        ).fetchone()
        return _move_task_from_row(row) if row is not None else None

    def move_tasks(self, source_arn: str) -> list[MoveTaskRecord]:
        rows = (
            self._connection()
            .execute(
                f"SELECT {_MOVE_TASK_COLUMNS} FROM move_tasks WHERE source_arn = ? ORDER BY seq DESC",
                (source_arn,),
            )
            .fetchall()
        )
        return [_move_task_from_row(row) for row in rows]

    def get_move_task(self, task_id: str) -> MoveTaskRecord | None:
        return self._load_move_task(self._connection(), task_id)

    def active_move_task_ids(self) -> list[str]:
        rows = (
            self._connection()
            .execute(
                f"SELECT task_id FROM move_tasks WHERE status IN {ACTIVE_MOVE_TASK_STATUSES} ORDER BY seq"
            )
            .fetchall()
        )
        return [row[0] for row in rows]

    def cancel_move_task(self, task_id: str) -> MoveTaskRecord | None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE move_tasks SET status = 'CANCELLING' WHERE task_id = ? AND status = 'RUNNING'",
                (task_id,),
            )
            return self._load_move_task(connection, task_id)

    def step_move_task(self, task_id: str, now: float) -> MoveTaskRecord | None:
        with self._transaction() as connection:
            task = self._load_move_task(connection, task_id)
            if task is None or task.status not in ACTIVE_MOVE_TASK_STATUSES:
                return task
            stepped = _settle_cancelling(task) or self._step_moves(connection, task, now)
            self._save_move_task(connection, stepped)
            return stepped

    def _step_moves(self, connection: sqlite3.Connection, task: MoveTaskRecord, now: float) -> MoveTaskRecord:
        source = self._optional_record(connection, queue_name_from_arn(task.source_arn))
        if source is None:
            return replace(task, status="FAILED", failure_reason=MOVE_TASK_TARGET_MISSING)
        connection.execute(
            "DELETE FROM messages WHERE queue = ? AND sent_timestamp <= ?",
            (source.name, _expiry_cutoff(source, now)),
        )
        visible_sql = (
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY seq"
        )

        def target_is_fifo(name: str) -> bool | None:
            target = self._optional_record(connection, name)
            return target.attributes.fifo_queue if target is not None else None

        def move(old: StoredMessage, new: StoredMessage, target: str, fifo: bool) -> None:
            connection.execute(
                "DELETE FROM messages WHERE queue = ? AND message_id = ?", (source.name, old.message_id)
            )
            if fifo:
                self._insert_fifo(connection, target, new)
            else:
                connection.execute(_INSERT_MESSAGE, _message_row(target, new))

        _, budget = _move_budget(task, now)
        rows = connection.execute(f"{visible_sql} LIMIT ?", (source.name, now, budget)).fetchall()
        return _step_moves(
            task,
            now,
            [_message_from_row(row) for row in rows],
            target_is_fifo,
            move,
            lambda: connection.execute(f"{visible_sql} LIMIT 1", (source.name, now)).fetchone() is not None,
        )

    # ------------------------------------------------------------------ long polling

    def version(self) -> int:
        # data_version changes when *another* connection (thread or process) commits; this
        # connection's own commits do not change it, which is what a waiting receiver wants.
        return int(self._connection().execute("PRAGMA data_version").fetchone()[0])

    def wait(self, since: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = _POLL_FIRST
        while self.version() == since:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, _POLL_MAX)

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
