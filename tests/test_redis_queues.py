"""The Redis store's queues beyond the contract suite (which runs the queue suites on Redis, see
conftest.REDIS_SUITES): what only a shared server brings. Keys of one queue share one hash
tag; scripts come back after the server lost them; a step against a server that is down fails
with StoreUnavailableError and works again once it is back; a move interrupted between the
outbox and the target is finished by the next receive; receivers in several processes never
get one message twice within its visibility timeout; a long poll is woken by a send on another
connection.

Real time only where processes or a server restart are involved; no assertion on durations.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.fake_clock import FakeClock
from helpers.redis_server import RedisCluster, RedisServer, redis_server_missing
from rulebus import Broker, StoreUnavailableError
from rulebus.stores.redis import RedisStore
from rulebus.stores.redis.connection import Connection
from rulebus.stores.redis.queues import RedisQueueStore

pytestmark = pytest.mark.skipif(redis_server_missing() is not None, reason=str(redis_server_missing()))

PROCESS_TIMEOUT = 120.0


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    made = RedisStore(redis_url)
    yield made
    made.close()


@pytest.fixture
def broker(store: RedisStore, clock: FakeClock) -> Iterator[Broker]:
    made = Broker(store=store, clock=clock)
    yield made
    made.close()


def _keys(url: str) -> list[str]:
    connection = Connection(url)
    try:
        return sorted(connection.call("KEYS", connection.prefix + "*"))
    finally:
        connection.close()


def test_every_key_of_a_queue_shares_its_hash_tag(broker: Broker, redis_url: str) -> None:
    fifo = broker.queue("jobs.fifo", content_based_deduplication=True)
    fifo.send("a", message_group_id="g")
    fifo.receive(receive_request_attempt_id="attempt-1")
    plain = broker.queue("plain")
    plain.send("b")
    keys = _keys(redis_url)
    assert keys, "nothing was written to Redis"
    for key in keys:
        tag = key[key.index("{") + 1 : key.index("}")]  # what a Redis Cluster hashes
        if "jobs.fifo" in key or "plain" in key:
            assert tag in ("q:jobs.fifo", "q:plain"), key
        else:  # the store's indexes and the default bus the broker opened
            assert tag in ("rb", "b:default"), key
    assert any("{q:jobs.fifo}:g:" in key for key in keys)  # the group's own list, in the tag


def test_stores_with_other_prefixes_do_not_see_each_other(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    first = Broker(store=RedisStore(redis_server.url + "?prefix=one"), clock=clock)
    second = Broker(store=RedisStore(redis_server.url + "?prefix=two"), clock=clock)
    try:
        first.queue("shared-name").send("for one")
        assert [m.body for m in second.queue("shared-name").receive()] == []
        assert [m.body for m in first.queue("shared-name").receive()] == ["for one"]
    finally:
        first.close()
        second.close()


def test_scripts_come_back_after_the_server_lost_them(broker: Broker, redis_url: str) -> None:
    queue = broker.queue("q")
    queue.send("before")
    connection = Connection(redis_url)
    connection.call("SCRIPT", "FLUSH")
    connection.close()
    queue.send("after")
    assert sorted(m.body for m in queue.receive(max_messages=10)) == ["after", "before"]


def test_a_dead_letter_move_interrupted_after_the_outbox_is_finished_later(
    broker: Broker, store: RedisStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dlq = broker.queue("dead")
    source = broker.queue(
        "work", visibility_timeout=10, redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}
    )
    source.send("doomed")
    assert [m.body for m in source.receive()] == ["doomed"]
    clock.advance(11)

    assert isinstance(store.queues, RedisQueueStore)
    real = RedisQueueStore._deliver

    def crash(self: RedisQueueStore, queue: str, entry: list[str]) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(RedisQueueStore, "_deliver", crash)
    with pytest.raises(RuntimeError):
        source.receive()  # the move: taken from the source onto its outbox, then "died"
    monkeypatch.setattr(RedisQueueStore, "_deliver", real)
    assert source.receive() == []  # (which delivers the outbox first)
    moved = dlq.receive()
    assert [m.body for m in moved] == ["doomed"]
    assert dlq.receive() == [] and source.receive() == []  # exactly once


def test_a_move_whose_target_went_away_puts_the_message_back(
    broker: Broker, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dlq = broker.queue("dead")
    source = broker.queue(
        "work", visibility_timeout=10, redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}
    )
    source.send("kept")
    source.receive()
    clock.advance(11)
    real = RedisQueueStore._deliver

    def crash(self: RedisQueueStore, queue: str, entry: list[str]) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(RedisQueueStore, "_deliver", crash)
    with pytest.raises(RuntimeError):
        source.receive()
    monkeypatch.setattr(RedisQueueStore, "_deliver", real)
    broker.delete_queue("dead")  # gone before the move was delivered
    # The next receive delivers the outbox: the target is missing, so the message comes back
    # to the source as it was; without a usable dead-letter queue it is then received there.
    source.receive()
    assert [m.body for m in source.receive()] == ["kept"]


def test_a_server_that_is_down_fails_the_step_and_the_store_recovers(
    tmp_path: Path, clock: FakeClock
) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=True)
    server.start()
    broker = Broker(store=RedisStore(server.url), clock=clock)
    try:
        queue = broker.queue("q")
        queue.send("acknowledged")
        server.stop()
        with pytest.raises(StoreUnavailableError) as raised:
            queue.send("refused")
        assert f"127.0.0.1:{server.port}" in str(raised.value)
        server.start()  # same port, same data folder (append-only file)
        assert [m.body for m in queue.receive(max_messages=10)] == ["acknowledged"]
    finally:
        broker.close()
        server.stop()


def test_what_was_acknowledged_survives_a_crash_of_the_server(tmp_path: Path) -> None:
    """appendfsync always: Redis writes each step to its append-only file before it answers, so a
    server killed with SIGKILL in the middle of sends and deletes comes back with every send it
    acknowledged and without every delete it acknowledged (docs/semantics.md, 1.2)."""
    server = RedisServer(tmp_path / "redis", appendonly=True, appendfsync="always")
    server.start()
    broker = Broker(store=server.url)
    sent: set[str] = set()
    deleted: set[str] = set()
    refused = 0
    try:
        queue = broker.queue("durable", visibility_timeout=600)
        for step in range(300):
            if step == 150:
                server.kill()
            if step == 160:
                server.start()
            try:
                sent.add(queue.send(f"m{step}").message_id)
                if step % 3 == 0:
                    for message in queue.receive(max_messages=2):
                        queue.delete(message.receipt_handle)
                        deleted.add(message.message_id)
            except StoreUnavailableError:
                refused += 1
        assert refused >= 10  # the server was down for those steps, and said so
        broker.close()
        server.kill()
        server.start()
        # A clock past every visibility timeout (within the retention period): all comes back.
        broker = Broker(store=server.url, clock=lambda: time.time() + 3600)
        left: set[str] = set()
        queue = broker.queue("durable")
        while batch := queue.receive(max_messages=10, visibility_timeout=600):
            left.update(message.message_id for message in batch)
        assert sent - deleted <= left  # no acknowledged send lost
        assert not (deleted & left)  # no acknowledged delete undone
    finally:
        broker.close()
        server.stop()


def test_a_long_poll_is_woken_by_a_send_on_another_connection(redis_url: str) -> None:
    waiting = Broker(store=RedisStore(redis_url))
    sending = Broker(store=RedisStore(redis_url))
    try:
        queue = waiting.queue("polled")
        got: list[str] = []
        poller = threading.Thread(target=lambda: got.extend(m.body for m in queue.receive(wait_seconds=20)))
        poller.start()
        sending.queue("polled").send("wake up")
        poller.join(timeout=PROCESS_TIMEOUT)
        assert not poller.is_alive()
        assert got == ["wake up"]
    finally:
        waiting.close()
        sending.close()


RECEIVER = textwrap.dedent(
    """
    import json, sys
    from rulebus import Broker

    url, out = sys.argv[1], sys.argv[2]
    seen = []
    with Broker(store=url) as broker:
        queue = broker.queue("shared", visibility_timeout=300)
        idle = 0
        while idle < 3:
            batch = queue.receive(max_messages=10, wait_seconds=1)
            if not batch:
                idle += 1
                continue
            idle = 0
            seen.extend(m.message_id for m in batch)
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch)]
            queue.delete_batch(entries)
    with open(out, "w") as f:
        json.dump(seen, f)
    """
)


def test_receivers_in_several_processes_get_each_message_once(redis_url: str, tmp_path: Path) -> None:
    total = 2_000
    with Broker(store=RedisStore(redis_url)) as broker:
        queue = broker.queue("shared", visibility_timeout=300)
        sent: list[str] = []
        for start in range(0, total, 10):
            result = queue.send_batch([{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)])
            sent.extend(s["MessageId"] for s in result["Successful"])
    script = tmp_path / "receiver.py"
    script.write_text(RECEIVER)
    outs = [tmp_path / f"seen{n}.json" for n in range(3)]
    children = [subprocess.Popen([sys.executable, str(script), redis_url, str(out)]) for out in outs]
    for child in children:
        assert child.wait(timeout=PROCESS_TIMEOUT) == 0
    seen = [message_id for out in outs for message_id in json.loads(out.read_text())]
    assert len(seen) == len(set(seen)), "a message was received twice within its visibility timeout"
    assert sorted(seen) == sorted(sent)


def test_a_cluster_spreads_queues_over_its_nodes_and_moves_between_them(
    redis_cluster: RedisCluster, clock: FakeClock
) -> None:
    """Each queue's keys share one slot; different queues land on different nodes, and a
    dead-letter move between two of them goes through the outbox (no script spans two slots)."""
    broker = Broker(store=redis_cluster.url + "?prefix=spread", clock=clock)
    try:
        dlq = broker.queue("dead")
        for n in range(12):
            queue = broker.queue(
                f"work-{n}",
                visibility_timeout=5,
                redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1},
            )
            queue.send(f"m{n}")
            assert [m.body for m in queue.receive()] == [f"m{n}"]
        clock.advance(6)
        for n in range(12):
            assert broker.queue(f"work-{n}").receive() == []  # each one moved on this receive
        moved = []
        while batch := dlq.receive(max_messages=10):
            moved.extend(m.body for m in batch)
        assert sorted(moved) == sorted(f"m{n}" for n in range(12))
        holding = [
            node.port
            for node in redis_cluster.nodes
            if int(
                subprocess.run(
                    ["redis-cli", "-p", str(node.port), "dbsize"], capture_output=True, text=True
                ).stdout
            )
        ]
        assert len(holding) >= 2, "every queue landed on one node: the cluster was not exercised"
    finally:
        broker.close()
        redis_cluster.flush()
