"""SigV4 verification (`rulebus serve --verify-signatures`): botocore-signed requests, altered one
part at a time, refused with the code each protocol's services answer; unaltered ones taken."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

import pytest
from helpers.aws_server import RunningServer
from helpers.aws_signed import Signed, presigned, signed
from rulebus.aws.dispatch import Dispatcher
from rulebus.aws.protocols import Reply
from rulebus.aws.sigv4 import SignatureVerifier, canonical_query, canonical_uri, parse_access_keys

KEY = ("AKIDRULEBUS", "s3cr3t/key+value")
OTHER = ("AKIDOTHER", "another-secret")

# One request per protocol family: SQS (AWS JSON, query-coded errors), SNS and STS (query),
# EventBridge and Kinesis (AWS JSON, Coral's exceptions).
CALLS = {
    "sqs": ("create_queue", {"QueueName": "signed"}),
    "sns": ("create_topic", {"Name": "signed"}),
    "sts": ("get_caller_identity", {}),
    "events": ("list_rules", {}),
    "kinesis": ("list_streams", {}),
}
QUERY_CODED = {"sqs", "sns", "sts"}


def dispatcher(skew: float = 0.0) -> Dispatcher:
    verifier = SignatureVerifier(dict([KEY, OTHER]), clock=lambda: time.time() + skew)
    return Dispatcher(verifier=verifier)


def code(reply: Reply) -> str:
    """The error code a client reads from ``reply``."""
    if "x-amzn-query-error" in reply.headers:
        return reply.headers["x-amzn-query-error"].split(";")[0]
    text = reply.body.decode()
    if text.startswith("<?xml"):
        found = re.search(r"<Code>(.*?)</Code>", text)
        assert found is not None, text
        return found.group(1)
    return str(json.loads(text)["__type"]).rpartition("#")[2]


def expected(service: str, query: str, json_code: str) -> str:
    return query if service in QUERY_CODED else json_code


@pytest.fixture(params=sorted(CALLS))
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def request_for(service: str, key: tuple[str, str] = KEY) -> Signed:
    operation, params = CALLS[service]
    return signed(service, operation, params, key=key)


def test_an_unaltered_request_is_taken(service: str) -> None:
    reply = dispatcher()(request_for(service).http())
    assert reply.status == 200, reply.body


def test_a_second_configured_key_is_taken(service: str) -> None:
    assert dispatcher()(request_for(service, OTHER).http()).status == 200


def _replace_in(header: str, old: str, new: str) -> Callable[[Signed], Signed]:
    def alter(request: Signed) -> Signed:
        value = request.header(header)
        assert old in value
        return request.with_header(header, value.replace(old, new, 1))

    return alter


def _body(request: Signed) -> Signed:
    assert request.body
    # One byte of the body, in a place every request has one: its last character before a closing
    # brace, or the form's last character.
    body = bytearray(request.body)
    position = len(body) - 2 if body.endswith(b"}") and len(body) > 2 else len(body) - 1
    body[position] = ord("X") if body[position] != ord("X") else ord("Y")
    return Signed(request.method, request.path, request.query, request.headers, bytes(body))


def _date_by_a_second(request: Signed) -> Signed:
    value = request.header("X-Amz-Date")
    seconds = int(value[-3:-1])
    return request.with_header("X-Amz-Date", f"{value[:-3]}{(seconds + 1) % 60:02d}Z")


def _signature(request: Signed) -> Signed:
    value = request.header("Authorization")
    digit = value[-1]
    return request.with_header("Authorization", value[:-1] + ("0" if digit != "0" else "1"))


def _scope_date(request: Signed) -> Signed:
    value = request.header("Authorization")
    found = re.search(r"/(\d{8})/", value)
    assert found is not None
    day = found.group(1)
    other = day[:-1] + ("1" if day[-1] != "1" else "2")
    return request.with_header("Authorization", value.replace(f"/{day}/", f"/{other}/", 1))


def _unsign_header(name: str) -> Callable[[Signed], Signed]:
    def alter(request: Signed) -> Signed:
        value = request.header("Authorization")
        signed_headers = re.search(r"SignedHeaders=([^,]+)", value)
        assert signed_headers is not None and name in signed_headers.group(1).split(";")
        kept = ";".join(h for h in signed_headers.group(1).split(";") if h != name)
        return request.with_header("Authorization", value.replace(signed_headers.group(1), kept))

    return alter


# (what is altered, how, the query services' code, the JSON services' code)
MISMATCHES = [
    (
        "a signed header",
        _replace_in("Host", "127.0.0.1", "localhost"),
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    ),
    ("the body", _body, "SignatureDoesNotMatch", "InvalidSignatureException"),
    ("the date", _date_by_a_second, "SignatureDoesNotMatch", "InvalidSignatureException"),
    ("the secret", None, "SignatureDoesNotMatch", "InvalidSignatureException"),
    (
        "the scope's region",
        _replace_in("Authorization", "/us-east-1/", "/us-west-2/"),
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    ),
    ("the scope's date", _scope_date, "SignatureDoesNotMatch", "InvalidSignatureException"),
    (
        "the scope's terminator",
        _replace_in("Authorization", "aws4_request", "aws5_request"),
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    ),
    ("the signature", _signature, "SignatureDoesNotMatch", "InvalidSignatureException"),
    (
        "the signed headers",
        _unsign_header("x-amz-date"),
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    ),
    (
        "the key id",
        _replace_in("Authorization", "Credential=AKIDRULEBUS", "Credential=AKIDUNKNOWN"),
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    ),
    (
        "the Authorization header, gone",
        lambda r: r.with_header("Authorization", None),
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
    ),
    (
        "the Signature part, gone",
        lambda r: r.with_header("Authorization", re.sub(r", Signature=\w+", "", r.header("Authorization"))),
        "IncompleteSignature",
        "IncompleteSignatureException",
    ),
    (
        "the algorithm",
        _replace_in("Authorization", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        "IncompleteSignature",
        "IncompleteSignatureException",
    ),
    (
        "the credential's shape",
        _replace_in("Authorization", "/aws4_request", ""),
        "IncompleteSignature",
        "IncompleteSignatureException",
    ),
    (
        "the date header, gone",
        lambda r: r.with_header("X-Amz-Date", None),
        "IncompleteSignature",
        "IncompleteSignatureException",
    ),
    (
        "the date's format",
        _replace_in("X-Amz-Date", "T", "-"),
        "IncompleteSignature",
        "IncompleteSignatureException",
    ),
    ("Host, unsigned", _unsign_header("host"), "IncompleteSignature", "IncompleteSignatureException"),
]


@pytest.mark.parametrize("what,alter,query_code,json_code", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_an_altered_request_is_refused(
    service: str, what: str, alter: Callable[[Signed], Signed] | None, query_code: str, json_code: str
) -> None:
    if alter is None:  # signed with the right key id and a wrong secret
        request = request_for(service, (KEY[0], "not-the-secret"))
    else:
        request = alter(request_for(service))
    reply = dispatcher()(request.http())
    assert code(reply) == expected(service, query_code, json_code), reply.body
    assert reply.status in (400, 403)


@pytest.mark.parametrize("skew", [-16 * 60, 16 * 60])
def test_a_request_past_the_clock_skew_is_expired(service: str, skew: float) -> None:
    reply = dispatcher(skew)(request_for(service).http())
    assert code(reply) == expected(service, "RequestExpired", "InvalidSignatureException")
    assert (
        "Signature expired" in reply.body.decode() if skew > 0 else "not yet current" in reply.body.decode()
    )


def test_a_request_within_the_clock_skew_is_taken(service: str) -> None:
    assert dispatcher(14 * 60)(request_for(service).http()).status == 200
    assert dispatcher(-14 * 60)(request_for(service).http()).status == 200


def test_a_signed_header_that_is_absent_is_a_mismatch() -> None:
    # A Date header stands for X-Amz-Date when that is missing, but X-Amz-Date was signed.
    request = request_for("kinesis")
    stamp = request.header("X-Amz-Date")
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    reply = dispatcher()(request.with_header("X-Amz-Date", None).with_header("Date", http_date).http())
    assert code(reply) == "InvalidSignatureException"


@pytest.mark.parametrize(
    "service,operation,params", [("sts", "get_caller_identity", {}), ("sns", "list_topics", {})]
)
def test_a_presigned_url_is_taken_until_it_expires(
    service: str, operation: str, params: dict[str, str]
) -> None:
    request = presigned(service, operation, params, key=KEY, expires=60)
    assert dispatcher()(request.http()).status == 200
    late = dispatcher(61)(request.http())
    assert code(late) == "RequestExpired"
    tampered = Signed(
        request.method,
        request.path,
        request.query.replace("X-Amz-Expires=60", "X-Amz-Expires=600"),
        request.headers,
        b"",
    )
    assert code(dispatcher()(tampered.http())) == "SignatureDoesNotMatch"
    unknown = presigned(service, operation, params, key=("AKIDUNKNOWN", "x"))
    assert code(dispatcher()(unknown.http())) == "InvalidClientTokenId"
    as_get = Signed("GET", request.path, request.query, request.headers, b"")
    assert code(dispatcher()(as_get.http())) == "SignatureDoesNotMatch"  # the method is signed
    incomplete = Signed("POST", "/", re.sub(r"&X-Amz-Signature=\w+", "", request.query), request.headers, b"")
    assert code(dispatcher()(incomplete.http())) == "IncompleteSignature"


def test_without_a_verifier_signatures_are_not_checked(service: str) -> None:
    request = request_for(service, ("AKIDUNKNOWN", "whatever"))
    assert Dispatcher()(request.http()).status == 200
    assert Dispatcher()(request.with_header("Authorization", None).http()).status == 200


def test_canonical_forms_follow_aws_examples() -> None:
    # IAM User Guide, 'Elements of an AWS API request signature': paths are normalised and
    # encoded (twice, for a path sent encoded), query names and values encoded and sorted.
    assert canonical_uri("/documents and settings/") == "/documents%20and%20settings/"
    assert canonical_uri("/a/./b/../c//d") == "/a/c/d"
    assert canonical_uri("/a%20b") == "/a%2520b"
    assert canonical_uri("") == "/"
    assert canonical_query([("b", "2"), ("a", "x y"), ("a", "1"), ("c", "~*")]) == "a=1&a=x%20y&b=2&c=~%2A"


def test_access_keys_are_id_colon_secret() -> None:
    assert parse_access_keys(["A:b:c", "D:e"]) == {"A": "b:c", "D": "e"}
    for bad in ("nocolon", ":secret", "id:"):
        with pytest.raises(ValueError):
            parse_access_keys([bad])
    with pytest.raises(ValueError):
        SignatureVerifier({})


@pytest.fixture(scope="module")
def verified() -> Iterator[RunningServer]:
    with RunningServer(verifier=SignatureVerifier(dict([KEY, OTHER]))) as running:
        yield running


def test_boto3_with_the_right_key_works_end_to_end(verified: RunningServer) -> None:
    sqs = verified.client("sqs")
    url = sqs.create_queue(QueueName="verified jobs".replace(" ", "-"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == "hello"
    sns = verified.client("sns", key=OTHER)
    topic = sns.create_topic(Name="t")["TopicArn"]
    assert sns.list_topics()["Topics"] == [{"TopicArn": topic}]
    assert (
        verified.client("events").put_events(Entries=[{"Source": "a", "DetailType": "b", "Detail": "{}"}])[
            "FailedEntryCount"
        ]
        == 0
    )
    kinesis = verified.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    assert kinesis.list_streams()["StreamNames"] == ["s"]
    assert verified.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_boto3_with_a_wrong_key_is_refused_over_http(verified: RunningServer) -> None:
    from botocore.exceptions import ClientError

    cases = [
        ("sqs", lambda c: c.list_queues(), "InvalidClientTokenId", ("AKIDUNKNOWN", "x")),
        ("sqs", lambda c: c.list_queues(), "SignatureDoesNotMatch", (KEY[0], "wrong")),
        ("sns", lambda c: c.list_topics(), "SignatureDoesNotMatch", (KEY[0], "wrong")),
        ("events", lambda c: c.list_rules(), "UnrecognizedClientException", ("AKIDUNKNOWN", "x")),
        ("kinesis", lambda c: c.list_streams(), "InvalidSignatureException", (KEY[0], "wrong")),
    ]
    for service, call, error_code, key in cases:
        with pytest.raises(ClientError) as caught:
            call(verified.client(service, key=key))
        assert caught.value.response["Error"]["Code"] == error_code, (service, caught.value.response)


def test_reset_needs_a_signature_when_verifying(verified: RunningServer) -> None:
    import urllib.error
    import urllib.request

    verified.client("sqs").create_queue(QueueName="kept")
    unsigned = urllib.request.Request(f"{verified.url}/moto-api/reset", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=30)
    assert refused.value.code == 403
    assert verified.client("sqs").get_queue_url(QueueName="kept")["QueueUrl"]


def test_the_console_is_off_when_verifying(verified: RunningServer) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{verified.url}/_rulebus/api/overview", timeout=30)
    assert refused.value.code == 403


def test_serve_refuses_verification_without_keys_and_keys_without_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner
    from rulebus.cli import cli

    monkeypatch.delenv("RULEBUS_ACCESS_KEYS", raising=False)
    without_keys = CliRunner().invoke(cli, ["serve", "--verify-signatures"])
    assert without_keys.exit_code != 0 and "at least one access key" in without_keys.output
    bad_key = CliRunner().invoke(cli, ["serve", "--verify-signatures", "--access-key", "nosecret"])
    assert bad_key.exit_code != 0 and "ID:SECRET" in bad_key.output
    unused = CliRunner().invoke(cli, ["serve", "--access-key", "A:b"])
    assert unused.exit_code != 0 and "--verify-signatures" in unused.output
