"""Shard leases of consumer groups (``stream.consumer(name)`` shared by several workers), the
pure step the memory and SQLite stores share; the Redis store does the same in Lua
(``redis/lua/streams.lua``, step ``acquire``).

Balancing, in the spirit of the Kinesis Client Library's lease taker: each of ``n`` live workers
over ``s`` shards aims at ``floor(s / n)`` or ``ceil(s / n)`` leases. A worker holds and takes up
to the ceiling, unless another live worker has fewer than the floor: then it keeps only the floor
and frees the rest, so a joining worker gets its share within one heartbeat of each holder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from rulebus.stores.records import StreamLeaseRecord

__all__ = ["lease_shards", "release_leases"]


def _freed(lease: StreamLeaseRecord) -> StreamLeaseRecord:
    # The token stays: a checkpoint written with it still lands until someone takes the shard.
    return replace(lease, owner="", expires_at=0.0)


def lease_shards(
    leases: Mapping[int, StreamLeaseRecord],
    workers: Mapping[str, float],
    worker: str,
    now: float,
    expires_at: float,
    shards: Sequence[int],
) -> tuple[dict[int, StreamLeaseRecord], dict[str, float], dict[int, int]]:
    """One heartbeat of ``worker``: renew its leases of ``shards`` (the shards ready to read),
    free its others, then take free or expired leases up to its share. ``leases`` and
    ``workers`` (worker -> heartbeat expiry) are the group's. Return the leases that changed,
    the live workers (dead ones dropped, this one's heartbeat recorded) and what the worker
    holds now (shard -> token)."""
    available = sorted(set(shards))
    ready = set(available)
    live = {name: until for name, until in workers.items() if until > now}
    live[worker] = expires_at
    counts: dict[str, int] = {}
    for shard in available:
        lease = leases.get(shard)
        if lease is not None and lease.owner and lease.expires_at > now:
            counts[lease.owner] = counts.get(lease.owner, 0) + 1
    floor, extra = divmod(len(available), len(live))
    needy = any(counts.get(name, 0) < floor for name in live if name != worker)
    limit = floor if needy or not extra else floor + 1
    changed: dict[int, StreamLeaseRecord] = {}
    mine: list[int] = []
    for shard, lease in leases.items():
        if lease.owner == worker:
            if shard in ready:
                mine.append(shard)
            else:
                changed[shard] = _freed(lease)  # read to its end, or gone
    mine.sort()
    for shard in mine[limit:]:
        changed[shard] = _freed(leases[shard])
    kept = mine[:limit]
    for shard in kept:
        changed[shard] = replace(leases[shard], expires_at=expires_at)
    for shard in available:
        if len(kept) >= limit:
            break
        lease = leases.get(shard)
        if lease is None:
            token = 1
        elif lease.owner == worker or (lease.owner and lease.expires_at > now):
            continue
        else:
            token = lease.token + 1
        changed[shard] = StreamLeaseRecord(shard, worker, expires_at, token)
        kept.append(shard)
    return changed, live, {shard: changed[shard].token for shard in kept}


def release_leases(leases: Mapping[int, StreamLeaseRecord], worker: str) -> dict[int, StreamLeaseRecord]:
    """The worker's leases, freed (it closed): the changed leases."""
    return {shard: _freed(lease) for shard, lease in leases.items() if lease.owner == worker}
