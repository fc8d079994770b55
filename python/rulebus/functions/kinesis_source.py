"""A Kinesis stream as a mapping's event source: Lambda's shard poller, through the stream's
public API (AWS Lambda Developer Guide, 'Using AWS Lambda with Amazon Kinesis' and its error
handling pages).

- Each shard is read in order, one batch at a time (so records of a shard, and of a partition
  key, are processed in order); a child shard is read once its parents are read to their end.
  The starting position is TRIM_HORIZON, LATEST (records that arrive from the mapping's
  creation on) or AT_TIMESTAMP.
- Records that match no filter are skipped; a batch whose records all are invokes nothing.
- A function that returns moves the shard's checkpoint past the batch. One that fails is tried
  again with the same batch (after 1, 2, 4, ... up to 60 seconds of the broker's clock), split in
  halves first with ``bisect_batch_on_function_error``, until ``maximum_retry_attempts`` or
  ``maximum_record_age_in_seconds`` (-1: no limit, the default) is reached; the batch is then
  skipped and its description sent to the OnFailure destination.
- With ReportBatchItemFailures, ``itemIdentifier`` is a sequence number: the records before the
  lowest one reported are done, and the batch is tried again from it.

The checkpoints are kept in the store, under the mapping's function and stream (:func:`checkpoint_name`),
as a named consumer's are: a program (or ``rulebus worker``) that maps the same stream to the same
function again, after a restart, resumes after the last batch done. A batch being retried is not
done: after a restart it is read again from the checkpoint (at-least-once). With LATEST, the
position at the mapping's first creation is stored at once, so that records put while no program
ran are not skipped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import _jsontext as jsontext
from rulebus._errors import AwsError
from rulebus.functions.event_source_mapping import EventSourceMapping
from rulebus.functions.function import Consumer, Invocation
from rulebus.functions.sqs_source import failed_items
from rulebus.kinesis.sequence_numbers import SEQUENCE_BASE, sequence_number
from rulebus.kinesis.state import StreamState
from rulebus.stores.base import NotFound
from rulebus.stores.records import SHARD_END

if TYPE_CHECKING:
    from rulebus.kinesis.stream import Stream
    from rulebus.targets import Targets

__all__ = ["KinesisBatch", "KinesisSource", "checkpoint_name", "kinesis_record"]

_log = logging.getLogger("rulebus.functions")

#: Longest wait before a failed batch is tried again (seconds of the broker's clock).
MAX_RETRY_DELAY = 60.0


def checkpoint_name(function_name: str) -> str:
    """The consumer name a mapping's checkpoints are stored under, beside the named consumers
    of its stream (one mapping per stream and function, as Lambda allows)."""
    return f"aws:lambda:event-source-mapping:{function_name}"


def _shard_index(shard_id: str) -> int:
    return int(shard_id.rsplit("-", 1)[1])


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return float(value)


def kinesis_record(
    record: dict[str, Any], shard_id: str, stream_arn: str, region: str, account: str
) -> dict[str, Any]:
    """One GetRecords record as a record of Lambda's Kinesis event (AWS Lambda Developer Guide,
    'Using AWS Lambda with Amazon Kinesis', example event)."""
    sequence = record["SequenceNumber"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": sequence,
            "data": base64.b64encode(bytes(record["Data"])).decode("ascii"),
            "approximateArrivalTimestamp": _epoch(record["ApproximateArrivalTimestamp"]),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/rulebus-function",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What filter criteria match a Kinesis record against: the record, with ``data`` decoded
    (as the JSON it holds when it is JSON, else as text) both at the top level, as Lambda's
    filters name it, and in ``kinesis``."""
    raw = base64.b64decode(record["kinesis"]["data"])
    data: Any = raw.decode("utf-8", "replace")
    with contextlib.suppress(ValueError):
        data = jsontext.loads(raw)
    view = dict(record)
    view["kinesis"] = {**record["kinesis"], "data": data}
    view["data"] = data
    return view


@dataclass
class KinesisBatch:
    """Records of one shard handed to the function together, and how often they failed."""

    shard_id: str
    records: list[dict[str, Any]]
    attempts: int = 0
    due: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.records)


@dataclass
class _Shard:
    shard_id: str
    parents: tuple[str, ...]
    checkpoint: str | None = None  # last sequence number done
    ended: bool = False  # a closed shard read to its end
    busy: bool = False
    retries: list[KinesisBatch] | None = None  # failed (sub-)batches waiting, in order


class KinesisSource:
    """One stream read by one mapping (see the module docstring)."""

    fifo = False

    def __init__(
        self,
        stream: Stream,
        region: str,
        account: str,
        targets: Targets,
        created: float,
    ) -> None:
        self.stream = stream
        self.region = region
        self.account = account
        self._targets = targets
        self._created = created
        self._shards: dict[str, _Shard] = {}
        self._state = StreamState(stream.context.store.streams, account, stream.name)
        self._consumer = ""
        self._stored: dict[int, int] = {}  # shard index -> next position, as stored when loaded

    @property
    def name(self) -> str:
        return self.stream.name

    def load(self, function_name: str, starting_position: str) -> None:
        """Take the checkpoints stored for the mapping of this stream to ``function_name``; with
        LATEST, store the stream's position now for the open shards that have none (where a
        restarted program carries on). Called once, when the mapping is created."""
        self._consumer = checkpoint_name(function_name)
        try:
            record = self._state.record()
            _, shards = self._state.shards()
            streams = self._state.streams
            stored = streams.stream_checkpoints(self.stream.name, record.stream_id, self._consumer)
            if starting_position == "LATEST":
                latest = self._state.position()
                new = {shard.index: latest for shard in shards if shard.is_open and shard.index not in stored}
                if new:
                    streams.set_stream_checkpoints(self.stream.name, record.stream_id, self._consumer, new)
                    stored = {**stored, **new}
        except (NotFound, AwsError):
            stored = {}
        self._stored = stored

    def _save(self, shard: _Shard, position: int) -> None:
        """Store the shard's position (the next record to read, or SHARD_END); not for a reader
        that keeps its checkpoints in memory (one that did not :meth:`load`)."""
        if not self._consumer:
            return
        try:
            stream_id = self._state.record().stream_id
        except (NotFound, AwsError):
            return  # the stream is gone: nothing to resume
        self._state.streams.set_stream_checkpoints(
            self.stream.name, stream_id, self._consumer, {_shard_index(shard.shard_id): position}
        )

    def release(self, batch: KinesisBatch) -> None:
        """A batch taken and not settled (a worker stopping past its grace period): the shard's
        checkpoint stays before it, so it is read again."""
        shard = self._shards.get(batch.shard_id)
        if shard is not None:
            shard.busy = False

    # ------------------------------------------------------------------ reading

    def _refresh(self) -> list[_Shard]:
        for shard in self.stream.describe()["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._shards:
                parents = tuple(
                    shard[key] for key in ("ParentShardId", "AdjacentParentShardId") if key in shard
                )
                known = _Shard(shard_id, parents)
                position = self._stored.get(_shard_index(shard_id))
                if position == SHARD_END:
                    known.ended = True
                elif position is not None:
                    known.checkpoint = sequence_number(position - 1)
                self._shards[shard_id] = known
        return list(self._shards.values())

    def _readable(self, shard: _Shard) -> bool:
        return (
            not shard.busy
            and not shard.ended
            and all(parent not in self._shards or self._shards[parent].ended for parent in shard.parents)
        )

    def _iterator(self, mapping: EventSourceMapping, shard: _Shard) -> str:
        if shard.checkpoint is not None:
            return self.stream.get_shard_iterator(shard.shard_id, "AFTER_SEQUENCE_NUMBER", shard.checkpoint)
        settings = mapping.settings
        if shard.parents or settings.starting_position == "TRIM_HORIZON":
            # A child shard carries on where its parents ended: from its start.
            return self.stream.get_shard_iterator(shard.shard_id, "TRIM_HORIZON")
        when = settings.starting_position_timestamp if settings.starting_position == "AT_TIMESTAMP" else None
        return self.stream.get_shard_iterator(
            shard.shard_id, "AT_TIMESTAMP", timestamp=self._created if when is None else when
        )

    def _read(self, mapping: EventSourceMapping, shard: _Shard) -> list[dict[str, Any]]:
        answer = self.stream.get_records(self._iterator(mapping, shard), limit=mapping.settings.batch_size)
        if not answer["Records"] and answer.get("NextShardIterator") is None:
            shard.ended = True
            self._save(shard, SHARD_END)
        return [
            kinesis_record(record, shard.shard_id, self.stream.arn, self.region, self.account)
            for record in answer["Records"]
        ]

    def take(self, mapping: EventSourceMapping, now: float) -> KinesisBatch | None:
        """The next batch of some shard that is free (a due retry first), marked busy."""
        for shard in self._refresh():
            if shard.busy:
                continue
            if shard.retries:
                batch = shard.retries[0]
                if batch.due <= now:
                    shard.retries.pop(0)
                    shard.busy = True
                    return batch
                continue
            if not self._readable(shard):
                continue
            records = self._read(mapping, shard)
            if records:
                shard.busy = True
                return KinesisBatch(shard.shard_id, records)
        return None

    def has_work(self, mapping: EventSourceMapping, now: float) -> bool:
        """Whether a batch could be taken now (records after a checkpoint, or a retry due)."""
        for shard in self._refresh():
            if shard.busy or (shard.retries and shard.retries[0].due <= now):
                return True
            if not shard.retries and self._readable(shard):
                answer = self.stream.get_records(self._iterator(mapping, shard), limit=1)
                if answer["Records"]:
                    return True
        return False

    # ------------------------------------------------------------------ processing

    def process(
        self, mapping: EventSourceMapping, consumer: Consumer, batch: KinesisBatch, now: float
    ) -> str:
        """Hand ``batch`` (filtered) to ``consumer`` (a function, or a pipe) and settle it; returns
        the mapping's LastProcessingResult."""
        shard = self._shards[batch.shard_id]
        try:
            criteria = mapping.settings.filter_criteria
            records = batch.records
            if criteria is not None:
                views = [filter_view(record) for record in records]
                records = [
                    record for record, matched in zip(records, criteria.matches_many(views)) if matched
                ]
            if not records:
                self._done(shard, batch.records)
                return "OK"
            invocation = consumer.run_records(records)
            failed_from = self._failed_from(mapping, invocation, records)
            if failed_from is None:
                self._done(shard, batch.records)
                return "OK"
            done = [record for record in batch.records if _sequence(record) < failed_from]
            self._done(shard, done)
            rest = [record for record in batch.records if _sequence(record) >= failed_from]
            self._retry(
                mapping,
                shard,
                KinesisBatch(shard.shard_id, rest, batch.attempts + 1),
                now,
                invocation,
            )
            return "PROBLEM: Function call failed"
        finally:
            shard.busy = False

    @staticmethod
    def _failed_from(
        mapping: EventSourceMapping, invocation: Invocation, records: list[dict[str, Any]]
    ) -> int | None:
        """The lowest sequence number to try again (None: the batch is done)."""
        sequences = [record["kinesis"]["sequenceNumber"] for record in records]
        if invocation.failed:
            return min(int(sequence) for sequence in sequences)
        if not mapping.reports_batch_item_failures:
            return None
        failed = failed_items(invocation.result, sequences)
        if failed is None:
            return min(int(sequence) for sequence in sequences)
        return min((int(sequence) for sequence in failed), default=None)

    def _done(self, shard: _Shard, records: list[dict[str, Any]]) -> None:
        if records:
            last = max(records, key=_sequence)["kinesis"]["sequenceNumber"]
            if shard.checkpoint is None or int(last) > int(shard.checkpoint):
                shard.checkpoint = last
                self._save(shard, int(last) - SEQUENCE_BASE + 1)

    def _retry(
        self,
        mapping: EventSourceMapping,
        shard: _Shard,
        batch: KinesisBatch,
        now: float,
        invocation: Invocation,
    ) -> None:
        settings = mapping.settings
        retries = settings.maximum_retry_attempts
        age = settings.maximum_record_age_in_seconds
        oldest = min(record["kinesis"]["approximateArrivalTimestamp"] for record in batch.records)
        condition = None
        if retries is not None and retries >= 0 and batch.attempts > retries:
            condition = "RetryAttemptsExhausted"
        elif age is not None and age >= 0 and now - oldest > age:
            condition = "RecordAgeExceeded"
        if condition is not None:
            self._discard(mapping, shard, batch, condition, invocation)
            return
        batch.due = now + min(MAX_RETRY_DELAY, 2.0 ** (batch.attempts - 1))
        parts = [batch]
        if settings.bisect_batch_on_function_error and len(batch.records) > 1:
            half = len(batch.records) // 2
            parts = [
                KinesisBatch(shard.shard_id, batch.records[:half], batch.attempts, batch.due),
                KinesisBatch(shard.shard_id, batch.records[half:], batch.attempts, batch.due),
            ]
        shard.retries = parts + (shard.retries or [])

    def _discard(
        self,
        mapping: EventSourceMapping,
        shard: _Shard,
        batch: KinesisBatch,
        condition: str,
        invocation: Invocation,
    ) -> None:
        """Skip a batch that ran out of retries or age; its description goes to the OnFailure
        destination (AWS Lambda Developer Guide, 'Retaining records of discarded batches')."""
        self._done(shard, batch.records)
        destination = mapping.settings.on_failure_destination
        records = batch.records
        first, last = records[0]["kinesis"], records[-1]["kinesis"]
        description = {
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": batch.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "KinesisBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first["sequenceNumber"],
                "endSequenceNumber": last["sequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first["approximateArrivalTimestamp"]),
                "approximateArrivalOfLastRecord": _iso(last["approximateArrivalTimestamp"]),
                "batchSize": len(records),
                "streamArn": self.stream.arn,
            },
        }
        if destination is None:
            _log.warning(
                "event source mapping %s skipped a batch of %s (%s)", mapping.uuid, shard.shard_id, condition
            )
            return
        target = self._targets.resolve(destination)
        from rulebus.sns.topic import Topic
        from rulebus.sqs.queue import Queue

        if isinstance(target, Queue):
            target.send(json.dumps(description))
        elif isinstance(target, Topic):
            target.publish(json.dumps(description))
        else:
            _log.warning(
                "event source mapping %s: OnFailure destination %s does not exist", mapping.uuid, destination
            )


def _sequence(record: dict[str, Any]) -> int:
    return int(record["kinesis"]["sequenceNumber"])


def _iso(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
