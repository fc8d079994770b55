"""Kinesis: a producer puts click records; a consumer reads every shard from the start."""

from __future__ import annotations

import json

import boto3

kinesis = boto3.client("kinesis")


def produce(stream: str) -> None:
    kinesis.put_record(StreamName=stream, Data=json.dumps({"user": "u-0", "page": "/"}), PartitionKey="u-0")
    records = [
        {"Data": json.dumps({"user": f"u-{n}", "page": f"/item/{n}"}).encode(), "PartitionKey": f"u-{n}"}
        for n in range(1, 6)
    ]
    response = kinesis.put_records(StreamName=stream, Records=records)
    print("put", 1 + len(records) - response["FailedRecordCount"], "records")


def consume(stream: str) -> list[str]:
    seen = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=100)
            seen.extend(json.loads(record["Data"])["user"] for record in response["Records"])
            if not response["Records"] and response["MillisBehindLatest"] == 0:
                break  # caught up with this shard
            iterator = response.get("NextShardIterator")
    return sorted(seen)


def main() -> None:
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName="clicks")
    produce("clicks")
    print("read users:", consume("clicks"))


if __name__ == "__main__":
    main()
