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

The pollers of that mapping in several processes (``rulebus worker`` started twice, on one
SQLite file or one Redis) form a consumer group under that same name, with the leases of
``stream.consumer(name)`` (:mod:`rulebus.kinesis.consumers`): each process is a worker that
leases its share of the shards ready to read, renews its leases as it polls (every third of
:data:`LEASE_SECONDS` of the broker's clock), and reads only those; a worker that stops polling
loses its shards once its leases run out, and another takes them over from their last
checkpoint. A checkpoint is written only while the lease is still the worker's own. Alone, a
worker leases every shard: it reads as a single poller always did.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import _jsontext as jsontext
from rulebus._errors import AwsError, StoreLockedError
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

#: How long a poller's shard leases last without renewal (seconds of the broker's clock): a
#: dead worker's shards go to another worker this long after its last poll. Read when a
#: mapping is created, so a program may set it first.
LEASE_SECONDS = 10.0

#: A poller renews its leases this often, in lease periods (as ``stream.consumer`` does).
RENEW_FRACTION = 1 / 3


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
        # Membership of the mapping's consumer group (once loaded): this process's worker id,
        # the shards it leases (index -> lease token), when it last renewed them.
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease_seconds = LEASE_SECONDS
        self._leases: dict[int, int] = {}
        self._renewed_at: float | None = None
        self._rebalance = False  # a shard was read to its end: free it, lease its children

    @property
    def name(self) -> str:
        return self.stream.name

    def load(self, function_name: str, starting_position: str) -> None:
        """Take the checkpoints stored for the mapping of this stream to ``function_name``; with
        LATEST, store the stream's position now for the open shards that have none (where a
        restarted program carries on). Called once, when the mapping is created."""
        self._consumer = checkpoint_name(function_name)
        self._lease_seconds = LEASE_SECONDS
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
        """Store the shard's position (the next record to read, or SHARD_END), if this worker
        still leases the shard; not for a reader that keeps its checkpoints in memory (one that
        did not :meth:`load`)."""
        if not self._consumer:
            return
        index = _shard_index(shard.shard_id)
        token = self._leases.get(index)
        if token is None:
            return  # no longer this worker's: the one that took it reads from the checkpoint
        try:
            stream_id = self._state.record().stream_id
        except (NotFound, AwsError):
            return  # the stream is gone: nothing to resume
        refused = self._state.streams.commit_stream_checkpoints(
            self.stream.name, stream_id, self._consumer, {index: (token, position)}
        )
        if refused:
            self._lose(index)

    # ------------------------------------------------------------------ leases

    def _lose(self, index: int) -> None:
        """The shard is no longer this worker's (another took it, or it was read to its end):
        the batches waiting for a retry are the next holder's to read again from the
        checkpoint. (Taken again, it starts from the stored checkpoint.)"""
        self._leases.pop(index, None)
        for shard in self._shards.values():
            if _shard_index(shard.shard_id) == index:
                shard.retries = None

    def _ready(self, stored: dict[int, int]) -> list[int]:
        """The shards to lease: not read to their end, their parents read to theirs."""

        def ended(shard: _Shard) -> bool:
            index = _shard_index(shard.shard_id)
            if index in self._leases:
                return shard.ended  # this worker's, perhaps ahead of the store
            return stored.get(index) == SHARD_END

        ready: list[int] = []
        for shard in self._shards.values():
            if ended(shard):
                continue
            if any(parent in self._shards and not ended(self._shards[parent]) for parent in shard.parents):
                continue
            ready.append(_shard_index(shard.shard_id))
        return ready

    def _renew(self, now: float) -> bool:
        """A heartbeat when due: renew this worker's leases and take its share of the shards
        (a taken shard resumes from its stored checkpoint). Another process holding the
        store's lock only delays it to the next poll. Whether the leases are fresh."""
        if not self._consumer:
            return True
        period = self._lease_seconds * RENEW_FRACTION
        due = self._renewed_at is None or self._rebalance or not 0 <= now - self._renewed_at < period
        if not due:
            return True
        streams = self._state.streams
        try:
            stream_id = self._state.record().stream_id
            with self.stream.context.store.lock_wait(period):
                stored = streams.stream_checkpoints(self.stream.name, stream_id, self._consumer)
                held = streams.acquire_stream_leases(
                    self.stream.name,
                    stream_id,
                    self._consumer,
                    self._worker,
                    now,
                    self._lease_seconds,
                    self._ready(stored),
                )
        except StoreLockedError:
            return False
        except NotFound:
            raise self._state.not_found() from None
        for index, token in list(self._leases.items()):
            if held.get(index) != token:
                self._lose(index)
        for index, token in held.items():
            if self._leases.get(index) == token:
                continue
            for shard in self._shards.values():  # taken now: from its stored checkpoint
                if _shard_index(shard.shard_id) == index:
                    position = stored.get(index)
                    shard.retries = None
                    shard.ended = position == SHARD_END
                    shard.checkpoint = (
                        None if position is None or position == SHARD_END else sequence_number(position - 1)
                    )
        self._leases = dict(held)
        self._renewed_at = now
        self._rebalance = False
        return True

    def _leased(self, shard: _Shard) -> bool:
        return not self._consumer or _shard_index(shard.shard_id) in self._leases

    def leave(self) -> None:
        """Give this worker's leases back at once (the program or worker is stopping), so that
        another worker takes its shards without waiting for them to run out."""
        if not self._consumer or self._renewed_at is None:
            return
        self._renewed_at = None
        try:
            stream_id = self._state.record().stream_id
            with contextlib.suppress(StoreLockedError):  # still locked: they run out by themselves
                self._state.streams.release_stream_leases(
                    self.stream.name, stream_id, self._consumer, self._worker
                )
        except (NotFound, AwsError):
            pass
        # (The tokens stay: a batch still settling checkpoints until someone takes its shard.)

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
        if shard.busy or shard.ended:
            return False
        if self._consumer:
            return True  # leased: its parents were read to their end (:meth:`_ready`)
        return all(parent not in self._shards or self._shards[parent].ended for parent in shard.parents)

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
            self._rebalance = bool(self._consumer)
        return [
            kinesis_record(record, shard.shard_id, self.stream.arn, self.region, self.account)
            for record in answer["Records"]
        ]

    def take(self, mapping: EventSourceMapping, now: float) -> KinesisBatch | None:
        """The next batch of some shard this worker leases that is free (a due retry first),
        marked busy."""
        batch = self._take(mapping, now)
        while batch is None and self._rebalance:
            # A shard was read to its end: lease its children now, and read them.
            if not self._renew(now):
                break  # (the store is locked: the next poll does it)
            batch = self._take(mapping, now)
        return batch

    def _take(self, mapping: EventSourceMapping, now: float) -> KinesisBatch | None:
        shards = self._refresh()
        self._renew(now)
        for shard in shards:
            if shard.busy or not self._leased(shard):
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
        """Whether a batch could be taken now (records after a checkpoint, or a retry due) in
        the shards this worker leases."""
        shards = self._refresh()
        self._renew(now)
        for shard in shards:
            if not self._leased(shard):
                continue
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
