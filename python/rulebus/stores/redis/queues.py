"""The Redis store's queues: every atomic step of SQS's state machine is one Lua script on the
queue's own keys (see ``lua/queue_prelude.lua`` for the layout).

Moves between queues (a dead-letter move inside a receive, a message move task) cross Redis
Cluster slots, so they go through the source queue's *outbox*: the script that takes the
message from the source puts it, in the same atomic step, on the source's outbox list; then the
message is stored on the target (a script that stores an id once, whatever happens twice) and
only then taken off the outbox. A process that dies in between leaves the entry on the outbox,
and the next receive or move on that queue delivers it: no message is lost on the way, and none
is stored twice unless the target deleted its copy before the delivery was repeated.
"""

from __future__ import annotations

import json
import logging
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from typing import Any

import orjson

from rulebus._core import StoredMessage
from rulebus.sqs.attributes import QueueAttributes
from rulebus.stores.base import NotFound, QueueStore, RecentlyDeleted
from rulebus.stores.codec import decode_message_attributes, encode_message_attributes
from rulebus.stores.receipts import TOKENS, make_receipt_handle, receipt_handle_with_token, sequence_number
from rulebus.stores.records import (
    ACTIVE_MOVE_TASK_STATUSES,
    MAX_TOTAL_VISIBILITY,
    RECEIVE_ATTEMPT_WINDOW,
    ChangeVisibilityResult,
    DeleteResult,
    InFlightLimitReached,
    MoveTaskRecord,
    QueueCounts,
    QueueRecord,
    ReceivedMessage,
)
from rulebus.stores.redis.connection import Connection, ScriptError
from rulebus.stores.semantics import (
    dead_letter_name,
    dead_lettered,
    dedup_key,
    queue_name_from_arn,
    redriven,
    settle_cancelling,
    source_missing,
    step_moves,
    usable_target,
)

__all__ = ["RedisQueueStore"]

logger = logging.getLogger("rulebus.stores.redis")

_NOT_FOUND = "RULEBUS_NOT_FOUND"
_DELETE_RESULTS = {
    "deleted": DeleteResult.DELETED,
    "gone": DeleteResult.GONE,
    "expired": DeleteResult.EXPIRED,
}
_VISIBILITY_RESULTS = {
    "changed": ChangeVisibilityResult.CHANGED,
    "not_found": ChangeVisibilityResult.NOT_FOUND,
    "beyond_limit": ChangeVisibilityResult.BEYOND_LIMIT,
}
# A queue's parsed attributes by (name, attributes JSON): a record is read on most steps, and a
# QueueAttributes is immutable. Bounded.
_PARSED: dict[tuple[str, str], QueueAttributes] = {}
_PARSED_MAX = 1024

# A store object keeps the queue records it read: a record is read on every send, receive and
# delete, and re-read from Redis at most this often (real seconds). A change made through the
# store object is seen at once; one made by another within the second, as SQS's own attribute
# changes take up to 60 seconds to propagate (Amazon SQS API Reference, "SetQueueAttributes").
# Every step still checks in its script that the queue exists.
_RECORD_TTL = 1.0
# A field's length in queue_put's packed argument.
_LENGTH = struct.Struct(">I")
_RECORDS_MAX = 4096


def _number(value: float | None) -> str:
    """A time as Lua reads it back exactly (repr round-trips; "" for none)."""
    return "" if value is None else repr(float(value))


def _blob(message: StoredMessage) -> str:
    """A message's immutable part, as the queue's BODY hash keeps it."""
    fields = [
        message.message_id,
        message.body,
        message.md5_of_body,
        encode_message_attributes(message.message_attributes),
        message.md5_of_message_attributes,
        message.sender_id,
        message.message_group_id,
        message.message_deduplication_id,
        message.dead_letter_source_arn,
        message.aws_trace_header,
    ]
    try:
        return orjson.dumps(fields).decode()
    except TypeError:  # a lone surrogate: text orjson will not write, json will
        return json.dumps(fields)


def _message(blob: str, state: str, fifo: bool) -> StoredMessage:
    """The message of a BODY blob and an ST state string."""
    (message_id, body, md5, attributes, md5_attributes, sender, group, dedup, dead_letter, trace) = (
        json.loads(blob)
    )
    seq, sent, visible_at, count, first, last = state.split("|")
    return StoredMessage(
        message_id,
        body,
        md5,
        decode_message_attributes(attributes),
        md5_attributes,
        sender,
        float(sent),
        float(visible_at),
        int(float(count)),
        float(first) if first else None,
        float(last) if last else None,
        group,
        dedup,
        sequence_number(int(float(seq))) if fifo else None,
        dead_letter,
        trace,
    )


def _arrival(message: StoredMessage) -> list[str]:
    """queue_insert's arguments for a message arriving from another queue (after ``now``)."""
    return [
        message.message_id,
        _blob(message),
        _number(message.sent_timestamp),
        _number(message.visible_at),
        str(message.receive_count),
        _number(message.first_receive_timestamp),
        _number(message.last_receive_timestamp),
        message.message_group_id or "",
    ]


def _put_args(record: QueueRecord, messages: Sequence[StoredMessage]) -> list[Any]:
    """queue_put's arguments: now (the first send time), then each message's arrival and, on a
    FIFO queue, its deduplication key, packed in one string (lua/queue_put.lua)."""
    fifo = record.attributes.fifo_queue
    packed = bytearray()
    for message in messages:
        fields = _arrival(message)
        fields.append("\0".join(dedup_key(record, message)) if fifo else "")
        for field in fields:
            data = field.encode("utf-8", "surrogatepass")
            packed += _LENGTH.pack(len(data))
            packed += data
    return [_number(messages[0].sent_timestamp if messages else 0.0), bytes(packed)]


def _put_answer(
    record: QueueRecord, messages: Sequence[StoredMessage], answer: list[str]
) -> list[StoredMessage]:
    """The messages as stored: on a FIFO queue numbered, and a duplicate as the earlier send."""
    if not record.attributes.fifo_queue:
        return list(messages)
    stored: list[StoredMessage] = []
    for index, message in enumerate(messages):
        message_id, seq = answer[2 * index], answer[2 * index + 1]
        stored.append(message.replace(message_id=message_id, sequence_number=sequence_number(int(seq))))
    return stored


def _meta_record(name: str, meta: dict[str, str]) -> QueueRecord:
    text = meta["attrs"]
    attributes = _PARSED.get((name, text))
    if attributes is None:
        attributes = QueueAttributes.from_aws(name, json.loads(text))
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[(name, text)] = attributes
    purged = meta.get("purged")
    return QueueRecord(
        name=name,
        attributes=attributes,
        created_timestamp=float(meta["created"]),
        last_modified_timestamp=float(meta["modified"]),
        last_purge_timestamp=float(purged) if purged else None,
    )


class RedisQueueStore(QueueStore):
    """Queues on Redis. Each method is one script (one atomic step) on the queue's keys, plus,
    for moves between queues, the outbox's delivery (see the module's docstring)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._names = connection.key("{rb}:queues")
        self._tasks = connection.key("{mt}:tasks")
        self._task_order = connection.key("{mt}:order")
        self._records: dict[str, tuple[float, QueueRecord]] = {}

    def _meta(self, name: str) -> str:
        return self._db.key(f"{{q:{name}}}:meta")

    def _outbox(self, name: str) -> str:
        return self._db.key(f"{{q:{name}}}:outbox")

    def _run(self, script: str, name: str, args: Sequence[Any], announce: bool = False) -> Any:
        """A queue script on queue ``name``; NotFound when the queue does not exist. With
        ``announce``, the change notice for long polls goes in the same round trip."""
        try:
            return self._db.run(script, [self._meta(name)], args, announce=announce)
        except ScriptError as error:
            if error.code == _NOT_FOUND:
                raise NotFound("queue", name) from None
            raise

    def _record(self, name: str) -> QueueRecord:
        record = self.get_queue(name)
        if record is None:
            raise NotFound("queue", name)
        return record

    def _forget(self, name: str) -> None:
        """This process changed the queue's record: the next read goes to Redis."""
        self._records.pop(name, None)

    # ------------------------------------------------------------------ queues

    def create_queue(self, record: QueueRecord, recreate_after: float = 0.0) -> QueueRecord:
        # The name goes into the index first: a process that stops in between leaves a name
        # without a queue, which queue_names leaves out, never a queue without its name.
        self._db.call("SADD", self._names, record.name)
        self._forget(record.name)
        attributes = record.attributes
        try:
            self._run(
                "queue_create",
                record.name,
                [
                    json.dumps(attributes.to_aws()),
                    _number(record.created_timestamp),
                    _number(record.last_modified_timestamp),
                    "1" if attributes.fifo_queue else "0",
                    _number(attributes.message_retention_period),
                    _number(recreate_after),
                ],
            )
        except ScriptError as error:
            if error.code == "RULEBUS_RECENTLY_DELETED":
                raise RecentlyDeleted(record.name) from None
            raise
        return self._record(record.name)

    def get_queue(self, name: str) -> QueueRecord | None:
        now = time.monotonic()
        cached = self._records.get(name)
        if cached is not None and now - cached[0] < _RECORD_TTL:
            return cached[1]
        meta = self._db.call("HGETALL", self._meta(name))
        if not meta or meta.get("exists") != "1":
            self._records.pop(name, None)
            return None
        record = _meta_record(name, meta)
        if len(self._records) >= _RECORDS_MAX:
            self._records.clear()
        self._records[name] = (now, record)
        return record

    def update_queue(self, name: str, attributes: QueueAttributes, now: float) -> QueueRecord:
        self._forget(name)
        self._run(
            "queue_update",
            name,
            [json.dumps(attributes.to_aws()), _number(now), _number(attributes.message_retention_period)],
        )
        self._db.changed()  # a shorter retention or delay can change what a waiter sees
        return self._record(name)

    def delete_queue(self, name: str, now: float) -> None:
        self._deliver_outbox(name)  # what was leaving the queue arrives first
        self._forget(name)
        self._run("queue_delete", name, [_number(now)])
        self._forget(name)
        self._db.call("SREM", self._names, name)
        self._db.changed()

    def queue_names(self) -> list[str]:
        names = sorted(self._db.call("SMEMBERS", self._names))
        present = self._db.pipelined([("HGET", self._meta(name), "exists") for name in names])
        return [name for name, flag in zip(names, present) if flag == "1"]

    # ------------------------------------------------------------------ messages

    def put_messages(self, queue: str, messages: Sequence[StoredMessage]) -> list[StoredMessage]:
        record = self._record(queue)
        answer = self._run("queue_put", queue, _put_args(record, messages), announce=True)
        return _put_answer(record, messages, answer)

    def put_messages_many(
        self, batches: Sequence[tuple[str, Sequence[StoredMessage]]]
    ) -> list[list[StoredMessage]]:
        """One MULTI/EXEC of each queue's put script: Redis runs them together, with nothing of
        another client in between. Each script checks its queue again: one deleted after the
        check here raises NotFound, and the batches of the queues before it in the same call
        are stored (the caller then delivers queue by queue, so those get theirs twice)."""
        records = [self._record(queue) for queue, _ in batches]  # all there, or nothing stored
        calls = [
            ([self._meta(queue)], _put_args(record, messages))
            for record, (queue, messages) in zip(records, batches)
        ]
        answers = self._db.run_many("queue_put", calls)
        stored: list[list[StoredMessage]] = []
        for record, (queue, messages), answer in zip(records, batches, answers):
            if isinstance(answer, ScriptError):
                raise NotFound("queue", queue) if answer.code == _NOT_FOUND else answer
            stored.append(_put_answer(record, messages, answer))
        return stored

    def receive(
        self,
        queue: str,
        max_messages: int,
        now: float,
        visibility_timeout: float,
        receive_request_attempt_id: str | None = None,
        in_flight_limit: int | None = None,
    ) -> list[ReceivedMessage]:
        record = self._record(queue)
        target_name = dead_letter_name(record)
        target = self.get_queue(target_name) if target_name is not None else None
        usable = target is not None and usable_target(record, target)
        policy = record.attributes.redrive_policy
        attempt = receive_request_attempt_id
        # Tokens only where the handles must be remembered (an attempt's replay returns them);
        # otherwise handles are minted natively once the messages are known.
        tokens = [TOKENS.next() for _ in range(max(0, max_messages))] if attempt is not None else []
        args = [
            _number(now),
            _number(visibility_timeout),
            str(max(0, max_messages)),
            "" if in_flight_limit is None else str(in_flight_limit),
            target_name if usable and target_name is not None else "",
            str(policy.max_receive_count) if policy is not None else "0",
            attempt or "",
            _number(RECEIVE_ATTEMPT_WINDOW),
            *tokens,
        ]
        try:
            answer = self._run("queue_receive", queue, args)
        except ScriptError as error:
            if error.code == "RULEBUS_IN_FLIGHT_LIMIT":
                raise InFlightLimitReached() from None
            raise
        if int(answer[0]):
            self._deliver_outbox(queue)
        fifo = record.attributes.fifo_queue
        received: list[ReceivedMessage] = []
        for index in range(1, len(answer), 4):
            message_id, blob, state, token = answer[index : index + 4]
            message = _message(blob, state, fifo)
            handle = (
                receipt_handle_with_token(queue, message_id, token)
                if token
                else make_receipt_handle(queue, message_id)
            )
            received.append(ReceivedMessage(message, handle))
        return received

    def in_flight(self, queue: str, now: float) -> int:
        return self.counts(queue, now).in_flight

    def delete_messages(
        self, queue: str, message_ids: Sequence[str], in_flight_at: float | None = None
    ) -> list[DeleteResult]:
        answer = self._run("queue_messages", queue, ["delete", _number(in_flight_at), *message_ids])
        return [_DELETE_RESULTS[result] for result in answer]

    def change_visibilities(
        self, queue: str, changes: Sequence[tuple[str, float]], now: float
    ) -> list[ChangeVisibilityResult]:
        args = ["visibility", _number(now), _number(MAX_TOTAL_VISIBILITY)]
        for message_id, timeout in changes:
            args += [message_id, _number(timeout)]
        results = [_VISIBILITY_RESULTS[result] for result in self._run("queue_messages", queue, args)]
        if ChangeVisibilityResult.CHANGED in results:
            self._db.changed()
        return results

    def purge(self, queue: str, now: float, min_interval: float) -> bool:
        purged = bool(self._run("queue_messages", queue, ["purge", _number(now), _number(min_interval)]))
        self._forget(queue)  # (its last purge time)
        return purged

    def counts(self, queue: str, now: float) -> QueueCounts:
        visible, in_flight, delayed = self._run("queue_messages", queue, ["counts", _number(now)])
        return QueueCounts(int(visible), int(in_flight), int(delayed))

    def peek(self, queue: str, now: float, max_messages: int) -> list[StoredMessage]:
        if max_messages <= 0:
            self._record(queue)
            return []
        fifo = self._record(queue).attributes.fifo_queue
        answer = self._run("queue_messages", queue, ["peek", _number(now), str(max_messages)])
        return [_message(answer[i + 1], answer[i + 2], fifo) for i in range(0, len(answer), 3)]

    # ------------------------------------------------------------------ the outbox

    def _deliver_outbox(self, queue: str) -> None:
        """Store every message on ``queue``'s outbox on its target, then take it off."""
        outbox = self._outbox(queue)
        while (entry := self._db.call("LINDEX", outbox, 0)) is not None:
            self._deliver(queue, json.loads(entry))
            self._db.call("LREM", outbox, 1, entry)
            self._db.changed()  # a receive waiting on the target should see it

    def _deliver(self, queue: str, entry: list[str]) -> None:
        kind, target, message_id, blob, state, when = entry[:6]
        now = float(when)
        source = self.get_queue(queue)
        original = _message(blob, state, source is not None and source.attributes.fifo_queue)
        if kind == "move":  # a new message, under the id the task drew for it
            arrived = redriven(original, now).replace(message_id=entry[6])
        elif source is not None:
            arrived = dead_lettered(source, original, now)
        else:  # (its source deleted meanwhile: nothing to name as the source)
            arrived = original.replace(
                visible_at=now, receive_count=0, first_receive_timestamp=None, last_receive_timestamp=None
            )
        try:
            self._run("queue_insert", target, [_number(now), *_arrival(arrived)])
        except NotFound:
            # The target went away in between: the message goes back where it was, unchanged.
            try:
                self._run("queue_insert", queue, [_number(now), *_arrival(original)])
            except NotFound:
                logger.warning(
                    "message %s left queue %r for %r, and both are gone", message_id, queue, target
                )

    # ------------------------------------------------------------------ message move tasks

    def _task_script(self, *args: str) -> Any:
        return self._db.run("move_tasks", [self._tasks, self._task_order], list(args))

    @staticmethod
    def _task_json(task: MoveTaskRecord) -> str:
        return json.dumps(asdict(task))

    def create_move_task(self, record: MoveTaskRecord) -> bool:
        source = queue_name_from_arn(record.source_arn)
        visible = self.counts(source, record.started_timestamp).visible
        record = replace(record, approximate_number_of_messages_to_move=visible)
        return bool(self._task_script("create", record.source_arn, record.task_id, self._task_json(record)))

    def _all_tasks(self) -> list[MoveTaskRecord]:
        order = self._db.call("ZRANGE", self._task_order, 0, -1)
        texts = self._db.call("HMGET", self._tasks, *order) if order else []
        return [MoveTaskRecord(**json.loads(text)) for text in texts if text is not None]

    def move_tasks(self, source_arn: str) -> list[MoveTaskRecord]:
        return [task for task in reversed(self._all_tasks()) if task.source_arn == source_arn]

    def get_move_task(self, task_id: str) -> MoveTaskRecord | None:
        text = self._db.call("HGET", self._tasks, task_id)
        return MoveTaskRecord(**json.loads(text)) if text is not None else None

    def active_move_task_ids(self) -> list[str]:
        return [task.task_id for task in self._all_tasks() if task.status in ACTIVE_MOVE_TASK_STATUSES]

    def _replace_task(self, old: MoveTaskRecord, new: MoveTaskRecord) -> bool:
        return bool(self._task_script("replace", old.task_id, self._task_json(old), self._task_json(new)))

    def cancel_move_task(self, task_id: str) -> MoveTaskRecord | None:
        while True:
            task = self.get_move_task(task_id)
            if task is None or task.status != "RUNNING":
                return task
            cancelling = replace(task, status="CANCELLING")
            if self._replace_task(task, cancelling):
                return cancelling

    def step_move_task(self, task_id: str, now: float) -> MoveTaskRecord | None:
        # One stepper at a time per task (a lease that lapses if its holder dies), so that two
        # hosts stepping the same task do not both spend its rate.
        lease = self._db.key(f"{{mt}}:lease:{task_id}")
        if not self._db.call("SET", lease, "1", "NX", "PX", 30_000):
            return self.get_move_task(task_id)
        try:
            task = self.get_move_task(task_id)
            if task is None or task.status not in ACTIVE_MOVE_TASK_STATUSES:
                return task
            stepped = settle_cancelling(task) or self._step_moves(task, now)
            if not self._replace_task(task, stepped):  # cancelled meanwhile: cancel wins next step
                return self.get_move_task(task_id)
            return stepped
        finally:
            self._db.call("DEL", lease)

    def _step_moves(self, task: MoveTaskRecord, now: float) -> MoveTaskRecord:
        source = queue_name_from_arn(task.source_arn)
        record = self.get_queue(source)
        if record is None:
            return source_missing(task)
        fifo = record.attributes.fifo_queue
        self._deliver_outbox(source)

        def target_is_fifo(name: str) -> bool | None:
            target = self.get_queue(name)
            return target.attributes.fifo_queue if target is not None else None

        def candidates() -> Iterator[StoredMessage]:
            while True:
                first = self._run("queue_messages", source, ["first", _number(now)])
                if not first:
                    return
                yield _message(first[1], first[2], fifo)

        def move(old: StoredMessage, new: StoredMessage, target: str, _fifo: bool) -> None:
            self._run(
                "queue_messages", source, ["take", _number(now), old.message_id, target, new.message_id]
            )
            self._deliver_outbox(source)

        return step_moves(
            task, now, candidates(), target_is_fifo, move, lambda: self.counts(source, now).visible > 0
        )
