"""The SQLite store under faults and resource pressure: what it holds open, what it refuses, and
how each SQLite failure reaches the caller. Each condition is created for real."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from rulebus import (
    Broker,
    RulebusError,
    StoreClosedError,
    StoreCorruptError,
    StoreFullError,
    StoreLockedError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
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
    with pytest.raises(ValueError, match=r"Use Broker\(\) for an in-memory broker \(as a store URL, use 'memory://'\)"):
        open_store(url)
    with pytest.raises(ValueError, match=r"Use Broker\(\)"):
        Broker(store=url)


# ---------------------------------------------------------------------------------------------
# Each SQLite failure reaches the caller as a StoreError subclass that says what to do.


def fresh_file(path: Path, bodies: list[str]) -> None:
    """An SQLite store file at ``path`` holding ``bodies`` in queue "q", closed (so its WAL is
    checkpointed into the file and removed)."""
    with Broker(path) as broker:
        queue = broker.queue("q")
        for body in bodies:
            queue.send(body)
    assert not Path(f"{path}-wal").exists()


def test_a_file_sqlite_must_treat_as_read_only_raises_read_only(tmp_path: Path) -> None:
    # Permissions do not stop root, so the file itself says so: a write version above 2 in its
    # header (byte 18) makes SQLite open it read-only ("Database File Format", section 1.3.3).
    path = tmp_path / "app.db"
    fresh_file(path, ["kept"])
    with path.open("r+b") as file:
        file.seek(18)
        file.write(b"\x03")
    with Broker(path) as broker:
        queue = broker.queue("q")  # exists: opening and looking it up only read
        with pytest.raises(StoreReadOnlyError, match=r"cannot be written .* Make them writable") as raised:
            queue.send("refused")
        assert raised.value.sqlite_error == "SQLITE_READONLY"
        assert raised.value.path == str(path)
        with pytest.raises(StoreReadOnlyError):
            queue.receive()  # a receive writes too (it hides what it returns)
    with path.open("r+b") as file:
        file.seek(18)
        file.write(b"\x02")
    with Broker(path) as broker:
        assert [m.body for m in broker.queue("q").receive(max_messages=10)] == ["kept"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the permissions say")
def test_a_read_only_directory_raises_read_only_or_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    fresh_file(folder / "app.db", ["kept"])
    (folder / "app.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        with pytest.raises((StoreReadOnlyError, StoreUnavailableError)), Broker(folder / "app.db") as broker:
            broker.queue("q").send("refused")
    finally:
        folder.chmod(0o755)


def test_a_lock_held_past_the_busy_timeout_raises_locked(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    fresh_file(path, ["kept"])
    holder = sqlite3.connect(path, isolation_level=None)  # another connection, as another process
    with Broker(store=SQLiteStore(path, busy_timeout=0.2)) as broker:
        queue = broker.queue("q")
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreLockedError, match=r"busy timeout \(0.2 s\), so nothing was changed"):
                queue.send("refused")
            with pytest.raises(StoreLockedError) as raised:
                queue.receive()  # a short poll
            assert raised.value.sqlite_error is not None
            assert raised.value.sqlite_error.startswith("SQLITE_BUSY")
        finally:
            holder.execute("ROLLBACK")
        # The lock released, the same broker (and thread) works again and lost nothing.
        assert [m.body for m in queue.receive(max_messages=10)] == ["kept"]
        queue.send("after")
    holder.close()


def test_a_file_that_is_not_a_database_raises_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are notes, not a database\n" * 200)
    with pytest.raises(StoreCorruptError, match=r"is not an SQLite database") as raised:
        Broker(path)
    assert raised.value.sqlite_error == "SQLITE_NOTADB"
    assert path.read_text() == "these are notes, not a database\n" * 200  # left as it was


def test_a_damaged_file_raises_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    fresh_file(path, [f"m{n}-" + "x" * 1000 for n in range(50)])
    size = path.stat().st_size
    with path.open("r+b") as file:  # page 1 (the header and the schema) intact, the rest garbage
        file.seek(4096)
        file.write(bytes((n * 37 + 11) % 256 for n in range(size - 4096)))
    with pytest.raises(StoreCorruptError, match=r"is damaged .* \.recover") as raised, Broker(path) as broker:
        broker.queue("q").receive()
    assert raised.value.sqlite_error is not None
    assert raised.value.sqlite_error.startswith("SQLITE_CORRUPT")


def test_a_full_file_raises_full_and_keeps_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    fresh_file(path, [])
    limit = path.stat().st_size + 64 * 1024  # room for a few messages past the tables
    with Broker(store=SQLiteStore(path, max_size=limit)) as broker:
        queue = broker.queue("q")
        sent = 0
        with pytest.raises(StoreFullError, match=r"cannot grow: the disk or the store's max_size") as raised:
            for _ in range(100):
                queue.send("y" * 4000)
                sent += 1
        assert raised.value.sqlite_error == "SQLITE_FULL"
        assert 0 < sent < 100
        counts = queue.get_attributes(["ApproximateNumberOfMessages"])
        assert counts == {"ApproximateNumberOfMessages": str(sent)}  # the failed send left nothing
        queue.purge()  # deleting frees room
        queue.send("after")
        assert [m.body for m in queue.receive()] == ["after"]


def test_a_missing_directory_raises_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "app.db"
    with pytest.raises(StoreUnavailableError, match=r"its directory .*missing' does not exist") as raised:
        Broker(path)
    assert raised.value.sqlite_error == "SQLITE_CANTOPEN"
    assert not path.parent.exists()


def test_a_directory_for_a_file_raises_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match=r"must name a file \(not a directory\)"):
        Broker(tmp_path)


def test_a_closed_store_raises_closed(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "app.db")
    queue = broker.queue("q")
    broker.close()
    with pytest.raises(StoreClosedError):
        queue.send("late")


# ---------------------------------------------------------------------------------------------
# A long poll honours its own deadline while another process holds the write lock.

LOCK_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    connection.execute("ROLLBACK")
    """
)


def test_a_long_poll_returns_empty_at_its_deadline_while_another_process_holds_the_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    fresh_file(path, ["waiting"])
    with Broker(path) as broker:  # the default busy timeout (30 s): far beyond the poll's wait
        queue = broker.queue("q")
        holder = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
            # Not StoreLockedError after the busy timeout: empty, as a long poll that found nothing.
            assert queue.receive(wait_seconds=1) == []
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=60)
        assert holder.returncode == 0
        assert [m.body for m in queue.receive(wait_seconds=1)] == ["waiting"]  # nothing lost


def test_a_long_poll_outlasting_the_busy_timeout_keeps_polling_until_the_lock_is_released(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    fresh_file(path, ["waiting"])
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    with Broker(store=SQLiteStore(path, busy_timeout=0.1)) as broker:
        queue = broker.queue("q")
        holder.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(0.5, lambda: holder.execute("ROLLBACK"))  # several busy timeouts
        release.start()
        try:
            # Each attempt gives up after 0.1 s; the poll tries again until its 20 s are up.
            assert [m.body for m in queue.receive(wait_seconds=20)] == ["waiting"]
        finally:
            release.join()
    holder.close()


# ---------------------------------------------------------------------------------------------
# A row that cannot be decoded fails that message, not its queue.

DAMAGES = {
    "attributes not JSON": "message_attributes = '{not json'",
    "attributes not an object": "message_attributes = '[1, 2]'",
    "binary value not base64": (
        """message_attributes = '{"a": {"DataType": "Binary", "BinaryValue": "abc"}}'"""
    ),
    "a body of bytes": "body = x'00ff'",
    "a timestamp that is text": "sent_timestamp = 'yesterday'",
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=list(DAMAGES))
@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_a_row_that_cannot_be_decoded_is_set_aside_and_the_rest_received(
    tmp_path: Path, damage: str, fifo: bool, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "app.db"
    store = SQLiteStore(path)
    with Broker(store=store) as broker:
        name = "q.fifo" if fifo else "q"
        queue = broker.queue(name)
        ids = [
            queue.send(f"m{n}", message_group_id="g", message_deduplication_id=f"d{n}").message_id
            if fifo
            else queue.send(f"m{n}").message_id
            for n in range(3)
        ]
        with sqlite3.connect(path) as raw:  # another program damages the middle message
            raw.execute(f"UPDATE messages SET {damage} WHERE message_id = ?", (ids[1],))

        with caplog.at_level("WARNING", logger="rulebus.stores.sqlite"):
            bodies = [m.body for m in queue.receive(max_messages=10)]
            if fifo:  # one group: each message in turn once the one before is deleted
                while bodies[-1] != "m2":
                    (message,) = queue.receive()
                    bodies.append(message.body)
        assert sorted(bodies) == ["m0", "m2"]
        assert queue.receive(max_messages=10) == []  # and every later receive works
        (aside,) = store.corrupt_messages()
        assert (aside.queue, aside.message_id) == (name, ids[1])
        assert aside.row["body"] in ("m1", {"base64": "AP8="})
        assert aside.error
        (record,) = [r for r in caplog.records if r.name == "rulebus.stores.sqlite"]
        assert record.levelname == "WARNING" and ids[1] in record.getMessage()
        counts = queue.get_attributes(
            ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "2"}


def test_a_move_task_sets_a_row_that_cannot_be_decoded_aside(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    store = SQLiteStore(path)
    with Broker(store=store) as broker:
        dead = broker.queue("dead")
        source = broker.queue(
            "source", redrive_policy={"deadLetterTargetArn": dead.arn, "maxReceiveCount": 1}
        )
        target = broker.queue("target")
        for n in range(3):
            dead.send(f"m{n}")
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE messages SET message_attributes = 'nope' WHERE body = 'm1'")
        broker.start_message_move_task(dead.arn, destination_arn=target.arn)
        broker.run_message_move_tasks()
        assert sorted(m.body for m in target.receive(max_messages=10)) == ["m0", "m2"]
        assert [c.row["body"] for c in store.corrupt_messages()] == ["m1"]
        assert source.receive() == []


def test_a_waiting_stream_consumer_does_not_outwait_its_wait_on_another_writers_lock(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with Broker(store=SQLiteStore(path, busy_timeout=2)) as broker:
        stream = broker.stream("s")
        stream.put_record(b"before", "key")
        (shard,) = [s["ShardId"] for s in stream.describe()["Shards"]]
        consumer = stream.consumer("reader")
        assert [r["Data"] for r in consumer.records(stop_at_end=True)] == [b"before"]
        stream.split_shard(shard, str(2**127))  # the parent closes: read to its end next pass
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the lock past the busy timeout
        try:
            # The parent's end is a checkpoint to save while waiting: not StoreLockedError
            # after the busy timeout, but an empty wait, the save left for later.
            assert list(consumer.records(wait_seconds=0.2)) == []
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert list(consumer.records(stop_at_end=True)) == []  # saved now
        assert consumer.checkpoints()[shard] == "SHARD_END"
