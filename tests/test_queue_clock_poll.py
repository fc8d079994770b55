"""A long poll on a clock that sleeps (a test's fake clock with ``sleep``): the wait passes on that
clock, so a test never waits in real time, and what becomes visible within the wait is received
when AWS would hand it over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import boto3
from helpers.fake_clock import FakeClock
from rulebus import Broker, mock_aws
from rulebus.aio import AsyncBroker


class SleepingClock(FakeClock):
    """A fake clock whose ``sleep`` moves it (what rulebus looks for)."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


def test_an_empty_long_poll_spends_its_wait_on_the_clock(make_broker: Callable[..., Broker]) -> None:
    clock = SleepingClock()
    queue = make_broker(clock=clock).queue("quiet")
    start = clock.now
    assert queue.receive(wait_seconds=20) == []
    assert clock.now - start == 20


def test_a_delayed_message_arrives_within_the_wait_on_time(make_broker: Callable[..., Broker]) -> None:
    clock = SleepingClock()
    queue = make_broker(clock=clock).queue("later")
    queue.send("soon", delay_seconds=5)
    start = clock.now
    (message,) = queue.receive(wait_seconds=20)
    assert message.body == "soon"
    assert clock.now - start == 5  # handed over when it became visible, not at the wait's end


def test_a_short_poll_never_sleeps(make_broker: Callable[..., Broker]) -> None:
    clock = SleepingClock()
    queue = make_broker(clock=clock).queue("short")
    assert queue.receive(wait_seconds=0) == []
    assert clock.slept == []


def test_the_async_long_poll_uses_the_clock_too() -> None:
    clock = SleepingClock()

    async def scenario() -> float:
        async with AsyncBroker(clock=clock) as broker:
            queue = await broker.queue("async-later")
            await queue.send("soon", delay_seconds=3)
            start = clock.now
            (message,) = await queue.receive(wait_seconds=20)
            assert message.body == "soon"
            return clock.now - start

    assert asyncio.run(scenario()) == 3


def test_mock_aws_with_a_sleeping_clock_ends_long_polls() -> None:
    clock = SleepingClock()
    with mock_aws(clock=clock):
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="boto")["QueueUrl"]
        start = clock.now
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        assert clock.now - start == 20
        sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=7)
        start = clock.now
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"]
        assert [m["Body"] for m in messages] == ["delayed"]
        assert clock.now - start == 7
