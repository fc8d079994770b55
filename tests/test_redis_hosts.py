"""Several hosts on one Redis: worker processes in their own network namespaces (veth pairs to
this one, nothing leaves the machine), each reaching redis-server over its own link, as
machines on a network would. Competing receivers never get one message twice within its
visibility timeout and together get every message; a worker killed mid-batch loses nothing
(what it held comes back when its visibility timeout ends, and another host takes it).

Real processes and real time (visibility timeouts of a few seconds); no assertion on durations.
Skipped, with the reason, where namespaces cannot be made (not root, or no iproute2).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
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
