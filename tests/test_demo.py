"""The online-store demo: what each queue gets, compared with expectations worked out here from
the orders themselves, and `python -m rulebus.demo` as `make demo` runs it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections import Counter

import pytest
from rulebus import demo, demo_bus, demo_shop
from rulebus.demo_shop import Order, ShopReport

FRAUD_SOURCE = "arn:aws:sqs:us-east-1:000000000000:fraud-check"


def order(n: int, tier: str, total: float, items: int = 1, domain: str = "example.com") -> Order:
    return Order(f"o-{n:05d}", f"c-{n:03d}", tier, f"c{n}@{domain}", (("mug", 1),) * items, total)


QUEUES = ("payment", "inventory", "email", "fraud-check")

# Hand-made orders on each side of each policy's boundaries, with the queues each must reach.
BOUNDARY_ORDERS = {
    order(1, "standard", 250.0): {"payment", "inventory", "fraud-check"},  # email needs > 250
    order(2, "standard", 250.01): {"payment", "inventory", "email", "fraud-check"},
    order(3, "premium", 10.0): {"payment", "inventory", "email"},  # premium: never fraud-checked
    order(4, "standard", 199.99): {"payment", "inventory"},  # fraud range starts at 200
    order(5, "standard", 200.0): {"payment", "inventory", "fraud-check"},
    order(6, "standard", 500.0): {"payment", "inventory", "email"},  # fraud range ends below 500
    order(7, "standard", 100.0, items=0): {"payment"},  # an e-gift card ships nothing
    order(8, "premium", 300.0, items=0, domain=demo_shop.UNVERIFIED): {"payment", "email"},
    order(9, "standard", 300.0, domain=demo_shop.UNVERIFIED): set(QUEUES),  # and on to the DLQ
}


@pytest.fixture(scope="module")
def stream() -> tuple[list[Order], ShopReport]:
    orders = demo_shop.generate_orders()
    return orders, demo_shop.run_shop(orders)


def received(report: ShopReport, queue: str) -> set[str]:
    return set(report.consumer(queue).receives)


def test_boundary_orders_reach_exactly_their_queues() -> None:
    orders = list(BOUNDARY_ORDERS)
    report = demo_shop.run_shop(orders)
    for queue in QUEUES:
        wanted = {o.order_id for o, queues in BOUNDARY_ORDERS.items() if queue in queues}
        assert received(report, queue) == wanted, queue
        assert report.consumer(queue).subscription.filtered_count == len(orders) - len(wanted), queue
    assert [letter.order_id for letter in report.dead_letters] == ["o-00009"]
    assert sorted(report.consumer("fraud-check").processed) == ["o-00001", "o-00002", "o-00005"]
    assert demo_shop.check(orders, report) == []


def test_every_order_is_paid_once(stream: tuple[list[Order], ShopReport]) -> None:
    orders, report = stream
    payment = report.consumer("payment")
    assert report.published == len(orders) == demo_shop.ORDERS
    assert payment.subscription.delivered_count == len(orders)
    assert Counter(payment.processed) == Counter(o.order_id for o in orders)
    assert set(payment.processed) == {o.order_id for o in orders}


def test_filtered_queues_get_what_the_order_bodies_say(stream: tuple[list[Order], ShopReport]) -> None:
    orders, report = stream
    bodies = [json.loads(o.body()) for o in orders]
    expected = {
        "inventory": {b["orderId"] for b in bodies if b["items"]},
        "email": {b["orderId"] for b in bodies if b["customer"]["tier"] == "premium" or b["total"] > 250},
        "fraud-check": {
            b["orderId"] for b in bodies if b["customer"]["tier"] == "standard" and 200 <= b["total"] < 500
        },
    }
    for queue, wanted in expected.items():
        consumer = report.consumer(queue)
        assert 0 < len(wanted) < len(orders), queue  # the policy really filters
        assert received(report, queue) == wanted, queue
        assert consumer.subscription.delivered_count == len(wanted), queue
        assert consumer.subscription.filtered_count == len(orders) - len(wanted), queue
    assert sorted(report.consumer("email").processed) == sorted(expected["email"])


def test_poison_orders_reach_the_dlq_after_three_receives(stream: tuple[list[Order], ShopReport]) -> None:
    orders, report = stream
    poison = sorted(
        o.order_id
        for o in orders
        if o.tier == "standard" and 200 <= o.total < 500 and o.email.endswith("@unverified.example")
    )
    fraud = report.consumer("fraud-check")
    assert poison and [letter.order_id for letter in report.dead_letters] == poison
    for letter in report.dead_letters:
        assert (letter.receives_at_source, letter.receive_count_at_source) == (3, 3)
        assert letter.source_arn == FRAUD_SOURCE
        assert fraud.receives[letter.order_id] == 3
    assert not set(poison) & set(fraud.processed)
    assert len(fraud.processed) == fraud.subscription.delivered_count - len(poison)
    assert report.left_in_queues == {queue: 0 for queue in QUEUES}
    assert demo_shop.check(orders, report) == []


def test_check_reports_a_broken_scenario(stream: tuple[list[Order], ShopReport]) -> None:
    orders, report = stream
    lost_letter = dataclasses.replace(report, dead_letters=report.dead_letters[1:])
    assert any("fraud-check-dlq holds" in p for p in demo_shop.check(orders, lost_letter))
    early = dataclasses.replace(report.dead_letters[0], receives_at_source=2)
    moved_early = dataclasses.replace(report, dead_letters=[early, *report.dead_letters[1:]])
    assert any("after 2 receives" in p for p in demo_shop.check(orders, moved_early))
    leftover = dataclasses.replace(report, left_in_queues={**report.left_in_queues, "email": 4})
    assert demo_shop.check(orders, leftover) == ["email still holds 4 messages"]
    assert any("published" in p for p in demo_shop.check([*orders, order(99_999, "premium", 1.0)], report))


def test_make_demo_runs_both_parts_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rulebus.demo"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    out = done.stdout
    for line in (
        "The online store: SNS topic OrderPlaced fanned out to SQS queues",
        f"published {demo_shop.ORDERS} orders",
        f"with DeadLetterQueueSourceArn {FRAUD_SOURCE}",
        "Checked: every order reached payment once",
        "An EventBridge bus: rules, an input transformer, an archive, a replay",
        "replay COMPLETED, 600 events",
        "The documentation examples agree with AWS; the shop and the bus scenes keep their invariants.",
    ):
        assert line in out
    assert "FAILED" not in out


def test_a_broken_shop_invariant_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_shop, "check", lambda orders, report: ["payment lost o-00001"])
    assert demo.main() == 1
    out = capsys.readouterr().out
    assert "1 invariant(s) broken:\n     payment lost o-00001" in out
    assert "FAILED: 0 result(s) differ from AWS, 1 shop invariant(s) broken, 0 bus problem(s)." in out


def test_the_bus_scene_checks_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    assert demo_bus.run() == []
    # A scene whose replay reaches nothing must say so.
    monkeypatch.setattr(demo_bus, "_drain", lambda queue: [])
    problems = demo_bus.run()
    assert "fulfilment did not get exactly the big orders" in problems
    assert any("replay" in problem for problem in problems)
