"""Topics and subscriptions in the store: brokers on one SQLite file share them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers.fake_clock import START, FakeClock
from rulebus import Broker


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_broker(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[[], Broker]]:
    """Brokers on one SQLite file (each as another process would open it)."""
    opened: list[Broker] = []

    def make() -> Broker:
        broker = Broker(tmp_path / "rulebus.db", clock=clock)
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        broker.close()


def messages(broker: Broker, queue: str) -> list[dict[str, Any]]:
    received = broker.queue(queue).receive(max_messages=10)
    return [json.loads(m.body) for m in received]


def test_topic_and_queue_subscription_are_shared(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    topic = one.topic("orders", display_name="Shop")
    subscription = topic.subscribe(one.queue("inbox"))

    seen = two.topic("orders")
    assert [t.name for t in two.topics()] == ["orders"]
    assert seen.attributes["DisplayName"] == "Shop"
    assert seen.attributes["SubscriptionsConfirmed"] == "1"
    [listed] = seen.subscriptions
    assert listed.subscription_arn == subscription.subscription_arn
    assert (listed.protocol, listed.endpoint) == ("sqs", one.queue("inbox").arn)

    result = seen.publish("hello", subject="hi")
    [envelope] = messages(one, "inbox")
    assert envelope["MessageId"] == result.message_id
    assert envelope["Message"] == "hello"
    assert envelope["Subject"] == "hi"
    assert envelope["TopicArn"] == topic.arn
    assert listed.delivered_count == 1


def test_subscribe_is_idempotent_across_brokers(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    first = one.topic("t").subscribe(one.queue("q"), raw_message_delivery=True)
    again = two.topic("t").subscribe(two.queue("q"), raw_message_delivery=True)
    assert again.subscription_arn == first.subscription_arn
    assert len(one.topic("t").subscriptions) == 1


def test_subscriptions_made_after_the_topic_was_opened_are_seen(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    publisher = two.topic("t")
    publisher.publish("before anyone subscribed")
    one.topic("t").subscribe(one.queue("all"))
    one.topic("t").subscribe(one.queue("big"), filter_policy={"size": ["big"]})
    publisher.publish("small one", message_attributes={"size": {"DataType": "String", "StringValue": "s"}})
    publisher.publish("big one", message_attributes={"size": {"DataType": "String", "StringValue": "big"}})
    assert [e["Message"] for e in messages(one, "all")] == ["small one", "big one"]
    assert [e["Message"] for e in messages(one, "big")] == ["big one"]


def test_unsubscribe_is_seen_by_the_other_broker(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    kept = one.topic("t").subscribe(one.queue("kept"))
    gone = one.topic("t").subscribe(one.queue("gone"), filter_policy={"k": ["v"]})
    two.topic("t").publish("first", message_attributes={"k": {"DataType": "String", "StringValue": "v"}})

    two.topic("t").unsubscribe(gone.subscription_arn)
    assert [s.subscription_arn for s in one.topic("t").subscriptions] == [kept.subscription_arn]
    one.topic("t").publish("second", message_attributes={"k": {"DataType": "String", "StringValue": "v"}})
    assert [e["Message"] for e in messages(one, "kept")] == ["first", "second"]
    assert [e["Message"] for e in messages(one, "gone")] == ["first"]
    two.topic("t").unsubscribe(gone.subscription_arn)  # twice: not an error


def test_fifo_deduplication_holds_across_brokers(make_broker: Callable[[], Broker], clock: FakeClock) -> None:
    one, two = make_broker(), make_broker()
    one.topic("tx.fifo", fifo_topic=True).subscribe(one.queue("tx.fifo", fifo_queue=True))
    first = one.topic("tx.fifo").publish("a", message_group_id="g", message_deduplication_id="d1")
    duplicate = two.topic("tx.fifo").publish("other", message_group_id="g", message_deduplication_id="d1")
    assert (duplicate.message_id, duplicate.sequence_number) == (first.message_id, first.sequence_number)
    second = two.topic("tx.fifo").publish("b", message_group_id="g", message_deduplication_id="d2")
    assert first.sequence_number is not None and second.sequence_number is not None
    assert int(second.sequence_number) > int(first.sequence_number)
    assert len(second.sequence_number) == 20

    clock.advance(301)  # past the 5-minute window: a new message
    later = one.topic("tx.fifo").publish("a", message_group_id="g", message_deduplication_id="d1")
    assert later.message_id != first.message_id
    assert int(later.sequence_number or 0) > int(second.sequence_number)
    received = one.queue("tx.fifo").receive(max_messages=10)
    assert [json.loads(m.body)["Message"] for m in received] == ["a", "b", "a"]


def test_topics_survive_reopening_the_file(make_broker: Callable[[], Broker]) -> None:
    first = make_broker()
    arn = first.topic("t").subscribe(first.queue("q")).subscription_arn
    first.close()
    reopened = make_broker()
    assert [s.subscription_arn for s in reopened.topic("t").subscriptions] == [arn]
    reopened.topic("t").publish("still here")
    assert [e["Message"] for e in messages(reopened, "q")] == ["still here"]


def test_callable_subscriptions_stay_in_their_process(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    got: list[str] = []
    one.topic("t").subscribe(lambda notification: got.append(notification["Message"]))
    one.topic("t").subscribe(one.queue("q"))
    assert [s.protocol for s in two.topic("t").subscriptions] == ["sqs"]
    two.topic("t").publish("from two")
    one.topic("t").publish("from one")
    assert got == ["from one"]
    assert [e["Message"] for e in messages(one, "q")] == ["from two", "from one"]


def test_confirmation_is_shared(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    topic = one.topic("t")
    topic.sleep = lambda seconds: None  # the confirmation POST to a closed port is retried
    pending = topic.subscribe("http://127.0.0.1:9/hook")
    assert pending.arn == "pending confirmation"
    [seen] = two.topic("t").subscriptions
    assert seen.pending_confirmation and seen.token == pending.token
    assert two.topic("t").attributes["SubscriptionsPending"] == "1"
    assert pending.token is not None
    two.topic("t").confirm_subscription(pending.token)
    assert not one.topic("t").subscriptions[0].pending_confirmation
    assert one.topic("t").attributes["SubscriptionsConfirmed"] == "1"


def test_delete_topic_is_seen_by_the_other_broker(make_broker: Callable[[], Broker]) -> None:
    one, two = make_broker(), make_broker()
    one.topic("t").subscribe(one.queue("q"))
    assert [t.name for t in two.topics()] == ["t"]
    two.delete_topic("t")
    assert one.topics() == []
    assert one.topic("t").subscriptions == []  # re-created, without the old subscriptions


def test_memory_brokers_do_not_share() -> None:
    one, two = Broker(clock=lambda: START), Broker(clock=lambda: START)
    one.topic("t").subscribe(one.queue("q"))
    assert two.topics() == []
    assert one.topic("t") is one.topic("t")
