"""Messaging throughput of issue 4: rulebus's queues and topics beside bare loops and moto, one run.

    python benches/compare_messaging.py [--messages 20000] [--repeat 3] [--moto-messages 2000]

Queues: N messages of 200 bytes sent with send_batch of 10, received 10 at a time, deleted with
delete_batch of 10, one process; messages/s is N over the whole send+receive+delete cycle. Two
shapes: "backlog" sends all N and then drains the queue; "steady" sends, receives and deletes
one batch at a time (the queue never holds more than 10). Topic: publishes to a topic with 100
queue subscriptions whose filter policies let exactly a tenth of them through, beside in-memory
sends measured in the same run. Every figure is the median of K repeats; the engines take turns
within each repeat, so machine noise hits them alike; compare the ratios, not absolute figures
across runs. Every count is checked: a message lost or left behind fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from messaging_cases import (
    BATCH,
    GROUPS,
    SUBSCRIPTIONS,
    BareLoop,
    BareRedis,
    BareSQLite,
    FilteredTopic,
    MotoSQS,
    QueueEngine,
    RulebusEngine,
    expected_depths,
    moto_missing,
    publish_batches,
    redis_missing,
    send_batches,
)

RESULTS = Path(__file__).resolve().parent.parent / "bench-results" / "messaging.json"

# (engine factory, is it moto: which runs on --moto-messages)
QUEUE_ENGINES: list[tuple[Callable[[], QueueEngine], bool]] = [
    (lambda: RulebusEngine(sqlite=False), False),
    (BareLoop, False),
    (lambda: RulebusEngine(sqlite=True), False),
    (BareSQLite, False),
    (lambda: RulebusEngine(redis=True), False),
    (BareRedis, False),
    (MotoSQS, True),
]
REDIS_FACTORIES = (QUEUE_ENGINES[4][0], QUEUE_ENGINES[5][0])
# (label, numerator, denominator, target): ratios of the queue table
QUEUE_RATIOS = [
    ("rulebus memory / bare loop", "rulebus memory", "bare deque+dict loop", 0.5),
    ("rulebus SQLite / bare SQLite", "rulebus SQLite", "bare SQLite loop", 0.5),
    ("rulebus Redis / bare Redis", "rulebus Redis", "bare redis-py loop", 0.5),
]
SHAPES = ("backlog", "steady")


@dataclass
class Cycle:
    """One run of the queue workload: seconds per phase and the counts that went through."""

    sent: int = 0
    received: int = 0
    deleted: int = 0
    left: int = 0
    send_s: float = 0.0
    receive_s: float = 0.0
    delete_s: float = 0.0

    @property
    def seconds(self) -> float:
        return self.send_s + self.receive_s + self.delete_s


def _timed(cycle: Cycle, phase: str, call: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = call()
    setattr(cycle, phase, getattr(cycle, phase) + time.perf_counter() - start)
    return result


def _drain_one(engine: QueueEngine, cycle: Cycle) -> bool:
    """Receive up to 10 and delete them; False when the receive came back empty."""
    handles: list[str] = _timed(cycle, "receive_s", engine.receive)
    if not handles:
        return False
    cycle.received += len(handles)
    cycle.deleted += _timed(cycle, "delete_s", lambda: engine.delete_batch(handles))
    return True


def run_cycle(engine: QueueEngine, batches: Sequence[list[dict[str, Any]]], shape: str) -> Cycle:
    """backlog: send everything, then drain; steady: send one batch, drain it, and so on."""
    cycle = Cycle()
    for batch in batches:
        cycle.sent += _timed(cycle, "send_s", lambda b=batch: engine.send_batch(b))  # type: ignore[misc]
        if shape == "steady":
            _drain_one(engine, cycle)
    while _drain_one(engine, cycle):
        pass
    cycle.left = engine.depth()
    return cycle


def cycle_problem(name: str, shape: str, n: int, cycle: Cycle) -> str | None:
    if cycle.sent == cycle.received == cycle.deleted == n and cycle.left == 0:
        return None
    return (
        f"{name} ({shape}): sent {cycle.sent}, received {cycle.received}, deleted {cycle.deleted}, "
        f"left {cycle.left} of {n}"
    )


@dataclass
class Figures:
    """Medians over the repeats, and the problems found (wrong counts)."""

    rates: dict[str, float] = field(default_factory=dict)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def measure_queues(n: int, moto_n: int, repeat: int, shapes: Sequence[str], figures: Figures) -> None:
    # moto runs when it is installed and asked for (--moto-messages 0 leaves it out).
    moto_runs = moto_n > 0 and moto_missing() is None
    engines = [(make, moto) for make, moto in QUEUE_ENGINES if not moto or moto_runs]
    if redis_missing() is not None:  # (the report says why they are missing)
        engines = [(make, moto) for make, moto in engines if make not in REDIS_FACTORIES]
    samples: dict[str, list[Cycle]] = {}
    for _ in range(repeat):
        for shape in shapes:
            for make, moto in engines:
                count = moto_n if moto else n
                engine = make()
                try:
                    cycle = run_cycle(engine, send_batches(count), shape)
                finally:
                    engine.close()
                key = f"{engine.name} | {shape}"
                figures.messages[key] = count
                samples.setdefault(key, []).append(cycle)
                problem = cycle_problem(engine.name, shape, count, cycle)
                if problem:
                    figures.problems.append(problem)
    for key, cycles in samples.items():
        count = figures.messages[key]
        figures.rates[key] = statistics.median(count / c.seconds for c in cycles)
        figures.phases[key] = {
            phase: statistics.median(count / getattr(c, phase) for c in cycles)
            for phase in ("send_s", "receive_s", "delete_s")
        }


# --------------------------------------------------------------------------------------------
# The topic and the send rates it is compared with.


def _send_memory(n: int, one_by_one: bool) -> tuple[float, str | None]:
    """Seconds to send n messages to a memory queue, in batches of 10 or one by one."""
    engine = RulebusEngine(sqlite=False)
    batches = send_batches(n)
    bodies = [entry["MessageBody"] for batch in batches for entry in batch]
    try:
        start = time.perf_counter()
        if one_by_one:
            for text in bodies:
                engine.send(text)
        else:
            for batch in batches:
                engine.send_batch(batch)
        seconds = time.perf_counter() - start
        depth = engine.depth()
    finally:
        engine.close()
    return seconds, None if depth == n else f"send (one by one: {one_by_one}): queue holds {depth} of {n}"


def _topic_problem(what: str, topic: FilteredTopic, n: int) -> str | None:
    delivered, filtered = topic.deliveries()
    depths = topic.depths()
    matching = SUBSCRIPTIONS // GROUPS
    if (
        delivered == n * matching
        and filtered == n * (SUBSCRIPTIONS - matching)
        and depths == expected_depths(n)
    ):
        return None
    return (
        f"{what}: delivered {delivered} (want {n * matching}), filtered {filtered}, "
        f"depths {depths[:GROUPS]}..."
    )


def _publish_single(n: int) -> tuple[float, str | None]:
    topic = FilteredTopic()
    work = [(e["Message"], e["MessageAttributes"]) for batch in publish_batches(n) for e in batch]
    try:
        start = time.perf_counter()
        for text, attributes in work:
            topic.topic.publish(text, message_attributes=attributes)
        seconds = time.perf_counter() - start
        problem = _topic_problem("publish", topic, n)
    finally:
        topic.close()
    return seconds, problem


def _publish_batch(n: int, store: str | None = None) -> tuple[float, str | None]:
    topic = FilteredTopic(store)
    batches = publish_batches(n)
    try:
        start = time.perf_counter()
        published = sum(len(topic.topic.publish_batch(batch)["Successful"]) for batch in batches)
        seconds = time.perf_counter() - start
        problem = _topic_problem("publish_batch", topic, n)
    finally:
        topic.close()
    if published != n:
        problem = f"publish_batch: {published} of {n} accepted"
    return seconds, problem


TOPIC_RUNS: list[tuple[str, Callable[[int], tuple[float, str | None]]]] = [
    ("memory send_batch of 10", lambda n: _send_memory(n, one_by_one=False)),
    ("memory send, one by one", lambda n: _send_memory(n, one_by_one=True)),
    (
        f"publish, one by one ({SUBSCRIPTIONS} subscriptions, {SUBSCRIPTIONS // GROUPS} match)",
        _publish_single,
    ),
    (
        f"publish_batch of {BATCH} ({SUBSCRIPTIONS} subscriptions, {SUBSCRIPTIONS // GROUPS} match)",
        _publish_batch,
    ),
    (f"publish_batch of {BATCH}, SQLite store", lambda n: _publish_batch(n, "sqlite")),
    (f"publish_batch of {BATCH}, Redis store", lambda n: _publish_batch(n, "redis")),
]
# (label, publish run, send run, target)
TOPIC_RATIOS = [
    ("publish / send", TOPIC_RUNS[2][0], TOPIC_RUNS[1][0], 1 / 3),
    ("publish_batch / send_batch", TOPIC_RUNS[3][0], TOPIC_RUNS[0][0], 1 / 3),
    ("publish_batch / send", TOPIC_RUNS[3][0], TOPIC_RUNS[1][0], 1 / 3),
]


def measure_topic(n: int, repeat: int, figures: Figures) -> None:
    samples: dict[str, list[float]] = {}
    runs = [(label, run) for label, run in TOPIC_RUNS if "Redis" not in label or redis_missing() is None]
    for _ in range(repeat):
        for label, run in runs:
            seconds, problem = run(n)
            samples.setdefault(label, []).append(n / seconds)
            figures.messages[label] = n
            if problem:
                figures.problems.append(problem)
    for label, rates in samples.items():
        figures.rates[label] = statistics.median(rates)


# --------------------------------------------------------------------------------------------
# Tables.


def _verdict(ratio: float, target: float) -> str:
    return f"≥ {target:.2f} {'met' if ratio >= target else '**missed**'}"


def queue_table(figures: Figures, shape: str) -> str:
    lines = [
        "| engine | messages | messages/s | send/s | receive/s | delete/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, rate in figures.rates.items():
        name, _, key_shape = key.partition(" | ")
        if key_shape != shape:
            continue
        phases = figures.phases[key]
        lines.append(
            f"| {name} | {figures.messages[key]:,} | {rate:,.0f} | {phases['send_s']:,.0f} | "
            f"{phases['receive_s']:,.0f} | {phases['delete_s']:,.0f} |"
        )
    return "\n".join(lines)


def ratio_rows(
    figures: Figures, ratios: Sequence[tuple[str, str, str, float]], suffix: str = ""
) -> list[str]:
    rows = []
    for label, top, bottom, target in ratios:
        if top + suffix in figures.rates and bottom + suffix in figures.rates:
            ratio = figures.rates[top + suffix] / figures.rates[bottom + suffix]
            rows.append(f"| {label} | {ratio:.2f} | {_verdict(ratio, target)} |")
    return rows


def ratio_table(figures: Figures, shapes: Sequence[str]) -> str:
    lines = ["| ratio | shape | value | target (issue 4) |", "|---|---|---:|---|"]
    for shape in shapes:
        for row in ratio_rows(figures, QUEUE_RATIOS, f" | {shape}"):
            label, rest = row[2:].split(" | ", 1)
            lines.append(f"| {label} | {shape} | {rest}")
    return "\n".join(lines)


def topic_table(figures: Figures) -> str:
    lines = ["| what | messages | per second |", "|---|---:|---:|"]
    for label, _ in TOPIC_RUNS:
        if label in figures.rates:
            lines.append(f"| {label} | {figures.messages[label]:,} | {figures.rates[label]:,.0f} |")
    lines += ["", "| ratio | value | target (issue 4) |", "|---|---:|---|"]
    lines += ratio_rows(figures, TOPIC_RATIOS)
    return "\n".join(lines)


def report(figures: Figures, shapes: Sequence[str]) -> str:
    parts = []
    for shape in shapes:
        parts += [f"Queues, {shape}: messages/s over send+receive+delete (phases: messages/s of each)", ""]
        parts += [queue_table(figures, shape), ""]
    parts += [ratio_table(figures, shapes), ""]
    if any(label in figures.rates for label, _ in TOPIC_RUNS):
        parts += [
            "Topic (memory store unless named): publishes/s beside sends/s",
            "",
            topic_table(figures),
            "",
        ]
    missing = redis_missing()
    if missing is not None:
        parts += [f"Redis engines left out: {missing}", ""]
    return "\n".join(parts)


def write_json(figures: Figures, args: argparse.Namespace, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "arguments": vars(args) | {"output": str(args.output)},
        **asdict(figures),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=20_000, help="messages per queue run and per topic run"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--moto-messages", type=int, default=500, help="messages per moto run (its receive is O(backlog))"
    )
    parser.add_argument(
        "--topic-messages", type=int, default=None, help="publishes per topic run (default: --messages)"
    )
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--no-topic", action="store_true", help="queues only")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> Figures:
    figures = Figures()
    measure_queues(args.messages, args.moto_messages, args.repeat, args.shapes, figures)
    if not args.no_topic:
        measure_topic(args.topic_messages or args.messages, args.repeat, figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    missing = moto_missing()
    if missing is not None:
        print(f"moto skipped: {missing}")
    figures = measure(args)
    print(report(figures, args.shapes))
    write_json(figures, args, args.output)
    print(f"JSON: {args.output}")
    for problem in figures.problems:
        print(f"WRONG COUNT: {problem}")
    return 1 if figures.problems else 0


if __name__ == "__main__":
    sys.exit(main())
