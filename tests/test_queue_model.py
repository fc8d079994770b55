"""Model-based fuzzing of queue state (docs/semantics.md, 'SQS queues') on both stores.

A hypothesis state machine drives one standard queue and one FIFO queue (explicit deduplication
ids, content-based deduplication off) through sends, receives, deletes, visibility changes and
moves of a fake clock, and checks every answer against a small reference model:

* nothing is lost: the three ApproximateNumberOfMessages* counts equal the model's after every step;
* nothing is duplicated within a visibility window: a receive only returns messages the model
  says are visible (never one in flight or delayed);
* a standard receive takes the oldest visible messages first (the emulator documents that its
  short poll is deterministic: an empty answer means there was nothing visible);
* FIFO: a receive returns, per group, a prefix of the group's undeleted messages in send order,
  never a message of a group with a message in flight, fills up to MaxNumberOfMessages when it
  can, and takes a group as far as possible before the next;
* a FIFO send repeating a deduplication id within 5 minutes answers with the first message's id
  and adds nothing.

The number of examples is RULEBUS_FUZZ_EXAMPLES (default 50), 30 steps each.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_clock import FakeClock
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from rulebus import AwsError, Broker
from rulebus.sqs.queue import Queue

DEDUPLICATION_WINDOW = 300.0
EXAMPLES = int(os.environ.get("RULEBUS_FUZZ_EXAMPLES", "50"))
MACHINE_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
GROUPS = ("g1", "g2", "g3")
DEDUP_IDS = tuple(f"d{n}" for n in range(6))

# Examples run per machine (added to conftest's "hypothesis cases run" summary).
RUNS: Counter[str] = Counter()


@dataclass
class ModelMessage:
    message_id: str
    body: str
    order: int  # send order across both queues (the number in the body)
    visible_at: float
    group: str | None = None
    receive_count: int = 0
    handle: str | None = None  # the latest receipt handle


@dataclass(frozen=True)
class Handle:
    """A receipt handle as a receive returned it, with what the model knew then."""

    fifo: bool
    message_id: str
    receipt_handle: str


class QueueMachine(RuleBasedStateMachine):
    """One standard and one FIFO queue against the model. Subclasses choose the store."""

    store = "memory"
    handles = Bundle("handles")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.directory: str | None = None
        path: Path | None = None
        if self.store == "sqlite":
            self.directory = tempfile.mkdtemp(prefix="rulebus-model-")
            path = Path(self.directory) / "rulebus.db"
        self.broker = Broker(path, clock=self.clock)
        self.standard = self.broker.queue("plain")
        self.fifo = self.broker.queue("orders.fifo", fifo_queue=True)
        # message id -> model state; deleted messages are removed.
        self.messages: dict[bool, dict[str, ModelMessage]] = {False: {}, True: {}}
        # FIFO deduplication id -> (window end, message id); survives delete
        # ('Amazon SQS FIFO queue key terms').
        self.deduplication: dict[str, tuple[float, str]] = {}
        self.sent = 0
        RUNS[self.store] += 1

    def teardown(self) -> None:
        self.broker.close()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    # ------------------------------------------------------------------ model helpers

    @property
    def now(self) -> float:
        return self.clock.now

    def queue(self, fifo: bool) -> Queue:
        return self.fifo if fifo else self.standard

    def in_order(self, fifo: bool) -> list[ModelMessage]:
        return sorted(self.messages[fifo].values(), key=lambda m: m.order)

    def visible(self, message: ModelMessage) -> bool:
        return message.visible_at <= self.now

    def in_flight(self, message: ModelMessage) -> bool:
        return message.visible_at > self.now and message.receive_count > 0

    def blocked_groups(self) -> set[str | None]:
        return {m.group for m in self.messages[True].values() if self.in_flight(m)}

    def next_body(self) -> str:
        self.sent += 1
        return f"m{self.sent}"

    def add(self, fifo: bool, message_id: str, body: str, delay: float, group: str | None) -> None:
        assert message_id not in self.messages[fifo], "a new send reused a message id"
        self.messages[fifo][message_id] = ModelMessage(
            message_id, body, int(body[1:]), self.now + delay, group=group
        )

    # ------------------------------------------------------------------ rules: send

    @rule(delay=st.sampled_from([None, 0, 1, 5, 60]))
    def send_standard(self, delay: int | None) -> None:
        body = self.next_body()
        result = self.standard.send(body, delay_seconds=delay)
        self.add(False, result.message_id, body, delay or 0, None)

    @rule(delays=st.lists(st.sampled_from([None, 0, 5, 60]), min_size=1, max_size=10))
    def send_batch_standard(self, delays: list[int | None]) -> None:
        entries: list[dict[str, Any]] = []
        for n, delay in enumerate(delays):
            entry: dict[str, Any] = {"Id": f"e{n}", "MessageBody": self.next_body()}
            if delay is not None:
                entry["DelaySeconds"] = delay
            entries.append(entry)
        result = self.standard.send_batch(entries)
        assert result["Failed"] == []
        assert [s["Id"] for s in result["Successful"]] == [e["Id"] for e in entries]
        for entry, success in zip(entries, result["Successful"]):
            self.add(False, success["MessageId"], entry["MessageBody"], entry.get("DelaySeconds", 0), None)

    @rule(group=st.sampled_from(GROUPS), deduplication_id=st.sampled_from(DEDUP_IDS))
    def send_fifo(self, group: str, deduplication_id: str) -> None:
        body = self.next_body()
        result = self.fifo.send(body, message_group_id=group, message_deduplication_id=deduplication_id)
        assert result.sequence_number is not None
        earlier = self.deduplication.get(deduplication_id)
        if earlier is not None and earlier[0] > self.now:
            # A duplicate within 5 minutes: success with the first message's id, nothing added.
            assert result.message_id == earlier[1]
            return
        self.add(True, result.message_id, body, 0, group)
        self.deduplication[deduplication_id] = (self.now + DEDUPLICATION_WINDOW, result.message_id)

    # ------------------------------------------------------------------ rules: receive

    def expected_standard(self, max_messages: int) -> list[ModelMessage]:
        return [m for m in self.in_order(False) if self.visible(m)][:max_messages]

    def check_fifo_receive(self, max_messages: int, got: list[ModelMessage]) -> None:
        blocked = self.blocked_groups()
        receivable: dict[str | None, list[ModelMessage]] = {}
        for message in self.in_order(True):
            if message.group not in blocked:
                assert self.visible(message), "FIFO messages are never delayed here"
                receivable.setdefault(message.group, []).append(message)
        total = sum(len(group) for group in receivable.values())
        order: list[str | None] = []
        for message in got:
            assert message.group not in blocked, f"group {message.group} returned while in flight"
            if not order or order[-1] != message.group:
                assert message.group not in order, "a receive came back to a group it had left"
                order.append(message.group)
        assert len(got) == min(max_messages, total), "a FIFO receive left receivable messages behind"
        for group in order:
            taken = [m.message_id for m in got if m.group == group]
            available = [m.message_id for m in receivable[group]]
            assert taken == available[: len(taken)], f"group {group} not returned in send order"
        for group in order[:-1]:
            served = [m for m in got if m.group == group]
            assert len(served) == len(receivable[group]), "a receive left a group before taking it all"

    @rule(
        target=handles,
        fifo=st.booleans(),
        max_messages=st.integers(1, 10),
        visibility=st.integers(0, 60),
    )
    def receive(self, fifo: bool, max_messages: int, visibility: int) -> Any:
        queue = self.queue(fifo)
        received = queue.receive(
            max_messages=max_messages,
            wait_seconds=0,
            visibility_timeout=visibility,
            attribute_names=["ApproximateReceiveCount", "MessageGroupId"],
        )
        assert len(received) <= max_messages
        ids = [m.message_id for m in received]
        assert len(set(ids)) == len(ids), "one receive returned a message twice"
        assert len({m.receipt_handle for m in received}) == len(received)
        got: list[ModelMessage] = []
        for message in received:
            model = self.messages[fifo].get(message.message_id)
            assert model is not None, f"received {message.message_id}, which was deleted or never sent"
            assert self.visible(model), (
                f"{message.message_id} returned while {'in flight' if model.receive_count else 'delayed'}"
            )
            assert message.body == model.body
            got.append(model)
        if fifo:
            self.check_fifo_receive(max_messages, got)
        else:
            assert ids == [m.message_id for m in self.expected_standard(max_messages)]
        handles: list[Handle] = []
        for message, model in zip(received, got):
            model.receive_count += 1
            model.visible_at = self.now + visibility
            model.handle = message.receipt_handle
            assert message.attributes["ApproximateReceiveCount"] == str(model.receive_count)
            if fifo:
                assert message.attributes["MessageGroupId"] == model.group
            handles.append(Handle(fifo, message.message_id, message.receipt_handle))
        return multiple(*handles)

    # ------------------------------------------------------------------ rules: delete, visibility

    def usable(self, handle: Handle) -> bool:
        """Standard queues accept any handle ever issued (recorded on AWS); FIFO only the latest one while
        its visibility lasts (an expired FIFO handle is tested on its own below)."""
        if not handle.fifo:
            return True
        model = self.messages[True].get(handle.message_id)
        return model is not None and model.handle == handle.receipt_handle and self.in_flight(model)

    @rule(handle=consumes(handles))
    def delete(self, handle: Handle) -> None:
        if not self.usable(handle):
            return
        self.queue(handle.fifo).delete(handle.receipt_handle)
        # Deleted even if its visibility expired or it was received again since (standard).
        self.messages[handle.fifo].pop(handle.message_id, None)

    @rule(handle=handles, timeout=st.integers(0, 60))
    def change_visibility(self, handle: Handle, timeout: int) -> None:
        if not self.usable(handle):
            return
        queue = self.queue(handle.fifo)
        model = self.messages[handle.fifo].get(handle.message_id)
        if model is None:
            # Recorded on AWS: CMV on a deleted message is InvalidParameterValue.
            with pytest.raises(AwsError) as info:
                queue.change_visibility(handle.receipt_handle, timeout)
            assert info.value.code == "InvalidParameterValue"
            return
        queue.change_visibility(handle.receipt_handle, timeout)
        model.visible_at = self.now + timeout  # from the time of the call, even if it had expired

    @rule(seconds=st.sampled_from([0, 1, 4, 5, 30, 59, 60, 61, 150, 299, 300, 301]))
    def advance(self, seconds: int) -> None:
        self.clock.now += seconds

    # ------------------------------------------------------------------ invariants

    @invariant()
    def counts_match_the_model(self) -> None:
        for fifo in (False, True):
            attributes = self.queue(fifo).attributes
            messages = self.messages[fifo].values()
            expected = (
                sum(1 for m in messages if self.visible(m)),
                sum(1 for m in messages if self.in_flight(m)),
                sum(1 for m in messages if not self.visible(m) and m.receive_count == 0),
            )
            actual = (
                int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]),
                int(attributes["ApproximateNumberOfMessagesDelayed"]),
            )
            assert actual == expected, f"{'FIFO' if fifo else 'standard'} counts {actual} != model {expected}"

    @invariant()
    def sent_messages_are_accounted_for(self) -> None:
        # Every undeleted message is visible, in flight or delayed, and exactly one of those.
        for fifo in (False, True):
            for m in self.messages[fifo].values():
                states = [self.visible(m), self.in_flight(m), not self.visible(m) and m.receive_count == 0]
                assert sum(states) == 1


class MemoryQueueMachine(QueueMachine):
    store = "memory"


class SQLiteQueueMachine(QueueMachine):
    store = "sqlite"


@pytest.mark.parametrize("machine", [MemoryQueueMachine, SQLiteQueueMachine], ids=["memory", "sqlite"])
def test_queue_model(machine: type[QueueMachine], cases: Counter[str]) -> None:
    before = RUNS[machine.store]
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
    cases[f"queue model ({machine.store})"] += RUNS[machine.store] - before


# ------------------------------------------------------------------------------------------
# The one FIFO handle case the machine leaves out.


@pytest.fixture(params=["memory", "sqlite", "redis"])
def fifo_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    clock = FakeClock()
    if request.param == "redis":
        broker = Broker(store=request.getfixturevalue("redis_url"), clock=clock)
    else:
        broker = Broker(tmp_path / "rulebus.db" if request.param == "sqlite" else None, clock=clock)
    yield broker.queue("orders.fifo", fifo_queue=True), clock
    broker.close()


def test_fifo_delete_with_expired_handle_is_refused(fifo_queue: Any) -> None:
    queue, clock = fifo_queue
    queue.send("a", message_group_id="g", message_deduplication_id="a")
    (message,) = queue.receive(visibility_timeout=10)
    clock.now += 11
    with pytest.raises(AwsError) as info:
        queue.delete(message.receipt_handle)
    assert info.value.code == "InvalidParameterValue"
    assert info.value.message == (
        f"Value {message.receipt_handle} for parameter ReceiptHandle is invalid. "
        "Reason: The receipt handle has expired."
    )
