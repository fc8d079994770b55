"""Amazon Kinesis Data Streams' operations (Kinesis Data Streams API Reference) on a broker's
streams. A stream is named by StreamName or StreamARN (an ARN of another region or account names
no stream here); GetRecords by its ShardIterator alone, which carries the stream's name."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from rulebus import validation
from rulebus._errors import AwsError, NotFound, RulebusError, constraint_error
from rulebus.arn import Arn, stream_name
from rulebus.aws.request import Request
from rulebus.aws.services.operations import OperationTable, required
from rulebus.aws.services.tagging import check_tags, checked_map, tag_list
from rulebus.broker import Broker
from rulebus.kinesis.fan_out import consumer_arn_parts
from rulebus.kinesis.stream import Stream, parse_shard_iterator, validate_stream_name

__all__ = ["OPERATIONS"]

KINESIS = validation.KINESIS

#: ListStreams' and DescribeStream's default page (Kinesis Data Streams API Reference).
DEFAULT_LIMIT = 100
#: ListShards' default and largest page.
DEFAULT_SHARDS = 1000
MAX_SHARDS = 10_000
SUMMARY_MEMBERS = ("StreamName", "StreamARN", "StreamStatus", "StreamModeDetails", "StreamCreationTimestamp")


def _stream_not_found(name: str, account: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Stream {name} under account {account} not found.")


def _translate(error: RulebusError, request: Request) -> AwsError | None:
    if isinstance(error, NotFound):
        return _stream_not_found(error.name, request.account)
    return None


operation = OperationTable(_translate)
OPERATIONS = operation.handlers


def _name(broker: Broker, request: Request) -> str:
    """The stream StreamARN or StreamName names (the ARN wins when both are given)."""
    params = request.params
    arn = params.get("StreamARN")
    if arn is not None:
        text = validation.text(arn, "streamARN", KINESIS)
        name = stream_name(text)
        parsed = Arn.parse(text)
        if name is None or parsed is None:
            raise constraint_error(
                text,
                "streamARN",
                "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
            )
        if not parsed.is_in(broker.region, broker.account):
            raise _stream_not_found(name, request.account)
        return name
    name = params.get("StreamName")
    if name is None:
        # Kinesis's text when a request names no stream.
        raise AwsError("InvalidArgumentException", "Either StreamName or StreamARN should be provided.")
    return validation.text(name, "streamName", KINESIS)


def _stream(broker: Broker, request: Request) -> Stream:
    name = _name(broker, request)
    validate_stream_name(name)
    return Stream(broker.context, name)


def _limit(value: Any, parameter: str, default: int, highest: int) -> int:
    if value is None:
        return default
    limit = validation.integer(value, parameter, KINESIS)
    if limit < 1:
        raise constraint_error(limit, parameter, "Member must have value greater than or equal to 1")
    if limit > highest:
        raise constraint_error(limit, parameter, f"Member must have value less than or equal to {highest}")
    return limit


# --------------------------------------------------------------------------------------------
# Streams.


@operation("CreateStream")
def create_stream(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    name = validation.text(required(params, "StreamName", KINESIS), "streamName", KINESIS)
    validate_stream_name(name)
    mode = (params.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    if mode != "PROVISIONED":
        # Our wording: rulebus's streams have the shards they are given (provisioned mode).
        raise AwsError("InvalidArgumentException", f"StreamMode {mode} is not supported by rulebus.")
    if any(stream.name == name for stream in broker.streams()):
        raise AwsError(
            "ResourceInUseException", f"Stream {name} under account {request.account} already exists."
        )
    tags = params.get("Tags")
    if tags is not None:
        _check_tags(tags, {})
    stream = broker.stream(name, params.get("ShardCount", 1))
    if tags:
        broker.tag_resource(stream.arn, tags)
    return {}


@operation("DeleteStream")
def delete_stream(broker: Broker, request: Request) -> Mapping[str, Any]:
    enforce = request.params.get("EnforceConsumerDeletion")
    broker.delete_stream(_name(broker, request), enforce_consumer_deletion=bool(enforce))
    return {}


@operation("DescribeStream")
def describe_stream(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    description = _stream(broker, request).describe()
    limit = _limit(params.get("Limit"), "limit", DEFAULT_LIMIT, MAX_SHARDS)
    shards = description["Shards"]
    start = params.get("ExclusiveStartShardId")
    if start is not None:
        shards = [s for s in shards if s["ShardId"] > start]
    description["Shards"] = shards[:limit]
    description["HasMoreShards"] = len(shards) > limit
    return {"StreamDescription": description}


@operation("DescribeStreamSummary")
def describe_stream_summary(broker: Broker, request: Request) -> Mapping[str, Any]:
    return {"StreamDescriptionSummary": _stream(broker, request).describe_summary()}


@operation("ListStreams")
def list_streams(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    limit = _limit(params.get("Limit"), "limit", DEFAULT_LIMIT, 10_000)
    after = params.get("ExclusiveStartStreamName")
    token = params.get("NextToken")
    if token is not None:
        after = _token_text(token)
    streams = [s for s in broker.streams() if after is None or s.name > after]
    shown = streams[:limit]
    result: dict[str, Any] = {
        "StreamNames": [s.name for s in shown],
        "HasMoreStreams": len(streams) > limit,
        "StreamSummaries": [
            {key: value for key, value in s.describe_summary().items() if key in SUMMARY_MEMBERS}
            for s in shown
        ],
    }
    if len(streams) > limit:
        result["NextToken"] = _token(shown[-1].name)
    return result


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def _token_text(token: Any) -> str:
    try:
        return base64.urlsafe_b64decode(validation.text(token, "nextToken", KINESIS).encode("ascii")).decode(
            "utf-8"
        )
    except (binascii.Error, UnicodeError, ValueError):
        # Our wording; Kinesis answers InvalidArgumentException for a token it did not issue.
        raise AwsError("InvalidArgumentException", "NextToken is invalid.") from None


@operation("ListShards")
def list_shards(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    token = params.get("NextToken")
    after = params.get("ExclusiveStartShardId")
    if token is not None:
        # The token carries the stream and the last shard listed: a request with it names no stream.
        name, _, after = _token_text(token).partition("\n")
        if not after:
            raise AwsError("InvalidArgumentException", "NextToken is invalid.")
        stream = Stream(broker.context, name)
    else:
        stream = _stream(broker, request)
    shards: Sequence[dict[str, Any]] = stream.describe()["Shards"]
    shard_filter = params.get("ShardFilter")
    if shard_filter is not None:
        shards = _filtered(shards, shard_filter)
    if after is not None:
        shards = [s for s in shards if s["ShardId"] > after]
    limit = _limit(params.get("MaxResults"), "maxResults", DEFAULT_SHARDS, MAX_SHARDS)
    shown = list(shards[:limit])
    result: dict[str, Any] = {"Shards": shown}
    if len(shards) > limit:
        result["NextToken"] = _token(f"{stream.name}\n{shown[-1]['ShardId']}")
    return result


def _filtered(shards: Sequence[dict[str, Any]], shard_filter: Mapping[str, Any]) -> list[dict[str, Any]]:
    """ListShards' ShardFilter: AT_LATEST keeps the open shards, AFTER_SHARD_ID those after
    ShardId; the trim-horizon and timestamp filters keep every shard still listed (closed shards
    leave the list once past retention)."""
    kind = shard_filter.get("Type")
    if kind == "AT_LATEST":
        return [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    if kind == "AFTER_SHARD_ID":
        after = required(shard_filter, "ShardId", KINESIS)
        return [s for s in shards if s["ShardId"] > after]
    if kind in ("AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_TIMESTAMP", "FROM_TIMESTAMP"):
        return list(shards)
    raise constraint_error(
        kind,
        "shardFilter.type",
        "Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, "
        "AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]",
    )


@operation("IncreaseStreamRetentionPeriod")
def increase_stream_retention_period(broker: Broker, request: Request) -> Mapping[str, Any]:
    hours = required(request.params, "RetentionPeriodHours", KINESIS)
    _stream(broker, request).increase_retention_period(hours)
    return {}


@operation("DecreaseStreamRetentionPeriod")
def decrease_stream_retention_period(broker: Broker, request: Request) -> Mapping[str, Any]:
    hours = required(request.params, "RetentionPeriodHours", KINESIS)
    _stream(broker, request).decrease_retention_period(hours)
    return {}


# --------------------------------------------------------------------------------------------
# Records.


@operation("PutRecord")
def put_record(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    return _stream(broker, request).put_record(
        required(params, "Data", KINESIS),
        required(params, "PartitionKey", KINESIS),
        params.get("ExplicitHashKey"),
        params.get("SequenceNumberForOrdering"),
    )


@operation("PutRecords")
def put_records(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _stream(broker, request).put_records(required(request.params, "Records", KINESIS))


@operation("GetShardIterator")
def get_shard_iterator(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    iterator = _stream(broker, request).get_shard_iterator(
        required(params, "ShardId", KINESIS),
        required(params, "ShardIteratorType", KINESIS),
        params.get("StartingSequenceNumber"),
        params.get("Timestamp"),
    )
    return {"ShardIterator": iterator}


@operation("GetRecords")
def get_records(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    iterator = required(params, "ShardIterator", KINESIS)
    name = parse_shard_iterator(iterator)[4]
    if params.get("StreamARN") is not None and _name(broker, request) != name:
        raise AwsError("InvalidArgumentException", "Invalid ShardIterator.")
    result = Stream(broker.context, name).get_records(iterator, params.get("Limit", 10_000))
    if result.get("NextShardIterator") is None:
        result.pop("NextShardIterator", None)  # a closed shard read to its end: no next iterator
    return result


# --------------------------------------------------------------------------------------------
# Resharding.


@operation("SplitShard")
def split_shard(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    _stream(broker, request).split_shard(
        required(params, "ShardToSplit", KINESIS), required(params, "NewStartingHashKey", KINESIS)
    )
    return {}


@operation("MergeShards")
def merge_shards(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    _stream(broker, request).merge_shards(
        required(params, "ShardToMerge", KINESIS), required(params, "AdjacentShardToMerge", KINESIS)
    )
    return {}


@operation("UpdateShardCount")
def update_shard_count(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    return _stream(broker, request).update_shard_count(
        required(params, "TargetShardCount", KINESIS), params.get("ScalingType", "UNIFORM_SCALING")
    )


# --------------------------------------------------------------------------------------------
# Tags (Kinesis Data Streams Developer Guide, 'Tag your Amazon Kinesis Data Streams resources').


def _check_tags(tags: Any, held: Mapping[str, str]) -> None:
    check_tags(
        checked_map(tags, "tags", KINESIS),
        held,
        lambda reason: AwsError("InvalidArgumentException", reason),
        lambda reason: AwsError("LimitExceededException", reason),
    )


def _tag(broker: Broker, arn: str, tags: Any) -> Mapping[str, Any]:
    _check_tags(tags, broker.tags(arn))
    broker.tag_resource(arn, tags)
    return {}


def _untag(broker: Broker, request: Request, arn: str) -> Mapping[str, Any]:
    keys = validation.string_list(required(request.params, "TagKeys", KINESIS), "tagKeys", KINESIS)
    broker.untag_resource(arn, keys)
    return {}


def _resource(broker: Broker, request: Request) -> str:
    """The ARN of the stream a ResourceARN names (streams are what rulebus tags here)."""
    arn = validation.text(required(request.params, "ResourceARN", KINESIS), "resourceARN", KINESIS)
    if stream_name(arn) is None:
        raise AwsError("ResourceNotFoundException", f"Resource {arn} not found.")  # our wording
    return arn


@operation("AddTagsToStream")
def add_tags_to_stream(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _tag(broker, _stream(broker, request).arn, required(request.params, "Tags", KINESIS))


@operation("TagResource")
def tag_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _tag(broker, _resource(broker, request), required(request.params, "Tags", KINESIS))


@operation("RemoveTagsFromStream")
def remove_tags_from_stream(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _untag(broker, request, _stream(broker, request).arn)


@operation("UntagResource")
def untag_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _untag(broker, request, _resource(broker, request))


@operation("ListTagsForStream")
def list_tags_for_stream(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    tags = tag_list(broker.tags(_stream(broker, request).arn))
    after = params.get("ExclusiveStartTagKey")
    if after is not None:
        tags = [tag for tag in tags if tag["Key"] > after]
    limit = _limit(params.get("Limit"), "limit", 10, 50)
    return {"Tags": tags[:limit], "HasMoreTags": len(tags) > limit}


@operation("ListTagsForResource")
def list_tags_for_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    return {"Tags": tag_list(broker.tags(_resource(broker, request)))}


# --------------------------------------------------------------------------------------------
# Enhanced fan-out: registered consumers and SubscribeToShard.


def _consumer_stream(broker: Broker, request: Request) -> Stream:
    """The stream a consumer call names: by StreamARN, else by the stream in its ConsumerARN."""
    params = request.params
    if params.get("StreamARN") is not None:
        return _stream(broker, request)
    arn = params.get("ConsumerARN")
    if arn is None:
        raise AwsError("InvalidArgumentException", "Either StreamARN or ConsumerARN should be provided.")
    parts = consumer_arn_parts(validation.text(arn, "consumerARN", KINESIS))
    if parts is None:
        raise constraint_error(
            arn,
            "consumerARN",
            "Member must satisfy regular expression pattern: "
            "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
        )
    region, account, name, _, _ = parts
    if (region, account) != (broker.region, broker.account):
        raise AwsError(
            "ResourceNotFoundException", f"Consumer {arn} under account {request.account} not found."
        )
    return Stream(broker.context, name)


@operation("RegisterStreamConsumer")
def register_stream_consumer(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    required(params, "StreamARN", KINESIS)
    stream = _stream(broker, request)
    consumer = stream.register_consumer(required(params, "ConsumerName", KINESIS))
    tags = params.get("Tags")
    if tags:
        broker.tag_resource(consumer["ConsumerARN"], tags)
    return {"Consumer": consumer}


@operation("DescribeStreamConsumer")
def describe_stream_consumer(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    stream = _consumer_stream(broker, request)
    return {
        "ConsumerDescription": stream.describe_consumer(params.get("ConsumerName"), params.get("ConsumerARN"))
    }


@operation("ListStreamConsumers")
def list_stream_consumers(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    required(params, "StreamARN", KINESIS)
    consumers = _stream(broker, request).consumers()
    limit = _limit(params.get("MaxResults"), "maxResults", DEFAULT_LIMIT, MAX_SHARDS)
    start = 0
    token = params.get("NextToken")
    if token is not None:
        text = _token_text(token)
        start = int(text) if text.isdigit() else 0
    page = consumers[start : start + limit]
    result: dict[str, Any] = {"Consumers": page}
    if start + limit < len(consumers):
        result["NextToken"] = _token(str(start + limit))
    return result


@operation("DeregisterStreamConsumer")
def deregister_stream_consumer(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    stream = _consumer_stream(broker, request)
    stream.deregister_consumer(params.get("ConsumerName"), params.get("ConsumerARN"))
    return {}


@operation("SubscribeToShard")
def subscribe_to_shard(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    arn = required(params, "ConsumerARN", KINESIS)
    stream = _consumer_stream(broker, request)
    subscription = stream.subscribe_to_shard(
        arn, required(params, "ShardId", KINESIS), required(params, "StartingPosition", KINESIS)
    )
    return {"EventStream": subscription}
