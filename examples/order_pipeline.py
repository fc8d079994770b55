"""An order pipeline: SNS fan-out to SQS queues, a payment consumer that publishes to EventBridge,
and a fulfilment rule that shapes the event for the warehouse's queue.

    orders topic ──► payments queue ──► charge() ──► "Payment Processed" on the shop bus
                 └─► analytics queue (big orders only)         │ rule: fulfil-paid-orders
                                                               ▼ input transformer
                                                          fulfilment queue

Delivery is at least once: a publisher retries (the same order published twice) and a consumer
dies before deleting its message (it comes back after the visibility timeout). ``charge`` is
wrapped in ``rulebus.idempotent`` keyed by the order id, so no customer is charged twice.

Run: python examples/order_pipeline.py
"""

from __future__ import annotations

import json
from typing import Any

import rulebus


class Clock:
    """The broker's time, moved by the example instead of sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def main() -> dict[str, Any]:
    clock = Clock(1_700_000_000.0)
    broker = rulebus.Broker(clock=clock)  # Broker("shop.db") for the same on SQLite
    orders = broker.topic("orders")
    payments = broker.queue("payments", visibility_timeout=30)
    analytics = broker.queue("analytics")
    fulfilment = broker.queue("fulfilment")
    orders.subscribe(payments, raw_message_delivery=True)
    orders.subscribe(
        analytics,
        raw_message_delivery=True,
        filter_policy_scope="MessageBody",
        filter_policy={"total": [{"numeric": [">=", 100]}]},
    )

    bus = broker.event_bus("shop")
    bus.put_rule(
        "fulfil-paid-orders",
        event_pattern={"source": ["shop.payments"], "detail-type": ["Payment Processed"]},
    )
    bus.put_targets(
        "fulfil-paid-orders",
        [
            {
                "Id": "warehouse",
                "Arn": fulfilment.arn,
                "InputTransformer": {
                    "InputPathsMap": {"order": "$.detail.orderId", "items": "$.detail.items"},
                    "InputTemplate": '{"ship": <order>, "items": <items>, "rule": <aws.events.rule-name>}',
                },
            }
        ],
    )

    charged: list[str] = []

    @rulebus.idempotent(broker, key=lambda message: json.loads(message.body)["orderId"], ttl=86_400)
    def charge(message: Any) -> dict[str, Any]:
        order = json.loads(message.body)
        charged.append(order["orderId"])  # the payment provider would be called here
        payment = {"orderId": order["orderId"], "amount": order["total"], "items": order["items"]}
        bus.put_events(
            [{"Source": "shop.payments", "DetailType": "Payment Processed", "Detail": json.dumps(payment)}]
        )
        return {"paymentId": f"pay-{order['orderId']}"}

    for order_id, total in (("o-1", 40), ("o-2", 250), ("o-3", 90)):
        orders.publish(json.dumps({"orderId": order_id, "total": total, "items": [f"sku-{order_id}"]}))
    orders.publish(json.dumps({"orderId": "o-2", "total": 250, "items": ["sku-o-2"]}))  # a retry

    # First consumer: handles every message but dies before deleting them.
    first = payments.receive(max_messages=10)
    receipts = [charge(message)["paymentId"] for message in first]
    clock.now += 31  # past the visibility timeout: SQS delivers them all again
    # Second consumer: the same messages, this time deleted after handling.
    redelivered = payments.receive(max_messages=10)
    for message in redelivered:
        charge(message)  # already charged: returns the recorded payment, charges nothing
        payments.delete(message.receipt_handle)

    shipments = [json.loads(m.body) for m in fulfilment.receive(max_messages=10)]
    big = [json.loads(m.body)["orderId"] for m in analytics.receive(max_messages=10)]
    broker.close()
    return {
        "deliveries": len(first) + len(redelivered),
        "receipts": receipts,
        "charged": charged,
        "shipments": shipments,
        "analytics": big,
    }


if __name__ == "__main__":
    outcome = main()
    print(
        f"{outcome['deliveries']} payment deliveries, {len(outcome['charged'])} charges: {outcome['charged']}"
    )
    for shipment in outcome["shipments"]:
        print(f"fulfilment queue: ship {shipment['ship']} ({', '.join(shipment['items'])})")
    print(f"analytics saw the big orders (not idempotent: the retry too): {outcome['analytics']}")
    ok = sorted(outcome["charged"]) == ["o-1", "o-2", "o-3"] and len(outcome["shipments"]) == 3
    raise SystemExit(0 if ok else 1)
