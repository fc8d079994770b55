"""What the console shows, as JSON-ready values: read from the brokers through their public API.

Every function here only reads: a queue's messages are peeked (:meth:`rulebus.Queue.peek`), never
received, and no broker is made for a scope that has none yet. A resource deleted while it is
being read is left out; one whose state cannot be read (a damaged SQLite row) is shown with the
error instead of its details, so one bad row does not hide the rest.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rulebus._core import RuleSet
from rulebus._errors import AwsError, RulebusError
from rulebus.aws.brokers import Brokers
from rulebus.broker import Broker
from rulebus.events.bus import EventBus
from rulebus.kinesis.stream import Stream
from rulebus.sns.topic import Topic
from rulebus.sqs.queue import Queue

__all__ = ["MAX_PEEK", "ConsoleError", "find_broker", "overview", "peek", "test_pattern"]

#: The most messages one peek shows.
MAX_PEEK = 100

T = TypeVar("T")


class ConsoleError(Exception):
    """A request the console cannot answer: ``status`` is the HTTP status, ``code`` and
    ``message`` what the page shows."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def overview(brokers: Brokers, now: float) -> dict[str, Any]:
    """Every scope's queues, topics, buses and streams, with their counts."""
    scopes = sorted(brokers, key=lambda broker: (broker.account, broker.region))
    return {"time": now, "scopes": [_scope(broker) for broker in scopes]}


def find_broker(brokers: Brokers, account: str, region: str) -> Broker:
    """The broker of a scope that exists (the console never makes one)."""
    for broker in brokers:
        if broker.account == account and broker.region == region:
            return broker
    raise ConsoleError(404, "ScopeNotFound", f"No resources in account {account} region {region}.")


def peek(broker: Broker, queue: str, max_messages: int) -> dict[str, Any]:
    """The first messages of a queue, as :meth:`rulebus.Queue.peek` shows them."""
    # Looked up among the queues, not opened by name: Broker.queue would create a missing one.
    found = next((q for q in broker.queues() if q.name == queue), None)
    if found is None:
        raise ConsoleError(404, "QueueDoesNotExist", f"The queue {queue} does not exist.")
    try:
        held = found.peek(max_messages)
    except RulebusError as error:
        if _gone(error):
            raise ConsoleError(404, "QueueDoesNotExist", f"The queue {queue} does not exist.") from None
        raise ConsoleError(500, "Unreadable", str(error)) from None
    return {"queue": queue, "messages": [_held(message) for message in held]}


def test_pattern(pattern: Any, event: Any) -> dict[str, Any]:
    """Whether ``event`` matches the EventBridge ``pattern`` and, when not, why
    (:meth:`rulebus.RuleSet.explain`). Either may be JSON text or a JSON value."""
    rules = RuleSet()
    try:
        rules.add("pattern", pattern if isinstance(pattern, str) else json.dumps(pattern))
    except (RulebusError, ValueError) as error:
        raise ConsoleError(400, "InvalidEventPatternException", str(error)) from None
    event_text = event if isinstance(event, str) else json.dumps(event)
    try:
        matched = rules.matches(event_text) == ["pattern"]
        reasons = [] if matched else rules.explain("pattern", event_text)
    except (RulebusError, ValueError) as error:
        raise ConsoleError(400, "InvalidEventException", str(error)) from None
    return {"matches": matched, "reasons": [_plain(reason) for reason in reasons]}


# --------------------------------------------------------------------------------------------


def _scope(broker: Broker) -> dict[str, Any]:
    queues = _each(broker.queues(), _queue)
    dead_letter_sources: dict[str, list[str]] = {}
    for queue in queues:
        target = (queue.get("redrivePolicy") or {}).get("deadLetterTargetArn")
        if isinstance(target, str):
            dead_letter_sources.setdefault(target, []).append(queue["name"])
    for queue in queues:
        sources = dead_letter_sources.get(queue.get("arn", ""), [])
        queue["deadLetterSources"] = sources
        if sources and "error" not in queue:
            queue["moveTasks"] = _move_tasks(broker, queue["arn"])
    return {
        "account": broker.account,
        "region": broker.region,
        "queues": queues,
        "topics": _each(broker.topics(), _topic),
        "buses": _each(broker.event_buses(), _bus),
        "streams": _each(broker.streams(), _stream),
    }


def _each(resources: Iterable[T], view: Callable[[T], dict[str, Any] | None]) -> list[dict[str, Any]]:
    shown = []
    for resource in resources:
        try:
            item = view(resource)
        except RulebusError as error:
            if _gone(error):
                continue  # deleted while read
            item = {"name": getattr(resource, "name", "?"), "error": str(error)}
        if item is not None:
            shown.append(item)
    return shown


def _gone(error: RulebusError) -> bool:
    """Whether ``error`` says the resource no longer exists."""
    return isinstance(error, AwsError) and error.code.endswith(
        ("NotFound", "NotFoundException", "DoesNotExist")
    )


def _move_tasks(broker: Broker, dead_letter_queue_arn: str) -> list[Any]:
    """The latest redrives out of a dead-letter queue (none shown if they cannot be read)."""
    try:
        return list(_plain(broker.list_message_move_tasks(dead_letter_queue_arn, 10)))
    except RulebusError:
        return []


def _targets(bus: EventBus, rule: str) -> list[Any]:
    """A rule's targets (none shown if the rule went while read)."""
    try:
        return list(_plain(bus.list_targets_by_rule(rule)))
    except RulebusError:
        return []


def _queue(queue: Queue) -> dict[str, Any]:
    attributes = queue.attributes
    redrive = attributes.get("RedrivePolicy")
    allow = attributes.get("RedriveAllowPolicy")
    return {
        "name": queue.name,
        "arn": attributes["QueueArn"],
        "url": queue.url,
        "fifo": attributes.get("FifoQueue") == "true",
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "inFlight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
        "visibilityTimeout": int(attributes["VisibilityTimeout"]),
        "redrivePolicy": json.loads(redrive) if redrive else None,
        "redriveAllowPolicy": json.loads(allow) if allow else None,
    }


def _topic(topic: Topic) -> dict[str, Any]:
    attributes = topic.attributes
    return {
        "name": topic.name,
        "arn": attributes["TopicArn"],
        "fifo": attributes.get("FifoTopic") == "true",
        "subscriptions": [
            {
                "arn": s.subscription_arn,
                "protocol": s.protocol,
                "endpoint": s.endpoint,
                "filterPolicy": s.filter_policy,
                "filterPolicyScope": s.filter_policy_scope,
                "rawMessageDelivery": s.raw_message_delivery,
                "pendingConfirmation": s.pending_confirmation,
                "delivered": int(s.delivered_count),
                "filtered": int(s.filtered_count),
                "failed": s.failed_count,
                "deadLettered": s.dead_lettered_count,
            }
            for s in topic.subscriptions
        ],
    }


def _bus(bus: EventBus) -> dict[str, Any]:
    rules = []
    for rule in bus.list_rules():
        rule = _plain(rule)
        rule["targets"] = _targets(bus, rule["Name"])
        rules.append(rule)
    return {
        "name": bus.name,
        "arn": bus.arn,
        "rules": rules,
        "archives": _plain(bus.list_archives()),
        "replays": _plain(bus.list_replays()),
    }


def _stream(stream: Stream) -> dict[str, Any]:
    summary = stream.describe_summary()
    shards = []
    for shard in stream.describe()["Shards"]:
        sequences = shard.get("SequenceNumberRange", {})
        shards.append(
            {
                "id": shard["ShardId"],
                "parent": shard.get("ParentShardId"),
                "adjacentParent": shard.get("AdjacentParentShardId"),
                "open": "EndingSequenceNumber" not in sequences,
                "hashKeyRange": [
                    shard["HashKeyRange"]["StartingHashKey"],
                    shard["HashKeyRange"]["EndingHashKey"],
                ],
                "startingSequenceNumber": sequences.get("StartingSequenceNumber"),
                "endingSequenceNumber": sequences.get("EndingSequenceNumber"),
            }
        )
    return {
        "name": summary["StreamName"],
        "arn": summary["StreamARN"],
        "status": summary["StreamStatus"],
        "mode": summary["StreamModeDetails"]["StreamMode"],
        "retentionHours": summary["RetentionPeriodHours"],
        "openShards": summary["OpenShardCount"],
        "consumers": summary["ConsumerCount"],
        "shards": shards,
    }


def _held(message: Any) -> dict[str, Any]:
    return {
        "messageId": message.message_id,
        "body": message.body,
        "md5OfBody": message.md5_of_body,
        "state": message.state,
        "visibleAt": message.visible_at,
        "attributes": message.attributes,
        "messageAttributes": _plain(message.message_attributes),
    }


def _plain(value: Any) -> Any:
    """``value`` with what JSON cannot carry made plain: datetimes as ISO 8601, bytes as base64."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value
