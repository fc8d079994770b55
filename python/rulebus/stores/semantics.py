"""What every store written in Python does the same way, as pure functions: FIFO group order and
deduplication, retention, the visibility limit, dead-letter moves, receive-attempt replays, move
task budgets, and the routing of stream records to shards.

Why here: a store owns each atomic step (one lock, one transaction) but not the rules inside
it. The memory and SQLite stores (and any later one) read and write their own way and call
these for every decision, so the two cannot drift apart. Functions that must act on the store
mid-decision (enqueue, move) take the action as a callable, run inside the caller's step.

Amazon SQS Developer Guide pages behind these rules: "Amazon SQS FIFO queue message ordering"
(group order), "Exactly-once processing in Amazon SQS" (deduplication), "Amazon SQS visibility
timeout" (the 12-hour limit), "Using dead-letter queues in Amazon SQS" (redrive), and
"Learn how to configure a dead-letter queue redrive in Amazon SQS" (move tasks).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Callable, Protocol, TypeVar

# is_plain_body is native: the one check of a plain body, shared with the memory store's native
# puts (``put_plain_many``, the topic fan-out), so what a send takes the short way on is exactly
# what they store; and on the send hot path it costs less than the Python scans it replaced.
from rulebus._core import StoredMessage, is_plain_body
from rulebus.stores.receipts import new_message_id
from rulebus.stores.records import (
    DEDUPLICATION_WINDOW,
    MAX_TOTAL_VISIBILITY,
    MOVE_TASK_TARGET_MISSING,
    ChangeVisibilityResult,
    MoveTaskRecord,
    QueueRecord,
    ReceivedMessage,
    ShardRecord,
)

__all__ = [
    "AttemptEntry",
    "FifoGroups",
    "attempt_entries",
    "beyond_limit",
    "dead_letter_name",
    "dead_lettered",
    "dedup_key",
    "expiry_cutoff",
    "fifo_candidates",
    "fifo_ready_at",
    "fifo_refile",
    "is_plain_body",
    "move_budget",
    "open_shard_map",
    "plain_message",
    "purge_allowed",
    "put_fifo",
    "queue_name_from_arn",
    "receive_or_replay",
    "redriven",
    "route_to_shards",
    "settle_cancelling",
    "source_missing",
    "step_moves",
    "take_for_receive",
    "usable_target",
    "utf8_size",
    "visibility_change",
]

K = TypeVar("K")

# --------------------------------------------------------------------------------------------
# Queues and messages.


def queue_name_from_arn(arn: str) -> str:
    """The queue name an SQS ARN names (its last segment)."""
    return arn.rsplit(":", 1)[-1]


def plain_message(body: str, sender: str, now: float, visible_at: float) -> StoredMessage:
    """The stored message for a plain body (see :func:`is_plain_body`), no attributes."""
    return StoredMessage(
        new_message_id(), body, hashlib.md5(body.encode()).hexdigest(), {}, None, sender, now, visible_at
    )


def expiry_cutoff(record: QueueRecord, now: float) -> float:
    """Messages sent at or before this instant are past the queue's retention period."""
    return now - record.attributes.message_retention_period


def purge_allowed(record: QueueRecord, now: float, min_interval: float) -> bool:
    """Whether a purge may run now: the last one was at least ``min_interval`` ago."""
    last = record.last_purge_timestamp
    return last is None or now - last >= min_interval


def beyond_limit(last_receive: float | None, now: float, timeout: float) -> bool:
    """Whether a visibility of ``timeout`` from ``now`` would end more than 12 hours after the
    ReceiveMessage that issued it."""
    return last_receive is not None and now + timeout > last_receive + MAX_TOTAL_VISIBILITY


def visibility_change(
    found: bool, last_receive: float | None, now: float, timeout: float
) -> ChangeVisibilityResult:
    """What ChangeMessageVisibility does to a message (``found``: present and unexpired)."""
    if not found:
        return ChangeVisibilityResult.NOT_FOUND
    if beyond_limit(last_receive, now, timeout):
        return ChangeVisibilityResult.BEYOND_LIMIT
    return ChangeVisibilityResult.CHANGED


# --------------------------------------------------------------------------------------------
# FIFO queues.


def dedup_key(record: QueueRecord, message: StoredMessage) -> tuple[str, str]:
    """(scope, deduplication id): the scope is the group with DeduplicationScope=messageGroup."""
    by_group = record.attributes.deduplication_scope == "messageGroup"
    scope = (message.message_group_id or "") if by_group else ""
    return scope, message.message_deduplication_id or ""


def put_fifo(
    record: QueueRecord,
    messages: Sequence[StoredMessage],
    earlier: Callable[[tuple[str, str], float], tuple[str, str | None] | None],
    enqueue: Callable[[StoredMessage], StoredMessage],
    remember: Callable[[tuple[str, str], StoredMessage, float], None],
) -> list[StoredMessage]:
    """Send ``messages`` to a FIFO queue, in order, deduplicated: ``earlier(key, sent)`` is the
    ``(message id, sequence number)`` of a send under that deduplication key whose window is
    still open at ``sent`` (earlier messages of this call included), or None; ``enqueue`` stores
    a message and returns it numbered; ``remember(key, message, until)`` opens its window. A
    duplicate is not stored: its place in the result holds the earlier message's id and number."""
    stored: list[StoredMessage] = []
    for message in messages:
        key = dedup_key(record, message)
        found = earlier(key, message.sent_timestamp)
        if found is not None:
            stored.append(message.replace(message_id=found[0], sequence_number=found[1]))
            continue
        message = enqueue(message)
        remember(key, message, message.sent_timestamp + DEDUPLICATION_WINDOW)
        stored.append(message)
    return stored


def fifo_ready_at(messages: Iterable[StoredMessage], retention: float) -> float:
    """The instant from which a FIFO message group can be served, as its messages stand: ``messages``
    are the group's in send order, read lazily (only the first and the received ones right behind
    it). Strict order within a group: the group waits for its first message to be visible (a
    delayed one holds back the rest) and for every message in flight to become visible again; a
    message stops holding the group back when it expires (``retention`` seconds after it was
    sent). The received messages of a group are always the ones at its front (a receive takes a
    group from its first message on), so those are all that need reading. Minus infinity for an
    empty group."""
    ready = -math.inf
    for index, message in enumerate(messages):
        if index and message.receive_count == 0:
            break
        ready = max(ready, min(message.visible_at, message.sent_timestamp + retention))
    return ready


class FifoGroups(Protocol[K]):
    """A FIFO queue's message groups as a store files them for receiving. Every non-empty group is
    filed either *ready* under a key no later than its first message's place in send order, or
    *waiting* until an instant no later than :func:`fifo_ready_at` gives for it; so a filing may
    be stale (a group emptied or blocked since), never wrong, and a receive corrects what it
    meets. Whatever may make a group servable sooner (a delete, a visibility change, a retention
    change) files it ready again."""

    def ready(self, now: float) -> Iterator[tuple[str, K]]:
        """The groups filed ready (after filing ready those whose wait ended by ``now``), by key,
        ascending, each handed over once; the next one is looked up only when asked for, so a
        group filed again meanwhile under a later key comes again, in its place."""

    def messages(self, group: str) -> Iterator[tuple[K, StoredMessage]]:
        """The group's unexpired messages in send order, each with its key, read lazily."""

    def file(self, group: str, key: K, wake: float | None) -> None:
        """File the group ready under ``key`` (``wake`` None), or waiting until ``wake``."""

    def forget(self, group: str) -> None:
        """The group has no messages: drop its filing."""


def fifo_candidates(
    groups: FifoGroups[K], now: float, retention: float, served: list[str]
) -> Iterator[tuple[K, StoredMessage]]:
    """A FIFO queue's receivable messages in the order a receive takes them (Amazon SQS Developer
    Guide, "Amazon SQS FIFO queue message ordering"): groups by their first message's place in send
    order, oldest first, skipping every group with a message in flight or whose first message is
    delayed; in each group its messages in send order, up to the first one not visible. Groups
    are looked at only as the receive reads on, so a receive touches the groups it takes from
    (and the stale filings it corrects), whatever the backlog. Each group handed out is appended
    to ``served``: the caller files those again (:func:`fifo_refile`) once the receive is done."""
    for group, key in groups.ready(now):
        messages = groups.messages(group)
        head = next(messages, None)
        if head is None:
            groups.forget(group)
            continue
        if head[0] != key:  # messages left the front since it was filed: file it at its place
            groups.file(group, head[0], None)
            continue
        front = [head]
        if head[1].receive_count:
            for item in messages:
                front.append(item)
                if item[1].receive_count == 0:
                    break
        wake = fifo_ready_at((message for _, message in front), retention)
        if wake > now:
            groups.file(group, key, wake)
            continue
        served.append(group)
        for item in itertools.chain(front, messages):
            if item[1].visible_at > now:
                break  # strict order: nothing behind a message that is not visible
            yield item


def fifo_refile(groups: FifoGroups[K], group: str, now: float, retention: float) -> None:
    """File ``group`` by what it holds now (after a receive took from it)."""
    messages = groups.messages(group)
    head = next(messages, None)
    if head is None:
        groups.forget(group)
        return
    front = itertools.chain([head[1]], (message for _, message in messages))
    wake = fifo_ready_at(front, retention)
    groups.file(group, head[0], wake if wake > now else None)


# --------------------------------------------------------------------------------------------
# Dead-letter queues.


def exceeds(record: QueueRecord, message: StoredMessage) -> bool:
    """Whether receiving ``message`` once more would exceed the queue's maxReceiveCount."""
    policy = record.attributes.redrive_policy
    return policy is not None and message.receive_count >= policy.max_receive_count


def dead_letter_name(record: QueueRecord) -> str | None:
    """The queue the RedrivePolicy names (None without one, or when it names the queue itself)."""
    policy = record.attributes.redrive_policy
    if policy is None:
        return None
    name = queue_name_from_arn(policy.dead_letter_target_arn)
    return None if name == record.name else name


def usable_target(source: QueueRecord, target: QueueRecord | None) -> bool:
    """Whether a receive moves messages to ``target``. One deleted or replaced by a queue of the
    other type since the policy was set is not used: the message stays where it is, as it would
    on a queue without a policy."""
    return target is not None and target.attributes.fifo_queue == source.attributes.fifo_queue


def dead_lettered(source: QueueRecord, message: StoredMessage, now: float) -> StoredMessage:
    """The message as it arrives on the dead-letter queue: same id, body, attributes and
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


def take_for_receive(
    source: QueueRecord,
    candidates: Iterable[tuple[K, StoredMessage]],
    max_messages: int,
    now: float,
    dead_letter: Callable[[K, StoredMessage], None] | None,
) -> list[tuple[K, StoredMessage]]:
    """The ``(key, message)`` candidates a receive takes, oldest first, up to ``max_messages``.
    With ``dead_letter`` (the source's dead-letter queue is usable), a candidate that would
    exceed maxReceiveCount is not taken: ``dead_letter(key, message as it arrives there)`` moves
    it, in the same step, so a message is delivered exactly maxReceiveCount times."""
    taken: list[tuple[K, StoredMessage]] = []
    if max_messages <= 0:
        return taken
    for key, message in candidates:
        if dead_letter is not None and exceeds(source, message):
            dead_letter(key, dead_lettered(source, message, now))
            continue
        taken.append((key, message))
        if len(taken) == max_messages:
            break
    return taken


# --------------------------------------------------------------------------------------------
# FIFO ReceiveRequestAttemptId.

#: A remembered FIFO receive, per message: (message id, receipt handle, visible_at, receive
#: count) as that receive left it; any difference later means the message was modified.
AttemptEntry = tuple[str, str, float, int]


def attempt_entries(received: Sequence[ReceivedMessage]) -> list[AttemptEntry]:
    return [
        (r.message.message_id, r.receipt_handle, r.message.visible_at, r.message.receive_count)
        for r in received
    ]


def _replayable(entries: Sequence[AttemptEntry], current: Callable[[str], StoredMessage | None]) -> bool:
    def unchanged(entry: AttemptEntry) -> bool:
        message = current(entry[0])
        return message is not None and (message.visible_at, message.receive_count) == entry[2:]

    return bool(entries) and all(unchanged(entry) for entry in entries)


def receive_or_replay(
    remembered: tuple[float, Sequence[AttemptEntry]] | None,
    current: Callable[[str], StoredMessage | None],
    now: float,
    replay: Callable[[Sequence[AttemptEntry]], list[ReceivedMessage]],
    receive: Callable[[], list[ReceivedMessage]],
) -> tuple[float, list[ReceivedMessage]]:
    """A receive under a ReceiveRequestAttemptId: when the receive ``remembered`` under it
    (``(when, entries)``, already limited to the attempt window) returned messages and none of
    them was deleted, expired, received again or had its visibility changed since (``current``
    reads a message by id), ``replay(entries)`` returns them again with the same handles;
    otherwise ``receive()`` receives as usual. Returns the time to remember the attempt by (the
    first receive's) and the messages; the caller remembers :func:`attempt_entries` of them."""
    at, entries = remembered if remembered is not None else (now, ())
    if _replayable(entries, current):
        return at, replay(entries)
    return now, receive()


# --------------------------------------------------------------------------------------------
# Message move tasks.


def redriven(message: StoredMessage, now: float) -> StoredMessage:
    """A message as a move task delivers it: a *new* message (new id, sent now, never received,
    so its receive count starts again) with the same body, attributes, group and deduplication
    id; the store numbers it on a FIFO target."""
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


def move_budget(task: MoveTaskRecord, now: float) -> tuple[int, int]:
    """The second of the task's life ``now`` falls in, and how many messages the task may still
    move in it: at most ``rate`` per second of the broker's clock, and never more than it set out
    to move."""
    window = max(0, math.floor(now - task.started_timestamp))
    used = task.window_moved if window == task.rate_window else 0
    left = task.approximate_number_of_messages_to_move - task.approximate_number_of_messages_moved
    return window, max(0, min(task.rate - used, left))


def step_moves(
    task: MoveTaskRecord,
    now: float,
    candidates: Iterable[StoredMessage],
    target_is_fifo: Callable[[str], bool | None],
    move: Callable[[StoredMessage, StoredMessage, str, bool], None],
    any_visible_left: Callable[[], bool],
) -> MoveTaskRecord:
    """One step of a RUNNING task, whatever the store: ``candidates`` are the source's visible
    messages, oldest first; ``target_is_fifo(name)`` is None for a missing queue; ``move(old, new,
    target, fifo)`` removes ``old`` from the source and enqueues ``new`` on ``target``. No
    candidate is asked for beyond the step's budget (a store may take them one at a time)."""
    window, budget = move_budget(task, now)
    moved = 0
    failed = False
    remaining = iter(candidates)
    while moved < budget:
        message = next(remaining, None)
        if message is None:
            break
        # Without a DestinationArn each message goes back where it was dead-lettered from; one
        # that never was (sent straight to the DLQ) has nowhere to go, like a deleted queue.
        arn = task.destination_arn or message.dead_letter_source_arn
        target = queue_name_from_arn(arn) if arn else None
        fifo = target_is_fifo(target) if target is not None else None
        if target is None or fifo is None:
            failed = True
            break
        move(message, redriven(message, now), target, fifo)
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


def settle_cancelling(task: MoveTaskRecord | None) -> MoveTaskRecord | None:
    """A CANCELLING task's next step ends it; None when the task needs a real step."""
    if task is not None and task.status == "CANCELLING":
        return replace(task, status="CANCELLED")
    return None


def source_missing(task: MoveTaskRecord) -> MoveTaskRecord:
    """A task whose source queue is gone: it fails as one whose target is."""
    return replace(task, status="FAILED", failure_reason=MOVE_TASK_TARGET_MISSING)


# --------------------------------------------------------------------------------------------
# Streams and archives.


def open_shard_map(shards: Sequence[ShardRecord]) -> tuple[list[int], list[int]]:
    """The open shards' StartingHashKeys, sorted, and their indexes alongside (for routing)."""
    opened = sorted((s.starting_hash_key, s.index) for s in shards if s.ending_seq is None)
    return [start for start, _ in opened], [index for _, index in opened]


def route_to_shards(starts: Sequence[int], indexes: Sequence[int], hash_keys: Sequence[int]) -> list[int]:
    """The open shard (index) of each hash key; ``starts``/``indexes`` as :func:`open_shard_map`
    gives them, which together cover 0 .. 2^128-1."""
    right = bisect.bisect_right
    return [indexes[right(starts, key) - 1] for key in hash_keys]


def utf8_size(text: str) -> int:
    """An archived event's size: its UTF-8 length."""
    return len(text.encode("utf-8"))
