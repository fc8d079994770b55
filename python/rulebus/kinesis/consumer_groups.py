"""What a consumer group looks like from outside: its members, and per shard its owner, lease
expiry, committed offset and lag, in the words of Kafka's consumer-group tools where they fit
(a shard is a partition, a checkpoint a committed offset) for users coming from Amazon MSK."""

from __future__ import annotations

from typing import Any

from rulebus._errors import NotFound
from rulebus.kinesis.records import utc_datetime
from rulebus.kinesis.sequence_numbers import sequence_number
from rulebus.kinesis.shards import format_shard_id
from rulebus.kinesis.state import StreamState, retention_cutoff
from rulebus.stores.records import SHARD_END

__all__ = ["committed_offset", "describe_group"]

# Records counted per read when measuring lag.
_LAG_PAGE = 10_000


def committed_offset(position: int) -> str | None:
    """A checkpoint as a committed offset: the sequence number of the last record processed,
    ``"SHARD_END"``, or None when nothing was."""
    if position == SHARD_END:
        return "SHARD_END"
    return sequence_number(position - 1) if position > 0 else None


def _lag(state: StreamState, stream_id: int, shard: int, position: int, cutoff: float) -> int:
    """Records of the shard at or after ``position`` (those not yet processed)."""
    if position == SHARD_END:
        return 0
    count = 0
    while True:
        rows, more = state.read(stream_id, shard, position, _LAG_PAGE, cutoff)
        count += len(rows)
        if not more or not rows:
            return count
        position = rows[-1][0] + 1


def describe_group(state: StreamState, group: str, now: float) -> dict[str, Any]:
    """The group's description at ``now`` (the broker's clock): ``Members`` (each live worker,
    its heartbeat's expiry and the shards it holds) and ``Partitions`` (per shard kept, in index
    order: ``Owner`` and ``LeaseExpiry``, None when no live worker holds it; ``CommittedOffset``
    as :meth:`StreamConsumer.checkpoints`; ``Lag``, the records after it), with ``TotalLag``."""
    record = state.record()
    _, shards = state.shards()
    try:
        leases, workers = state.streams.stream_group(state.name, record.stream_id, group)
        stored = state.streams.stream_checkpoints(state.name, record.stream_id, group)
    except NotFound:
        raise state.not_found() from None
    cutoff = retention_cutoff(record, now)
    owned: dict[str, list[str]] = {worker: [] for worker, until in workers.items() if until > now}
    partitions: list[dict[str, Any]] = []
    for shard in shards:
        lease = leases.get(shard.index)
        live = lease is not None and lease.owner != "" and lease.expires_at > now
        shard_id = format_shard_id(shard.index)
        if live and lease is not None:
            owned.setdefault(lease.owner, []).append(shard_id)
        position = stored.get(shard.index, 0)
        partitions.append(
            {
                "ShardId": shard_id,
                "Partition": shard.index,
                "Owner": lease.owner if live and lease is not None else None,
                "LeaseExpiry": utc_datetime(lease.expires_at) if live and lease is not None else None,
                "CommittedOffset": committed_offset(position) if shard.index in stored else None,
                "Lag": _lag(state, record.stream_id, shard.index, position, cutoff),
            }
        )
    members = [
        {
            "MemberId": worker,
            "HeartbeatExpiry": utc_datetime(workers[worker]) if worker in workers else None,
            "Partitions": owned[worker],
        }
        for worker in sorted(owned)
    ]
    return {
        "GroupId": group,
        "StreamName": state.name,
        "Members": members,
        "Partitions": partitions,
        "TotalLag": sum(p["Lag"] for p in partitions),
    }
