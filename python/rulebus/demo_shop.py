"""The online-store scenario of `make demo`: one `OrderPlaced` topic fanned out to four queues.

A seeded stream of orders is published to an SNS topic. Payment takes every order, inventory the
orders that ship items (a MessageAttributes policy), email the premium customers' orders and the
big ones (a MessageBody policy with `$or`), and fraud-check the standard customers' orders in a
value band (a MessageAttributes numeric range). Consumers receive in batches of ten and delete
what they processed; the fraud checker chokes on unverifiable e-mail domains and never deletes
those orders, so after three receives SQS moves them to its dead-letter queue.

Time is a local clock the demo advances (the visibility timeout passes without sleeping), and the
scenario checks itself: what each queue got is compared with what plain Python says it should.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import rulebus
from rulebus.demo import heading, layout
from rulebus.sns.topic import Subscription, Topic
from rulebus.sqs.queue import Message, Queue

SEED = 2026
ORDERS = 1000
BATCH = 10  # SNS PublishBatch, SQS ReceiveMessage and DeleteMessageBatch all take at most ten
FRAUD_VISIBILITY = 5  # seconds: short, so that a failed check is retried soon
MAX_RECEIVES = 3
MAX_ROUNDS = 10  # consumer rounds before the demo gives up on draining the queues

CATALOG = {"kettle": 39.9, "teapot": 24.5, "mug": 8.25, "grinder": 129.0, "scale": 54.0, "beans-1kg": 31.5}
GIFT_CARDS = (25, 50, 100, 250, 500)  # an e-gift card ships nothing
UNVERIFIED = "unverified.example"  # the fraud service cannot check this domain and fails
DOMAINS = {"example.com": 50, "example.org": 30, "example.net": 15, UNVERIFIED: 5}  # weights

INVENTORY_POLICY = {"item_count": [{"numeric": [">", 0]}]}
EMAIL_POLICY = {"$or": [{"customer": {"tier": ["premium"]}}, {"total": [{"numeric": [">", 250]}]}]}
FRAUD_POLICY = {"tier": ["standard"], "total": [{"numeric": [">=", 200, "<", 500]}]}


class Lane(NamedTuple):
    """One queue subscribed to the topic, and how."""

    name: str
    policy: dict[str, Any] | None
    scope: str = "MessageAttributes"
    raw: bool = True  # raw message delivery: the order itself, not the SNS envelope


LANES = [
    Lane("payment", None),
    Lane("inventory", INVENTORY_POLICY),
    Lane("email", EMAIL_POLICY, "MessageBody", raw=False),
    Lane("fraud-check", FRAUD_POLICY),
]


class StepClock:
    """Epoch seconds that move only when the demo says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    tier: str
    email: str
    items: tuple[tuple[str, int], ...]  # (sku, quantity)
    total: float

    def body(self) -> str:
        return json.dumps(
            {
                "orderId": self.order_id,
                "customer": {"id": self.customer_id, "tier": self.tier, "email": self.email},
                "items": [{"sku": sku, "qty": qty} for sku, qty in self.items],
                "total": self.total,
            }
        )

    def message_attributes(self) -> dict[str, dict[str, str]]:
        return {
            "tier": {"DataType": "String", "StringValue": self.tier},
            "total": {"DataType": "Number", "StringValue": f"{self.total:.2f}"},
            "item_count": {"DataType": "Number", "StringValue": str(len(self.items))},
        }


def generate_orders(count: int = ORDERS, seed: int = SEED) -> list[Order]:
    """The same orders for the same seed: one in five premium, one in ten an e-gift card."""
    rng = random.Random(seed)
    orders = []
    for n in range(1, count + 1):
        customer = rng.randrange(1, 300)
        tier = "premium" if rng.random() < 0.2 else "standard"
        email = f"customer{customer}@{rng.choices(list(DOMAINS), list(DOMAINS.values()))[0]}"
        if rng.random() < 0.1:
            items: tuple[tuple[str, int], ...] = ()
            total = float(rng.choice(GIFT_CARDS))
        else:
            skus = rng.sample(sorted(CATALOG), rng.randint(1, 4))
            items = tuple((sku, rng.randint(1, 3)) for sku in skus)
            total = round(sum(CATALOG[sku] * qty for sku, qty in items), 2)
        orders.append(Order(f"o-{n:05d}", f"c-{customer:03d}", tier, email, items, total))
    return orders


# --- what each consumer should get, in plain Python (the demo's own check on the engine) --------


def unverifiable(email: str) -> bool:
    """What the fraud checker fails on (a design decision of the scenario, not the engine's)."""
    return email.endswith("@" + UNVERIFIED)


def fraud_fails(order: Order) -> bool:
    return unverifiable(order.email)


EXPECTED: dict[str, Callable[[Order], bool]] = {
    "payment": lambda order: True,
    "inventory": lambda order: len(order.items) > 0,
    "email": lambda order: order.tier == "premium" or order.total > 250,
    "fraud-check": lambda order: order.tier == "standard" and 200 <= order.total < 500,
}


# --- the scenario -------------------------------------------------------------------------------


@dataclass
class Consumer:
    """A queue, its subscription and a handler: True means processed (delete), False failed."""

    name: str
    queue: Queue
    subscription: Subscription  # its counters say what was delivered and filtered out
    handle: Callable[[dict[str, Any]], bool]
    raw: bool
    receives: Counter[str] = field(default_factory=Counter)  # order id -> times received
    last_receive_count: dict[str, int] = field(default_factory=dict)  # SQS's ApproximateReceiveCount
    processed: list[str] = field(default_factory=list)

    def order_of(self, message: Message) -> dict[str, Any]:
        body = message.body if self.raw else json.loads(message.body)["Message"]
        order: dict[str, Any] = json.loads(body)
        return order

    def poll(self) -> None:
        """Receive and handle until nothing is visible; delete what was processed, batch by batch."""
        while messages := self.queue.receive(
            max_messages=BATCH, wait_seconds=0, attribute_names=["ApproximateReceiveCount"]
        ):
            done = []
            for message in messages:
                order = self.order_of(message)
                self.receives[order["orderId"]] += 1
                self.last_receive_count[order["orderId"]] = int(message.attributes["ApproximateReceiveCount"])
                if self.handle(order):
                    done.append(message)
                    self.processed.append(order["orderId"])
            if done:
                self.delete(done)

    def delete(self, messages: list[Message]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)]
        failed = self.queue.delete_batch(entries)["Failed"]
        if failed:
            raise RuntimeError(f"{self.name}: DeleteMessageBatch failed: {failed}")


@dataclass(frozen=True)
class DeadLetter:
    order_id: str
    receives_at_source: int  # counted by the consumer
    receive_count_at_source: int  # ApproximateReceiveCount on the last receive there
    source_arn: str


@dataclass
class ShopReport:
    published: int
    consumers: list[Consumer]
    dead_letters: list[DeadLetter]
    dlq_arn: str
    fraud_arn: str
    rounds: int
    publish_seconds: float
    consume_seconds: float
    left_in_queues: dict[str, int]

    @property
    def delivered(self) -> int:
        return sum(c.subscription.delivered_count for c in self.consumers)

    def consumer(self, name: str) -> Consumer:
        return next(c for c in self.consumers if c.name == name)


def accept(order: dict[str, Any]) -> bool:
    return True


def check_fraud(order: dict[str, Any]) -> bool:
    return not unverifiable(order["customer"]["email"])


def subscribe_consumers(broker: rulebus.Broker, topic: Topic) -> tuple[list[Consumer], Queue]:
    """The four queues and their subscriptions; returns the consumers and the dead-letter queue."""
    dlq = broker.queue("fraud-check-dlq")
    fraud = broker.queue(
        "fraud-check",
        visibility_timeout=FRAUD_VISIBILITY,
        redrive_policy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": MAX_RECEIVES},
    )
    consumers = []
    for lane in LANES:
        queue = fraud if lane.name == "fraud-check" else broker.queue(lane.name)
        subscription = topic.subscribe(
            queue, filter_policy=lane.policy, filter_policy_scope=lane.scope, raw_message_delivery=lane.raw
        )
        handle = check_fraud if lane.name == "fraud-check" else accept
        consumers.append(Consumer(lane.name, queue, subscription, handle, lane.raw))
    return consumers, dlq


def publish(topic: Topic, orders: list[Order]) -> int:
    published = 0
    for start in range(0, len(orders), BATCH):
        entries = [
            {
                "Id": order.order_id,
                "Message": order.body(),
                "Subject": "OrderPlaced",
                "MessageAttributes": order.message_attributes(),
            }
            for order in orders[start : start + BATCH]
        ]
        result = topic.publish_batch(entries)
        if result["Failed"]:
            raise RuntimeError(f"PublishBatch failed: {result['Failed']}")
        published += len(result["Successful"])
    return published


def in_queue(queue: Queue) -> int:
    attributes = queue.attributes
    return sum(
        int(attributes[name])
        for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    )


def consume(consumers: list[Consumer], clock: StepClock) -> int:
    """Rounds of polling every queue, the fraud queue's visibility timeout passing between rounds,
    until every queue is empty; returns the rounds it took."""
    for round_number in range(1, MAX_ROUNDS + 1):
        for consumer in consumers:
            consumer.poll()
        if all(in_queue(c.queue) == 0 for c in consumers):
            return round_number
        clock.advance(FRAUD_VISIBILITY + 1)
    return MAX_ROUNDS


def read_dead_letters(dlq: Queue, fraud: Consumer) -> list[DeadLetter]:
    """Receive (and leave) everything on the dead-letter queue."""
    letters = []
    while messages := dlq.receive(max_messages=BATCH, wait_seconds=0, attribute_names=["All"]):
        for message in messages:
            order_id = fraud.order_of(message)["orderId"]
            source = message.attributes.get("DeadLetterQueueSourceArn", "")
            receives, last_count = fraud.receives[order_id], fraud.last_receive_count.get(order_id, 0)
            letters.append(DeadLetter(order_id, receives, last_count, source))
    return sorted(letters, key=lambda letter: letter.order_id)


def run_shop(orders: list[Order]) -> ShopReport:
    clock = StepClock()
    with rulebus.Broker(clock=clock) as broker:
        topic = broker.topic("OrderPlaced")
        consumers, dlq = subscribe_consumers(broker, topic)
        started = time.perf_counter()
        published = publish(topic, orders)
        publish_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rounds = consume(consumers, clock)
        consume_seconds = time.perf_counter() - started
        fraud = next(c for c in consumers if c.name == "fraud-check")
        return ShopReport(
            published=published,
            consumers=consumers,
            dead_letters=read_dead_letters(dlq, fraud),
            dlq_arn=dlq.arn,
            fraud_arn=fraud.queue.arn,
            rounds=rounds,
            publish_seconds=publish_seconds,
            consume_seconds=consume_seconds,
            left_in_queues={c.name: in_queue(c.queue) for c in consumers},
        )


# --- invariants -----------------------------------------------------------------------------------


def check(orders: list[Order], report: ShopReport) -> list[str]:
    """What went wrong, compared with plain Python's view of the orders (empty: all is well)."""
    problems = []
    if report.published != len(orders):
        problems.append(f"published {report.published} of {len(orders)} orders")
    for consumer in report.consumers:
        problems.extend(check_consumer(orders, consumer))
    failing = sorted(o.order_id for o in orders if EXPECTED["fraud-check"](o) and fraud_fails(o))
    if [letter.order_id for letter in report.dead_letters] != failing:
        problems.append(f"fraud-check-dlq holds {len(report.dead_letters)} orders, expected {len(failing)}")
    for letter in report.dead_letters:
        if (letter.receives_at_source, letter.receive_count_at_source) != (MAX_RECEIVES, MAX_RECEIVES):
            problems.append(f"{letter.order_id} reached the DLQ after {letter.receives_at_source} receives")
        if letter.source_arn != report.fraud_arn:
            problems.append(f"{letter.order_id}: DeadLetterQueueSourceArn is {letter.source_arn!r}")
    problems.extend(f"{name} still holds {n} messages" for name, n in report.left_in_queues.items() if n)
    return problems


def check_consumer(orders: list[Order], consumer: Consumer) -> Iterator[str]:
    selected = [o for o in orders if EXPECTED[consumer.name](o)]
    wanted = {o.order_id for o in selected}
    name, subscription = consumer.name, consumer.subscription
    if set(consumer.receives) != wanted:
        yield f"{name} got {len(consumer.receives)} distinct orders, its policy selects {len(wanted)}"
    if subscription.delivered_count != len(wanted):
        yield f"{name}: {subscription.delivered_count} delivered, expected {len(wanted)}"
    if subscription.filtered_count != len(orders) - len(wanted):
        yield f"{name}: {subscription.filtered_count} filtered out, expected {len(orders) - len(wanted)}"
    should_process = sorted(o.order_id for o in selected if name != "fraud-check" or not fraud_fails(o))
    if sorted(consumer.processed) != should_process:
        yield f"{name} processed {len(consumer.processed)} orders, expected {len(should_process)} once each"


# --- printing -------------------------------------------------------------------------------------

INDENT = 17  # where a subscription's description starts


def show_setup(orders: list[Order]) -> None:
    heading("The online store: SNS topic OrderPlaced fanned out to SQS queues")
    premium = sum(o.tier == "premium" for o in orders)
    gift = sum(not o.items for o in orders)
    print()
    print(f"   {len(orders)} orders (seed {SEED}): {premium} premium, {gift} e-gift cards with no items,")
    low, high = min(o.total for o in orders), max(o.total for o in orders)
    print(f"   totals {low:.2f} to {high:.2f}; published {BATCH} a batch")
    print()
    for lane in LANES:
        delivery = "raw delivery" if lane.raw else "the SNS envelope"
        if lane.policy is None:
            print(f"   {lane.name:<{INDENT - 3}}{delivery}; no filter policy: every order")
            continue
        print(f"   {lane.name:<{INDENT - 3}}{delivery}; {lane.scope} policy")
        print(" " * INDENT + layout(lane.policy, INDENT))
    print(" " * INDENT + f"visibility {FRAUD_VISIBILITY} s; to fraud-check-dlq after {MAX_RECEIVES} receives")
    print(f"   The fraud checker fails on addresses @{UNVERIFIED} and never deletes those orders.")


def show_summary(report: ShopReport) -> None:
    print()
    print(f"   published {report.published} orders; the queues were drained in {report.rounds} rounds")
    print()
    titles = f"{'delivered':>10}{'filtered out':>14}{'receives':>10}{'processed':>11}{'to DLQ':>8}"
    print(f"   {'queue':<16}{titles}")
    for c in report.consumers:
        s = c.subscription
        moved = sum(letter.source_arn == c.queue.arn for letter in report.dead_letters)
        print(
            f"   {c.name:<16}{s.delivered_count:>10}{s.filtered_count:>14}"
            f"{sum(c.receives.values()):>10}{len(c.processed):>11}{moved:>8}"
        )
    show_dead_letters(report)
    show_throughput(report)


def show_dead_letters(report: ShopReport) -> None:
    print()
    print(f"   fraud-check-dlq holds {len(report.dead_letters)} messages:")
    for source, count in Counter(letter.source_arn for letter in report.dead_letters).items():
        print(f"     {count} with DeadLetterQueueSourceArn {source}")
    cells = [
        f"{letter.order_id} {letter.receives_at_source}x ({letter.receive_count_at_source})"
        for letter in report.dead_letters
    ]
    print("     order, receives at fraud-check (its last ApproximateReceiveCount):")
    for start in range(0, len(cells), 5):
        print("     " + "   ".join(cells[start : start + 5]))


def show_throughput(report: ShopReport) -> None:
    consumed = sum(sum(c.receives.values()) for c in report.consumers)
    print()
    print(
        f"   publish: {report.published} orders in {report.publish_seconds * 1000:.0f} ms: "
        f"{report.published / report.publish_seconds:,.0f} published/s, "
        f"{report.delivered / report.publish_seconds:,.0f} delivered/s"
    )
    print(
        f"   consume: {consumed} receives in {report.consume_seconds * 1000:.0f} ms: "
        f"{consumed / report.consume_seconds:,.0f} messages/s (batches of {BATCH})"
    )


def run(orders: list[Order] | None = None) -> list[str]:
    """Run, print and check the scenario; return the problems found (empty: all is well)."""
    orders = generate_orders() if orders is None else orders
    show_setup(orders)
    report = run_shop(orders)
    show_summary(report)
    problems = check(orders, report)
    print()
    if problems:
        print(f"   {len(problems)} invariant(s) broken:")
        for problem in problems:
            print(f"     {problem}")
    else:
        print("   Checked: every order reached payment once; inventory, email and fraud-check got exactly")
        print("   the orders their policies select (by plain Python) and processed each once; the DLQ holds")
        failed, times = len(report.dead_letters), MAX_RECEIVES
        print(f"   exactly the {failed} orders the fraud check failed, each received {times} times first.")
    return problems
