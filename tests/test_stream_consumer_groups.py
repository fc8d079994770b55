"""Consumer groups: several workers of ``stream.consumer(name)`` share a stream's shards by leases
in the store (every test on each store of the contract suite, on the fake clock: leases run out
when the test moves the clock, never by waiting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from helpers.streams import open_test_stream
from rulebus import AwsError, Broker, Stream
from rulebus.kinesis.consumers import StreamConsumer

LEASE = 10.0
RENEW = LEASE / 3 + 0.1  # enough clock for every worker's next heartbeat to be due

HALF = 2**127


def put(stream: Stream, tag: str, count: int, keys: int = 16) -> dict[bytes, str]:
    """``count`` records over ``keys`` partition keys -> data -> the ShardId it went to."""
    entries = [{"Data": f"{tag}:{i}".encode(), "PartitionKey": f"k{i % keys}"} for i in range(count)]
    answer = stream.put_records(entries)
    return {e["Data"]: r["ShardId"] for e, r in zip(entries, answer["Records"])}


def worker(stream: Stream, name: str, **kwargs: Any) -> StreamConsumer:
    return stream.consumer("group", worker_id=name, lease_seconds=LEASE, **kwargs)


def data(records: list[dict[str, Any]]) -> list[bytes]:
    return [r["Data"] for r in records]


def owners(consumer: StreamConsumer) -> dict[str, str | None]:
    return {p["ShardId"]: p["Owner"] for p in consumer.describe()["Partitions"]}


def held(consumer: StreamConsumer) -> set[str]:
    return {shard for shard, owner in owners(consumer).items() if owner == consumer.worker_id}


def settle(workers: list[StreamConsumer], clock: FakeClock, rounds: int = 3) -> list[list[bytes]]:
    """Each worker reads what it can in turn, the clock moving a renewal between rounds: what
    each read."""
    got: list[list[bytes]] = [[] for _ in workers]
    for _ in range(rounds):
        for i, w in enumerate(workers):
            got[i] += data(list(w.records(stop_at_end=True)))
        clock.advance(RENEW)
    return got


def test_two_workers_split_the_shards(make_broker: Callable[[], Broker], clock: FakeClock) -> None:
    stream = open_test_stream(make_broker(), "s", shards=4)
    a, b = worker(stream, "a"), worker(stream, "b")
    assert list(a.records(stop_at_end=True)) == []  # alone: it leases all four
    assert len(held(a)) == 4
    assert list(b.records(stop_at_end=True)) == []  # all leased by a live worker
    assert held(b) == set()
    settle([a, b], clock)
    assert len(held(a)) == len(held(b)) == 2
    sent = put(stream, "x", 200)
    got_a, got_b = settle([a, b], clock, rounds=1)
    assert sorted(got_a + got_b) == sorted(sent)  # each record once: nobody lost a lease
    assert {sent[d] for d in got_a} == held(a)
    assert {sent[d] for d in got_b} == held(b)
    description = a.describe()
    assert description["GroupId"] == "group"
    assert sorted(m["MemberId"] for m in description["Members"]) == ["a", "b"]
    assert description["TotalLag"] == 0
    assert all(p["CommittedOffset"] is not None for p in description["Partitions"])


def test_a_joining_worker_gets_a_share(make_broker: Callable[[], Broker], clock: FakeClock) -> None:
    stream = open_test_stream(make_broker(), "s", shards=4)
    a, b = worker(stream, "a"), worker(stream, "b")
    settle([a, b], clock)
    c = worker(stream, "c")
    settle([a, b, c], clock)
    shares = [held(w) for w in (a, b, c)]
    assert all(shares)  # 4 shards over 3 workers: 1, 1 and 2
    assert sorted(len(s) for s in shares) == [1, 1, 2]
    assert set().union(*shares) == set(owners(a))
    c.close()  # gives its leases back: the others take them at their next heartbeat
    assert len(held(a)) + len(held(b)) == 2
    settle([a, b], clock)
    assert len(held(a)) == len(held(b)) == 2


def test_a_shard_given_up_mid_batch_comes_again_only_after_what_was_processed(
    make_broker: Callable[[], Broker], clock: FakeClock
) -> None:
    stream = open_test_stream(make_broker(), "s", shards=2)
    sent = put(stream, "x", 40)
    first = sum(1 for shard in sent.values() if shard == "shardId-000000000000")
    a, b = worker(stream, "a"), worker(stream, "b")
    reader = a.records(stop_at_end=True)
    got_a = [next(reader)["Data"] for _ in range(first + 3)]  # alone: both shards, 3 into the second
    assert list(b.records(stop_at_end=True)) == []  # b joins: everything is a's
    clock.advance(RENEW)
    # a's next heartbeat (asking for the record after the 3rd) saves up to it and frees the
    # second shard for b, mid-batch.
    got_a += data(list(reader))
    assert held(a) == {"shardId-000000000000"}
    got_b = data(list(b.records(stop_at_end=True)))
    assert sorted(got_a + got_b) == sorted(sent)  # nothing lost, nothing twice
    assert len(got_b) == len(sent) - first - 3


def test_a_dead_workers_shards_are_taken_over_from_its_last_checkpoint(
    make_broker: Callable[[], Broker], clock: FakeClock
) -> None:
    stream = open_test_stream(make_broker(), "s", shards=2)
    a, b = worker(stream, "a"), worker(stream, "b")
    settle([a, b], clock)
    (a_shard,) = held(a)
    sent = put(stream, "x", 100)
    mine = [d for d, shard in sent.items() if shard == a_shard]
    a.batch_size = 5
    reader = a.records(stop_at_end=True)
    first = data([next(reader) for _ in range(8)])  # the first batch of 5 is checkpointed
    assert first == mine[:8]
    # a stops heartbeating (hung, or killed: its generator is never resumed nor closed).
    clock.advance(LEASE / 2)
    assert data(list(b.records(stop_at_end=True))) == [d for d in sent if sent[d] != a_shard]
    assert a_shard not in held(b)  # not before a's lease runs out
    clock.advance(LEASE / 2 + 0.1)
    taken = data(list(b.records(stop_at_end=True)))
    assert taken == mine[5:]  # from a's checkpoint: only what came after it comes again
    assert held(b) == set(owners(b))
    assert set(first) | set(taken) >= set(mine)
    # a, resumed, cannot move the checkpoint back: its lease was taken, the write is refused.
    a.checkpoint()
    assert a.checkpoints()[a_shard] == b.checkpoints()[a_shard]
    assert b.describe()["TotalLag"] == 0


def test_a_stale_workers_checkpoint_is_refused(make_broker: Callable[[], Broker], clock: FakeClock) -> None:
    stream = open_test_stream(make_broker(), "s")
    sent = put(stream, "x", 10)
    a, b = worker(stream, "a"), worker(stream, "b")
    a.batch_size = 10
    reader = a.records(stop_at_end=True)
    assert next(reader)["Data"] == b"x:0"
    clock.advance(LEASE + 1)  # a's lease runs out mid-batch
    assert data(list(b.records(stop_at_end=True))) == list(sent)
    assert b.checkpoints()["shardId-000000000000"] is not None
    before = b.checkpoints()
    a.checkpoint()  # a's position (after x:0) is behind b's: it must not land
    assert a.checkpoints() == before
    # a's reader, resumed, renews and finds the shard gone: it stops mid-batch.
    assert data(list(reader)) == []
    assert owners(a) == {"shardId-000000000000": "b"}


def test_resharding_hands_parents_shards_to_children_in_order(
    make_broker: Callable[[], Broker], clock: FakeClock
) -> None:
    stream = open_test_stream(make_broker(), "s", shards=1)
    a, b = worker(stream, "a"), worker(stream, "b")
    keys = [f"key-{i}" for i in range(12)]
    sent: dict[str, list[bytes]] = {key: [] for key in keys}
    got: list[bytes] = []
    workers = [a, b]

    def put_round(round_: int) -> None:
        stream.put_records([{"Data": f"{key}:{round_}".encode(), "PartitionKey": key} for key in keys])
        for key in keys:
            sent[key].append(f"{key}:{round_}".encode())

    def read(rounds: int = 2) -> None:
        for _ in range(rounds):
            for w in workers:
                got.extend(data(list(w.records(stop_at_end=True))))
            clock.advance(RENEW)

    for round_ in range(3):
        put_round(round_)
    read(1)
    stream.split_shard("shardId-000000000000", str(HALF))
    for round_ in range(3, 6):
        put_round(round_)
    read()
    assert {owner for owner in owners(a).values() if owner} == {"a", "b"}  # one child each
    stream.merge_shards("shardId-000000000001", "shardId-000000000002")
    for round_ in range(6, 9):
        put_round(round_)
    read(4)
    by_key: dict[str, list[bytes]] = {key: [] for key in keys}
    for record in got:
        key = record.decode().split(":")[0]
        by_key[key].append(record)
    assert by_key == sent  # each once, in order per key across split and merge
    assert a.checkpoints() == {
        "shardId-000000000000": "SHARD_END",
        "shardId-000000000001": "SHARD_END",
        "shardId-000000000002": "SHARD_END",
        "shardId-000000000003": a.describe()["Partitions"][3]["CommittedOffset"],
    }


def test_one_worker_alone_reads_everything(make_broker: Callable[[], Broker]) -> None:
    stream = open_test_stream(make_broker(), "s", shards=3)
    sent = put(stream, "x", 60)
    with stream.consumer("solo") as consumer:
        assert sorted(data(list(consumer.records(stop_at_end=True)))) == sorted(sent)
        description = consumer.describe()
        assert [m["MemberId"] for m in description["Members"]] == [consumer.worker_id]
    # close() gave the leases back: nobody owns a shard, nothing is behind.
    after = stream.consumer("solo").describe()
    assert after["Members"] == []
    assert {p["Owner"] for p in after["Partitions"]} == {None}
    assert after["TotalLag"] == 0
    assert stream.consumer("other").describe()["TotalLag"] == 60


def test_lag_counts_the_records_after_the_committed_offset(make_broker: Callable[[], Broker]) -> None:
    stream = open_test_stream(make_broker(), "s")
    put(stream, "x", 10)
    consumer = stream.consumer("app")
    consumer.batch_size = 4
    reader = consumer.records(stop_at_end=True)
    got = [next(reader) for _ in range(5)]  # the first batch of 4 is checkpointed
    (partition,) = consumer.describe()["Partitions"]
    assert partition["CommittedOffset"] == got[3]["SequenceNumber"]
    assert partition["Lag"] == 6
    assert partition["Owner"] == consumer.worker_id
    assert partition["Partition"] == 0
    reader.close()


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [({"worker_id": ""}, "workerId"), ({"worker_id": 7}, "workerId"), ({"lease_seconds": 0}, "leaseSeconds")],
)
def test_bad_worker_options_are_refused(broker: Broker, kwargs: dict[str, Any], where: str) -> None:
    stream = open_test_stream(broker, "s")
    with pytest.raises(AwsError, match=where):
        stream.consumer("app", **kwargs)
