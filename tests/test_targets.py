"""rulebus.targets: ARNs and objects resolved to a broker's queues, topics, buses and streams, on
both stores; and the public delivery methods services use on each other (EventBus.ingest)."""

from __future__ import annotations

import json
from typing import Any

from rulebus import Broker
from rulebus.events.bus import EventBus
from rulebus.kinesis.stream import Stream
from rulebus.sns.topic import Topic
from rulebus.sqs.queue import Queue

ARN = "arn:aws:{service}:us-east-1:000000000000:{resource}"


def test_arns_of_this_broker_resolve_to_its_objects(broker: Broker) -> None:
    queue, topic, bus = broker.queue("q"), broker.topic("t"), broker.event_bus("b")
    stream = broker.stream("s")
    targets = broker.context.targets
    assert targets.resolve(queue.arn) == queue
    assert targets.resolve(topic.arn) is topic  # the broker's own object: it holds the callables
    assert targets.resolve(bus.arn) is bus
    resolved = targets.resolve(stream.arn)
    assert isinstance(resolved, Stream) and resolved.name == "s"


def test_missing_foreign_or_unknown_targets_resolve_to_none(broker: Broker) -> None:
    targets = broker.context.targets
    assert targets.resolve(ARN.format(service="sqs", resource="absent")) is None
    assert targets.resolve(ARN.format(service="sns", resource="absent")) is None
    assert targets.resolve(ARN.format(service="events", resource="event-bus/absent")) is None
    assert targets.resolve(ARN.format(service="kinesis", resource="stream/absent")) is None
    broker.queue("q")
    assert targets.resolve("arn:aws:sqs:eu-west-1:000000000000:q") is None  # another region
    assert targets.resolve("arn:aws:sqs:us-east-1:111111111111:q") is None  # another account
    assert targets.resolve(ARN.format(service="lambda", resource="function:f")) is None
    assert targets.resolve("not an arn") is None
    assert targets.resolve(42) is None


def test_objects_and_callables_are_their_own_destination(broker: Broker) -> None:
    targets = broker.context.targets
    queue = broker.queue("q")
    assert targets.resolve(queue) is queue
    assert targets.resolve(print) is print
    assert targets.find_queue("absent") is None
    assert isinstance(targets.queue("absent"), Queue)  # a view: its calls say it does not exist
    assert isinstance(targets.find_topic(broker.topic("t").name), Topic)
    assert isinstance(targets.find_event_bus("default"), EventBus)


def test_ingest_routes_a_whole_event_as_a_bus_target_does(broker: Broker) -> None:
    bus = broker.event_bus("b")
    seen: list[Any] = []
    bus.put_rule("r", event_pattern={"source": ["shop"]})
    bus.put_targets("r", [{"Id": "t", "Arn": seen.append}])
    event = {
        "version": "0",
        "id": "6f3b1c1e-0000-4000-8000-000000000000",
        "detail-type": "order",
        "source": "shop",
        "account": "000000000000",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"n": 1},
    }
    assert bus.ingest(event) == ["r"]
    assert seen == [event]
    assert bus.ingest(dict(event, source="other")) == []
    assert json.dumps(seen[0], sort_keys=True) == json.dumps(event, sort_keys=True)
