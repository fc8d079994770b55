"""Kinesis's and STS's wire handlers (rulebus.aws.services.kinesis, .sts), called with Request
objects as the codec calls them; every answer is checked against botocore's output shape
(helpers/aws_wire.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers.aws import aws_error
from helpers.aws_wire import Wire

ACCOUNT = "123456789012"
ARN = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"


@pytest.fixture
def stream(wire: Wire) -> str:
    assert wire.kinesis("CreateStream", StreamName="s", ShardCount=2) == {}
    return "s"


def _read_all(wire: Wire, shard_id: str, **addressing: str) -> list[dict[str, object]]:
    iterator = wire.kinesis(
        "GetShardIterator", ShardId=shard_id, ShardIteratorType="TRIM_HORIZON", **addressing
    )
    return list(wire.kinesis("GetRecords", ShardIterator=iterator["ShardIterator"])["Records"])


def test_create_describe_and_delete(wire: Wire, stream: str) -> None:
    with aws_error("ResourceInUseException", f"Stream s under account {ACCOUNT} already exists."):
        wire.kinesis("CreateStream", StreamName="s", ShardCount=1)
    description = wire.kinesis("DescribeStream", StreamName="s")["StreamDescription"]
    assert description["StreamARN"] == ARN and len(description["Shards"]) == 2
    assert description["HasMoreShards"] is False
    first = wire.kinesis("DescribeStream", StreamARN=ARN, Limit=1)["StreamDescription"]
    assert [s["ShardId"] for s in first["Shards"]] == ["shardId-000000000000"] and first[
        "HasMoreShards"
    ] is True
    after = wire.kinesis("DescribeStream", StreamName="s", ExclusiveStartShardId="shardId-000000000000")
    assert [s["ShardId"] for s in after["StreamDescription"]["Shards"]] == ["shardId-000000000001"]
    summary = wire.kinesis("DescribeStreamSummary", StreamName="s")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 2
    assert wire.kinesis("DeleteStream", StreamARN=ARN) == {}
    with aws_error("ResourceNotFoundException", f"Stream s under account {ACCOUNT} not found."):
        wire.kinesis("DescribeStreamSummary", StreamName="s")


def test_addressing_errors(wire: Wire, stream: str) -> None:
    with aws_error("InvalidArgumentException", "Either StreamName or StreamARN should be provided."):
        wire.kinesis("DescribeStreamSummary")
    with aws_error("ResourceNotFoundException"):
        wire.kinesis("DescribeStreamSummary", StreamARN="arn:aws:kinesis:eu-west-1:123456789012:stream/s")
    with aws_error("ValidationException"):
        wire.kinesis("DescribeStreamSummary", StreamARN="arn:aws:sqs:us-east-1:123456789012:q")
    with aws_error("InvalidArgumentException"):
        wire.kinesis("CreateStream", StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})


def test_list_streams_pages(wire: Wire) -> None:
    for name in ("a", "b", "c"):
        wire.kinesis("CreateStream", StreamName=name, ShardCount=1)
    first = wire.kinesis("ListStreams", Limit=2)
    assert first["StreamNames"] == ["a", "b"] and first["HasMoreStreams"] is True
    assert [s["StreamName"] for s in first["StreamSummaries"]] == ["a", "b"]
    second = wire.kinesis("ListStreams", Limit=2, NextToken=first["NextToken"])
    assert second["StreamNames"] == ["c"] and second["HasMoreStreams"] is False and "NextToken" not in second
    assert wire.kinesis("ListStreams", ExclusiveStartStreamName="a")["StreamNames"] == ["b", "c"]


def test_put_and_get_records(wire: Wire, stream: str) -> None:
    put = wire.kinesis("PutRecord", StreamName="s", Data=b"\x00hello", PartitionKey="k")
    assert put["EncryptionType"] == "NONE"
    (record,) = _read_all(wire, put["ShardId"], StreamName="s")
    assert record["Data"] == b"\x00hello" and record["PartitionKey"] == "k"
    assert isinstance(record["ApproximateArrivalTimestamp"], datetime)
    batch = wire.kinesis(
        "PutRecords",
        StreamARN=ARN,
        Records=[{"Data": b"x%d" % i, "PartitionKey": f"k{i}"} for i in range(20)],
    )
    assert batch["FailedRecordCount"] == 0 and len(batch["Records"]) == 20
    every = _read_all(wire, "shardId-000000000000", StreamARN=ARN) + _read_all(
        wire, "shardId-000000000001", StreamARN=ARN
    )
    assert len(every) == 21
    with aws_error("InvalidArgumentException", "Invalid ShardIterator."):
        wire.kinesis("GetRecords", ShardIterator="garbage")


def test_get_records_checks_the_stream_arn_against_the_iterator(wire: Wire, stream: str) -> None:
    wire.kinesis("CreateStream", StreamName="other", ShardCount=1)
    iterator = wire.kinesis(
        "GetShardIterator", StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="LATEST"
    )
    with aws_error("InvalidArgumentException", "Invalid ShardIterator."):
        wire.kinesis(
            "GetRecords", ShardIterator=iterator["ShardIterator"], StreamARN=ARN.replace("/s", "/other")
        )
    assert wire.kinesis("GetRecords", ShardIterator=iterator["ShardIterator"], StreamARN=ARN)["Records"] == []


def test_resharding_list_shards_and_child_shards(wire: Wire, stream: str) -> None:
    wire.kinesis("PutRecord", StreamName="s", Data=b"before", PartitionKey="k", ExplicitHashKey="0")
    assert (
        wire.kinesis(
            "SplitShard",
            StreamName="s",
            ShardToSplit="shardId-000000000000",
            NewStartingHashKey=str(1 << 126),
        )
        == {}
    )
    shards = wire.kinesis("ListShards", StreamName="s")["Shards"]
    assert len(shards) == 4
    open_shards = wire.kinesis("ListShards", StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_shards) == 3
    first = wire.kinesis("ListShards", StreamName="s", MaxResults=3)
    rest = wire.kinesis("ListShards", NextToken=first["NextToken"])
    assert [s["ShardId"] for s in first["Shards"] + rest["Shards"]] == [s["ShardId"] for s in shards]
    assert "NextToken" not in rest
    iterator = wire.kinesis(
        "GetShardIterator", StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )
    read = wire.kinesis("GetRecords", ShardIterator=iterator["ShardIterator"])
    assert [r["Data"] for r in read["Records"]] == [b"before"]
    assert "NextShardIterator" not in read  # the closed parent, read to its end
    assert len(read["ChildShards"]) == 2
    merged = wire.kinesis(
        "MergeShards",
        StreamName="s",
        ShardToMerge="shardId-000000000002",
        AdjacentShardToMerge="shardId-000000000003",
    )
    assert merged == {}
    updated = wire.kinesis(
        "UpdateShardCount", StreamName="s", TargetShardCount=4, ScalingType="UNIFORM_SCALING"
    )
    assert updated["TargetShardCount"] == 4 and updated["StreamName"] == "s"
    with aws_error("InvalidArgumentException"):
        wire.kinesis("ListShards", NextToken="bm90aGluZw==")


def test_retention(wire: Wire, stream: str) -> None:
    assert wire.kinesis("IncreaseStreamRetentionPeriod", StreamName="s", RetentionPeriodHours=48) == {}
    summary = wire.kinesis("DescribeStreamSummary", StreamName="s")["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 48
    assert wire.kinesis("DecreaseStreamRetentionPeriod", StreamName="s", RetentionPeriodHours=24) == {}
    with aws_error("InvalidArgumentException"):
        wire.kinesis("DecreaseStreamRetentionPeriod", StreamName="s", RetentionPeriodHours=12)


def test_sts_get_caller_identity(wire: Wire) -> None:
    assert wire.call("sts", "GetCallerIdentity") == {
        "UserId": ACCOUNT,
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:root",
    }


def test_stream_tags(wire: Wire) -> None:
    wire.kinesis("CreateStream", StreamName="s", ShardCount=1, Tags={"team": "shop"})
    assert wire.kinesis("ListTagsForResource", ResourceARN=ARN) == {
        "Tags": [{"Key": "team", "Value": "shop"}]
    }
    wire.kinesis("AddTagsToStream", StreamName="s", Tags={"a": "1", "b": "2"})
    wire.kinesis("TagResource", ResourceARN=ARN, Tags={"c": "3"})
    first = wire.kinesis("ListTagsForStream", StreamName="s", Limit=2)
    assert first == {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "HasMoreTags": True}
    rest = wire.kinesis("ListTagsForStream", StreamARN=ARN, ExclusiveStartTagKey="b")
    assert [t["Key"] for t in rest["Tags"]] == ["c", "team"] and rest["HasMoreTags"] is False
    wire.kinesis("RemoveTagsFromStream", StreamName="s", TagKeys=["a", "b"])
    wire.kinesis("UntagResource", ResourceARN=ARN, TagKeys=["c"])
    assert wire.kinesis("ListTagsForStream", StreamName="s")["Tags"] == [{"Key": "team", "Value": "shop"}]
    with aws_error("LimitExceededException"):
        wire.kinesis("AddTagsToStream", StreamName="s", Tags={f"k{i}": "v" for i in range(50)})
    with aws_error("ResourceNotFoundException", f"Stream other under account {ACCOUNT} not found."):
        wire.kinesis("AddTagsToStream", StreamName="other", Tags={"a": "b"})
    wire.kinesis("DeleteStream", StreamName="s")
    wire.kinesis("CreateStream", StreamName="s", ShardCount=1)
    assert wire.kinesis("ListTagsForResource", ResourceARN=ARN) == {"Tags": []}
