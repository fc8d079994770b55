"""`rulebus serve`: boto3, raw HTTP and the AWS CLI against the real server on a loopback port."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.aws_server import RunningServer
from helpers.http_endpoint import Endpoint


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with RunningServer() as running:
        yield running


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_sqs_send_receive_delete_with_a_long_poll(server: RunningServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    assert url == f"{server.url}/000000000000/jobs"  # built on the Host the client called
    threading.Timer(0.3, lambda: server.client("sqs").send_message(QueueUrl=url, MessageBody="late")).start()
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, AttributeNames=["All"])
    (message,) = received["Messages"]
    assert message["Body"] == "late"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    batch = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(10)]
    )
    assert len(batch["Successful"]) == 10
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "10"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="missing")


def test_sns_fans_out_to_a_queue_through_its_filter_policy(server: RunningServer) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    url = sqs.create_queue(QueueName="big-orders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicy": json.dumps({"size": ["big"]}), "RawMessageDelivery": "true"},
    )
    for size in ("small", "big"):
        sns.publish(
            TopicArn=topic,
            Message=f"a {size} order",
            MessageAttributes={"size": {"DataType": "String", "StringValue": size}},
        )
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["a big order"]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=topic + "-missing")


def test_eventbridge_routes_put_events_by_a_rule(server: RunningServer) -> None:
    events, sqs = server.client("events"), server.client("sqs")
    url = sqs.create_queue(QueueName="shipped")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="shipped", EventPattern=json.dumps({"detail-type": ["Shipped"]}))
    events.put_targets(Rule="shipped", Targets=[{"Id": "q", "Arn": queue_arn}])
    result = events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "Shipped", "Detail": json.dumps({"id": 1})},
            {"Source": "shop", "DetailType": "Ordered", "Detail": json.dumps({"id": 2})},
        ]
    )
    assert result["FailedEntryCount"] == 0
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"id": 1}
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern=json.dumps({"a": "not a list"}))


def test_kinesis_put_and_get(server: RunningServer) -> None:
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    kinesis.put_record(StreamName="clicks", Data=b"\x00binary", PartitionKey="k")
    shard = kinesis.list_shards(StreamName="clicks")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="clicks", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b"\x00binary"]
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream(StreamName="missing")


def test_sts_names_the_account(server: RunningServer) -> None:
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_regions_are_apart(server: RunningServer) -> None:
    server.client("sqs", region="eu-west-1").create_queue(QueueName="only-in-eu")
    names = server.client("sqs", region="us-west-2").list_queues(QueueNamePrefix="only-in")
    assert "QueueUrls" not in names


def test_the_query_protocol_answers_in_xml(server: RunningServer) -> None:
    server.client("sqs").create_queue(QueueName="xml-queue")
    status, _headers, body = _post(
        server.url + "/",
        b"Action=ListQueues&Version=2012-11-05&QueueNamePrefix=xml-",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200
    assert body.startswith(b"<?xml") or body.startswith(b"<ListQueuesResponse")
    assert b"<QueueUrl>" in body and b"xml-queue</QueueUrl>" in body
    assert b"<RequestId>" in body


def test_health_and_reset(server: RunningServer) -> None:
    with urllib.request.urlopen(server.url + "/_rulebus/health", timeout=10) as response:
        health = json.loads(response.read())
    assert health["status"] == "running"
    sqs = server.client("sqs")
    sqs.create_queue(QueueName="wiped")
    status, _, _body = _post(server.url + "/moto-api/reset", b"", {})
    assert status == 200
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="wiped")


_JSON_1_0 = "application/x-amz-json-1.0"
_FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (
            b"{not json",
            {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": _JSON_1_0},
            400,
            "SerializationException",
        ),
        (
            b"{}",
            {"X-Amz-Target": "AmazonSQS.NoSuchThing", "Content-Type": _JSON_1_0},
            400,
            "UnknownOperationException",
        ),
        (b"Action=NoSuchAction&Version=2012-11-05", {"Content-Type": _FORM}, 400, "InvalidAction"),
        (b"", {}, 400, "MissingAction"),
    ],
)
def test_malformed_requests_get_aws_errors(
    server: RunningServer, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    answered, _, text = _post(server.url + "/", body, headers)
    assert answered == status
    assert code.encode() in text
    assert b"Traceback" not in text


def test_an_oversized_body_is_refused_unread() -> None:
    with RunningServer(max_body_bytes=1000) as small:
        status, _, body = _post(
            small.url + "/",
            b"x" * 5000,
            {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"},
        )
        assert status == 413
        assert b"RequestEntityTooLarge" in body
        # Still serving.
        assert "QueueUrls" not in small.client("sqs").list_queues()


def test_many_long_polls_wait_on_one_loop(server: RunningServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="crowd")["QueueUrl"]
    waiting = 200
    request = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 20}).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\nContent-Length: {len(request)}\r\n\r\n"
    ).encode()

    async def crowd() -> list[bytes]:
        sender = await asyncio.to_thread(server.client, "sqs")  # the test's own worker thread, first
        before = threading.active_count()
        connections = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(waiting)]
        for _, writer in connections:
            writer.write(head + request)
            await writer.drain()
        await asyncio.sleep(0.5)
        # Every poll is waiting now, and none holds a thread of its own (nor do the server's
        # connections: one event loop serves them all).
        assert threading.active_count() <= before + 1
        for n in range(waiting):
            await asyncio.to_thread(sender.send_message, QueueUrl=url, MessageBody=f"m{n}")
        answers = []
        for reader, writer in connections:
            # The whole response: one read may end between the head and the body.
            response_head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", response_head)
            assert length is not None, response_head
            answers.append(response_head + await reader.readexactly(int(length.group(1))))
            writer.close()
        return answers

    answers = asyncio.run(crowd())
    bodies = []
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 200")
        bodies += [m["Body"] for m in json.loads(answer.split(b"\r\n\r\n", 1)[1])["Messages"]]
    assert sorted(bodies) == sorted(f"m{n}" for n in range(waiting))


def test_an_sqlite_store_keeps_a_file_per_scope(tmp_path: Path) -> None:
    with RunningServer(store=str(tmp_path / "aws.db")) as on_disk:
        sqs = on_disk.client("sqs")
        url = sqs.create_queue(QueueName="durable")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="kept")
        assert (tmp_path / "aws.000000000000.us-east-1.db").exists()
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "kept"
        _post(on_disk.url + "/moto-api/reset", b"", {})
        assert not (tmp_path / "aws.000000000000.us-east-1.db").exists()


def test_the_aws_cli_runs_against_the_server(server: RunningServer, tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }

    def aws(*arguments: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "awscli", "--endpoint-url", server.url, "--output", "json", *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    url = aws("sqs", "create-queue", "--queue-name", "cli-queue")["QueueUrl"]
    aws("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli")
    received = aws("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "1")
    assert received["Messages"][0]["Body"] == "from the cli"
    topic = aws("sns", "create-topic", "--name", "cli-topic")["TopicArn"]
    assert topic == "arn:aws:sns:us-east-1:000000000000:cli-topic"
    assert aws("sts", "get-caller-identity")["Account"] == "000000000000"
    entries = json.dumps([{"Source": "cli", "DetailType": "t", "Detail": "{}"}])
    assert aws("events", "put-events", "--entries", entries)["FailedEntryCount"] == 0


def test_an_http_subscription_is_confirmed_and_ended_through_the_server(
    server: RunningServer, endpoint: Endpoint
) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="webhooks")["TopicArn"]
    subscribed = sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=endpoint.url, ReturnSubscriptionArn=True
    )
    subscription = subscribed["SubscriptionArn"]
    assert _wait_for(lambda: len(endpoint.requests) == 1)
    confirmation = endpoint.requests[0].json()
    assert confirmation["Type"] == "SubscriptionConfirmation"
    # The SubscribeURL points back at the server, which confirms on a plain GET (as AWS's does).
    assert confirmation["SubscribeURL"].startswith(server.url + "/?Action=ConfirmSubscription")
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as response:
        assert response.status == 200
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic, Message="hello hooks")
    assert _wait_for(lambda: len(endpoint.requests) == 2)
    notification = endpoint.requests[1].json()
    assert notification["Message"] == "hello hooks"
    assert notification["UnsubscribeURL"].startswith(server.url + "/?Action=Unsubscribe")
    with urllib.request.urlopen(notification["UnsubscribeURL"], timeout=10) as response:
        assert response.status == 200
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subscription not in [s["SubscriptionArn"] for s in listed]


def _wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
