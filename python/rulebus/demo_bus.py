"""The demo's event-bus scene (issue 5): rules, an input transformer, an archive and a replay.

A "shop" bus receives a minute of order events. Two rules route them: big orders (a numeric
range) go whole to a fulfilment queue; orders from premium customers go, reshaped by an input
transformer, to a loyalty queue. An archive keeps every order event. Then a new rule (an
"analytics" consumer added late) gets the last minute replayed to it, and only to it. The scene
checks its own outcome and returns the problems it found (none, when rulebus behaves).
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import rulebus
from rulebus.demo import heading, layout
from rulebus.demo_shop import StepClock

SEED = 2026
ORDERS = 600


def orders(count: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return [
        {
            "orderId": f"o-{i:05d}",
            "customer": {
                "id": f"c-{rng.randrange(200):03d}",
                "tier": "premium" if rng.random() < 0.2 else "standard",
            },
            "total": round(rng.uniform(5, 900), 2),
        }
        for i in range(count)
    ]


def run() -> list[str]:
    heading("An EventBridge bus: rules, an input transformer, an archive, a replay")
    clock = StepClock()
    problems: list[str] = []
    with rulebus.Broker(clock=clock) as broker:
        bus = broker.event_bus("shop")
        fulfilment, loyalty, analytics = (broker.queue(n) for n in ("fulfilment", "loyalty", "analytics"))
        big = {"source": ["com.shop"], "detail": {"total": [{"numeric": [">=", 500]}]}}
        premium = {"source": ["com.shop"], "detail": {"customer": {"tier": ["premium"]}}}
        transformer = {
            "InputPathsMap": {
                "id": "$.detail.orderId",
                "customer": "$.detail.customer.id",
                "total": "$.detail.total",
            },
            "InputTemplate": (
                '{"order": "<id>", "customer": "<customer>", '
                '"points": <total>, "rule": <aws.events.rule-name>}'
            ),
        }
        bus.put_rule("big-orders", event_pattern=big)
        bus.put_targets("big-orders", [{"Id": "fulfilment", "Arn": fulfilment}])
        bus.put_rule("premium-customers", event_pattern=premium)
        bus.put_targets(
            "premium-customers", [{"Id": "loyalty", "Arn": loyalty, "InputTransformer": transformer}]
        )
        bus.create_archive("orders", event_pattern={"source": ["com.shop"]})
        print(f"   rule big-orders         {layout(big, 28)}  -> fulfilment (the whole event)")
        print(f"   rule premium-customers  {layout(premium, 28)}")
        print(f"                           -> loyalty, reshaped: {transformer['InputTemplate']}")
        print("   archive orders keeps every com.shop event")

        stream = orders(ORDERS)
        start = time.perf_counter()
        for i in range(0, ORDERS, 10):
            batch = stream[i : i + 10]
            entries = [
                {"Source": "com.shop", "DetailType": "Order Placed", "Detail": json.dumps(o)} for o in batch
            ]
            result = bus.put_events(entries)
            if result["FailedEntryCount"]:
                problems.append(f"put_events refused {result['FailedEntryCount']} entries")
            clock.advance(1)  # ten orders a second: the whole stream spans a minute
        elapsed = time.perf_counter() - start
        want_big = [o["orderId"] for o in stream if o["total"] >= 500]
        want_premium = [o for o in stream if o["customer"]["tier"] == "premium"]
        got_big = [json.loads(b)["detail"]["orderId"] for b in _drain(fulfilment)]
        got_loyalty = [json.loads(b) for b in _drain(loyalty)]
        print(
            f"\n   {ORDERS} orders put in batches of 10 in {elapsed * 1000:.0f} ms "
            f"({ORDERS / elapsed:,.0f} events/s)"
        )
        print(
            f"   fulfilment got {len(got_big)} big orders; "
            f"loyalty got {len(got_loyalty)} premium orders, e.g."
        )
        if got_loyalty:
            print(f"     {json.dumps(got_loyalty[0])}")
        if got_big != want_big:
            problems.append("fulfilment did not get exactly the big orders")
        expected_loyalty = [
            {
                "order": o["orderId"],
                "customer": o["customer"]["id"],
                "points": o["total"],
                "rule": "premium-customers",
            }
            for o in want_premium
        ]
        if got_loyalty != expected_loyalty:
            problems.append("loyalty did not get exactly the premium orders, reshaped")

        archived = bus.describe_archive("orders")
        print(f"   archive orders: {archived['EventCount']} events, {archived['SizeBytes']:,} bytes")
        if archived["EventCount"] != ORDERS:
            problems.append(f"the archive holds {archived['EventCount']} events, not {ORDERS}")

        bus.put_rule("analytics", event_pattern={"source": ["com.shop"]})
        bus.put_targets("analytics", [{"Id": "analytics", "Arn": analytics, "InputPath": "$.detail"}])
        now = clock()
        bus.start_replay("last-minute", "orders", now - 60, now, rules=["analytics"])
        replay = bus.wait_for_replay("last-minute", timeout=60)
        replayed = [json.loads(b)["orderId"] for b in _drain(analytics)]
        print(
            "\n   a late analytics rule gets the last minute replayed, to it alone: "
            f"replay {replay['State']}, "
            f"{replay['ReplayedEventCount']} events"
        )
        print(
            "   fulfilment and loyalty got nothing more: "
            f"{len(_drain(fulfilment)) + len(_drain(loyalty))} messages"
        )
        want_replayed = [o["orderId"] for o in stream]
        if replay["State"] != "COMPLETED" or replayed != want_replayed:
            problems.append("the replay did not deliver the archived minute, in order, to analytics")
        if bus.describe_archive("orders")["EventCount"] != ORDERS:
            problems.append("replayed events were archived again")
    for problem in problems:
        print(f"   PROBLEM: {problem}")
    if not problems:
        print(
            "   Checked: each queue got exactly what its rule selects; the replay reached only the new rule."
        )
    return problems


def _drain(queue: Any) -> list[str]:
    bodies: list[str] = []
    while messages := queue.receive(max_messages=10):
        bodies.extend(m.body for m in messages)
        queue.delete_batch(
            [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)]
        )
    return bodies
