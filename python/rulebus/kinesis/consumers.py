"""Named consumers: this library's answer to the Kinesis Client Library, one reader of every
shard of a stream, parents before children, with checkpoints under its name in the store.

These are not enhanced fan-out's registered consumers (RegisterStreamConsumer and
SubscribeToShard, in :mod:`rulebus.kinesis.fan_out`); docs/semantics.md, "Kinesis streams", says
how they differ from those and from the KCL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import StoreLockedError, constraint_error
from rulebus.kinesis.iterators import MAX_GET_RECORDS
from rulebus.kinesis.records import record_entries
from rulebus.kinesis.sequence_numbers import sequence_number
from rulebus.kinesis.shards import format_shard_id
from rulebus.kinesis.state import StreamState, retention_cutoff
from rulebus.stores.records import SHARD_END, ShardRecord, StoredRecord

if TYPE_CHECKING:
    from rulebus.kinesis.stream import Stream

__all__ = ["StreamConsumer"]


class StreamConsumer:
    """A named reader of every shard of a stream, for one process at a time.

    Order: a shard is read only once its parents are read to their end, so records of one
    partition key come in the order they were put, across splits and merges.

    Checkpoints: the position in each shard is kept in the store under the consumer's name, so
    a consumer of that name, in this process or another, later resumes where it left off.
    ``records()`` checkpoints a batch automatically once the caller asks for the record after its
    last one (the batch is then processed), and ``checkpoint()`` stores the position of every
    record yielded so far at once. Nothing is checkpointed on ``close()`` or when the process
    dies: the records yielded since the last checkpoint come again (at-least-once, as the KCL).

    ``initial_position``: where a consumer with no checkpoint in a shard starts, TRIM_HORIZON (the
    oldest record kept) or LATEST (only records put after its first ``records()`` call).
    """

    def __init__(self, stream: Stream, name: str, initial_position: str = "TRIM_HORIZON") -> None:
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
        self.stream = stream
        self.name = name
        self.initial_position = initial_position
        #: Records read from the store at a time per shard (GetRecords' maximum by default).
        self.batch_size = MAX_GET_RECORDS
        context = stream.context
        self._store = context.store
        self._counters = context.counters
        self._state = StreamState(context.store.streams, context.account, stream.name)
        self._clock = context.clock
        self._closed = False
        self._stream_id: int | None = None
        self._positions: dict[int, int] = {}  # shard -> next sequence number to read
        self._unsaved: dict[int, int] = {}  # positions not yet checkpointed
        self._cursor: tuple[int, int] | None = None  # (shard, seq) of the record yielded last

    def __enter__(self) -> StreamConsumer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End ``records()`` (from any thread: a waiting ``records()`` returns at once). Does not
        checkpoint."""
        self._closed = True
        self._state.streams.wake_streams()

    def checkpoint(self) -> None:
        """Store the position after every record yielded so far."""
        if self._cursor is not None:
            shard, seq = self._cursor
            if self._positions.get(shard, -1) <= seq:
                self._positions[shard] = self._unsaved[shard] = seq + 1
        self._save()

    def _save(self) -> None:
        if self._unsaved and self._stream_id is not None:
            self._state.streams.set_stream_checkpoints(
                self.stream.name, self._stream_id, self.name, self._unsaved
            )
            self._unsaved = {}

    def checkpoints(self) -> dict[str, str | None]:
        """The stored checkpoints: ShardId -> the sequence number of the last record processed
        (``"SHARD_END"`` for a shard read to its end, None when nothing was read in it)."""
        record = self._state.record()
        stored = self._state.streams.stream_checkpoints(self.stream.name, record.stream_id, self.name)
        out: dict[str, str | None] = {}
        for shard, position in sorted(stored.items()):
            if position == SHARD_END:
                out[format_shard_id(shard)] = "SHARD_END"
            else:
                out[format_shard_id(shard)] = sequence_number(position - 1) if position > 0 else None
        return out

    def _load(self) -> list[ShardRecord]:
        record = self._state.record()
        _, shards = self._state.shards()
        if self._stream_id != record.stream_id:
            self._stream_id = record.stream_id
            self._positions = self._state.streams.stream_checkpoints(
                self.stream.name, record.stream_id, self.name
            )
            self._unsaved = {}
            if self.initial_position == "LATEST":
                latest = self._state.position()
                for shard in shards:
                    if shard.index not in self._positions:
                        self._positions[shard.index] = SHARD_END if not shard.is_open else latest
        return shards

    def records(
        self, stop_at_end: bool = False, wait_seconds: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record not yet processed, shard by shard (parents before children), as GetRecords
        entries. With ``stop_at_end`` it returns once everything put so far is read; otherwise it
        waits for new records (woken at once by puts in this process, polling with backoff for
        other processes' puts) until ``close()``, or until ``wait_seconds`` pass with nothing
        new."""
        validation.finite_number(wait_seconds, "waitSeconds", validation.KINESIS, required=False)
        state = self._state
        clock = self._clock
        idle_since: float | None = None
        while not self._closed:
            since = state.position()
            shards = self._load()
            cutoff = retention_cutoff(state.record(), clock())
            present = {shard.index for shard in shards}
            positions = self._positions
            progressed = False
            for shard in shards:
                index = shard.index
                position = positions.get(index, 0)
                if position == SHARD_END:
                    continue
                parents = (shard.parent, shard.adjacent_parent)
                if any(p is not None and p in present and positions.get(p) != SHARD_END for p in parents):
                    continue
                rows, _ = state.read(self._stream_id or 0, index, position, self.batch_size, cutoff)
                self._counters.kinesis_read(
                    self.stream.name, len(rows), (clock() - rows[-1][1]) if rows else 0.0
                )
                if rows:
                    progressed = True
                    yield from self._yield(index, rows)
                    positions[index] = self._unsaved[index] = rows[-1][0] + 1
                    self._cursor = None
                    self._save()  # the caller asked for more: the batch is processed
                    if self._closed:
                        return
                elif shard.ending_seq is not None:
                    positions[index] = self._unsaved[index] = SHARD_END
                    progressed = True
            if progressed:
                idle_since = None
                continue
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
            timeout = 1.0
            if wait_seconds is not None:
                timeout = min(timeout, idle_since + wait_seconds - now)
            if stop_at_end:
                self._save()
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

    def _yield(self, shard: int, rows: list[StoredRecord]) -> Iterator[dict[str, Any]]:
        for seq, entry in record_entries(rows):
            self._cursor = (shard, seq)
            yield entry
