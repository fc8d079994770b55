"""The pool that runs functions in the background: it drains the mappings' queues, honours
ScalingConfig.MaximumConcurrency and reserved concurrency, reports idleness, and lets the
batches it took finish when the broker closes. Threads meet through events, never through
sleeps; the timeouts given are only how long a broken pool may hang the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rulebus import Broker

#: How long a test waits for a thread before failing (never reached when the code works).
PATIENCE = 30.0


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker()


class Gate:
    """A handler that blocks until the test opens the gate, counting how many batches are
    inside at once."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.inside = 0
        self.most_inside = 0
        self.entered = 0
        self.done: list[str] = []
        self.open = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        with self.lock:
            self.inside += 1
            self.entered += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.lock.notify_all()
        assert self.open.wait(PATIENCE)
        with self.lock:
            self.inside -= 1
            self.done.extend(record["body"] for record in event["Records"])

    def wait_entered(self, count: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: self.entered >= count, PATIENCE)


@pytest.fixture
def gate() -> Iterator[Gate]:
    """A gate opened at the end of the test whatever happened (so no handler outlives it)."""
    made = Gate()
    yield made
    made.open.set()


def test_the_pool_drains_the_queue(broker: Broker) -> None:
    queue = broker.queue("orders")
    seen: list[str] = []
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> None:
        with lock:
            seen.extend(record["body"] for record in event["Records"])

    broker.function("worker", handler)
    broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn, batch_size=3)
    for number in range(25):
        queue.send(str(number))
    assert broker.wait_until_idle(timeout=PATIENCE) is True
    assert sorted(seen, key=int) == [str(number) for number in range(25)]
    assert queue.peek() == []


def test_failed_batches_in_flight_leave_the_pool_idle(broker: Broker) -> None:
    queue = broker.queue("orders")

    def handler(event: dict[str, Any], context: Any) -> None:
        raise ValueError("no")

    broker.function("worker", handler)
    broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    queue.send("a")
    assert broker.wait_until_idle(timeout=PATIENCE) is True
    assert [held.state for held in queue.peek()] == ["in flight"]


def test_maximum_concurrency_is_honoured(broker: Broker, gate: Gate) -> None:
    queue = broker.queue("orders")
    broker.function("worker", gate)
    broker.create_event_source_mapping(
        function_name="worker",
        event_source_arn=queue.arn,
        batch_size=1,
        scaling_config={"MaximumConcurrency": 2},
    )
    for number in range(6):
        queue.send(str(number))
    gate.wait_entered(2)
    # While both run, the pool keeps polling: a third batch would be taken now if it could be.
    assert broker.wait_until_idle(timeout=0.3) is False
    assert [held.state for held in queue.peek(10)].count("in flight") == 2
    gate.open.set()
    assert broker.wait_until_idle(timeout=PATIENCE) is True
    assert gate.most_inside == 2
    assert sorted(gate.done) == [str(number) for number in range(6)]


def test_reserved_concurrency_caps_every_mapping_of_the_function(broker: Broker, gate: Gate) -> None:
    first, second = broker.queue("first"), broker.queue("second")
    broker.function("worker", gate, reserved_concurrency=1)
    for queue in (first, second):
        broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn, batch_size=1)
        queue.send(queue.name)
    gate.wait_entered(1)
    assert broker.wait_until_idle(timeout=0.3) is False
    gate.open.set()
    assert broker.wait_until_idle(timeout=PATIENCE) is True
    assert gate.most_inside == 1
    assert sorted(gate.done) == ["first", "second"]


def test_wait_until_idle_times_out_while_work_is_left(broker: Broker) -> None:
    queue = broker.queue("orders")
    broker.function("throttled", lambda event, context: None, reserved_concurrency=0)
    broker.create_event_source_mapping(function_name="throttled", event_source_arn=queue.arn)
    queue.send("a")
    assert broker.wait_until_idle(timeout=0.2) is False
    assert [held.state for held in queue.peek()] == ["visible"]


def test_close_lets_taken_batches_finish(make_broker: Callable[..., Broker], gate: Gate) -> None:
    broker = make_broker()
    queue = broker.queue("orders")
    broker.function("worker", gate)
    broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    queue.send("a")
    gate.wait_entered(1)
    seen_when_closed: list[list[str]] = []

    def close() -> None:
        broker.close()
        seen_when_closed.append(list(gate.done))

    closing = threading.Thread(target=close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive()  # close waits for the batch it took
    gate.open.set()
    closing.join(PATIENCE)
    assert seen_when_closed == [["a"]]
