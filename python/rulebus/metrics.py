"""Metrics by CloudWatch's names, per queue, topic, bus, stream and function, as one broker process
counted them (docs/observability.md).

Why it exists: a program (or its test) must see what its messaging did without reading the
services' insides: messages sent and received, deliveries that failed. CloudWatch names those
(Amazon SQS Developer Guide, 'Available CloudWatch metrics for Amazon SQS'; Amazon SNS Developer
Guide, 'Monitoring Amazon SNS topics using CloudWatch'; Amazon EventBridge User Guide,
'Monitoring Amazon EventBridge'; Amazon Kinesis Data Streams Developer Guide, 'Monitoring the
Amazon Kinesis Data Streams service with Amazon CloudWatch'), and rulebus uses those names.

Counters are counted where the work is done, once per call or batch, never per message in a
loop of their own: SQS's and Kinesis's here (:class:`Counters`, one per broker, in its
``Context``), SNS's in each subscription (``delivered_count``...) and EventBridge's in each bus
(``bus.metrics``). The ``Approximate*`` gauges are read from the store when the metrics are
read. Counters live in the broker's process: another process on the same SQLite file counts its
own, and a counter starts from zero with the broker.

:func:`prometheus` writes :meth:`rulebus.Broker.metrics`'s dictionary in Prometheus's text
exposition format.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from rulebus._errors import StoreRowCorruptError
from rulebus.arn import Arn
from rulebus.events.names import DEFAULT_BUS
from rulebus.stores.base import NotFound

if TYPE_CHECKING:
    from rulebus.context import Context
    from rulebus.events.bus import EventBus
    from rulebus.functions.function import Function
    from rulebus.sns.topic import Topic

__all__ = ["GAUGES", "LAMBDA_METRICS", "NAMESPACE_LABELS", "Counters", "Metrics", "collect", "prometheus"]

#: ``{namespace: {"Dimension=name": {metric: value}}}``, as :meth:`rulebus.Broker.metrics` returns.
Metrics = dict[str, dict[str, dict[str, float]]]

#: What each resource reports even before it counted anything.
SQS_COUNTERS = (
    "NumberOfMessagesSent",
    "NumberOfMessagesReceived",
    "NumberOfMessagesDeleted",
    "NumberOfEmptyReceives",
)
SNS_COUNTERS = (
    "NumberOfMessagesPublished",
    "NumberOfNotificationsDelivered",
    "NumberOfNotificationsFailed",
    "NumberOfNotificationsFilteredOut",
    "NumberOfNotificationsRedrivenToDlq",
    "NumberOfNotificationsFailedToRedriveToDlq",
)
EVENTS_COUNTERS = (
    "MatchedEvents",
    "TriggeredRules",
    "Invocations",
    "FailedInvocations",
    "RetryInvocationAttempts",
    "InvocationsSentToDLQ",
    "InvocationsFailedToBeSentToDLQ",
)
KINESIS_COUNTERS = ("IncomingRecords", "GetRecords.Records", "GetRecords.IteratorAgeMilliseconds")
#: A function's metrics (AWS Lambda Developer Guide, 'Types of metrics for Lambda functions'),
#: kept by each Function. ``Duration`` is the sum of its invocations' durations in milliseconds
#: (CloudWatch's Sum statistic: divide by Invocations for the Average); ``ConcurrentExecutions``
#: the invocations running now; ``AsyncEventAge`` the age in milliseconds of the last
#: asynchronous event when it was invoked.
LAMBDA_METRICS = (
    "Invocations",
    "Errors",
    "Throttles",
    "Duration",
    "ConcurrentExecutions",
    "DeadLetterErrors",
    "DestinationDeliveryFailures",
    "AsyncEventsReceived",
    "AsyncEventAge",
    "AsyncEventsDropped",
)

#: Each namespace's dimension, as CloudWatch names it, and the Prometheus label it becomes.
NAMESPACE_LABELS = {
    "AWS/SQS": ("QueueName", "queue"),
    "AWS/SNS": ("TopicName", "topic"),
    "AWS/Events": ("EventBusName", "bus"),
    "AWS/Kinesis": ("StreamName", "stream"),
    "AWS/Lambda": ("FunctionName", "function"),
}

#: The metrics that are a value now, not a count since the broker started.
GAUGES = frozenset(
    {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateAgeOfOldestMessage",
        "GetRecords.IteratorAgeMilliseconds",
        "ConcurrentExecutions",
        "AsyncEventAge",
    }
)


class Counters:
    """The SQS, SNS and Kinesis counters of one broker process, by resource name: ``sqs["orders"]``
    is a dict of CloudWatch metric names to counts. A resource's dict is made the first time it
    counts (so a name that never did anything, say a mistyped one, leaves no entry), with every
    metric at 0: plain dicts, whose ``d[k] += 1`` costs a third of a ``Counter``'s."""

    __slots__ = ("kinesis", "sns", "sqs")

    def __init__(self) -> None:
        self.sqs: dict[str, dict[str, int]] = {}
        self.sns: dict[str, dict[str, int]] = {}
        self.kinesis: dict[str, dict[str, int]] = {}

    def sns_topic(self, topic: str) -> dict[str, int]:
        """A topic's counters, for its Topic object to count in directly (one per topic)."""
        return self.sns.setdefault(topic, {"NumberOfMessagesPublished": 0})

    def sqs_add(self, queue: str, metric: str, count: int = 1) -> None:
        self.sqs_counts(queue)[metric] += count

    def sqs_counts(self, queue: str) -> dict[str, int]:
        """A queue's counters, made the first time it counts (a Queue object keeps them to count
        in directly: see ``Queue._counted``)."""
        counts = self.sqs.get(queue)
        if counts is None:
            counts = self.sqs.setdefault(queue, dict.fromkeys(SQS_COUNTERS, 0))
        return counts

    def sqs_add_many(self, metric: str, counts: Mapping[str, int]) -> None:
        """``sqs_add`` for several queues at once (a batch's deliveries, per queue)."""
        for queue, count in counts.items():
            self.sqs_add(queue, metric, count)

    def kinesis_add(self, stream: str, metric: str, count: int = 1) -> None:
        self._kinesis_counts(stream)[metric] += count

    def kinesis_read(self, stream: str, records: int, age: float) -> None:
        """One read of a shard (GetRecords, or a consumer's batch): ``records`` read, the last
        one ``age`` seconds old (0 when none)."""
        counts = self._kinesis_counts(stream)
        counts["GetRecords.Records"] += records
        counts["GetRecords.IteratorAgeMilliseconds"] = max(0, int(age * 1000))

    def _kinesis_counts(self, stream: str) -> dict[str, int]:
        counts = self.kinesis.get(stream)
        if counts is None:
            counts = self.kinesis.setdefault(stream, dict.fromkeys(KINESIS_COUNTERS, 0))
        return counts


def collect(
    context: Context, topics: Iterable[Topic], buses: Iterable[EventBus], functions: Iterable[Function] = ()
) -> Metrics:
    """Every queue's, topic's, bus's and stream's metrics in ``context``'s store, and every
    function's, as this process counted them: ``topics``, ``buses`` and ``functions`` are the
    broker's objects (they hold the deliveries' and invocations' counts). A queue's
    NumberOfMessagesSent adds the deliveries of this process's SNS subscriptions to it (counted by
    the subscription, so that a publish's fan-out counts nothing per queue)."""
    from rulebus.sqs.attributes import is_internal_queue

    store, counters, now = context.store, context.counters, context.clock()
    by_topic: dict[str, Counter[str]] = {}
    sent_by_sns: Counter[str] = Counter()
    for topic in topics:
        counts = by_topic[topic.name] = Counter()
        for subscription in topic.subscriptions:
            delivered = subscription.delivered_count
            counts["NumberOfNotificationsDelivered"] += delivered
            counts["NumberOfNotificationsFilteredOut"] += subscription.filtered_count
            counts["NumberOfNotificationsFailed"] += (
                subscription.failed_count + subscription.dead_lettered_count
            )
            counts["NumberOfNotificationsRedrivenToDlq"] += subscription.dead_lettered_count
            counts["NumberOfNotificationsFailedToRedriveToDlq"] += subscription.dead_letter_failed_count
            arn = Arn.parse(subscription.endpoint) if subscription.protocol == "sqs" else None
            if arn is not None and arn.is_in(context.region, context.account):
                queue = arn.named("sqs")
                if queue is not None:
                    sent_by_sns[queue] += delivered
    queues: dict[str, dict[str, float]] = {}
    for name in store.queues.queue_names():
        if is_internal_queue(name):
            continue  # a function's asynchronous events: Lambda's, not a queue of the account's
        try:
            held = store.queues.counts(name, now)
            oldest = store.queues.peek(name, now, 1)
        except (NotFound, StoreRowCorruptError):
            continue  # deleted meanwhile, or its row is damaged: the others are still reported
        values: dict[str, float] = _with_defaults(SQS_COUNTERS, counters.sqs.get(name))
        values["NumberOfMessagesSent"] += sent_by_sns[name]
        values["ApproximateNumberOfMessagesVisible"] = held.visible
        values["ApproximateNumberOfMessagesNotVisible"] = held.in_flight
        values["ApproximateNumberOfMessagesDelayed"] = held.delayed
        values["ApproximateAgeOfOldestMessage"] = int(now - oldest[0].sent_timestamp) if oldest else 0
        queues[f"QueueName={name}"] = values
    topics_out: dict[str, dict[str, float]] = {}
    for name in store.topics.topic_names():
        values = _with_defaults(SNS_COUNTERS, counters.sns.get(name))
        for metric, count in by_topic.get(name, Counter()).items():
            values[metric] += count
        topics_out[f"TopicName={name}"] = values
    buses = list(buses)
    bus_counts = {bus.name: bus.metrics for bus in buses}
    rule_counts = {bus.name: bus.rule_metrics for bus in buses}
    buses_out: dict[str, dict[str, float]] = {}
    for name in store.buses.event_bus_names():
        buses_out[f"EventBusName={name}"] = _with_defaults(EVENTS_COUNTERS, bus_counts.get(name))
        counted = rule_counts.get(name, {})
        try:
            rules = store.buses.rules(name)[1]
        except (NotFound, StoreRowCorruptError):
            continue  # deleted meanwhile, or damaged: the bus's own metrics are still reported
        for rule in rules:
            buses_out[_rule_dimensions(name, rule.name)] = _with_defaults(
                EVENTS_COUNTERS, counted.get(rule.name)
            )
    streams = {
        f"StreamName={name}": _with_defaults(KINESIS_COUNTERS, counters.kinesis.get(name))
        for name in store.streams.stream_names()
    }
    lambdas = {
        f"FunctionName={function.name}": _with_defaults(LAMBDA_METRICS, function.metrics)
        for function in functions
    }
    return {
        "AWS/SQS": queues,
        "AWS/SNS": topics_out,
        "AWS/Events": buses_out,
        "AWS/Kinesis": streams,
        "AWS/Lambda": lambdas,
    }


def _rule_dimensions(bus: str, rule: str) -> str:
    """A rule's dimensions, as CloudWatch gives them: RuleName alone for a rule of the default
    bus, EventBusName and RuleName for a custom bus's (Amazon EventBridge User Guide,
    'Monitoring Amazon EventBridge')."""
    return f"RuleName={rule}" if bus == DEFAULT_BUS else f"EventBusName={bus},RuleName={rule}"


def _with_defaults(names: Iterable[str], counted: Mapping[str, float] | None) -> dict[str, float]:
    values: dict[str, float] = dict.fromkeys(names, 0)
    if counted:
        values.update(counted)
    return values


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z][a-z]*|[a-z]+|[0-9]+")


def _snake(metric: str) -> str:
    """A CloudWatch metric name as a Prometheus one: ``NumberOfMessagesSent`` ->
    ``number_of_messages_sent``, ``InvocationsSentToDLQ`` -> ``invocations_sent_to_dlq``,
    ``GetRecords.Records`` -> ``get_records_records``."""
    return "_".join(word.lower() for word in _WORD.findall(metric))


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(namespace: str, resource: str) -> tuple[str, str]:
    """A resource's Prometheus labels (``queue="orders"``), and what its families' names add
    after the service: ``rule_`` for a rule's metrics, apart from its bus's so that a sum over a
    family counts nothing twice (a rule of the default bus is labelled ``bus="default"``)."""
    dimension, label = NAMESPACE_LABELS[namespace]
    if not resource.startswith("RuleName=") and ",RuleName=" not in resource:
        name = resource.split("=", 1)[1] if resource.startswith(dimension + "=") else resource
        return f'{label}="{_label_value(name)}"', ""
    head, _, rule = resource.rpartition("RuleName=")
    bus = head[len("EventBusName=") : -1] if head.startswith("EventBusName=") else DEFAULT_BUS
    return f'bus="{_label_value(bus)}",rule="{_label_value(rule)}"', "rule_"


def prometheus(metrics: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """:meth:`rulebus.Broker.metrics`'s dictionary in Prometheus's text exposition format (version
    0.0.4): one family per namespace and metric, ``rulebus_<service>_<metric>`` with ``_total``
    for counters, one sample per resource labelled by it, e.g.
    ``rulebus_sqs_number_of_messages_sent_total{queue="orders"} 3``."""
    families: dict[str, tuple[str, list[str]]] = {}
    for namespace, resources in metrics.items():
        service = namespace.split("/", 1)[1].lower()
        for resource, values in resources.items():
            labels, scope = _labels(namespace, resource)
            for metric, value in values.items():
                gauge = metric in GAUGES
                family = f"rulebus_{service}_{scope}{_snake(metric)}" + ("" if gauge else "_total")
                kind, samples = families.setdefault(family, ("gauge" if gauge else "counter", []))
                number = int(value) if float(value).is_integer() else value
                samples.append(f"{family}{{{labels}}} {number}")
    lines: list[str] = []
    for family in sorted(families):
        kind, samples = families[family]
        lines.append(f"# TYPE {family} {kind}")
        lines.extend(samples)
    return "\n".join(lines) + "\n" if lines else ""
