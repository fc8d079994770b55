"""SQS's wire handlers (rulebus.aws.services.sqs), called with Request objects as the codec calls
them; every answer is checked against botocore's output shape (helpers/aws_wire.py)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest
from helpers.aws import aws_error
from helpers.aws_shapes import assert_output
from helpers.aws_wire import Wire
from rulebus.aws.services import ASYNC_SERVICES

ACCOUNT = "123456789012"
URL = f"http://localhost:4566/{ACCOUNT}/q"


@pytest.fixture
def url(wire: Wire) -> str:
    return str(wire.sqs("CreateQueue", QueueName="q")["QueueUrl"])


# ------------------------------------------------------------------ queue URLs


def test_create_queue_answers_a_url_on_the_host_the_client_addressed(wire: Wire) -> None:
    assert wire.sqs("CreateQueue", QueueName="q") == {"QueueUrl": URL}


def test_an_aws_endpoint_gets_aws_queue_urls(wire: Wire) -> None:
    wire.host = "sqs.us-east-1.amazonaws.com"
    assert (
        wire.sqs("CreateQueue", QueueName="q")["QueueUrl"]
        == f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/q"
    )


@pytest.mark.parametrize(
    "given",
    [
        URL,
        f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/q",
        f"http://sqs.us-east-1.localhost.localstack.cloud:4566/{ACCOUNT}/q",
        f"http://localhost:4566/queue/us-east-1/{ACCOUNT}/q",
        f"https://queue.amazonaws.com/{ACCOUNT}/q",
    ],
)
def test_any_host_reaches_the_queue(wire: Wire, url: str, given: str) -> None:
    wire.sqs("SendMessage", QueueUrl=given, MessageBody="hello")
    assert wire.sqs("ReceiveMessage", QueueUrl=url)["Messages"][0]["Body"] == "hello"


@pytest.mark.parametrize(
    "given",
    [
        "http://localhost:4566/000000000000/q",  # another account
        f"http://localhost:4566/{ACCOUNT}/missing",
        "http://localhost:4566/q",
        f"http://localhost:4566/{ACCOUNT}/bad.name",
        "not a url",
    ],
)
def test_a_url_that_names_no_queue_of_the_account_is_queue_does_not_exist(
    wire: Wire, url: str, given: str
) -> None:
    with aws_error("QueueDoesNotExist", "The specified queue does not exist.") as _:
        wire.sqs("SendMessage", QueueUrl=given, MessageBody="x")


def test_queue_does_not_exist_carries_the_legacy_query_code(wire: Wire) -> None:
    from rulebus import AwsError

    with pytest.raises(AwsError) as info:
        wire.sqs("GetQueueAttributes", QueueUrl=URL)
    assert info.value.query_code == "AWS.SimpleQueueService.NonExistentQueue"
    assert info.value.status == 400


def test_get_queue_url_and_another_owner(wire: Wire, url: str) -> None:
    assert wire.sqs("GetQueueUrl", QueueName="q") == {"QueueUrl": url}
    with aws_error("QueueDoesNotExist"):
        wire.sqs("GetQueueUrl", QueueName="q", QueueOwnerAWSAccountId="999999999999")
    with aws_error("QueueDoesNotExist"):
        wire.sqs("GetQueueUrl", QueueName="nope")


def test_missing_queue_url_is_missing_parameter(wire: Wire) -> None:
    with aws_error("MissingParameter", "The request must contain the parameter QueueUrl."):
        wire.sqs("SendMessage", MessageBody="x")


# ------------------------------------------------------------------ CreateQueue


def test_create_queue_with_attributes_is_idempotent_and_refuses_others(wire: Wire) -> None:
    first = wire.sqs("CreateQueue", QueueName="q", Attributes={"VisibilityTimeout": "60"})
    assert wire.sqs("CreateQueue", QueueName="q", Attributes={"VisibilityTimeout": "60"}) == first
    assert wire.sqs("CreateQueue", QueueName="q") == first  # no attributes: the queue as it is
    with aws_error(
        "QueueNameExists",
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    ):
        wire.sqs("CreateQueue", QueueName="q", Attributes={"VisibilityTimeout": "61"})


def test_create_fifo_queue_needs_fifo_queue_attribute(wire: Wire) -> None:
    with aws_error("InvalidParameterValue"):
        wire.sqs("CreateQueue", QueueName="t.fifo")
    url = wire.sqs("CreateQueue", QueueName="t.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    attributes = wire.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["FifoQueue"])
    assert attributes == {"Attributes": {"FifoQueue": "true"}}


def test_create_queue_refuses_unknown_attribute_and_bad_name(wire: Wire) -> None:
    with aws_error("InvalidAttributeName", "Unknown Attribute Colour."):
        wire.sqs("CreateQueue", QueueName="q", Attributes={"Colour": "red"})
    with aws_error("InvalidParameterValue"):
        wire.sqs("CreateQueue", QueueName="no spaces")


def test_delete_queue(wire: Wire, url: str) -> None:
    assert wire.sqs("DeleteQueue", QueueUrl=url) == {}
    with aws_error("QueueDoesNotExist"):
        wire.sqs("DeleteQueue", QueueUrl=url)


# ------------------------------------------------------------------ ListQueues


def test_list_queues_prefix_and_pages(wire: Wire) -> None:
    for name in ("a1", "a2", "a3", "b1"):
        wire.sqs("CreateQueue", QueueName=name)
    everything = wire.sqs("ListQueues")
    assert everything == {
        "QueueUrls": [f"http://localhost:4566/{ACCOUNT}/{n}" for n in ("a1", "a2", "a3", "b1")]
    }
    first = wire.sqs("ListQueues", QueueNamePrefix="a", MaxResults=2)
    assert [u.rsplit("/", 1)[1] for u in first["QueueUrls"]] == ["a1", "a2"]
    second = wire.sqs("ListQueues", QueueNamePrefix="a", MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in second["QueueUrls"]] == ["a3"]
    assert "NextToken" not in second


def test_list_queues_empty_and_bad_arguments(wire: Wire) -> None:
    assert wire.sqs("ListQueues") == {}
    with aws_error("InvalidParameterValue"):
        wire.sqs("ListQueues", MaxResults=0)
    with aws_error("InvalidParameterValue", "Invalid value for the parameter NextToken."):
        wire.sqs("ListQueues", MaxResults=1, NextToken="garbage")


def test_list_dead_letter_source_queues(wire: Wire) -> None:
    dlq = wire.sqs("CreateQueue", QueueName="dlq")["QueueUrl"]
    arn = wire.sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"3"}}'
    wire.sqs("CreateQueue", QueueName="src", Attributes={"RedrivePolicy": policy})
    assert wire.sqs("ListDeadLetterSourceQueues", QueueUrl=dlq) == {
        "queueUrls": [f"http://localhost:4566/{ACCOUNT}/src"]
    }
    assert wire.sqs("ListDeadLetterSourceQueues", QueueUrl=f"http://localhost:4566/{ACCOUNT}/src") == {
        "queueUrls": []
    }


# ------------------------------------------------------------------ attributes


def test_get_and_set_queue_attributes(wire: Wire, url: str) -> None:
    assert wire.sqs("SetQueueAttributes", QueueUrl=url, Attributes={"DelaySeconds": "5"}) == {}
    everything = wire.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert everything["DelaySeconds"] == "5"
    assert everything["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    assert wire.sqs("GetQueueAttributes", QueueUrl=url) == {}
    with aws_error("InvalidAttributeName", "Unknown Attribute Nope."):
        wire.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Nope"])
    with aws_error("InvalidAttributeValue"):
        wire.sqs("SetQueueAttributes", QueueUrl=url, Attributes={"DelaySeconds": "901"})


def test_purge_queue_once_a_minute(wire: Wire, url: str) -> None:
    wire.sqs("SendMessage", QueueUrl=url, MessageBody="x")
    assert wire.sqs("PurgeQueue", QueueUrl=url) == {}
    assert wire.sqs("ReceiveMessage", QueueUrl=url) == {}
    with aws_error("PurgeQueueInProgress"):
        wire.sqs("PurgeQueue", QueueUrl=url)


# ------------------------------------------------------------------ messages


ATTRIBUTES = {
    "Priority": {"DataType": "String", "StringValue": "high"},
    "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    "Count": {"DataType": "Number", "StringValue": "3"},
}


def test_send_answers_aws_md5s(wire: Wire, url: str) -> None:
    sent = wire.sqs("SendMessage", QueueUrl=url, MessageBody="hello", MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    assert len(sent["MD5OfMessageAttributes"]) == 32
    assert "MD5OfMessageSystemAttributes" not in sent
    plain = wire.sqs("SendMessage", QueueUrl=url, MessageBody="hello")
    assert set(plain) == {"MD5OfMessageBody", "MessageId"}


def test_md5_of_message_attributes_matches_the_documented_digest(wire: Wire, url: str) -> None:
    # Amazon SQS Developer Guide, 'Calculating the MD5 message digest for message attributes'.
    def field(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    expected = hashlib.md5(field(b"Priority") + field(b"String") + b"\x01" + field(b"high")).hexdigest()
    sent = wire.sqs(
        "SendMessage", QueueUrl=url, MessageBody="x", MessageAttributes={"Priority": ATTRIBUTES["Priority"]}
    )
    assert sent["MD5OfMessageAttributes"] == expected


def test_trace_header_is_digested(wire: Wire, url: str) -> None:
    system = {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}
    }
    sent = wire.sqs("SendMessage", QueueUrl=url, MessageBody="x", MessageSystemAttributes=system)
    assert len(sent["MD5OfMessageSystemAttributes"]) == 32
    with aws_error("InvalidParameterValue"):
        wire.sqs(
            "SendMessage",
            QueueUrl=url,
            MessageBody="x",
            MessageSystemAttributes={"Other": {"DataType": "String", "StringValue": "v"}},
        )


def test_receive_with_attributes(wire: Wire, url: str) -> None:
    sent = wire.sqs("SendMessage", QueueUrl=url, MessageBody="hello", MessageAttributes=ATTRIBUTES)
    received = wire.sqs(
        "ReceiveMessage",
        QueueUrl=url,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    (message,) = received["Messages"]
    assert message["Body"] == "hello"
    assert message["MessageId"] == sent["MessageId"]
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["Blob"] == {"DataType": "Binary", "BinaryValue": b"\x00\x01"}
    assert message["Attributes"]["SenderId"] == ACCOUNT
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_receive_takes_the_older_attribute_names_too(wire: Wire, url: str) -> None:
    wire.sqs("SendMessage", QueueUrl=url, MessageBody="hello")
    (message,) = wire.sqs("ReceiveMessage", QueueUrl=url, AttributeNames=["SentTimestamp"])["Messages"]
    assert set(message["Attributes"]) == {"SentTimestamp"}
    assert "MessageAttributes" not in message and "MD5OfMessageAttributes" not in message


def test_receive_at_most_max_number_and_bad_values(wire: Wire, url: str) -> None:
    for index in range(5):
        wire.sqs("SendMessage", QueueUrl=url, MessageBody=str(index))
    assert len(wire.sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=3)["Messages"]) == 3
    with aws_error("InvalidParameterValue"):
        wire.sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=11)
    with aws_error("InvalidParameterValue"):
        wire.sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=21)


def test_long_poll_returns_what_is_there(wire: Wire, url: str) -> None:
    wire.sqs("SendMessage", QueueUrl=url, MessageBody="waiting")
    received = wire.sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=20)
    assert [m["Body"] for m in received["Messages"]] == ["waiting"]


def test_delete_and_visibility(wire: Wire, url: str, clock) -> None:  # type: ignore[no-untyped-def]
    wire.sqs("SendMessage", QueueUrl=url, MessageBody="x")
    handle = wire.sqs("ReceiveMessage", QueueUrl=url, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    assert wire.sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0) == {}
    handle = wire.sqs("ReceiveMessage", QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    assert wire.sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=handle) == {}
    clock.advance(60)
    assert wire.sqs("ReceiveMessage", QueueUrl=url) == {}
    with aws_error("ReceiptHandleIsInvalid"):
        wire.sqs("DeleteMessage", QueueUrl=url, ReceiptHandle="garbage")


# ------------------------------------------------------------------ batches


def test_send_batch_successful_and_failed(wire: Wire, url: str) -> None:
    trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}}
    result = wire.sqs(
        "SendMessageBatch",
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "one", "MessageAttributes": ATTRIBUTES},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 901},
            {"Id": "c", "MessageBody": "three", "MessageSystemAttributes": trace},
        ],
    )
    assert [s["Id"] for s in result["Successful"]] == ["a", "c"]
    assert "MD5OfMessageAttributes" in result["Successful"][0]
    assert "MD5OfMessageSystemAttributes" in result["Successful"][1]
    (failed,) = result["Failed"]
    assert failed["Id"] == "b" and failed["SenderFault"] is True
    assert failed["Code"] == "InvalidParameterValue"


def test_batch_request_rules(wire: Wire, url: str) -> None:
    with aws_error("EmptyBatchRequest"):
        wire.sqs("SendMessageBatch", QueueUrl=url, Entries=[])
    with aws_error("TooManyEntriesInBatchRequest"):
        wire.sqs(
            "SendMessageBatch", QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)]
        )
    with aws_error("BatchEntryIdsNotDistinct"):
        wire.sqs("SendMessageBatch", QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "x"}] * 2)


def test_delete_and_visibility_batches(wire: Wire, url: str) -> None:
    wire.sqs("SendMessageBatch", QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(3)])
    handles = [
        m["ReceiptHandle"]
        for m in wire.sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    ]
    changed = wire.sqs(
        "ChangeMessageVisibilityBatch",
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": handles[0], "VisibilityTimeout": 100},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 100},
        ],
    )
    assert [s["Id"] for s in changed["Successful"]] == ["ok"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = wire.sqs(
        "DeleteMessageBatch",
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": h} for i, h in enumerate(handles)],
    )
    assert deleted == {"Successful": [{"Id": "d0"}, {"Id": "d1"}, {"Id": "d2"}], "Failed": []}


# ------------------------------------------------------------------ FIFO and dead-letter queues


def test_fifo_deduplication_through_the_wire(wire: Wire) -> None:
    url = wire.sqs(
        "CreateQueue",
        QueueName="t.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    first = wire.sqs("SendMessage", QueueUrl=url, MessageBody="x", MessageGroupId="g")
    again = wire.sqs("SendMessage", QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    with aws_error("MissingParameter", "The request must contain the parameter MessageGroupId."):
        wire.sqs("SendMessage", QueueUrl=url, MessageBody="y")


def test_message_move_task(wire: Wire) -> None:
    dlq = wire.sqs("CreateQueue", QueueName="dlq")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"
    policy = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"1"}}'
    wire.sqs("CreateQueue", QueueName="src", Attributes={"RedrivePolicy": policy})
    wire.sqs("SendMessage", QueueUrl=dlq, MessageBody="dead")
    started = wire.sqs("StartMessageMoveTask", SourceArn=dlq_arn)
    listed = wire.sqs("ListMessageMoveTasks", SourceArn=dlq_arn, MaxResults=10)
    assert listed["Results"][0]["Status"] == "RUNNING"
    assert listed["Results"][0]["TaskHandle"] == started["TaskHandle"]
    cancelled = wire.sqs("CancelMessageMoveTask", TaskHandle=started["TaskHandle"])
    assert cancelled == {"ApproximateNumberOfMessagesMoved": 0}
    with aws_error("InvalidParameterValue"):
        wire.sqs("StartMessageMoveTask", SourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:src")


# ------------------------------------------------------------------ tags


def test_queue_tags(wire: Wire) -> None:
    url = wire.sqs("CreateQueue", QueueName="q", tags={"team": "shop"})["QueueUrl"]
    assert wire.sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"team": "shop"}}
    assert wire.sqs("TagQueue", QueueUrl=url, Tags={"env": "test", "team": "orders"}) == {}
    assert wire.sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"env": "test", "team": "orders"}}
    assert wire.sqs("UntagQueue", QueueUrl=url, TagKeys=["team", "absent"]) == {}
    assert wire.sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"env": "test"}}
    with aws_error("InvalidParameterValue", "Tag keys beginning with 'aws:' are reserved for AWS."):
        wire.sqs("TagQueue", QueueUrl=url, Tags={"aws:x": "y"})
    with aws_error("InvalidParameterValue", "A resource can have at most 50 tags."):
        wire.sqs("TagQueue", QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    with aws_error("InvalidParameterValue"):  # refused before the queue is made
        wire.sqs("CreateQueue", QueueName="other", tags={"": "v"})
    with aws_error("QueueDoesNotExist"):
        wire.sqs("GetQueueUrl", QueueName="other")


def test_a_deleted_queue_takes_its_tags_along(wire: Wire) -> None:
    url = wire.sqs("CreateQueue", QueueName="q", tags={"team": "shop"})["QueueUrl"]
    wire.sqs("DeleteQueue", QueueUrl=url)
    url = wire.sqs("CreateQueue", QueueName="q")["QueueUrl"]
    assert wire.sqs("ListQueueTags", QueueUrl=url) == {}
    with aws_error("QueueDoesNotExist"):
        wire.sqs("TagQueue", QueueUrl=f"http://localhost:4566/{ACCOUNT}/missing", Tags={"a": "b"})


# ------------------------------------------------------------------ permissions


def test_add_and_remove_permission(wire: Wire, url: str) -> None:
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    assert (
        wire.sqs(
            "AddPermission",
            QueueUrl=url,
            Label="send",
            AWSAccountIds=["111111111111"],
            Actions=["SendMessage"],
        )
        == {}
    )
    wire.sqs(
        "AddPermission",
        QueueUrl=url,
        Label="read",
        AWSAccountIds=["111111111111", "222222222222"],
        Actions=["ReceiveMessage", "DeleteMessage"],
    )
    policy = json.loads(
        wire.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert policy["Id"] == f"{arn}/SQSDefaultPolicy"
    assert policy["Statement"][0] == {
        "Sid": "send",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SQS:SendMessage",
        "Resource": arn,
    }
    assert policy["Statement"][1]["Action"] == ["SQS:ReceiveMessage", "SQS:DeleteMessage"]
    with aws_error(
        "InvalidParameterValue", "Value send for parameter Label is invalid. Reason: Already exists."
    ):
        wire.sqs(
            "AddPermission",
            QueueUrl=url,
            Label="send",
            AWSAccountIds=["111111111111"],
            Actions=["SendMessage"],
        )
    with aws_error("InvalidParameterValue"):
        wire.sqs("AddPermission", QueueUrl=url, Label="x", AWSAccountIds=["111111111111"], Actions=["Fly"])
    assert wire.sqs("RemovePermission", QueueUrl=url, Label="send") == {}
    wire.sqs("RemovePermission", QueueUrl=url, Label="read")
    assert wire.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"]) == {}
    with aws_error("InvalidParameterValue"):
        wire.sqs("RemovePermission", QueueUrl=url, Label="send")


# ------------------------------------------------------------------ the awaiting ReceiveMessage


def test_async_receive_answers_as_the_synchronous_one(wire: Wire, url: str) -> None:
    receive = ASYNC_SERVICES["sqs"]["ReceiveMessage"]
    wire.sqs("SendMessage", QueueUrl=url, MessageBody="hello", MessageAttributes=ATTRIBUTES)

    async def main() -> Any:
        request = wire.request("sqs", "ReceiveMessage", {"QueueUrl": url, "MessageAttributeNames": ["All"]})
        return await receive(wire.broker, request)

    answer = asyncio.run(main())
    assert_output("sqs", "ReceiveMessage", answer)
    (message,) = answer["Messages"]
    assert message["Body"] == "hello" and message["MessageAttributes"]["Priority"]["StringValue"] == "high"


def test_async_long_poll_wakes_on_a_send(wire: Wire, url: str) -> None:
    receive = ASYNC_SERVICES["sqs"]["ReceiveMessage"]

    async def main() -> Any:
        request = wire.request("sqs", "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 20})
        waiting = asyncio.ensure_future(receive(wire.broker, request))
        for _ in range(5):
            await asyncio.sleep(0)  # the receive starts waiting
        assert not waiting.done()
        wire.sqs("SendMessage", QueueUrl=url, MessageBody="late")
        return await waiting

    assert [m["Body"] for m in asyncio.run(main())["Messages"]] == ["late"]


def test_async_receive_translates_errors(wire: Wire) -> None:
    receive = ASYNC_SERVICES["sqs"]["ReceiveMessage"]
    request = wire.request("sqs", "ReceiveMessage", {"QueueUrl": URL})
    with aws_error("QueueDoesNotExist", "The specified queue does not exist."):
        asyncio.run(receive(wire.broker, request))  # type: ignore[arg-type]
