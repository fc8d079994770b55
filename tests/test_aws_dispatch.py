"""The dispatcher on raw HTTP requests: routing by target, action and credential scope, AWS's
answers to what is malformed or unknown, request ids everywhere, brokers per account and region,
and the pytest plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus import AwsError, Broker, InvalidPatternError
from rulebus._errors import sqs_error
from rulebus.aws.brokers import Brokers, scoped_store_url
from rulebus.aws.dispatch import MAX_FORM_FIELDS, Dispatcher, HttpRequest, _decode_form
from rulebus.aws.handlers import Handlers
from rulebus.aws.protocols import Reply
from rulebus.aws.request import Request

CALLS: list[Request] = []
ROOT = Path(__file__).resolve().parent.parent


def _record(output: Mapping[str, Any]) -> Any:
    def handler(broker: Broker, request: Request) -> Mapping[str, Any]:
        CALLS.append(request)
        return output

    return handler


def _fail(error: Exception) -> Any:
    def handler(broker: Broker, request: Request) -> Mapping[str, Any]:
        raise error

    return handler


@pytest.fixture
def dispatcher() -> Dispatcher:
    CALLS.clear()
    handlers = Handlers(
        {
            "sqs": {
                "ListQueues": _record({"QueueUrls": ["u"]}),
                "SendMessage": _record({"MessageId": "m"}),
                "DeleteQueue": _fail(sqs_error("QueueDoesNotExist", "The specified queue does not exist.")),
                "PurgeQueue": _fail(RuntimeError("a bug with a secret")),
            },
            "sns": {"ListTopics": _record({"Topics": []})},
            "events": {"PutRule": _fail(InvalidPatternError("Event pattern is not valid. Reason: r", "r"))},
            "sts": {"GetCallerIdentity": _record({"Account": "123456789012"})},
        },
        load_services=False,
    )
    return Dispatcher(Brokers(), handlers, account="123456789012")


def _json(target: str, body: bytes = b"{}", **headers: str) -> HttpRequest:
    return HttpRequest(
        "POST",
        "/",
        "",
        {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0", **headers},
        body,
    )


def _form(body: str, path: str = "/", query: str = "", method: str = "POST", **headers: str) -> HttpRequest:
    return HttpRequest(
        method, path, query, {"Content-Type": "application/x-www-form-urlencoded", **headers}, body.encode()
    )


def _signed(service: str, region: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )


def _xml_error(reply: Reply) -> tuple[str, str, str]:
    root = ElementTree.fromstring(reply.body)
    assert root.tag.endswith("ErrorResponse")
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    error = root.find(f"{ns}Error")
    assert error is not None
    code, message = error.findtext(f"{ns}Code"), error.findtext(f"{ns}Message")
    request_id = root.findtext(f"{ns}RequestId")
    assert code is not None and message is not None and request_id is not None
    return code, message, request_id


def test_json_requests_route_by_target(dispatcher: Dispatcher) -> None:
    reply = dispatcher(_json("AmazonSQS.SendMessage", b'{"QueueUrl": "u", "MessageBody": "b"}', Host="h:1"))
    assert reply.status == 200
    assert json.loads(reply.body) == {"MessageId": "m"}
    assert reply.headers["Content-Type"] == "application/x-amz-json-1.0"
    call = CALLS[-1]
    assert (call.service, call.operation, call.params) == (
        "sqs",
        "SendMessage",
        {"QueueUrl": "u", "MessageBody": "b"},
    )
    assert (call.region, call.account, call.host) == ("us-east-1", "123456789012", "h:1")
    assert call.request_id == reply.headers["x-amzn-RequestId"]


def test_query_requests_route_by_version_scope_or_action(dispatcher: Dispatcher) -> None:
    dispatcher(_form("Action=ListQueues&Version=2012-11-05"))
    dispatcher(_form("Action=ListTopics", Authorization=_signed("sns", "eu-west-1")))
    dispatcher(_form("", query="Action=GetCallerIdentity", method="GET"))
    assert [(c.service, c.operation, c.region) for c in CALLS] == [
        ("sqs", "ListQueues", "us-east-1"),
        ("sns", "ListTopics", "eu-west-1"),
        ("sts", "GetCallerIdentity", "us-east-1"),
    ]


def test_an_action_two_query_services_have_goes_to_the_one_whose_members_it_names() -> None:
    handlers = Handlers(
        {"sqs": {"AddPermission": _record({})}, "sns": {"AddPermission": _record({})}}, load_services=False
    )
    dispatcher = Dispatcher(Brokers(), handlers)
    CALLS.clear()
    dispatcher(
        _form("Action=AddPermission&TopicArn=t&Label=l&AWSAccountId.member.1=1&ActionName.member.1=Publish")
    )
    dispatcher(_form("Action=AddPermission&QueueUrl=u&Label=l&AWSAccountId.1=1&ActionName.1=SendMessage"))
    assert [c.service for c in CALLS] == ["sns", "sqs"]
    assert CALLS[0].params["ActionName"] == ["Publish"] and CALLS[1].params["Actions"] == ["SendMessage"]


def test_query_responses_carry_the_request_id_in_header_and_body(dispatcher: Dispatcher) -> None:
    reply = dispatcher(_form("Action=ListQueues&Version=2012-11-05"))
    root = ElementTree.fromstring(reply.body)
    assert root.tag == "{http://queue.amazonaws.com/doc/2012-11-05/}ListQueuesResponse"
    assert root.findtext(".//{*}RequestId") == reply.headers["x-amzn-RequestId"]
    assert root.findtext(".//{*}QueueUrl") == "u"


def test_the_region_comes_from_the_credential_scope_or_the_host(dispatcher: Dispatcher) -> None:
    dispatcher(_json("AmazonSQS.ListQueues", Authorization=_signed("sqs", "ap-south-1")))
    dispatcher(_json("AmazonSQS.ListQueues", Host="sqs.eu-central-1.amazonaws.com"))
    assert [c.region for c in CALLS] == ["ap-south-1", "eu-central-1"]


def test_sqs_query_requests_posted_to_a_queue_url_name_the_queue(dispatcher: Dispatcher) -> None:
    dispatcher(_form("Action=SendMessage&MessageBody=x", path="/123456789012/q", Host="localhost:4566"))
    assert CALLS[-1].params == {"QueueUrl": "http://localhost:4566/123456789012/q", "MessageBody": "x"}


def test_a_route_looked_up_is_the_one_worked_out(dispatcher: Dispatcher) -> None:
    # The second round finds each route kept from the first (by target or Action, host and
    # credential); what varies within a kind (the region, a queue URL's path, the params) still
    # comes from each request.
    sqs = _signed("sqs", "us-east-1")
    requests = [
        _form("Action=ListTopics", Authorization=_signed("sns", "eu-west-1")),
        _form("Action=ListTopics&Version=2010-03-31", Authorization=_signed("sns", "eu-west-2")),
        _form("Action=SendMessage&MessageBody=x", "/123456789012/q", Host="h:1", Authorization=sqs),
        _form("Action=SendMessage&MessageBody=y", "/123456789012/r", Host="h:1", Authorization=sqs),
        _json("AmazonSQS.ListQueues", Authorization=_signed("sqs", "ap-south-1")),
    ]
    for request in requests * 2:
        assert dispatcher(request).status == 200
    seen = [(c.service, c.operation, c.region, c.params) for c in CALLS]
    assert seen[:5] == seen[5:] == [
        ("sns", "ListTopics", "eu-west-1", {}),
        ("sns", "ListTopics", "eu-west-2", {}),
        ("sqs", "SendMessage", "us-east-1", {"MessageBody": "x", "QueueUrl": "http://h:1/123456789012/q"}),
        ("sqs", "SendMessage", "us-east-1", {"MessageBody": "y", "QueueUrl": "http://h:1/123456789012/r"}),
        ("sqs", "ListQueues", "ap-south-1", {}),
    ]
    # A service rulebus does not emulate is refused before its form is read, every time.
    elsewhere = _form("Action=%zz", Authorization=_signed("s3", "us-east-1"))
    for _ in range(2):
        assert "'s3'" in _xml_error(dispatcher(elsewhere))[1]


def test_handler_errors_are_the_protocols_errors(dispatcher: Dispatcher) -> None:
    reply = dispatcher(_json("AmazonSQS.DeleteQueue", b'{"QueueUrl": "u"}'))
    assert reply.status == 400
    assert reply.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert json.loads(reply.body)["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    reply = dispatcher(_form("Action=DeleteQueue&QueueUrl=u&Version=2012-11-05"))
    code, message, request_id = _xml_error(reply)
    assert (code, message) == (
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )
    assert request_id == reply.headers["x-amzn-RequestId"]
    pattern = dispatcher(
        HttpRequest("POST", "/", "", {"X-Amz-Target": "AWSEvents.PutRule"}, b'{"Name": "r"}')
    )
    assert json.loads(pattern.body) == {
        "__type": "InvalidEventPatternException",
        "message": "Event pattern is not valid. Reason: r",
    }


def test_a_handler_bug_is_an_internal_failure_without_its_details(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    reply = dispatcher(_json("AmazonSQS.PurgeQueue", b'{"QueueUrl": "u"}'))
    assert reply.status == 500
    body = json.loads(reply.body)
    assert body["__type"] == "com.amazonaws.sqs#InternalFailure"
    assert "secret" not in reply.body.decode() and "Traceback" not in reply.body.decode()
    assert "a bug with a secret" in caplog.text  # logged for the operator


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (_json("AmazonSQS.Nope"), 400, "UnknownOperationException"),
        (_json("DynamoDB_20120810.PutItem"), 400, "UnknownOperationException"),
        (_json("AmazonSQS.SendMessage", b"{oops"), 400, "SerializationException"),
        (
            _json("AmazonSQS.SendMessage", b'{"QueueUrl": 1, "MessageBody": "b"}'),
            400,
            "SerializationException",
        ),
        (_json("AmazonSQS.GetQueueUrl", b'{"QueueName": "q"}'), 400, "UnknownOperationException"),
        (
            _json("AmazonSQS.ListQueues", Authorization=_signed("dynamodb", "us-east-1")),
            501,
            "NotImplemented",
        ),
        (
            HttpRequest("POST", "/", "", {"Content-Type": "application/x-amz-json-1.1"}, b"{}"),
            400,
            "UnknownOperationException",
        ),
    ],
)
def test_json_requests_that_go_nowhere(
    dispatcher: Dispatcher, request_: HttpRequest, status: int, code: str
) -> None:
    reply = dispatcher(request_)
    assert reply.status == status
    assert json.loads(reply.body)["__type"].endswith(code)
    assert reply.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (_form("Action=Nope&Version=2010-03-31"), 400, "InvalidAction"),
        (_form("Action=ListTopicz"), 400, "InvalidAction"),
        (_form("Version=2010-03-31"), 400, "MissingAction"),
        (_form(""), 400, "MissingAction"),
        (_form("Action=ListSubscriptions&Version=2010-03-31"), 400, "InvalidAction"),
        (_form("Action=ListTables", Authorization=_signed("dynamodb", "us-east-1")), 501, "NotImplemented"),
        (
            HttpRequest(
                "POST", "/", "", {"Content-Type": "application/x-www-form-urlencoded"}, b"Action=%FF"
            ),
            404,
            "MalformedQueryString",
        ),
        (
            HttpRequest("POST", "/", "", {"Content-Type": "text/plain"}, b"Action=ListTopics"),
            404,
            "MalformedQueryString",
        ),
        (
            _form("Action=ReceiveMessage&Version=2012-11-05&QueueUrl=u&MaxNumberOfMessages=x"),
            400,
            "InvalidParameterValue",
        ),
        (_form("Action=SendMessage&Version=2012-11-05&QueueUrl=u"), 400, "MissingParameter"),
    ],
)
def test_query_requests_that_go_nowhere(
    dispatcher: Dispatcher, request_: HttpRequest, status: int, code: str
) -> None:
    reply = dispatcher(request_)
    assert reply.status == status
    assert _xml_error(reply)[0] == code


def test_not_emulated_names_the_service(dispatcher: Dispatcher) -> None:
    reply = dispatcher(_form("Action=ListBuckets", Authorization=_signed("s3", "us-east-1")))
    assert "'s3'" in _xml_error(reply)[1]


def test_any_bytes_get_an_answer(dispatcher: Dispatcher) -> None:
    for body in (b"\x00\xff" * 10, b"Action=ListQueues&" * 3, b"%", b"Action", "Action=É".encode()):
        for headers in ({}, {"X-Amz-Target": "AmazonSQS.ListQueues"}, {"Content-Type": "application/json"}):
            reply = dispatcher(HttpRequest("POST", "/", "a=%zz", headers, body))
            assert reply.headers["x-amzn-RequestId"]
            assert reply.status in (200, 400, 404, 501)


# -- brokers per scope ----------------------------------------------------------------------------


def test_brokers_are_per_account_and_region() -> None:
    brokers = Brokers()
    try:
        a = brokers.get("000000000000", "us-east-1")
        assert brokers.get("000000000000", "us-east-1") is a
        b = brokers.get("000000000000", "eu-west-1")
        c = brokers.get("123456789012", "us-east-1")
        assert len({id(a), id(b), id(c)}) == 3
        assert (b.region, c.account) == ("eu-west-1", "123456789012")
        a.queue("q")
        assert b.queues() == [] and c.queues() == []
        assert sorted(brokers.scopes()) == [
            ("000000000000", "eu-west-1"),
            ("000000000000", "us-east-1"),
            ("123456789012", "us-east-1"),
        ]
    finally:
        brokers.reset()
    assert brokers.scopes() == []


def test_file_stores_get_a_file_per_scope(tmp_path: Path) -> None:
    assert scoped_store_url("sqlite:///state/aws.db", "000000000000", "us-east-1") == (
        "sqlite:///state/aws.000000000000.us-east-1.db"
    )
    assert scoped_store_url("/abs/aws", "1", "r") == "/abs/aws.1.r"
    assert scoped_store_url("memory://", "1", "r") == "memory://"
    brokers = Brokers(store=str(tmp_path / "aws.db"))
    brokers.get("000000000000", "us-east-1").queue("q")
    brokers.get("000000000000", "eu-west-1")
    brokers.reset()
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        "aws.000000000000.eu-west-1.db",
        "aws.000000000000.us-east-1.db",
    ]


def test_a_store_factory_is_called_per_scope() -> None:
    made: list[tuple[str, str]] = []

    def factory(account: str, region: str) -> str:
        made.append((account, region))
        return "memory://"

    brokers = Brokers(store=factory)
    brokers.get("000000000000", "us-west-2")
    brokers.reset()
    assert made == [("000000000000", "us-west-2")]


def test_one_store_object_cannot_serve_several_scopes() -> None:
    from rulebus.stores import MemoryStore

    with pytest.raises(TypeError, match="factory"):
        Brokers(store=MemoryStore())  # type: ignore[arg-type]


# -- handlers -------------------------------------------------------------------------------------


def test_handlers_come_from_the_services_modules_and_overrides() -> None:
    stub = _record({})
    handlers = Handlers({"sns": {"ListTopics": stub}})
    assert handlers.handler("sns", "ListTopics") is stub
    assert handlers.handler("nosuchservice", "X") is None
    handlers.register("events", "PutEvents", stub)
    assert handlers.handler("events", "PutEvents") is stub
    assert "PutEvents" in handlers.operations("events")


# -- the pytest plugin ----------------------------------------------------------------------------


def test_the_package_registers_the_pytest_plugin() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.entry-points.pytest11]", 1)[1].split("\n[", 1)[0]
    assert 'rulebus_aws = "rulebus.aws.pytest_plugin"' in section


def test_the_rulebus_aws_fixture(tmp_path: Path) -> None:
    test = tmp_path / "test_with_fixture.py"
    test.write_text(
        textwrap.dedent(
            """
            import boto3, os
            import pytest

            def test_inside(rulebus_aws):
                assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
                with pytest.raises(Exception) as raised:
                    boto3.client("dynamodb").list_tables()
                assert "dynamodb" in str(raised.value)
                assert rulebus_aws.broker().queues() == []
            """
        )
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "PYTEST_ADDOPTS"
    }
    environment["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the plugin once, by name, installed or not
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "rulebus.aws.pytest_plugin",
            "-p",
            "no:cacheprovider",
            str(test),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


# Pieces a form is made of: names, separators, escapes good and bad, '+' for a space, non-ASCII.
_FORM_PIECES = ["a", "B", "=", "&", "+", ".", " ", "é", "%2F", "%20", "%C3%A9", "%FF", "%zz", "%", "%C3"]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_FORM_PIECES), max_size=40).map("".join))
def test_a_form_is_read_as_parse_qsl_reads_it(text: str) -> None:
    """The dispatcher's own form reader (it skips parse_qsl's work on plain pieces) reads any
    form as ``parse_qsl(keep_blank_values=True, errors="strict")`` does, or refuses it where
    that would: text that is not UTF-8 after unescaping."""
    try:
        expected: list[tuple[str, str]] | None = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        expected = None
    try:
        got: list[tuple[str, str]] | None = _decode_form(text.encode("utf-8"))
    except AwsError as error:
        assert error.code == "MalformedQueryString"
        got = None
    assert got == expected


def test_a_form_with_too_many_fields_is_refused_unread() -> None:
    with pytest.raises(AwsError) as raised:
        _decode_form(b"a=1&" * MAX_FORM_FIELDS)
    assert raised.value.code == "MalformedQueryString"
    assert len(_decode_form(b"&".join([b"a=1"] * MAX_FORM_FIELDS))) == MAX_FORM_FIELDS
