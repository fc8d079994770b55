"""A standard topic's publish fast path (``rulebus.sns.topic``'s route plan, ``put_plain_many``, the
envelope laid out directly): it must deliver and count exactly as the subscription-by-subscription
path does. Where a test compares the two, the general path is reached by a MessageGroupId (a
standard topic's envelope does not carry it) or by a Python callable subscribed."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable
from unittest import mock

import pytest
from helpers.fake_clock import FakeClock
from helpers.sns_layout import format_envelope
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus import AwsError, Broker
from rulebus._core import FanOut
from rulebus.sns.envelope import quote
from rulebus.sns.message_attributes import validate_sns_message_attributes
from rulebus.sns.routes import SELECTIONS_MAX as _SELECTIONS_MAX
from rulebus.sns.topic import Subscription
from rulebus.sqs.queue import Queue

ACCOUNT = "000000000000"


def attrs(value: str, name: str = "k", data_type: str = "String") -> dict[str, dict[str, str]]:
    return {name: {"DataType": data_type, "StringValue": value}}


def drain(queue: Queue) -> list[Any]:
    """Every message in the queue, received and deleted."""
    received = []
    while messages := queue.receive(max_messages=10, message_attribute_names=["All"]):
        received.extend(messages)
        queue.delete_batch(
            [{"Id": str(n), "ReceiptHandle": m.receipt_handle} for n, m in enumerate(messages)]
        )
    return received


def counts(subscription: Subscription) -> tuple[int, int, int, int]:
    return (
        subscription.filtered_count,
        subscription.delivered_count,
        subscription.dead_lettered_count,
        subscription.failed_count,
    )


# ---------------------------------------------------------------------- counters


def test_counts_stay_exact_as_subscriptions_change(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    qa, qb, qc, qd = (broker.queue(name) for name in "abcd")
    a = topic.subscribe(qa, filter_policy={"k": ["a"]})
    b = topic.subscribe(qb, filter_policy={"k": ["b"]})
    c = topic.subscribe(qc)  # no policy: every message

    def publish(value: str) -> None:
        topic.publish("m", message_attributes=attrs(value))

    for value in ("a", "b", "x"):
        publish(value)
    assert counts(a) == (2, 1, 0, 0)
    assert counts(b) == (2, 1, 0, 0)
    assert counts(c) == (0, 3, 0, 0)

    a.set_attribute("FilterPolicy", json.dumps({"k": ["x"]}))  # counted so far stays
    publish("a")  # a: filtered now
    publish("x")  # a: delivered now
    assert counts(a) == (3, 2, 0, 0)
    assert counts(b) == (4, 1, 0, 0)

    b.set_attribute("FilterPolicy", "")  # b: every message from now on
    d = topic.subscribe(qd, filter_policy={"k": ["x"]})  # counts from its subscription on
    publish("zzz")
    assert counts(b) == (4, 2, 0, 0)
    assert counts(d) == (1, 0, 0, 0)

    topic.unsubscribe(a)  # a's counts freeze
    publish("x")
    publish("y")
    assert counts(a) == (4, 2, 0, 0)
    assert counts(b) == (4, 4, 0, 0)
    assert counts(c) == (0, 8, 0, 0)
    assert counts(d) == (2, 1, 0, 0)

    b.set_attribute("FilterPolicy", json.dumps({"k": ["y"]}))
    b.set_attribute("FilterPolicyScope", "MessageBody")  # the policy now looks at the body
    publish("y")  # the body "m" is not a JSON object: filtered
    topic.publish(json.dumps({"k": "y"}))  # the body matches; no attributes
    assert counts(b) == (5, 5, 0, 0)
    assert counts(c) == (0, 10, 0, 0)
    assert counts(d) == (4, 1, 0, 0)

    # What was delivered is what the counters say, message for message.
    assert [len(drain(q)) for q in (qa, qb, qc, qd)] == [2, 5, 10, 1]


def test_counts_are_shared_with_another_broker_on_the_store(make_broker: Callable[..., Broker]) -> None:
    """On SQLite the second broker sees the first one's subscriptions; with the memory store each
    broker has its own, and the test still holds for its own view."""
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    mine = topic.subscribe(queue, filter_policy={"k": ["a"]})
    topic.publish("m", message_attributes=attrs("a"))
    other = make_broker()
    other_topic = other.topic("t")
    other.queue("q")
    theirs = next((s for s in other_topic.subscriptions if s.subscription_arn == mine.subscription_arn), None)
    if theirs is not None:  # a shared store: a policy change there applies here from the next publish
        theirs.set_attribute("FilterPolicy", json.dumps({"k": ["b"]}))
        topic.publish("m", message_attributes=attrs("a"))
        topic.publish("m", message_attributes=attrs("b"))
        assert counts(mine) == (1, 2, 0, 0)
        assert len(drain(queue)) == 2
    else:
        assert counts(mine) == (0, 1, 0, 0)


def test_counts_stay_exact_when_the_plan_forgets_its_selections(make_broker: Callable[..., Broker]) -> None:
    """More distinct attribute values than a plan remembers (it forgets them all and starts
    again): the matches counted by the forgotten selections are kept."""
    broker = make_broker()
    topic = broker.topic("t")
    queues = [broker.queue(f"q{i}") for i in range(3)]
    subscriptions = [
        topic.subscribe(queue, filter_policy={"k": [{"prefix": str(i)}]}) for i, queue in enumerate(queues)
    ]
    values = [f"{n % 3}-{n}" for n in range(2 * _SELECTIONS_MAX + 7)]
    for value in values + values[:20]:  # the first 20 again, after they were forgotten
        topic.publish("m", message_attributes=attrs(value))
    published = values + values[:20]
    matched = [sum(1 for value in published if value.startswith(str(i))) for i in range(3)]
    for queue, subscription, count in zip(queues, subscriptions, matched):
        assert counts(subscription) == (len(published) - count, count, 0, 0)
        assert len(drain(queue)) == count
    topic.unsubscribe(subscriptions[0])  # drops the plan: its counts settle into the subscriptions
    topic.publish("m", message_attributes=attrs("1-x"))
    assert counts(subscriptions[1]) == (len(published) - matched[1], matched[1] + 1, 0, 0)
    assert counts(subscriptions[2]) == (len(published) - matched[2] + 1, matched[2], 0, 0)


def test_a_publish_no_subscription_matches_delivers_nothing(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queues = [broker.queue(f"q{i}") for i in range(3)]
    subscriptions = [topic.subscribe(q, filter_policy={"k": [str(i)]}) for i, q in enumerate(queues)]
    topic.publish("m", message_attributes=attrs("none"))
    topic.publish("m")  # no attributes at all
    topic.publish_batch([{"Id": "1", "Message": "m", "MessageAttributes": attrs("none")}])
    for queue, subscription in zip(queues, subscriptions):
        assert drain(queue) == []
        assert counts(subscription) == (3, 0, 0, 0)


def test_filtered_count_is_still_a_plain_field() -> None:
    broker = Broker()
    topic = broker.topic("t")
    subscription = topic.subscribe(broker.queue("q"), filter_policy={"k": ["a"]})
    topic.publish("m", message_attributes=attrs("b"))
    assert subscription.filtered_count == 1
    assert "filtered_count=1," in repr(subscription)
    subscription.filtered_count = 10
    topic.publish("m", message_attributes=attrs("b"))
    assert subscription.filtered_count == 11
    subscription.filtered_count += 1
    assert subscription.filtered_count == 12
    defaults = {f.name: f.default for f in dataclasses.fields(Subscription)}
    assert defaults["filtered_count"] == 0
    made = Subscription("arn", "topic", "sqs", "endpoint", ACCOUNT, target=None, filtered_count=3)
    assert made.filtered_count == 3
    assert dataclasses.replace(made, delivered_count=1).filtered_count == 3


def test_delivered_count_is_still_a_plain_field(make_broker: Callable[..., Broker]) -> None:
    """Counted natively by the fan-out, and by Python on the other paths, in one counter."""
    broker = make_broker()
    topic = broker.topic("t")
    subscription = topic.subscribe(broker.queue("q"))
    topic.publish("m")  # the native fan-out
    topic.publish("m", message_group_id="g")  # the general path
    assert subscription.delivered_count == 2
    assert "delivered_count=2," in repr(subscription)
    subscription.delivered_count = 10
    topic.publish_batch([{"Id": "1", "Message": "m"}, {"Id": "2", "Message": "m"}])
    assert subscription.delivered_count == 12
    subscription.delivered_count += 1
    assert subscription.delivered_count == 13
    defaults = {f.name: f.default for f in dataclasses.fields(Subscription)}
    assert defaults["delivered_count"] == 0
    made = Subscription("arn", "topic", "sqs", "endpoint", ACCOUNT, target=None, delivered_count=3)
    copy = dataclasses.replace(made, filtered_count=1)
    assert (made.delivered_count, copy.delivered_count) == (3, 3)
    copy.delivered_count += 1  # a copy counts on its own
    assert (made.delivered_count, copy.delivered_count) == (3, 4)


def test_general_and_fast_publishes_count_alike(make_broker: Callable[..., Broker]) -> None:
    """MessageGroupId (standard queues get it for fairness) takes the general path."""
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue, filter_policy={"k": ["a"]})
    for n in range(6):
        group = "g" if n % 2 else None
        topic.publish("m", message_attributes=attrs("a" if n < 3 else "b"), message_group_id=group)
    assert counts(subscription) == (3, 3, 0, 0)
    assert len(drain(queue)) == 3


def test_a_callable_subscribed_keeps_every_count(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    got: list[dict[str, Any]] = []
    called = topic.subscribe(got.append, filter_policy={"k": ["a"]})
    queued = topic.subscribe(queue, filter_policy={"k": ["b"]})
    for value in ("a", "b", "c"):
        topic.publish("m", message_attributes=attrs(value))
    topic.unsubscribe(called)
    topic.publish("m", message_attributes=attrs("b"))
    assert counts(called) == (2, 1, 0, 0)
    assert counts(queued) == (2, 2, 0, 0)
    assert [n["MessageAttributes"] for n in got] == [{"k": {"Type": "String", "Value": "a"}}]
    assert len(drain(queue)) == 2


def test_counts_stay_exact_while_threads_publish_and_subscriptions_change(
    make_broker: Callable[..., Broker],
) -> None:
    broker = make_broker()
    topic = broker.topic("busy")
    steady = broker.queue("steady")
    subscription = topic.subscribe(steady, filter_policy={"k": ["even"]})
    errors: list[BaseException] = []

    def publish(worker: int) -> None:
        try:
            for i in range(100):
                topic.publish(f"{worker}-{i}", message_attributes=attrs("even" if i % 2 == 0 else "odd"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for n in range(20):  # subscriptions come and go, and the steady one's policy is re-set
        extra = topic.subscribe(broker.queue(f"extra-{n}"), filter_policy={"k": ["odd"]} if n % 2 else None)
        subscription.set_attribute("FilterPolicy", json.dumps({"k": ["even"]}))
        topic.unsubscribe(extra)
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts(subscription) == (200, 200, 0, 0)
    assert len(drain(steady)) == 200


# ---------------------------------------------------------------------- what put_plain_many refuses


def test_a_queue_too_small_for_the_envelope_dead_letters_it(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    small = broker.queue("small", maximum_message_size=1024)
    dlq = broker.queue("dlq")
    roomy = broker.queue("roomy")
    redriven = topic.subscribe(small, redrive_policy={"deadLetterTargetArn": dlq.arn})
    plain = topic.subscribe(roomy)
    dropped = topic.subscribe(broker.queue("small2", maximum_message_size=1024))
    message = "x" * 800  # fits the queue alone, not in its envelope
    topic.publish(message)
    assert drain(small) == []
    (dead,) = drain(dlq)
    envelope = json.loads(dead.body)
    assert envelope["Message"] == message
    assert envelope["UnsubscribeURL"] == redriven.unsubscribe_url
    (delivered,) = drain(roomy)
    assert json.loads(delivered.body)["MessageId"] == envelope["MessageId"]
    assert counts(redriven) == (0, 0, 1, 0)
    assert counts(plain) == (0, 1, 0, 0)
    assert counts(dropped) == (0, 0, 0, 1)


def test_a_deleted_queue_fails_or_dead_letters(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    dlq = broker.queue("dlq")
    gone = topic.subscribe(broker.queue("gone"))
    redriven = topic.subscribe(broker.queue("gone2"), redrive_policy={"deadLetterTargetArn": dlq.arn})
    alive = topic.subscribe(broker.queue("alive"))
    broker.delete_queue("gone")
    broker.delete_queue("gone2")
    topic.publish("m")
    topic.publish("m", subject="s")
    assert counts(gone) == (0, 0, 0, 2)
    assert counts(redriven) == (0, 0, 2, 0)
    assert counts(alive) == (0, 2, 0, 0)
    assert [json.loads(m.body).get("Subject") for m in drain(dlq)] == [None, "s"]


def test_a_queue_of_another_account_fails(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    foreign = topic.subscribe("arn:aws:sqs:us-east-1:111111111111:q")
    other_region = topic.subscribe("arn:aws:sqs:eu-west-1:000000000000:q")
    broker.queue("q")
    topic.publish("m")
    assert counts(foreign) == (0, 0, 0, 1)
    assert counts(other_region) == (0, 0, 0, 1)
    assert drain(broker.queue("q")) == []


def test_a_queue_object_of_another_broker_gets_its_messages() -> None:
    """The long way: SendMessage on the Queue object the subscription was made with."""
    broker, elsewhere = Broker(), Broker()
    topic = broker.topic("t")
    queue = elsewhere.queue("q")
    subscription = topic.subscribe(queue)
    topic.publish("m")
    (message,) = drain(queue)
    assert json.loads(message.body)["Message"] == "m"
    assert counts(subscription) == (0, 1, 0, 0)


def test_a_fifo_queue_on_a_standard_topic_takes_the_long_way(make_broker: Callable[..., Broker]) -> None:
    """Subscribe refuses a FIFO queue on a standard topic; one stored by hand (as an older
    version might have) is sent the long way, where SendMessage wants a MessageGroupId."""
    broker = make_broker()
    topic = broker.topic("t")
    fifo = broker.queue("q.fifo", fifo_queue=True)
    standard = broker.queue("s")
    subscription = topic.subscribe(standard)
    record = dataclasses.replace(topic._record(subscription), endpoint=fifo.arn, subscription_arn="x:fifo")
    broker._store.topics.add_subscription(record)
    topic.publish("m")
    (handmade,) = [s for s in topic.subscriptions if s.endpoint == fifo.arn]
    assert counts(handmade) == (0, 0, 0, 1)
    assert counts(subscription) == (0, 1, 0, 0)
    assert drain(fifo) == []


def test_a_body_not_plain_for_sqs_goes_the_long_way(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue)
    message = "héllo ✓ \t tab"
    topic.publish(message, subject="Ünïcode")
    (received,) = drain(queue)
    assert json.loads(received.body)["Message"] == message
    assert json.loads(received.body)["Subject"] == "Ünïcode"
    assert format_envelope(json.loads(received.body)) == received.body
    assert counts(subscription) == (0, 1, 0, 0)


@pytest.mark.parametrize("message", ["delete \x7f here", "bell \x07 and tab \t", 'quote " and \\'])
def test_control_characters_are_delivered_as_sns_escapes_them(
    make_broker: Callable[..., Broker], message: str
) -> None:
    """DEL is ASCII but not printable (the long way); the other control characters are escaped
    in the envelope, which stays plain (the fan-out)."""
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue)
    topic.publish(message, subject="s")
    (received,) = drain(queue)
    assert json.loads(received.body)["Message"] == message
    assert format_envelope(json.loads(received.body)) == received.body
    assert counts(subscription) == (0, 1, 0, 0)


def test_raw_delivery_with_and_without_attributes(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue, raw_message_delivery=True)
    topic.publish("plain")
    topic.publish("with", message_attributes=attrs("v"))
    plain, with_attributes = drain(queue)
    assert (plain.body, plain.message_attributes) == ("plain", {})
    assert with_attributes.body == "with"
    assert with_attributes.message_attributes == {"k": {"DataType": "String", "StringValue": "v"}}
    assert counts(subscription) == (0, 2, 0, 0)


def _refusing(real: Callable[..., Any], refuse: set[int]) -> Callable[..., Any]:
    """A stand-in for Store.put_notifications that refuses the routes numbered in ``refuse`` of
    every publish (and stores the others with the real one), as a store may."""

    def put(topic: Any, publishes: Any, sender: str, now: float, timestamp: str) -> tuple[int, list[int]]:
        fan_out, *rest = publishes[0]
        routes = fan_out.routes
        kept = [n for n in range(len(routes)) if n not in refuse]
        done, refused = real(topic, [(FanOut([routes[n] for n in kept]), *rest)], sender, now, timestamp)
        assert done == 1
        refused = sorted(refuse | {kept[n] for n in refused})
        return 1, refused  # one publish at a time: a refusal stops the rest

    return put


def test_what_the_store_refuses_goes_the_long_way(make_broker: Callable[..., Broker]) -> None:
    """A store may refuse any delivery of a fan-out (the routes it returns): those, and only
    those, are sent the long way, before any later publish of the batch is stored."""
    broker = make_broker()
    topic = broker.topic("t")
    queues = [broker.queue(f"q{i}") for i in range(3)]
    subscriptions = [topic.subscribe(q) for q in queues]
    store = broker._store
    real = store.queues.put_notifications
    for message, refuse in (("all", {0, 1, 2}), ("one", {1}), ("none", set())):
        with mock.patch.object(store.queues, "put_notifications", _refusing(real, refuse)):
            topic.publish(message)
            topic.publish_batch([{"Id": str(n), "Message": f"{message}{n}"} for n in range(3)])
    for queue, subscription in zip(queues, subscriptions):
        expected = [f"{m}{suffix}" for m in ("all", "one", "none") for suffix in ("", "0", "1", "2")]
        assert [json.loads(m.body)["Message"] for m in drain(queue)] == expected
        assert counts(subscription) == (0, 12, 0, 0)


def test_a_batch_keeps_each_queues_order_across_paths(make_broker: Callable[..., Broker]) -> None:
    """A batch's entries take different paths (the native fan-out, the long way for a text that
    is not plain or too long for one queue, the general path for a MessageGroupId); each queue
    still receives them in the batch's order, and every count is exact."""
    broker = make_broker()
    topic = broker.topic("t")
    dlq = broker.queue("dlq")
    roomy, small = broker.queue("roomy"), broker.queue("small", maximum_message_size=1024)
    to_roomy = topic.subscribe(roomy)
    to_small = topic.subscribe(small, redrive_policy={"deadLetterTargetArn": dlq.arn})
    entries: list[dict[str, Any]] = [
        {"Id": "plain", "Message": "one"},
        {"Id": "unicode", "Message": "d\u00e9j\u00e0 vu"},  # not plain ASCII: the long way, stored
        {"Id": "long", "Message": "x" * 900},  # too long for small in its envelope: dead-lettered
        {"Id": "group", "Message": "grouped", "MessageGroupId": "g"},  # the general path
        {"Id": "bad", "Message": ""},  # refused by PublishBatch itself
        {"Id": "last", "Message": "two", "Subject": "s"},
    ]
    result = topic.publish_batch(entries)
    assert [s["Id"] for s in result["Successful"]] == ["plain", "unicode", "long", "group", "last"]
    assert [f["Id"] for f in result["Failed"]] == ["bad"]
    ids = {s["Id"]: s["MessageId"] for s in result["Successful"]}
    delivered = drain(roomy)
    got = [json.loads(m.body) for m in delivered]
    assert [n["Message"] for n in got] == ["one", "d\u00e9j\u00e0 vu", "x" * 900, "grouped", "two"]
    assert [n["MessageId"] for n in got] == [ids[i] for i in ("plain", "unicode", "long", "group", "last")]
    to_small_texts = [json.loads(m.body)["Message"] for m in drain(small)]
    assert to_small_texts == ["one", "d\u00e9j\u00e0 vu", "grouped", "two"]
    assert [json.loads(m.body)["Message"] for m in drain(dlq)] == ["x" * 900]
    assert counts(to_roomy) == (0, 5, 0, 0)
    assert counts(to_small) == (0, 4, 1, 0)
    # The envelope as SNS lays it out, whichever path made it.
    assert [format_envelope(n) for n in got] == [m.body for m in delivered]


# ---------------------------------------------------------------------- what is delivered


def test_the_plan_follows_policy_changes_for_the_same_attributes(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue, filter_policy={"k": ["a"]})
    topic.publish("1", message_attributes=attrs("a"))
    subscription.set_attribute("FilterPolicy", json.dumps({"k": ["b"]}))
    topic.publish("2", message_attributes=attrs("a"))
    late = broker.queue("late")
    topic.subscribe(late, filter_policy={"k": ["a"]})
    topic.publish("3", message_attributes=attrs("a"))
    assert [json.loads(m.body)["Message"] for m in drain(queue)] == ["1"]
    assert [json.loads(m.body)["Message"] for m in drain(late)] == ["3"]


def test_body_policies_see_each_body(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    topic.subscribe(queue, filter_policy={"colour": ["red"]}, filter_policy_scope="MessageBody")
    for colour in ("red", "blue", "red"):
        topic.publish(json.dumps({"colour": colour}), message_attributes=attrs("same"))
    assert [json.loads(json.loads(m.body)["Message"])["colour"] for m in drain(queue)] == ["red", "red"]


def test_confirmed_http_and_pending_http(make_broker: Callable[..., Broker]) -> None:
    """A pending HTTP/S subscription is neither delivered to nor counted; once confirmed it is."""
    broker = make_broker()
    topic = broker.topic("t")
    topic.sleep = lambda seconds: None
    pending = topic.subscribe("http://127.0.0.1:9/", filter_policy={"k": ["a"]})
    topic.wait_for_deliveries(30)
    topic.publish("m", message_attributes=attrs("b"))
    topic.publish("m", message_attributes=attrs("a"))
    assert counts(pending) == (0, 0, 0, 0)
    assert pending.token is not None
    topic.confirm_subscription(pending.token)
    topic.publish("m", message_attributes=attrs("b"))
    topic.publish("m", message_attributes=attrs("a"))  # to a closed port: fails after retries
    topic.wait_for_deliveries(30)
    assert counts(pending) == (1, 0, 0, 1)


def test_delivered_envelopes_are_sns_own(make_broker: Callable[..., Broker]) -> None:
    """Each body is the Jackson-style text of its own notification, signed as SNS signs it."""
    broker = make_broker()
    topic = broker.topic("t", signature_version="2")
    queues = [broker.queue(f"q{i}") for i in range(2)]
    subscriptions = [topic.subscribe(q) for q in queues]
    attributes = {
        "s": {"DataType": "String", "StringValue": 'quote " and \\ and \u2713'},
        "n": {"DataType": "Number", "StringValue": "1.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "c": {"DataType": "String.custom", "StringValue": "x"},
    }
    topic.publish('{"a": 1}\nline two', subject="Hello", message_attributes=attributes)
    for queue, subscription in zip(queues, subscriptions):
        (message,) = drain(queue)
        notification = json.loads(message.body)
        assert format_envelope(notification) == message.body
        assert list(notification) == [
            "Type",
            "MessageId",
            "TopicArn",
            "Subject",
            "Message",
            "Timestamp",
            "SignatureVersion",
            "Signature",
            "SigningCertURL",
            "UnsubscribeURL",
            "MessageAttributes",
        ]
        assert notification["SignatureVersion"] == "2"
        assert notification["UnsubscribeURL"] == subscription.unsubscribe_url
        assert uuid.UUID(notification["MessageId"]).version == 4
        signed = "".join(
            f"{key}\n{notification[key]}\n"
            for key in ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        )
        digest = hashlib.sha256(signed.encode()).digest() * 8
        assert notification["Signature"] == base64.b64encode(digest).decode()
        assert notification["MessageAttributes"]["b"] == {"Type": "Binary", "Value": "AAE="}


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
_NAMES = st.from_regex(r"[A-Za-z0-9_-]{1,8}(\.[A-Za-z0-9_-]{1,4})?", fullmatch=True)
_ATTRIBUTE = st.one_of(
    st.builds(lambda v: {"DataType": "String", "StringValue": v}, _TEXT),
    st.builds(lambda v: {"DataType": "Number", "StringValue": str(v)}, st.integers()),
    st.builds(lambda v: {"DataType": "Binary", "BinaryValue": v}, st.binary(min_size=1, max_size=8)),
    st.builds(lambda v: {"DataType": "String.x", "StringValue": v}, _TEXT),
)


@settings(max_examples=150)
@given(
    message=_TEXT,
    subject=st.none() | st.from_regex(r"[A-Za-z0-9][ -~]{0,20}", fullmatch=True),
    attributes=st.dictionaries(_NAMES, _ATTRIBUTE, max_size=3),
    raw=st.booleans(),
)
def test_the_fast_path_delivers_what_the_general_path_does(
    message: str, subject: str | None, attributes: dict[str, Any], raw: bool
) -> None:
    """The same publish, once each way, with the same id and time: the same bodies, attributes
    and counts (SQS refuses some characters a raw delivery may carry: both ways fail alike)."""
    broker = Broker(clock=FakeClock())
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue, raw_message_delivery=raw)
    outcomes = []
    for group in (None, "g"):  # the fast path, then the general one
        new_id = "0b6d8d37-6f6e-4d6c-9a59-3d1f6f4b8c1e"
        with mock.patch("rulebus.sns.topic.new_message_id", return_value=new_id):
            topic.publish(message, subject=subject, message_attributes=attributes, message_group_id=group)
        received = [(m.body, m.message_attributes) for m in drain(queue)]
        outcomes.append((received, counts(subscription)))
        subscription.delivered_count = subscription.failed_count = 0
    assert outcomes[0] == outcomes[1]


# ---------------------------------------------------------------------- the cheaper parts


def _old_timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    moment = datetime.fromtimestamp(millis // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


@given(st.lists(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False), min_size=1, max_size=20))
def test_timestamps_are_as_strftime_made_them(moments: list[float]) -> None:
    from rulebus.sns.envelope import timestamp as _timestamp

    for moment in [*moments, 1_700_000_000.9995, 1_700_000_000.9994, 0.0, 59.9996, *moments]:
        assert _timestamp(moment) == _old_timestamp(moment)


def test_message_ids_are_distinct_uuid4_texts() -> None:
    from rulebus.stores.receipts import new_message_id as _new_message_id

    ids = [_new_message_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:50] + ids[-50:]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # canonical lower-case form
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


_ANY_NAME = st.one_of(
    _NAMES,
    st.text(st.sampled_from("a.-_Z9 é#"), max_size=6),
    st.just("x" * 256),
    st.just("a" * 255),
    st.integers(),
)
_ANY_VALUE = st.one_of(
    st.none(), st.just(""), _TEXT, st.just(" 12 "), st.just("1e3"), st.just("x1"), st.integers()
)
_ANY_ATTRIBUTE = st.one_of(
    st.fixed_dictionaries(
        {"DataType": st.sampled_from(["String", "Number", "Binary", "String.x", "", "Str", None, 3])},
        optional={"StringValue": _ANY_VALUE, "BinaryValue": st.one_of(st.binary(max_size=3), st.none())},
    ),
    st.just("not a mapping"),
)


@settings(max_examples=500)
@given(st.dictionaries(_ANY_NAME, _ANY_ATTRIBUTE, max_size=3), st.text(max_size=5))
def test_attribute_checks_answer_as_the_full_validation(attributes: dict[Any, Any], message: str) -> None:
    """Publish's answer to any MessageAttributes is the full validation's: its error, or the
    message accepted with exactly the attributes it returns."""
    try:
        expected: Any = validate_sns_message_attributes(attributes)
    except (AwsError, TypeError) as error:
        expected = (type(error), str(error))
    topic = Broker().topic("t")
    got: list[dict[str, Any]] = []
    topic.subscribe(got.append)
    try:
        topic.publish(message or "m", message_attributes=attributes)
    except (AwsError, TypeError) as error:
        assert (type(error), str(error)) == expected
        return
    assert not isinstance(expected, tuple)
    (notification,) = got
    from rulebus.sns.envelope import notification_attributes

    assert notification.get("MessageAttributes", {}) == notification_attributes(expected)


def test_a_message_too_long_with_its_attributes_is_refused() -> None:
    topic = Broker().topic("t")
    value = "é" * 100  # 200 bytes
    with pytest.raises(AwsError, match=r"^Invalid parameter: Message too long$"):
        topic.publish("x" * (262_144 - 1 - 6 - 200 + 1), message_attributes=attrs(value))
    topic.publish("x" * (262_144 - 1 - 6 - 200), message_attributes=attrs(value))


@pytest.mark.parametrize("with_callable", [False, True], ids=["fast path", "general path"])
def test_values_equal_to_the_envelope_slot_are_delivered_as_any_other(
    make_broker: Callable[..., Broker], with_callable: bool
) -> None:
    """The text that stands for UnsubscribeURL while an envelope is laid out, sent as a message
    or an attribute value, is only text: it used to make Publish raise ValueError."""
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    subscription = topic.subscribe(queue)
    seen: list[Any] = []
    if with_callable:
        topic.subscribe(seen.append)
    slot = "\x00unsubscribe\x00"
    topic.publish(slot)
    topic.publish("m", message_attributes={"a": {"DataType": "String", "StringValue": slot}})
    bodies = [m.body for m in drain(queue)]
    first, second = (json.loads(body) for body in bodies)
    assert first["Message"] == slot
    assert first["UnsubscribeURL"] == subscription.unsubscribe_url
    assert second["MessageAttributes"]["a"] == {"Type": "String", "Value": slot}
    assert second["UnsubscribeURL"] == subscription.unsubscribe_url
    assert [format_envelope(first), format_envelope(second)] == bodies  # SNS's own layout
    assert subscription.delivered_count == 2
    assert len(seen) == (2 if with_callable else 0)


def test_a_fifo_envelope_is_the_standard_layout_without_signature_and_with_its_sequence_number(
    make_broker: Callable[..., Broker],
) -> None:
    """A FIFO topic's envelope is the native head rewritten: its members in SNS's order, laid
    out byte for byte as SNS lays them out, on the queue path and to a callable alike."""
    broker = make_broker()
    topic = broker.topic("t.fifo", fifo_topic=True)
    queue = broker.queue("q.fifo", fifo_queue=True)
    seen: list[dict[str, Any]] = []
    topic.subscribe(queue)
    topic.subscribe(seen.append)
    result = topic.publish(
        'line "one"\né',
        subject="Hi",
        message_attributes=attrs("v"),
        message_group_id="g",
        message_deduplication_id="d",
    )
    (received,) = drain(queue)
    body = json.loads(received.body)
    members = "Type MessageId SequenceNumber TopicArn Subject Message Timestamp UnsubscribeURL"
    members += " MessageAttributes"
    assert list(body) == members.split()
    assert body["SequenceNumber"] == result.sequence_number
    assert format_envelope(body) == received.body
    (notification,) = seen
    assert {key: value for key, value in notification.items() if key != "UnsubscribeURL"} == {
        key: value for key, value in body.items() if key != "UnsubscribeURL"
    }


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_an_unsubscribe_url_is_quoted_as_python_json_quotes_it(text: str) -> None:
    # The envelope's one writer quotes the UnsubscribeURL; it must escape as the rest of the
    # envelope does, which is json.dumps(ensure_ascii=False).
    assert quote(text) == json.dumps(text, ensure_ascii=False)
