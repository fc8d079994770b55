"""SQS queue names and queue attributes: defaults, ranges and AWS's error texts, word for word.

Sources of the expected texts (never the module's output):
- texts recorded against AWS (name text, "Unknown Attribute ...", "Modifying queue type is
  not supported.", "You can specify the DeduplicationScope only when FifoQueue is set to true."),
  SQS API Reference, CreateQueue and SetQueueAttributes (defaults and ranges), dead-letter and FIFO;
- texts AWS does not document, taken from emulator test suites that assert AWS's wording
  (marked "undocumented text" below): "Invalid value for the parameter <X>.", the RedrivePolicy and
  RedriveAllowPolicy reasons, the FIFO-name text, the SSE conflict text.

Not pinned down, so asserted only by code (not text): FifoThroughputLimit on a standard queue (text
by analogy with DeduplicationScope) and perMessageGroupId without DeduplicationScope=messageGroup.
"""

from __future__ import annotations

import json

import pytest
from rulebus import AwsError
from rulebus.sqs.attributes import (
    ATTRIBUTE_NAMES,
    INTEGER_RANGES,
    QueueAttributes,
    RedriveAllowPolicy,
    RedrivePolicy,
    queue_arn,
    queue_url,
    validate_queue_name,
)

DLQ = "arn:aws:sqs:us-east-1:123456789012:MyDLQ"
FIFO_DLQ = "arn:aws:sqs:us-east-1:123456789012:MyDlq.fifo"


def error_of(call, *args, **kwargs) -> AwsError:
    with pytest.raises(AwsError) as info:
        call(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------------------- queue names


@pytest.mark.parametrize(
    "name",
    ["a", "A" * 80, "orders-dlq_2", "0", "x" * 75 + ".fifo", "tx.fifo", "Case-Sensitive"],
)
def test_valid_names(name: str) -> None:
    validate_queue_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A" * 81,
        "x" * 76 + ".fifo",  # the suffix counts toward 80
        "quename_nonalpha!",
        "in.fo",
        "a.fifo.fifo",
        ".fifo",
        "has space",
        "ééwwà",
        "q.FIFO",
        "slash/q",
    ],
)
def test_invalid_names(name: str) -> None:
    error = error_of(validate_queue_name, name)
    assert error.code == "InvalidParameterValue"
    assert error.message == (
        f"Value ({name}) for parameter QueueName is invalid. "
        "Must be an alphanumeric String of 1 to 80 in length."
    )


def test_spec_name_example_word_for_word() -> None:
    error = error_of(validate_queue_name, "quename_nonalpha$")
    assert error.message == (
        "Value (quename_nonalpha$) for parameter QueueName is invalid. "
        "Must be an alphanumeric String of 1 to 80 in length."
    )


def test_fifo_name_needs_fifo_queue_attribute() -> None:
    error = error_of(QueueAttributes.from_aws, "tx.fifo", {})
    assert error.code == "InvalidParameterValue"
    assert error.message.startswith("Value (tx.fifo) for parameter QueueName is invalid.")
    error = error_of(QueueAttributes.from_aws, "tx.fifo", {"FifoQueue": "false"})
    assert error.code == "InvalidParameterValue"


def test_fifo_queue_attribute_needs_fifo_name() -> None:  # undocumented text
    error = error_of(QueueAttributes.from_aws, "foo-bar", {"FifoQueue": "true"})
    assert error.code == "InvalidParameterValue"
    assert error.message == (
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
        "must end with .fifo suffix and be 1 to 80 in length."
    )


def test_fifo_queue_false_on_standard_name_is_accepted() -> None:
    assert QueueAttributes.from_aws("plain", {"FifoQueue": "false"}) == QueueAttributes()


# ------------------------------------------------------------------------------- ARN and URL


def test_arn_and_url() -> None:
    assert queue_arn("orders", "eu-west-1", "123456789012") == "arn:aws:sqs:eu-west-1:123456789012:orders"
    assert queue_url("orders", "eu-west-1", "123456789012") == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"
    )
    assert queue_url("tx.fifo", "us-east-1", "000000000000", host="http://localhost:4566/") == (
        "http://localhost:4566/000000000000/tx.fifo"
    )
    assert queue_url("q", "us-east-1", "1", host="sqs.example") == "https://sqs.example/1/q"
    assert error_of(queue_arn, "bad name", "us-east-1", "1").code == "InvalidParameterValue"


# ------------------------------------------------------------------------------- defaults


def test_standard_defaults() -> None:
    attributes = QueueAttributes.from_aws("orders")
    assert attributes == QueueAttributes()
    assert attributes.to_aws() == {
        "DelaySeconds": "0",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "ReceiveMessageWaitTimeSeconds": "0",
        "VisibilityTimeout": "30",
        "SqsManagedSseEnabled": "true",
    }
    assert attributes.redrive_permission == "allowAll"
    assert attributes.redrive_policy is None
    assert not attributes.high_throughput


def test_fifo_defaults() -> None:
    attributes = QueueAttributes.from_aws("tx.fifo", {"FifoQueue": "true"})
    shown = attributes.to_aws()
    assert shown["FifoQueue"] == "true"
    assert shown["ContentBasedDeduplication"] == "false"
    assert shown["DeduplicationScope"] == "queue"
    assert shown["FifoThroughputLimit"] == "perQueue"
    assert attributes.kms_data_key_reuse_period_seconds == 300


def test_high_throughput_fifo() -> None:
    attributes = QueueAttributes.from_aws(
        "tx.fifo",
        {
            "FifoQueue": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )
    assert attributes.high_throughput


# ------------------------------------------------------------------------------- integer ranges

RANGES = [
    ("DelaySeconds", 0, 900),
    ("MaximumMessageSize", 1_024, 1_048_576),
    ("MessageRetentionPeriod", 60, 1_209_600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20),
    ("VisibilityTimeout", 0, 43_200),
    ("KmsDataKeyReusePeriodSeconds", 60, 86_400),
]


def test_ranges_table_matches_spec() -> None:
    assert {name: (low, high) for name, low, high in RANGES} == INTEGER_RANGES


@pytest.mark.parametrize(("attribute", "low", "high"), RANGES)
def test_range_edges_accepted(attribute: str, low: int, high: int) -> None:
    for value in (low, high):
        attributes = QueueAttributes.from_aws("q", {attribute: str(value)})
        assert attributes.to_aws().get(attribute, str(value)) == str(value)
        snake = {
            "DelaySeconds": "delay_seconds",
            "MaximumMessageSize": "maximum_message_size",
            "MessageRetentionPeriod": "message_retention_period",
            "ReceiveMessageWaitTimeSeconds": "receive_message_wait_time_seconds",
            "VisibilityTimeout": "visibility_timeout",
            "KmsDataKeyReusePeriodSeconds": "kms_data_key_reuse_period_seconds",
        }[attribute]
        assert getattr(attributes, snake) == value


@pytest.mark.parametrize(("attribute", "low", "high"), RANGES)
@pytest.mark.parametrize("bad", ["below", "above", "", " 6", "5.5", "1e3", "abc", "true"])
def test_range_refusals(attribute: str, low: int, high: int, bad: str) -> None:  # undocumented text
    value = {"below": str(low - 1), "above": str(high + 1)}.get(bad, bad)
    error = error_of(QueueAttributes.from_aws, "q", {attribute: value})
    assert error.code == "InvalidAttributeValue"
    assert error.message == f"Invalid value for the parameter {attribute}."


def test_old_maximum_message_size_is_no_longer_the_limit() -> None:
    assert QueueAttributes.from_aws("q", {"MaximumMessageSize": "262145"}).maximum_message_size == 262_145


# ------------------------------------------------------------------------------- attribute names


def test_unknown_attribute() -> None:
    error = error_of(QueueAttributes.from_aws, "q", {"Colour": "blue"})
    assert (error.code, error.message) == ("InvalidAttributeName", "Unknown Attribute Colour.")
    error = error_of(QueueAttributes.from_aws, "q", {"QueueArn": "arn:aws:sqs:us-east-1:1:q"})
    assert error.code == "InvalidAttributeName"


def test_fifo_only_attributes_on_standard_queue() -> None:
    error = error_of(QueueAttributes.from_aws, "q", {"ContentBasedDeduplication": "true"})
    assert (error.code, error.message) == (
        "InvalidAttributeName",
        "Unknown Attribute ContentBasedDeduplication.",
    )
    error = error_of(QueueAttributes.from_aws, "q", {"DeduplicationScope": "queue"})
    assert (error.code, error.message) == (
        "InvalidAttributeName",
        "You can specify the DeduplicationScope only when FifoQueue is set to true.",
    )
    error = error_of(QueueAttributes.from_aws, "q", {"FifoThroughputLimit": "perQueue"})
    assert error.code == "InvalidAttributeName"  # text by analogy only


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("ContentBasedDeduplication", "yes"),
        ("DeduplicationScope", "group"),
        ("DeduplicationScope", "messagegroup"),
        ("FifoThroughputLimit", "perGroup"),
        ("FifoQueue", "1"),
        ("SqsManagedSseEnabled", "on"),
    ],
)
def test_bad_enum_and_boolean_values(attribute: str, value: str) -> None:
    error = error_of(QueueAttributes.from_aws, "tx.fifo", {"FifoQueue": "true", attribute: value})
    assert (error.code, error.message) == (
        "InvalidAttributeValue",
        f"Invalid value for the parameter {attribute}.",
    )


def test_per_message_group_id_needs_message_group_scope() -> None:
    error = error_of(
        QueueAttributes.from_aws, "tx.fifo", {"FifoQueue": "true", "FifoThroughputLimit": "perMessageGroupId"}
    )
    assert error.code == "InvalidAttributeValue"


# ------------------------------------------------------------------------------- set attributes


def test_set_fifo_queue_on_standard_queue() -> None:
    error = error_of(QueueAttributes().updated, {"FifoQueue": "true"})
    assert (error.code, error.message) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")


def test_set_changes_queue_type() -> None:
    fifo = QueueAttributes.from_aws("tx.fifo", {"FifoQueue": "true"})
    error = error_of(fifo.updated, {"FifoQueue": "false"})
    assert (error.code, error.message) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
    )
    assert fifo.updated({"FifoQueue": "true"}) == fifo


def test_set_keeps_other_attributes_and_clears_redrive() -> None:
    start = QueueAttributes.from_kwargs(
        "q", visibility_timeout=5, redrive_policy={"deadLetterTargetArn": DLQ, "maxReceiveCount": 3}
    )
    changed = start.updated({"DelaySeconds": "10"})
    assert (changed.visibility_timeout, changed.delay_seconds) == (5, 10)
    assert changed.redrive_policy == RedrivePolicy(DLQ, 3)
    assert changed.updated({"RedrivePolicy": ""}).redrive_policy is None


# ------------------------------------------------------------------------------- redrive policy


def redrive(document: object) -> str:
    return json.dumps(document, separators=(",", ":"))


def redrive_error(raw: str) -> AwsError:
    return error_of(QueueAttributes.from_aws, "q", {"RedrivePolicy": raw})


def test_redrive_policy_accepted() -> None:
    raw = redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": 5})
    attributes = QueueAttributes.from_aws("q", {"RedrivePolicy": raw})
    assert attributes.redrive_policy == RedrivePolicy(DLQ, 5)
    assert attributes.to_aws()["RedrivePolicy"] == raw
    # a numeric string count is read as a number and shown as one
    spaced = json.dumps({"maxReceiveCount": "1000", "deadLetterTargetArn": DLQ})
    assert QueueAttributes.from_aws("q", {"RedrivePolicy": spaced}).to_aws()["RedrivePolicy"] == redrive(
        {"deadLetterTargetArn": DLQ, "maxReceiveCount": 1000}
    )
    fifo = QueueAttributes.from_aws(
        "tx.fifo",
        {
            "FifoQueue": "true",
            "RedrivePolicy": redrive({"deadLetterTargetArn": FIFO_DLQ, "maxReceiveCount": 1}),
        },
    )
    assert fifo.redrive_policy == RedrivePolicy(FIFO_DLQ, 1)


@pytest.mark.parametrize("raw", [" ", "4", "[]", "null", "{", '"text"'])
def test_redrive_policy_not_a_map(raw: str) -> None:
    error = redrive_error(raw)
    assert (error.code, error.message) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.",
    )


def test_redrive_policy_missing_attributes() -> None:
    assert redrive_error("{}").message == (
        "Value {} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory "
        "attribute: maxReceiveCount."
    )
    assert redrive_error('{"maxReceiveCount":5}').message == (
        'Value {"maxReceiveCount":5} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not '
        "contain mandatory attribute: deadLetterTargetArn."
    )
    assert redrive_error("{}").code == "InvalidParameterValue"


@pytest.mark.parametrize("count", [0, -36, 1001, 4023, "abc", 2.5, True])
def test_redrive_policy_max_receive_count_range(count: object) -> None:
    raw = redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": count})
    shown = count if isinstance(count, str) else json.dumps(count)
    assert redrive_error(raw).message == (
        f"Value {raw} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: "
        f"{shown}, valid values are from 1 to 1000 both inclusive."
    )


def test_redrive_policy_count_edges_accepted() -> None:
    for count in (1, 1000):
        raw = redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": count})
        assert QueueAttributes.from_aws("q", {"RedrivePolicy": raw}).redrive_policy == RedrivePolicy(
            DLQ, count
        )


def test_redrive_policy_target_must_be_sqs() -> None:
    raw = redrive({"deadLetterTargetArn": "arn:aws:sns:us-east-1:123456789012:MyTopic", "maxReceiveCount": 5})
    assert redrive_error(raw).message == (
        f"Value {raw} for parameter RedrivePolicy is invalid. "
        "Reason: Only SQS queues are valid resources for "
        "deadLetterTargetArn."
    )


def test_redrive_policy_same_queue_type() -> None:
    raw = redrive({"deadLetterTargetArn": FIFO_DLQ, "maxReceiveCount": 5})
    assert redrive_error(raw).message == (
        f"Value {raw} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of "
        "queue as the source.."
    )
    raw = redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": 5})
    error = error_of(QueueAttributes.from_aws, "tx.fifo", {"FifoQueue": "true", "RedrivePolicy": raw})
    assert error.message.endswith("Reason: Dead-letter queue must be same type of queue as the source..")


def test_redrive_policy_unexpected_attribute() -> None:
    raw = redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": 5, "dummyField": "dummy value"})
    assert redrive_error(raw).message == (
        f"Value {raw} for parameter RedrivePolicy is invalid. "
        "Reason: Only following attributes are supported: "
        "[maxReceiveCount, deadLetterTargetArn]."
    )


# ------------------------------------------------------------------------------- redrive-allow policy

UNSUPPORTED = (
    "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the redrive allow "
    "policy, as it\u2019s in an unsupported format."
)


def allow_error(raw: str) -> AwsError:
    return error_of(QueueAttributes.from_aws, "q", {"RedriveAllowPolicy": raw})


@pytest.mark.parametrize(
    "raw",
    [
        "444",
        "false",
        "badjson",
        "[]",
        "{}",
        '{"redrivePermission":"dummy"}',
        '{"redrivePermission":"allowAll","dummy":"value"}',
        '{"redrivePermission":"byQueue","sourceQueueArns":"arn:aws:sqs"}',
        '{"redrivePermission":"byQueue","sourceQueueArns":[{"dummy":"value"}]}',
    ],
)
def test_redrive_allow_policy_unsupported_format(raw: str) -> None:
    error = allow_error(raw)
    assert (error.code, error.message) == ("InvalidAttributeValue", UNSUPPORTED)


@pytest.mark.parametrize(
    "raw", ['{"redrivePermission":"byQueue"}', '{"redrivePermission":"byQueue","sourceQueueArns":[]}']
)
def test_redrive_allow_policy_by_queue_needs_arns(raw: str) -> None:
    error = allow_error(raw)
    assert error.code == "InvalidParameterValue"
    assert error.message == (
        f"Value {raw} for parameter RedriveAllowPolicy is invalid. "
        "Reason: Amazon SQS can't create the redrive "
        "allow policy. When you specify the byQueue permission type, you must also specify one or more "
        "sourceQueueArns values."
    )


def test_redrive_allow_policy_at_most_ten_arns() -> None:
    arns = [f"arn:aws:sqs:us-east-1:123456789012:x{i}" for i in range(1, 12)]
    raw = redrive({"redrivePermission": "byQueue", "sourceQueueArns": arns})
    assert allow_error(raw).message == (
        f"Value {raw} for parameter RedriveAllowPolicy is invalid. "
        "Reason: Amazon SQS can't create the redrive "
        "allow policy. The maximum number of source queue ARNs you can specify is 10."
    )
    ten = redrive({"redrivePermission": "byQueue", "sourceQueueArns": arns[:10]})
    policy = QueueAttributes.from_aws("q", {"RedriveAllowPolicy": ten}).redrive_allow_policy
    assert policy is not None and policy.source_queue_arns == tuple(arns[:10])


@pytest.mark.parametrize("permission", ["allowAll", "denyAll"])
def test_redrive_allow_policy_arns_only_with_by_queue(permission: str) -> None:
    raw = redrive(
        {"redrivePermission": permission, "sourceQueueArns": ["arn:aws:sqs:us-east-1:123456789012:x7"]}
    )
    assert allow_error(raw).message == (
        f"Value {raw} for parameter RedriveAllowPolicy is invalid. "
        "Reason: Amazon SQS can't create the redrive "
        "allow policy. To specify one or more source queue ARNs, you must set redrivePermission to byQueue."
    )


@pytest.mark.parametrize(
    "document",
    [
        {"redrivePermission": "allowAll"},
        {"redrivePermission": "denyAll"},
        {"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:us-east-1:123456789012:x1"]},
    ],
)
def test_redrive_allow_policy_accepted_and_echoed(document: dict[str, object]) -> None:
    raw = redrive(document)
    assert QueueAttributes.from_aws("q", {"RedriveAllowPolicy": raw}).to_aws()["RedriveAllowPolicy"] == raw


def test_redrive_allow_policy_allows() -> None:
    source = "arn:aws:sqs:us-east-1:123456789012:x1"
    assert RedriveAllowPolicy().allows(source)
    assert not RedriveAllowPolicy("denyAll").allows(source)
    by_queue = RedriveAllowPolicy("byQueue", (source,))
    assert by_queue.allows(source)
    assert not by_queue.allows(source + "2")


# ------------------------------------------------------------------------------- encryption and policy


def test_kms_key_turns_sqs_sse_off() -> None:
    attributes = QueueAttributes.from_aws("q", {"KmsMasterKeyId": "alias/aws/sqs"})
    shown = attributes.to_aws()
    assert shown["SqsManagedSseEnabled"] == "false"
    assert shown["KmsMasterKeyId"] == "alias/aws/sqs"
    assert shown["KmsDataKeyReusePeriodSeconds"] == "300"


def test_both_kinds_of_sse_refused() -> None:  # undocumented text
    error = error_of(
        QueueAttributes.from_aws, "q", {"SqsManagedSseEnabled": "true", "KmsMasterKeyId": "alias/aws/sqs"}
    )
    assert error.message == (
        "You can use one type of server-side encryption (SSE) at one time. "
        "You can either enable KMS SSE or SQS SSE."
    )


def test_policy_echoed_and_must_be_json_object() -> None:
    policy = '{"Version": "2012-10-17", "Statement": []}'
    assert QueueAttributes.from_aws("q", {"Policy": policy}).to_aws()["Policy"] == policy
    assert error_of(QueueAttributes.from_aws, "q", {"Policy": "not json"}).code == "InvalidAttributeValue"


# ------------------------------------------------------------------------------- round trips


FULL_FIFO = {
    "DelaySeconds": "900",
    "MaximumMessageSize": "1024",
    "MessageRetentionPeriod": "60",
    "ReceiveMessageWaitTimeSeconds": "20",
    "VisibilityTimeout": "43200",
    "RedrivePolicy": redrive({"deadLetterTargetArn": FIFO_DLQ, "maxReceiveCount": 7}),
    "RedriveAllowPolicy": redrive({"redrivePermission": "denyAll"}),
    "Policy": '{"Version":"2012-10-17"}',
    "KmsMasterKeyId": "alias/aws/sqs",
    "KmsDataKeyReusePeriodSeconds": "86400",
    "SqsManagedSseEnabled": "false",
    "FifoQueue": "true",
    "ContentBasedDeduplication": "true",
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
}


def test_round_trip_every_attribute() -> None:
    assert set(FULL_FIFO) == set(ATTRIBUTE_NAMES)
    attributes = QueueAttributes.from_aws("tx.fifo", FULL_FIFO)
    assert attributes.to_aws() == FULL_FIFO
    assert QueueAttributes.from_aws("tx.fifo", attributes.to_aws()) == attributes


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("q", {}),
        ("q", {"VisibilityTimeout": "0", "DelaySeconds": "0"}),
        ("q", {"RedrivePolicy": redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3})}),
        ("tx.fifo", {"FifoQueue": "true"}),
        ("tx.fifo", {"FifoQueue": "TRUE", "ContentBasedDeduplication": "True"}),
    ],
)
def test_round_trip(name: str, given: dict[str, str]) -> None:
    attributes = QueueAttributes.from_aws(name, given)
    assert QueueAttributes.from_aws(name, attributes.to_aws()) == attributes


def test_equal_attributes_compare_equal() -> None:
    # CreateQueue's idempotency is this equality.
    assert QueueAttributes.from_aws("q", {"VisibilityTimeout": "30"}) == QueueAttributes.from_aws("q", {})
    assert QueueAttributes.from_aws("q", {"VisibilityTimeout": "31"}) != QueueAttributes.from_aws("q", {})


# ------------------------------------------------------------------------------- keyword arguments


def test_from_kwargs_matches_from_aws() -> None:
    by_kwargs = QueueAttributes.from_kwargs(
        "orders",
        visibility_timeout=30,
        delay_seconds=5,
        redrive_policy={"deadLetterTargetArn": DLQ, "maxReceiveCount": 3},
        redrive_allow_policy={"redrivePermission": "denyAll"},
        sqs_managed_sse_enabled=False,
    )
    by_aws = QueueAttributes.from_aws(
        "orders",
        {
            "VisibilityTimeout": "30",
            "DelaySeconds": "5",
            "RedrivePolicy": redrive({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3}),
            "RedriveAllowPolicy": '{"redrivePermission":"denyAll"}',
            "SqsManagedSseEnabled": "false",
        },
    )
    assert by_kwargs == by_aws


def test_from_kwargs_fifo_name_implies_fifo() -> None:
    attributes = QueueAttributes.from_kwargs("tx.fifo", content_based_deduplication=True)
    assert attributes.fifo_queue and attributes.content_based_deduplication
    assert QueueAttributes.from_kwargs("tx.fifo", fifo_queue=True) == QueueAttributes.from_kwargs("tx.fifo")


def test_from_kwargs_validates_like_from_aws() -> None:
    error = error_of(QueueAttributes.from_kwargs, "q", visibility_timeout=43_201)
    assert error.message == "Invalid value for the parameter VisibilityTimeout."
    error = error_of(QueueAttributes.from_kwargs, "q", visibility_timeout=True)
    assert error.code == "InvalidAttributeValue"
    error = error_of(QueueAttributes.from_kwargs, "q", fifo_queue=True)
    assert error.code == "InvalidParameterValue"
    error = error_of(QueueAttributes.from_kwargs, "q", content_based_deduplication=True)
    assert error.message == "Unknown Attribute ContentBasedDeduplication."


def test_from_kwargs_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="colour"):
        QueueAttributes.from_kwargs("q", colour="blue")
