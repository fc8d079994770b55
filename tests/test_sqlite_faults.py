"""The SQLite store under faults and resource pressure: what it holds open, what it refuses, and
how each SQLite failure reaches the caller. Each condition is created for real."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from rulebus import Broker, RulebusError
from rulebus.stores import SQLiteStore, open_store

THREADS = 2_000
AT_ONCE = 20  # threads alive together: enough to overlap, few enough for any machine


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_connections_do_not_outlive_their_threads(tmp_path: Path) -> None:
    with Broker(tmp_path / "rulebus.db") as broker:
        queue = broker.queue("work")
        queue.send("warm-up")  # this thread's connection, and the file, opened before counting
        assert [m.body for m in queue.receive()] == ["warm-up"]
        before = open_descriptors()
        received: list[str] = []
        errors: list[BaseException] = []

        def send_and_receive(n: int) -> None:
            try:
                queue.send(f"m{n}")
                for message in queue.receive(max_messages=10, visibility_timeout=300):
                    received.append(message.body)
            except BaseException as error:  # reported below: a thread's failure must fail the test
                errors.append(error)

        for start in range(0, THREADS, AT_ONCE):
            threads = [
                threading.Thread(target=send_and_receive, args=(n,)) for n in range(start, start + AT_ONCE)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        after = open_descriptors()
        while True:  # whatever the threads' receives left behind
            batch = queue.receive(max_messages=10, visibility_timeout=300)
            if not batch:
                break
            received.extend(m.body for m in batch)

    assert errors == []
    # Every thread ended, so its connection was closed. SQLite's unix VFS keeps the descriptor
    # of a closed connection's file open, for reuse, while another connection of the process
    # (this thread's) holds a lock on the file (closing it would drop that lock): so at most one
    # descriptor per thread that was alive at once remains, never one per thread that ran.
    grown = after - before
    assert grown <= AT_ONCE + 2, f"{grown} descriptors more after {THREADS} threads"
    assert sorted(received) == sorted(f"m{n}" for n in range(THREADS))


@pytest.mark.parametrize("path", ["", ":memory:"])
def test_an_in_memory_sqlite_broker_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"Use Broker\(\) .* or give a file path") as refused:
        Broker(path)
    assert isinstance(refused.value, RulebusError)
    with pytest.raises(ValueError, match=r"Use Broker\(\)"):
        SQLiteStore(path)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", ":memory:", ""])
def test_an_in_memory_sqlite_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"Use Broker\(\) \(or the URL 'memory://'\)"):
        open_store(url)
    with pytest.raises(ValueError, match=r"Use Broker\(\)"):
        Broker(store=url)
