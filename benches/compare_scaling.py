"""How the stores' costs grow with what they hold: the scaling table of issue 12, one run.

    python benches/compare_scaling.py [--sizes 1000,10000,100000,1000000] [--budget 120]

Each case fills a fresh queue to a size N through the public API, then times the operation that
must stay flat (amortised constant or logarithmic in N), on the memory store and on SQLite:

- fifo send: the cost per message of 2,000 more sends to a FIFO queue whose deduplication window
  (5 minutes; the clock does not move) already holds N deduplication ids;
- fifo receive: the median of 200 receive(10) + delete_batch rounds on a FIFO queue with a backlog
  of N messages in 100 message groups (topped up after each round, untimed);
- receive, N in flight: the median of 200 send + receive(1) + delete rounds on a standard queue
  with N messages received and not yet visible again (N is capped at 100,000: SQS refuses
  receives past 120,000 in flight);
- get_attributes: the median of 20 GetQueueAttributes calls on a standard queue holding N
  messages;
- move task step: the median of 50 steps (``run_message_move_tasks``, one second of the clock
  apart) of a message move task at 10 messages per second out of a dead-letter queue holding N
  messages: each step moves 10, whatever N.

Times come from a fake clock for the queues (no message expires or comes due while a case runs)
and from ``time.perf_counter`` for the measurements. A case whose filling takes longer than
``--budget`` seconds is not run at larger sizes (shown as "-"). The machine is noisy: compare
the growth of a row (its last column over its first), not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rulebus

RESULTS = Path(__file__).resolve().parent.parent / "bench-results" / "scaling.json"
IN_FLIGHT_CAP = 100_000
GROUPS = 100


class Clock:
    """Epoch seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _brokers(store: str, folder: Path) -> tuple[rulebus.Broker, Clock]:
    clock = Clock()
    path = folder / f"scaling-{time.monotonic_ns()}.db" if store == "sqlite" else None
    broker = rulebus.Broker(
        path,
        clock=clock,
        background_move_tasks=False,
        background_schedules=False,
        background_retries=False,
    )
    return broker, clock


def _fill(queue: Any, count: int, fifo: bool, start: int = 0) -> None:
    body = "x" * 200
    for first in range(start, start + count, 10):
        entries: list[dict[str, Any]] = []
        for i in range(first, min(first + 10, start + count)):
            entry: dict[str, Any] = {"Id": str(i - first), "MessageBody": body}
            if fifo:
                entry["MessageGroupId"] = f"g{i % GROUPS}"
                entry["MessageDeduplicationId"] = f"d{i}"
            entries.append(entry)
        result = queue.send_batch(entries)
        if result["Failed"]:
            raise SystemExit(f"send failed: {result['Failed'][0]}")


def _median(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def fifo_send(broker: rulebus.Broker, clock: Clock, size: int) -> float:
    queue = broker.queue("send.fifo", fifo_queue=True)
    _fill(queue, size, fifo=True)
    extra = 2_000
    began = time.perf_counter()
    _fill(queue, extra, fifo=True, start=size)
    return (time.perf_counter() - began) / extra * 1e6


def fifo_receive(broker: rulebus.Broker, clock: Clock, size: int) -> float:
    queue = broker.queue("receive.fifo", fifo_queue=True)
    _fill(queue, size, fifo=True)
    samples = []
    for round_ in range(200):
        began = time.perf_counter()
        messages = queue.receive(max_messages=10, visibility_timeout=3600)
        if not messages:
            raise SystemExit("fifo receive: the backlog ran dry")
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)]
        queue.delete_batch(entries)
        samples.append(time.perf_counter() - began)
        _fill(queue, len(messages), fifo=True, start=size + round_ * 10)  # the backlog stays N
    return _median(samples)


def receive_in_flight(broker: rulebus.Broker, clock: Clock, size: int) -> float:
    queue = broker.queue("in-flight")
    size = min(size, IN_FLIGHT_CAP)
    _fill(queue, size, fifo=False)
    received = 0
    while received < size:
        got = queue.receive(max_messages=10, visibility_timeout=43_200)
        if not got:
            raise SystemExit("receive in flight: fewer messages than sent")
        received += len(got)
    samples = []
    for _ in range(200):
        began = time.perf_counter()
        queue.send("y" * 200)
        (message,) = queue.receive(max_messages=1, visibility_timeout=43_200)
        queue.delete(message.receipt_handle)
        samples.append(time.perf_counter() - began)
    return _median(samples)


def get_attributes(broker: rulebus.Broker, clock: Clock, size: int) -> float:
    queue = broker.queue("attributes")
    _fill(queue, size, fifo=False)
    samples = []
    for _ in range(20):
        began = time.perf_counter()
        attributes = queue.get_attributes()
        samples.append(time.perf_counter() - began)
    if int(attributes["ApproximateNumberOfMessages"]) != size:
        raise SystemExit(f"get_attributes counted {attributes['ApproximateNumberOfMessages']}, not {size}")
    return _median(samples)


def move_task_step(broker: rulebus.Broker, clock: Clock, size: int) -> float:
    dead = broker.queue("dead")
    broker.queue("source", redrive_policy={"deadLetterTargetArn": dead.arn, "maxReceiveCount": 1})
    target = broker.queue("target")
    _fill(dead, size, fifo=False)
    broker.start_message_move_task(dead.arn, destination_arn=target.arn, max_number_of_messages_per_second=10)
    samples = []
    for _ in range(50):
        clock.now += 1
        began = time.perf_counter()
        broker.run_message_move_tasks()
        samples.append(time.perf_counter() - began)
    moved = int(target.get_attributes(["ApproximateNumberOfMessages"])["ApproximateNumberOfMessages"])
    if moved != min(size, 500):
        raise SystemExit(f"move task step: {moved} moved, not {min(size, 500)}")
    return _median(samples)


CASES: list[tuple[str, str, Callable[[rulebus.Broker, Clock, int], float]]] = [
    ("fifo send", "µs per message", fifo_send),
    ("fifo receive", "µs, median receive(10)+delete", fifo_receive),
    ("receive, N in flight", "µs, median send+receive+delete", receive_in_flight),
    ("get_attributes", "µs, median call", get_attributes),
    ("move task step", "µs, median step (10 moved)", move_task_step),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--stores", default="memory,sqlite")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds a case may take to fill")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    sizes = [int(s) for s in options.sizes.split(",")]
    stores = options.stores.split(",")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for name, unit, case in CASES:
            for store in stores:
                figures: dict[int, float | None] = {}
                over = False
                for size in sizes:
                    if over:
                        figures[size] = None
                        continue
                    broker, clock = _brokers(store, Path(folder))
                    began = time.perf_counter()
                    try:
                        figures[size] = case(broker, clock, size)
                    finally:
                        broker.close()
                    over = time.perf_counter() - began > options.budget
                    print(f"{name:22} {store:7} {size:>9,}: {figures[size]:12,.1f} {unit}", flush=True)
                rows.append({"case": name, "unit": unit, "store": store, "figures": figures})
    print()
    print(f"| case | store | unit | {' | '.join(f'{s:,}' for s in sizes)} | last ÷ first |")
    print(f"|---|---|---|{'---:|' * len(sizes)}---:|")
    for row in rows:
        cells = [f"{v:,.1f}" if v is not None else "-" for v in row["figures"].values()]
        measured = [v for v in row["figures"].values() if v is not None]
        growth = f"{measured[-1] / measured[0]:.1f}x" if len(measured) > 1 and measured[0] else ""
        print(f"| {row['case']} | {row['store']} | {row['unit']} | {' | '.join(cells)} | {growth} |")
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "sizes": sizes,
                "rows": rows,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
