"""Named consumers: this library's answer to the Kinesis Client Library. ``stream.consumer(name)``
is a consumer group: any number of workers (threads, processes, hosts on one SQLite or Redis
store) share the stream's shards by leases in the store, each reading only the shards it leases,
parents before children, with checkpoints under the group's name.

These are not enhanced fan-out's registered consumers (RegisterStreamConsumer and
SubscribeToShard, in :mod:`rulebus.kinesis.fan_out`); docs/semantics.md, "Kinesis streams", says
how they differ from those and from the KCL.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import NotFound, StoreLockedError, constraint_error
from rulebus.kinesis.consumer_groups import committed_offset, describe_group
from rulebus.kinesis.iterators import MAX_GET_RECORDS
from rulebus.kinesis.records import record_entries
from rulebus.kinesis.shards import format_shard_id
from rulebus.kinesis.state import StreamState, retention_cutoff
from rulebus.stores.records import SHARD_END, ShardRecord, StoredRecord, StreamRecord

if TYPE_CHECKING:
    from rulebus.kinesis.stream import Stream

__all__ = ["StreamConsumer"]

#: A worker renews its leases this often, in lease periods (the KCL renews at a third too).
RENEW_FRACTION = 1 / 3


class StreamConsumer:
    """One worker of a consumer group: the named reader of a stream's shards that several
    workers share, each shard leased by one worker at a time (the KCL's leases; Kafka's group
    members and their partitions).

    Leases: ``records()`` takes the worker's fair share of the shards ready to read (not read to
    their end, parents read to theirs), reads only those, and renews them every third of
    ``lease_seconds`` on the broker's clock while it reads. A worker that stops renewing (it died,
    or ``records()`` is not running) loses its leases once ``lease_seconds`` pass, and another
    worker takes them over from their last checkpoint; a worker that joins gets its share as the
    others renew. ``close()``, or dropping a ``records()`` generator before its end, gives the
    leases back at once. ``describe()`` shows who holds what.

    Order: a shard is read only once its parents are read to their end (checkpointed SHARD_END),
    so records of one partition key come in the order they were put, across splits and merges.

    Checkpoints: the position in each shard is kept in the store under the consumer's name, so
    a worker of that name, in this process or another, later resumes where it left off.
    ``records()`` checkpoints a batch automatically once the caller asks for the record after its
    last one (the batch is then processed), and at each heartbeat up to the record last
    processed; ``checkpoint()`` stores the position of every record yielded so far at once. A
    checkpoint is written only while the worker's lease of the shard is still its own: a worker
    that lost a shard to another cannot move its checkpoint back. Nothing is checkpointed on
    ``close()`` or when the process dies: the records yielded since the last checkpoint come
    again (at-least-once, as the KCL).

    ``initial_position``: where a group with no checkpoint in a shard starts, TRIM_HORIZON (the
    oldest record kept) or LATEST (only records put after this worker's first ``records()``
    call). ``worker_id`` names the worker in the group (a new UUID by default).
    """

    def __init__(
        self,
        stream: Stream,
        name: str,
        initial_position: str = "TRIM_HORIZON",
        worker_id: str | None = None,
        lease_seconds: float = 10.0,
    ) -> None:
        # A rulebus consumer, not an AWS API: refused in the style of Kinesis' request model.
        validation.text(name, "consumerName", validation.KINESIS)
        if not name:
            raise constraint_error(name, "consumerName", "Member must have length greater than or equal to 1")
        validation.text(initial_position, "initialPosition", validation.KINESIS)
        if initial_position not in ("TRIM_HORIZON", "LATEST"):
            raise constraint_error(
                initial_position,
                "initialPosition",
                "Member must satisfy enum value set: [TRIM_HORIZON, LATEST]",
            )
        if worker_id is None:
            worker_id = uuid.uuid4().hex
        validation.text(worker_id, "workerId", validation.KINESIS)
        if not worker_id:
            raise constraint_error(
                worker_id, "workerId", "Member must have length greater than or equal to 1"
            )
        validation.finite_number(lease_seconds, "leaseSeconds", validation.KINESIS)
        if lease_seconds <= 0:
            raise constraint_error(lease_seconds, "leaseSeconds", "Member must have value greater than 0")
        self.stream = stream
        self.name = name
        self.initial_position = initial_position
        self.worker_id = worker_id
        self.lease_seconds = float(lease_seconds)
        #: Records read from the store at a time per shard (GetRecords' maximum by default).
        self.batch_size = MAX_GET_RECORDS
        context = stream.context
        self._store = context.store
        self._counters = context.counters
        self._state = StreamState(context.store.streams, context.account, stream.name)
        self._clock = context.clock
        self._closed = False
        self._stream_id: int | None = None
        self._initial: dict[int, int] = {}  # shard -> where LATEST starts in it
        self._positions: dict[int, int] = {}  # leased shard -> next sequence number to read
        self._unsaved: dict[int, int] = {}  # positions not yet checkpointed
        self._cursor: tuple[int, int] | None = None  # (shard, seq) of the record yielded last
        self._leases: dict[int, int] = {}  # shard -> lease token, of the shards held
        self._released: dict[int, int] = {}  # the tokens given back, for a checkpoint() after
        self._renewed_at: float | None = None  # None: no leases held (take them first)
        self._rebalance = False  # a shard was read to its end: free it, take its children

    def __enter__(self) -> StreamConsumer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End ``records()`` (from any thread: a waiting ``records()`` returns at once) and give
        this worker's leases back. Does not checkpoint."""
        self._closed = True
        self._state.streams.wake_streams()
        self._release()

    def checkpoint(self) -> None:
        """Store the position after every record yielded so far."""
        if self._cursor is not None:
            shard, seq = self._cursor
            if self._positions.get(shard, -1) <= seq:
                self._positions[shard] = self._unsaved[shard] = seq + 1
        self._save()

    def _save(self) -> None:
        if not self._unsaved or self._stream_id is None:
            return
        tokens = {**self._released, **self._leases}
        positions = {shard: (tokens[shard], p) for shard, p in self._unsaved.items() if shard in tokens}
        refused = self._state.streams.commit_stream_checkpoints(
            self.stream.name, self._stream_id, self.name, positions
        )
        self._unsaved = {}
        for shard in refused:  # another worker took the shard: it is its to read now
            self._lose(shard)

    def _lose(self, shard: int) -> None:
        self._leases.pop(shard, None)
        self._released.pop(shard, None)
        self._positions.pop(shard, None)
        self._unsaved.pop(shard, None)
        if self._cursor is not None and self._cursor[0] == shard:
            self._cursor = None

    def checkpoints(self) -> dict[str, str | None]:
        """The stored checkpoints: ShardId -> the sequence number of the last record processed
        (``"SHARD_END"`` for a shard read to its end, None when nothing was read in it)."""
        record = self._state.record()
        stored = self._state.streams.stream_checkpoints(self.stream.name, record.stream_id, self.name)
        return {
            format_shard_id(shard): committed_offset(position) for shard, position in sorted(stored.items())
        }

    def describe(self) -> dict[str, Any]:
        """The group as Kafka's DescribeConsumerGroup and lag tools show one: its members (live
        workers) and, per shard (partition), its owner, lease expiry, committed offset (the
        sequence number of the last record checkpointed) and lag (records after it)."""
        return describe_group(self._state, self.name, self._clock())

    # ------------------------------------------------------------------ leases

    def _load(self) -> tuple[StreamRecord, int, list[ShardRecord]]:
        """The stream's record, position and shards (a new stream of the name starts the worker
        afresh)."""
        record, position, shards = self._state.view()
        if self._stream_id != record.stream_id:
            self._stream_id = record.stream_id
            self._positions, self._unsaved, self._leases, self._released = {}, {}, {}, {}
            self._renewed_at = None
            self._initial = {}
            if self.initial_position == "LATEST":
                self._initial = {s.index: (position if s.is_open else SHARD_END) for s in shards}
        return record, position, shards

    def _ready(self, shards: list[ShardRecord], stored: dict[int, int]) -> list[int]:
        """The shards to lease: not read to their end, their parents read to theirs."""
        present = {shard.index for shard in shards}

        def position(index: int) -> int:
            if index in self._leases and index in self._positions:
                return self._positions[index]  # this worker's, perhaps ahead of the store
            return stored.get(index, self._initial.get(index, 0))

        ready: list[int] = []
        for shard in shards:
            if position(shard.index) == SHARD_END:
                continue
            parents = (shard.parent, shard.adjacent_parent)
            if any(p is not None and p in present and position(p) != SHARD_END for p in parents):
                continue
            ready.append(shard.index)
        return ready

    def _due(self) -> bool:
        if self._renewed_at is None or self._rebalance:
            return True
        return self._clock() - self._renewed_at >= self.lease_seconds * RENEW_FRACTION

    def _heartbeat(self, shards: list[ShardRecord], wait: float) -> bool:
        """Save, renew this worker's leases and take its share (waiting at most ``wait`` seconds
        for another process's lock: still locked, the leases are renewed by a later pass);
        whether a shard was taken."""
        if self._closed or self._stream_id is None:
            return False
        name, stream_id, streams = self.stream.name, self._stream_id, self._state.streams
        try:
            with self._store.lock_wait(max(wait, 0.0)):
                self._save()
                stored = streams.stream_checkpoints(name, stream_id, self.name)
                now = self._clock()
                held = streams.acquire_stream_leases(
                    name,
                    stream_id,
                    self.name,
                    self.worker_id,
                    now,
                    self.lease_seconds,
                    self._ready(shards, stored),
                )
        except StoreLockedError:
            return False
        except NotFound:
            raise self._state.not_found() from None
        for shard, token in list(self._leases.items()):
            if held.get(shard) != token:
                self._lose(shard)
        taken = False
        for shard, token in held.items():
            if self._leases.get(shard) != token:
                self._positions[shard] = stored.get(shard, self._initial.get(shard, 0))
                self._unsaved.pop(shard, None)
                taken = True
        self._leases = held
        self._released = {}
        self._renewed_at = now
        self._rebalance = False
        return taken

    def _release(self) -> None:
        if self._renewed_at is None or self._stream_id is None:
            return
        self._renewed_at = None
        self._released, self._leases = {**self._released, **self._leases}, {}
        with contextlib.suppress(StoreLockedError):  # still locked: they run out by themselves
            self._state.streams.release_stream_leases(
                self.stream.name, self._stream_id, self.name, self.worker_id
            )

    # ------------------------------------------------------------------ reading

    def records(
        self, stop_at_end: bool = False, wait_seconds: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record not yet processed of the shards this worker leases, shard by shard
        (parents before children), as GetRecords entries. With ``stop_at_end`` it returns once
        everything put so far in the shards it can lease is read (shards other live workers
        hold are theirs); otherwise it waits for new records (woken at once by puts in this
        process, polling with backoff for other processes' puts) until ``close()``, or until
        ``wait_seconds`` pass with nothing new. Dropping the generator before its end gives the
        leases back."""
        validation.finite_number(wait_seconds, "waitSeconds", validation.KINESIS, required=False)
        try:
            yield from self._read(stop_at_end, wait_seconds)
        except GeneratorExit:
            self._release()
            raise

    def _read(self, stop_at_end: bool, wait_seconds: float | None) -> Iterator[dict[str, Any]]:
        state = self._state
        clock = self._clock
        renew_every = self.lease_seconds * RENEW_FRACTION
        # A heartbeat waits for another process's lock no longer than the wait asked for.
        lock_bound = renew_every if wait_seconds is None else min(renew_every, wait_seconds)
        idle_since: float | None = None
        while not self._closed:
            record, since, shards = self._load()
            if self._due():
                self._heartbeat(shards, lock_bound)
            cutoff = retention_cutoff(record, clock())
            positions = self._positions
            progressed = False
            # Every shard read gave all it had and is open: the pass need not be made again
            # to find nothing (records put since ``since`` end the wait below at once).
            drained = True
            for shard in shards:
                index = shard.index
                token = self._leases.get(index)
                if token is None:
                    continue
                position = positions.get(index, 0)
                if position == SHARD_END:
                    continue
                rows, more = state.read(self._stream_id or 0, index, position, self.batch_size, cutoff)
                if more or shard.ending_seq is not None:
                    drained = False
                self._counters.kinesis_read(
                    self.stream.name, len(rows), (clock() - rows[-1][1]) if rows else 0.0
                )
                if rows:
                    progressed = True
                    whole = yield from self._yield(index, token, rows, shards, lock_bound)
                    self._cursor = None
                    if not whole:
                        continue  # the shard went to another worker mid-batch: its records are its
                    positions[index] = self._unsaved[index] = rows[-1][0] + 1
                    self._save()  # the caller asked for more: the batch is processed
                    if self._closed:
                        return
                elif shard.ending_seq is not None:
                    positions[index] = self._unsaved[index] = SHARD_END
                    self._rebalance = True  # free it, and lease its children
                    progressed = True
            if progressed:
                idle_since = None
                if not drained or self._rebalance:
                    continue
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
            timeout = min(1.0, renew_every)
            if wait_seconds is not None:
                timeout = min(timeout, idle_since + wait_seconds - now)
            if stop_at_end:
                if progressed and state.position() != since:
                    continue  # put or resharded during the pass: look again
                self._save()
                if self._heartbeat(shards, lock_bound):
                    continue  # took over a shard (its worker's lease ran out): read it
                return
            # A save while waiting waits for another process's lock no longer than what is left
            # of the wait (as an SQS long poll does). Still locked, the positions stay unsaved
            # on this consumer: saved by a later pass, records() call or checkpoint().
            try:
                with self._store.lock_wait(max(timeout, 0.0)):
                    self._save()
            except StoreLockedError:
                pass
            if timeout <= 0:
                return
            state.streams.wait_stream(state.name, since, timeout)

    def _yield(
        self, shard: int, token: int, rows: list[StoredRecord], shards: list[ShardRecord], lock_bound: float
    ) -> Generator[dict[str, Any], None, bool]:
        """Yield the batch, renewing the leases when due while the caller works through it;
        whether all of it was yielded with the shard still leased."""
        clock = self._clock
        renew_at = (self._renewed_at or 0.0) + self.lease_seconds * RENEW_FRACTION
        for seq, entry in record_entries(rows):
            self._cursor = (shard, seq)
            yield entry
            if clock() >= renew_at:  # inlined _due(): this runs once per record
                # The caller asked for the record after this one: this one is processed, and
                # is saved with the heartbeat, so a shard given to a joining worker comes again
                # only from here.
                self._positions[shard] = self._unsaved[shard] = seq + 1
                self._heartbeat(shards, lock_bound)
                if self._leases.get(shard) != token:
                    return False
                renew_at = (self._renewed_at or 0.0) + self.lease_seconds * RENEW_FRACTION
        return True
