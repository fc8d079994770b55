"""Event-bus throughput of issue 5: PutEvents through 1,000 rules beside plain sends, one run.

    python benches/compare_bus.py [--events 20000] [--repeat 3] [--rules 1000] [--moto-events 200]

The bus has ``--rules`` rules, rule i matching ``detail.customer == "c-<i>"`` and targeting one
queue; event k names customer ``k mod rules``, so every event matches exactly one rule. rulebus
puts the events with ``put_events`` in batches of 10 (memory store, one process); the yardstick
sends the same event bodies straight to the queue with ``send_batch`` of 10, in the same run.
moto's EventBridge (boto3 against ``moto.mock_aws``, same rules and an SQS target) runs on
``--moto-events`` events, as it matches rules one by one. Every count is checked (each event
reaches the queue once); a figure is the median of K repeats, engines taking turns.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import rulebus

BATCH = 10


def entries(n: int, rules: int) -> list[list[dict[str, Any]]]:
    events = [
        {
            "Source": "com.shop",
            "DetailType": "Order Placed",
            "Detail": json.dumps({"customer": f"c-{k % rules}", "orderId": f"o-{k}", "amount": k % 500}),
        }
        for k in range(n)
    ]
    return [events[i : i + BATCH] for i in range(0, n, BATCH)]


def _drained(queue: rulebus.sqs.queue.Queue) -> int:
    count = 0
    while True:
        messages = queue.receive(max_messages=10)
        if not messages:
            return count
        count += len(messages)
        queue.delete_batch(
            [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)]
        )


def rulebus_bus(n: int, rules: int) -> float:
    """Events/s of put_events; checks that each event reached the queue once."""
    with rulebus.Broker(rules_per_bus=None) as broker:
        queue = broker.queue("sink")
        bus = broker.event_bus("bench")
        for i in range(rules):
            bus.put_rule(f"r{i}", event_pattern={"detail": {"customer": [f"c-{i}"]}})
            bus.put_targets(f"r{i}", [{"Id": "q", "Arn": queue.arn}])
        batches = entries(n, rules)
        start = time.perf_counter()
        for batch in batches:
            bus.put_events(batch)
        elapsed = time.perf_counter() - start
        if _drained(queue) != n:
            raise SystemExit("rulebus: an event was lost or duplicated")
        return n / elapsed


def plain_sends(n: int, rules: int) -> float:
    """Messages/s of send_batch of 10 with the events' envelopes as bodies."""
    bodies = [
        json.dumps(
            {
                "version": "0",
                "id": f"{k:036d}",
                "detail-type": "Order Placed",
                "source": "com.shop",
                "account": "000000000000",
                "time": "2026-11-29T00:00:00Z",
                "region": "us-east-1",
                "resources": [],
                "detail": json.loads(e["Detail"]),
            },
            separators=(",", ":"),
        )
        for k, e in enumerate(e for batch in entries(n, rules) for e in batch)
    ]
    with rulebus.Broker() as broker:
        queue = broker.queue("sink")
        batches = [
            [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[j : j + BATCH])]
            for j in range(0, n, BATCH)
        ]
        start = time.perf_counter()
        for batch in batches:
            queue.send_batch(batch)
        elapsed = time.perf_counter() - start
        if _drained(queue) != n:
            raise SystemExit("sends: a message was lost")
        return n / elapsed


def moto_bus(n: int, rules: int) -> float | None:
    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        return None
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        url = sqs.create_queue(QueueName="sink")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.create_event_bus(Name="bench")
        for i in range(rules):
            pattern = json.dumps({"detail": {"customer": [f"c-{i}"]}})
            events.put_rule(Name=f"r{i}", EventBusName="bench", EventPattern=pattern)
            events.put_targets(Rule=f"r{i}", EventBusName="bench", Targets=[{"Id": "q", "Arn": arn}])
        batches = [[{**e, "EventBusName": "bench"} for e in batch] for batch in entries(n, rules)]
        start = time.perf_counter()
        for batch in batches:
            events.put_events(Entries=batch)
        elapsed = time.perf_counter() - start
        received = 0
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            received += len(got)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
            )
        if received != n:
            raise SystemExit(f"moto: {received} of {n} events reached the queue")
        return n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--moto-events", type=int, default=200)
    args = parser.parse_args(argv)
    runs: dict[str, list[float]] = {"rulebus put_events": [], "send_batch straight to the queue": []}
    engines: list[tuple[str, Callable[[], float]]] = [
        ("rulebus put_events", lambda: rulebus_bus(args.events, args.rules)),
        ("send_batch straight to the queue", lambda: plain_sends(args.events, args.rules)),
    ]
    for _ in range(args.repeat):
        for name, run in engines:
            runs[name].append(run())
    figures = {name: statistics.median(values) for name, values in runs.items()}
    moto = moto_bus(args.moto_events, args.rules) if args.moto_events else None
    print(f"{args.events} events in batches of 10, {args.rules} rules, median of {args.repeat}\n")
    print("| engine | events/s |\n|---|---:|")
    for name, value in figures.items():
        print(f"| {name} | {value:,.0f} |")
    if moto is not None:
        print(f"| moto EventBridge ({args.moto_events} events) | {moto:,.0f} |")
    ratio = figures["rulebus put_events"] / figures["send_batch straight to the queue"]
    verdict = "met" if ratio >= 0.5 else "missed"
    print(f"\nput_events / send_batch: {ratio:.2f} (target >= 0.5: {verdict})")
    if moto:
        print(f"rulebus / moto: {figures['rulebus put_events'] / moto:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
