"""Stream throughput of issue 6: put_records plus a consumer reading everything, one process;
with ``--group``, issue 16's: a producer plus a consumer group of worker processes.

    python benches/compare_streams.py [--records 200000] [--shards 4] [--repeat 3] [--stores memory sqlite]
    python benches/compare_streams.py --group [--workers 2] [--records 100000] [--stores sqlite redis]

Each run opens a fresh broker (memory, SQLite in a temporary directory, or Redis on a
redis-server the bench starts), creates a stream of
``--shards`` shards, puts N records of 200 bytes with ``put_records`` in batches of 500 (partition
keys spread over 1,000 keys), then reads them all with ``stream.consumer("bench").records(
stop_at_end=True)``. records/s is N over the whole put+read time; the put and read phases are also
shown on their own. Every figure is the median of K repeats. Every record is counted: one lost or
read twice fails the run (exit 1). Targets (issue 6): 200,000 records/s in memory, 50,000 on SQLite;
(issue 16) 100,000 on Redis.

``--group``: the workers (``--workers`` processes, each one worker of ``stream.consumer("bench")``)
start, join the group and wait until the shards are shared out before the clock starts; then this
process puts the N records while they read. records/s is N over the time from the first put to
the last record read by any worker (process start not included); the put rate is shown on its
own. Every record's sequence number is collected: one lost or read twice fails the run. Memory
is not shared by processes, so only sqlite and redis run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rulebus import Broker

BATCH = 500
RECORD_SIZE = 200
KEYS = 1000
# Redis: issue 16 asks it of put_records plus a consumer group of two workers; one consumer here.
TARGETS = {"memory": 200_000.0, "sqlite": 50_000.0, "redis": 100_000.0}


@dataclass
class Run:
    put_seconds: float
    read_seconds: float
    records: int

    @property
    def total(self) -> float:
        return self.records / (self.put_seconds + self.read_seconds)


def batches(count: int) -> list[list[dict[str, object]]]:
    """The put_records requests, built before timing: what a producer hands over."""
    data = os.urandom(RECORD_SIZE)
    keys = [f"partition-{i}" for i in range(KEYS)]
    entries = [{"Data": data, "PartitionKey": keys[i % KEYS]} for i in range(count)]
    return [entries[i : i + BATCH] for i in range(0, count, BATCH)]


def make_broker(store: str, directory: str) -> Broker:
    if store == "redis":  # the bench's own redis-server, persistence off (messaging_cases)
        from messaging_cases import fresh_redis_url

        return Broker(store=fresh_redis_url(), background_move_tasks=False)
    return Broker(Path(directory) / "bench.db" if store == "sqlite" else None, background_move_tasks=False)


def run_once(store: str, requests: list[list[dict[str, object]]], shards: int) -> Run:
    count = sum(len(r) for r in requests)
    with tempfile.TemporaryDirectory() as directory:
        broker = make_broker(store, directory)
        try:
            stream = broker.stream("bench", shards=shards)
            start = time.perf_counter()
            for request in requests:
                result = stream.put_records(request)
                if result["FailedRecordCount"]:
                    raise SystemExit(f"{store}: {result['FailedRecordCount']} records failed")
            put_done = time.perf_counter()
            seen = 0
            for _ in stream.consumer("bench").records(stop_at_end=True):
                seen += 1
            read_done = time.perf_counter()
        finally:
            broker.close()
    if seen != count:
        print(f"{store}: put {count} records, read {seen}", file=sys.stderr)
        raise SystemExit(1)
    return Run(put_done - start, read_done - put_done, count)


@dataclass
class GroupRun:
    put_seconds: float
    total_seconds: float
    records: int
    # CPU seconds spent by the producer, by the workers together, and by redis-server (None on
    # SQLite), from the clock's start to the end of the run: where a shared machine's cores went.
    cpu: tuple[float, float, float | None]


def open_store(store: str, directory: str) -> str | Path:
    """What every process of a group run opens: the Redis URL or the SQLite file."""
    if store == "redis":
        from messaging_cases import fresh_redis_url

        return fresh_redis_url()
    return Path(directory) / "bench.db"


def group_worker(where: str | Path, ready: Any, read_total: Any, expected: int, results: Any) -> None:
    """One worker process: join the group, say so, read until the group has read everything;
    report its sequence numbers and the instant (time.monotonic, system-wide) of its last record."""
    broker = make_group_broker(where)
    try:
        consumer = broker.stream("bench").consumer("bench")
        for _ in consumer.records(wait_seconds=0.01):  # take the leases before the clock starts
            raise SystemExit("the stream is not empty")
        cpu_start = time.process_time()
        ready.release()
        seen: list[str] = []
        last = 0.0
        while True:
            before = len(seen)
            for entry in consumer.records(wait_seconds=0.05):
                seen.append(entry["SequenceNumber"])
            if len(seen) != before:
                last = time.monotonic()
                with read_total.get_lock():
                    read_total.value += len(seen) - before
            if read_total.value >= expected:  # the others read the rest (a loss fails the run)
                break
        consumer.checkpoint()
        consumer.close()
        results.put((seen, last, time.process_time() - cpu_start))
    finally:
        broker.close()


def group_once(store: str, requests: list[list[dict[str, object]]], shards: int, workers: int) -> GroupRun:
    count = sum(len(r) for r in requests)
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as directory:
        where = open_store(store, directory)
        broker = make_group_broker(where)
        try:
            stream = broker.stream("bench", shards=shards)
            ready = spawn.Semaphore(0)
            read_total = spawn.Value("q", 0)
            results = spawn.Queue()
            processes = [
                spawn.Process(target=group_worker, args=(where, ready, read_total, count, results))
                for _ in range(workers)
            ]
            for process in processes:
                process.start()
            for _ in processes:
                ready.acquire()
            consumer = stream.consumer("bench")
            while True:  # until every worker holds its share (a joiner waits for a renewal)
                held = [len(m["Partitions"]) for m in consumer.describe()["Members"]]
                if len(held) == workers and max(held) - min(held) <= 1 and sum(held) == shards:
                    break
                time.sleep(0.05)
            server_cpu = redis_cpu(store)
            start, cpu_start = time.monotonic(), time.process_time()
            for request in requests:
                result = stream.put_records(request)
                if result["FailedRecordCount"]:
                    raise SystemExit(f"{store}: {result['FailedRecordCount']} records failed")
            put_done, put_cpu = time.monotonic(), time.process_time() - cpu_start
            answers = [results.get(timeout=600) for _ in processes]
            if server_cpu is not None:
                server_cpu = (redis_cpu(store) or 0.0) - server_cpu
            for process in processes:
                process.join()
        finally:
            broker.close()
    seen = [seq for numbers, _, _ in answers for seq in numbers]
    if len(seen) != count or len(set(seen)) != count:
        print(f"{store}: put {count} records, read {len(seen)} ({len(set(seen))} distinct)", file=sys.stderr)
        raise SystemExit(1)
    last = max(at for _, at, _ in answers)
    workers_cpu = sum(cpu for _, _, cpu in answers)
    return GroupRun(put_done - start, last - start, count, (put_cpu, workers_cpu, server_cpu))


def redis_cpu(store: str) -> float | None:
    """The bench's redis-server's CPU seconds so far (user and system)."""
    if store != "redis":
        return None
    from messaging_cases import _redis_server

    info = _redis_server()[1].info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def make_group_broker(where: str | Path) -> Broker:
    if isinstance(where, str):
        return Broker(store=where, background_move_tasks=False)
    return Broker(where, background_move_tasks=False)


def group_main(args: argparse.Namespace, requests: list[list[dict[str, object]]]) -> int:
    print(
        f"{args.records} records of {RECORD_SIZE} bytes, put_records batches of {BATCH}, "
        f"{args.shards} shards, a group of {args.workers} worker processes, median of {args.repeat}"
    )
    print(
        f"{'store':8} {'put rec/s':>12} {'put+group read rec/s':>21} {'target':>10}"
        "  CPU s: producer/workers/server"
    )
    missed = False
    for store in args.stores:
        if store == "memory":
            print("memory   (not shared by processes: skipped)")
            continue
        runs = [group_once(store, requests, args.shards, args.workers) for _ in range(args.repeat)]
        put = statistics.median(r.records / r.put_seconds for r in runs)
        total = statistics.median(r.records / r.total_seconds for r in runs)
        target = TARGETS[store]
        mark = "met" if total >= target else "MISSED"
        missed |= total < target
        median = sorted(runs, key=lambda r: r.total_seconds)[len(runs) // 2]
        producer, workers, server = median.cpu
        cpu = f"{producer:.2f}/{workers:.2f}/" + ("-" if server is None else f"{server:.2f}")
        print(f"{store:8} {put:12,.0f} {total:21,.0f} {target:10,.0f} {mark:6}  {cpu}")
    return 2 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--stores", nargs="+", choices=sorted(TARGETS), default=["memory", "sqlite"])
    parser.add_argument("--group", action="store_true", help="a consumer group of worker processes")
    parser.add_argument("--workers", type=int, default=2, help="the group's worker processes (--group)")
    args = parser.parse_args(argv)
    requests = batches(args.records)
    if args.group:
        return group_main(args, requests)
    print(
        f"{args.records} records of {RECORD_SIZE} bytes, put_records batches of {BATCH}, "
        f"{args.shards} shards, median of {args.repeat}"
    )
    print(f"{'store':8} {'put rec/s':>12} {'read rec/s':>12} {'put+read rec/s':>15} {'target':>10}")
    missed = False
    for store in args.stores:
        runs = [run_once(store, requests, args.shards) for _ in range(args.repeat)]
        put = statistics.median(r.records / r.put_seconds for r in runs)
        read = statistics.median(r.records / r.read_seconds for r in runs)
        total = statistics.median(r.total for r in runs)
        target = TARGETS[store]
        mark = "met" if total >= target else "MISSED"
        missed |= total < target
        print(f"{store:8} {put:12,.0f} {read:12,.0f} {total:15,.0f} {target:10,.0f} {mark}")
    return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
