"""Shards: their ids and hash-key ranges, how DescribeStream and GetRecords show them, and
resharding (Amazon Kinesis Data Streams Developer Guide, "Reshard a stream"; API Reference,
"SplitShard", "MergeShards", "UpdateShardCount").

The hash-key space 0 .. 2^128-1 is split among the open shards; a record goes to the one whose
range holds its hash key (see :mod:`rulebus.kinesis.records`; the store does the routing).
Resharding closes parent shards (they keep their records until retention drops them) and opens
children that carry on their ranges, so a reader can follow the lineage from parents to children.
Resharding is done when the call returns (asynchronous on AWS).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.kinesis.sequence_numbers import sequence_number
from rulebus.stores.records import ShardRecord

if TYPE_CHECKING:
    from rulebus.kinesis.state import StreamState
    from rulebus.stores.records import Clock

__all__ = [
    "HASH_KEY_LIMIT",
    "MAX_SCALINGS_PER_DAY",
    "MAX_SHARDS_PER_STREAM",
    "Resharding",
    "child_shards",
    "find_shard",
    "format_shard_id",
    "hash_key",
    "shard_description",
    "uniform_shards",
    "visible_shards",
]

HASH_KEY_LIMIT = 1 << 128  # hash keys are 0 .. 2^128-1
MAX_SHARDS_PER_STREAM = 10_000  # the ceiling in Kinesis Data Streams API Reference, UpdateShardCount
MAX_SCALINGS_PER_DAY = 10

_SHARD_ID = re.compile(r"shardId-(\d{12})")
_HASH_KEY = re.compile(r"0|[1-9]\d{0,38}")


def format_shard_id(index: int) -> str:
    """``shardId-`` and the index in 12 digits."""
    return f"shardId-{index:012d}"


def hash_key(value: str, parameter: str) -> int:
    """A hash key given as ``parameter``: a decimal of at most 39 digits (ValidationException
    otherwise); whether it is below 2^128 is the caller's check, with its own error."""
    if not isinstance(value, str) or not _HASH_KEY.fullmatch(value):
        raise constraint_error(
            value, parameter, "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"
        )
    return int(value)


def uniform_shards(count: int, starting_index: int = 0) -> list[ShardRecord]:
    """``count`` shards splitting the hash-key space evenly, as AWS (and kinesalite) does: width
    ``floor(2^128 / count)``, the last one ending at 2^128-1."""
    width = HASH_KEY_LIMIT // count
    return [
        ShardRecord(
            starting_index + i,
            width * i,
            HASH_KEY_LIMIT - 1 if i == count - 1 else width * (i + 1) - 1,
            0,
        )
        for i in range(count)
    ]


def find_shard(shards: Sequence[ShardRecord], wanted: object) -> ShardRecord | None:
    """The shard whose ShardId is ``wanted``, if any."""
    match = _SHARD_ID.fullmatch(wanted) if isinstance(wanted, str) else None
    if match is not None:
        index = int(match.group(1))
        for shard in shards:
            if shard.index == index:
                return shard
    return None


def visible_shards(shards: Iterable[ShardRecord], cutoff: float) -> list[ShardRecord]:
    """The shards AWS lists: closed ones drop out once closed before the retention ``cutoff``."""
    return [s for s in shards if s.closed_at is None or s.closed_at >= cutoff]


def shard_description(shard: ShardRecord) -> dict[str, Any]:
    """DescribeStream's Shard: ids of the shard and its parents, hash-key and sequence ranges."""
    described: dict[str, Any] = {"ShardId": shard.shard_id}
    if shard.parent is not None:
        described["ParentShardId"] = format_shard_id(shard.parent)
    if shard.adjacent_parent is not None:
        described["AdjacentParentShardId"] = format_shard_id(shard.adjacent_parent)
    described["HashKeyRange"] = _hash_key_range(shard)
    sequence_range = {"StartingSequenceNumber": sequence_number(shard.starting_seq)}
    if shard.ending_seq is not None:
        sequence_range["EndingSequenceNumber"] = sequence_number(shard.ending_seq)
    described["SequenceNumberRange"] = sequence_range
    return described


def child_shards(shards: Sequence[ShardRecord], parent: int) -> list[dict[str, Any]]:
    """GetRecords' ChildShards at the end of the closed shard ``parent``."""
    children = []
    for shard in shards:
        if parent in (shard.parent, shard.adjacent_parent):
            parents = [p for p in (shard.parent, shard.adjacent_parent) if p is not None]
            children.append(
                {
                    "ShardId": shard.shard_id,
                    "ParentShards": [format_shard_id(p) for p in parents],
                    "HashKeyRange": _hash_key_range(shard),
                }
            )
    return children


def _hash_key_range(shard: ShardRecord) -> dict[str, str]:
    return {"StartingHashKey": str(shard.starting_hash_key), "EndingHashKey": str(shard.ending_hash_key)}


class Resharding:
    """SplitShard, MergeShards and UpdateShardCount: methods of
    :class:`~rulebus.kinesis.stream.Stream`, which sets the attributes below."""

    name: str
    arn: str
    _state: StreamState
    _clock: Clock

    def split_shard(self, shard_to_split: str, new_starting_hash_key: str) -> None:
        """SplitShard: the parent closes; two children share its hash-key range at
        ``new_starting_hash_key``, each with the parent as ParentShardId."""
        key = hash_key(new_starting_hash_key, "newStartingHashKey")
        while True:
            version, shards = self._state.shards()
            shard = self._find_shard(shards, shard_to_split)
            if not shard.is_open:
                raise self._closed_shard(shard)
            # kinesalite's condition and text: strictly inside, and not at StartingHashKey + 1.
            if key <= shard.starting_hash_key + 1 or key >= shard.ending_hash_key:
                raise AwsError(
                    "InvalidArgumentException",
                    f"NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard "
                    f"{shard.shard_id} in stream {self.name} under account {self._state.account} is not "
                    "both greater than one plus the shard's StartingHashKey "
                    f"{shard.starting_hash_key} and less than the shard's EndingHashKey "
                    f"{shard.ending_hash_key}.",
                )
            if self._split(version, shards, shard, key):
                return

    def merge_shards(self, shard_to_merge: str, adjacent_shard_to_merge: str) -> None:
        """MergeShards: both shards close; one child covers both ranges, with ``shard_to_merge``
        as ParentShardId and the other as AdjacentParentShardId."""
        while True:
            version, shards = self._state.shards()
            shard = self._find_shard(shards, shard_to_merge)
            adjacent = self._find_shard(shards, adjacent_shard_to_merge)
            for one in (shard, adjacent):
                if not one.is_open:
                    raise self._closed_shard(one)
            if shard.ending_hash_key + 1 != adjacent.starting_hash_key and (
                adjacent.ending_hash_key + 1 != shard.starting_hash_key
            ):
                raise AwsError(
                    "InvalidArgumentException",
                    f"Shards {shard.shard_id} and {adjacent.shard_id} in stream {self.name} under account "
                    f"{self._state.account} are not an adjacent pair of shards eligible for merging",
                )
            if self._merge(version, shards, shard, adjacent):
                return

    def update_shard_count(
        self, target_shard_count: int, scaling_type: str = "UNIFORM_SCALING"
    ) -> dict[str, Any]:
        """UpdateShardCount: reach ``target_shard_count`` open shards of equal ranges by splits
        and merges (each one as SplitShard/MergeShards would do it, so the shard lineage stays
        one a consumer can follow), within AWS's limits: at most double, at least half, at most
        10,000, at most 10 calls per rolling 24 hours."""
        validation.text(scaling_type, "scalingType", validation.KINESIS)
        if scaling_type != "UNIFORM_SCALING":
            raise constraint_error(
                scaling_type, "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]"
            )
        validation.integer(target_shard_count, "targetShardCount", validation.KINESIS)
        if target_shard_count < 1:
            raise constraint_error(
                target_shard_count, "targetShardCount", "Member must have value greater than or equal to 1"
            )
        record = self._state.record()
        _, shards = self._state.shards()
        current = sum(1 for s in shards if s.is_open)
        target = target_shard_count
        detail = f"Current open shard count: {current}, Target shard count: {target}"
        # kinesalite's texts.
        if target > MAX_SHARDS_PER_STREAM:
            raise AwsError(
                "LimitExceededException",
                "Target shard count or number of open shards cannot be greater than "
                f"{MAX_SHARDS_PER_STREAM}. {detail}",
            )
        if target > current * 2:
            raise AwsError(
                "LimitExceededException",
                f"UpdateShardCount cannot scale up over double your current open shard count. {detail}",
            )
        if target * 2 < current:
            raise AwsError(
                "LimitExceededException",
                f"UpdateShardCount cannot scale down below half your current open shard count. {detail}",
            )
        now = self._clock()
        recent = tuple(t for t in record.scalings if t > now - 86400.0)
        if len(recent) >= MAX_SCALINGS_PER_DAY:
            raise AwsError(
                "LimitExceededException",
                f"Exceeded the limit of {MAX_SCALINGS_PER_DAY} UpdateShardCount calls in a rolling "
                f"24-hour period for stream {self.name} under account {self._state.account}.",  # our wording
            )
        self._state.update(replace(record, scalings=(*recent, now)))
        while self._scale_step(target):
            pass
        return {
            "StreamName": self.name,
            "StreamARN": self.arn,
            "CurrentShardCount": current,
            "TargetShardCount": target,
        }

    def _scale_step(self, target: int) -> bool:
        """One split or merge towards ``target`` uniform shards; False when there is none left."""
        version, shards = self._state.shards()
        opened = sorted((s for s in shards if s.is_open), key=lambda s: s.starting_hash_key)
        width = HASH_KEY_LIMIT // target
        # Target range i is [width*i, width*(i+1)-1]; the last one absorbs the remainder.
        boundaries = [width * i for i in range(1, target)]

        def bucket(key: int) -> int:
            return min(key // width, target - 1)

        for shard in opened:
            inside = [b for b in boundaries if shard.starting_hash_key < b <= shard.ending_hash_key]
            if inside:
                self._split(version, shards, shard, inside[0])
                return True
        for left, right in zip(opened, opened[1:]):
            if bucket(left.starting_hash_key) == bucket(right.starting_hash_key):
                self._merge(version, shards, left, right)
                return True
        return False

    def _split(self, version: int, shards: Sequence[ShardRecord], shard: ShardRecord, key: int) -> bool:
        index = max(s.index for s in shards) + 1
        children = [
            ShardRecord(index, shard.starting_hash_key, key - 1, 0, parent=shard.index),
            ShardRecord(index + 1, key, shard.ending_hash_key, 0, parent=shard.index),
        ]
        return self._state.reshard(version, [shard.index], children, self._clock())

    def _merge(
        self, version: int, shards: Sequence[ShardRecord], shard: ShardRecord, adjacent: ShardRecord
    ) -> bool:
        child = ShardRecord(
            max(s.index for s in shards) + 1,
            min(shard.starting_hash_key, adjacent.starting_hash_key),
            max(shard.ending_hash_key, adjacent.ending_hash_key),
            0,
            parent=shard.index,
            adjacent_parent=adjacent.index,
        )
        return self._state.reshard(version, [shard.index, adjacent.index], [child], self._clock())

    def _find_shard(self, shards: Sequence[ShardRecord], wanted: str) -> ShardRecord:
        shard = find_shard(shards, wanted)
        if shard is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Could not find shard {wanted} in stream {self.name} under account {self._state.account}.",
            )
        return shard

    def _closed_shard(self, shard: ShardRecord) -> AwsError:
        return AwsError(
            "InvalidArgumentException",
            f"Shard {shard.shard_id} in stream {self.name} under account {self._state.account} has "
            "already been merged or split, and thus is not eligible for merging or splitting.",
        )
