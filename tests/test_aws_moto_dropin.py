"""A test module written as moto's users write theirs, with one line changed: the import of
``mock_aws`` (``from moto import mock_aws`` became ``from rulebus import mock_aws``). Everything
else is what a moto suite does: the credentials fixture moto's documentation recommends, a client
fixture inside ``with mock_aws()``, ``@mock_aws`` on test functions, on a ``unittest.TestCase``
(``setUp`` and ``tearDown`` inside the mock) and on a pytest-style class (``setup_method`` and
``teardown_method`` inside it), ``start()`` and ``stop()``. It must pass unchanged (and does not
need moto installed)."""

import json
import unittest

import boto3
import pytest
from botocore.exceptions import ClientError
from rulebus import mock_aws  # was: from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def aws_credentials(monkeypatch):
    """Mocked AWS Credentials for moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def sqs(aws_credentials):
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def test_create_queue_and_send(sqs):
    url = sqs.create_queue(QueueName="test-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["hello"]
    assert sqs.list_queues()["QueueUrls"] == [url]


def test_the_fixture_starts_empty(sqs):
    assert "QueueUrls" not in sqs.list_queues()


def test_missing_queue_error_code(sqs):
    with pytest.raises(ClientError) as exc:
        sqs.get_queue_url(QueueName="nope")
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


@mock_aws
def test_sns_to_sqs():
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="my-topic")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="my-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic_arn, Message="my message", Subject="my subject")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert body["Message"] == "my message"
    assert body["Subject"] == "my subject"
    assert body["TopicArn"] == topic_arn


@mock_aws
def test_sqs_resource():
    sqs = boto3.resource("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="resource-queue")
    queue.send_message(MessageBody="test message")
    messages = queue.receive_messages()
    assert messages[0].body == "test message"
    messages[0].delete()
    assert queue.receive_messages() == []


@mock_aws
def test_eventbridge_rule_to_sqs():
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="events-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="my-rule", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="my-rule", Targets=[{"Id": "1", "Arn": queue_arn}])
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "thing", "Detail": json.dumps({"a": 1})}])
    messages = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(messages[0]["Body"])["detail"] == {"a": 1}
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["my-rule"]


@mock_aws
def test_kinesis_put_get():
    client = boto3.client("kinesis", region_name=REGION)
    client.create_stream(StreamName="my-stream", ShardCount=1)
    stream = client.describe_stream(StreamName="my-stream")["StreamDescription"]
    shard_id = stream["Shards"][0]["ShardId"]
    client.put_record(StreamName="my-stream", Data=b"hello", PartitionKey="1")
    iterator = client.get_shard_iterator(
        StreamName="my-stream", ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = client.get_records(ShardIterator=iterator)["Records"]
    assert records[0]["Data"] == b"hello"


@mock_aws
def test_account_id_from_sts():
    account_id = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="q")["QueueUrl"]
    assert queue_url.endswith(f"/{account_id}/q")


def _helper_creates_queue():
    return boto3.client("sqs", region_name=REGION).create_queue(QueueName="from-helper")["QueueUrl"]


@mock_aws
def _decorated_helper_creates_queue():
    return boto3.client("sqs", region_name=REGION).create_queue(QueueName="from-decorated-helper")["QueueUrl"]


@mock_aws
def test_helpers_share_the_state_of_the_test():
    _helper_creates_queue()
    _decorated_helper_creates_queue()  # moto: a nested decorator joins the active mock
    urls = boto3.client("sqs", region_name=REGION).list_queues()["QueueUrls"]
    assert sorted(url.rsplit("/", 1)[1] for url in urls) == ["from-decorated-helper", "from-helper"]


def test_start_and_stop():
    mock = mock_aws()
    mock.start()
    try:
        sqs = boto3.client("sqs", region_name=REGION)
        sqs.create_queue(QueueName="started")
        assert len(sqs.list_queues()["QueueUrls"]) == 1
    finally:
        mock.stop()


def test_context_manager():
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sns.create_topic(Name="ctx")
        assert len(sns.list_topics()["Topics"]) == 1


@mock_aws
class TestQueuesUnittest(unittest.TestCase):
    def setUp(self):
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="unittest-queue")["QueueUrl"]

    def tearDown(self):
        self.sqs.delete_queue(QueueUrl=self.queue_url)

    def test_send_and_receive(self):
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody="from unittest")
        messages = self.sqs.receive_message(QueueUrl=self.queue_url)["Messages"]
        self.assertEqual(messages[0]["Body"], "from unittest")

    def test_only_the_set_up_queue_exists(self):
        self.assertEqual(self.sqs.list_queues()["QueueUrls"], [self.queue_url])
        self.sqs.create_queue(QueueName="extra")


@mock_aws
class TestTopicsPytestStyle:
    def setup_method(self, method):
        self.sns = boto3.client("sns", region_name=REGION)
        self.topic_arn = self.sns.create_topic(Name="pytest-topic")["TopicArn"]

    def teardown_method(self, method):
        self.sns.delete_topic(TopicArn=self.topic_arn)

    def test_publish(self):
        response = self.sns.publish(TopicArn=self.topic_arn, Message="hi")
        assert "MessageId" in response

    def test_one_topic(self):
        topics = self.sns.list_topics()["Topics"]
        assert [t["TopicArn"] for t in topics] == [self.topic_arn]
        self.sns.create_topic(Name="extra")


@mock_aws
class TestWithoutSetup:
    def test_first(self):
        boto3.client("sqs", region_name=REGION).create_queue(QueueName="first")

    def test_second_starts_empty(self):
        assert "QueueUrls" not in boto3.client("sqs", region_name=REGION).list_queues()

    @staticmethod
    def make_client():
        return boto3.client("sqs", region_name=REGION)

    def test_static_helper(self):
        assert "QueueUrls" not in self.make_client().list_queues()
