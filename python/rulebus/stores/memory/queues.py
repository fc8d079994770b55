"""The memory store's queues: each queue's messages in a native ``MemoryQueue``.

``MemoryQueue`` (``rulebus._core``; the ordering is ``rulebus_core::queue``) keeps messages in
send order, the visible ones by send order and the hidden ones by deadline, so a receive takes
the oldest visible in O(log n) whatever is hidden. The SQS rules stay in Python
(:mod:`rulebus.stores.semantics`); the native queue is only where messages live, as immutable
``StoredMessage`` objects (a fan-out's plain messages as native data until first read).
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
    fifo_order,
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


class MemoryQueueStore(QueueStore):
    """Queues in a dict of native ``MemoryQueue``s, every step under the store's one lock."""

    def __init__(self, changes: Changes) -> None:
        self._lock = changes.lock
        self._bump = changes.bump
        self._queues: dict[str, MemoryQueue] = {}
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
        seen = state.deduplication
        if messages:
            now = messages[0].sent_timestamp
            for key in [key for key, entry in seen.items() if entry[0] <= now]:
                del seen[key]

        def earlier(key: tuple[str, str], sent: float) -> tuple[str, str | None] | None:
            entry = seen.get(key)
            return (entry[1], entry[2]) if entry is not None and entry[0] > sent else None

        def enqueue(message: StoredMessage) -> StoredMessage:
            message = self._sequenced(message)
            state.add(message, message.sent_timestamp)
            return message

        def remember(key: tuple[str, str], message: StoredMessage, until: float) -> None:
            seen[key] = (until, message.message_id, message.sequence_number)

        return put_fifo(state.record, messages, earlier, enqueue, remember)

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
            attempts = state.attempts
            for key in [k for k, (at, _) in attempts.items() if at + RECEIVE_ATTEMPT_WINDOW <= now]:
                del attempts[key]
            at, received = receive_or_replay(
                attempts.get(attempt),
                state.get,
                now,
                lambda entries: self._replay(state, entries, now, now + visibility_timeout),
                lambda: self._receive(state, max_messages, now, visibility_timeout),
            )
            attempts[attempt] = (at, attempt_entries(received))
            return received

    @staticmethod
    def _replay(
        state: MemoryQueue, entries: Sequence[AttemptEntry], now: float, visible_at: float
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
        if fifo:
            candidates: Iterator[StoredMessage] = iter(fifo_order(state.values(), now))
        else:
            state.promote(now)
            candidates = iter(lambda: state.take(now), None)

        def dead_letter(_: None, arrived: StoredMessage) -> None:
            nonlocal moved
            assert target is not None
            state.remove(arrived.message_id)
            if target.record.attributes.fifo_queue:
                arrived = self._sequenced(arrived)
            target.add(arrived, now)
            moved = True

        taken = take_for_receive(
            record,
            ((None, message) for message in candidates),
            max_messages,
            now,
            dead_letter if target is not None else None,
        )
        # Placed only now: with a visibility timeout of 0 a message is visible again at once,
        # and one receive must not return it twice.
        received: list[ReceivedMessage] = []
        for _, message in taken:
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
            cutoff = expiry_cutoff(source.record, now)
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

        def move(old: StoredMessage, new: StoredMessage, target: str, fifo: bool) -> None:
            source.remove(old.message_id)
            new = self._sequenced(new) if fifo else new
            self._queues[target].add(new, now)
            self._bump()

        visible = [m for m in source.values() if m.visible_at <= now]
        return step_moves(
            task,
            now,
            visible,
            target_is_fifo,
            move,
            lambda: any(m.visible_at <= now for m in source.values()),
        )
