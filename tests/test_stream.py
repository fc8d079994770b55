"""Kinesis streams (docs/semantics.md, 'Kinesis streams') on both stores: creation, describe, puts and
their routing, iterators and GetRecords, retention, resharding, and named consumers. Time is a
fake clock that the tests move, so nothing sleeps."""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Callable

import pytest
from helpers.fake_clock import START, FakeClock
from helpers.streams import open_test_stream
from rulebus import AwsError, Broker
from rulebus.kinesis.stream import (
    SEQUENCE_BASE,
    Stream,
    StreamConsumer,
    stream_name_from_arn,
)

TOP = (1 << 128) - 1
HALF = 1 << 127


def md5_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def read_all(stream: Stream, shard_id: str, iterator_type: str = "TRIM_HORIZON") -> list[dict[str, Any]]:
    iterator: str | None = stream.get_shard_iterator(shard_id, iterator_type)
    records: list[dict[str, Any]] = []
    while iterator is not None:
        result = stream.get_records(iterator)
        records.extend(result["Records"])
        if not result["Records"] and result["NextShardIterator"] is not None:
            break
        iterator = result["NextShardIterator"]
    return records


def aws_error(code: str, message: str) -> Any:
    """``pytest.raises`` for an AwsError with this code and exactly this message."""

    class Check:
        def __enter__(self) -> None:
            self.raises = pytest.raises(AwsError)
            self.info = self.raises.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            suppressed = self.raises.__exit__(*exc)
            assert self.info.value.code == code
            assert self.info.value.message == message
            return bool(suppressed)

    return Check()


# ---------------------------------------------------------------------- streams


def test_create_open_describe_and_delete(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "orders", shards=4)
    assert stream.arn == "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    assert stream_name_from_arn(stream.arn) == "orders"
    described = stream.describe()
    assert described["StreamName"] == "orders"
    assert described["StreamARN"] == stream.arn
    assert described["StreamStatus"] == "ACTIVE"
    assert described["RetentionPeriodHours"] == 24
    assert described["StreamCreationTimestamp"].timestamp() == START
    shards = described["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-00000000000{i}" for i in range(4)]
    width = (1 << 128) // 4
    assert [s["HashKeyRange"] for s in shards] == [
        {"StartingHashKey": str(width * i), "EndingHashKey": str(width * (i + 1) - 1 if i < 3 else TOP)}
        for i in range(4)
    ]
    assert shards[0]["HashKeyRange"]["EndingHashKey"] == "85070591730234615865843651857942052863"
    for shard in shards:
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        assert len(shard["SequenceNumberRange"]["StartingSequenceNumber"]) == 56
        assert "ParentShardId" not in shard
    # Opening again keeps the stream (``shards`` applies to creation only).
    assert len(open_test_stream(broker, "orders", shards=1).describe()["Shards"]) == 4
    assert len(open_test_stream(broker, "orders").describe()["Shards"]) == 4
    assert [s.name for s in broker.streams()] == ["orders"]
    summary = stream.describe_summary()
    assert summary["OpenShardCount"] == 4 and summary["RetentionPeriodHours"] == 24
    broker.delete_stream("orders")
    assert broker.streams() == []
    with aws_error("ResourceNotFoundException", "Stream orders under account 000000000000 not found."):
        stream.describe()
    with aws_error("ResourceNotFoundException", "Stream orders under account 000000000000 not found."):
        broker.delete_stream("orders")


def test_stream_names_and_shard_counts_are_validated(broker: Broker) -> None:
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value 'a/b' at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ):
        open_test_stream(broker, "a/b")
    with pytest.raises(AwsError, match="Member must have length less than or equal to 128"):
        open_test_stream(broker, "x" * 129)
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    ):
        open_test_stream(broker, "s", shards=0)


def test_streams_are_shared_through_the_store(
    make_broker: Callable[[], Broker], request: pytest.FixtureRequest
) -> None:
    first = make_broker()
    stream = open_test_stream(first, "shared", shards=2)
    put = stream.put_record(b"one", "k")
    if "sqlite" not in request.node.callspec.id:
        return  # separate memory brokers share nothing
    second = open_test_stream(make_broker(), "shared")
    records = read_all(second, put["ShardId"])
    assert [(r["Data"], r["SequenceNumber"]) for r in records] == [(b"one", put["SequenceNumber"])]


# ---------------------------------------------------------------------- puts


def test_put_record_routes_by_md5_and_sequence_numbers_grow(broker: Broker) -> None:
    stream = open_test_stream(broker, "s", shards=4)
    width = (1 << 128) // 4
    seen: list[int] = []
    for i in range(40):
        key = f"key-{i}"
        result = stream.put_record(f"data {i}".encode(), key)
        assert result["ShardId"] == f"shardId-{min(md5_key(key) // width, 3):012d}"
        assert len(result["SequenceNumber"]) == 56 and result["SequenceNumber"].isdigit()
        seen.append(int(result["SequenceNumber"]))
    assert seen == sorted(seen) and len(set(seen)) == 40
    # ExplicitHashKey overrides the partition key's hash.
    assert stream.put_record(b"x", "key-1", explicit_hash_key="0")["ShardId"] == "shardId-000000000000"
    assert stream.put_record(b"x", "key-1", explicit_hash_key=str(TOP))["ShardId"] == "shardId-000000000003"
    # A str is sent as its UTF-8, as boto3 does.
    put = stream.put_record("é", "k", explicit_hash_key="0")
    assert read_all(stream, "shardId-000000000000")[-1]["Data"] == "é".encode()
    # SequenceNumberForOrdering: a number of this stream; the new record's number is greater.
    after = stream.put_record(b"y", "k", sequence_number_for_ordering=put["SequenceNumber"])
    assert int(after["SequenceNumber"]) > int(put["SequenceNumber"])


def test_put_record_validation(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ):
        stream.put_record(b"x", "")
    with pytest.raises(
        AwsError, match="at 'partitionKey' failed to satisfy constraint: Member must have length less"
    ):
        stream.put_record(b"x", "k" * 257)
    stream.put_record(b"x", "k" * 256)
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at "
        "'data' failed to satisfy constraint: Member must have length less than or equal to 1048576",
    ):
        stream.put_record(b"x" * (1024 * 1024 + 1), "k")
    with pytest.raises(AwsError) as info:  # the partition key counts towards the 1 MiB
        stream.put_record(b"x" * (1024 * 1024), "k")
    assert info.value.code == "InvalidArgumentException"
    stream.put_record(b"x" * (1024 * 1024 - 1), "k")
    with aws_error(
        "InvalidArgumentException",
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        f"Specified value was {TOP + 1}",
    ):
        stream.put_record(b"x", "k", explicit_hash_key=str(TOP + 1))
    with pytest.raises(AwsError, match=r"at 'explicitHashKey' failed to satisfy constraint"):
        stream.put_record(b"x", "k", explicit_hash_key="-1")
    with aws_error(
        "InvalidArgumentException",
        f"ExclusiveMinimumSequenceNumber {SEQUENCE_BASE + 10**6} used in PutRecord on stream s under "
        "account 000000000000 is invalid.",
    ):
        stream.put_record(b"x", "k", sequence_number_for_ordering=str(SEQUENCE_BASE + 10**6))
    broker.delete_stream("s")
    with aws_error("ResourceNotFoundException", "Stream s under account 000000000000 not found."):
        stream.put_record(b"x", "k")


def test_put_records_results_and_limits(broker: Broker) -> None:
    stream = open_test_stream(broker, "s", shards=3)
    entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"p{i % 7}"} for i in range(500)]
    entries[3]["ExplicitHashKey"] = "0"
    result = stream.put_records(entries)
    assert result["FailedRecordCount"] == 0
    assert len(result["Records"]) == 500
    width = (1 << 128) // 3
    for i, entry in enumerate(result["Records"]):
        expected = 0 if i == 3 else min(md5_key(f"p{i % 7}") // width, 2)
        assert entry["ShardId"] == f"shardId-{expected:012d}"
    numbers = [int(r["SequenceNumber"]) for r in result["Records"]]
    assert numbers == sorted(numbers)
    stored = [r for i in range(3) for r in read_all(stream, f"shardId-{i:012d}")]
    assert sorted(r["Data"] for r in stored) == sorted(e["Data"] for e in entries)
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value '[501 records]' at 'records' failed to satisfy constraint: "
        "Member must have length less than or equal to 500",
    ):
        stream.put_records(entries + entries[:1])
    with pytest.raises(AwsError, match="Member must have length greater than or equal to 1"):
        stream.put_records([])
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value '' at 'records.2.member.partitionKey' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    ):
        stream.put_records([{"Data": b"a", "PartitionKey": "k"}, {"Data": b"b", "PartitionKey": ""}])
    with aws_error(
        "ValidationException",
        "1 validation error detected: Value null at 'records.1.member.partitionKey' failed to satisfy "
        "constraint: Member must not be null",
    ):
        stream.put_records([{"Data": b"a"}])
    # 11 records of 1 MiB less a byte: each is allowed, together they pass 10 MiB.
    big = [{"Data": b"x" * (1024 * 1024 - 2), "PartitionKey": "k"} for _ in range(11)]
    with pytest.raises(AwsError) as info:
        stream.put_records(big)
    assert info.value.code == "InvalidArgumentException"
    # A refused request stores nothing.
    assert len([r for i in range(3) for r in read_all(stream, f"shardId-{i:012d}")]) == 500


# ---------------------------------------------------------------------- iterators and reads


def test_iterator_types(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "s")
    shard = "shardId-000000000000"
    puts = []
    for i in range(5):
        puts.append(stream.put_record(f"{i}".encode(), "k"))
        clock.advance(1.0)
    data = lambda result: [r["Data"] for r in result["Records"]]  # noqa: E731

    assert data(stream.get_records(stream.get_shard_iterator(shard, "TRIM_HORIZON"))) == [
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
    ]
    at = stream.get_shard_iterator(
        shard, "AT_SEQUENCE_NUMBER", starting_sequence_number=puts[2]["SequenceNumber"]
    )
    assert data(stream.get_records(at)) == [b"2", b"3", b"4"]
    after = stream.get_shard_iterator(
        shard, "AFTER_SEQUENCE_NUMBER", starting_sequence_number=puts[2]["SequenceNumber"]
    )
    assert data(stream.get_records(after)) == [b"3", b"4"]  # not the record itself (localstack#10117)
    stamp = stream.get_shard_iterator(shard, "AT_TIMESTAMP", timestamp=START + 2.5)
    assert data(stream.get_records(stamp)) == [b"3", b"4"]
    early = stream.get_shard_iterator(shard, "AT_TIMESTAMP", timestamp=START - 100)
    assert data(stream.get_records(early)) == [b"0", b"1", b"2", b"3", b"4"]
    latest = stream.get_shard_iterator(shard, "LATEST")
    result = stream.get_records(latest)
    assert result["Records"] == [] and result["MillisBehindLatest"] == 0
    stream.put_record(b"5", "k")
    assert data(stream.get_records(latest)) == [b"5"]
    assert data(stream.get_records(result["NextShardIterator"])) == [b"5"]
    first = stream.get_records(stream.get_shard_iterator(shard, "TRIM_HORIZON"))["Records"][0]
    assert first["PartitionKey"] == "k"
    assert first["SequenceNumber"] == puts[0]["SequenceNumber"]
    assert first["ApproximateArrivalTimestamp"].timestamp() == START


def test_iterator_errors(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    shard = "shardId-000000000000"
    with aws_error(
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
        "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and "
        "no StartingSequenceNumber.",
    ):
        stream.get_shard_iterator(shard, "AT_SEQUENCE_NUMBER")
    with pytest.raises(AwsError, match="Request specified LATEST and also a StartingSequenceNumber"):
        stream.get_shard_iterator(shard, "LATEST", starting_sequence_number=str(SEQUENCE_BASE))
    with pytest.raises(AwsError, match="Member must satisfy enum value set"):
        stream.get_shard_iterator(shard, "OLDEST")
    with aws_error(
        "ResourceNotFoundException",
        "Shard shardId-000000000009 in stream s under account 000000000000 does not exist",
    ):
        stream.get_shard_iterator("shardId-000000000009", "LATEST")
    with aws_error("InvalidArgumentException", "Invalid ShardIterator."):
        stream.get_records("not an iterator")
    with aws_error("InvalidArgumentException", "Invalid ShardIterator."):
        stream.get_records("AAAAAAAAAAE" + "@@@@")
    with pytest.raises(AwsError, match="Member must have value less than or equal to 10000"):
        stream.get_records(stream.get_shard_iterator(shard, "LATEST"), limit=10001)
    with pytest.raises(AwsError, match="Member must have value greater than or equal to 1"):
        stream.get_records(stream.get_shard_iterator(shard, "LATEST"), limit=0)
    with pytest.raises(AwsError, match="is invalid"):
        stream.get_shard_iterator(
            shard, "AT_SEQUENCE_NUMBER", starting_sequence_number=str(SEQUENCE_BASE + 99)
        )


def test_iterators_expire_after_five_minutes(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "s")
    iterator = stream.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    clock.advance(300.0)
    next_iterator = stream.get_records(iterator)["NextShardIterator"]  # exactly 5 minutes: still valid
    clock.advance(300.001)
    with aws_error(
        "ExpiredIteratorException",
        "Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while right now it "
        "is Tue Nov 14 22:23:20 UTC 2023 which is further in the future than the tolerated delay of "
        "300000 milliseconds.",
    ):
        stream.get_records(iterator)
    # A next iterator is new: it has its own five minutes (which have just passed, too).
    with pytest.raises(AwsError, match="Iterator expired"):
        stream.get_records(next_iterator)


def test_get_records_limit_and_millis_behind(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "s")
    stream.put_records([{"Data": b"x", "PartitionKey": "k"} for _ in range(25)])
    clock.advance(2.0)
    result = stream.get_records(stream.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON"), limit=10)
    assert len(result["Records"]) == 10
    assert result["MillisBehindLatest"] == 2000
    result = stream.get_records(result["NextShardIterator"], limit=10)
    result = stream.get_records(result["NextShardIterator"], limit=10)
    assert len(result["Records"]) == 5 and result["MillisBehindLatest"] == 0
    empty = stream.get_records(result["NextShardIterator"])
    assert empty["Records"] == [] and empty["NextShardIterator"] is not None


def test_get_records_from_every_position_with_every_limit(broker: Broker, clock: FakeClock) -> None:
    # Puts of several sizes spread over three shards, so one put's records of a shard are not
    # consecutive sequence numbers and reads start inside, between and across puts.
    stream = open_test_stream(broker, "s", shards=3)
    expected: dict[str, list[tuple[str, bytes]]] = {}
    put_at: dict[str, int] = {}  # sequence number -> seconds before the reads
    sizes = (1, 7, 2, 13, 1, 5)
    number = 0
    for age, size in zip(range(len(sizes), 0, -1), sizes):
        entries = [
            {"Data": f"{number + i}".encode(), "PartitionKey": f"k{(number + i) % 5}"} for i in range(size)
        ]
        number += size
        if size == 1:
            put = stream.put_record(entries[0]["Data"], entries[0]["PartitionKey"])
            results = [put]
        else:
            results = stream.put_records(entries)["Records"]
        for entry, result in zip(entries, results):
            expected.setdefault(result["ShardId"], []).append((result["SequenceNumber"], entry["Data"]))
            put_at[result["SequenceNumber"]] = age
        clock.advance(1.0)
    assert len(expected) == 3
    seen = lambda result: [(r["SequenceNumber"], r["Data"]) for r in result["Records"]]  # noqa: E731
    for shard, records in expected.items():
        for i, (sequence_number, _) in enumerate(records):
            for limit in (1, 2, 7):
                at = stream.get_shard_iterator(
                    shard, "AT_SEQUENCE_NUMBER", starting_sequence_number=sequence_number
                )
                result = stream.get_records(at, limit=limit)
                assert seen(result) == records[i : i + limit]
                more = i + limit < len(records)
                last = records[min(i + limit, len(records)) - 1][0]
                assert result["MillisBehindLatest"] == (1000 * put_at[last] if more else 0)
                after = stream.get_shard_iterator(
                    shard, "AFTER_SEQUENCE_NUMBER", starting_sequence_number=sequence_number
                )
                paged: list[tuple[str, bytes]] = []
                iterator = after
                for _ in range(len(records) + 1):  # bounded: a read that never moves on fails
                    result = stream.get_records(iterator, limit=limit)
                    paged += seen(result)
                    if not result["Records"]:
                        break
                    iterator = result["NextShardIterator"]
                assert paged == records[i + 1 :]


def test_get_records_caps_at_ten_mib(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    for _ in range(3):
        stream.put_records([{"Data": b"x" * (1024 * 1024 - 1), "PartitionKey": "k"} for _ in range(4)])
    result = stream.get_records(stream.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON"))
    assert len(result["Records"]) == 10
    assert len(stream.get_records(result["NextShardIterator"])["Records"]) == 2


# ---------------------------------------------------------------------- retention


def test_retention_periods_and_trimming(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "s")
    with aws_error(
        "InvalidArgumentException",
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
    ):
        stream.increase_retention_period(23)
    with aws_error(
        "InvalidArgumentException",
        "Maximum allowed retention period is 8760 hours. "
        "Requested retention period (8761 hours) is too long.",
    ):
        stream.increase_retention_period(8761)
    stream.increase_retention_period(8760)
    assert stream.describe()["RetentionPeriodHours"] == 8760
    with aws_error(
        "InvalidArgumentException",
        "Requested retention period (48 hours) for stream s can not be shorter than existing retention "
        "period (8760 hours). Use DecreaseRetentionPeriod API.",
    ):
        stream.increase_retention_period(48)
    stream.decrease_retention_period(48)
    with aws_error(
        "InvalidArgumentException",
        "Requested retention period (72 hours) for stream s can not be longer than existing retention "
        "period (48 hours). Use IncreaseRetentionPeriod API.",
    ):
        stream.decrease_retention_period(72)
    stream.decrease_retention_period(24)

    stream.put_record(b"old", "k")
    clock.advance(23 * 3600)
    stream.put_record(b"new", "k")
    assert [r["Data"] for r in read_all(stream, "shardId-000000000000")] == [b"old", b"new"]
    clock.advance(3600 + 1)
    # Past 24 h: gone from every read, whether or not trimming ran yet.
    assert [r["Data"] for r in read_all(stream, "shardId-000000000000")] == [b"new"]
    consumer = stream.consumer("c")
    assert [r["Data"] for r in consumer.records(stop_at_end=True)] == [b"new"]
    # Increasing the period does not bring expired records back.
    stream.increase_retention_period(100)
    assert [r["Data"] for r in read_all(stream, "shardId-000000000000")] == [b"new"]


def test_closed_shards_drop_out_after_retention(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "s")
    stream.split_shard("shardId-000000000000", str(HALF))
    assert len(stream.describe()["Shards"]) == 3
    clock.advance(24 * 3600 + 1)
    assert [s["ShardId"] for s in stream.describe()["Shards"]] == [
        "shardId-000000000001",
        "shardId-000000000002",
    ]


# ---------------------------------------------------------------------- resharding


def test_split_shard(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    before = stream.put_record(b"before", "k")
    stream.split_shard("shardId-000000000000", str(HALF))
    shards = stream.describe()["Shards"]
    parent, low, high = shards
    assert int(parent["SequenceNumberRange"]["EndingSequenceNumber"]) > int(before["SequenceNumber"])
    assert low == {
        "ShardId": "shardId-000000000001",
        "ParentShardId": "shardId-000000000000",
        "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(HALF - 1)},
        "SequenceNumberRange": {
            "StartingSequenceNumber": low["SequenceNumberRange"]["StartingSequenceNumber"]
        },
    }
    assert high["HashKeyRange"] == {"StartingHashKey": str(HALF), "EndingHashKey": str(TOP)}
    assert int(low["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
        parent["SequenceNumberRange"]["EndingSequenceNumber"]
    )
    after = stream.put_record(b"after", "k")
    assert after["ShardId"] == ("shardId-000000000002" if md5_key("k") >= HALF else "shardId-000000000001")
    assert int(after["SequenceNumber"]) > int(before["SequenceNumber"])
    # The parent's iterator ends: no next iterator, and the children named.
    result = stream.get_records(stream.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON"))
    assert [r["Data"] for r in result["Records"]] == [b"before"]
    assert result["NextShardIterator"] is None
    assert [c["ShardId"] for c in result["ChildShards"]] == ["shardId-000000000001", "shardId-000000000002"]
    assert result["ChildShards"][0]["ParentShards"] == ["shardId-000000000000"]

    account = "under account 000000000000"
    with aws_error(
        "InvalidArgumentException",
        f"Shard shardId-000000000000 in stream s {account} has already been merged or split, and thus is "
        "not eligible for merging or splitting.",
    ):
        stream.split_shard("shardId-000000000000", "5")
    with aws_error(
        "InvalidArgumentException",
        f"NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000001 in stream s {account} is "
        "not both greater than one plus the shard's StartingHashKey 0 and less than the shard's "
        f"EndingHashKey {HALF - 1}.",
    ):
        stream.split_shard("shardId-000000000001", "1")
    with aws_error(
        "ResourceNotFoundException", f"Could not find shard shardId-000000000007 in stream s {account}."
    ):
        stream.split_shard("shardId-000000000007", "5")


def test_merge_shards(broker: Broker) -> None:
    stream = open_test_stream(broker, "s", shards=3)
    account = "under account 000000000000"
    with aws_error(
        "InvalidArgumentException",
        f"Shards shardId-000000000000 and shardId-000000000002 in stream s {account} are not an adjacent "
        "pair of shards eligible for merging",
    ):
        stream.merge_shards("shardId-000000000000", "shardId-000000000002")
    stream.put_record(b"x", "k", explicit_hash_key="0")
    stream.merge_shards("shardId-000000000000", "shardId-000000000001")
    child = stream.describe()["Shards"][3]
    assert child["ShardId"] == "shardId-000000000003"
    assert child["ParentShardId"] == "shardId-000000000000"
    assert child["AdjacentParentShardId"] == "shardId-000000000001"
    width = (1 << 128) // 3
    assert child["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2 * width - 1)}
    assert stream.put_record(b"y", "k", explicit_hash_key="0")["ShardId"] == "shardId-000000000003"
    assert stream.describe_summary()["OpenShardCount"] == 2


@pytest.mark.parametrize(
    ("initial", "target", "total"),
    # Totals (shards ever created) by splits at the target boundaries, then merges within each
    # target range; moto's tests expect the same totals for these three.
    [(2, 4, 6), (4, 5, 15), (4, 2, 6), (10, 13, None), (5, 3, None), (1, 2, 3)],
)
def test_update_shard_count(broker: Broker, initial: int, target: int, total: int | None) -> None:
    stream = open_test_stream(broker, "s", shards=initial)
    result = stream.update_shard_count(target, "UNIFORM_SCALING")
    assert result["CurrentShardCount"] == initial and result["TargetShardCount"] == target
    shards = stream.describe()["Shards"]
    opened = sorted(
        (s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
        key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]),
    )
    width = (1 << 128) // target
    assert [s["HashKeyRange"] for s in opened] == [
        {
            "StartingHashKey": str(width * i),
            "EndingHashKey": str(width * (i + 1) - 1 if i < target - 1 else TOP),
        }
        for i in range(target)
    ]
    if total is not None:
        assert len(shards) == total
    # A lineage a consumer can follow: every shard after the first ones has parents, every closed
    # shard has children.
    ids = {s["ShardId"] for s in shards}
    parents = {s.get(key) for s in shards for key in ("ParentShardId", "AdjacentParentShardId")} - {None}
    assert all("ParentShardId" in s for s in shards[initial:])
    assert parents <= ids
    assert {s["ShardId"] for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]} == parents


def test_update_shard_count_limits(broker: Broker, clock: FakeClock) -> None:
    stream = open_test_stream(broker, "s", shards=2)
    with aws_error(
        "LimitExceededException",
        "UpdateShardCount cannot scale up over double your current open shard count. "
        "Current open shard count: 2, Target shard count: 5",
    ):
        stream.update_shard_count(5)
    stream.update_shard_count(4)
    with aws_error(
        "LimitExceededException",
        "UpdateShardCount cannot scale down below half your current open shard count. "
        "Current open shard count: 4, Target shard count: 1",
    ):
        stream.update_shard_count(1)
    with pytest.raises(AwsError, match=r"Member must satisfy enum value set: \[UNIFORM_SCALING\]"):
        stream.update_shard_count(3, "ODD_SCALING")
    for count in (3, 4, 3, 4, 3, 4, 3, 4, 3):  # ten calls in all
        clock.advance(60)
        stream.update_shard_count(count)
    with pytest.raises(AwsError, match="UpdateShardCount") as info:
        stream.update_shard_count(4)
    assert info.value.code == "LimitExceededException"
    clock.advance(86400 - 9 * 60)  # the first call leaves the rolling 24 hours
    stream.update_shard_count(4)


# ---------------------------------------------------------------------- consumers


def test_consumer_reads_every_shard_and_stops_at_end(broker: Broker) -> None:
    stream = open_test_stream(broker, "s", shards=4)
    entries = [{"Data": f"{i}".encode(), "PartitionKey": f"k{i % 10}"} for i in range(200)]
    stream.put_records(entries)
    consumer = stream.consumer("app")
    got = list(consumer.records(stop_at_end=True))
    assert sorted(r["Data"] for r in got) == sorted(e["Data"] for e in entries)
    assert list(consumer.records(stop_at_end=True)) == []
    # A new consumer of the same name resumes after what was checkpointed: nothing left.
    assert list(stream.consumer("app").records(stop_at_end=True)) == []
    # Another name reads everything again.
    assert len(list(stream.consumer("other").records(stop_at_end=True))) == 200


def test_consumer_keeps_order_per_partition_key_across_a_split(broker: Broker) -> None:
    stream = open_test_stream(broker, "s", shards=2)
    keys = [f"key-{i}" for i in range(20)]
    sent: dict[str, list[bytes]] = {key: [] for key in keys}
    consumer = stream.consumer("app")
    reader = consumer.records(stop_at_end=True)
    got: list[dict[str, Any]] = []

    def put(round_: int) -> None:
        entries = [{"Data": f"{key}:{round_}".encode(), "PartitionKey": key} for key in keys]
        stream.put_records(entries)
        for key in keys:
            sent[key].append(f"{key}:{round_}".encode())

    for round_ in range(5):
        put(round_)
    got.extend(next(reader) for _ in range(30))  # reading has begun when the split happens
    stream.split_shard("shardId-000000000000", str(HALF // 2))
    for round_ in range(5, 10):
        put(round_)
    stream.merge_shards("shardId-000000000002", "shardId-000000000003")
    for round_ in range(10, 15):
        put(round_)
    got.extend(reader)
    by_key: dict[str, list[bytes]] = {key: [] for key in keys}
    for record in got:
        by_key[record["PartitionKey"]].append(record["Data"])
    assert by_key == sent


def test_consumer_restarted_resumes_after_its_checkpoint(make_broker: Callable[[], Broker]) -> None:
    broker = make_broker()
    stream = open_test_stream(broker, "s", shards=2)
    stream.put_records([{"Data": f"{i}".encode(), "PartitionKey": f"k{i}"} for i in range(10)])
    consumer = stream.consumer("app")
    consumer.batch_size = 3
    reader = consumer.records(stop_at_end=True)
    first = [next(reader) for _ in range(4)]
    # Killed: the generator dropped and the consumer closed, no final checkpoint. The first batch
    # of 3 was checkpointed when the 4th record was asked for; the 4th comes again.
    reader.close()
    consumer.close()
    again = list(stream.consumer("app").records(stop_at_end=True))
    seen = [r["Data"] for r in first[:3]] + [r["Data"] for r in again]
    assert sorted(seen) == sorted(f"{i}".encode() for i in range(10))
    assert first[3]["Data"] in [r["Data"] for r in again]


def test_consumer_explicit_checkpoint(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    stream.put_records([{"Data": f"{i}".encode(), "PartitionKey": "k"} for i in range(6)])
    consumer = stream.consumer("app")
    reader = consumer.records(stop_at_end=True)
    got = [next(reader) for _ in range(2)]
    consumer.checkpoint()
    assert consumer.checkpoints() == {"shardId-000000000000": got[1]["SequenceNumber"]}
    reader.close()
    rest = [r["Data"] for r in stream.consumer("app").records(stop_at_end=True)]
    assert rest == [b"2", b"3", b"4", b"5"]
    assert stream.consumer("app").checkpoints()["shardId-000000000000"] == str(
        int(got[1]["SequenceNumber"]) + 4
    )


def test_consumer_latest_reads_only_new_records(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    stream.put_record(b"old", "k")
    consumer = stream.consumer("app", initial_position="LATEST")
    assert list(consumer.records(stop_at_end=True)) == []
    stream.put_record(b"new", "k")
    assert [r["Data"] for r in consumer.records(stop_at_end=True)] == [b"new"]


def test_consumer_blocks_until_records_arrive_and_close_ends_it(broker: Broker) -> None:
    stream = open_test_stream(broker, "s", shards=2)
    consumer = stream.consumer("app")
    got: list[bytes] = []
    arrived = threading.Event()

    def read() -> None:
        for record in consumer.records():
            got.append(record["Data"])
            if len(got) == 3:
                arrived.set()

    thread = threading.Thread(target=read)
    thread.start()
    stream.put_records([{"Data": f"{i}".encode(), "PartitionKey": f"k{i}"} for i in range(3)])
    assert arrived.wait(10.0)
    consumer.close()
    thread.join(10.0)
    assert not thread.is_alive()
    assert sorted(got) == [b"0", b"1", b"2"]


def test_consumer_wait_seconds_returns_when_idle(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    stream.put_record(b"x", "k")
    consumer = stream.consumer("app")
    assert [r["Data"] for r in consumer.records(wait_seconds=0.05)] == [b"x"]


def test_consumer_of_a_deleted_stream(broker: Broker) -> None:
    stream = open_test_stream(broker, "s")
    consumer = stream.consumer("app")
    broker.delete_stream("s")
    with aws_error("ResourceNotFoundException", "Stream s under account 000000000000 not found."):
        list(consumer.records(stop_at_end=True))
    assert isinstance(consumer, StreamConsumer)
