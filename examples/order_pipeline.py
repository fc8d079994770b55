"""An order pipeline: SNS fan-out to SQS queues, a payment function fed by its queue (an event
source mapping, as Lambda's) that publishes to EventBridge, and a fulfilment rule that shapes the
event for the warehouse's queue.

    orders topic ──► payments queue ══► take-payments() ──► "Payment Processed" on the shop bus
                 └─► analytics queue (big orders only)         │ rule: fulfil-paid-orders
                                                               ▼ input transformer
                                                          fulfilment queue

Delivery is at least once: a publisher retries (the same order published twice) and the payment
function's first invocation fails after charging (its batch comes back after the visibility
timeout, and is handed to it again). ``charge`` is wrapped in ``rulebus.idempotent`` keyed by the
order id, so no customer is charged twice.

Run: python examples/order_pipeline.py
"""

from __future__ import annotations

import json
import logging
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
    # Broker("shop.db") for the same on SQLite. Without background functions, run_functions()
    # invokes the functions here, so that the example moves its clock between invocations.
    broker = rulebus.Broker(clock=clock, background_functions=False)
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
    receipts: list[str] = []
    deliveries: list[str] = []

    @rulebus.idempotent(broker, key=lambda record: json.loads(record["body"])["orderId"], ttl=86_400)
    def charge(record: dict[str, Any]) -> dict[str, Any]:
        order = json.loads(record["body"])
        charged.append(order["orderId"])  # the payment provider would be called here
        payment = {"orderId": order["orderId"], "amount": order["total"], "items": order["items"]}
        bus.put_events(
            [{"Source": "shop.payments", "DetailType": "Payment Processed", "Detail": json.dumps(payment)}]
        )
        return {"paymentId": f"pay-{order['orderId']}"}

    @broker.function("take-payments", timeout=10)
    def take_payments(event: dict[str, Any], context: Any) -> None:
        first_attempt = not deliveries
        for record in event["Records"]:
            deliveries.append(record["messageId"])
            payment_id = charge(record)["paymentId"]
            if first_attempt:
                receipts.append(payment_id)
        if first_attempt:
            # Dies after charging, before the batch is deleted: Lambda leaves the batch to the
            # visibility timeout, and the function gets it again.
            raise ConnectionError("lost the connection before finishing the batch")

    broker.create_event_source_mapping(function_name="take-payments", event_source_arn=payments.arn)

    for order_id, total in (("o-1", 40), ("o-2", 250), ("o-3", 90)):
        orders.publish(json.dumps({"orderId": order_id, "total": total, "items": [f"sku-{order_id}"]}))
    orders.publish(json.dumps({"orderId": "o-2", "total": 250, "items": ["sku-o-2"]}))  # a retry

    broker.run_functions()  # the first invocation: every order charged, then the failure
    clock.now += 31  # past the visibility timeout: the batch comes back
    broker.run_functions()  # the same messages again: already charged, so nothing is; deleted

    shipments = [json.loads(m.body) for m in fulfilment.receive(max_messages=10)]
    big = [json.loads(m.body)["orderId"] for m in analytics.receive(max_messages=10)]
    broker.close()
    return {
        "deliveries": len(deliveries),
        "receipts": receipts,
        "charged": charged,
        "shipments": shipments,
        "analytics": big,
    }


if __name__ == "__main__":
    # The payment function's first failure is this example's own doing: no warning for it.
    logging.getLogger("rulebus.functions").setLevel(logging.ERROR)
    outcome = main()
    print(
        f"{outcome['deliveries']} payment deliveries, {len(outcome['charged'])} charges: {outcome['charged']}"
    )
    for shipment in outcome["shipments"]:
        print(f"fulfilment queue: ship {shipment['ship']} ({', '.join(shipment['items'])})")
    print(f"analytics saw the big orders (not idempotent: the retry too): {outcome['analytics']}")
    ok = sorted(outcome["charged"]) == ["o-1", "o-2", "o-3"] and len(outcome["shipments"]) == 3
    raise SystemExit(0 if ok else 1)
