"""The structures that keep the stores' costs flat as queues grow (issue 12), at their edges, on
both stores: deduplication windows under a clock that goes back, FIFO message groups filed
ready or waiting (unblocked by a visibility timeout, a delete, a visibility change, expiry; reset
by purge and queue deletion; fed by dead-letter moves), the counts kept beside the SQLite rows,
and a SQLite file made with the schema before them.

No assertion is about time taken: benches/compare_scaling.py measures that.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.fake_clock import START, FakeClock
from rulebus import Broker
from rulebus._core import MemoryQueue
from rulebus.sqs.attributes import QueueAttributes
from rulebus.sqs.queue import Queue
from rulebus.stores.memory.fifo import Window
from test_queue import counts
from test_queue_fifo_dlq import bodies

# ------------------------------------------------------------------------------------------
# Deduplication windows.


def test_window_lapses_entries_by_their_own_instant_when_the_clock_went_back() -> None:
    window: Window[str, int] = Window()
    window.put("late", 1300.0, 1)
    window.put("early", 1200.0, 2)  # opened after the clock went back: behind a later one
    window.expire(1250.0)
    assert window.get("early", 1250.0) is None  # lapsed, though still held behind "late"
    assert window.get("late", 1250.0) == 1
    window.expire(1300.0)
    assert len(window) == 0
    window.put("again", 1400.0, 3)
    window.put("again", 1500.0, 4)  # opened again: the first opening's lapse leaves it
    window.expire(1450.0)
    assert window.get("again", 1450.0) == 4


def test_fifo_deduplication_with_a_clock_that_goes_back(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("dedup.fifo")
    first = queue.send("one", message_group_id="g", message_deduplication_id="d")
    clock.advance(-100)  # within the window of the first send, seen from either side
    again = queue.send("two", message_group_id="g", message_deduplication_id="d")
    assert again.message_id == first.message_id
    clock.advance(401)  # 301 s after the first send: the window has closed
    later = queue.send("three", message_group_id="g", message_deduplication_id="d")
    assert later.message_id != first.message_id
    clock.advance(-200)  # back inside the first window, but its id was dropped: the newest counts
    repeat = queue.send("four", message_group_id="g", message_deduplication_id="d")
    assert repeat.message_id == later.message_id
    # "three" was sent at START+301, visible from then on: not yet, seen from START+101.
    (one,) = queue.receive(max_messages=10)
    assert one.body == "one"
    queue.delete(one.receipt_handle)
    clock.advance(200)
    assert bodies(queue.receive(max_messages=10)) == ["three"]


def test_fifo_deduplication_ids_lapse_one_by_one(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("lapse.fifo")
    first = []
    for n in range(5):
        first.append(queue.send(f"m{n}", message_group_id="g", message_deduplication_id=f"d{n}"))
        clock.advance(100)
    # Now START+500: the windows of d0, d1 and d2 (until START+300, +400, +500) have closed.
    again = [queue.send("x", message_group_id="g", message_deduplication_id=f"d{n}") for n in range(5)]
    assert [a.message_id == f.message_id for a, f in zip(again, first)] == [False, False, False, True, True]
    assert len(queue.receive(max_messages=10)) == 8


# ------------------------------------------------------------------------------------------
# FIFO groups.


@pytest.fixture
def fifo(broker: Broker) -> Queue:
    return broker.queue("groups.fifo", content_based_deduplication=True, visibility_timeout=30)


def send_all(queue: Queue, *pairs: str) -> None:
    for pair in pairs:
        body, group = pair, pair[0]
        queue.send(body, message_group_id=group)


def test_groups_come_back_in_order_of_their_first_message(fifo: Queue, clock: FakeClock) -> None:
    send_all(fifo, "a1", "b1", "c1", "a2", "b2", "c2")
    assert bodies(fifo.receive()) == ["a1"]
    (b1,) = fifo.receive()
    assert bodies(fifo.receive(max_messages=10)) == ["c1", "c2"]
    fifo.change_visibility(b1.receipt_handle, 0)  # b unblocks; a still in flight
    assert bodies(fifo.receive(max_messages=10)) == ["b1", "b2"]
    clock.advance(30)  # every visibility ends: a1 (oldest) leads again
    assert bodies(fifo.receive(max_messages=10)) == ["a1", "a2", "b1", "b2", "c1", "c2"]


def test_a_group_unblocks_when_its_in_flight_messages_are_deleted(fifo: Queue) -> None:
    send_all(fifo, "a1", "a2", "a3", "b1")
    taken = fifo.receive(max_messages=2)
    assert bodies(taken) == ["a1", "a2"]
    assert bodies(fifo.receive(max_messages=10)) == ["b1"]
    fifo.delete(taken[0].receipt_handle)
    assert fifo.receive(max_messages=10) == []  # a2 still in flight
    fifo.delete(taken[1].receipt_handle)
    assert bodies(fifo.receive(max_messages=10)) == ["a3"]


def test_a_visibility_change_can_make_a_group_wait_longer_or_less(fifo: Queue, clock: FakeClock) -> None:
    send_all(fifo, "a1", "a2")
    (a1,) = fifo.receive()
    fifo.change_visibility(a1.receipt_handle, 100)
    clock.advance(30)  # the first timeout has passed, the new one has not
    assert fifo.receive(max_messages=10) == []
    fifo.change_visibility(a1.receipt_handle, 5)
    assert fifo.receive(max_messages=10) == []
    clock.advance(5)
    assert bodies(fifo.receive(max_messages=10)) == ["a1", "a2"]


def test_a_delayed_first_message_holds_its_group_back(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("delay.fifo", content_based_deduplication=True, delay_seconds=60)
    queue.send("a1", message_group_id="a")
    queue.set_attributes(delay_seconds=0)
    queue.send("a2", message_group_id="a")
    queue.send("b1", message_group_id="b")
    assert bodies(queue.receive(max_messages=10)) == ["b1"]  # strict order: a2 waits for a1
    assert counts(queue) == (1, 1, 1)
    clock.advance(60)  # a1 is due (and b1 visible again)
    assert bodies(queue.receive(max_messages=10)) == ["a1", "a2", "b1"]


def test_expiry_unblocks_a_group(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue(
        "short.fifo", content_based_deduplication=True, message_retention_period=60, visibility_timeout=3600
    )
    queue.send("a1", message_group_id="a")
    clock.advance(30)
    queue.send("a2", message_group_id="a")
    assert bodies(queue.receive()) == ["a1"]  # in flight for an hour
    clock.advance(29)
    assert queue.receive(max_messages=10) == []
    clock.advance(1)  # a1 is 60 s old: gone, and its group free
    assert bodies(queue.receive(max_messages=10)) == ["a2"]


def test_a_shorter_retention_unblocks_a_group(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("retain.fifo", content_based_deduplication=True, visibility_timeout=3600)
    queue.send("a1", message_group_id="a")
    clock.advance(100)
    queue.send("a2", message_group_id="a")
    assert bodies(queue.receive()) == ["a1"]
    assert queue.receive() == []
    queue.set_attributes(message_retention_period=60)  # a1 (100 s old) is past it now
    assert bodies(queue.receive(max_messages=10)) == ["a2"]


def test_many_rounds_keep_every_group_in_order(broker: Broker, clock: FakeClock) -> None:
    """Enough receive and delete rounds that superseded filings pile up and get cleared away."""
    queue = broker.queue("rounds.fifo", content_based_deduplication=True, visibility_timeout=3600)
    for n in range(60):
        for group in "abcdef":
            queue.send(f"{group}{n:02}", message_group_id=group)
    seen: dict[str, list[str]] = {}
    rounds = 0
    while True:
        got = queue.receive(max_messages=7)
        if not got:
            break
        rounds += 1
        for message in got:
            seen.setdefault(message.body[0], []).append(message.body)
        # Leave every third round's last message in flight a while: its group waits for it.
        keep = got[-1] if rounds % 3 == 0 else None
        for message in got:
            if message is not keep:
                queue.delete(message.receipt_handle)
        if keep is not None:
            queue.change_visibility(keep.receipt_handle, 0)
    assert rounds > 50
    for group, got_bodies in seen.items():
        unique = list(dict.fromkeys(got_bodies))
        assert unique == [f"{group}{n:02}" for n in range(60)]
    assert counts(queue) == (0, 0, 0)


def test_fifo_dead_letter_moves_mid_receive_keep_both_queues_in_order(
    broker: Broker, clock: FakeClock
) -> None:
    dlq = broker.queue("moves-dlq.fifo")
    source = broker.queue(
        "moves.fifo",
        content_based_deduplication=True,
        visibility_timeout=10,
        redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1},
    )
    send_all(source, "a1", "a2", "b1", "a3", "b2")
    assert bodies(source.receive(max_messages=2)) == ["a1", "a2"]
    assert bodies(source.receive(max_messages=1)) == ["b1"]
    clock.advance(10)
    # a1, a2 and b1 would be received a second time: they move, and the rest is served in order.
    assert bodies(source.receive(max_messages=10)) == ["a3", "b2"]
    assert counts(dlq) == (3, 0, 0)
    assert bodies(dlq.receive(max_messages=10)) == ["a1", "a2", "b1"]
    assert counts(source) == (0, 2, 0)


def test_purge_forgets_blocked_groups(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("purge.fifo", content_based_deduplication=True, visibility_timeout=3600)
    send_all(queue, "a1", "a2", "b1")
    assert bodies(queue.receive(max_messages=1)) == ["a1"]
    queue.purge()
    assert counts(queue) == (0, 0, 0)
    queue.send("a3", message_group_id="a")
    queue.send("b2", message_group_id="b")
    assert bodies(queue.receive(max_messages=10)) == ["a3", "b2"]


def test_a_recreated_queue_starts_with_no_groups(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("again.fifo", content_based_deduplication=True, visibility_timeout=3600)
    send_all(queue, "a1", "a2")
    assert bodies(queue.receive()) == ["a1"]
    broker.delete_queue("again.fifo")
    clock.advance(61)
    queue = broker.queue("again.fifo", content_based_deduplication=True, visibility_timeout=3600)
    assert queue.receive() == []
    queue.send("a1", message_group_id="a")  # the same body: a new queue has no window either
    assert bodies(queue.receive(max_messages=10)) == ["a1"]


def test_receive_attempt_replays_with_groups(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("attempt.fifo", content_based_deduplication=True, visibility_timeout=60)
    send_all(queue, "a1", "a2", "b1")
    first = queue.receive(max_messages=1, receive_request_attempt_id="x")
    clock.advance(30)
    replay = queue.receive(max_messages=1, receive_request_attempt_id="x", visibility_timeout=5)
    assert bodies(replay) == bodies(first) == ["a1"]
    assert replay[0].receipt_handle == first[0].receipt_handle
    assert bodies(queue.receive(max_messages=10)) == ["b1"]
    clock.advance(5)  # the replay hid a1 for 5 s only: its group is served again
    assert bodies(queue.receive(max_messages=10)) == ["a1", "a2"]


# ------------------------------------------------------------------------------------------
# Counts.


def test_counts_follow_every_change(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("counted", visibility_timeout=30, message_retention_period=120)
    for n in range(6):
        queue.send(f"m{n}")
    queue.send("late", delay_seconds=10)
    assert counts(queue) == (6, 0, 1)
    got = queue.receive(max_messages=3)
    assert counts(queue) == (3, 3, 1)
    queue.delete(got[0].receipt_handle)
    queue.change_visibility(got[1].receipt_handle, 0)
    assert counts(queue) == (4, 1, 1)
    clock.advance(10)  # "late" is due
    assert counts(queue) == (5, 1, 0)
    clock.advance(20)  # got[2]'s visibility ends
    assert counts(queue) == (6, 0, 0)
    queue.receive(max_messages=10, visibility_timeout=0)
    assert counts(queue) == (6, 0, 0)
    clock.advance(100)  # 130 s after the first sends, 120 s after "late": all expired
    assert counts(queue) == (0, 0, 0)
    queue.send("new")
    queue.purge()
    assert counts(queue) == (0, 0, 0)


def test_counts_with_a_clock_that_goes_back(broker: Broker, clock: FakeClock) -> None:
    queue = broker.queue("backwards", visibility_timeout=30)
    queue.send("a")
    queue.receive()
    assert counts(queue) == (0, 1, 0)
    clock.advance(-10)
    assert counts(queue) == (0, 1, 0)
    clock.advance(40)
    assert counts(queue) == (1, 0, 0)
    clock.advance(-40)  # approximate from here: nothing is lost, and a receive still refuses it
    assert queue.receive() == []
    clock.advance(40)
    assert bodies(queue.receive()) == ["a"]
    assert counts(queue) == (0, 1, 0)


# ------------------------------------------------------------------------------------------
# A SQLite file made before these structures.

OLD_QUEUES = """
CREATE TABLE queues (
    name TEXT PRIMARY KEY, attributes TEXT NOT NULL, created_timestamp REAL NOT NULL,
    last_modified_timestamp REAL NOT NULL, last_purge_timestamp REAL
);
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT NOT NULL,
    body TEXT NOT NULL, md5_of_body TEXT NOT NULL, message_attributes TEXT NOT NULL,
    md5_of_message_attributes TEXT, sender_id TEXT NOT NULL, sent_timestamp REAL NOT NULL,
    visible_at REAL NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_timestamp REAL, last_receive_timestamp REAL, message_group_id TEXT,
    message_deduplication_id TEXT, sequence_number TEXT, dead_letter_source_arn TEXT
);
CREATE TABLE deduplication (
    queue TEXT NOT NULL, scope TEXT NOT NULL, deduplication_id TEXT NOT NULL,
    message_id TEXT NOT NULL, sequence_number TEXT, expires_at REAL NOT NULL,
    PRIMARY KEY (queue, scope, deduplication_id)
);
CREATE TABLE deleted_queues (name TEXT PRIMARY KEY, deleted_at REAL NOT NULL);
CREATE TABLE receive_attempts (
    queue TEXT NOT NULL, attempt_id TEXT NOT NULL, received_at REAL NOT NULL, entries TEXT NOT NULL,
    PRIMARY KEY (queue, attempt_id)
);
CREATE UNIQUE INDEX messages_by_id ON messages (queue, message_id);
CREATE INDEX messages_by_visibility ON messages (queue, visible_at, seq);
CREATE INDEX messages_by_age ON messages (queue, sent_timestamp);
CREATE INDEX messages_by_order ON messages (queue, seq, visible_at);
"""


def _old_file(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(OLD_QUEUES)
    for name in ("plain", "old.fifo"):
        attributes = QueueAttributes.from_aws(name, {"FifoQueue": "true"} if name.endswith(".fifo") else {})
        connection.execute(
            "INSERT INTO queues VALUES (?, ?, ?, ?, NULL)",
            (name, json.dumps(attributes.to_aws()), START - 100, START - 100),
        )

    def message(queue: str, n: int, visible_at: float, received: int, group: str | None = None) -> None:
        connection.execute(
            "INSERT INTO messages (queue, message_id, body, md5_of_body, message_attributes, sender_id, "
            "sent_timestamp, visible_at, receive_count, message_group_id, message_deduplication_id, "
            "sequence_number) VALUES (?, ?, ?, '', '{}', 'me', ?, ?, ?, ?, ?, ?)",
            (
                queue,
                f"{queue}-{n}",
                f"{queue}-{n}",
                START - 50 + n,
                visible_at,
                received,
                group,
                f"d{n}" if group else None,
                f"{n:020}" if group else None,
            ),
        )

    message("plain", 0, START + 20, 1)  # in flight
    message("plain", 1, START - 50, 0)
    message("plain", 2, START + 30, 0)  # delayed
    message("plain", 3, START - 40, 2)  # received before, visible again
    message("old.fifo", 0, START + 20, 1, "a")  # in flight: holds group a back
    message("old.fifo", 1, START - 50, 0, "a")
    message("old.fifo", 2, START - 50, 0, "b")
    connection.commit()
    connection.close()


def test_a_file_made_by_the_previous_schema_opens_and_keeps_its_state(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "old.db"
    _old_file(path)
    broker = Broker(path, clock=clock)
    try:
        plain = broker.queue("plain")
        assert counts(plain) == (2, 1, 1)
        hour = 3600
        assert bodies(plain.receive(max_messages=10, visibility_timeout=hour)) == ["plain-1", "plain-3"]
        old = broker.queue("old.fifo")
        assert bodies(old.receive(max_messages=10, visibility_timeout=hour)) == ["old.fifo-2"]
        clock.advance(20)
        assert bodies(old.receive(max_messages=10, visibility_timeout=hour)) == ["old.fifo-0", "old.fifo-1"]
        assert bodies(plain.receive(max_messages=10, visibility_timeout=hour)) == ["plain-0"]
        clock.advance(10)
        assert bodies(plain.receive(max_messages=10, visibility_timeout=hour)) == ["plain-2"]
        assert counts(plain) == (0, 4, 0)
    finally:
        broker.close()
    indexes = {
        row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert {"messages_receivable", "messages_hidden", "messages_by_group", "fifo_groups_ready"} <= indexes
    assert not {"messages_by_order", "messages_by_visibility"} & indexes
    # Opened again (the tables exist now): nothing is filled twice.
    broker = Broker(path, clock=clock)
    try:
        assert counts(broker.queue("plain")) == (0, 4, 0)
    finally:
        broker.close()


# ------------------------------------------------------------------------------------------
# A message move task's step on the memory store: what it asks of the source queue.


def _queue_calls(action: Callable[[], object]) -> Counter[str]:
    """The calls ``action`` makes to the memory store's native queues, by method name (each
    ``values`` call builds every message of a queue; ``take`` hands out one)."""
    calls: Counter[str] = Counter()

    def profile(frame: object, event: str, function: object) -> None:
        if event == "c_call" and isinstance(getattr(function, "__self__", None), MemoryQueue):
            calls[getattr(function, "__name__", "?")] += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("size", [1_000, 20_000])
def test_a_memory_move_task_step_takes_what_it_moves_whatever_the_source_holds(
    clock: FakeClock, size: int
) -> None:
    broker = Broker(clock=clock, background_move_tasks=False)
    dead = broker.queue("dead")
    broker.queue("source", redrive_policy={"deadLetterTargetArn": dead.arn, "maxReceiveCount": 1})
    target = broker.queue("target")
    for first in range(0, size, 10):
        dead.send_batch([{"Id": str(n), "MessageBody": f"m{first + n}"} for n in range(10)])
    received = dead.receive(max_messages=10, visibility_timeout=3600)  # in flight: not moved
    broker.start_message_move_task(dead.arn, destination_arn=target.arn, max_number_of_messages_per_second=5)
    for _ in range(3):
        clock.advance(1)
        calls = _queue_calls(broker.run_message_move_tasks)
        # Five moved: five taken from the filing, none listed, the rest never looked at.
        assert calls["values"] == 0
        assert calls["take"] == 5
        assert calls["remove"] == 5
    moved = [m.body for m in target.receive(max_messages=10)] + [
        m.body for m in target.receive(max_messages=10)
    ]
    assert sorted(moved, key=lambda body: int(body[1:])) == [f"m{n}" for n in range(10, 25)]
    assert not {m.body for m in received} & set(moved)
    (task,) = broker.list_message_move_tasks(dead.arn)
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("RUNNING", 15)
    assert task["ApproximateNumberOfMessagesToMove"] == size - 10


def test_a_memory_move_task_that_fails_leaves_the_message_it_stopped_at(clock: FakeClock) -> None:
    broker = Broker(clock=clock, background_move_tasks=False)
    dead = broker.queue("dead")
    broker.queue("source", redrive_policy={"deadLetterTargetArn": dead.arn, "maxReceiveCount": 1})
    dead.send("sent straight to the dead-letter queue")  # no source to go back to
    broker.start_message_move_task(dead.arn)
    clock.advance(1)
    broker.run_message_move_tasks()
    (task,) = broker.list_message_move_tasks(dead.arn)
    assert task["Status"] == "FAILED"
    assert [m.body for m in dead.receive()] == ["sent straight to the dead-letter queue"]
