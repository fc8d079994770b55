"""A Kinesis mapping's checkpoints live in the store (docs/functions.md, "Running functions in a
worker process"): a program that maps the same stream to the same function again, after a
restart, resumes after the last batch done, on every store. A second broker on the same store
object stands for the restarted program."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from rulebus import Broker
from rulebus.functions.kinesis_source import LEASE_SECONDS


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        batch = [base64.b64decode(record["kinesis"]["data"]).decode() for record in event["Records"]]
        self.batches.append(batch)
        if self.fail_on in batch:
            raise RuntimeError(f"cannot take {self.fail_on}")


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False)


def restarted(broker: Broker, clock: FakeClock) -> Broker:
    """The program again, on the same store (left open: the fixture closes it with ``broker``),
    after the first one died: its shard leases ran out, so the new poller takes the shards."""
    clock.advance(LEASE_SECONDS)
    return Broker(store=broker.context.store, clock=clock, background_functions=False)


def program(broker: Broker, handler: Recorder, starting_position: str = "TRIM_HORIZON") -> None:
    broker.function("count", handler)
    broker.create_event_source_mapping(
        function_name="count",
        event_source_arn=broker.stream("clicks").arn,
        starting_position=starting_position,
    )


def put(broker: Broker, *items: str) -> None:
    stream = broker.stream("clicks")
    for item in items:
        stream.put_record(item.encode(), partition_key="k")


def test_a_restarted_program_resumes_after_the_checkpoint(broker: Broker, clock: FakeClock) -> None:
    first = Recorder()
    program(broker, first)
    put(broker, "a", "b")
    broker.run_functions()
    assert first.batches == [["a", "b"]]
    again = restarted(broker, clock)
    second = Recorder()
    program(again, second)
    put(again, "c")
    again.run_functions()
    assert second.batches == [["c"]]


def test_latest_keeps_the_records_put_while_no_program_ran(broker: Broker, clock: FakeClock) -> None:
    put(broker, "before")
    first = Recorder()
    program(broker, first, "LATEST")
    broker.run_functions()
    assert first.batches == []
    put(broker, "while-down")
    clock.advance(60)
    again = restarted(broker, clock)
    second = Recorder()
    program(again, second, "LATEST")
    again.run_functions()
    assert second.batches == [["while-down"]]


def test_a_failed_batch_is_not_checkpointed(broker: Broker, clock: FakeClock) -> None:
    first = Recorder(fail_on="b")
    program(broker, first)
    put(broker, "a")
    broker.run_functions()
    put(broker, "b")
    broker.run_functions()
    assert first.batches == [["a"], ["b"]]
    again = restarted(broker, clock)
    second = Recorder()
    program(again, second)
    again.run_functions()
    assert second.batches == [["b"]]  # at-least-once: the failed batch again, "a" not


def test_each_function_has_its_own_checkpoints(broker: Broker, clock: FakeClock) -> None:
    first = Recorder()
    program(broker, first)
    put(broker, "a")
    broker.run_functions()
    other = Recorder()
    broker.function("other", other)
    broker.create_event_source_mapping(
        function_name="other", event_source_arn=broker.stream("clicks").arn, starting_position="TRIM_HORIZON"
    )
    broker.run_functions()
    assert other.batches == [["a"]]
