"""``rulebus worker module:broker`` (docs/functions.md, "Running functions in a worker
process"): a program's functions and event source mappings run by a separate process on the
program's SQLite file, stopped gracefully by SIGTERM, and losing nothing when killed.

Real processes and real time: every wait polls for what must happen, with a generous deadline
that only a broken worker reaches; no assertion is about how long anything took.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.worker_process import Worker, wait_for
from rulebus import Broker

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

#: The program the worker runs: a queue and a stream mapped to functions that report to "done".
#: A body "hold:NAME" makes the handler write started-NAME and wait for the file release.
APP = textwrap.dedent(
    """
    import base64, os, time
    from pathlib import Path

    import rulebus

    here = Path(__file__).parent
    broker = rulebus.Broker(here / "app.db", background_functions=False)
    jobs = broker.queue("jobs", visibility_timeout=int(os.environ.get("APP_VISIBILITY", "300")))
    done = broker.queue("done")
    clicks = broker.stream("clicks", shards=1)

    @broker.function("work", timeout=int(os.environ.get("APP_TIMEOUT", "60")))
    def work(event, context):
        for record in event["Records"]:
            body = record["body"]
            if body.startswith("hold:"):
                # Written whole, then named: the test reads the pid as soon as the name appears.
                partial = here / f"starting-{body[5:]}"
                partial.write_text(str(os.getpid()))
                os.replace(partial, here / f"started-{body[5:]}")
                while not (here / "release").exists():
                    time.sleep(0.02)
            done.send(body)

    @broker.function("count")
    def count(event, context):
        for record in event["Records"]:
            done.send("k:" + base64.b64decode(record["kinesis"]["data"]).decode())

    broker.create_event_source_mapping(function_name="work", event_source_arn=jobs.arn, batch_size=5)
    broker.create_event_source_mapping(
        function_name="count", event_source_arn=clicks.arn, starting_position="TRIM_HORIZON"
    )
    """
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


@pytest.fixture
def broker(app: Path) -> Iterator[Broker]:
    """The program's side: the same file, sending and reading what the functions reported."""
    # The app makes the queues and the stream: import it as the program would, pools off.
    subprocess.run([sys.executable, "-c", "import app"], cwd=app, check=True)
    broker = Broker(app / "app.db", background_functions=False)
    yield broker
    broker.close()


class Reports:
    """Every body the functions sent to "done", read so far."""

    def __init__(self, broker: Broker) -> None:
        self.queue = broker.queue("done")
        self.bodies: list[str] = []

    def read(self) -> list[str]:
        for message in self.queue.receive(max_messages=10):
            self.bodies.append(message.body)
            self.queue.delete(message.receipt_handle)
        return self.bodies

    def has(self, *bodies: str) -> bool:
        return set(bodies) <= set(self.read())


def _running(pid: int) -> bool:
    """Whether the process runs (a zombie, ended but not reaped by its new parent, does not)."""
    if not Path("/proc/self").exists():  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _counts(broker: Broker) -> tuple[str, str]:
    attributes = broker.queue("jobs").get_attributes(
        ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]


def test_the_worker_runs_the_programs_mappings(app: Path, broker: Broker, workers: list[Worker]) -> None:
    workers.append(worker := Worker(app, "--workers", "2"))
    jobs, reports = broker.queue("jobs"), Reports(broker)
    bodies = [f"job-{index}" for index in range(12)]
    jobs.send_batch([{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies[:10])])
    jobs.send_batch([{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies[10:])])
    wait_for(lambda: reports.has(*bodies), "every job reported")
    wait_for(lambda: _counts(broker) == ("0", "0"), "every job deleted")
    assert worker.stop() == 0
    assert sorted(reports.read()) == sorted(bodies)
    assert "every batch taken finished" in worker.output()


def test_sigterm_lets_the_batch_in_flight_finish(app: Path, broker: Broker, workers: list[Worker]) -> None:
    workers.append(worker := Worker(app))
    broker.queue("jobs").send("hold:a")
    wait_for((app / "started-a").exists, "the batch to start")
    worker.process.send_signal(signal.SIGTERM)
    wait_for(lambda: "stopping" in worker.output(), "the worker to see the signal")
    (app / "release").write_text("go")
    assert worker.stop() == 0
    reports = Reports(broker)
    assert reports.read() == ["hold:a"]
    assert _counts(broker) == ("0", "0")


@pytest.mark.parametrize("pool", ["threads", "processes"])
def test_sigterm_past_the_grace_period_returns_the_batch(
    app: Path, broker: Broker, workers: list[Worker], pool: str
) -> None:
    workers.append(worker := Worker(app, "--grace-period", "0", "--pool", pool))
    jobs = broker.queue("jobs")  # visibility timeout 300 s: only the worker can make it visible
    jobs.send("hold:b")
    wait_for((app / "started-b").exists, "the batch to start")
    assert worker.stop() == 0
    assert "1 batches were returned unsettled" in worker.output()
    returned = jobs.receive(max_messages=10, attribute_names=["ApproximateReceiveCount"])
    assert [message.body for message in returned] == ["hold:b"]
    assert returned[0].attributes["ApproximateReceiveCount"] == "2"
    # Nothing of the worker runs on to settle it: a process pool's child is gone with it.
    handler_process = int((app / "started-b").read_text())
    wait_for(lambda: not _running(handler_process), "the handler's process to end")


@pytest.mark.parametrize("pool", ["threads", "processes"])
def test_a_worker_killed_mid_batch_loses_nothing(
    app: Path, tmp_path: Path, workers: list[Worker], pool: str
) -> None:
    # A killed worker's batch comes back after 2 seconds (a function's timeout must fit in it).
    env = {"APP_VISIBILITY": "2", "APP_TIMEOUT": "1"}
    subprocess.run([sys.executable, "-c", "import app"], cwd=app, check=True, env={**os.environ, **env})
    with Broker(app / "app.db", background_functions=False) as broker:
        workers.append(first := Worker(app, "--pool", pool, env=env))
        broker.queue("jobs").send("hold:c")
        wait_for((app / "started-c").exists, "the batch to start")
        handler_process = int((app / "started-c").read_text())
        first.process.kill()
        first.process.wait()
        # A process pool's child does not outlive its worker (it would settle the batch too).
        wait_for(lambda: not _running(handler_process), "the handler's process to end")
        (app / "release").write_text("go")
        workers.append(second := Worker(app, "--pool", pool, env=env))
        reports = Reports(broker)
        wait_for(lambda: reports.has("hold:c"), "the second worker to process the batch")
        wait_for(lambda: _counts(broker) == ("0", "0"), "the job deleted")
        assert second.stop() == 0
        assert reports.read() == ["hold:c"]


def test_a_restarted_worker_resumes_a_stream_after_its_checkpoint(
    app: Path, broker: Broker, workers: list[Worker]
) -> None:
    clicks, reports = broker.stream("clicks"), Reports(broker)
    clicks.put_records([{"Data": f"first-{index}".encode(), "PartitionKey": "p"} for index in range(3)])
    workers.append(first := Worker(app))
    wait_for(lambda: reports.has("k:first-0", "k:first-1", "k:first-2"), "the first records")
    assert first.stop() == 0
    clicks.put_records([{"Data": f"then-{index}".encode(), "PartitionKey": "p"} for index in range(2)])
    workers.append(second := Worker(app))
    wait_for(lambda: reports.has("k:then-0", "k:then-1"), "the records put while no worker ran")
    assert second.stop() == 0
    # One shard is read in order: a record read again would have come before the new ones.
    assert reports.read() == ["k:first-0", "k:first-1", "k:first-2", "k:then-0", "k:then-1"]


def test_a_memory_broker_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mem.py").write_text("import rulebus\nbroker = rulebus.Broker()\n")
    run = subprocess.run(
        [sys.executable, "-m", "rulebus", "worker", "mem:broker"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "keeps its state in memory" in run.stderr
    assert "SQLite" in run.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("app", 'give the broker as MODULE:NAME, for example "app:broker"'),
        ("nowhere:broker", 'Could not import module "nowhere"'),
        ("app:missing", 'Attribute "missing" not found in module "app"'),
        ("app:jobs", '"app:jobs" is a Queue, not a rulebus.Broker.'),
    ],
)
def test_a_target_that_is_not_a_broker_is_refused(app: Path, target: str, message: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "rulebus", "worker", target], cwd=app, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert message in run.stderr


# ---------------------------------------------------------------------- several workers, one stream

#: A program whose mapping reads a stream of four shards; each batch is appended, in the order
#: the worker handed it over, to seen-PID.txt as "shard index" lines (index: the record's data).
GROUP_APP = textwrap.dedent(
    """
    import base64, os
    from pathlib import Path

    import rulebus
    from rulebus.functions import kinesis_source

    kinesis_source.LEASE_SECONDS = float(os.environ.get("APP_LEASE", "10"))
    here = Path(__file__).parent
    broker = rulebus.Broker(os.environ.get("APP_STORE") or here / "group.db", background_functions=False)
    clicks = broker.stream("clicks", shards=4)

    @broker.function("count")
    def count(event, context):
        lines = "".join(
            f"{record['eventID'].split(':')[0]} {base64.b64decode(record['kinesis']['data']).decode()}\\n"
            for record in event["Records"]
        )
        with open(here / f"seen-{os.getpid()}.txt", "a") as seen:
            seen.write(lines)

    broker.create_event_source_mapping(
        function_name="count", event_source_arn=clicks.arn, starting_position="TRIM_HORIZON", batch_size=50
    )
    """
)


def _seen(folder: Path, worker: Worker) -> list[tuple[str, int]]:
    """What ``worker``'s process handed its function, in order: (shard, index) pairs."""
    path = folder / f"seen-{worker.process.pid}.txt"
    if not path.exists():
        return []
    pairs = [line.split() for line in path.read_text().splitlines()]
    return [(shard, int(index)) for shard, index in pairs]


def _put(stream: Any, start: int, count: int) -> set[int]:
    """Records ``start`` to ``start + count - 1``, spread over the shards by partition key."""
    for first in range(start, start + count, 500):
        entries = [
            {"Data": str(index).encode(), "PartitionKey": f"key-{index}"}
            for index in range(first, min(first + 500, start + count))
        ]
        assert stream.put_records(entries)["FailedRecordCount"] == 0
    return set(range(start, start + count))


@pytest.fixture(params=["sqlite", "redis"])
def group_app(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Path, dict[str, str], Broker]]:
    """The program's folder, the environment its workers run with, and the program's broker."""
    (tmp_path / "app.py").write_text(GROUP_APP)
    env = {"APP_LEASE": "2"}
    if request.param == "redis":
        env["APP_STORE"] = request.getfixturevalue("redis_url")
    subprocess.run([sys.executable, "-c", "import app"], cwd=tmp_path, check=True, env={**os.environ, **env})
    broker = Broker(env.get("APP_STORE") or tmp_path / "group.db", background_functions=False)
    yield tmp_path, env, broker
    broker.close()


def _split(broker: Broker, workers: list[Worker]) -> Callable[[], bool]:
    """Whether each worker leases two of the four shards (the group the mapping's pollers form)."""
    from rulebus.functions.kinesis_source import checkpoint_name

    group = broker.stream("clicks").consumer(checkpoint_name("count"))

    def split() -> bool:
        members = group.describe()["Members"]
        return len(members) == len(workers) and all(len(member["Partitions"]) == 2 for member in members)

    return split


def test_two_workers_split_a_stream_and_process_each_record_once(
    group_app: tuple[Path, dict[str, str], Broker], workers: list[Worker]
) -> None:
    folder, env, broker = group_app
    workers.append(first := Worker(folder, env=env))
    workers.append(second := Worker(folder, env=env))
    wait_for(_split(broker, [first, second]), "the two workers to lease two shards each")
    put = _put(broker.stream("clicks"), 0, 2_000)

    def processed() -> list[int]:
        return [index for _, index in _seen(folder, first) + _seen(folder, second)]

    wait_for(lambda: set(processed()) >= put, "every record processed")
    assert first.stop() == 0 and second.stop() == 0
    assert sorted(processed()) == sorted(put), "a record was processed twice"
    first_shards = {shard for shard, _ in _seen(folder, first)}
    second_shards = {shard for shard, _ in _seen(folder, second)}
    assert first_shards and second_shards, "one worker read every shard"
    assert not first_shards & second_shards, "a shard was read by both workers"


def test_a_killed_workers_shards_are_taken_over_from_its_checkpoints(
    group_app: tuple[Path, dict[str, str], Broker], workers: list[Worker]
) -> None:
    folder, env, broker = group_app
    stream = broker.stream("clicks")
    workers.append(doomed := Worker(folder, env=env))
    workers.append(survivor := Worker(folder, env=env))
    wait_for(_split(broker, [doomed, survivor]), "the two workers to lease two shards each")
    put = _put(stream, 0, 1_000)
    wait_for(lambda: len(_seen(folder, doomed)) > 0, "the doomed worker to process a batch")
    doomed.kill()
    put |= _put(stream, 1_000, 1_000)
    wait_for(
        lambda: {index for _, index in _seen(folder, doomed) + _seen(folder, survivor)} >= put,
        "the survivor to process the killed worker's shards",
    )
    assert survivor.stop() == 0
    by_shard: dict[str, tuple[list[int], list[int]]] = {}
    for position, worker in enumerate((doomed, survivor)):
        for shard, index in _seen(folder, worker):
            by_shard.setdefault(shard, ([], []))[position].append(index)
    for shard, (before, after) in by_shard.items():
        in_shard = sorted(set(before) | set(after))  # (put in index order: the shard's order)
        # The killed worker read a first part of the shard, in order; the survivor read it on from
        # the last checkpoint (at or before where the killed worker stopped), in order, to its end.
        assert before == in_shard[: len(before)], f"{shard} was read out of order before the kill"
        assert after == in_shard[len(in_shard) - len(after) :], f"{shard} was not read on in order"
        assert len(before) + len(after) >= len(in_shard), f"{shard}: records were skipped"
    assert {shard for shard, _ in _seen(folder, doomed)} < set(by_shard), "the killed worker read every shard"
