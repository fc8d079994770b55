"""Event source mappings from SQS queues, as Lambda runs them (docs/functions.md): the batch's
shape, what success and failure do to the messages, partial batch responses, filter criteria,
FIFO order and the batching window. Driven by ``run_functions()`` on a fake clock, on every
store."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from rulebus import Broker, Queue

RBIF = ["ReportBatchItemFailures"]


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False)


class Recorder:
    """A handler that records each event (and context) and answers with ``reply(event)``."""

    def __init__(self, reply: Callable[[dict[str, Any]], Any] = lambda event: None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.reply = reply

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        return self.reply(event)

    def bodies(self) -> list[list[str]]:
        return [[record["body"] for record in event["Records"]] for event in self.events]


def failing(event: dict[str, Any]) -> Any:
    raise RuntimeError("handler failed")


def states(queue: Queue) -> dict[str, str]:
    return {held.body: held.state for held in queue.peek(100)}


def mapped(broker: Broker, queue: Queue, handler: Recorder, **settings: Any) -> dict[str, Any]:
    broker.function("worker", handler)
    return broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn, **settings)


# ---------------------------------------------------------------------------------- batch shape


def test_the_event_is_lambdas_sqs_event(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(broker, queue, handler)
    sent = queue.send(
        '{"id": 1}',
        message_attributes={
            "kind": {"DataType": "String", "StringValue": "order"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    plain = queue.send("no attributes")
    assert broker.run_functions() == 1
    (event,) = handler.events
    assert list(event) == ["Records"]
    first, second = event["Records"]
    assert set(first) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert first["messageId"] == sent.message_id
    assert first["body"] == '{"id": 1}'
    assert first["md5OfBody"] == sent.md5_of_message_body
    assert first["md5OfMessageAttributes"] == sent.md5_of_message_attributes
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == queue.arn
    assert first["awsRegion"] == broker.region
    assert set(first["attributes"]) >= {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["messageAttributes"] == {
        "kind": {
            "stringValue": "order",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert second["messageId"] == plain.message_id
    assert second["messageAttributes"] == {}
    assert "md5OfMessageAttributes" not in second
    json.dumps(event)  # what a handler gets is JSON, as Lambda's is


def test_fifo_records_carry_group_deduplication_and_sequence(broker: Broker) -> None:
    queue = broker.queue("tx.fifo", content_based_deduplication=True)
    handler = Recorder()
    mapped(broker, queue, handler)
    sent = queue.send("debit", message_group_id="acct-1")
    broker.run_functions()
    attributes = handler.events[0]["Records"][0]["attributes"]
    assert attributes["MessageGroupId"] == "acct-1"
    assert attributes["SequenceNumber"] == sent.sequence_number
    assert attributes["MessageDeduplicationId"]


def test_the_context_names_the_function(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    broker.function("worker", handler, timeout=7, memory_size=256)
    broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    queue.send("x")
    queue.send("y")
    broker.run_functions()
    (context,) = handler.contexts
    assert context.function_name == "worker"
    assert context.invoked_function_arn == f"arn:aws:lambda:{broker.region}:{broker.account}:function:worker"
    assert context.function_arn == context.invoked_function_arn
    assert context.memory_limit_in_mb == 256
    assert context.log_group_name == "/aws/lambda/worker"
    assert context.aws_request_id
    assert 0 < context.get_remaining_time_in_millis() <= 7000


def test_batches_are_at_most_batch_size(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(broker, queue, handler, batch_size=4)
    for number in range(10):
        queue.send(str(number))
    assert broker.run_functions() == 3
    assert [len(bodies) for bodies in handler.bodies()] == [4, 4, 2]
    assert sorted(body for bodies in handler.bodies() for body in bodies) == sorted(str(n) for n in range(10))


def test_a_batch_over_ten_messages_is_received_in_several_calls(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(broker, queue, handler, batch_size=25, maximum_batching_window_in_seconds=1)
    for number in range(25):
        queue.send(str(number))
    assert broker.run_functions() == 1
    assert len(handler.events[0]["Records"]) == 25


# ---------------------------------------------------------------------------------- outcomes


def test_success_deletes_the_batch(broker: Broker) -> None:
    queue = broker.queue("orders")
    mapped(broker, queue, Recorder())
    queue.send("a")
    queue.send("b")
    broker.run_functions()
    assert queue.peek() == []


def test_a_failure_returns_the_batch_after_the_visibility_timeout(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("orders", visibility_timeout=30)
    handler = Recorder(failing)
    mapped(broker, queue, handler)
    queue.send("a")
    queue.send("b")
    assert broker.run_functions() == 1
    assert states(queue) == {"a": "in flight", "b": "in flight"}
    assert broker.run_functions() == 0  # hidden until the visibility timeout ends
    clock.advance(31)
    assert states(queue) == {"a": "visible", "b": "visible"}
    assert broker.run_functions() == 1
    assert [record["attributes"]["ApproximateReceiveCount"] for record in handler.events[1]["Records"]] == [
        "2",
        "2",
    ]
    mapping = broker.list_event_source_mappings()[0]
    assert mapping["last_processing_result"] == "PROBLEM: Function call failed"


def test_the_redrive_policy_moves_a_failing_message_to_the_dlq(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("orders-dlq")
    queue = broker.queue(
        "orders", visibility_timeout=30, redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2}
    )
    handler = Recorder(failing)
    mapped(broker, queue, handler)
    queue.send("poison")
    for _ in range(3):
        broker.run_functions()
        clock.advance(31)
    assert len(handler.events) == 2  # maxReceiveCount receives, then the queue moves it
    assert queue.peek() == []
    assert [held.body for held in dlq.peek()] == ["poison"]


# ---------------------------------------------------------------------------------- partial batch responses


def _fail_ids(*bodies: str) -> Callable[[dict[str, Any]], Any]:
    def reply(event: dict[str, Any]) -> Any:
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]}
                for record in event["Records"]
                if record["body"] in bodies
            ]
        }

    return reply


def test_batch_item_failures_return_only_those_messages(broker: Broker) -> None:
    queue = broker.queue("orders")
    mapped(broker, queue, Recorder(_fail_ids("b")), function_response_types=RBIF)
    for body in "abc":
        queue.send(body)
    broker.run_functions()
    assert states(queue) == {"b": "in flight"}


def test_batch_item_failures_are_ignored_without_the_response_type(broker: Broker) -> None:
    queue = broker.queue("orders")
    mapped(broker, queue, Recorder(_fail_ids("b")))
    for body in "abc":
        queue.send(body)
    broker.run_functions()
    assert queue.peek() == []


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "x"}]},
        {"batchItemFailures": ["x"]},
        {"batchItemFailures": "x"},
        "not an event response",
    ],
)
def test_an_unreadable_response_fails_the_whole_batch(broker: Broker, response: Any) -> None:
    queue = broker.queue("orders")
    mapped(broker, queue, Recorder(lambda event: response), function_response_types=RBIF)
    for body in "abc":
        queue.send(body)
    broker.run_functions()
    assert states(queue) == {"a": "in flight", "b": "in flight", "c": "in flight"}


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_response_is_full_success(broker: Broker, response: Any) -> None:
    queue = broker.queue("orders")
    mapped(broker, queue, Recorder(lambda event: response), function_response_types=RBIF)
    for body in "abc":
        queue.send(body)
    broker.run_functions()
    assert queue.peek() == []


# ---------------------------------------------------------------------------------- FIFO


def test_fifo_groups_stop_at_their_first_failure(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("tx.fifo", content_based_deduplication=True, visibility_timeout=30)
    first_call = True

    def reply(event: dict[str, Any]) -> Any:
        nonlocal first_call
        if not first_call:
            return None
        first_call = False
        return _fail_ids("a2")(event)

    handler = Recorder(reply)
    mapped(broker, queue, handler, function_response_types=RBIF)
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a"), ("b2", "b")]:
        queue.send(body, message_group_id=group)
    broker.run_functions()
    (bodies,) = handler.bodies()
    assert [body for body in bodies if body[0] == "a"] == ["a1", "a2", "a3"]  # each group in order
    assert [body for body in bodies if body[0] == "b"] == ["b1", "b2"]
    # a3 follows the failed a2 in group a: it comes back with it; group b went on.
    assert states(queue) == {"a2": "in flight", "a3": "in flight"}
    clock.advance(31)
    broker.run_functions()
    assert handler.bodies()[1:] == [["a2", "a3"]]
    assert queue.peek() == []


# ---------------------------------------------------------------------------------- filters


def test_filter_criteria_on_the_json_body(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(
        broker,
        queue,
        handler,
        filter_criteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]},
    )
    queue.send('{"kind": "order", "id": 1}')
    queue.send('{"kind": "refund", "id": 2}')
    queue.send("kind order")
    broker.run_functions()
    assert handler.bodies() == [['{"kind": "order", "id": 1}']]
    assert queue.peek() == []  # records matching no filter are deleted, as Lambda does


def test_filter_criteria_on_a_plain_body_and_on_attributes(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(
        broker,
        queue,
        handler,
        filter_criteria={
            "Filters": [
                {"Pattern": json.dumps({"body": [{"prefix": "urgent"}]})},
                {"Pattern": json.dumps({"messageAttributes": {"kind": {"stringValue": ["vip"]}}})},
            ]
        },
    )
    queue.send("urgent: call back")
    queue.send("later")
    queue.send("later", message_attributes={"kind": {"DataType": "String", "StringValue": "vip"}})
    broker.run_functions()
    assert handler.bodies() == [["urgent: call back", "later"]]
    assert handler.events[0]["Records"][1]["messageAttributes"]["kind"]["stringValue"] == "vip"


def test_a_batch_filtered_out_entirely_invokes_nothing(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(broker, queue, handler, filter_criteria={"Filters": [{"Pattern": '{"body": ["wanted"]}'}]})
    queue.send("unwanted")
    broker.run_functions()
    assert handler.events == []
    assert queue.peek() == []


# ---------------------------------------------------------------------------------- batching window


def test_the_batching_window_gathers_until_full_or_over(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(broker, queue, handler, batch_size=20, maximum_batching_window_in_seconds=5)
    for body in "abc":
        queue.send(body)
    assert broker.run_functions() == 0
    assert states(queue) == {"a": "visible", "b": "visible", "c": "visible"}
    clock.advance(5)
    assert broker.run_functions() == 1
    assert handler.bodies() == [["a", "b", "c"]]


# ---------------------------------------------------------------------------------- settings


def test_a_disabled_mapping_invokes_nothing_until_enabled(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapping = mapped(broker, queue, handler, enabled=False)
    assert mapping["state"] == "Disabled"
    queue.send("a")
    assert broker.run_functions() == 0
    assert broker.update_event_source_mapping(mapping["uuid"], enabled=True)["state"] == "Enabled"
    assert broker.run_functions() == 1
    assert handler.bodies() == [["a"]]


def test_a_deleted_mapping_invokes_nothing(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapping = mapped(broker, queue, handler)
    assert broker.delete_event_source_mapping(mapping["uuid"])["state"] == "Deleting"
    queue.send("a")
    assert broker.run_functions() == 0
    assert broker.list_event_source_mappings() == []


def test_a_function_with_no_reserved_concurrency_is_never_invoked(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    broker.function("worker", handler, reserved_concurrency=0)
    broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    queue.send("a")
    assert broker.run_functions() == 0
    assert states(queue) == {"a": "visible"}
    assert broker.wait_until_idle(timeout=0) is False


def test_a_mapping_of_a_deleted_function_waits_for_it(broker: Broker) -> None:
    queue = broker.queue("orders")
    mapped(broker, queue, Recorder())
    broker.delete_function("worker")
    queue.send("a")
    assert broker.run_functions() == 0
    assert len(broker.list_event_source_mappings()) == 1
    handler = Recorder()
    broker.function("worker", handler)
    assert broker.run_functions() == 1
    assert handler.bodies() == [["a"]]


def test_wait_until_idle_without_the_pool_runs_the_work(broker: Broker) -> None:
    queue = broker.queue("orders")
    handler = Recorder()
    mapped(broker, queue, handler, batch_size=1)
    for body in "ab":
        queue.send(body)
    assert broker.wait_until_idle() is True
    assert handler.bodies() == [["a"], ["b"]]
