"""The stream: creating, opening and deleting one, describing it, and its retention period
(Amazon Kinesis Data Streams API Reference, "CreateStream", "DeleteStream", "DescribeStream",
"DescribeStreamSummary", "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod";
Developer Guide, "Change the data retention period").

A :class:`Stream` holds no state of its own: the shards, records and checkpoints live in the
broker's store (:mod:`rulebus.kinesis.state`), so every broker on an SQLite file sees the same
stream; a ``Stream`` validates requests as AWS does and shapes results. Streams are ACTIVE as
soon as they exist: creation, deletion and resharding, asynchronous on AWS, are done when the
call returns. Its API comes from the concept modules beside this one: records (PutRecord,
PutRecords), iterators (GetShardIterator, GetRecords), shards (SplitShard, MergeShards,
UpdateShardCount) and consumers (:meth:`Stream.consumer`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import AwsError, NotFound, constraint_error
from rulebus.arn import stream_name
from rulebus.kinesis.consumers import StreamConsumer
from rulebus.kinesis.fan_out import EnhancedFanOut, ShardSubscription
from rulebus.kinesis.iterators import (
    ITERATOR_LIFETIME,
    ITERATOR_TYPES,
    MAX_GET_RECORDS,
    MAX_GET_RECORDS_SIZE,
    ShardReads,
    parse_shard_iterator,
)
from rulebus.kinesis.records import (
    MAX_PARTITION_KEY_LENGTH,
    MAX_PUT_RECORDS,
    MAX_PUT_RECORDS_SIZE,
    MAX_RECORD_SIZE,
    RecordPuts,
    utc_datetime,
)
from rulebus.kinesis.sequence_numbers import SEQUENCE_BASE
from rulebus.kinesis.shards import (
    HASH_KEY_LIMIT,
    MAX_SCALINGS_PER_DAY,
    MAX_SHARDS_PER_STREAM,
    Resharding,
    shard_description,
    uniform_shards,
    visible_shards,
)
from rulebus.kinesis.state import TRIM_INTERVAL, StreamState, retention_cutoff, stream_not_found
from rulebus.stores.records import StreamRecord

if TYPE_CHECKING:
    from rulebus.context import Context

# The stream's names, and the limits and helpers of the concept modules that were importable
# from here before the package was split.
__all__ = [
    "DEFAULT_RETENTION_HOURS",
    "HASH_KEY_LIMIT",
    "ITERATOR_LIFETIME",
    "ITERATOR_TYPES",
    "MAX_GET_RECORDS",
    "MAX_GET_RECORDS_SIZE",
    "MAX_PARTITION_KEY_LENGTH",
    "MAX_PUT_RECORDS",
    "MAX_PUT_RECORDS_SIZE",
    "MAX_RECORD_SIZE",
    "MAX_RETENTION_HOURS",
    "MAX_SCALINGS_PER_DAY",
    "MAX_SHARDS_PER_STREAM",
    "MIN_RETENTION_HOURS",
    "SEQUENCE_BASE",
    "TRIM_INTERVAL",
    "ShardSubscription",
    "Stream",
    "StreamConsumer",
    "delete_stream",
    "get_stream",
    "open_stream",
    "parse_shard_iterator",
    "stream_name_from_arn",
    "uniform_shards",
    "validate_stream_name",
]

DEFAULT_RETENTION_HOURS = 24
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760

_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]+")


def validate_stream_name(name: str) -> None:
    """StreamName: 1-128 characters of ``[a-zA-Z0-9_.-]`` (ValidationException otherwise)."""
    if not isinstance(name, str) or not name:
        raise constraint_error(name, "streamName", "Member must have length greater than or equal to 1")
    if len(name) > 128:
        raise constraint_error(name, "streamName", "Member must have length less than or equal to 128")
    if not _STREAM_NAME.fullmatch(name):
        raise constraint_error(
            name, "streamName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


def stream_name_from_arn(arn: str) -> str:
    """The stream name in ``arn:aws:kinesis:<region>:<account>:stream/<name>``."""
    name = stream_name(arn)
    if name is None:
        raise AwsError("InvalidArgumentException", f"Invalid StreamARN: {arn}")  # our wording
    return name


def open_stream(context: Context, name: str, shards: int | None = None) -> Stream:
    """What ``Broker.stream`` does: open the stream, creating it (with ``shards`` shards, 1 if not
    given, and 24 h retention) if absent. ``shards`` only applies to creation: an existing stream
    keeps the shards its resharding gave it."""
    validate_stream_name(name)
    if shards is not None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise constraint_error(shards, "shardCount", "Member must have value greater than or equal to 1")
        if shards > MAX_SHARDS_PER_STREAM:
            raise AwsError(
                "LimitExceededException",
                f"This request would exceed the shard limit: {shards} shards requested, "
                f"the limit is {MAX_SHARDS_PER_STREAM}.",  # our wording
            )
    store = context.store
    if store.streams.get_stream(name) is None:
        record = StreamRecord(name, 0, context.clock(), DEFAULT_RETENTION_HOURS)
        store.streams.create_stream(record, uniform_shards(shards or 1))
    return Stream(context, name)


def get_stream(context: Context, name: str) -> Stream:
    """What ``Broker.get_stream`` does: the existing stream, never a new one
    (ResourceNotFoundException when there is none)."""
    validate_stream_name(name)
    if context.store.streams.get_stream(name) is None:
        raise stream_not_found(context.account, name)
    return Stream(context, name)


def delete_stream(context: Context, name: str, enforce_consumer_deletion: bool = False) -> None:
    """DeleteStream: the stream with its records, checkpoints and registered consumers (at once;
    AWS takes a while). ResourceNotFoundException if absent; ResourceInUseException if it has
    registered consumers and ``enforce_consumer_deletion`` is not set."""
    validate_stream_name(name)
    streams = context.store.streams
    record = streams.get_stream(name)
    if record is not None and not enforce_consumer_deletion:
        try:
            registered = streams.stream_consumers(name, record.stream_id)
        except NotFound:  # deleted meanwhile: the delete below says so
            registered = []
        if registered:
            raise AwsError(
                "ResourceInUseException",
                f"Stream {name} under account {context.account} has registered consumers. "
                "Deregister them, or set EnforceConsumerDeletion to delete them with it.",  # our wording
            )
    if not streams.delete_stream(name):
        raise stream_not_found(context.account, name)
    context.store.tags.delete_tags(_stream_arn(context, name))


def _stream_arn(context: Context, name: str) -> str:
    return f"arn:aws:kinesis:{context.region}:{context.account}:stream/{name}"


class Stream(RecordPuts, ShardReads, Resharding, EnhancedFanOut):
    """One Kinesis stream, a view of the store's state (see the module docstring). Its puts come
    from :class:`~rulebus.kinesis.records.RecordPuts`, its reads from
    :class:`~rulebus.kinesis.iterators.ShardReads`, its resharding from
    :class:`~rulebus.kinesis.shards.Resharding` and its registered consumers (enhanced fan-out)
    from :class:`~rulebus.kinesis.fan_out.EnhancedFanOut`."""

    def __init__(self, context: Context, name: str) -> None:
        #: The broker's context (see :mod:`rulebus.context`).
        self.context = context
        self._state = StreamState(context.store.streams, context.account, name)
        self._clock = context.clock
        self._counters = context.counters
        self.name = name
        self.arn = _stream_arn(context, name)

    def __repr__(self) -> str:
        return f"Stream({self.name!r})"

    # ------------------------------------------------------------------ describe

    def describe(self) -> dict[str, Any]:
        """DescribeStream's StreamDescription: every shard, open and closed (closed ones until
        they pass retention), with hash-key and sequence-number ranges."""
        record = self._state.record()
        now = self._clock()
        self._state.trim_if_due(now, record)
        _, shards = self._state.shards()
        return {
            **self._description(),
            "Shards": [shard_description(s) for s in visible_shards(shards, retention_cutoff(record, now))],
            "HasMoreShards": False,
            "RetentionPeriodHours": record.retention_hours,
            "StreamCreationTimestamp": utc_datetime(record.creation_time),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
        }

    def _description(self) -> dict[str, Any]:
        return {
            "StreamName": self.name,
            "StreamARN": self.arn,
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        }

    def describe_summary(self) -> dict[str, Any]:
        """DescribeStreamSummary's StreamDescriptionSummary."""
        record = self._state.record()
        _, shards = self._state.shards()
        return {
            **self._description(),
            "RetentionPeriodHours": record.retention_hours,
            "StreamCreationTimestamp": utc_datetime(record.creation_time),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
            "OpenShardCount": sum(1 for s in shards if s.is_open),
            "ConsumerCount": len(self._registered()),  # enhanced fan-out's; named consumers are not those
            "MaxRecordSizeInKiB": MAX_RECORD_SIZE // 1024,
        }

    # ------------------------------------------------------------------ retention

    def increase_retention_period(self, retention_period_hours: int) -> None:
        """IncreaseStreamRetentionPeriod (24-8,760 h, not below the current period; equal is
        accepted, as kinesalite does). Records already trimmed do not come back."""
        _check_retention(retention_period_hours)
        record = self._state.record()
        if retention_period_hours < record.retention_hours:
            raise AwsError(
                "InvalidArgumentException",
                f"Requested retention period ({retention_period_hours} hours) for stream {self.name} "
                f"can not be shorter than existing retention period ({record.retention_hours} hours). "
                "Use DecreaseRetentionPeriod API.",
            )
        self._set_retention(record, retention_period_hours)

    def decrease_retention_period(self, retention_period_hours: int) -> None:
        """DecreaseStreamRetentionPeriod (24-8,760 h, not above the current period)."""
        _check_retention(retention_period_hours)
        record = self._state.record()
        if retention_period_hours > record.retention_hours:
            raise AwsError(
                "InvalidArgumentException",
                f"Requested retention period ({retention_period_hours} hours) for stream {self.name} "
                f"can not be longer than existing retention period ({record.retention_hours} hours). "
                "Use IncreaseRetentionPeriod API.",
            )
        self._set_retention(record, retention_period_hours)

    def _set_retention(self, record: StreamRecord, hours: int) -> None:
        self._state.update(replace(record, retention_hours=hours))
        self._state.trim_soon()  # a shorter retention applies now

    # ------------------------------------------------------------------ consumers

    def consumer(
        self,
        name: str,
        initial_position: str = "TRIM_HORIZON",
        worker_id: str | None = None,
        lease_seconds: float = 10.0,
    ) -> StreamConsumer:
        """A worker of the consumer group ``name``: it shares the shards with every other worker
        of that name on the store (see :class:`StreamConsumer`)."""
        return StreamConsumer(self, name, initial_position, worker_id, lease_seconds)


def _check_retention(hours: int) -> None:
    validation.integer(hours, "retentionPeriodHours", validation.KINESIS)
    if hours < MIN_RETENTION_HOURS:
        raise AwsError(
            "InvalidArgumentException",
            f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. "
            f"Requested retention period ({hours} hours) is too short.",
        )
    if hours > MAX_RETENTION_HOURS:
        raise AwsError(
            "InvalidArgumentException",
            f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. "
            f"Requested retention period ({hours} hours) is too long.",
        )
