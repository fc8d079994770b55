"""Several hosts on one Redis: worker processes in their own network namespaces (veth pairs to
this one, nothing leaves the machine), each reaching redis-server over its own link, as
machines on a network would. Competing receivers never get one message twice within its
visibility timeout and together get every message; a worker killed mid-batch loses nothing
(what it held comes back when its visibility timeout ends, and another host takes it).

Also across hosts: a FIFO queue's groups come out in the order they went in; a consumer group's
worker killed on one host loses its shards to the worker on the other, which reads them on from
the last checkpoint; and redis-server killed and restarted (``appendfsync always``) in the middle
of sends and receives loses no acknowledged send and brings back no acknowledged delete.

Real processes and real time (visibility timeouts and leases of a few seconds); no assertion on
durations. Where the order of steps in two processes matters, it is read from the machine's
monotonic clock, which every namespace shares, and only for steps one causes the other (a FIFO
group is handed to the second receiver only after the first deleted its batch). Skipped, with
the reason, where namespaces cannot be made (not root, or no iproute2).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from helpers.netns import Host, hosts, hosts_missing
from helpers.redis_server import RedisServer, redis_server_missing
from rulebus import Broker

pytestmark = [
    pytest.mark.skipif(redis_server_missing() is not None, reason=str(redis_server_missing())),
    pytest.mark.skipif(hosts_missing() is not None, reason=str(hosts_missing())),
]

PROCESS_TIMEOUT = 120.0

RECEIVER = textwrap.dedent(
    """
    import json, sys
    from rulebus import Broker

    url, out, delete = sys.argv[1], sys.argv[2], sys.argv[3] == "delete"
    with Broker(store=url) as broker, open(out, "w") as log:
        queue = broker.queue("work")
        idle = 0
        while idle < 4:
            batch = queue.receive(max_messages=10, wait_seconds=2)
            if not batch:
                idle += 1
                continue
            idle = 0
            for message in batch:
                log.write(message.message_id + "\\n")
            log.flush()
            if delete:
                entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch)]
                queue.delete_batch(entries)
    """
)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[list[Host], RedisServer]]:
    """Two hosts, and a redis-server listening on loopback and on each host's link."""
    with hosts(2) as made:
        server = RedisServer(tmp_path / "redis")
        server.bind = ["127.0.0.1", *(host.server for host in made)]
        server.start()
        try:
            yield made, server
        finally:
            server.stop()


def _send(url: str, count: int, visibility: int) -> set[str]:
    sent: set[str] = set()
    with Broker(store=url) as broker:
        queue = broker.queue("work", visibility_timeout=visibility)
        for start in range(0, count, 10):
            result = queue.send_batch([{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)])
            sent.update(entry["MessageId"] for entry in result["Successful"])
    return sent


def _receiver(
    host: Host, server: RedisServer, out: Path, script: Path, delete: bool
) -> subprocess.Popen[bytes]:
    url = f"redis://{host.server}:{server.port}/0"
    argv = [sys.executable, str(script), url, str(out), "delete" if delete else "keep"]
    return subprocess.Popen(host.command(argv))


def _ids(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_receivers_on_two_hosts_share_a_queue(
    network: tuple[list[Host], RedisServer], tmp_path: Path
) -> None:
    (a, b), server = network
    with Broker(store=server.url) as broker:
        broker.queue("work", visibility_timeout=300)  # (the receivers long-poll it meanwhile)
    script = tmp_path / "receiver.py"
    script.write_text(RECEIVER)
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    workers = [_receiver(host, server, out, script, delete=True) for host, out in zip((a, b), outs)]
    sent = _send(server.url, 2_000, visibility=300)  # while both hosts poll
    for worker in workers:
        assert worker.wait(timeout=PROCESS_TIMEOUT) == 0
    seen = _ids(outs[0]) + _ids(outs[1])
    # (How the messages split between the hosts is up to the scheduler: not asserted.)
    assert len(seen) == len(set(seen)), "a message was received twice within its visibility timeout"
    assert set(seen) == sent


def test_a_worker_killed_mid_batch_loses_nothing(
    network: tuple[list[Host], RedisServer], tmp_path: Path
) -> None:
    (a, b), server = network
    sent = _send(server.url, 300, visibility=3)
    script = tmp_path / "receiver.py"
    script.write_text(RECEIVER)
    held_out, finished_out = tmp_path / "a.txt", tmp_path / "b.txt"
    doomed = _receiver(a, server, held_out, script, delete=False)  # receives, never deletes
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not _ids(held_out) and time.monotonic() < deadline:
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=PROCESS_TIMEOUT)
    held = set(_ids(held_out))
    assert held, "the doomed worker received nothing before it was killed"
    survivor = _receiver(b, server, finished_out, script, delete=True)
    assert survivor.wait(timeout=PROCESS_TIMEOUT) == 0
    finished = set(_ids(finished_out))
    assert finished == sent  # what the killed worker held came back to the other host
    assert held <= finished


def _touch(path: Path) -> None:
    path.write_text("stop")


def _lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _wait(
    condition: Callable[[], bool], what: str, processes: Sequence[subprocess.Popen[bytes]] = ()
) -> None:
    """Until ``condition``; a clear failure when it does not come within PROCESS_TIMEOUT or when
    one of ``processes`` ended first (it failed: its own output says why)."""
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not condition():
        ended = [process.args for process in processes if process.poll() is not None]
        if ended:
            pytest.fail(f"waiting for {what}: a worker ended first: {ended}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def _run(host: Host, server: RedisServer, script: Path, *args: str) -> subprocess.Popen[bytes]:
    url = f"redis://{host.server}:{server.port}/0"
    return subprocess.Popen(host.command([sys.executable, str(script), url, *args]))


# ---------------------------------------------------------------------- FIFO order per group

FIFO_PRODUCER = textwrap.dedent(
    """
    import sys
    from rulebus import Broker

    url, name, groups, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with Broker(store=url) as broker:
        queue = broker.queue("orders.fifo")
        for n in range(count):  # each send acknowledged before the next: the producer's order
            body = f"{name}:{n % groups}:{n}"
            queue.send(body, message_group_id=f"g{n % groups}", message_deduplication_id=body)
    """
)

FIFO_CONSUMER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from rulebus import Broker

    url, out, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    with Broker(store=url) as broker, open(out, "w") as log:
        queue = broker.queue("orders.fifo")
        while True:
            batch = queue.receive(max_messages=10, wait_seconds=1)
            if not batch:
                if stop.exists():
                    break
                continue
            # Written before the delete: the next receiver of these groups gets them only after.
            now = time.monotonic_ns()
            for position, message in enumerate(batch):
                log.write(f"{now} {position} {message.message_id} {message.body}\\n")
            log.flush()
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch)]
            failed = queue.delete_batch(entries)["Failed"]
            assert not failed, failed
    """
)


def test_fifo_groups_keep_their_order_across_hosts(
    network: tuple[list[Host], RedisServer], tmp_path: Path
) -> None:
    (a, b), server = network
    with Broker(store=server.url) as broker:
        broker.queue("orders.fifo", visibility_timeout=120)
    producer, consumer = tmp_path / "producer.py", tmp_path / "consumer.py"
    producer.write_text(FIFO_PRODUCER)
    consumer.write_text(FIFO_CONSUMER)
    stop = tmp_path / "stop"
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    consumers = [_run(host, server, consumer, str(out), str(stop)) for host, out in zip((a, b), outs)]
    groups, count = 6, 150
    producers = [
        _run(host, server, producer, name, str(groups), str(count)) for host, name in ((a, "A"), (b, "B"))
    ]
    for process in producers:
        assert process.wait(timeout=PROCESS_TIMEOUT) == 0
    sent = {f"{name}:{n % groups}:{n}" for name in "AB" for n in range(count)}
    received = lambda: [line[3] for out in outs for line in _lines(out)]  # noqa: E731
    _wait(lambda: set(received()) >= sent, "every message received", consumers)
    _touch(stop)
    for process in consumers:
        assert process.wait(timeout=PROCESS_TIMEOUT) == 0
    bodies = received()
    assert len(bodies) == len(set(bodies)), "a message was received twice within its visibility timeout"
    assert set(bodies) == sent
    # Per group, in the order the two hosts received them: each producer's sends in its order.
    ordered = sorted((int(t), int(p), body) for out in outs for t, p, _, body in _lines(out))
    by_group: dict[tuple[str, str], list[int]] = {}
    for _, _, body in ordered:
        name, group, n = body.split(":")
        by_group.setdefault((group, name), []).append(int(n))
    assert len(by_group) == 2 * groups
    for (group, name), numbers in by_group.items():
        assert numbers == sorted(numbers), f"group g{group} gave {name}'s messages out of order"


# ---------------------------------------------------------------------- a lease taken over

GROUP_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from rulebus import Broker

    url, worker, out, stop = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
    with Broker(store=url) as broker, open(out, "w") as log:
        consumer = broker.stream("clicks").consumer("readers", worker_id=worker, lease_seconds=2)
        while not stop.exists():
            for entry in consumer.records(wait_seconds=1):
                log.write(entry["Data"].decode() + "\\n")
                log.flush()
    """
)

SHARDS = 4


def _put_pinned(url: str, start: int, count: int) -> list[tuple[int, int]]:
    """Records ``start`` .. ``start + count - 1``, record n in shard n % SHARDS (explicit hash
    keys), with data "shard:n"; the (shard, n) put."""
    width = 2**128 // SHARDS
    put = [(n % SHARDS, n) for n in range(start, start + count)]
    with Broker(store=url) as broker:
        stream = broker.stream("clicks")
        for first in range(0, count, 200):
            entries = [
                {"Data": f"{shard}:{n}".encode(), "PartitionKey": "p", "ExplicitHashKey": str(shard * width)}
                for shard, n in put[first : first + 200]
            ]
            assert stream.put_records(entries)["FailedRecordCount"] == 0
    return put


def _read(out: Path) -> list[tuple[int, int]]:
    return [(int(shard), int(n)) for shard, n in (line[0].split(":") for line in _lines(out))]


def test_a_killed_hosts_shards_are_taken_over_from_the_checkpoint(
    network: tuple[list[Host], RedisServer], tmp_path: Path
) -> None:
    (a, b), server = network
    with Broker(store=server.url) as broker:
        group = broker.stream("clicks", shards=SHARDS).consumer("readers")
    script, stop = tmp_path / "worker.py", tmp_path / "stop"
    script.write_text(GROUP_WORKER)
    doomed_out, survivor_out = tmp_path / "a.txt", tmp_path / "b.txt"
    doomed = _run(a, server, script, "doomed", str(doomed_out), str(stop))
    survivor = _run(b, server, script, "survivor", str(survivor_out), str(stop))
    try:
        with Broker(store=server.url) as broker:
            group = broker.stream("clicks").consumer("readers")

            def split() -> bool:
                members = group.describe()["Members"]
                return [len(member["Partitions"]) for member in members] == [2, 2]

            _wait(split, "the two hosts to lease two shards each", [doomed, survivor])
        put = _put_pinned(server.url, 0, 400)
        _wait(lambda: bool(_read(doomed_out)), "the doomed host to read a record", [doomed, survivor])
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=PROCESS_TIMEOUT)
        put += _put_pinned(server.url, 400, 400)
        _wait(
            lambda: set(_read(doomed_out) + _read(survivor_out)) >= set(put),
            "the survivor to read the killed host's shards after its leases ran out",
            [survivor],
        )
        _touch(stop)
        assert survivor.wait(timeout=PROCESS_TIMEOUT) == 0
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.kill()
                process.wait()
    before, after = _read(doomed_out), _read(survivor_out)
    taken = {shard for shard, _ in before}
    assert taken and len(taken) < SHARDS, "the killed host read no shard, or every shard"
    assert taken <= {shard for shard, _ in after}, "the killed host's shards were not taken over"
    for shard in range(SHARDS):
        in_shard = [n for s, n in put if s == shard]  # (put in this order: the shard's order)
        mine = [n for s, n in before if s == shard]
        theirs = [n for s, n in after if s == shard]
        # The killed host read a first part of the shard in order; the survivor read on from the
        # last checkpoint (at or before where the killed host stopped), in order, to the end.
        assert mine == in_shard[: len(mine)], f"shard {shard} was read out of order before the kill"
        assert theirs == in_shard[len(in_shard) - len(theirs) :], f"shard {shard} was not read on in order"
        assert len(mine) + len(theirs) >= len(in_shard), f"shard {shard}: records were skipped"


# ---------------------------------------------------------------------- Redis restarted mid-run

RESTART_SENDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from rulebus import Broker, StoreUnavailableError

    url, out, count, killed = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    with Broker(store=url) as broker, open(out, "w") as log:
        queue = broker.queue("durable")
        n = 0
        while n < count:
            if n == count // 2:
                while not killed.exists():  # (the test kills the server meanwhile)
                    time.sleep(0.02)
            try:
                message_id = queue.send(f"m{n}").message_id
            except StoreUnavailableError:  # the server is down: not acknowledged, sent again
                log.write("refused\\n")
                log.flush()
                time.sleep(0.05)
                continue
            log.write(message_id + "\\n")  # acknowledged
            log.flush()
            n += 1
    """
)

RESTART_RECEIVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from rulebus import Broker, StoreUnavailableError

    url, out, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    with Broker(store=url) as broker, open(out, "w") as log:
        queue = broker.queue("durable")
        while True:
            # (Taken before the receive: a message logged as received after its delete was
            # acknowledged was handed out again by a receive that began after that delete.)
            began = time.monotonic_ns()
            try:
                batch = queue.receive(max_messages=10, wait_seconds=1)
            except StoreUnavailableError:
                time.sleep(0.05)
                continue
            if not batch:
                if stop.exists():
                    break
                continue
            log.write("".join(f"R {began} {m.message_id}\\n" for m in batch))
            log.flush()
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch)]
            try:
                done = queue.delete_batch(entries)["Successful"]
            except StoreUnavailableError:  # not acknowledged: they come back after the timeout
                continue
            now = time.monotonic_ns()
            log.write("".join(f"D {now} {batch[int(e['Id'])].message_id}\\n" for e in done))
            log.flush()
    """
)


def test_a_redis_restart_loses_no_acknowledged_step(tmp_path: Path) -> None:
    with hosts(2) as (a, b):
        server = RedisServer(tmp_path / "redis", appendonly=True, appendfsync="always")
        server.bind = ["127.0.0.1", a.server, b.server]
        server.start()
        with Broker(store=server.url) as broker:
            broker.queue("durable", visibility_timeout=3)  # an unacknowledged delete comes back soon
        sender, receiver = tmp_path / "sender.py", tmp_path / "receiver.py"
        stop, killed = tmp_path / "stop", tmp_path / "killed"
        sender.write_text(RESTART_SENDER)
        receiver.write_text(RESTART_RECEIVER)
        sent_outs = [tmp_path / "sent-a.txt", tmp_path / "sent-b.txt"]
        logs = [tmp_path / "received-a.txt", tmp_path / "received-b.txt"]
        processes = [_run(host, server, receiver, str(log), str(stop)) for host, log in zip((a, b), logs)]
        senders = [
            _run(host, server, sender, str(out), "300", str(killed)) for host, out in zip((a, b), sent_outs)
        ]
        processes += senders

        def sent(kind: str) -> list[str]:
            return [
                line[0]
                for out in sent_outs
                for line in _lines(out)
                if (line[0] == "refused") == (kind == "refused")
            ]

        def acknowledged() -> set[str]:
            return set(sent("acknowledged"))

        def received() -> set[str]:
            return {line[2] for log in logs for line in _lines(log) if line[0] == "R"}

        try:
            # Half the sends acknowledged, some received: the server crashes, and the senders
            # go on (refused) until it is back.
            _wait(lambda: len(acknowledged()) == 300 and received(), "the first half of the sends", processes)
            server.kill()  # as a crash: nothing more written
            _touch(killed)
            _wait(lambda: all("refused" in out.read_text() for out in sent_outs), "sends refused", processes)
            server.start()  # same port, same append-only file
            for process in senders:
                assert process.wait(timeout=PROCESS_TIMEOUT) == 0
            _wait(lambda: acknowledged() <= received(), "every acknowledged send received", processes[:2])
            _touch(stop)
            for process in processes[:2]:
                assert process.wait(timeout=PROCESS_TIMEOUT) == 0
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            server.stop()
    assert len(acknowledged()) == 600
    assert acknowledged() <= received()
    events = sorted((int(t), kind, message) for log in logs for kind, t, message in _lines(log))
    deleted: set[str] = set()
    for _, kind, message in events:
        if kind == "D":
            deleted.add(message)
        else:
            assert message not in deleted, f"{message} came back after its delete was acknowledged"
