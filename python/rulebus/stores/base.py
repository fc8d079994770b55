"""The store boundary: one abstract class per service (``QueueStore``, ``TopicStore``,
``BusStore``, ``StreamStore``, ``IdempotencyStore``, ``TagStore``), the ``Store`` that composes them, and the
one ``NotFound`` every store raises for a missing queue, bus, rule or stream.

Why: no queue, topic, bus or stream code may know which store it runs on, so that another
backend can plug in. A store owns every *atomic* step of a service's state machine (a receive
that hides messages and mints receipt handles, a purge that checks its interval, a
create-if-absent, a compare-and-set) while validation and AWS's texts stay in the services.
Unless a method says otherwise, each method is one atomic step: on the memory store under its
one lock, on SQLite in one transaction, so every broker and process on the file sees it whole.
Times are always passed in (``now``, epoch seconds of the broker's clock), so tests never sleep.

Each service reaches its part as ``store.queues``, ``store.topics``, ``store.buses``,
``store.streams``, ``store.idempotency`` and ``store.tags``; ``version``/``wait`` (long polls) and
``close`` are the store's own. A part's non-abstract methods are generic defaults a backend may replace with a
faster path (the memory store's native fan-out does) as long as the result is the same.
"""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import cast

from rulebus._core import FanOut, StoredMessage, sns_notification_head
from rulebus._errors import NotFound, RulebusError, StoreRowCorruptError
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores.records import (
    ArchivedEvent,
    ArchiveRecord,
    ChangeVisibilityResult,
    DeleteResult,
    DeleteRuleResult,
    EventBusRecord,
    IdempotencyRecord,
    MoveTaskRecord,
    QueueCounts,
    QueueRecord,
    ReceivedMessage,
    ReplayRecord,
    RuleRecord,
    ShardRecord,
    StoredRecord,
    StreamConsumerRecord,
    StreamLeaseRecord,
    StreamRecord,
    SubscriptionRecord,
    TargetRecord,
    TopicRecord,
)
from rulebus.stores.semantics import is_plain_body, plain_message

# The pauses of the default asyncio wait: short at first (a change is often near), growing to a
# tenth of a second so that idle waiters cost little.
_ASYNC_POLL_FIRST = 0.005
_ASYNC_POLL_MAX = 0.1

__all__ = [
    "BusStore",
    "IdempotencyStore",
    "InvalidStoreURL",
    "NotFound",
    "QueueStore",
    "RecentlyDeleted",
    "Store",
    "StreamStore",
    "TagStore",
    "TopicStore",
]


class InvalidStoreURL(RulebusError, ValueError):
    """:func:`rulebus.stores.open_store` was given a URL it cannot open."""


class RecentlyDeleted(RulebusError):
    """:meth:`QueueStore.create_queue` found the name deleted too recently to be created again."""


# --------------------------------------------------------------------------------------------
# Queues.


class QueueStore(ABC):
    """Queues, their messages and message move tasks. Every method that names a missing queue
    raises :class:`NotFound`, so callers never check-then-act across processes.

    A message is *stored* (visible, or delayed when never received and ``visible_at`` is in the
    future), *in flight* (received at least once and ``visible_at`` in the future) or gone
    (deleted, purged, or past the queue's retention period). Retention is applied lazily: an
    expired message is never returned or counted. FIFO queues add deduplication on send,
    sequence numbers, and a receive in order per group that skips every group with a message in
    flight. Dead-letter moves happen inside a receive, in the same atomic step. The rules
    themselves are :mod:`rulebus.stores.semantics`."""

    # ------------------------------------------------------------------ queues

    @abstractmethod
    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        """Insert ``record`` unless a queue of that name exists; return the stored one (the
        caller compares attributes for CreateQueue's idempotency rule). When no queue of that
        name exists but one was deleted less than ``recreate_after`` seconds before
        ``record.created_timestamp``, insert nothing and raise :class:`RecentlyDeleted`."""

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
        was seen within the deduplication window (per queue, or per group with
        DeduplicationScope=messageGroup; earlier entries of the same call count) is not enqueued:
        its place in the result holds the earlier message's id and sequence number instead
        (:func:`~rulebus.stores.semantics.put_fifo`). ``sent_timestamp`` is the time the window
        is measured from."""

    def put_messages_many(
        self, batches: Sequence[tuple[str, Sequence[StoredMessage]]]
    ) -> list[list[StoredMessage]]:
        """:meth:`put_messages` for several queues in one atomic step: what an SNS topic fanning
        one publish out to many queues needs. Each ``(queue, messages)`` pair is stored exactly as
        ``put_messages(queue, messages)`` would (a queue may appear more than once, its batches
        then stored in order) and the results come back in the same order. When any of the
        queues is missing, :class:`NotFound` is raised and nothing is stored, so a caller that
        must deliver to the others retries queue by queue.

        This default checks the queues first, then stores batch by batch: not atomic across
        queues (a queue deleted in between leaves the batches before it stored). Both stores
        here replace it with one atomic step."""
        for queue, _ in batches:
            if self.get_queue(queue) is None:
                raise NotFound("queue", queue)
        return [self.put_messages(queue, messages) for queue, messages in batches]

    def put_plain_batch(
        self, queue: str, bodies: Sequence[object], sender_id: str, now: float
    ) -> list[tuple[str, str]] | None:
        """SendMessageBatch's usual entries in one step: each of ``bodies`` stored as a new
        message with no attributes, sent by ``sender_id`` at ``now`` (visible after the queue's
        DelaySeconds), when ``queue`` is a standard queue and every body is plain for it
        (:func:`~rulebus.stores.semantics.is_plain_body`). Returns each message's ``(message
        id, MD5 of its body)``, in order; None, having stored nothing, when the queue is FIFO or
        a body is not plain (the caller then sends them the long way); :class:`NotFound` when
        the queue is missing.

        This default builds the messages in Python and stores them with :meth:`put_messages`;
        the memory store does it natively."""
        record = self.get_queue(queue)
        if record is None:
            raise NotFound("queue", queue)
        attributes = record.attributes
        limit = attributes.maximum_message_size
        if attributes.fifo_queue or not all(is_plain_body(body, limit) for body in bodies):
            return None
        visible_at = now + attributes.delay_seconds
        messages = [plain_message(cast(str, body), sender_id, now, visible_at) for body in bodies]
        return [(message.message_id, message.md5_of_body) for message in self.put_messages(queue, messages)]

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
        queue, and the body is plain for it (:func:`~rulebus.stores.semantics.is_plain_body`
        with the queue's MaximumMessageSize); the rest are left alone and their indices
        returned, in order, for the caller to send the long way (where they succeed or fail as
        SendMessage would).

        With ``wrap=(head, tail)`` each body is ``head + body + tail``: one notification whose
        subscriptions differ only in a middle piece (SNS's UnsubscribeURL).

        This default builds the messages in Python and stores them with
        :meth:`put_messages_many`; the memory store does it natively."""
        records: dict[str, QueueRecord | None] = {}
        refused: list[int] = []
        batches: list[tuple[str, list[StoredMessage]]] = []
        for index, (queue, body) in enumerate(deliveries):
            if wrap is not None:
                body = wrap[0] + body + wrap[1]
            if queue not in records:
                try:
                    records[queue] = self.get_queue(queue)
                except StoreRowCorruptError:  # refused: the long way fails that delivery alone
                    records[queue] = None
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
            except (NotFound, StoreRowCorruptError):  # a queue went away in between: all refused
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

        FIFO queues: see :func:`~rulebus.stores.semantics.fifo_candidates`. Queues with a
        RedrivePolicy whose target is usable: a message that would exceed ``maxReceiveCount``
        moves to the target instead (see :func:`~rulebus.stores.semantics.take_for_receive`).

        With ``receive_request_attempt_id`` (FIFO): see
        :func:`~rulebus.stores.semantics.receive_or_replay`; a replay hides the messages again
        until ``now + visibility_timeout`` without counting a receive.

        With ``in_flight_limit`` (standard queues): take no more than keeps the queue's
        in-flight messages within it, and raise :class:`~rulebus.stores.records.InFlightLimitReached`
        when it has that many in flight already."""

    @abstractmethod
    def in_flight(self, queue: str, now: float) -> int:
        """How many messages are in flight now (received, not deleted, still hidden). An
        approximate count: it need not be atomic with anything."""

    def delete_message(self, queue: str, message_id: str, in_flight_at: float | None = None) -> DeleteResult:
        """Delete the message. With ``in_flight_at`` (FIFO queues), only while it is still in flight
        at that time: a FIFO receipt handle expires with the message's visibility."""
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
        """Make the message visible at ``now + timeout``, unless gone or beyond the 12 h limit
        (:func:`~rulebus.stores.semantics.visibility_change`)."""
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
        """Visible, in-flight and delayed messages now, expired ones excluded, at one instant."""

    @abstractmethod
    def peek(self, queue: str, now: float, max_messages: int) -> list[StoredMessage]:
        """The first ``max_messages`` messages the queue holds now (visible, delayed and in
        flight alike, expired ones excluded), in send order, as they are stored: a read that
        changes nothing, so no receive is counted, no visibility changes and no receipt handle
        is minted. For looking at a queue (the console's message browser), not for consuming it."""

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
        as many visible messages (oldest first) as its budget allows
        (:func:`~rulebus.stores.semantics.step_moves`), each as a new message to the destination
        or, without one, back to the queue its DeadLetterQueueSourceArn names. Returns the task
        after the step (None if unknown)."""


# --------------------------------------------------------------------------------------------
# Topics.


class TopicStore(ABC):
    """SNS topics, their subscriptions and the FIFO topics' deduplication and sequence state.

    A topic's *subscription version* changes whenever its subscriptions do, and comes from one
    counter across all topics, so a deleted and re-created topic never repeats a version: a
    ``Topic`` object keeps its subscriptions and refreshes them only when the version moved. A
    missing topic is a version of -1, not an error: a publish asks for the version every time."""

    @abstractmethod
    def create_topic(self, record: TopicRecord) -> TopicRecord:
        """Insert ``record`` unless a topic of that name exists; return the stored one."""

    @abstractmethod
    def get_topic(self, name: str) -> TopicRecord | None:
        """The topic's record, or None."""

    @abstractmethod
    def update_topic(self, record: TopicRecord) -> bool:
        """Replace the attributes of the topic ``record.name`` (SetTopicAttributes), keeping its
        subscriptions and FIFO state; False if there is no such topic."""

    @abstractmethod
    def delete_topic(self, name: str) -> None:
        """Remove the topic, its subscriptions and its FIFO state; absent topics are no error."""

    @abstractmethod
    def topic_names(self) -> list[str]:
        """Every topic's name, sorted."""

    @abstractmethod
    def add_subscription(self, record: SubscriptionRecord) -> tuple[SubscriptionRecord, int]:
        """Insert ``record`` unless the topic has a subscription with the same protocol and
        endpoint (then return that one: the caller compares settings). Also returns the topic's
        subscription version after the call (-1, nothing stored: no such topic)."""

    @abstractmethod
    def update_subscription(self, record: SubscriptionRecord) -> int:
        """Replace a stored subscription (e.g. confirmed); return the new subscription version."""

    @abstractmethod
    def remove_subscription(self, topic: str, subscription_arn: str) -> tuple[bool, int]:
        """Delete a subscription; whether it was there, and the subscription version after."""

    @abstractmethod
    def subscriptions(self, topic: str) -> tuple[int, list[SubscriptionRecord]]:
        """The topic's subscription version and subscriptions, in subscription order, at one instant."""

    @abstractmethod
    def subscriptions_version(self, topic: str) -> int:
        """A number that changes whenever the topic's set of subscriptions (or one of them)
        changes, never reused across deleting and re-creating a topic (-1 for no topic). Need
        not be atomic with anything: a version read just before a change is as good."""

    @abstractmethod
    def fifo_publish(
        self, topic: str, scope: str, deduplication_id: str, message_id: str, now: float, step: int
    ) -> tuple[str, str]:
        """A FIFO topic publish, atomically: when ``(scope, deduplication_id)`` was published less
        than the topic deduplication window before ``now``, the earlier ``(message id, sequence
        number)``; else advance the topic's sequence counter by ``step``, remember the id for the
        window and return ``(message_id, new sequence number)``. A topic deleted under its
        ``Topic`` object keeps this state until the name is created again."""


# --------------------------------------------------------------------------------------------
# Event buses.


class BusStore(ABC):
    """EventBridge buses, rules, targets, archives (with their events), replays and the claims
    of scheduled fires."""

    # ------------------------------------------------------------------ buses

    @abstractmethod
    def create_event_bus(self, record: EventBusRecord) -> bool:
        """Insert the bus; False (and nothing changed) if a bus of that name exists."""

    @abstractmethod
    def get_event_bus(self, name: str) -> EventBusRecord | None:
        """The bus's record, or None."""

    @abstractmethod
    def delete_event_bus(self, name: str) -> None:
        """Remove the bus with its rules and targets (archives stay, as on AWS); absent: no error."""

    @abstractmethod
    def event_bus_names(self) -> list[str]:
        """Every bus's name, sorted."""

    # ------------------------------------------------------------------ rules and targets

    @abstractmethod
    def put_rule(self, record: RuleRecord) -> RuleRecord:
        """Insert the rule or replace the one of that name on that bus (keeping its targets and
        its first ``creation_time``); return the stored record. The bus must exist (the caller
        checked); if it was deleted meanwhile, nothing is stored and :class:`NotFound` is raised."""

    @abstractmethod
    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        """The rule, or None."""

    @abstractmethod
    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        """Delete the rule unless it has targets (HAS_TARGETS, nothing changed)."""

    @abstractmethod
    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        """One consistent snapshot of the bus: its rules version (see :meth:`rules_version`), its
        rules in creation order, and their targets in the order they were first put."""

    @abstractmethod
    def rules_version(self, bus: str) -> int:
        """A number that changes whenever a rule or target of the bus changes (-1: no such bus),
        so a bus object can keep a compiled view and refresh it only when needed."""

    @abstractmethod
    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        """Add or replace (by Id) the rule's targets, in order, as long as the rule keeps at most
        ``limit`` targets; return the Ids refused for the limit (nothing stored for those). The
        rule must exist; if it was deleted meanwhile, nothing is stored and :class:`NotFound` is
        raised (stray targets would otherwise attach to a later rule of that name)."""

    @abstractmethod
    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        """Remove the rule's targets with these Ids; unknown Ids are no error."""

    # ------------------------------------------------------------------ archives

    @abstractmethod
    def create_archive(self, record: ArchiveRecord) -> bool:
        """Insert the archive; False (nothing changed) if one of that name exists."""

    @abstractmethod
    def get_archive(self, name: str) -> ArchiveRecord | None:
        """The archive, or None."""

    @abstractmethod
    def update_archive(self, record: ArchiveRecord) -> bool:
        """Replace the archive's record (events untouched); False if it does not exist."""

    @abstractmethod
    def delete_archive(self, name: str) -> bool:
        """Remove the archive and its events; False if it did not exist."""

    @abstractmethod
    def archives(self) -> list[ArchiveRecord]:
        """Every archive, sorted by name."""

    @abstractmethod
    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        """Append ``(event_time, event_json)`` pairs to the archive, durably before returning. An
        archive that does not exist (deleted meanwhile) keeps nothing, and this is no error."""

    @abstractmethod
    def archive_stats(self, archive: str) -> tuple[int, int]:
        """(EventCount, SizeBytes) of the archive's events."""

    @abstractmethod
    def archived_events(
        self,
        archive: str,
        start: float,
        end: float,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[ArchivedEvent]:
        """Up to ``limit`` events with ``start <= event_time < end``, in (event_time, seq) order,
        starting after the ``(event_time, seq)`` position ``after`` (a replay's resume point)."""

    @abstractmethod
    def trim_archive(self, archive: str, archived_before: float) -> int:
        """Drop the events archived before ``archived_before`` (retention); return how many."""

    # ------------------------------------------------------------------ replays

    @abstractmethod
    def create_replay(self, record: ReplayRecord) -> bool:
        """Insert the replay; False (nothing changed) if one of that name exists."""

    @abstractmethod
    def get_replay(self, name: str) -> ReplayRecord | None:
        """The replay, or None."""

    @abstractmethod
    def update_replay(self, record: ReplayRecord, expected_states: Sequence[str] = ()) -> bool:
        """Replace the replay's record, only if its stored state is one of ``expected_states``
        (any state when empty); False if it was not replaced. Cancelling and progress race
        between threads and processes: this compare-and-set is how they stay consistent."""

    @abstractmethod
    def replays(self) -> list[ReplayRecord]:
        """Every replay, most recently started first."""

    # ------------------------------------------------------------------ schedules

    @abstractmethod
    def claim_schedule_fire(self, bus: str, rule: str, fire_time: float) -> bool:
        """True for the first caller to claim this fire of a scheduled rule, False for every
        other (another thread or process on the store already fired it): each scheduled fire
        happens once however many brokers run schedulers."""


# --------------------------------------------------------------------------------------------
# Streams.


class StreamStore(ABC):
    """Kinesis streams, their shards, their records and the checkpoints of named consumers.
    Methods naming a stream that does not exist raise :class:`NotFound`.

    Sequence numbers are one integer counter per stream: every record, and every reshard, takes
    the next value, so they increase per shard, across shards, and from a parent shard to its
    children (``rulebus.kinesis.stream`` writes them as AWS's 56-digit decimal strings). Hash
    keys are Python ints (128 bits)."""

    @abstractmethod
    def create_stream(self, record: StreamRecord, shards: Sequence[ShardRecord]) -> tuple[StreamRecord, bool]:
        """Insert the stream with its first shards (``record.stream_id`` is ignored: the store
        assigns it); if a stream of that name exists, change nothing. Return the stored record and
        whether it was created."""

    @abstractmethod
    def get_stream(self, name: str) -> StreamRecord | None:
        """The stream's record, or None."""

    @abstractmethod
    def delete_stream(self, name: str) -> bool:
        """Remove the stream with its shards, records, checkpoints and leases; False if absent."""

    @abstractmethod
    def stream_names(self) -> list[str]:
        """Every stream's name, sorted."""

    @abstractmethod
    def update_stream(self, record: StreamRecord) -> bool:
        """Replace the stream's retention and scalings (by name, only if ``record.stream_id`` is
        still the stored one); False otherwise."""

    @abstractmethod
    def stream_shards(self, name: str) -> tuple[int, list[ShardRecord]]:
        """One consistent snapshot: the stream's shards version (changes with every reshard) and
        every shard, in index order."""

    @abstractmethod
    def reshard(
        self, name: str, version: int, close: Sequence[int], create: Sequence[ShardRecord], now: float
    ) -> bool:
        """Close the open shards ``close`` and add ``create`` (their ``starting_seq`` is filled in
        here, after every record of the closed ones), only if the shards version is still
        ``version`` (compare-and-set: another broker may have resharded meanwhile); whether done."""

    @abstractmethod
    def put_stream_records(
        self,
        name: str,
        hash_keys: Sequence[int],
        data: Sequence[bytes],
        partition_keys: Sequence[str],
        now: float,
    ) -> tuple[int, list[int]]:
        """Append the records, each to the open shard whose hash-key range holds its hash key
        (:func:`~rulebus.stores.semantics.route_to_shards`); record i gets sequence number
        ``first + i``. Return ``(first, shard index per record)``."""

    @abstractmethod
    def read_stream_records(
        self, name: str, stream_id: int, shard: int, position: int, limit: int, not_before: float
    ) -> tuple[list[StoredRecord], bool]:
        """Up to ``limit`` records of the shard with ``seq >= position`` that arrived at or after
        ``not_before`` (retention), in order, and whether more follow them. :class:`NotFound` if
        the stream is gone or is no longer the one with ``stream_id``."""

    @abstractmethod
    def stream_position(self, name: str) -> int:
        """The next sequence number the stream will give (what LATEST starts at); it changes with
        every put and reshard, so it doubles as the stream's version for waiting."""

    def stream_view(self, name: str) -> tuple[StreamRecord, int, list[ShardRecord]]:
        """The stream's record, its position (:meth:`stream_position`, read first) and its
        shards, for a reader's pass; :class:`NotFound` if it is not there. A store that can read
        them in one step overrides this."""
        position = self.stream_position(name)
        record = self.get_stream(name)
        if record is None:
            raise NotFound("stream", name)
        return record, position, self.stream_shards(name)[1]

    @abstractmethod
    def trim_stream(self, name: str, not_before: float) -> int:
        """Drop the records that arrived before ``not_before`` and the closed shards that closed
        before it (retention); return how many records went."""

    @abstractmethod
    def stream_checkpoints(self, name: str, stream_id: int, consumer: str) -> dict[int, int]:
        """The consumer's checkpoints: shard index -> the next sequence number to read
        (``SHARD_END`` once the shard is read to its end)."""

    @abstractmethod
    def set_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, int]
    ) -> None:
        """Store these checkpoints of the consumer (other shards' are kept). A stream deleted
        or re-created meanwhile keeps nothing, and this is no error."""

    @abstractmethod
    def acquire_stream_leases(
        self,
        name: str,
        stream_id: int,
        consumer: str,
        worker: str,
        now: float,
        lease_seconds: float,
        shards: Sequence[int],
    ) -> dict[int, int]:
        """One heartbeat of ``worker`` in the consumer group ``consumer``, atomically: record the
        worker live until ``now + lease_seconds``, renew its leases of ``shards`` (the shards it
        finds ready to read: not finished, parents finished) and free its others, then take free
        or expired leases of ``shards`` up to its fair share, freeing those above it so a joining
        worker gets some (:func:`rulebus.stores.leases.lease_shards`). Return what it holds:
        shard -> lease token. :class:`NotFound` if the stream is gone or is not ``stream_id``."""

    @abstractmethod
    def release_stream_leases(self, name: str, stream_id: int, consumer: str, worker: str) -> None:
        """Free every lease of ``worker`` and forget its heartbeat (it closed). A stream deleted
        or re-created meanwhile is no error."""

    @abstractmethod
    def commit_stream_checkpoints(
        self, name: str, stream_id: int, consumer: str, positions: Mapping[int, tuple[int, int]]
    ) -> list[int]:
        """Store checkpoints (shard -> (lease token, position)), each only if the shard's lease
        still has that token (nobody took the shard since: a worker that lost it cannot move the
        checkpoint back). Return the shards refused, in order. A stream deleted or re-created
        meanwhile keeps nothing and refuses nothing."""

    @abstractmethod
    def stream_group(
        self, name: str, stream_id: int, consumer: str
    ) -> tuple[dict[int, StreamLeaseRecord], dict[str, float]]:
        """The group's leases (shard -> lease, freed ones too) and its workers (worker -> the
        expiry of its last heartbeat). :class:`NotFound` as above."""

    @abstractmethod
    def register_stream_consumer(
        self, name: str, stream_id: int, consumer: StreamConsumerRecord, limit: int
    ) -> tuple[StreamConsumerRecord, bool] | None:
        """Register ``consumer`` on the stream (enhanced fan-out) unless one of its name is
        registered: return the stored consumer and whether it was registered now; None when
        the stream already has ``limit`` consumers. :class:`NotFound` if the stream is gone or
        is not the one of ``stream_id``."""

    @abstractmethod
    def stream_consumers(self, name: str, stream_id: int) -> list[StreamConsumerRecord]:
        """The stream's registered consumers, oldest first (:class:`NotFound` as above)."""

    @abstractmethod
    def deregister_stream_consumer(self, name: str, stream_id: int, consumer: str) -> bool:
        """Remove the registered consumer named ``consumer``; False if there is none (or the
        stream is gone)."""

    @abstractmethod
    def wait_stream(self, name: str, since: int, timeout: float) -> None:
        """Block for at most ``timeout`` real seconds, returning early once
        :meth:`stream_position` differs from ``since`` or :meth:`wake_streams` is called.
        Spurious early returns are allowed; a missing stream returns at once."""

    @abstractmethod
    def wake_streams(self) -> None:
        """Wake every :meth:`wait_stream` of this store object (a consumer being closed)."""


# --------------------------------------------------------------------------------------------
# Idempotency keys.


class IdempotencyStore(ABC):
    """One record per key of ``rulebus.idempotent``. A record is *live* until ``expires_at``
    (epoch seconds of the broker's clock): an IN_PROGRESS record expires when its lease runs out,
    a COMPLETED one when its TTL does. A key whose record is not live may be claimed again."""

    @abstractmethod
    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        """Claim ``key`` for ``token``: when it has no record live at ``now``, write an IN_PROGRESS
        one expiring at ``lease_until`` and return None; otherwise write nothing and return the
        live record (IN_PROGRESS: someone else holds it; COMPLETED: it already ran)."""

    @abstractmethod
    def complete_idempotency_key(self, key: str, token: str, result: str | None, expires_at: float) -> bool:
        """Mark the key COMPLETED (with ``result``, until ``expires_at``) if ``token`` still holds
        it, even past its lease when nobody claimed it since; whether it did."""

    @abstractmethod
    def release_idempotency_key(self, key: str, token: str) -> bool:
        """Remove the key's record if ``token`` holds it (the handler failed: let a retry run)."""

    @abstractmethod
    def get_idempotency_record(self, key: str, now: float) -> IdempotencyRecord | None:
        """The key's record if live at ``now``."""

    @abstractmethod
    def delete_idempotency_key(self, key: str) -> bool:
        """Remove the key's record whatever its state; whether there was one."""

    @abstractmethod
    def purge_idempotency_keys(self, now: float) -> int:
        """Remove every record that is not live at ``now``; how many."""


# --------------------------------------------------------------------------------------------
# Tags.


class TagStore(ABC):
    """The tags of every resource (queue, topic, bus, rule, stream), by the resource's ARN: AWS's
    TagQueue, TagResource, AddTagsToStream and their listings. A resource's tags go with it: what
    deletes a resource deletes its tags too."""

    @abstractmethod
    def tags(self, resource: str) -> dict[str, str]:
        """The resource's tags (empty when it has none)."""

    @abstractmethod
    def tag_resource(self, resource: str, tags: Mapping[str, str]) -> None:
        """Add these tags, replacing the values of keys the resource has."""

    @abstractmethod
    def untag_resource(self, resource: str, keys: Sequence[str]) -> None:
        """Remove the tags of these keys (keys it does not have are no error)."""

    @abstractmethod
    def delete_tags(self, resource: str) -> None:
        """Remove every tag of the resource (it was deleted)."""


# --------------------------------------------------------------------------------------------
# The store.


class Store(ABC):
    """One backend's parts, composed: ``queues``, ``topics``, ``buses``, ``streams``,
    ``idempotency`` and ``tags``, which share the backend's state (the memory store's lock, the SQLite
    file's connections) so a step of one is atomic with respect to every other. Plus what spans
    the parts: :meth:`version` and :meth:`wait` for long polls, and :meth:`close`."""

    def __init__(
        self,
        queues: QueueStore,
        topics: TopicStore,
        buses: BusStore,
        streams: StreamStore,
        idempotency: IdempotencyStore,
        tags: TagStore | None = None,
    ) -> None:
        self.queues = queues
        self.topics = topics
        self.buses = buses
        self.streams = streams
        self.idempotency = idempotency
        if tags is None:
            # A backend written before tags existed keeps them in this process only.
            from rulebus.stores.memory.tags import MemoryTagStore

            tags = MemoryTagStore(threading.Lock())
        self.tags = tags

    @abstractmethod
    def version(self) -> int:
        """A token that changes whenever any message state may have changed (take it before a
        receive, then :meth:`wait` on it, so a send in between is not missed)."""

    @abstractmethod
    def wait(self, since: int, timeout: float) -> None:
        """Block for at most ``timeout`` real seconds, returning early once :meth:`version`
        differs from ``since``. Spurious early returns are allowed."""

    async def wait_async(self, since: int, timeout: float) -> None:
        """:meth:`wait` for asyncio: return within ``timeout`` real seconds, early once
        :meth:`version` differs from ``since``, without holding a thread. This default looks
        at :meth:`version` with growing pauses (a store whose changes may come from another
        process cannot be told of them); a store that can signal its own changes overrides it."""
        deadline = time.monotonic() + timeout
        pause = _ASYNC_POLL_FIRST
        while self.version() == since:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, _ASYNC_POLL_MAX)

    def lock_wait(self, seconds: float) -> AbstractContextManager[None]:
        """Within the block, this thread waits at most ``seconds`` (never longer than the store's
        own busy timeout) for a lock held by another connection or process before the step
        fails with :class:`~rulebus.StoreLockedError`: a long poll bounds the wait by what is
        left of its own. A store whose locks are never held for long ignores it."""
        return nullcontext()

    def close(self) -> None:  # noqa: B027 (a store with nothing to release keeps this one)
        """Release resources; the store is unusable afterwards."""
