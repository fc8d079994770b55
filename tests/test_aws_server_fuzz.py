"""`rulebus serve` under fire: valid requests captured from botocore for many operations, mutated
(bytes flipped, bodies cut, headers repeated or huge, wrong content types, bad UTF-8 and
percent-encoding, deeply nested JSON, absurd numbers) and sent over raw sockets. The server never
answers 500, never logs a failure of its own, never dies, and keeps serving valid requests."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from helpers.aws_server import RunningServer
from helpers.aws_signed import Signed, signed
from hypothesis import given
from hypothesis import strategies as st
from rulebus.aws.sigv4 import SignatureVerifier

KEY = ("AKIDFUZZ", "fuzz-secret")

# Requests worth mutating: every protocol, with members of many kinds (strings, numbers, maps,
# lists, blobs, timestamps, nested structures).
SEEDS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "sqs",
        "create_queue",
        {"QueueName": "fuzz", "Attributes": {"VisibilityTimeout": "30"}, "tags": {"a": "b"}},
    ),
    (
        "sqs",
        "send_message",
        {
            "QueueUrl": "http://h/000000000000/fuzz",
            "MessageBody": "hi",
            "DelaySeconds": 1,
            "MessageAttributes": {
                "n": {"DataType": "Number", "StringValue": "1"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            },
        },
    ),
    (
        "sqs",
        "send_message_batch",
        {
            "QueueUrl": "http://h/000000000000/fuzz",
            "Entries": [{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": "b"}],
        },
    ),
    (
        "sqs",
        "receive_message",
        {
            "QueueUrl": "http://h/000000000000/fuzz",
            "MaxNumberOfMessages": 10,
            "VisibilityTimeout": 5,
            "AttributeNames": ["All"],
        },
    ),
    (
        "sqs",
        "change_message_visibility",
        {"QueueUrl": "http://h/000000000000/fuzz", "ReceiptHandle": "r", "VisibilityTimeout": 10},
    ),
    ("sqs", "get_queue_attributes", {"QueueUrl": "http://h/000000000000/fuzz", "AttributeNames": ["All"]}),
    ("sqs", "list_queues", {"QueueNamePrefix": "f", "MaxResults": 5}),
    (
        "sns",
        "create_topic",
        {"Name": "fuzz", "Attributes": {"DisplayName": "d"}, "Tags": [{"Key": "k", "Value": "v"}]},
    ),
    (
        "sns",
        "publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "Message": "m",
            "Subject": "s",
            "MessageAttributes": {"a": {"DataType": "String", "StringValue": "x"}},
        },
    ),
    (
        "sns",
        "subscribe",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:000000000000:fuzz",
            "Attributes": {"FilterPolicy": '{"a": ["x"]}'},
        },
    ),
    (
        "sns",
        "publish_batch",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "PublishBatchRequestEntries": [{"Id": "1", "Message": "a"}],
        },
    ),
    (
        "sns",
        "publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "MessageStructure": "json",
            "Message": '{"default": "d", "sqs": "q"}',
        },
    ),
    (
        "sns",
        "set_topic_attributes",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "AttributeName": "DeliveryPolicy",
            "AttributeValue": '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 3}}}',
        },
    ),
    (
        "sns",
        "set_topic_attributes",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "AttributeName": "Policy",
            "AttributeValue": '{"Statement": []}',
        },
    ),
    (
        "sns",
        "add_permission",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:fuzz",
            "Label": "l",
            "AWSAccountId": ["000000000000"],
            "ActionName": ["Publish"],
        },
    ),
    (
        "sqs",
        "set_queue_attributes",
        {
            "QueueUrl": "http://h/000000000000/fuzz",
            "Attributes": {"RedrivePolicy": '{"maxReceiveCount": "3", "deadLetterTargetArn": "x"}'},
        },
    ),
    (
        "sqs",
        "add_permission",
        {
            "QueueUrl": "http://h/000000000000/fuzz",
            "Label": "l",
            "AWSAccountIds": ["000000000000"],
            "Actions": ["SendMessage"],
        },
    ),
    (
        "events",
        "put_events",
        {"Entries": [{"Source": "a", "DetailType": "b", "Detail": '{"n": [1, {"m": "x"}]}'}]},
    ),
    ("events", "put_rule", {"Name": "r", "EventPattern": '{"source": ["a"]}'}),
    (
        "events",
        "put_events",
        {
            "Entries": [
                {
                    "Source": "a",
                    "DetailType": "b",
                    "Detail": '{"n": 1}',
                    "Time": 1700000000,
                    "Resources": ["x"],
                }
            ]
        },
    ),
    (
        "events",
        "put_targets",
        {
            "Rule": "r",
            "Targets": [
                {
                    "Id": "1",
                    "Arn": "arn:aws:sqs:us-east-1:000000000000:fuzz",
                    "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '"<s>"'},
                }
            ],
        },
    ),
    ("events", "test_event_pattern", {"EventPattern": '{"source": ["a"]}', "Event": '{"source": "a"}'}),
    ("kinesis", "create_stream", {"StreamName": "fuzz", "ShardCount": 2}),
    ("kinesis", "put_record", {"StreamName": "fuzz", "Data": b"\x01\x02", "PartitionKey": "p"}),
    ("kinesis", "put_records", {"StreamName": "fuzz", "Records": [{"Data": b"a", "PartitionKey": "p"}]}),
    (
        "kinesis",
        "get_shard_iterator",
        {
            "StreamName": "fuzz",
            "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": 1700000000,
        },
    ),
    ("kinesis", "list_shards", {"StreamName": "fuzz", "MaxResults": 100}),
    ("sts", "get_caller_identity", {}),
]

CONTENT_TYPES = [
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
    "application/x-amz-cbor-1.1",
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    "application/x-amz-json-1.1; charset=\xff",
]
NASTY_VALUES = [
    b"1e999999",
    b"-1e999999",
    b"99999999999999999999999999999999999999",
    b"-0",
    b"NaN",
    b"Infinity",
    b"0.0000000000000000000000000000001",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    # Shallow enough for the parser, deep enough for anything recursive after it.
    b"[" * 990 + b"]" * 990,
    b'{"a":' * 990 + b"1" + b"}" * 990,
    # The same, as JSON inside a string member (a policy, a pattern, a detail).
    b'"' + b'{\\"a\\":' * 990 + b"1" + b"}" * 990 + b'"',
    b'"' + b"[" * 50_000 + b'"',
    b'"{\\"a\\": 1e999999}"',
    b'"{\\"a\\": [' + b"1," * 10_000 + b'1]}"',
    b'"\\ud800"',
    b"\xff\xfe",
    b"%zz",
    b"%e9",
    b"%",
    b"null",
    b"true",
    b"{}",
    b"[]",
]


def _capture(key: tuple[str, str], host: str) -> list[Signed]:
    return [
        signed(service, operation, params, key=key, endpoint=f"http://{host}")
        for service, operation, params in SEEDS
    ]


_DELIVERY_LOGGERS = ("rulebus.events", "rulebus.sns")


class _Failures(logging.Handler):
    """Error records of the server's loggers: a failure inside rulebus or uvicorn."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # A delivery the fuzzed requests made impossible (a rule's target queue deleted by an
        # earlier mutation) is logged as dropped: the user's failure, reported as designed.
        if record.name in _DELIVERY_LOGGERS and record.exc_info is None:
            return
        self.records.append(record)

    def take(self) -> list[str]:
        """The failures logged since the last call, with their exceptions (then forgotten)."""
        found = [logging.Formatter().format(record) for record in self.records]
        self.records.clear()
        return found


@pytest.fixture(scope="module")
def failures() -> Iterator[_Failures]:
    handler = _Failures()
    loggers = [logging.getLogger(name) for name in ("rulebus", "uvicorn.error", "uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture(scope="module")
def plain(failures: _Failures) -> Iterator[RunningServer]:
    with RunningServer() as running:
        yield running


@pytest.fixture(scope="module")
def guarded(failures: _Failures) -> Iterator[RunningServer]:
    with RunningServer(verifier=SignatureVerifier(dict([KEY]))) as running:
        yield running


def exchange(port: int, raw: bytes) -> bytes:
    """Sends ``raw`` on a new connection and reads until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        try:
            connection.sendall(raw)
            connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse and close before reading all of a huge request
        chunks = []
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int | None:
    found = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return int(found.group(1)) if found else None


# -- mutations --------------------------------------------------------------------------------

Mutation = tuple[str, int, int, bytes]


def mutate(seed: Signed, mutations: list[Mutation]) -> tuple[list[tuple[str, str]], bytes, str]:
    """The seed's headers (a list: they may repeat), body and request target after ``mutations``."""
    headers = [
        (name, value)
        for name, value in seed.headers.items()
        if name.lower() not in ("host", "content-length")
    ]
    body = seed.body
    target = seed.path + (f"?{seed.query}" if seed.query else "")
    for kind, position, amount, value in mutations:
        if kind == "flip" and body:
            at = position % len(body)
            body = body[:at] + bytes([body[at] ^ (amount % 255 + 1)]) + body[at + 1 :]
        elif kind == "truncate":
            body = body[: position % (len(body) + 1)]
        elif kind == "insert":
            at = position % (len(body) + 1)
            body = body[:at] + value + body[at:]
        elif kind == "replace-number":
            literal = value.replace(b"\\", b"\\\\")  # a replacement template: its backslashes escaped
            body = re.sub(rb"(?<![\w.])\d+(?![\w.])", literal, body, count=1 + amount % 3)
        elif kind == "replace-value":
            body = replace_value(body, amount, value)
        elif kind == "duplicate-header" and headers:
            name, old = headers[position % len(headers)]
            headers.append((name, old if amount % 2 else value.decode("latin-1")))
        elif kind == "drop-header" and headers:
            headers.pop(position % len(headers))
        elif kind == "content-type":
            headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
            headers.append(("Content-Type", CONTENT_TYPES[position % len(CONTENT_TYPES)]))
        elif kind == "huge-header":
            headers.append(("X-Huge", "h" * (1024 * (1 + amount % 128))))
        elif kind == "target" and headers:
            headers = [(n, v) for n, v in headers if n.lower() != "x-amz-target"]
            headers.append(("X-Amz-Target", value.decode("latin-1")))
        elif kind == "query":
            target = target.split("?")[0] + "?" + value.decode("latin-1")
        elif kind == "path":
            target = "/" + value.decode("latin-1").lstrip("/")
    return headers, body, target


_VALUE = re.compile(rb'(:\s*"(?:[^"\\]|\\.)*")|(=[^&]*)|(:\s*-?\d[\d.eE+-]*)')


def replace_value(body: bytes, which: int, value: bytes) -> bytes:
    """The body with its ``which``-th value (modulo their count: a JSON string or number, or a
    form value) replaced by ``value``."""
    found = list(_VALUE.finditer(body))
    if not found:
        return body
    match = found[which % len(found)]
    separator = b"=" if match.group(2) is not None else b":"
    return body[: match.start()] + separator + value + body[match.end() :]


def render(method: str, target: str, headers: list[tuple[str, str]], body: bytes, host: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1", "replace") + body


mutations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "flip",
                "truncate",
                "insert",
                "replace-number",
                "replace-value",
                "duplicate-header",
                "drop-header",
                "content-type",
                "huge-header",
                "target",
                "query",
                "path",
            ]
        ),
        st.integers(min_value=0, max_value=1 << 20),
        st.integers(min_value=0, max_value=1 << 10),
        st.one_of(
            st.sampled_from(NASTY_VALUES),
            st.binary(max_size=64).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
        ),
    ),
    min_size=1,
    max_size=4,
)


def _check(server: RunningServer, failures: _Failures, raw: bytes) -> None:
    response = exchange(server.port, raw)
    status = status_of(response)
    assert status is None or status < 500 or status == 503, response[:2000]
    assert b"Traceback" not in response
    assert not failures.take(), raw[:3000]


def _send_mutated(server: RunningServer, failures: _Failures, seed: int, changes: list[Mutation]) -> None:
    """The seed signed by the server's key (any key when it verifies none), mutated and sent."""
    host = f"127.0.0.1:{server.port}"
    request = _capture_cached(server.access_key, host)[seed]
    headers, body, target = mutate(request, changes)
    _check(server, failures, render(request.method, target, headers, body, host))


@given(seed=st.integers(min_value=0, max_value=len(SEEDS) - 1), changes=mutations)
def test_mutated_requests_never_fail_the_server(
    plain: RunningServer, failures: _Failures, seed: int, changes: list[Mutation], cases: Any
) -> None:
    cases["aws server: mutated requests"] += 1
    _send_mutated(plain, failures, seed, changes)


@given(seed=st.integers(min_value=0, max_value=len(SEEDS) - 1), changes=mutations)
def test_mutated_signed_requests_never_fail_a_verifying_server(
    guarded: RunningServer, failures: _Failures, seed: int, changes: list[Mutation], cases: Any
) -> None:
    cases["aws server: mutated signed requests"] += 1
    _send_mutated(guarded, failures, seed, changes)


@given(raw=st.binary(max_size=2048))
def test_random_bytes_never_fail_the_server(
    plain: RunningServer, failures: _Failures, raw: bytes, cases: Any
) -> None:
    cases["aws server: random bytes"] += 1
    _check(plain, failures, raw)


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    target=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=200),
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "X-Amz-Target",
                    "Content-Type",
                    "Authorization",
                    "X-Amz-Date",
                    "Content-Encoding",
                    "Transfer-Encoding",
                    "Expect",
                    "X-Forwarded-Proto",
                    "Date",
                ]
            ),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=200),
        ),
        max_size=5,
    ),
    body=st.binary(max_size=512),
)
def test_random_requests_never_fail_the_server(
    plain: RunningServer,
    failures: _Failures,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    cases: Any,
) -> None:
    cases["aws server: random requests"] += 1
    _check(plain, failures, render(method, "/" + target, headers, body, f"127.0.0.1:{plain.port}"))


_CAPTURED: dict[tuple[tuple[str, str], str], list[Signed]] = {}


def _capture_cached(key: tuple[str, str], host: str) -> list[Signed]:
    """The seeds, signed once per server (botocore takes milliseconds per request to sign)."""
    if (key, host) not in _CAPTURED:
        _CAPTURED[(key, host)] = _capture(key, host)
    return _CAPTURED[(key, host)]


@pytest.mark.parametrize("seed", range(len(SEEDS)), ids=[f"{s}.{o}" for s, o, _ in SEEDS])
def test_every_value_of_every_seed_swapped_for_a_nasty_one(
    plain: RunningServer, failures: _Failures, seed: int
) -> None:
    """Systematic where hypothesis samples: each value position of each seed, each nasty value."""
    host = f"127.0.0.1:{plain.port}"
    request = _capture_cached(("testing", "testing"), host)[seed]
    headers = [(n, v) for n, v in request.headers.items() if n.lower() not in ("host", "content-length")]
    positions = max(1, len(list(_VALUE.finditer(request.body))))
    for which in range(positions):
        for value in NASTY_VALUES:
            body = replace_value(request.body, which, value)
            _check(plain, failures, render(request.method, request.path, headers, body, host))


@pytest.mark.parametrize("which", ["plain", "guarded"])
def test_the_server_still_serves_afterwards(
    which: str, request: pytest.FixtureRequest, failures: _Failures
) -> None:
    server: RunningServer = request.getfixturevalue(which)
    health = exchange(
        server.port, b"GET /_rulebus/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status_of(health) == 200
    assert json.loads(health.split(b"\r\n\r\n", 1)[1])["status"] == "running"
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="after-the-fuzz")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="still here")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == "still here"
    assert not failures.take()
