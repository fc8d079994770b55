"""rulebus.mock_aws: boto3 clients answered in process through botocore's hooks, with stub
handlers (the services' real handlers are tested on their own): every call goes through the full
codec, errors come out as boto3's modeled exceptions, state is scoped by account and region and
fresh in each activation, and the environment is left as it was."""

from __future__ import annotations

import asyncio
import datetime
import os
import unittest
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.endpoint import Endpoint
from botocore.exceptions import ClientError
from rulebus import AwsError, Broker, InvalidPatternError, mock_aws
from rulebus._errors import sqs_error
from rulebus.aws.errors import ServiceNotEmulated
from rulebus.aws.handlers import Handlers
from rulebus.aws.mock import MockAws
from rulebus.aws.request import Request

SEEN: list[Request] = []


def _create_queue(broker: Broker, request: Request) -> Mapping[str, Any]:
    SEEN.append(request)
    queue = broker.queue(request.params["QueueName"])
    return {"QueueUrl": f"https://{request.host}/{request.account}/{queue.name}"}


def _list_queues(broker: Broker, request: Request) -> Mapping[str, Any]:
    return {"QueueUrls": [f"https://{request.host}/{request.account}/{q.name}" for q in broker.queues()]}


def _get_queue_url(broker: Broker, request: Request) -> Mapping[str, Any]:
    name = request.params["QueueName"]
    if name not in {queue.name for queue in broker.queues()}:
        raise sqs_error("QueueDoesNotExist", "The specified queue does not exist.")
    return {"QueueUrl": f"https://{request.host}/{request.account}/{name}"}


def _send_message(broker: Broker, request: Request) -> Mapping[str, Any]:
    SEEN.append(request)
    name = request.params["QueueUrl"].rsplit("/", 1)[1]
    sent = broker.queue(name).send(request.params["MessageBody"])
    return {"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_message_body}


def _echo(output: Mapping[str, Any]) -> Any:
    def handler(broker: Broker, request: Request) -> Mapping[str, Any]:
        SEEN.append(request)
        return output

    return handler


def _raise(error: Exception) -> Any:
    def handler(broker: Broker, request: Request) -> Mapping[str, Any]:
        raise error

    return handler


def _handlers() -> Handlers:
    return Handlers(
        {
            "sqs": {
                "CreateQueue": _create_queue,
                "ListQueues": _list_queues,
                "GetQueueUrl": _get_queue_url,
                "SendMessage": _send_message,
            },
            "sns": {
                "CreateTopic": _echo({"TopicArn": "arn:aws:sns:us-east-1:000000000000:t"}),
                "Publish": _echo({"MessageId": "m-1"}),
                "Subscribe": _raise(AwsError("NotFound", "Topic does not exist", status=404)),
            },
            "events": {
                "PutEvents": _echo({"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}),
                "PutRule": _raise(InvalidPatternError("Event pattern is not valid. Reason: x", "x")),
            },
            "kinesis": {"PutRecord": _echo({"ShardId": "shardId-000000000000", "SequenceNumber": "1"})},
            "sts": {"GetCallerIdentity": _echo({"Account": "000000000000", "Arn": "arn", "UserId": "u"})},
        },
        load_services=False,
    )


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/rulebus-test-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/rulebus-test-credentials")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    SEEN.clear()
    yield


def test_boto3_clients_are_answered_in_process_through_the_codec() -> None:
    with mock_aws(handlers=_handlers()) as aws:
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        assert url == "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
        sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
        assert (
            sent["ResponseMetadata"]["RequestId"]
            == sent["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        )
        assert [m.body for m in aws.broker().queue("orders").receive(max_messages=10)] == ["hello"]
        assert SEEN[0].operation == "CreateQueue" and SEEN[0].service == "sqs"
        assert (SEEN[0].region, SEEN[0].account) == ("us-east-1", "000000000000")


def test_errors_are_boto3s_modeled_exceptions() -> None:
    with mock_aws(handlers=_handlers()):
        sqs = boto3.client("sqs", region_name="us-east-1")
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
            sqs.get_queue_url(QueueName="missing")
        assert raised.value.response["Error"]["Message"] == "The specified queue does not exist."
        sns = boto3.client("sns")
        with pytest.raises(sns.exceptions.NotFoundException):
            sns.subscribe(TopicArn="arn:aws:sns:us-east-1:000000000000:t", Protocol="sqs", Endpoint="e")
        events = boto3.client("events")
        with pytest.raises(events.exceptions.InvalidEventPatternException, match="Reason: x"):
            events.put_rule(Name="r", EventPattern="{}")


def test_each_service_s_params_arrive_decoded_by_the_model() -> None:
    with mock_aws(handlers=_handlers()):
        boto3.client("sns").publish(
            TopicArn="arn:aws:sns:us-east-1:000000000000:t",
            Message="m",
            MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}},
        )
        when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        boto3.client("events").put_events(
            Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}", "Time": when}]
        )
        boto3.client("kinesis").put_record(StreamName="s", Data=b"\x00\xff", PartitionKey="k")
        identity = boto3.client("sts").get_caller_identity()
    publish, put_events, put_record, _ = SEEN
    assert publish.params["MessageAttributes"] == {"color": {"DataType": "String", "StringValue": "red"}}
    assert put_events.params["Entries"][0]["Time"] == when
    assert put_record.params["Data"] == b"\x00\xff"
    assert identity["Account"] == "000000000000"


def test_resources_work_too() -> None:
    with mock_aws(handlers=_handlers()):
        sqs = boto3.resource("sqs")
        queue = sqs.create_queue(QueueName="jobs")
        assert queue.url.endswith("/000000000000/jobs")
        assert [q.url for q in sqs.queues.all()] == [queue.url]
        topic = boto3.resource("sns").create_topic(Name="t")
        assert topic.arn == "arn:aws:sns:us-east-1:000000000000:t"


def test_an_operation_without_a_handler_answers_as_aws_does_for_an_unknown_action() -> None:
    with mock_aws(handlers=_handlers()):
        with pytest.raises(ClientError) as raised:
            boto3.client("sqs").purge_queue(QueueUrl="u")
        assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
        assert "sqs:PurgeQueue" in raised.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as raised:
            boto3.client("sns").list_topics()
        assert raised.value.response["Error"]["Code"] == "InvalidAction"


def test_a_service_rulebus_does_not_emulate_raises_an_error_naming_it() -> None:
    with mock_aws(handlers=_handlers()), pytest.raises(ServiceNotEmulated, match="'dynamodb'"):
        boto3.client("dynamodb").list_tables()


def test_regions_and_accounts_are_scoped() -> None:
    with mock_aws(handlers=_handlers(), account="123456789012") as aws:
        boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="here")
        assert boto3.client("sqs", region_name="us-east-1").list_queues().get("QueueUrls", []) == []
        listed = boto3.client("sqs", region_name="eu-west-1").list_queues()["QueueUrls"]
        assert listed == ["https://sqs.eu-west-1.amazonaws.com/123456789012/here"]
        assert [q.name for q in aws.broker("eu-west-1").queues()] == ["here"]
        assert aws.broker("eu-west-1") is not aws.broker("us-east-1")


def test_each_activation_starts_empty() -> None:
    mock = mock_aws(handlers=_handlers())
    with mock:
        boto3.client("sqs").create_queue(QueueName="a")
    with mock:
        assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def test_the_innermost_mock_answers() -> None:
    with mock_aws(handlers=_handlers()) as outer:
        with mock_aws(handlers=_handlers()) as inner:
            boto3.client("sqs").create_queue(QueueName="inner")
            assert [q.name for q in inner.broker().queues()] == ["inner"]
        assert outer.broker().queues() == []
        boto3.client("sqs").create_queue(QueueName="outer")
        assert [q.name for q in outer.broker().queues()] == ["outer"]


def test_clients_made_before_the_mock_are_intercepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "early")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "early")
    early = boto3.client("sqs", region_name="us-east-1")
    boto3.setup_default_session(region_name="us-east-1")
    with mock_aws(handlers=_handlers()) as aws:
        early.create_queue(QueueName="early")
        boto3.client("sqs").create_queue(QueueName="default-session")
        assert sorted(q.name for q in aws.broker().queues()) == ["default-session", "early"]


def test_a_request_is_answered_once_when_its_session_holds_the_hook_twice() -> None:
    # The default session made under a first mock got the hook from botocore's built-in list; a
    # second mock registers it on that session again: every request must still be answered once.
    with mock_aws():
        boto3.client("sqs")
    with mock_aws() as aws:
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="once")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="one")
        assert [m.body for m in aws.broker().queue("once").receive(max_messages=10)] == ["one"]


def test_hooks_are_removed_afterwards() -> None:
    send = Endpoint._send  # type: ignore[attr-defined]
    builtin = list(botocore.handlers.BUILTIN_HANDLERS)
    with mock_aws(handlers=_handlers()):
        assert Endpoint._send is not send  # type: ignore[attr-defined]
    assert Endpoint._send is send  # type: ignore[attr-defined]
    assert builtin == botocore.handlers.BUILTIN_HANDLERS


def test_fake_credentials_and_region_only_when_none_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws(handlers=_handlers()):
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert "AWS_DEFAULT_REGION" not in os.environ
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "mine")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws(handlers=_handlers()):
        assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
        boto3.client("sqs").create_queue(QueueName="q")
        assert SEEN[-1].region == "eu-west-1"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "mine"


def test_store_and_clock_reach_the_brokers(tmp_path: Path) -> None:
    moments = iter(range(1_000, 2_000))
    clock = lambda: float(next(moments))  # noqa: E731
    with mock_aws(handlers=_handlers(), store=f"sqlite:///{tmp_path}/aws.db", clock=clock) as aws:
        boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="durable")
        assert aws.broker("eu-west-1").context.clock is clock
    assert (tmp_path / "aws.000000000000.eu-west-1.db").exists()
    with Broker(tmp_path / "aws.000000000000.eu-west-1.db") as broker:
        assert [q.name for q in broker.queues()] == ["durable"]


# -- as a decorator -------------------------------------------------------------------------------


@mock_aws
def _bare() -> str:
    with pytest.raises(ServiceNotEmulated):  # answered in process, not sent
        boto3.client("dynamodb").list_tables()
    return os.environ["AWS_ACCESS_KEY_ID"]


@mock_aws(handlers=_handlers())
def _with_arguments(name: str) -> list[str]:
    boto3.client("sqs").create_queue(QueueName=name)
    return boto3.client("sqs").list_queues()["QueueUrls"]


@mock_aws(handlers=_handlers())
async def _coroutine(name: str) -> str:
    await asyncio.sleep(0)
    url: str = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return url


def test_decorating_functions_and_coroutine_functions() -> None:
    assert _bare() == "testing"
    assert _with_arguments("x") == ["https://sqs.us-east-1.amazonaws.com/000000000000/x"]
    assert _with_arguments("y") == ["https://sqs.us-east-1.amazonaws.com/000000000000/y"]  # fresh state
    assert asyncio.run(_coroutine("z")).endswith("/z")
    assert not isinstance(_with_arguments, MockAws)


@mock_aws(handlers=_handlers())
class TestDecoratedClass:
    def test_one(self) -> None:
        boto3.client("sqs").create_queue(QueueName="one")
        assert len(boto3.client("sqs").list_queues()["QueueUrls"]) == 1

    def test_two(self) -> None:
        assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def test_decorating_a_unittest_case_spans_set_up_test_and_tear_down() -> None:
    seen: list[int] = []

    @mock_aws(handlers=_handlers())
    class Case(unittest.TestCase):
        def setUp(self) -> None:
            boto3.client("sqs").create_queue(QueueName="from-setup")

        def test_sees_set_up(self) -> None:
            seen.append(len(boto3.client("sqs").list_queues()["QueueUrls"]))

        def tearDown(self) -> None:
            seen.append(len(boto3.client("sqs").list_queues()["QueueUrls"]))

    result = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(  # noqa: SIM115
        unittest.defaultTestLoader.loadTestsFromTestCase(Case)
    )
    assert result.wasSuccessful(), result.errors + result.failures
    assert seen == [1, 1]


def test_a_decorated_function_called_inside_a_mock_joins_it() -> None:
    @mock_aws
    def create(name: str) -> None:
        boto3.client("sqs").create_queue(QueueName=name)

    with mock_aws() as aws:
        create("joined")
        assert [q.name for q in aws.broker().queues()] == ["joined"]


def test_a_pytest_style_class_spans_setup_method_test_and_teardown_method() -> None:
    send = Endpoint._send  # type: ignore[attr-defined]
    seen: list[str] = []

    @mock_aws
    class Case:
        def setup_method(self, method: object) -> None:
            seen.append(getattr(method, "__name__", "?"))
            boto3.client("sqs").create_queue(QueueName="from-setup")

        def test_sees_setup(self) -> None:
            seen.extend(url.rsplit("/", 1)[1] for url in boto3.client("sqs").list_queues()["QueueUrls"])

        def teardown_method(self) -> None:  # pytest passes the method only to those that take it
            seen.append(str(len(boto3.client("sqs").list_queues()["QueueUrls"])))

    case = Case()
    case.setup_method(case.test_sees_setup)  # as pytest calls them
    case.test_sees_setup()
    case.teardown_method(case.test_sees_setup)  # type: ignore[call-arg]
    assert seen == ["test_sees_setup", "from-setup", "1"]
    assert Endpoint._send is send  # type: ignore[attr-defined]  # the mock stopped after teardown

    @mock_aws
    class Failing:
        def setup_method(self) -> None:
            raise RuntimeError("setup failed")

    with pytest.raises(RuntimeError):
        Failing().setup_method()
    assert Endpoint._send is send  # type: ignore[attr-defined]  # stopped though no teardown follows


def test_a_fake_clock_with_sleep_ends_long_polls() -> None:
    class Clock:
        def __init__(self) -> None:
            self.now = 1_700_000_000.0

        def __call__(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.now += seconds

    clock = Clock()
    with mock_aws(clock=clock):
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="polled")["QueueUrl"]
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        assert clock.now == 1_700_000_020.0  # the wait passed on the fake clock
