"""ReceiveMessage's ReceiveRequestAttemptId and the in-flight limit (OverLimit; SQS API
Reference, ReceiveMessage), on both stores. The fixtures (a fake clock, a broker on each store)
come from conftest.py and tests/helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker
from rulebus.sqs import queue as queue_module
from rulebus.sqs.queue import Queue


@pytest.fixture
def fifo(broker: Broker) -> Queue:
    fifo = broker.queue("tx.fifo", content_based_deduplication=True, visibility_timeout=30)
    for body, group in [("a1", "a"), ("a2", "a"), ("b1", "b")]:
        fifo.send(body, message_group_id=group)
    return fifo


def handles(messages: list) -> list[str]:
    return [m.receipt_handle for m in messages]


def receive_counts(messages: list) -> list[str]:
    return [m.attributes["ApproximateReceiveCount"] for m in messages]


# ------------------------------------------------------------------------------------------
# ReceiveRequestAttemptId.


def test_retry_returns_the_same_messages_and_handles(fifo: Queue, clock: FakeClock) -> None:
    first = fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1")
    assert [m.body for m in first] == ["a1", "a2"]
    clock.advance(20)
    retry = fifo.receive(
        max_messages=2, attribute_names=["ApproximateReceiveCount"], receive_request_attempt_id="attempt-1"
    )
    assert [m.body for m in retry] == ["a1", "a2"]
    assert handles(retry) == handles(first)
    assert receive_counts(retry) == ["1", "1"]  # a retry is not another receive
    # Without the id the group is still blocked: only b1 comes.
    assert [m.body for m in fifo.receive(max_messages=10)] == ["b1"]


def test_retry_resets_the_visibility_timeout(fifo: Queue, clock: FakeClock) -> None:
    first = fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1")
    clock.advance(20)
    fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1")
    clock.advance(20)  # 40 s after the first receive, 20 s after the retry: still hidden
    assert [m.body for m in fifo.receive(max_messages=10)] == ["b1"]
    clock.advance(10)
    again = fifo.receive(max_messages=2, attribute_names=["ApproximateReceiveCount"])
    assert [m.body for m in again] == ["a1", "a2"]
    assert receive_counts(again) == ["2", "2"]
    assert not set(handles(again)) & set(handles(first))


def test_retry_after_a_delete_is_a_new_receive(fifo: Queue) -> None:
    first = fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1")
    fifo.delete(first[0].receipt_handle)
    retry = fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1")
    assert [m.body for m in retry] == ["b1"]  # group a is still blocked by a2
    assert fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1") == retry


def test_retry_after_a_visibility_change_is_a_new_receive(fifo: Queue) -> None:
    first = fifo.receive(max_messages=2, receive_request_attempt_id="attempt-1")
    fifo.change_visibility(first[1].receipt_handle, 0)
    retry = fifo.receive(
        max_messages=2, attribute_names=["ApproximateReceiveCount"], receive_request_attempt_id="attempt-1"
    )
    # a1 is still in flight, so group a is blocked; b1 is the first message of the free group.
    assert [m.body for m in retry] == ["b1"]
    assert receive_counts(retry) == ["1"]


def test_attempt_ids_last_five_minutes(fifo: Queue, clock: FakeClock) -> None:
    first = fifo.receive(receive_request_attempt_id="attempt-1")
    clock.advance(299)  # visible again, but nobody received it: still the same receive
    assert handles(fifo.receive(receive_request_attempt_id="attempt-1")) == handles(first)
    clock.advance(31)  # 330 s: the id has expired; the message is visible again
    later = fifo.receive(attribute_names=["ApproximateReceiveCount"], receive_request_attempt_id="attempt-1")
    assert [m.body for m in later] == ["a1"]
    assert handles(later) != handles(first)
    assert receive_counts(later) == ["2"]


def test_different_ids_are_different_receives(fifo: Queue) -> None:
    assert [m.body for m in fifo.receive(receive_request_attempt_id="one")] == ["a1"]
    assert [m.body for m in fifo.receive(receive_request_attempt_id="two")] == ["b1"]


def test_an_empty_attempt_is_not_replayed(fifo: Queue) -> None:
    fifo.receive(max_messages=10)
    assert fifo.receive(receive_request_attempt_id="attempt-1") == []
    fifo.send("c1", message_group_id="c")
    assert [m.body for m in fifo.receive(receive_request_attempt_id="attempt-1")] == ["c1"]


def test_brokers_sharing_a_file_agree_on_attempts(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "shared.db"
    with Broker(path, clock=clock) as first, Broker(path, clock=clock) as second:
        queue = first.queue("shared.fifo", content_based_deduplication=True)
        queue.send("x", message_group_id="g")
        received = queue.receive(receive_request_attempt_id="attempt-1")
        retried = second.queue("shared.fifo").receive(receive_request_attempt_id="attempt-1")
        assert handles(retried) == handles(received)


@pytest.mark.parametrize("attempt_id", ["", "x" * 129, "has space", "caf\u00e9"])
def test_attempt_id_alphabet_and_length(fifo: Queue, attempt_id: str) -> None:
    with aws_error(
        "InvalidParameterValue",
        f"Value {attempt_id} for parameter ReceiveRequestAttemptId is invalid. Reason: "
        "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. "
        "1 to 128 in length.",
    ):
        fifo.receive(receive_request_attempt_id=attempt_id)


def test_longest_attempt_id_with_punctuation_is_accepted(fifo: Queue) -> None:
    attempt_id = ("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" * 5)[:128]
    first = fifo.receive(receive_request_attempt_id=attempt_id)
    assert handles(fifo.receive(receive_request_attempt_id=attempt_id)) == handles(first)


def test_standard_queues_ignore_attempt_ids(broker: Broker) -> None:
    queue = broker.queue("orders")
    queue.send("one")
    queue.send("two")
    assert [m.body for m in queue.receive(receive_request_attempt_id="not valid here")] == ["one"]
    assert [m.body for m in queue.receive(receive_request_attempt_id="not valid here")] == ["two"]


# ------------------------------------------------------------------------------------------
# In-flight limit.


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(queue_module, "MAX_IN_FLIGHT_MESSAGES", 3)
    return 3


def test_short_poll_at_the_in_flight_limit_is_over_limit(broker: Broker, limit: int) -> None:
    queue = broker.queue("orders")
    for i in range(5):
        queue.send(f"m{i}")
    received = queue.receive(max_messages=10)
    assert len(received) == limit  # never more in flight than the limit
    with pytest.raises(AwsError) as info:
        queue.receive()
    assert (info.value.code, info.value.query_code, info.value.status) == ("OverLimit", "OverLimit", 403)
    assert info.value.message.startswith("Too many messages have been received without being deleted.")
    queue.delete(received[0].receipt_handle)
    assert [m.body for m in queue.receive(max_messages=10)] == ["m3"]


def test_long_poll_at_the_in_flight_limit_returns_nothing(broker: Broker, limit: int) -> None:
    queue = broker.queue("orders")
    for i in range(4):
        queue.send(f"m{i}")
    assert len(queue.receive(max_messages=10)) == limit
    assert queue.receive(wait_seconds=1) == []


def test_expired_visibility_frees_the_limit(broker: Broker, clock: FakeClock, limit: int) -> None:
    queue = broker.queue("orders", visibility_timeout=30)
    for i in range(4):
        queue.send(f"m{i}", delay_seconds=0)
    queue.receive(max_messages=10)
    clock.advance(30)
    assert len(queue.receive(max_messages=10)) == limit


def test_delayed_messages_are_not_in_flight(broker: Broker, limit: int) -> None:
    queue = broker.queue("orders")
    for i in range(3):
        queue.send(f"late{i}", delay_seconds=60)
    queue.send("now")
    assert [m.body for m in queue.receive(max_messages=10)] == ["now"]


def test_fifo_queues_never_refuse(broker: Broker, limit: int) -> None:
    fifo = broker.queue("tx.fifo", content_based_deduplication=True)
    for group in "abcde":
        fifo.send(f"{group}1", message_group_id=group)
    assert len(fifo.receive(max_messages=10)) == 5
    assert fifo.receive() == []
