"""The public methods the wire handlers need from the services, on every store: CreateQueue by
AWS's attribute map, looking topics and buses up without creating them, SetTopicAttributes,
DescribeEventBus and a ShardIterator's stream."""

from __future__ import annotations

from typing import Callable

import pytest
from helpers.aws import aws_error
from helpers.fake_clock import FakeClock
from rulebus import AwsError, Broker, NotFound
from rulebus.kinesis.stream import parse_shard_iterator


def test_create_queue_takes_aws_attributes(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    queue = broker.create_queue("q", {"VisibilityTimeout": "45", "DelaySeconds": "2"})
    assert queue.get_attributes(["VisibilityTimeout", "DelaySeconds"]) == {
        "VisibilityTimeout": "45",
        "DelaySeconds": "2",
    }
    assert broker.create_queue("q") == queue  # no attributes: the queue as it is
    assert broker.create_queue("q", {"VisibilityTimeout": "45", "DelaySeconds": "2"}) == queue
    with aws_error("QueueNameExists"):
        broker.create_queue("q", {"VisibilityTimeout": "46"})
    with aws_error("InvalidAttributeName", "Unknown Attribute visibility_timeout."):
        broker.create_queue("r", {"visibility_timeout": "45"})
    with aws_error("InvalidParameterValue"):  # AWS's rule: a .fifo name needs FifoQueue
        broker.create_queue("t.fifo")
    assert broker.create_queue("t.fifo", {"FifoQueue": "true"}).get_attributes(["FifoQueue"]) == {
        "FifoQueue": "true"
    }


def test_find_topic_and_bus_create_nothing(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    assert broker.find_topic("t") is None and broker.find_event_bus("b") is None
    assert [t.name for t in broker.topics()] == []
    topic = broker.topic("t")
    bus = broker.create_event_bus("b")
    assert broker.find_topic("t") is topic
    assert broker.find_event_bus("b") is bus
    assert broker.find_event_bus("default") is not None


def test_set_topic_attributes_is_stored_and_keeps_subscriptions(
    make_broker: Callable[..., Broker], request: pytest.FixtureRequest
) -> None:
    broker = make_broker()
    topic = broker.topic("t")
    queue = broker.queue("q")
    topic.subscribe(queue)
    changed = broker.set_topic_attributes("t", "DisplayName", "Shop")
    assert changed.attributes["DisplayName"] == "Shop"
    assert broker.find_topic("t") is changed
    if request.node.callspec.params["make_broker"] == "sqlite":  # another broker on the same file
        assert make_broker().find_topic("t").attributes["DisplayName"] == "Shop"  # type: ignore[union-attr]
    changed.publish("after the change")
    assert len(queue.receive(10)) == 1
    broker.set_topic_attributes("t", "DeliveryPolicy", '{"http": {}}')
    broker.set_topic_attributes("t", "DeliveryPolicy", "")
    assert "DeliveryPolicy" not in broker.find_topic("t").attributes  # type: ignore[union-attr]


def test_set_topic_attributes_refusals(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    with pytest.raises(AwsError) as info:
        broker.set_topic_attributes("missing", "DisplayName", "x")
    assert (info.value.code, info.value.status) == ("NotFound", 404)
    broker.topic("t")
    with aws_error("InvalidParameter", "Invalid parameter: AttributeName"):
        broker.set_topic_attributes("t", "FifoTopic", "true")
    with aws_error("InvalidParameter", "Invalid parameter: Policy Error: null"):
        broker.set_topic_attributes("t", "Policy", "not json")
    with aws_error("InvalidParameter"):
        broker.set_topic_attributes("t", "ContentBasedDeduplication", "true")  # FIFO topics only
    assert broker.find_topic("t").attributes["DisplayName"] == ""  # type: ignore[union-attr]


def test_event_bus_describe(make_broker: Callable[..., Broker], clock) -> None:  # type: ignore[no-untyped-def]
    broker = make_broker()
    bus = broker.create_event_bus("shop", description="orders")
    described = bus.describe()
    assert described["Name"] == "shop" and described["Description"] == "orders"
    assert described["CreationTime"].timestamp() == clock()
    assert "Description" not in broker.event_bus().describe()
    broker.delete_event_bus("shop")
    with aws_error("ResourceNotFoundException", "Event bus shop does not exist."):
        bus.describe()


def test_parse_shard_iterator_names_the_stream(make_broker: Callable[..., Broker]) -> None:
    stream = make_broker().stream("s")
    iterator = stream.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    assert parse_shard_iterator(iterator)[4] == "s"
    for garbage in ("", "AAAAAAAAAAE!!", 7, "x" * 600):
        with aws_error("InvalidArgumentException", "Invalid ShardIterator."):
            parse_shard_iterator(garbage)


def test_tags_by_arn_on_every_store(
    make_broker: Callable[..., Broker], request: pytest.FixtureRequest, clock: FakeClock
) -> None:
    broker = make_broker()
    queue = broker.queue("q")
    broker.tag_resource(queue.arn, {"a": "1", "b": "2"})
    broker.tag_resource(queue.arn, {"b": "3"})
    broker.untag_resource(queue.arn, ["a", "absent"])
    assert broker.tags(queue.arn) == {"b": "3"}
    if request.node.callspec.params["make_broker"] == "sqlite":
        assert make_broker().tags(queue.arn) == {"b": "3"}
    for missing in (
        "arn:aws:sqs:us-east-1:000000000000:nope",
        "arn:aws:sqs:eu-west-1:000000000000:q",  # another region's
        "arn:aws:sns:us-east-1:000000000000:nope",
        "arn:aws:events:us-east-1:000000000000:rule/nope",
        "arn:aws:kinesis:us-east-1:000000000000:stream/nope",
        "not an arn",
    ):
        with pytest.raises(NotFound):
            broker.tags(missing)
    broker.delete_queue("q")
    clock.advance(61)  # past QueueDeletedRecently
    broker.create_queue("q")
    assert broker.tags(queue.arn) == {}


def test_deleting_a_bus_drops_its_rules_tags(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    bus = broker.create_event_bus("shop")
    rule = bus.put_rule("r", event_pattern={"source": ["x"]})
    broker.tag_resource(rule, {"k": "v"})
    broker.tag_resource(bus.arn, {"k": "v"})
    broker.delete_event_bus("shop")
    bus = broker.create_event_bus("shop")
    bus.put_rule("r", event_pattern={"source": ["x"]})
    assert broker.tags(rule) == {} and broker.tags(bus.arn) == {}
