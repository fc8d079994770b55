"""Asynchronous invocations wait in the store, in each function's event queue (docs/functions.md,
"Asynchronous invocation"): they outlive the process that published them, any broker on the
store that registered the function runs them, a publisher whose broker lacks the function hands
them over when some process registered it, and the queues stay out of every queue listing."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.aws_wire import Wire
from helpers.fake_clock import FakeClock
from helpers.recording_handler import Handler
from helpers.worker_process import Worker, wait_for
from rulebus import Broker
from rulebus._errors import AwsError

#: The stores where a second broker opens the first one's state (memory: a fresh store each).
SHARED = ("sqlite", "redis")


class Crash(BaseException):
    """What a process dying in the middle of a handler looks like to the code that called it."""


@pytest.fixture
def make(make_broker: Callable[..., Broker]) -> Callable[[], Broker]:
    return lambda: make_broker(background_functions=False, background_retries=False)


@pytest.fixture
def shared(request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params["make_broker"] not in SHARED:
        pytest.skip("each broker on this store has a store of its own")


def route_to(broker: Broker, arn: str) -> Any:
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    bus.put_targets("orders", [{"Id": "function", "Arn": arn}])
    return bus


def put_order(bus: Any, order: int = 7) -> None:
    result = bus.put_events(
        [{"Source": "com.shop", "DetailType": "Order Placed", "Detail": json.dumps({"id": order})}]
    )
    assert result["FailedEntryCount"] == 0


def function_arn(broker: Broker, name: str) -> str:
    return f"arn:aws:lambda:{broker.region}:{broker.account}:function:{name}"


def test_an_event_waits_in_the_store_for_the_next_broker(make: Callable[[], Broker], shared: None) -> None:
    first = make()
    before = Handler()
    put_order(route_to(first, first.function("on-order", before).arn))
    first.close()  # the publisher's process ends before the event ran
    after = Handler()
    second = make()
    second.function("on-order", after)
    assert second.run_functions() == 1
    assert before.events == []
    (event,) = after.events
    assert event["detail"] == {"id": 7}
    assert second.run_functions() == 0  # run once, then gone


def test_a_publisher_without_the_function_hands_its_events_over(
    make: Callable[[], Broker], shared: None
) -> None:
    handler = Handler()
    runner = make()
    runner.function("notify", handler)
    publisher = make()  # registers no function: it knows "notify" from the store
    arn = function_arn(publisher, "notify")
    topic = publisher.topic("alerts")
    subscription = topic.subscribe(arn)
    topic.publish("disk full")
    put_order(route_to(publisher, arn))
    assert subscription.delivered_count == 1
    assert publisher.run_functions() == 0  # the publisher has no handler to run
    assert runner.run_functions() == 2
    messages = sorted(event["Records"][0]["Sns"]["Message"] for event in handler.events if "Records" in event)
    orders = [event["detail"] for event in handler.events if "detail" in event]
    assert (messages, orders) == (["disk full"], [{"id": 7}])
    assert runner.metrics()["AWS/Lambda"]["FunctionName=notify"]["AsyncEventsReceived"] == 2


def test_retries_go_on_in_another_broker(make: Callable[[], Broker], shared: None, clock: FakeClock) -> None:
    first = make()
    failures = first.queue("failures")
    failing = Handler(fail=True)
    put_order(route_to(first, first.function("on-order", failing, on_failure=failures.arn).arn))
    assert first.run_functions() == 1
    first.close()
    second = make()
    again = Handler(fail=True)
    second.function("on-order", again, on_failure=failures.arn)
    assert second.run_functions() == 0  # the retry still waits its minute
    clock.advance(60)
    assert second.run_functions() == 1
    clock.advance(119)
    assert second.run_functions() == 0
    clock.advance(1)
    assert second.run_functions() == 1
    assert (len(failing.events), len(again.events)) == (1, 2)
    (message,) = second.queue("failures").receive(10)
    record = json.loads(message.body)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == failing.events[0]
    assert record["responsePayload"] == {"errorMessage": "boom", "errorType": "ValueError"}


def test_a_function_another_broker_deleted_is_said_once(
    make: Callable[[], Broker], shared: None, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = make()
    keeper.function("on-order", Handler())
    deleter = make()
    deleter.function("on-order", Handler())
    deleter.delete_function("on-order")  # its event queue goes, for every broker
    with caplog.at_level(logging.WARNING, logger="rulebus.functions"):
        for _ in range(3):
            assert keeper.run_functions() == 0
    assert [record.getMessage() for record in caplog.records] == [
        "function on-order: cannot take events from its event queue: The specified queue does not exist."
    ]
    with pytest.raises(AwsError) as gone:
        keeper.function_runtime.invoke_async("on-order", {})
    assert gone.value.code == "ResourceNotFoundException"


def test_an_event_a_dead_process_was_running_comes_back(make: Callable[[], Broker], clock: FakeClock) -> None:
    broker = make()
    seen: list[Any] = []

    def dies_once(event: Any, context: Any) -> None:
        seen.append(event)
        if len(seen) == 1:
            raise Crash

    function = broker.function("on-order", dies_once, timeout=5)
    put_order(route_to(broker, function.arn))
    with pytest.raises(Crash):
        broker.run_functions()
    assert broker.run_functions() == 0  # hidden while the (dead) process might still run it
    clock.advance(6 * 5)  # six times the timeout: Lambda's advice for a queue's visibility
    assert broker.run_functions() == 1
    assert len(seen) == 2 and seen[0] == seen[1]


def test_a_throttled_event_waits_until_it_is_too_old(make: Callable[[], Broker], clock: FakeClock) -> None:
    broker = make()
    failures = broker.queue("failures")
    handler = Handler()
    function = broker.function(
        "paused", handler, reserved_concurrency=0, maximum_event_age_in_seconds=60, on_failure=failures
    )
    put_order(route_to(broker, function.arn))
    for _ in range(3):
        assert broker.run_functions() == 0
        clock.advance(21)  # 63 s in all: older than 60
    assert broker.run_functions() == 0
    assert handler.events == []
    assert broker.metrics()["AWS/Lambda"]["FunctionName=paused"]["Throttles"] == 1
    record = json.loads(failures.receive(10)[0].body)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0


def test_deleting_a_function_deletes_the_events_waiting_for_it(make: Callable[[], Broker]) -> None:
    broker = make()
    dlq = broker.queue("rule-dlq")
    handler = Handler()
    broker.function("on-order", handler)
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    arn = function_arn(broker, "on-order")
    bus.put_targets("orders", [{"Id": "f", "Arn": arn, "DeadLetterConfig": {"Arn": dlq.arn}}])
    put_order(bus, 1)
    broker.delete_function("on-order")
    put_order(bus, 2)  # the function is gone: the delivery fails to the rule's DLQ
    (message,) = dlq.receive(10, message_attribute_names=["All"])
    assert message.message_attributes["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"
    broker.function("on-order", handler)
    assert broker.run_functions() == 0
    assert handler.events == []


def test_the_event_queues_are_in_no_listing(make: Callable[[], Broker]) -> None:
    broker = make()
    broker.queue("jobs")
    function = broker.function("on-order", Handler())
    put_order(route_to(broker, function.arn))
    assert [queue.name for queue in broker.queues()] == ["jobs"]
    assert list(broker.metrics()["AWS/SQS"]) == ["QueueName=jobs"]
    assert [url.rsplit("/", 1)[1] for url in Wire(broker).sqs("ListQueues")["QueueUrls"]] == ["jobs"]
    with pytest.raises(AwsError) as missing:
        broker.get_queue("lambda:async:on-order")
    assert missing.value.code == "QueueDoesNotExist"
    with pytest.raises(AwsError):
        broker.queue("lambda:async:on-order")
    assert broker.run_functions() == 1


def test_an_event_json_cannot_carry_is_refused(make: Callable[[], Broker]) -> None:
    broker = make()
    broker.function("on-order", Handler())
    with pytest.raises(AwsError) as refused:
        broker.function_runtime.invoke_async("on-order", {"when": object()})
    assert refused.value.code == "InvalidRequestContentException"
    assert broker.run_functions() == 0


# ------------------------------------------------------------------ real processes

#: The worker's program: one function that reports each event it gets to the queue "done".
APP = textwrap.dedent(
    """
    import json
    from pathlib import Path

    import rulebus

    broker = rulebus.Broker(Path(__file__).parent / "app.db", background_functions=False)
    done = broker.queue("done")

    @broker.function("record")
    def record(event, context):
        if "Records" in event:
            done.send("sns:" + event["Records"][0]["Sns"]["Message"])
        else:
            done.send("bus:" + str(event["detail"]["n"]))
    """
)

#: The publisher's program: no function of its own; a topic subscription and a bus rule name the
#: worker's function by ARN, then it publishes N notifications and N events.
PUBLISHER = textwrap.dedent(
    """
    import json, sys
    import rulebus

    count = int(sys.argv[1])
    broker = rulebus.Broker("app.db")
    arn = f"arn:aws:lambda:{broker.region}:{broker.account}:function:record"
    topic = broker.topic("alerts")
    subscription = topic.subscribe(arn)
    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    bus.put_targets("orders", [{"Id": "record", "Arn": arn}])
    for n in range(count):
        topic.publish(f"alert-{n}")
        entry = {"Source": "com.shop", "DetailType": "Order", "Detail": json.dumps({"n": n})}
        result = bus.put_events([entry])
        assert result["FailedEntryCount"] == 0, result
    assert subscription.delivered_count == count, subscription.delivered_count
    broker.close()
    """
)


def test_a_worker_process_runs_what_another_process_published(tmp_path: Path, workers: list[Worker]) -> None:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "publisher.py").write_text(PUBLISHER)
    workers.append(worker := Worker(tmp_path, "--workers", "4"))
    count = 25
    subprocess.run([sys.executable, "publisher.py", str(count)], cwd=tmp_path, check=True, timeout=120)
    broker = Broker(tmp_path / "app.db", background_functions=False)
    try:
        done = broker.queue("done")
        reported: list[str] = []

        def everything_reported() -> bool:
            for message in done.receive(max_messages=10):
                reported.append(message.body)
                done.delete(message.receipt_handle)
            return len(reported) >= 2 * count

        wait_for(everything_reported, "the worker to run every event")
        assert worker.stop() == 0
        everything_reported()  # anything a duplicate run sent after the wait ended
        expected = [f"sns:alert-{n}" for n in range(count)] + [f"bus:{n}" for n in range(count)]
        assert sorted(reported) == sorted(expected)  # each exactly once
    finally:
        broker.close()
