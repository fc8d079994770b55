"""boto3, unchanged, against rulebus: every test runs twice, once in process under
``rulebus.mock_aws`` and once over HTTP against ``rulebus serve`` (the real uvicorn server on a
loopback port). The assertions are AWS's behaviour as boto3 sees it: fields, codes, messages."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from helpers.aws_server import RunningServer
from helpers.sqs_digests import trace_header_digest
from rulebus import Broker, mock_aws
from rulebus.aws.brokers import Brokers

ACCOUNT = "000000000000"
REGION = "us-east-1"


class Aws:
    """What a test needs of either transport: boto3 clients and resources for a region."""

    def __init__(self, kind: str, brokers: Brokers, server: RunningServer | None = None) -> None:
        self.kind = kind
        self._brokers = brokers
        self._server = server

    def broker(self, region: str = REGION) -> Broker:
        """The broker answering this account and region: what AWS keeps out of the API (an email
        subscription's confirmation token, mailed on AWS) is read from it."""
        return self._brokers.get(ACCOUNT, region)

    def _options(self, region: str) -> dict[str, Any]:
        options: dict[str, Any] = {
            "region_name": region,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        if self._server is not None:
            options["endpoint_url"] = self._server.url
        return options

    def client(self, service: str, region: str = REGION, key: str | None = None) -> Any:
        """A boto3 client; ``key``: the access key id it signs with (default ``testing``)."""
        options = self._options(region)
        if key is not None:
            options["aws_access_key_id"] = key
        return boto3.client(service, **options)

    def resource(self, service: str, region: str = REGION) -> Any:
        return boto3.resource(service, **self._options(region))

    def query_sqs_client(self, models: Path) -> Any:
        """An SQS client speaking the query protocol, as botocore 1.29 and older SDKs do: the
        SQS model in ``models`` comes first on its loader's search path."""
        session = botocore.session.get_session()
        session.get_component("data_loader").search_paths.insert(0, str(models))
        return boto3.Session(botocore_session=session).client("sqs", **self._options(REGION))


@pytest.fixture(scope="module")
def _server() -> Iterator[RunningServer]:
    with RunningServer() as running:
        yield running


@pytest.fixture(params=["mock_aws", "serve"])
def aws(request: pytest.FixtureRequest) -> Iterator[Aws]:
    if request.param == "mock_aws":
        with mock_aws() as mock:
            yield Aws("mock_aws", mock.brokers)
        return
    server: RunningServer = request.getfixturevalue("_server")
    reset = urllib.request.Request(server.url + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(reset, timeout=30):
        pass
    yield Aws("serve", server.dispatcher.brokers, server)


def queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    arn: str = attributes["QueueArn"]
    return arn


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def error_of(raised: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    error: dict[str, Any] = raised.value.response["Error"]
    return error


# --- SQS ------------------------------------------------------------------------------------------


def test_sqs_send_receive_delete_with_a_long_poll(aws: Aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/jobs")
    assert sqs.get_queue_url(QueueName="jobs")["QueueUrl"] == url
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # empty: no Messages member at all
    sender = threading.Timer(0.3, lambda: aws.client("sqs").send_message(QueueUrl=url, MessageBody="late"))
    sender.start()
    received = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=10, AttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )
    sender.join()
    (message,) = received["Messages"]
    assert message["Body"] == "late"
    assert message["MD5OfBody"] == md5("late")
    attributes = message["Attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["SenderId"]
    assert int(attributes["SentTimestamp"]) > 1_600_000_000_000  # epoch milliseconds
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert counts["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)


def test_sqs_batches_answer_successful_and_failed_entries(aws: Aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="batches")["QueueUrl"]
    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "first"},
            {"Id": "b", "MessageBody": "second", "DelaySeconds": 0},
            {"Id": "c", "MessageBody": "late", "DelaySeconds": 901},  # over the 900 s limit
        ],
    )
    assert sorted(entry["Id"] for entry in sent["Successful"]) == ["a", "b"]
    for entry in sent["Successful"]:
        assert entry["MD5OfMessageBody"] == md5({"a": "first", "b": "second"}[entry["Id"]])
        assert entry["MessageId"]
    (failed,) = sent["Failed"]
    assert failed["Id"] == "c" and failed["SenderFault"] is True
    assert failed["Code"] == "InvalidParameterValue"
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in received) == ["first", "second"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(received)]
        + [{"Id": "bogus", "ReceiptHandle": "not-a-handle"}],
    )
    assert sorted(entry["Id"] for entry in deleted["Successful"]) == ["0", "1"]
    (bad,) = deleted["Failed"]
    assert bad["Id"] == "bogus" and bad["Code"] == "ReceiptHandleIsInvalid" and bad["SenderFault"] is True
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct) as raised:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}]
        )
    assert error_of(raised)["Code"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "m"} for n in range(11)])
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[])


def test_sqs_visibility_changes(aws: Aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="visible", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="work")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # in flight for 60 s
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    (again,) = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert again["Body"] == "work" and again["Attributes"]["ApproximateReceiveCount"] == "2"
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": again["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "bad", "ReceiptHandle": again["ReceiptHandle"], "VisibilityTimeout": 43201},
        ],
    )
    assert [entry["Id"] for entry in changed["Successful"]] == ["ok"]
    assert [entry["Id"] for entry in changed["Failed"]] == ["bad"]
    assert changed["Failed"][0]["Code"] == "InvalidParameterValue"
    (third,) = sqs.receive_message(QueueUrl=url)["Messages"]
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=43201
        )
    assert error_of(raised)["Code"] == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=10)


def test_sqs_message_attributes_and_their_md5s(aws: Aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="attributed")["QueueUrl"]
    attributes = {
        "Priority": {"DataType": "String", "StringValue": "high"},
        "Count": {"DataType": "Number", "StringValue": "42"},
        "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "Custom": {"DataType": "String.custom", "StringValue": "é ünïcode"},
    }
    # boto3 checks MD5OfMessageBody and MD5OfMessageAttributes itself and raises on a mismatch.
    sent = sqs.send_message(QueueUrl=url, MessageBody="ünïcode body", MessageAttributes=attributes)
    assert sent["MD5OfMessageBody"] == md5("ünïcode body")
    assert len(sent["MD5OfMessageAttributes"]) == 32
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "batched", "MessageAttributes": attributes}]
    )
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    by_body = {m["Body"]: m for m in received["Messages"]}
    assert set(by_body) == {"ünïcode body", "batched"}
    for message in by_body.values():
        assert message["MessageAttributes"] == attributes
        assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    dotted = {
        "order.id": {"DataType": "String", "StringValue": "o-1"},
        "order.kind": {"DataType": "String", "StringValue": "big"},
        **attributes,
    }
    sqs.send_message(QueueUrl=url, MessageBody="some", MessageAttributes=dotted)
    # A name ending in ".*" asks for every attribute with that prefix.
    (only,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["order.*", "Count"])["Messages"]
    assert set(only["MessageAttributes"]) == {"order.id", "order.kind", "Count"}
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageAttributes={"Bad": {"DataType": "Float", "StringValue": "1"}},
        )
    assert error_of(raised)["Code"] == "InvalidParameterValue"


TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"


def check_trace_headers(sqs: Any, url: str, names_member: str) -> None:
    """Send traced and plain messages (single and batched) to ``url``, receive them asking for the
    header by ``names_member`` (MessageSystemAttributeNames, or the older AttributeNames)."""
    traced = {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="traced", MessageSystemAttributes=traced)
    assert sent["MD5OfMessageSystemAttributes"] == trace_header_digest(TRACE)
    assert "MD5OfMessageSystemAttributes" not in sqs.send_message(QueueUrl=url, MessageBody="plain")
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "t", "MessageBody": "batched", "MessageSystemAttributes": traced},
            {"Id": "p", "MessageBody": "batched plain"},
        ],
    )
    successful = {entry["Id"]: entry for entry in batch["Successful"]}
    assert successful["t"]["MD5OfMessageSystemAttributes"] == trace_header_digest(TRACE)
    assert "MD5OfMessageSystemAttributes" not in successful["p"]
    expected = {"traced": TRACE, "plain": None, "batched": TRACE, "batched plain": None}

    def receive(names: list[str] | None) -> dict[str, dict[str, str]]:
        options = {names_member: names} if names is not None else {}
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, **options)
        return {m["Body"]: m.get("Attributes", {}) for m in messages["Messages"]}

    assert receive(["AWSTraceHeader"]) == {
        body: {"AWSTraceHeader": header} if header else {} for body, header in expected.items()
    }
    assert {body: a.get("AWSTraceHeader") for body, a in receive(["All"]).items()} == expected
    assert all("AWSTraceHeader" not in a for a in receive(None).values())
    assert all("AWSTraceHeader" not in a for a in receive(["SentTimestamp"]).values())


def test_sqs_trace_headers_are_kept_and_received(aws: Aws) -> None:
    sqs = aws.client("sqs")
    check_trace_headers(sqs, sqs.create_queue(QueueName="traced")["QueueUrl"], "MessageSystemAttributeNames")
    check_trace_headers(sqs, sqs.create_queue(QueueName="traced-older")["QueueUrl"], "AttributeNames")


def test_sqs_fifo_groups_and_deduplication(aws: Aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(
        QueueName="ledger.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="debit 10", MessageGroupId="acct-1")
    duplicate = sqs.send_message(QueueUrl=url, MessageBody="debit 10", MessageGroupId="acct-1")
    assert duplicate["MessageId"] == first["MessageId"]  # content-based: the same body, deduplicated
    assert first["SequenceNumber"]
    sqs.send_message(QueueUrl=url, MessageBody="credit 5", MessageGroupId="acct-1")
    sqs.send_message(QueueUrl=url, MessageBody="open", MessageGroupId="acct-2")
    explicit = sqs.send_message(
        QueueUrl=url, MessageBody="open", MessageGroupId="acct-2", MessageDeduplicationId="another"
    )
    received = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"],
    )["Messages"]
    groups: dict[str, list[str]] = {}
    for message in received:
        groups.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
    assert groups == {"acct-1": ["debit 10", "credit 5"], "acct-2": ["open", "open"]}
    assert explicit["MessageId"] in {m["MessageId"] for m in received}
    # A group with a message in flight gives nothing more until it is deleted.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    plain = sqs.create_queue(QueueName="plain.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.send_message(QueueUrl=plain, MessageBody="x", MessageGroupId="g")
    assert error_of(raised)["Code"] == "InvalidParameterValue"
    assert "ContentBasedDeduplication" in error_of(raised)["Message"]
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.send_message(QueueUrl=plain, MessageBody="x", MessageDeduplicationId="d")
    assert error_of(raised)["Code"] == "MissingParameter"
    a = sqs.send_message(QueueUrl=plain, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=plain, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="d")
    assert a["MessageId"] == b["MessageId"]
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.create_queue(QueueName="not-fifo", Attributes={"FifoQueue": "true"})
    assert error_of(raised)["Code"] == "InvalidParameterValue"


def test_sqs_dead_letter_queue_after_max_receive_count(aws: Aws) -> None:
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = queue_arn(sqs, dlq_url)
    url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert policy == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for attempt in range(1, 4):
        (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # the fourth receive moves it
    (dead,) = sqs.receive_message(QueueUrl=dlq_url, AttributeNames=["All"])["Messages"]
    assert dead["Body"] == "poison"
    assert dead["Attributes"].get("DeadLetterQueueSourceArn") == queue_arn(sqs, url)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [url]
    # Redrive back to the source.
    sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=dead["ReceiptHandle"], VisibilityTimeout=0)
    task = sqs.start_message_move_task(SourceArn=dlq_arn)
    assert task["TaskHandle"]
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert tasks and tasks[0]["Status"] in {"RUNNING", "COMPLETED"}
    (back,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert back["Body"] == "poison"


def test_sqs_resource(aws: Aws) -> None:
    sqs = aws.resource("sqs")
    created = sqs.create_queue(QueueName="resourceful")
    queue = sqs.get_queue_by_name(QueueName="resourceful")
    assert queue.url == created.url
    assert queue.attributes["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:resourceful"
    sent = queue.send_message(
        MessageBody="hello", MessageAttributes={"Kind": {"DataType": "String", "StringValue": "greeting"}}
    )
    assert sent["MD5OfMessageBody"] == md5("hello")
    queue.send_messages(Entries=[{"Id": "1", "MessageBody": "batch"}])
    messages = queue.receive_messages(
        MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    assert sorted(m.body for m in messages) == ["batch", "hello"]
    hello = next(m for m in messages if m.body == "hello")
    assert hello.message_attributes == {"Kind": {"DataType": "String", "StringValue": "greeting"}}
    for message in messages:
        message.delete()
    queue.reload()
    assert queue.attributes["ApproximateNumberOfMessages"] == "0"
    assert queue.attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert [q.url for q in sqs.queues.filter(QueueNamePrefix="resource")] == [queue.url]
    queue.delete()
    with pytest.raises(sqs.meta.client.exceptions.QueueDoesNotExist):
        sqs.get_queue_by_name(QueueName="resourceful")


def test_sqs_over_the_query_protocol_of_older_sdks(aws: Aws, tmp_path: Path) -> None:
    import rulebus.aws.protocols

    model = Path(rulebus.aws.protocols.__file__).parent / "data" / "sqs-query-2012-11-05.json"
    (tmp_path / "sqs" / "2012-11-05").mkdir(parents=True)
    shutil.copy(model, tmp_path / "sqs" / "2012-11-05" / "service-2.json")
    sqs = aws.query_sqs_client(tmp_path)
    assert sqs.meta.service_model.protocol == "query"
    url = sqs.create_queue(QueueName="xml", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    attributes = {
        "s": {"DataType": "String", "StringValue": "v"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "n": {"DataType": "Number", "StringValue": "3"},
    }
    # boto3 checks the MD5s of the XML answers as it does of the JSON ones.
    sent = sqs.send_message(QueueUrl=url, MessageBody="hé", MessageAttributes=attributes)
    assert sent["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/xml"
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "x", "MessageAttributes": attributes},
            {"Id": "2", "MessageBody": "y", "DelaySeconds": 1000},
        ],
    )
    assert [entry["Id"] for entry in batch["Successful"]] == ["1"]
    assert batch["Failed"][0]["Code"] == "InvalidParameterValue"
    received = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in received) == ["hé", "x"]
    assert all(m["MessageAttributes"] == attributes for m in received)
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(received)],
    )
    assert len(deleted["Successful"]) == 2
    assert sqs.list_queues()["QueueUrls"] == [url]
    traced = sqs.create_queue(QueueName="xml-traced")["QueueUrl"]
    check_trace_headers(sqs, traced, "AttributeNames")  # the query model has no other member
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
        sqs.get_queue_url(QueueName="nope")
    assert error_of(raised)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_sqs_errors_carry_aws_codes_and_messages(aws: Aws) -> None:
    sqs = aws.client("sqs")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
        sqs.get_queue_url(QueueName="missing")
    error = error_of(raised)
    # boto3 reads the legacy query code from the x-amzn-query-error header of the JSON protocol.
    assert error["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error["Message"] == "The specified queue does not exist."
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/missing", MessageBody="x")
    sqs.create_queue(QueueName="once", Attributes={"VisibilityTimeout": "10"})
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName="once", Attributes={"VisibilityTimeout": "20"})
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.create_queue(QueueName="bad name!")
    assert error_of(raised)["Code"] == "InvalidParameterValue"
    url = sqs.get_queue_url(QueueName="once")["QueueUrl"]
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert error_of(raised)["Code"] == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"NoSuchAttribute": "1"})
    assert error_of(raised)["Code"] == "InvalidAttributeName"


# --- SNS ------------------------------------------------------------------------------------------


def _subscribed_queue(sns: Any, sqs: Any, topic: str, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url), Attributes=attributes)
    return url


def _bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return [m["Body"] for m in messages.get("Messages", [])]


def test_sns_fan_out_with_filter_policies_and_raw_delivery(aws: Aws) -> None:
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    assert topic == f"arn:aws:sns:{REGION}:{ACCOUNT}:orders"
    everything = _subscribed_queue(sns, sqs, topic, "everything", RawMessageDelivery="true")
    big = _subscribed_queue(
        sns, sqs, topic, "big", RawMessageDelivery="true", FilterPolicy=json.dumps({"size": ["big"]})
    )
    eu_body = _subscribed_queue(
        sns,
        sqs,
        topic,
        "eu-body",
        RawMessageDelivery="true",
        FilterPolicyScope="MessageBody",
        FilterPolicy=json.dumps({"order": {"region": ["eu"]}}),
    )
    numeric = _subscribed_queue(
        sns,
        sqs,
        topic,
        "numeric",
        RawMessageDelivery="true",
        FilterPolicy=json.dumps({"total": [{"numeric": [">", 100]}]}),
    )
    for size, region, total in (("small", "us", "5"), ("big", "eu", "500")):
        sns.publish(
            TopicArn=topic,
            Message=json.dumps({"order": {"region": region}}),
            MessageAttributes={
                "size": {"DataType": "String", "StringValue": size},
                "total": {"DataType": "Number", "StringValue": total},
            },
        )
    raw = sqs.receive_message(QueueUrl=everything, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert len(raw["Messages"]) == 2
    # Raw delivery hands the publisher's attributes to the queue as SQS message attributes.
    assert {m["MessageAttributes"]["size"]["StringValue"] for m in raw["Messages"]} == {"small", "big"}
    assert {m["MessageAttributes"]["total"]["DataType"] for m in raw["Messages"]} == {"Number"}
    assert _bodies(sqs, big) == [json.dumps({"order": {"region": "eu"}})]
    assert _bodies(sqs, eu_body) == [json.dumps({"order": {"region": "eu"}})]
    assert _bodies(sqs, numeric) == [json.dumps({"order": {"region": "eu"}})]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert len(subscriptions) == 4
    assert {s["Protocol"] for s in subscriptions} == {"sqs"}
    arn = next(s["SubscriptionArn"] for s in subscriptions if s["Endpoint"].endswith(":big"))
    got = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(got["FilterPolicy"]) == {"size": ["big"]}
    assert got["RawMessageDelivery"] == "true"
    with pytest.raises(sns.exceptions.InvalidParameterException) as raised:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn(sqs, big),
            Attributes={"FilterPolicy": json.dumps({"size": "big"})},
        )
    assert error_of(raised)["Code"] == "InvalidParameter"
    assert error_of(raised)["Message"].startswith("Invalid parameter: Attributes Reason: FilterPolicy: ")


def test_sns_envelope_a_queue_receives(aws: Aws) -> None:
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="envelopes")["TopicArn"]
    url = _subscribed_queue(sns, sqs, topic, "enveloped")
    published = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "hi"},
            "n": {"DataType": "Number", "StringValue": "3"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == "greeting"
    assert envelope["Message"] == "hello"
    assert envelope["SignatureVersion"] == "1"
    assert envelope["Signature"] and envelope["SigningCertURL"] and envelope["UnsubscribeURL"]
    assert envelope["Timestamp"].endswith("Z")
    assert envelope["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "hi"},
        "n": {"Type": "Number", "Value": "3"},
        "raw": {"Type": "Binary", "Value": base64.b64encode(b"\x01\x02").decode()},
    }


def test_sns_resource(aws: Aws) -> None:
    sns, sqs = aws.resource("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="resource-topic")
    assert topic.arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:resource-topic"
    assert topic.attributes["TopicArn"] == topic.arn
    url = sqs.create_queue(QueueName="resource-target")["QueueUrl"]
    subscription = topic.subscribe(Protocol="sqs", Endpoint=queue_arn(sqs, url), ReturnSubscriptionArn=True)
    subscription.set_attributes(AttributeName="RawMessageDelivery", AttributeValue="true")
    assert subscription.attributes["RawMessageDelivery"] == "true"
    topic.publish(Message="through the resource")
    assert _bodies(sqs, url) == ["through the resource"]
    assert [t.arn for t in sns.topics.all()] == [topic.arn]
    assert [s.arn for s in topic.subscriptions.all()] == [subscription.arn]
    subscription.delete()
    topic.delete()
    assert list(sns.topics.all()) == []


def test_sns_errors(aws: Aws) -> None:
    sns = aws.client("sns")
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:missing"
    with pytest.raises(sns.exceptions.NotFoundException) as raised:
        sns.get_topic_attributes(TopicArn=missing)
    assert error_of(raised)["Code"] == "NotFound"
    assert error_of(raised)["Message"] == "Topic does not exist"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=missing, Message="x")
    with pytest.raises(sns.exceptions.InvalidParameterException) as raised:
        sns.create_topic(Name="bad name!")
    assert error_of(raised)["Code"] == "InvalidParameter"
    topic = sns.create_topic(Name="errs")["TopicArn"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, Message="")


def test_sns_protocols_rulebus_does_not_deliver_to(aws: Aws) -> None:
    """email, email-json, sms, lambda and firehose subscribe as on AWS and receive nothing; the
    topic's queues receive every publish as before."""
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    url = _subscribed_queue(sns, sqs, topic, "alarms-queue")
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify"
    stream = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/archive"
    role = f"arn:aws:iam::{ACCOUNT}:role/sns-to-firehose"
    email = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert email["SubscriptionArn"] == "pending confirmation"
    arns = {
        "email-json": sns.subscribe(
            TopicArn=topic, Protocol="email-json", Endpoint="robots@example.com", ReturnSubscriptionArn=True
        )["SubscriptionArn"],
        "sms": sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")["SubscriptionArn"],
        "lambda": sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)["SubscriptionArn"],
        "firehose": sns.subscribe(
            TopicArn=topic,
            Protocol="firehose",
            Endpoint=stream,
            Attributes={"SubscriptionRoleArn": role, "FilterPolicy": json.dumps({"kind": ["audit"]})},
        )["SubscriptionArn"],
    }
    listed = {s["Protocol"]: s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]}
    assert set(listed) == {"sqs", "email", "email-json", "sms", "lambda", "firehose"}
    assert listed["email"]["SubscriptionArn"] == "PendingConfirmation"
    assert listed["email"]["Endpoint"] == "ops@example.com"
    assert {s["Protocol"] for s in sns.list_subscriptions()["Subscriptions"]} == set(listed)
    for protocol, arn in arns.items():
        attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        assert attributes["Protocol"] == protocol and attributes["Endpoint"] == listed[protocol]["Endpoint"]
        pending = protocol == "email-json"
        assert attributes["PendingConfirmation"] == ("true" if pending else "false")
        assert attributes["ConfirmationWasAuthenticated"] == ("false" if pending else "true")
    firehose = sns.get_subscription_attributes(SubscriptionArn=arns["firehose"])["Attributes"]
    assert firehose["SubscriptionRoleArn"] == role
    assert json.loads(firehose["FilterPolicy"]) == {"kind": ["audit"]}

    # AWS mails the token; here it is the subscription's, read from the broker.
    (pending,) = [s for s in aws.broker().topic("alarms").subscriptions if s.protocol == "email"]
    confirmed = sns.confirm_subscription(TopicArn=topic, Token=pending.token)["SubscriptionArn"]
    assert confirmed == pending.subscription_arn
    attributes = sns.get_subscription_attributes(SubscriptionArn=confirmed)["Attributes"]
    assert (attributes["PendingConfirmation"], attributes["ConfirmationWasAuthenticated"]) == (
        "false",
        "true",
    )

    sns.publish(TopicArn=topic, Message="one")
    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a", "Message": "two"}])
    assert batch["Failed"] == [] and len(batch["Successful"]) == 1
    assert [json.loads(body)["Message"] for body in _bodies(sqs, url)] == ["one", "two"]

    for arn in (confirmed, *arns.values()):
        sns.unsubscribe(SubscriptionArn=arn)
    assert [s["Protocol"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [
        "sqs"
    ]


def test_sns_invalid_endpoints_of_those_protocols(aws: Aws) -> None:
    sns = aws.client("sns")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    stream = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/archive"
    cases: list[tuple[str, str, dict[str, str], str]] = [
        ("email", "ops.example.com", {}, "Invalid parameter: Email address"),
        ("email-json", "ops@example.com;dev@example.com", {}, "Invalid parameter: Email address"),
        ("sms", "+1555--5550100", {}, "Invalid SMS endpoint: +1555--5550100"),
        ("lambda", "notify", {}, "Invalid parameter: Lambda endpoint ARN"),
        ("firehose", "archive", {"SubscriptionRoleArn": "x"}, "Invalid parameter: Firehose endpoint ARN"),
        (
            "firehose",
            stream,
            {},
            "Invalid parameter: Attributes Reason: SubscriptionRoleArn is required for the firehose protocol",
        ),
        (
            "sms",
            "+15555550100",
            {"RawMessageDelivery": "true"},
            "Invalid parameter: Attributes Reason: Delivery protocol [sms] does not support raw "
            "message delivery",
        ),
    ]
    for protocol, endpoint, attributes, message in cases:
        with pytest.raises(sns.exceptions.InvalidParameterException) as raised:
            sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes)
        assert (error_of(raised)["Code"], error_of(raised)["Message"]) == ("InvalidParameter", message)
    application = f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/0f6e0c56"
    with pytest.raises(sns.exceptions.NotFoundException) as raised:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=application)
    assert error_of(raised)["Message"].startswith("Endpoint does not exist")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


# --- EventBridge ----------------------------------------------------------------------------------


def test_put_events_with_rules_and_input_transformers_into_queues(aws: Aws) -> None:
    events, sqs = aws.client("events"), aws.client("sqs")
    raw_url = sqs.create_queue(QueueName="raw")["QueueUrl"]
    shaped_url = sqs.create_queue(QueueName="shaped")["QueueUrl"]
    path_url = sqs.create_queue(QueueName="path")["QueueUrl"]
    rule = events.put_rule(
        Name="big-orders",
        EventPattern=json.dumps({"source": ["shop"], "detail": {"amount": [{"numeric": [">", 100]}]}}),
    )
    assert rule["RuleArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/big-orders"
    events.put_targets(
        Rule="big-orders",
        Targets=[
            {"Id": "raw", "Arn": queue_arn(sqs, raw_url)},
            {
                "Id": "shaped",
                "Arn": queue_arn(sqs, shaped_url),
                "InputTransformer": {
                    "InputPathsMap": {"amount": "$.detail.amount", "id": "$.detail.id"},
                    "InputTemplate": '{"order": <id>, "total": <amount>, "text": "order <id>"}',
                },
            },
            {"Id": "path", "Arn": queue_arn(sqs, path_url), "InputPath": "$.detail"},
        ],
    )
    put = events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": "o-1", "amount": 120})},
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": "o-2", "amount": 5})},
            {"Source": "shop", "DetailType": "Order", "Detail": "not json"},
        ]
    )
    assert put["FailedEntryCount"] == 1
    assert "EventId" in put["Entries"][0] and "EventId" in put["Entries"][1]
    assert put["Entries"][2]["ErrorCode"] == "MalformedDetail"
    (raw,) = sqs.receive_message(QueueUrl=raw_url)["Messages"]
    event = json.loads(raw["Body"])
    assert event["detail"] == {"id": "o-1", "amount": 120}
    assert event["detail-type"] == "Order" and event["source"] == "shop"
    assert event["account"] == ACCOUNT and event["region"] == REGION
    assert event["id"] == put["Entries"][0]["EventId"]
    (shaped,) = sqs.receive_message(QueueUrl=shaped_url)["Messages"]
    assert json.loads(shaped["Body"]) == {"order": "o-1", "total": 120, "text": "order o-1"}
    (path,) = sqs.receive_message(QueueUrl=path_url)["Messages"]
    assert json.loads(path["Body"]) == {"id": "o-1", "amount": 120}
    targets = events.list_targets_by_rule(Rule="big-orders")["Targets"]
    assert sorted(t["Id"] for t in targets) == ["path", "raw", "shaped"]
    described = events.describe_rule(Name="big-orders")
    assert described["State"] == "ENABLED" and described["EventBusName"] == "default"
    tested = events.test_event_pattern(
        EventPattern=json.dumps({"source": ["shop"]}),
        Event=json.dumps(
            {
                "id": "1",
                "account": ACCOUNT,
                "source": "shop",
                "time": "2024-01-01T00:00:00Z",
                "region": REGION,
                "resources": [],
                "detail-type": "x",
                "detail": {},
            }
        ),
    )
    assert tested["Result"] is True


def test_archives_and_replays(aws: Aws) -> None:
    events, sqs = aws.client("events"), aws.client("sqs")
    bus = events.create_event_bus(Name="shop")["EventBusArn"]
    assert bus == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/shop"
    url = sqs.create_queue(QueueName="replayed")["QueueUrl"]
    archive = events.create_archive(
        ArchiveName="everything", EventSourceArn=bus, EventPattern=json.dumps({"source": ["shop"]})
    )
    assert archive["ArchiveArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:archive/everything"
    start = time.time() - 60
    events.put_events(
        Entries=[
            {"EventBusName": "shop", "Source": "shop", "DetailType": "Order", "Detail": json.dumps({"n": n})}
            for n in range(3)
        ]
    )
    assert events.describe_archive(ArchiveName="everything")["EventCount"] == 3
    events.put_rule(Name="to-queue", EventBusName="shop", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(
        Rule="to-queue", EventBusName="shop", Targets=[{"Id": "q", "Arn": queue_arn(sqs, url)}]
    )
    replay = events.start_replay(
        ReplayName="again",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=start,
        EventEndTime=time.time() + 60,
        Destination={"Arn": bus},
    )
    assert replay["ReplayArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:replay/again"
    received: list[dict[str, Any]] = []
    for _ in range(10):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received.extend(json.loads(m["Body"]) for m in batch.get("Messages", []))
        if len(received) >= 3:
            break
    assert sorted(event["detail"]["n"] for event in received) == [0, 1, 2]
    assert all(event.get("replay-name") == "again" for event in received)
    assert events.describe_replay(ReplayName="again")["State"] in {"STARTING", "RUNNING", "COMPLETED"}
    assert [r["ReplayName"] for r in events.list_replays()["Replays"]] == ["again"]
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["everything"]
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_archive(ArchiveName="everything", EventSourceArn=bus)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName="nothing")


def test_eventbridge_errors(aws: Aws) -> None:
    events = aws.client("events")
    with pytest.raises(events.exceptions.InvalidEventPatternException) as raised:
        events.put_rule(Name="bad", EventPattern=json.dumps({"source": "not a list"}))
    assert error_of(raised)["Message"].startswith("Event pattern is not valid. Reason: ")
    with pytest.raises(events.exceptions.ResourceNotFoundException) as raised:
        events.describe_rule(Name="missing")
    assert error_of(raised)["Message"] == "Rule missing does not exist on EventBus default."
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_targets(Rule="missing", Targets=[{"Id": "t", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
    events.create_event_bus(Name="busy")
    events.put_rule(Name="r", EventBusName="busy", EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(
        Rule="r", EventBusName="busy", Targets=[{"Id": "t", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}]
    )
    with pytest.raises(events.exceptions.ClientError) as raised:
        events.delete_rule(Name="r", EventBusName="busy")
    assert error_of(raised)["Code"] == "ValidationException"
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="busy")


# --- Kinesis --------------------------------------------------------------------------------------


def _wait_active(kinesis: Any, name: str) -> dict[str, Any]:
    description: dict[str, Any] = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    return description


def test_kinesis_put_and_get_with_iterators(aws: Aws) -> None:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    summary = _wait_active(kinesis, "clicks")
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"
    first = kinesis.put_record(StreamName="clicks", Data=b"\x00one", PartitionKey="k")
    put = kinesis.put_records(
        StreamName="clicks", Records=[{"Data": f"r{n}".encode(), "PartitionKey": f"k{n}"} for n in range(3)]
    )
    assert put["FailedRecordCount"] == 0 and len(put["Records"]) == 3
    shard = first["ShardId"]
    assert shard == "shardId-000000000000"
    horizon = kinesis.get_shard_iterator(StreamName="clicks", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    page = kinesis.get_records(ShardIterator=horizon["ShardIterator"], Limit=2)
    assert [r["Data"] for r in page["Records"]] == [b"\x00one", b"r0"]
    assert page["Records"][0]["PartitionKey"] == "k"
    assert page["Records"][0]["SequenceNumber"] == first["SequenceNumber"]
    rest = kinesis.get_records(ShardIterator=page["NextShardIterator"])
    assert [r["Data"] for r in rest["Records"]] == [b"r1", b"r2"]
    assert rest["MillisBehindLatest"] == 0
    after = kinesis.get_shard_iterator(
        StreamName="clicks",
        ShardId=shard,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber=first["SequenceNumber"],
    )
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=after["ShardIterator"])["Records"]] == [
        b"r0",
        b"r1",
        b"r2",
    ]
    at = kinesis.get_shard_iterator(
        StreamName="clicks",
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=first["SequenceNumber"],
    )
    assert len(kinesis.get_records(ShardIterator=at["ShardIterator"])["Records"]) == 4
    latest = kinesis.get_shard_iterator(StreamName="clicks", ShardId=shard, ShardIteratorType="LATEST")
    assert kinesis.get_records(ShardIterator=latest["ShardIterator"])["Records"] == []
    kinesis.put_record(StreamName="clicks", Data=b"new", PartitionKey="k")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest["ShardIterator"])["Records"]] == [
        b"new"
    ]
    timestamp = kinesis.get_shard_iterator(
        StreamName="clicks", ShardId=shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=time.time() - 3600
    )
    assert len(kinesis.get_records(ShardIterator=timestamp["ShardIterator"])["Records"]) == 5


def _shards(kinesis: Any, name: str) -> dict[str, dict[str, Any]]:
    return {shard["ShardId"]: shard for shard in kinesis.list_shards(StreamName=name)["Shards"]}


def test_kinesis_resharding_and_child_shards(aws: Aws) -> None:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="reshard", ShardCount=1)
    (parent,) = _shards(kinesis, "reshard").values()
    kinesis.put_record(StreamName="reshard", Data=b"before", PartitionKey="p")
    iterator = kinesis.get_shard_iterator(
        StreamName="reshard", ShardId=parent["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    middle = str(2**127)
    kinesis.split_shard(StreamName="reshard", ShardToSplit=parent["ShardId"], NewStartingHashKey=middle)
    shards = _shards(kinesis, "reshard")
    assert len(shards) == 3
    children = [s for s in shards.values() if s.get("ParentShardId") == parent["ShardId"]]
    assert len(children) == 2
    assert sorted(s["HashKeyRange"]["StartingHashKey"] for s in children) == ["0", middle]
    assert "EndingSequenceNumber" in shards[parent["ShardId"]]["SequenceNumberRange"]
    # Reading the closed parent to its end names its children.
    page = kinesis.get_records(ShardIterator=iterator)
    assert [r["Data"] for r in page["Records"]] == [b"before"]
    while "NextShardIterator" in page and page["NextShardIterator"] and not page.get("ChildShards"):
        page = kinesis.get_records(ShardIterator=page["NextShardIterator"])
    assert sorted(c["ShardId"] for c in page["ChildShards"]) == sorted(s["ShardId"] for s in children)
    assert page.get("NextShardIterator") is None
    left, right = sorted(children, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    kinesis.merge_shards(
        StreamName="reshard", ShardToMerge=left["ShardId"], AdjacentShardToMerge=right["ShardId"]
    )
    shards = _shards(kinesis, "reshard")
    merged = [s for s in shards.values() if s.get("AdjacentParentShardId")]
    assert len(merged) == 1 and merged[0]["ParentShardId"] == left["ShardId"]
    updated = kinesis.update_shard_count(
        StreamName="reshard", TargetShardCount=2, ScalingType="UNIFORM_SCALING"
    )
    assert updated["CurrentShardCount"] == 1 and updated["TargetShardCount"] == 2
    assert _wait_active(kinesis, "reshard")["OpenShardCount"] == 2
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.merge_shards(
            StreamName="reshard", ShardToMerge=left["ShardId"], AdjacentShardToMerge=parent["ShardId"]
        )


def test_kinesis_errors(aws: Aws) -> None:
    kinesis = aws.client("kinesis")
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as raised:
        kinesis.describe_stream(StreamName="missing")
    assert error_of(raised)["Message"] == f"Stream missing under account {ACCOUNT} not found."
    kinesis.create_stream(StreamName="taken", ShardCount=1)
    with pytest.raises(kinesis.exceptions.ResourceInUseException) as raised:
        kinesis.create_stream(StreamName="taken", ShardCount=1)
    assert error_of(raised)["Message"] == f"Stream taken under account {ACCOUNT} already exists."
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.get_shard_iterator(
            StreamName="taken", ShardId="shardId-000000000000", ShardIteratorType="AT_SEQUENCE_NUMBER"
        )
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.get_shard_iterator(
            StreamName="taken", ShardId="shardId-000000000009", ShardIteratorType="TRIM_HORIZON"
        )
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.put_record(StreamName="missing", Data=b"x", PartitionKey="p")
    with pytest.raises(kinesis.exceptions.ClientError) as raised:
        kinesis.create_stream(StreamName="bad name!", ShardCount=1)
    assert error_of(raised)["Code"] == "ValidationException"
    assert error_of(raised)["Message"] == (
        "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )


def test_kinesis_enhanced_fan_out(aws: Aws) -> None:
    """RegisterStreamConsumer and SubscribeToShard's event stream, read by botocore's own
    EventStream: records put before and during the subscription, then a resumed one."""
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="fan", ShardCount=1)
    stream_arn = _wait_active(kinesis, "fan")["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="app")["Consumer"]
    assert consumer["ConsumerARN"].startswith(f"{stream_arn}/consumer/app:")
    listed = kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["app"]
    described = kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]
    assert described["StreamARN"] == stream_arn and described["ConsumerStatus"] == "ACTIVE"
    kinesis.put_record(StreamName="fan", Data=b"before", PartitionKey="k")
    subscription = kinesis.subscribe_to_shard(
        ConsumerARN=consumer["ConsumerARN"],
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "TRIM_HORIZON"},
    )
    putter = threading.Timer(
        0.3, lambda: aws.client("kinesis").put_record(StreamName="fan", Data=b"during", PartitionKey="k")
    )
    putter.start()
    got: list[bytes] = []
    continuation = None
    for event in subscription["EventStream"]:
        shard_event = event["SubscribeToShardEvent"]
        got += [record["Data"] for record in shard_event["Records"]]
        continuation = shard_event["ContinuationSequenceNumber"]
        if len(got) == 2:
            break
    subscription["EventStream"].close()
    putter.join()
    assert got == [b"before", b"during"]
    kinesis.put_record(StreamName="fan", Data=b"after", PartitionKey="k")
    resumed = kinesis.subscribe_to_shard(
        ConsumerARN=consumer["ConsumerARN"],
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation},
    )
    first = next(iter(resumed["EventStream"]))["SubscribeToShardEvent"]
    resumed["EventStream"].close()
    assert [record["Data"] for record in first["Records"]] == [b"after"]
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="app")
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.subscribe_to_shard(
            ConsumerARN=consumer["ConsumerARN"],
            ShardId="shardId-000000000007",
            StartingPosition={"Type": "LATEST"},
        )
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.delete_stream(StreamName="fan")
    kinesis.deregister_stream_consumer(StreamARN=stream_arn, ConsumerName="app")
    assert kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"] == []
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.subscribe_to_shard(
            ConsumerARN=consumer["ConsumerARN"],
            ShardId="shardId-000000000000",
            StartingPosition={"Type": "LATEST"},
        )
    kinesis.delete_stream(StreamName="fan")


# --- accounts and regions -------------------------------------------------------------------------


def test_regions_are_apart_and_arns_carry_region_and_account(aws: Aws) -> None:
    east, west = aws.client("sqs", "us-east-1"), aws.client("sqs", "eu-west-1")
    west_url = west.create_queue(QueueName="only-in-eu")["QueueUrl"]
    assert queue_arn(west, west_url) == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:only-in-eu"
    assert "QueueUrls" not in east.list_queues(QueueNamePrefix="only-in")
    with pytest.raises(east.exceptions.QueueDoesNotExist):
        east.get_queue_url(QueueName="only-in-eu")
    topic = aws.client("sns", "eu-west-1").create_topic(Name="t")["TopicArn"]
    assert topic == f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"
    assert aws.client("sns", "us-east-1").list_topics()["Topics"] == []
    rule = aws.client("events", "ap-southeast-2").put_rule(Name="r", ScheduleExpression="rate(5 minutes)")
    assert rule["RuleArn"] == f"arn:aws:events:ap-southeast-2:{ACCOUNT}:rule/r"
    aws.client("kinesis", "eu-west-1").create_stream(StreamName="s", ShardCount=1)
    assert aws.client("kinesis", "us-east-1").list_streams()["StreamNames"] == []
    identity = aws.client("sts").get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"].startswith("arn:aws:")


def test_an_access_key_of_twelve_digits_names_the_account(aws: Aws) -> None:
    """As with LocalStack: a client signing with the key id ``111111111111`` acts in that
    account (ARNs, queue URLs, GetCallerIdentity), apart from the default account's."""
    first, second = aws.client("sqs", key="111111111111"), aws.client("sqs", key="222222222222")
    default = aws.client("sqs")
    url = first.create_queue(QueueName="mine")["QueueUrl"]
    assert url.endswith("/111111111111/mine")
    assert queue_arn(first, url) == f"arn:aws:sqs:{REGION}:111111111111:mine"
    assert "QueueUrls" not in second.list_queues()
    assert "QueueUrls" not in default.list_queues()
    with pytest.raises(second.exceptions.QueueDoesNotExist):
        second.get_queue_url(QueueName="mine")
    assert aws.client("sts", key="111111111111").get_caller_identity()["Account"] == "111111111111"
    assert aws.client("sts").get_caller_identity()["Account"] == ACCOUNT
    # A key id that is not twelve digits acts in the configured account.
    assert aws.client("sts", key="AKIAEXAMPLE").get_caller_identity()["Account"] == ACCOUNT
