"""SQS message move tasks (dead-letter queue redrive; SQS API Reference) on both stores.

The brokers here run no background threads: the tests step the tasks with
``broker.run_message_move_tasks()`` after moving the fake clock, so every count is deterministic.
Two tests use the real background threads and a real clock; they wait for a state, never assert
how long anything took.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import START, FakeClock
from rulebus import AwsError, Broker
from rulebus.sqs import move_task
from rulebus.sqs.move_task import decode_task_handle, encode_task_handle
from rulebus.sqs.queue import Queue


@pytest.fixture
def make_broker(make_broker: Callable[..., Broker]) -> Callable[..., Broker]:
    """The shared factory, with move tasks stepped by hand (run_message_move_tasks)."""
    return functools.partial(make_broker, background_move_tasks=False)


def dead_letter(broker: Broker, clock: FakeClock, source: Queue, bodies: list[str], **send: Any) -> None:
    """Send ``bodies`` to ``source`` (maxReceiveCount 1) and receive each twice, so they move."""
    for body in bodies:
        source.send(body, **send)
    while source.receive(max_messages=10, visibility_timeout=0):
        pass
    assert source.receive() == []


def pipeline(broker: Broker, clock: FakeClock, count: int) -> tuple[Queue, Queue]:
    """A source queue, its DLQ holding ``count`` dead-lettered messages."""
    dlq = broker.queue("orders-dlq")
    source = broker.queue("orders", redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    dead_letter(broker, clock, source, [f"m{i}" for i in range(count)])
    return source, dlq


def bodies(queue: Queue) -> list[str]:
    return sorted(m.body for m in queue.receive(max_messages=10))


def only_task(broker: Broker, source: Queue) -> dict[str, Any]:
    (task,) = broker.list_message_move_tasks(source)
    return task


# ------------------------------------------------------------------------------------------
# Moving.


def test_moved_messages_are_new_messages_on_the_destination(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("dlq")
    source = broker.queue("src", redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    attributes = {"k": {"DataType": "String", "StringValue": "v"}}
    sent = source.send("poison", message_attributes=attributes)
    assert len(source.receive(visibility_timeout=0)) == 1
    assert source.receive() == []  # a second receive would exceed maxReceiveCount: moved
    destination = broker.queue("retry")
    clock.advance(100)
    handle = broker.start_message_move_task(dlq.arn, destination_arn=destination.arn)
    broker.run_message_move_tasks()
    (moved,) = destination.receive(attribute_names=["All"], message_attribute_names=["All"])
    assert moved.body == "poison"
    assert moved.message_id != sent.message_id
    assert moved.attributes["SentTimestamp"] == str(int((START + 100) * 1000))
    assert moved.attributes["ApproximateReceiveCount"] == "1"
    assert "DeadLetterQueueSourceArn" not in moved.attributes
    assert moved.message_attributes == attributes
    assert moved.md5_of_message_attributes == sent.md5_of_message_attributes
    assert dlq.receive() == []
    assert broker.list_message_move_tasks(dlq) == [
        {
            "SourceArn": dlq.arn,
            "DestinationArn": destination.arn,
            "Status": "COMPLETED",
            "StartedTimestamp": int((START + 100) * 1000),
            "ApproximateNumberOfMessagesMoved": 1,
            "ApproximateNumberOfMessagesToMove": 1,
        }
    ]
    assert decode_task_handle(handle)[1] == dlq.arn


def test_without_destination_each_message_returns_to_its_source(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("dlq")
    policy = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}
    first = broker.queue("first", redrive_policy=policy)
    second = broker.queue("second", redrive_policy=policy)
    dead_letter(broker, clock, first, ["a1", "a2"])
    dead_letter(broker, clock, second, ["b1"])
    broker.start_message_move_task(dlq)
    task = only_task(broker, dlq)
    assert (task["Status"], task["ApproximateNumberOfMessagesToMove"]) == ("RUNNING", 3)
    assert "DestinationArn" not in task and "MaxNumberOfMessagesPerSecond" not in task
    broker.run_message_move_tasks()
    assert bodies(first) == ["a1", "a2"]
    assert bodies(second) == ["b1"]
    task = only_task(broker, dlq)
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 3)
    assert "TaskHandle" not in task


def test_rate_limit_follows_the_broker_clock(broker: Broker, clock: FakeClock) -> None:
    source, dlq = pipeline(broker, clock, 5)
    broker.start_message_move_task(dlq, destination_arn=source, max_number_of_messages_per_second=2)
    moved = []
    for _ in range(3):
        broker.run_message_move_tasks()
        broker.run_message_move_tasks()  # the same second: nothing more
        moved.append(only_task(broker, dlq)["ApproximateNumberOfMessagesMoved"])
        clock.advance(1)
    assert moved == [2, 4, 5]
    task = only_task(broker, dlq)
    assert (task["Status"], task["MaxNumberOfMessagesPerSecond"]) == ("COMPLETED", 2)
    assert bodies(source) == ["m0", "m1", "m2", "m3", "m4"]


def test_default_rate_applies_without_a_maximum(
    broker: Broker, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(move_task, "DEFAULT_MESSAGES_PER_SECOND", 3)
    source, dlq = pipeline(broker, clock, 4)
    broker.start_message_move_task(dlq, destination_arn=source)
    broker.run_message_move_tasks()
    assert only_task(broker, dlq)["ApproximateNumberOfMessagesMoved"] == 3
    clock.advance(1)
    broker.run_message_move_tasks()
    assert only_task(broker, dlq)["Status"] == "COMPLETED"


def test_messages_arriving_after_the_start_are_not_moved(broker: Broker, clock: FakeClock) -> None:
    source, dlq = pipeline(broker, clock, 1)
    broker.start_message_move_task(dlq, destination_arn=source, max_number_of_messages_per_second=1)
    dlq.send("late")
    broker.run_message_move_tasks()
    assert only_task(broker, dlq)["Status"] == "COMPLETED"
    assert bodies(dlq) == ["late"]


def test_fifo_dead_letter_queue_redrives_to_its_fifo_source(broker: Broker, clock: FakeClock) -> None:
    dlq = broker.queue("tx-dlq.fifo")
    source = broker.queue(
        "tx.fifo",
        content_based_deduplication=True,
        redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1},
    )
    for body in ("g1", "g2", "g3"):
        source.send(body, message_group_id="g")
    for _ in range(6):
        source.receive(max_messages=10, visibility_timeout=0)
    assert source.receive() == []
    broker.start_message_move_task(dlq.arn)
    broker.run_message_move_tasks()
    moved = source.receive(max_messages=10, attribute_names=["All"])
    assert [m.body for m in moved] == ["g1", "g2", "g3"]
    assert {m.attributes["MessageGroupId"] for m in moved} == {"g"}
    assert [m.attributes["ApproximateReceiveCount"] for m in moved] == ["1", "1", "1"]
    numbers = [int(m.attributes["SequenceNumber"]) for m in moved]
    assert numbers == sorted(numbers)
    assert only_task(broker, dlq)["Status"] == "COMPLETED"


def test_a_deleted_destination_fails_the_task(broker: Broker, clock: FakeClock) -> None:
    _, dlq = pipeline(broker, clock, 3)
    destination = broker.queue("retry")
    broker.start_message_move_task(dlq, destination_arn=destination, max_number_of_messages_per_second=1)
    broker.run_message_move_tasks()
    broker.delete_queue("retry")
    clock.advance(1)
    broker.run_message_move_tasks()
    task = only_task(broker, dlq)
    assert (task["Status"], task["FailureReason"]) == ("FAILED", "AWS.SimpleQueueService.NonExistentQueue")
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert bodies(dlq) == ["m1", "m2"]


# ------------------------------------------------------------------------------------------
# Cancelling and listing.


def test_cancel_stops_the_task_without_reverting(broker: Broker, clock: FakeClock) -> None:
    source, dlq = pipeline(broker, clock, 4)
    handle = broker.start_message_move_task(dlq, destination_arn=source, max_number_of_messages_per_second=1)
    broker.run_message_move_tasks()
    assert only_task(broker, dlq)["TaskHandle"] == handle
    assert broker.cancel_message_move_task(handle) == 1
    task = only_task(broker, dlq)
    assert task["Status"] == "CANCELLING"
    assert "TaskHandle" not in task
    clock.advance(1)
    broker.run_message_move_tasks()
    clock.advance(1)
    broker.run_message_move_tasks()
    task = only_task(broker, dlq)
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("CANCELLED", 1)
    assert bodies(source) == ["m0"]
    assert bodies(dlq) == ["m1", "m2", "m3"]
    with aws_error("ResourceNotFoundException", "Task does not exist."):
        broker.cancel_message_move_task(handle)


def test_list_is_most_recent_first(broker: Broker, clock: FakeClock) -> None:
    source, dlq = pipeline(broker, clock, 1)
    broker.start_message_move_task(dlq, destination_arn=source)
    broker.run_message_move_tasks()
    dead_letter(broker, clock, source, ["again"])
    clock.advance(10)
    broker.start_message_move_task(dlq)
    tasks = broker.list_message_move_tasks(dlq.arn, max_results=10)
    assert [(t["Status"], t.get("DestinationArn")) for t in tasks] == [
        ("RUNNING", None),
        ("COMPLETED", source.arn),
    ]
    assert [t["StartedTimestamp"] for t in tasks] == [int((START + 10) * 1000), int(START * 1000)]
    assert broker.list_message_move_tasks(dlq) == tasks[:1]


def test_another_broker_on_the_file_lists_and_runs_the_task(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "shared.db"
    first = Broker(path, clock=clock, background_move_tasks=False)
    second = Broker(path, clock=clock, background_move_tasks=False)
    source, dlq = pipeline(first, clock, 2)
    handle = first.start_message_move_task(dlq, destination_arn=source, max_number_of_messages_per_second=1)
    first.close()
    (task,) = second.list_message_move_tasks(dlq.arn)
    assert (task["Status"], task["TaskHandle"]) == ("RUNNING", handle)
    second.run_message_move_tasks()
    clock.advance(1)
    second.run_message_move_tasks()
    assert only_task(second, second.queue("orders-dlq"))["Status"] == "COMPLETED"
    assert bodies(second.queue("orders")) == ["m0", "m1"]
    second.close()


# ------------------------------------------------------------------------------------------
# Errors (texts recorded against AWS by LocalStack's validated move-task tests).


def test_source_must_be_a_dead_letter_queue(broker: Broker) -> None:
    plain, other = broker.queue("plain"), broker.queue("other")
    with aws_error("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."):
        broker.start_message_move_task(plain, destination_arn=other)


def test_missing_queues_are_resource_not_found(broker: Broker, clock: FakeClock) -> None:
    source, dlq = pipeline(broker, clock, 1)
    with pytest.raises(AwsError) as missing_source:
        broker.start_message_move_task(dlq.arn + "-gone")
    assert (missing_source.value.code, missing_source.value.status) == ("ResourceNotFoundException", 404)
    assert missing_source.value.message == (
        "The resource that you specified for the SourceArn parameter doesn't exist."
    )
    other_account = dlq.arn.replace(broker.account, "123456789012")
    with aws_error("ResourceNotFoundException"):
        broker.list_message_move_tasks(other_account)
    with aws_error(
        "ResourceNotFoundException",
        "The resource that you specified for the DestinationArn parameter doesn't exist.",
    ):
        broker.start_message_move_task(dlq, destination_arn=source.arn + "doesntexist")


def test_one_active_task_per_source(broker: Broker, clock: FakeClock) -> None:
    source, dlq = pipeline(broker, clock, 3)
    handle = broker.start_message_move_task(dlq, destination_arn=source, max_number_of_messages_per_second=1)
    message = (
        "There is already a task running. Only one active task is allowed for a source queue arn "
        "at a given time."
    )
    with aws_error("InvalidParameterValue", message):
        broker.start_message_move_task(dlq, destination_arn=source)
    broker.cancel_message_move_task(handle)
    with aws_error("InvalidParameterValue", message):  # CANCELLING is still active
        broker.start_message_move_task(dlq)
    broker.run_message_move_tasks()
    broker.start_message_move_task(dlq)


def test_bad_task_handles(broker: Broker, clock: FakeClock) -> None:
    _, dlq = pipeline(broker, clock, 1)
    with aws_error("InvalidParameterValue", "Value for parameter TaskHandle is invalid."):
        broker.cancel_message_move_task("foobared")
    with aws_error(
        "ResourceNotFoundException",
        "The resource that you specified for the SourceArn parameter doesn't exist.",
    ):
        broker.cancel_message_move_task(encode_task_handle("10f57157-fc38-4da9", dlq.arn + "-gone"))
    with aws_error("ResourceNotFoundException", "Task does not exist."):
        broker.cancel_message_move_task(encode_task_handle("10f57157-fc38-4da9", dlq.arn))


@pytest.mark.parametrize("rate", [0, 501])
def test_rate_must_be_between_1_and_500(broker: Broker, clock: FakeClock, rate: int) -> None:
    _, dlq = pipeline(broker, clock, 1)
    with aws_error("InvalidParameterValue"):
        broker.start_message_move_task(dlq, max_number_of_messages_per_second=rate)
    assert broker.list_message_move_tasks(dlq) == []


@pytest.mark.parametrize("max_results", [0, 11])
def test_max_results_must_be_between_1_and_10(broker: Broker, clock: FakeClock, max_results: int) -> None:
    _, dlq = pipeline(broker, clock, 1)
    with aws_error("InvalidParameterValue"):
        broker.list_message_move_tasks(dlq, max_results=max_results)


# ------------------------------------------------------------------------------------------
# Background threads (real clock).


@pytest.fixture(params=["memory", "sqlite", "redis"])
def real_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    if request.param == "redis":
        broker = Broker(store=request.getfixturevalue("redis_url"))
    else:
        broker = Broker(tmp_path / "real.db" if request.param == "sqlite" else None)
    yield broker
    broker.close()


def wait_for_status(broker: Broker, dlq: Queue, status: str) -> dict[str, Any]:
    """Poll (real time, generously bounded) until the task reaches ``status``."""
    for _ in range(1000):
        task = only_task(broker, dlq)
        if task["Status"] == status:
            return task
        time.sleep(0.01)
    raise AssertionError(f"task never reached {status}: {task}")


def test_background_thread_completes_the_task(real_broker: Broker) -> None:
    dlq = real_broker.queue("dlq")
    source = real_broker.queue("src", redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    for body in ("x", "y"):
        dlq.send(body)  # a DLQ may also be sent to directly; with a destination that is fine
    real_broker.start_message_move_task(dlq, destination_arn=source)
    assert wait_for_status(real_broker, dlq, "COMPLETED")["ApproximateNumberOfMessagesMoved"] == 2
    assert bodies(source) == ["x", "y"]


def test_close_stops_running_task_threads(real_broker: Broker) -> None:
    dlq = real_broker.queue("dlq")
    source = real_broker.queue("src", redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
    dlq.send_batch([{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])
    real_broker.start_message_move_task(dlq, destination_arn=source, max_number_of_messages_per_second=1)
    threads = list(real_broker._move_tasks._threads)
    assert threads and all(thread.daemon for thread in threads)
    real_broker.close()
    assert not any(thread.is_alive() for thread in threads)
