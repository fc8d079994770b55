"""The values exchanged with stores: one frozen record per thing a service keeps, the results of
the steps that can find several outcomes, and the limits every store applies alike.

Records carry no behaviour beyond small derived properties: AWS's rules live in the services
(what to answer) and in :mod:`rulebus.stores.semantics` (what every store does the same way).
Patterns, targets, events and policies are the JSON texts the services wrote and validated; a
store keeps them without reading them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from rulebus._core import StoredMessage
from rulebus.sqs.attributes import QueueAttributes

__all__ = [
    "ACTIVE_MOVE_TASK_STATUSES",
    "COMPLETED",
    "DEDUPLICATION_WINDOW",
    "IN_PROGRESS",
    "MAX_TOTAL_VISIBILITY",
    "MOVE_TASK_TARGET_MISSING",
    "RECEIVE_ATTEMPT_WINDOW",
    "SHARD_END",
    "TOPIC_DEDUPLICATION_WINDOW",
    "TOPIC_SEQUENCE_BASE",
    "ArchiveRecord",
    "ArchivedEvent",
    "ChangeVisibilityResult",
    "Clock",
    "DeleteResult",
    "DeleteRuleResult",
    "EventBusRecord",
    "IdempotencyRecord",
    "InFlightLimitReached",
    "MoveTaskRecord",
    "QueueCounts",
    "QueueRecord",
    "ReceivedMessage",
    "ReplayRecord",
    "RuleRecord",
    "ShardRecord",
    "StoredMessage",
    "StoredRecord",
    "StreamConsumerRecord",
    "StreamLeaseRecord",
    "StreamRecord",
    "SubscriptionRecord",
    "TargetRecord",
    "TopicRecord",
]

#: The broker's clock: epoch seconds as a float. ``time.time`` unless a test injects its own.
Clock = Callable[[], float]

# --------------------------------------------------------------------------------------------
# Queues (SQS).

#: Visibility may be extended to at most 12 hours after the receive (Amazon SQS Developer Guide,
#: "Amazon SQS visibility timeout").
MAX_TOTAL_VISIBILITY = 43_200

#: FIFO deduplication window in seconds (Amazon SQS Developer Guide, "Exactly-once processing in
#: Amazon SQS").
DEDUPLICATION_WINDOW = 300.0

#: How long a FIFO ReceiveRequestAttemptId can be retried after the receive it names.
RECEIVE_ATTEMPT_WINDOW = 300.0

#: Message move task statuses under which the source has an active task.
ACTIVE_MOVE_TASK_STATUSES = ("RUNNING", "CANCELLING")

#: A move task's FailureReason when its source or target queue is gone: the legacy code of
#: QueueDoesNotExist, as AWS records it.
MOVE_TASK_TARGET_MISSING = "AWS.SimpleQueueService.NonExistentQueue"


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


class InFlightLimitReached(Exception):
    """Raised by :meth:`QueueStore.receive` when a standard queue already has ``in_flight_limit``
    messages in flight: nothing was received (the queue answers OverLimit or waits)."""


@dataclass(frozen=True)
class QueueCounts:
    """The three ``ApproximateNumberOfMessages*`` attributes, taken at one instant."""

    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class MoveTaskRecord:
    """One message move task (StartMessageMoveTask) as a store keeps it.

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


# --------------------------------------------------------------------------------------------
# Topics (SNS).

#: FIFO topic deduplication window in seconds: five minutes, as a FIFO queue's.
TOPIC_DEDUPLICATION_WINDOW = 300.0

#: Where a topic's FIFO sequence counter starts (20 digits, as the queues' numbers).
TOPIC_SEQUENCE_BASE = 10_000_000_000_000_000_000


@dataclass(frozen=True)
class TopicRecord:
    """One SNS topic as a store keeps it: its name and the attributes CreateTopic set."""

    name: str
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class SubscriptionRecord:
    """One subscription of a topic as a store keeps it. ``endpoint`` is the SQS queue ARN, the
    HTTP/S URL, or the address or ARN of a protocol rulebus does not deliver to (email, sms,
    lambda, firehose: ``rulebus.sns.endpoints``); ``subscription_role_arn`` is a firehose
    subscription's SubscriptionRoleArn. Subscriptions to Python callables are never stored (they
    cannot be persisted): the topic that made them keeps them in its process only."""

    subscription_arn: str
    topic: str
    protocol: str
    endpoint: str
    owner: str
    filter_policy: str | None = None
    filter_policy_scope: str | None = None
    raw_message_delivery: bool = False
    delivery_policy: str | None = None
    redrive_policy: str | None = None
    pending_confirmation: bool = False
    token: str | None = None
    token_issued: float = 0.0
    subscription_role_arn: str | None = None


# --------------------------------------------------------------------------------------------
# Event buses (EventBridge).


@dataclass(frozen=True)
class EventBusRecord:
    """One event bus: its name, when it was created (epoch seconds) and its description."""

    name: str
    creation_time: float
    description: str | None = None


@dataclass(frozen=True)
class RuleRecord:
    """One rule of a bus. ``event_pattern`` is the pattern's JSON text as PutRule got it;
    ``state`` is ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS;
    ``creation_time`` anchors rate schedules (a replaced rule keeps its first creation time)."""

    bus: str
    name: str
    event_pattern: str | None
    schedule_expression: str | None
    state: str
    description: str | None
    creation_time: float


@dataclass(frozen=True)
class TargetRecord:
    """One target of a rule: its Id and the whole target as AWS's JSON object (``Arn``, ``Input``,
    ``InputPath``, ``InputTransformer``, ``RetryPolicy``, ``DeadLetterConfig``,
    ``SqsParameters``...), as the bus layer validated and wrote it."""

    bus: str
    rule: str
    target_id: str
    target: str


class DeleteRuleResult(Enum):
    DELETED = "deleted"
    ABSENT = "absent"
    HAS_TARGETS = "has_targets"


@dataclass(frozen=True)
class ArchiveRecord:
    """One archive of a bus's events. ``retention_days`` 0 keeps events forever. ``state`` is
    ENABLED or DISABLED (the others are transitional on AWS and never stored here)."""

    name: str
    bus: str
    event_pattern: str | None
    retention_days: int
    description: str | None
    state: str
    creation_time: float


@dataclass(frozen=True)
class ArchivedEvent:
    """One archived event: ``seq`` orders events archived in the same second; ``event_time`` is
    the event's ``time`` field in epoch seconds (what replays select and sort by); ``event`` the
    event's JSON text as it reached the bus; ``size`` its UTF-8 length."""

    seq: int
    event_time: float
    archived_at: float
    event: str
    size: int


@dataclass(frozen=True)
class ReplayRecord:
    """One replay. ``state``: STARTING, RUNNING, CANCELLING, CANCELLED, COMPLETED or FAILED.
    ``filter_arns`` are the rule ARNs of Destination.FilterArns (empty: every rule of the bus).
    ``last_seq``/``last_event_time`` say how far it got (resumable, and shown as progress);
    ``replayed`` counts the events re-sent so far and ``total`` the events in the window."""

    name: str
    archive: str
    bus: str
    description: str | None
    event_start_time: float
    event_end_time: float
    filter_arns: tuple[str, ...]
    state: str
    state_reason: str | None
    replay_start_time: float
    replay_end_time: float | None = None
    event_last_replayed_time: float | None = None
    last_event_time: float | None = None
    last_seq: int | None = None
    replayed: int = 0
    total: int = 0


# --------------------------------------------------------------------------------------------
# Streams (Kinesis).

#: A checkpoint position past every record: the consumer has read the (closed) shard to its end.
SHARD_END = 1 << 62

#: One stored record: (seq, ApproximateArrivalTimestamp in epoch seconds, Data, PartitionKey).
StoredRecord = tuple[int, float, bytes, str]


@dataclass(frozen=True)
class StreamRecord:
    """One stream. ``stream_id`` is unique for the store's lifetime (a deleted and re-created
    stream gets a new one, so its old iterators and checkpoints never apply to the new one);
    ``scalings`` are the times of the UpdateShardCount calls (AWS allows 10 per rolling 24 h)."""

    name: str
    stream_id: int
    creation_time: float
    retention_hours: int
    scalings: tuple[float, ...] = ()


@dataclass(frozen=True)
class StreamConsumerRecord:
    """A consumer registered on a stream for enhanced fan-out (RegisterStreamConsumer)."""

    name: str
    creation_time: float


@dataclass(frozen=True)
class StreamLeaseRecord:
    """A named consumer's (a consumer group's) lease of one shard. ``owner`` is the worker
    holding it ('' once released); the lease is live until ``expires_at`` (the broker's clock).
    ``token`` counts the times the shard was taken: a checkpoint is written only with the token
    the lease has now, so a worker that lost the shard cannot move its checkpoint back."""

    shard: int
    owner: str
    expires_at: float
    token: int


@dataclass(frozen=True)
class ShardRecord:
    """One shard. ``index`` is the number in its ShardId; ``starting_seq``/``ending_seq`` bound the
    sequence numbers of its records (``ending_seq`` None while the shard is open)."""

    index: int
    starting_hash_key: int
    ending_hash_key: int
    starting_seq: int
    parent: int | None = None
    adjacent_parent: int | None = None
    ending_seq: int | None = None
    closed_at: float | None = None

    @property
    def shard_id(self) -> str:
        return f"shardId-{self.index:012d}"

    @property
    def is_open(self) -> bool:
        return self.ending_seq is None


# --------------------------------------------------------------------------------------------
# Idempotency keys (``rulebus.idempotent``).

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class IdempotencyRecord:
    """One key's record. ``token`` names the claim that wrote it (so only that claim may complete
    or release it); ``result`` is the handler's result as JSON text (None when not kept)."""

    key: str
    status: str
    token: str
    expires_at: float
    result: str | None = None
