"""The workloads and endpoints that benches/compare_wire.py measures (issue 13): boto3 unchanged,
answered by rulebus, by moto, or by a canned answer (boto3's own ceiling).

A workload drives boto3 clients through one AWS pattern and counts what the answers say went
through; with a stateful endpoint (rulebus, moto) it also checks the state afterwards (queue
depths), so that a message lost or duplicated fails the run. Three workloads:

- ``sqs``: send_message_batch of 10, receive_message (up to 10) until the batch is back,
  delete_message_batch of their handles; a figure is messages/s over the whole cycle;
- ``sns``: publish, one by one, to a topic with 10 SQS subscriptions whose filter policies let
  each message through to 2 of them; publishes/s;
- ``events``: put_events in batches of 10 on the default bus through 100 rules, each with an SQS
  target, each event matching one rule; events/s.

The canned answers are rulebus's own responses to the same calls, recorded once (status, headers
and body) and replayed for every call of that operation: the same bytes for botocore to parse,
and no work behind them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# The same 200-byte bodies and event entries as the messaging and bus benchmarks.
from compare_bus import entries
from messaging_cases import BATCH, body, send_batches

SUBSCRIPTIONS = 10
GROUPS = 5  # subscription i wants group i % 5 and message k is group k % 5: 2 of 10 get each
RULES = 100
MAX_RECEIVES = 5  # receives per batch before the harness calls a message lost
REGION = "us-east-1"

# Where a canned endpoint is told to send (it keeps no state: any well-formed name does).
CANNED_QUEUE_URL = "http://localhost/000000000000/bench"
CANNED_TOPIC_ARN = f"arn:aws:sns:{REGION}:000000000000:bench"

Entry = dict[str, Any]
MakeClient = Callable[[str], Any]


def event_batches(n: int) -> list[list[Entry]]:
    """n events in batches of 10; event k names customer k mod 100, so it matches rule k mod 100."""
    return entries(n, RULES)


def expected_depths(n: int) -> list[int]:
    """What each subscribed queue holds after n publishes of groups 0, 1, 2, ... in turn."""
    per_group = [len(range(g, n, GROUPS)) for g in range(GROUPS)]
    return [per_group[i % GROUPS] for i in range(SUBSCRIPTIONS)]


@dataclass
class Tally:
    """What the answers said went through: sent (accepted), received, deleted."""

    sent: int = 0
    received: int = 0
    deleted: int = 0


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


def _depth(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or in flight."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(value) for value in shown.values())


class Workload(Protocol):
    name: str
    unit: str

    def prepare(self) -> None: ...
    def run(self, n: int) -> Tally: ...
    def problem(self, n: int, tally: Tally, stateful: bool) -> str | None: ...


class SqsCycle:
    """send_message_batch of 10, receive_message 10 at a time, delete_message_batch of 10."""

    name = "sqs"
    unit = "messages"
    title = "SQS send_message_batch / receive_message (10) / delete_message_batch, in batches of 10"

    def __init__(self, client: MakeClient) -> None:
        self.sqs = client("sqs")
        self.url = CANNED_QUEUE_URL

    def prepare(self) -> None:
        self.url = self.sqs.create_queue(QueueName="bench")["QueueUrl"]

    def run(self, n: int) -> Tally:
        tally = Tally()
        sqs, url = self.sqs, self.url
        for batch in send_batches(n):
            tally.sent += len(sqs.send_message_batch(QueueUrl=url, Entries=batch)["Successful"])
            handles: list[str] = []
            for _ in range(MAX_RECEIVES):
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH).get("Messages", [])
                handles += [m["ReceiptHandle"] for m in got]
                if len(handles) >= len(batch):
                    break
            tally.received += len(handles)
            if handles:
                entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
                tally.deleted += len(sqs.delete_message_batch(QueueUrl=url, Entries=entries)["Successful"])
        return tally

    def problem(self, n: int, tally: Tally, stateful: bool) -> str | None:
        left = _depth(self.sqs, self.url) if stateful else 0
        if tally.sent == tally.received == tally.deleted == n and left == 0:
            return None
        return f"sent {tally.sent}, received {tally.received}, deleted {tally.deleted}, left {left} of {n}"


class SnsFanout:
    """publish, one by one, to a topic with 10 filtered SQS subscriptions (2 match each)."""

    name = "sns"
    unit = "publishes"
    title = (
        f"SNS publish, one by one, to a topic with {SUBSCRIPTIONS} SQS subscriptions with filter "
        f"policies ({SUBSCRIPTIONS // GROUPS} match each message)"
    )

    def __init__(self, client: MakeClient) -> None:
        self.sns = client("sns")
        self.sqs = client("sqs")
        self.topic_arn = CANNED_TOPIC_ARN
        self.urls: list[str] = []

    def prepare(self) -> None:
        self.topic_arn = self.sns.create_topic(Name="bench")["TopicArn"]
        for i in range(SUBSCRIPTIONS):
            url = self.sqs.create_queue(QueueName=f"sub-{i:02d}")["QueueUrl"]
            self.sns.subscribe(
                TopicArn=self.topic_arn,
                Protocol="sqs",
                Endpoint=_queue_arn(self.sqs, url),
                Attributes={"FilterPolicy": json.dumps({"group": [str(i % GROUPS)]})},
            )
            self.urls.append(url)

    def run(self, n: int) -> Tally:
        tally = Tally()
        publish, arn = self.sns.publish, self.topic_arn
        for k in range(n):
            attributes = {"group": {"DataType": "String", "StringValue": str(k % GROUPS)}}
            if publish(TopicArn=arn, Message=body(k), MessageAttributes=attributes).get("MessageId"):
                tally.sent += 1
        return tally

    def problem(self, n: int, tally: Tally, stateful: bool) -> str | None:
        if tally.sent != n:
            return f"{tally.sent} of {n} publishes answered with a MessageId"
        if stateful:
            depths = [_depth(self.sqs, url) for url in self.urls]
            if depths != expected_depths(n):
                return f"queue depths {depths}, want {expected_depths(n)}"
        return None


class EventsFanout:
    """put_events in batches of 10 on the default bus, through 100 rules with SQS targets."""

    name = "events"
    unit = "events"
    title = f"EventBridge put_events in batches of 10 through {RULES} rules on the default bus, SQS targets"

    def __init__(self, client: MakeClient) -> None:
        self.events = client("events")
        self.sqs = client("sqs")
        self.url = CANNED_QUEUE_URL

    def prepare(self) -> None:
        self.url = self.sqs.create_queue(QueueName="sink")["QueueUrl"]
        arn = _queue_arn(self.sqs, self.url)
        for i in range(RULES):
            pattern = {"source": ["com.shop"], "detail": {"customer": [f"c-{i}"]}}
            self.events.put_rule(Name=f"r{i}", EventPattern=json.dumps(pattern))
            self.events.put_targets(Rule=f"r{i}", Targets=[{"Id": "q", "Arn": arn}])

    def run(self, n: int) -> Tally:
        tally = Tally()
        put = self.events.put_events
        for batch in event_batches(n):
            answer = put(Entries=batch)
            tally.sent += sum(1 for entry in answer["Entries"] if "EventId" in entry)
        return tally

    def problem(self, n: int, tally: Tally, stateful: bool) -> str | None:
        if tally.sent != n:
            return f"{tally.sent} of {n} events accepted"
        if stateful:
            depth = _depth(self.sqs, self.url)
            if depth != n:
                return f"the target queue holds {depth} of {n} events"
        return None


WORKLOADS: dict[str, Callable[[MakeClient], Workload]] = {
    "sqs": SqsCycle,
    "sns": SnsFanout,
    "events": EventsFanout,
}


# --------------------------------------------------------------------------------------------
# Clients and endpoints.


def client_maker(endpoint_url: str | None = None) -> MakeClient:
    """boto3 clients of a fresh session (no handlers left from other endpoints), fake keys."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def make(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    return make


def hooked_client_maker(before_send: Callable[..., Any]) -> MakeClient:
    """``client_maker()``'s clients with ``before_send`` registered on each (a canned answer)."""
    make = client_maker()

    def hooked(service: str) -> Any:
        made = make(service)
        made.meta.events.register("before-send", before_send)
        return made

    return hooked


def moto_missing() -> str | None:
    """Why moto (in process) cannot run here, or None."""
    try:
        import moto  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def moto_server_missing() -> str | None:
    """Why moto_server cannot run here, or None (``moto[server]`` brings flask)."""
    try:
        import flask  # noqa: F401
        import flask_cors  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


# A recorded answer: (status, headers, body).
Canned = dict[str, tuple[int, dict[str, str], bytes]]


def record_answers(sizes: int = BATCH) -> Canned:
    """rulebus's answers to every operation the workloads time, by operation name, recorded
    from a small run of each workload under ``rulebus.mock_aws``."""
    from rulebus import mock_aws

    answers: Canned = {}

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        headers = {name: value for name, value in http_response.headers.items()}
        answers[model.name] = (http_response.status_code, headers, bytes(http_response.content))

    with mock_aws():
        make = client_maker()

        def recording(service: str) -> Any:
            made = make(service)
            made.meta.events.register("after-call", keep)
            return made

        for build in WORKLOADS.values():
            workload = build(recording)
            workload.prepare()
            problem = workload.problem(sizes, workload.run(sizes), stateful=True)
            if problem:
                raise RuntimeError(f"recording the canned answers: {workload.name}: {problem}")
    return answers


def canned_hook(answers: Canned) -> Callable[..., Any]:
    """A botocore ``before-send`` handler answering each operation with its recorded answer."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        """What botocore reads a body from (urllib3's ``stream``)."""

        def __init__(self, data: bytes) -> None:
            self.data = data

        def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
            yield self.data

    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
        status, headers, data = answers[event_name.rsplit(".", 1)[1]]
        return AWSResponse(request.url, status, headers, Raw(data))

    return answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """A server in a subprocess on a free loopback port; ready once it accepts connections."""

    def __init__(self, name: str, command: Callable[[int], list[str]], reset: bool = True) -> None:
        self.name = name
        self.port = free_port()
        self._command = command(self.port)
        self._reset = reset
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open while the server runs; closed by stop)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._process = subprocess.Popen(
            self._command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start: {self.output()}") from None
                time.sleep(0.05)

    def reset(self) -> None:
        """Every resource deleted (both rulebus serve and moto_server take moto's reset)."""
        if self._reset:
            request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


CANNED_SERVER = Path(__file__).resolve().parent / "canned_server.py"


def rulebus_serve(port: int) -> list[str]:
    return [sys.executable, "-m", "rulebus.cli", "serve", "--port", str(port), "--log-level", "warning"]


def moto_serve(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def write_answers(answers: Canned, folder: Path) -> Path:
    """The recorded answers as a JSON file for the canned server."""
    path = folder / "answers.json"
    document = {
        name: {"status": status, "headers": headers, "body": data.decode("utf-8")}
        for name, (status, headers, data) in answers.items()
    }
    path.write_text(json.dumps(document))
    return path


def canned_serve(answers_file: Path, server: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [sys.executable, str(CANNED_SERVER), str(answers_file), str(port), server]

    return command


@contextmanager
def running(servers: list[ServerProcess]) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        yield started
    finally:
        for server in servers:
            server.stop()
