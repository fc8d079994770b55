"""The memory store's queues: each queue's messages in a native ``MemoryQueue``.

``MemoryQueue`` (``rulebus._core``; the ordering is ``rulebus_core::queue``) keeps messages in
send order, the visible ones by send order and the hidden ones by deadline, so a receive takes
the oldest visible in O(log n) whatever is hidden. The SQS rules stay in Python
(:mod:`rulebus.stores.semantics`); the native queue is only where messages live, as immutable
``StoredMessage`` objects (a fan-out's plain messages as native data until first read).

Beside each queue (:mod:`rulebus.stores.memory.fifo`): the windows of its deduplication ids and
ReceiveRequestAttemptIds, which lapse from the front, and a FIFO queue's message groups filed
ready or waiting, so that a send, a receive and the counts cost the same at any backlog.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from rulebus._core import (
    FanOut,
    MemoryQueue,
    StoredMessage,
    put_notifications,
    put_plain_many,
)
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores.base import NotFound, QueueStore, RecentlyDeleted
from rulebus.stores.memory.changes import Changes
from rulebus.stores.memory.fifo import MemoryFifoGroups, Window
from rulebus.stores.receipts import TOKENS, make_receipt_handle, sequence_number
from rulebus.stores.records import (
    ACTIVE_MOVE_TASK_STATUSES,
    RECEIVE_ATTEMPT_WINDOW,
    ChangeVisibilityResult,
    DeleteResult,
    InFlightLimitReached,
    MoveTaskRecord,
    QueueCounts,
    QueueRecord,
    ReceivedMessage,
)
from rulebus.stores.semantics import (
    AttemptEntry,
    attempt_entries,
    dead_letter_name,
    expiry_cutoff,
    fifo_candidates,
    fifo_refile,
    purge_allowed,
    put_fifo,
    queue_name_from_arn,
    receive_or_replay,
    settle_cancelling,
    source_missing,
    step_moves,
    take_for_receive,
    usable_target,
    visibility_change,
)

__all__ = ["MemoryQueueStore"]


class _Beside:
    """What a queue keeps beside its messages: the windows of its deduplication ids (FIFO) and
    ReceiveRequestAttemptIds, and its message groups (FIFO)."""

    def __init__(self, state: MemoryQueue) -> None:
        # (scope, deduplication id) -> (message id, sequence number)
        self.deduplication: Window[tuple[str, str], tuple[str, str | None]] = Window()
        # attempt id -> (when first received, what it returned)
        self.attempts: Window[str, tuple[float, list[AttemptEntry]]] = Window()
        self.groups = MemoryFifoGroups(state) if state.record.attributes.fifo_queue else None


class MemoryQueueStore(QueueStore):
    """Queues in a dict of native ``MemoryQueue``s, every step under the store's one lock."""

    def __init__(self, changes: Changes) -> None:
        self._lock = changes.lock
        self._bump = changes.bump
        self._queues: dict[str, MemoryQueue] = {}
        self._beside: dict[str, _Beside] = {}
        self._deleted: dict[str, float] = {}  # queue name -> when it was last deleted
        self._sequence = 0  # FIFO sequence numbers, increasing across all queues
        self._move_tasks: dict[str, MoveTaskRecord] = {}  # in start order

    def _queue(self, name: str) -> MemoryQueue:
        queue = self._queues.get(name)
        if queue is None:
            raise NotFound("queue", name)
        return queue

    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        with self._lock:
            existing = self._queues.get(record.name)
            if existing is not None:
                return existing.record
            deleted = self._deleted.get(record.name)
            if deleted is not None and record.created_timestamp - deleted < recreate_after:
                raise RecentlyDeleted(record.name)
            self._deleted.pop(record.name, None)
            state = self._queues[record.name] = MemoryQueue(record)
            self._beside[record.name] = _Beside(state)
            return record

    def get_queue(self, name: str) -> QueueRecord | None:
        with self._lock:
            queue = self._queues.get(name)
            return queue.record if queue is not None else None

    def update_queue(self, name: str, attributes: QueueAttributes, now: float) -> QueueRecord:
        with self._lock:
            queue = self._queue(name)
            queue.record = replace(queue.record, attributes=attributes, last_modified_timestamp=now)
            groups = self._beside[name].groups
            if groups is not None:
                groups.touch_all()  # a new retention period changes when groups unblock
            self._bump()  # a shorter retention or delay can change what a waiter sees
            return queue.record

    def delete_queue(self, name: str, now: float) -> None:
        with self._lock:
            self._queue(name)
            del self._queues[name]
            del self._beside[name]
            self._deleted[name] = now
            self._bump()  # waiters on the queue should find out it is gone

    def queue_names(self) -> list[str]:
        with self._lock:
            return sorted(self._queues)

    # ------------------------------------------------------------------ messages

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

    def put_plain_batch(
        self, queue: str, bodies: Sequence[object], sender_id: str, now: float
    ) -> list[tuple[str, str]] | None:
        with self._lock:
            stored = self._queue(queue).put_plain_batch(list(bodies), sender_id, now, TOKENS)
            if stored:
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
            refused = put_plain_many(self._queues, deliveries, sender_id, now, TOKENS)
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
            refused = put_notifications(self._queues, topic, publishes, sender_id, now, timestamp, TOKENS)
            if publishes:
                self._bump()  # (also when all were refused: a waiter looks again, finds nothing)
            return refused

    def _put(self, state: MemoryQueue, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        """put_messages on one queue, under the lock."""
        if not state.record.attributes.fifo_queue:
            for message in messages:
                state.add(message, message.sent_timestamp)
            return list(messages)
        beside = self._beside[state.record.name]
        seen = beside.deduplication
        groups = beside.groups
        assert groups is not None
        if messages:
            seen.expire(messages[0].sent_timestamp)

        def enqueue(message: StoredMessage) -> StoredMessage:
            message = self._sequenced(message)
            state.add(message, message.sent_timestamp)
            groups.add(message)
            return message

        def remember(key: tuple[str, str], message: StoredMessage, until: float) -> None:
            seen.put(key, until, (message.message_id, message.sequence_number))

        return put_fifo(state.record, messages, seen.get, enqueue, remember)

    def _add(self, target: MemoryQueue, message: StoredMessage, now: float) -> None:
        """A message arriving from another queue (a dead-letter or move task move), numbered
        anew on a FIFO queue."""
        groups = self._beside[target.record.name].groups
        if groups is not None:
            message = self._sequenced(message)
        target.add(message, now)
        if groups is not None:
            groups.add(message)

    def _sequenced(self, message: StoredMessage) -> StoredMessage:
        self._sequence += 1
        return message.replace(sequence_number=sequence_number(self._sequence))

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
            attempts = self._beside[queue].attempts
            attempts.expire(now - RECEIVE_ATTEMPT_WINDOW)
            at, received = receive_or_replay(
                attempts.get(attempt, now - RECEIVE_ATTEMPT_WINDOW),
                state.get,
                now,
                lambda entries: self._replay(state, entries, now, now + visibility_timeout),
                lambda: self._receive(state, max_messages, now, visibility_timeout),
            )
            attempts.put(attempt, at, (at, attempt_entries(received)))
            return received

    def _replay(
        self, state: MemoryQueue, entries: Sequence[AttemptEntry], now: float, visible_at: float
    ) -> list[ReceivedMessage]:
        groups = self._beside[state.record.name].groups
        received = []
        for message_id, receipt_handle, _, _ in entries:
            message = state[message_id].replace(visible_at=visible_at)
            state.update(message, now)
            if groups is not None:
                groups.touch(message.message_group_id)  # hidden anew, perhaps for less long
            received.append(ReceivedMessage(message, receipt_handle))
        return received

    def _receive(
        self, state: MemoryQueue, max_messages: int, now: float, visibility_timeout: float
    ) -> list[ReceivedMessage]:
        """The receive itself, under the lock."""
        record = state.record
        target_name = dead_letter_name(record)
        target = self._queues.get(target_name) if target_name is not None else None
        if target is not None and not usable_target(record, target.record):
            target = None
        queue = record.name
        fifo = record.attributes.fifo_queue
        if not fifo and target is None:
            # Nothing to move: the queue takes and receives the oldest ones by itself.
            return [
                ReceivedMessage(m, make_receipt_handle(queue, m.message_id))
                for m in state.receive(max_messages, now, visibility_timeout)
            ]
        moved = False
        groups = self._beside[queue].groups
        served: list[str] = []
        retention = record.attributes.message_retention_period
        candidates: Iterator[tuple[int | None, StoredMessage]]
        if groups is not None:
            in_groups: Iterator[tuple[int, StoredMessage]] = fifo_candidates(groups, now, retention, served)
            candidates = in_groups
        else:
            state.promote(now)
            candidates = ((None, message) for message in iter(lambda: state.take(now), None))

        def dead_letter(_: int | None, arrived: StoredMessage) -> None:
            nonlocal moved
            assert target is not None
            state.remove(arrived.message_id)
            self._add(target, arrived, now)
            moved = True

        taken = take_for_receive(
            record, candidates, max_messages, now, dead_letter if target is not None else None
        )
        # Placed only now: with a visibility timeout of 0 a message is visible again at once,
        # and one receive must not return it twice.
        received: list[ReceivedMessage] = []
        for _, message in taken:
            updated = message.received(now, visibility_timeout)
            state.update(updated, now)
            received.append(ReceivedMessage(updated, make_receipt_handle(queue, message.message_id)))
        if groups is not None:
            for group in served:
                fifo_refile(groups, group, now, retention)
        if moved:
            self._bump()  # a receive waiting on the dead-letter queue should see them
        return received

    def delete_messages(
        self, queue: str, message_ids: Sequence[str], in_flight_at: float | None = None
    ) -> list[DeleteResult]:
        with self._lock:
            state = self._queue(queue)
            groups = self._beside[queue].groups
            if groups is None and in_flight_at is None:
                # A standard queue: nothing to read of the message, only whether it is there.
                remove = state.remove
                return [
                    DeleteResult.DELETED if remove(message_id) else DeleteResult.GONE
                    for message_id in message_ids
                ]
            results: list[DeleteResult] = []
            for message_id in message_ids:
                message = state.get(message_id)
                if message is None:
                    results.append(DeleteResult.GONE)
                elif in_flight_at is not None and message.visible_at <= in_flight_at:
                    results.append(DeleteResult.EXPIRED)
                else:
                    state.remove(message_id)
                    if groups is not None:
                        groups.touch(message.message_group_id)  # it may have held its group back
                    results.append(DeleteResult.DELETED)
            return results

    def change_visibilities(
        self, queue: str, changes: Sequence[tuple[str, float]], now: float
    ) -> list[ChangeVisibilityResult]:
        with self._lock:
            state = self._queue(queue)
            groups = self._beside[queue].groups
            cutoff = expiry_cutoff(state.record, now)
            results: list[ChangeVisibilityResult] = []
            for message_id, timeout in changes:
                message = state.get(message_id)
                found = message is not None and message.sent_timestamp > cutoff
                result = visibility_change(
                    found, message.last_receive_timestamp if message is not None else None, now, timeout
                )
                if result is ChangeVisibilityResult.CHANGED:
                    assert message is not None
                    state.update(message.replace(visible_at=now + timeout), now)
                    if groups is not None:
                        groups.touch(message.message_group_id)
                results.append(result)
            if ChangeVisibilityResult.CHANGED in results:
                self._bump()
            return results

    def purge(self, queue: str, now: float, min_interval: float) -> bool:
        with self._lock:
            state = self._queue(queue)
            if not purge_allowed(state.record, now, min_interval):
                return False
            state.clear()
            groups = self._beside[queue].groups
            if groups is not None:
                groups.clear()
            state.record = replace(state.record, last_purge_timestamp=now)
            return True

    def counts(self, queue: str, now: float) -> QueueCounts:
        with self._lock:
            return QueueCounts(*self._queue(queue).counts(now))

    def peek(self, queue: str, now: float, max_messages: int) -> list[StoredMessage]:
        with self._lock:
            state = self._queue(queue)
            # Filtered here rather than dropped from the queue: a peek changes nothing.
            # Natively, taking only what it shows: a console peeking a queue of a million
            # messages makes ten objects, not a million.
            return state.peek(max(0, max_messages), expiry_cutoff(state.record, now))

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
            # Read from the queue's filing (after expiry and promotion), not message by message.
            visible = source.counts(record.started_timestamp)[0]
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
            stepped = settle_cancelling(task) or self._step_moves(task, now)
            self._move_tasks[task_id] = stepped
            return stepped

    def _step_moves(self, task: MoveTaskRecord, now: float) -> MoveTaskRecord:
        source = self._queues.get(queue_name_from_arn(task.source_arn))
        if source is None:
            return source_missing(task)
        source.drop_expired(now)

        def target_is_fifo(name: str) -> bool | None:
            target = self._queues.get(name)
            return target.record.attributes.fifo_queue if target is not None else None

        groups = self._beside[source.record.name].groups
        held: list[StoredMessage] = []  # the message taken and not moved yet

        def move(old: StoredMessage, new: StoredMessage, target: str, fifo: bool) -> None:
            held.clear()
            source.remove(old.message_id)
            if groups is not None:
                groups.touch(old.message_group_id)
            self._add(self._queues[target], new, now)
            self._bump()

        # The visible messages, oldest first, taken one at a time from the queue's filing: a
        # step costs what it moves, however many the source holds. A message taken is out of
        # the filing until moved (removed) or filed again below.
        source.promote(now)

        def candidates() -> Iterator[StoredMessage]:
            while (message := source.take(now)) is not None:
                held[:] = [message]
                yield message

        stepped = step_moves(task, now, candidates(), target_is_fifo, move, lambda: source.counts(now)[0] > 0)
        for message in held:  # taken, not moved: the step stopped at it
            source.update(message, now)
        return stepped
