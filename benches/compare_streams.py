"""Stream throughput of issue 6: put_records plus a consumer reading everything, one process.

    python benches/compare_streams.py [--records 200000] [--shards 4] [--repeat 3] [--stores memory sqlite]

Each run opens a fresh broker (memory, SQLite in a temporary directory, or Redis on a
redis-server the bench starts), creates a stream of
``--shards`` shards, puts N records of 200 bytes with ``put_records`` in batches of 500 (partition
keys spread over 1,000 keys), then reads them all with ``stream.consumer("bench").records(
stop_at_end=True)``. records/s is N over the whole put+read time; the put and read phases are also
shown on their own. Every figure is the median of K repeats. Every record is counted: one lost or
read twice fails the run (exit 1). Targets (issue 6): 200,000 records/s in memory, 50,000 on SQLite;
(issue 16) 100,000 on Redis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--stores", nargs="+", choices=sorted(TARGETS), default=["memory", "sqlite"])
    args = parser.parse_args(argv)
    requests = batches(args.records)
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
