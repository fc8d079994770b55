"""Streams across processes on one SQLite file: a consumer process killed with SIGKILL mid-stream
resumes, in a new process, after its last checkpoint, and a consumer in one process is woken by
puts from another. And a consumer group of two worker processes on SQLite and on Redis, one of
them killed mid-run: the other takes its shards over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from helpers.streams import open_test_stream, stream_broker
from rulebus import Broker

TESTS = Path(__file__).resolve().parent

CONSUMER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from helpers.streams import open_test_stream, stream_broker

    broker = stream_broker(sys.argv[1])
    consumer = open_test_stream(broker, "s").consumer("app")
    consumer.batch_size = 5
    for count, record in enumerate(consumer.records(stop_at_end=True), 1):
        print(record["Data"].decode(), flush=True)
        if count == 12:
            sys.stdin.read()  # hold here until killed
    """
)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def test_killed_consumer_process_resumes_after_its_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "rulebus.db"
    broker = stream_broker(path)
    stream = open_test_stream(broker, "s")
    stream.put_records([{"Data": f"{i}".encode(), "PartitionKey": "k"} for i in range(30)])
    child = subprocess.Popen(
        [sys.executable, "-c", CONSUMER, str(path), str(TESTS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    seen = [child.stdout.readline().strip() for _ in range(12)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert seen == [str(i) for i in range(12)]
    # Batches of 5: the first two were checkpointed (the 6th and 11th records were asked for);
    # records 10 and 11 were yielded but never checkpointed, so they come again.
    # The killed worker still holds its lease of the shard until it runs out (lease_seconds, 10
    # by default): a worker whose clock is past that takes the shard over.
    assert stream.consumer("app").describe()["Partitions"][0]["Owner"] is not None
    assert list(stream.consumer("app").records(stop_at_end=True)) == []
    later = stream_broker(path, clock=lambda: time.time() + 60)
    rest = [
        r["Data"].decode() for r in open_test_stream(later, "s").consumer("app").records(stop_at_end=True)
    ]
    assert rest == [str(i) for i in range(10, 30)]
    later.close()
    broker.close()


PRODUCER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from helpers.streams import open_test_stream, stream_broker

    broker = stream_broker(sys.argv[1])
    open_test_stream(broker, "s").put_records([{"Data": b"from afar", "PartitionKey": "k"}])
    broker.close()
    """
)


def test_consumer_sees_another_process_puts(tmp_path: Path) -> None:
    path = tmp_path / "rulebus.db"
    broker = stream_broker(path)
    consumer = open_test_stream(broker, "s", shards=2).consumer("app")
    got: list[bytes] = []

    def read() -> None:
        for record in consumer.records():
            got.append(record["Data"])
            consumer.close()

    thread = threading.Thread(target=read)
    thread.start()
    subprocess.run([sys.executable, "-c", PRODUCER, str(path), str(TESTS)], check=True, timeout=60)
    thread.join(30)
    assert not thread.is_alive()
    assert got == [b"from afar"]
    broker.close()


GROUP_WORKER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from rulebus import Broker

    where, worker, hold_after = sys.argv[1], sys.argv[3], int(sys.argv[4])
    broker = Broker(store=where) if where.startswith("redis") else Broker(where)
    consumer = broker.stream("s").consumer("group", worker_id=worker, lease_seconds=1)
    consumer.batch_size = 7
    for count, record in enumerate(consumer.records(), 1):
        print(record["PartitionKey"], record["Data"].decode(), flush=True)
        if count == hold_after:
            sys.stdin.read()  # hold its leases without heartbeats until killed
    """
)


def _lines(child: subprocess.Popen[str], into: list[tuple[str, str]]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        key, value = line.split()
        into.append((key, value))


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_a_group_of_two_worker_processes_survives_one_killed(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = request.getfixturevalue("redis_url") if store == "redis" else str(tmp_path / "rulebus.db")
    broker = Broker(store=where) if store == "redis" else Broker(where)
    stream = broker.stream("s", shards=4)
    keys = [f"k{i}" for i in range(16)]
    sent = {key: [f"{key}:{n}" for n in range(25)] for key in keys}
    seen: dict[str, list[tuple[str, str]]] = {"doomed": [], "survivor": []}
    children: dict[str, subprocess.Popen[str]] = {}
    readers: list[threading.Thread] = []
    for name, hold_after in (("doomed", 30), ("survivor", 10**9)):
        child = subprocess.Popen(
            [sys.executable, "-c", GROUP_WORKER, where, str(TESTS), name, str(hold_after)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        children[name] = child
        readers.append(threading.Thread(target=_lines, args=(child, seen[name]), daemon=True))
        readers[-1].start()
    try:
        # Once both workers hold two shards each, put the records.
        group = stream.consumer("group")
        for _ in range(1200):
            members = group.describe()["Members"]
            if sorted(len(m["Partitions"]) for m in members) == [2, 2]:
                break
            time.sleep(0.05)
        for n in range(25):
            stream.put_records([{"Data": sent[key][n].encode(), "PartitionKey": key} for key in keys])
        # Once the doomed worker has read its 30 records (and holds its leases, silent), kill it.
        for _ in range(600):
            if len(seen["doomed"]) >= 30:
                break
            time.sleep(0.05)
        os.kill(children["doomed"].pid, signal.SIGKILL)
        children["doomed"].wait(30)
        # The survivor takes the dead worker's shards once their leases run out, and reads on.
        everything = {(key, value) for key, values in sent.items() for value in values}
        for _ in range(1200):
            if everything <= set(seen["doomed"]) | set(seen["survivor"]):
                break
            time.sleep(0.05)
    finally:
        for child in children.values():
            child.kill()
            child.wait(30)
        for reader in readers:
            reader.join(30)
        broker.close()
    assert len(seen["doomed"]) == 30
    assert everything <= set(seen["doomed"]) | set(seen["survivor"])  # every record at least once
    for name, lines in seen.items():
        # In order per shard (so per partition key): a record may come again after the last
        # checkpoint, but never one before another put earlier that was not read yet.
        for key in keys:
            firsts: list[int] = []
            for k, value in lines:
                n = int(value.split(":")[1])
                if k == key and n not in firsts:
                    firsts.append(n)
            assert firsts == sorted(firsts), (name, key)
    # No record was put before each worker held two shards: the survivor read the doomed
    # worker's keys only by taking its shards over.
    assert {key for key, _ in seen["doomed"]} & {key for key, _ in seen["survivor"]}
