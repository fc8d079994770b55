"""SNS's wire handlers (rulebus.aws.services.sns), called with Request objects as the codec calls
them; every answer is checked against botocore's output shape (helpers/aws_wire.py)."""

from __future__ import annotations

import json

import pytest
from helpers.aws import aws_error
from helpers.aws_wire import Wire
from helpers.http_endpoint import Endpoint
from rulebus import AwsError

ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:t"


@pytest.fixture
def topic(wire: Wire) -> str:
    return str(wire.sns("CreateTopic", Name="t")["TopicArn"])


# ------------------------------------------------------------------ topics


def test_create_topic_is_idempotent_and_carries_region_and_account(wire: Wire) -> None:
    assert wire.sns("CreateTopic", Name="t") == {"TopicArn": TOPIC_ARN}
    assert wire.sns("CreateTopic", Name="t") == {"TopicArn": TOPIC_ARN}


def test_create_topic_attributes_and_fifo(wire: Wire) -> None:
    arn = wire.sns("CreateTopic", Name="t", Attributes={"DisplayName": "Shop"})["TopicArn"]
    assert wire.sns("GetTopicAttributes", TopicArn=arn)["Attributes"]["DisplayName"] == "Shop"
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    ):
        wire.sns("CreateTopic", Name="t", Attributes={"DisplayName": "Other"})
    fifo = wire.sns(
        "CreateTopic", Name="f.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    assert wire.sns("GetTopicAttributes", TopicArn=fifo)["Attributes"]["FifoTopic"] == "true"
    with aws_error("InvalidParameter"):
        wire.sns("CreateTopic", Name="g", Attributes={"Colour": "red"})


def test_set_topic_attributes(wire: Wire, topic: str) -> None:
    assert (
        wire.sns("SetTopicAttributes", TopicArn=topic, AttributeName="DisplayName", AttributeValue="New")
        == {}
    )
    assert wire.sns("GetTopicAttributes", TopicArn=topic)["Attributes"]["DisplayName"] == "New"
    assert wire.broker.find_topic("t").attributes["DisplayName"] == "New"  # type: ignore[union-attr]
    with aws_error("InvalidParameter", "Invalid parameter: AttributeName"):
        wire.sns("SetTopicAttributes", TopicArn=topic, AttributeName="FifoTopic", AttributeValue="true")
    with aws_error("InvalidParameter"):
        wire.sns(
            "SetTopicAttributes",
            TopicArn=topic,
            AttributeName="ContentBasedDeduplication",
            AttributeValue="true",
        )


def test_set_topic_attributes_keeps_subscriptions(wire: Wire, topic: str) -> None:
    url, arn = wire.queue("q")
    wire.sns("Subscribe", TopicArn=topic, Protocol="sqs", Endpoint=arn)
    wire.sns("SetTopicAttributes", TopicArn=topic, AttributeName="DisplayName", AttributeValue="New")
    wire.sns("Publish", TopicArn=topic, Message="after")
    assert json.loads(wire.bodies(url)[0])["Message"] == "after"


def test_missing_topics(wire: Wire) -> None:
    with pytest.raises(AwsError) as info:
        wire.sns("GetTopicAttributes", TopicArn=TOPIC_ARN)
    assert (info.value.code, info.value.message, info.value.status) == (
        "NotFound",
        "Topic does not exist",
        404,
    )
    with aws_error("NotFound"):  # another account's topic is not this broker's
        wire.sns("Publish", TopicArn="arn:aws:sns:us-east-1:999999999999:t", Message="x")
    with aws_error("InvalidParameter", "Invalid parameter: TopicArn"):
        wire.sns("GetTopicAttributes", TopicArn="not-an-arn")
    with aws_error("NotFound"):
        wire.sns("SetTopicAttributes", TopicArn=TOPIC_ARN, AttributeName="DisplayName", AttributeValue="x")


def test_delete_and_list_topics(wire: Wire) -> None:
    for index in range(105):
        wire.sns("CreateTopic", Name=f"t{index:03d}")
    first = wire.sns("ListTopics")
    assert len(first["Topics"]) == 100
    second = wire.sns("ListTopics", NextToken=first["NextToken"])
    assert [t["TopicArn"].rsplit(":", 1)[1] for t in second["Topics"]] == [f"t{i}" for i in range(100, 105)]
    assert "NextToken" not in second
    assert wire.sns("DeleteTopic", TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t000") == {}
    assert wire.sns("DeleteTopic", TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t000") == {}
    assert len(wire.sns("ListTopics", NextToken=first["NextToken"])["Topics"]) == 4
    with aws_error("InvalidParameter", "Invalid parameter: NextToken"):
        wire.sns("ListTopics", NextToken="x")


# ------------------------------------------------------------------ subscriptions and fan-out


def test_fan_out_with_filter_policy_and_raw_delivery(wire: Wire, topic: str) -> None:
    high_url, high_arn = wire.queue("high")
    raw_url, raw_arn = wire.queue("raw")
    wire.sns(
        "Subscribe",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=high_arn,
        Attributes={"FilterPolicy": '{"priority": ["high"]}'},
    )
    wire.sns(
        "Subscribe",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=raw_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    wire.sns(
        "Publish",
        TopicArn=topic,
        Message="urgent",
        Subject="S",
        MessageAttributes={"priority": {"DataType": "String", "StringValue": "high"}},
    )
    wire.sns(
        "Publish",
        TopicArn=topic,
        Message="low",
        MessageAttributes={"priority": {"DataType": "String", "StringValue": "low"}},
    )
    envelopes = [json.loads(b) for b in wire.bodies(high_url)]
    assert [e["Message"] for e in envelopes] == ["urgent"]
    assert envelopes[0]["TopicArn"] == topic and envelopes[0]["Subject"] == "S"
    assert envelopes[0]["MessageAttributes"]["priority"] == {"Type": "String", "Value": "high"}
    assert wire.bodies(raw_url) == ["urgent", "low"]


def test_filter_policy_on_the_body(wire: Wire, topic: str) -> None:
    url, arn = wire.queue("q")
    wire.sns(
        "Subscribe",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicy": '{"total": [{"numeric": [">", 100]}]}',
            "FilterPolicyScope": "MessageBody",
        },
    )
    wire.sns("Publish", TopicArn=topic, Message='{"total": 50}')
    wire.sns("Publish", TopicArn=topic, Message='{"total": 150}')
    assert [json.loads(b)["Message"] for b in wire.bodies(url)] == ['{"total": 150}']


def test_subscribe_refusals(wire: Wire, topic: str) -> None:
    with aws_error("InvalidParameter"):
        wire.sns(
            "Subscribe",
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:1:q",
            Attributes={"FilterPolicy": '{"a": "b"}'},
        )
    with aws_error(
        "InvalidParameter",
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon",
    ):
        wire.sns("Subscribe", TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x")
    with aws_error("InvalidParameter", "Invalid parameter: Email address"):
        wire.sns("Subscribe", TopicArn=topic, Protocol="email", Endpoint="a.example.com")
    with aws_error("NotFound"):
        endpoint = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/0f6e0c56"
        wire.sns("Subscribe", TopicArn=topic, Protocol="application", Endpoint=endpoint)
    with aws_error("InvalidParameter"):
        wire.sns("Subscribe", TopicArn=topic, Protocol="https", Endpoint="http://example.com/")
    with aws_error("InvalidParameter"):
        wire.sns(
            "Subscribe",
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:1:q",
            Attributes={"Colour": "x"},
        )


def test_subscription_attributes_and_unsubscribe(wire: Wire, topic: str) -> None:
    url, arn = wire.queue("q")
    subscription = wire.sns("Subscribe", TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    assert subscription.startswith(topic + ":")
    attributes = wire.sns("GetSubscriptionAttributes", SubscriptionArn=subscription)["Attributes"]
    assert attributes["Endpoint"] == arn and attributes["RawMessageDelivery"] == "false"
    wire.sns(
        "SetSubscriptionAttributes",
        SubscriptionArn=subscription,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    wire.sns("Publish", TopicArn=topic, Message="raw now")
    assert wire.bodies(url) == ["raw now"]
    assert wire.sns("Unsubscribe", SubscriptionArn=subscription) == {}
    assert wire.sns("Unsubscribe", SubscriptionArn=subscription) == {}
    with aws_error("NotFound", "Subscription does not exist"):
        wire.sns("GetSubscriptionAttributes", SubscriptionArn=subscription)
    with aws_error("InvalidParameter"):
        wire.sns("GetSubscriptionAttributes", SubscriptionArn="garbage")


def test_list_subscriptions(wire: Wire, topic: str) -> None:
    other = wire.sns("CreateTopic", Name="other")["TopicArn"]
    arns = [wire.queue(f"q{i}")[1] for i in range(3)]
    wire.sns("Subscribe", TopicArn=topic, Protocol="sqs", Endpoint=arns[0])
    wire.sns("Subscribe", TopicArn=topic, Protocol="sqs", Endpoint=arns[1])
    wire.sns("Subscribe", TopicArn=other, Protocol="sqs", Endpoint=arns[2])
    everything = wire.sns("ListSubscriptions")["Subscriptions"]
    assert sorted(s["Endpoint"] for s in everything) == sorted(arns)
    by_topic = wire.sns("ListSubscriptionsByTopic", TopicArn=topic)["Subscriptions"]
    assert [s["Endpoint"] for s in by_topic] == arns[:2]
    assert by_topic[0] == {
        "SubscriptionArn": by_topic[0]["SubscriptionArn"],
        "Owner": ACCOUNT,
        "Protocol": "sqs",
        "Endpoint": arns[0],
        "TopicArn": topic,
    }


def test_http_subscription_confirmation(wire: Wire, topic: str, endpoint: Endpoint) -> None:
    pending = wire.sns("Subscribe", TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    assert pending == {"SubscriptionArn": "pending confirmation"}
    listed = wire.sns("ListSubscriptionsByTopic", TopicArn=topic)["Subscriptions"]
    assert listed[0]["SubscriptionArn"] == "PendingConfirmation"
    wire.broker.find_topic("t").wait_for_deliveries(10)  # type: ignore[union-attr]
    token = endpoint.requests[0].json()["Token"]
    confirmed = wire.sns("ConfirmSubscription", TopicArn=topic, Token=token)["SubscriptionArn"]
    assert confirmed.startswith(topic + ":")
    with aws_error("InvalidParameter", "Invalid parameter: Token"):
        wire.sns("ConfirmSubscription", TopicArn=topic, Token="wrong")


def test_return_subscription_arn(wire: Wire, topic: str) -> None:
    answer = wire.sns(
        "Subscribe",
        TopicArn=topic,
        Protocol="https",
        Endpoint="https://127.0.0.1:9/hook",
        ReturnSubscriptionArn=True,
    )
    assert answer["SubscriptionArn"].startswith(topic + ":")


# ------------------------------------------------------------------ publishing


def test_publish_structure_binary_attributes_and_target_arn(wire: Wire, topic: str) -> None:
    url, arn = wire.queue("q")
    wire.sns("Subscribe", TopicArn=topic, Protocol="sqs", Endpoint=arn)
    message = json.dumps({"default": "plain", "sqs": "for queues"})
    sent = wire.sns(
        "Publish",
        TargetArn=topic,
        Message=message,
        MessageStructure="json",
        MessageAttributes={"b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}},
    )
    assert set(sent) == {"MessageId"}
    envelope = json.loads(wire.bodies(url)[0])
    assert envelope["Message"] == "for queues"
    assert "MessageAttributes" not in envelope  # sent only without MessageStructure json
    wire.sns(
        "Publish",
        TopicArn=topic,
        Message="m",
        MessageAttributes={"b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}},
    )
    envelope = json.loads(wire.bodies(url)[0])
    assert envelope["MessageAttributes"]["b"] == {"Type": "Binary", "Value": "AQI="}
    with aws_error("InvalidParameter"):
        wire.sns("Publish", TopicArn=topic, Message="not json", MessageStructure="json")
    with aws_error("InvalidParameter"):
        wire.sns("Publish", Message="nowhere")
    # A text message to one number: checked, answered with a message id, sent nowhere.
    sent = wire.sns("Publish", PhoneNumber="+15555550100", Message="sms")
    assert len(sent["MessageId"]) == 36
    refused = "Invalid parameter: PhoneNumber Reason: 555-CALL is not valid to publish to"
    with aws_error("InvalidParameter", refused):
        wire.sns("Publish", PhoneNumber="555-CALL", Message="sms")


def test_fifo_publish_and_batch(wire: Wire) -> None:
    arn = wire.sns("CreateTopic", Name="f.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    first = wire.sns("Publish", TopicArn=arn, Message="x", MessageGroupId="g", MessageDeduplicationId="d")
    again = wire.sns("Publish", TopicArn=arn, Message="x", MessageGroupId="g", MessageDeduplicationId="d")
    assert again == first and "SequenceNumber" in first
    batch = wire.sns(
        "PublishBatch",
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "ok", "Message": "m", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
            {"Id": "bad", "Message": "m"},
        ],
    )
    assert [s["Id"] for s in batch["Successful"]] == ["ok"]
    assert "SequenceNumber" in batch["Successful"][0]
    assert batch["Failed"][0]["Id"] == "bad" and batch["Failed"][0]["SenderFault"] is True
    with aws_error("EmptyBatchRequest"):
        wire.sns("PublishBatch", TopicArn=arn, PublishBatchRequestEntries=[])


# ------------------------------------------------------------------ tags


def test_topic_tags(wire: Wire) -> None:
    arn = wire.sns("CreateTopic", Name="t", Tags=[{"Key": "team", "Value": "shop"}])["TopicArn"]
    assert wire.sns("ListTagsForResource", ResourceArn=arn) == {"Tags": [{"Key": "team", "Value": "shop"}]}
    wire.sns("TagResource", ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    wire.sns("UntagResource", ResourceArn=arn, TagKeys=["team"])
    assert wire.sns("ListTagsForResource", ResourceArn=arn) == {"Tags": [{"Key": "env", "Value": "test"}]}
    with aws_error("TagLimitExceeded"):
        wire.sns("TagResource", ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with aws_error("InvalidParameter"):
        wire.sns("TagResource", ResourceArn=arn, Tags=[{"Key": "k" * 129, "Value": "v"}])
    with pytest.raises(AwsError) as info:
        wire.sns("ListTagsForResource", ResourceArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:missing")
    assert (info.value.code, info.value.message, info.value.status) == (
        "ResourceNotFound",
        "Resource does not exist",
        404,
    )
    wire.sns("DeleteTopic", TopicArn=arn)
    wire.sns("CreateTopic", Name="t")
    assert wire.sns("ListTagsForResource", ResourceArn=arn) == {"Tags": []}


# ------------------------------------------------------------------ permissions


def test_topic_permissions(wire: Wire, topic: str) -> None:
    default = json.loads(wire.sns("GetTopicAttributes", TopicArn=topic)["Attributes"]["Policy"])
    wire.sns(
        "AddPermission", TopicArn=topic, Label="pub", AWSAccountId=["111111111111"], ActionName=["Publish"]
    )
    policy = json.loads(wire.sns("GetTopicAttributes", TopicArn=topic)["Attributes"]["Policy"])
    assert policy["Statement"][: len(default["Statement"])] == default["Statement"]
    assert policy["Statement"][-1] == {
        "Sid": "pub",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SNS:Publish",
        "Resource": topic,
    }
    with aws_error("InvalidParameter", "Invalid parameter: Statement already exists"):
        wire.sns(
            "AddPermission",
            TopicArn=topic,
            Label="pub",
            AWSAccountId=["111111111111"],
            ActionName=["Publish"],
        )
    with aws_error("InvalidParameter"):
        wire.sns("AddPermission", TopicArn=topic, Label="x", AWSAccountId=["1"], ActionName=["Publish"])
    assert wire.sns("RemovePermission", TopicArn=topic, Label="pub") == {}
    assert json.loads(wire.sns("GetTopicAttributes", TopicArn=topic)["Attributes"]["Policy"]) == default
    with aws_error("InvalidParameter"):
        wire.sns("RemovePermission", TopicArn=topic, Label="pub")
