"""The broker: owns the store and the clock, and hands out queues, topics and event buses by name.

Why it exists (docs/architecture.md, 'The Python package'): one object decides where state lives (memory
without a path, SQLite with one), which region and account ARNs carry, and what time it is, so
that queues, topics and buses (and later streams) share them without knowing about each other.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, overload

from rulebus import _jsontext as jsontext
from rulebus import metrics, validation
from rulebus._errors import AwsError, StoreRowCorruptError, sqs_error
from rulebus.arn import Arn
from rulebus.context import Context
from rulebus.events.archive import Archives
from rulebus.events.bus import (
    DEFAULT_BUS,
    DEFAULT_MAX_EVENTS_SIZE,
    DEFAULT_RULES_PER_BUS,
    EventBus,
    validate_bus_name,
)
from rulebus.events.errors import missing_bus
from rulebus.events.names import bus_arn, rule_arn
from rulebus.events.scheduler import Scheduler
from rulebus.functions.function import (
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    DEFAULT_MEMORY_SIZE,
    DEFAULT_TIMEOUT,
    MAX_EVENT_AGE,
    Function,
    Handler,
)
from rulebus.functions.runtime import DEFAULT_WORKERS, Functions
from rulebus.kinesis.stream import Stream, delete_stream, get_stream, open_stream
from rulebus.metrics import Metrics
from rulebus.pipes import Pipes
from rulebus.sns.attributes import TOPIC_KWARGS, topic_arn
from rulebus.sns.errors import topic_does_not_exist
from rulebus.sns.topic import Topic, check_topic_attributes, topic_attributes_from_kwargs, validate_topic_name
from rulebus.sqs.attributes import (
    ATTRIBUTE_NAMES,
    QueueAttributes,
    is_internal_queue,
    queue_arn,
    validate_queue_name,
)
from rulebus.sqs.errors import queue_deleted_recently, queue_does_not_exist
from rulebus.sqs.move_task import MoveTasks, QueueRef
from rulebus.sqs.queue import Queue, check_queue_attributes
from rulebus.stores import MemoryStore, Store, open_store
from rulebus.stores.base import NotFound, RecentlyDeleted
from rulebus.stores.records import Clock, EventBusRecord, QueueRecord, TopicRecord
from rulebus.targets import Targets

if TYPE_CHECKING:
    from rulebus.sns.signing import Signer

__all__ = ["Broker"]

#: CreateQueue with different attributes (SQS API Reference, CreateQueue: modeled QueueNameExists, legacy code
#: QueueAlreadyExists).
QUEUE_NAME_EXISTS = "QueueNameExists"

#: SetTopicAttributes' attributes (SNS API Reference, SetTopicAttributes): CreateTopic's but FifoTopic.
SETTABLE_TOPIC_ATTRIBUTES = frozenset(TOPIC_KWARGS.values()) - {"FifoTopic"}

#: Seconds after DeleteQueue during which the name cannot be re-created (SQS API Reference, DeleteQueue).
QUEUE_RECREATE_DELAY = 60.0


class Broker:
    """Queues, topics and event buses on one store.

    ``Broker()`` keeps everything in memory; ``Broker("app.db")`` in an SQLite file that survives
    restarts and can be shared by several processes. ``store`` (instead of ``path``) is a
    :class:`~rulebus.stores.Store` or a URL for :func:`~rulebus.stores.open_store`
    (``"memory://"``, ``"sqlite:///app.db"``); the broker closes it on :meth:`close`.
    ``clock`` (epoch seconds) lets tests move time instead of sleeping. ``queue_recreate_delay``
    is how long (by that clock) a deleted queue's name stays blocked, as AWS's 60 s
    (QueueDeletedRecently); 0 lifts the block.
    ``rules_per_bus`` (AWS's default quota, 300; None for no limit) and ``max_events_size``
    (PutEvents' 1 MB) are the bus limits. ``endpoint_url`` is where a server
    (``rulebus serve``) answers this broker's AWS APIs; with it, ``sns_signer``
    (:class:`rulebus.sns.signing.Signer`, whose certificate that server serves) signs the
    topics' HTTP/S deliveries for real.

    Work that waits for time runs on background threads, each switchable off so that a test with
    a fake clock drives it by hand instead: message move tasks (``background_move_tasks``,
    ``run_message_move_tasks()``), scheduled rules (``background_schedules``,
    ``run_schedules()``) and event-bus retries (``background_retries``, ``bus.run_retries()``).
    Functions' event source mappings run on a pool of ``function_workers`` threads started with
    the first mapping (``background_functions``; ``run_functions()`` runs them in the caller's
    thread; see docs/functions.md); with ``function_pool="processes"`` each handler runs in a
    child process, so that one past its timeout is stopped. ``rulebus worker module:broker`` runs
    them in a process of their own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        region: str = "us-east-1",
        account: str = "000000000000",
        clock: Clock | None = None,
        queue_recreate_delay: float = QUEUE_RECREATE_DELAY,
        background_move_tasks: bool = True,
        background_schedules: bool = True,
        background_retries: bool = True,
        rules_per_bus: int | None = DEFAULT_RULES_PER_BUS,
        max_events_size: int = DEFAULT_MAX_EVENTS_SIZE,
        store: Store | str | os.PathLike[str] | None = None,
        endpoint_url: str | None = None,
        sns_signer: Signer | None = None,
        background_functions: bool = True,
        function_workers: int = DEFAULT_WORKERS,
        function_pool: str = "threads",
    ) -> None:
        if path is not None and store is not None:
            raise TypeError("give a Broker either a path or a store, not both")
        region = validation.region_name(region)
        account = validation.account_id(account)
        self._clock: Clock = clock if clock is not None else time.time
        if store is None:
            store = path
        self._store: Store = (
            MemoryStore() if store is None else store if isinstance(store, Store) else open_store(store)
        )
        targets = Targets(
            self._store,
            region,
            account,
            queue=lambda name: Queue(self.context, name),
            topic=self._topic_object,
            event_bus=self._bus_object,
            stream=lambda name: Stream(self.context, name),
            invoke_function=lambda name, event: self._functions.invoke_async(name, event),
        )
        #: What this broker's queues, topics, buses and streams are made with (see rulebus.context).
        self.context = Context(
            store=self._store,
            clock=self._clock,
            region=region,
            account=account,
            targets=targets,
            rules_changed=self._rules_changed,
            queue_recreate_delay=queue_recreate_delay,
            rules_per_bus=rules_per_bus,
            max_events_size=max_events_size,
            background_retries=background_retries,
            endpoint_url=endpoint_url,
            sns_signer=sns_signer if endpoint_url is not None else None,
        )
        # One Topic object per stored topic, each a view of the store's records (see ``topic``),
        # with the attributes it was made with.
        self._topics: dict[str, tuple[dict[str, str], Topic]] = {}
        self._move_tasks = MoveTasks(self.context, background_move_tasks)
        self._buses: dict[str, EventBus] = {}
        self._archives = Archives(self.context)
        if self._store.buses.get_event_bus(DEFAULT_BUS) is None:
            self._store.buses.create_event_bus(EventBusRecord(DEFAULT_BUS, self._clock()))
        self._scheduler = Scheduler(self.context, background_schedules)
        self._scheduler.refresh()
        self._functions = Functions(
            self.context, background=background_functions, workers=function_workers, pool=function_pool
        )
        self._pipes = Pipes(self.context, self._functions)

    # The settings are the context's (read-only: services read them from there).

    @property
    def region(self) -> str:
        """The region ARNs and URLs carry."""
        return self.context.region

    @property
    def account(self) -> str:
        """The account ARNs, URLs and SenderIds carry."""
        return self.context.account

    @property
    def queue_recreate_delay(self) -> float:
        """Seconds a deleted queue's name stays blocked (QueueDeletedRecently)."""
        return self.context.queue_recreate_delay

    @property
    def rules_per_bus(self) -> int | None:
        """PutRule refuses a bus's rule beyond this many (AWS's default quota; None: no limit)."""
        return self.context.rules_per_bus

    @property
    def max_events_size(self) -> int:
        """PutEvents refuses requests whose entries add up to more bytes than this (EventBridge API
        Reference, PutEvents)."""
        return self.context.max_events_size

    @property
    def background_retries(self) -> bool:
        """Event buses retry failed deliveries on a timer thread; False leaves it to ``run_retries``."""
        return self.context.background_retries

    @property
    def function_runtime(self) -> Functions:
        """Where this broker's functions and event source mappings run (``rulebus worker``
        drives it: :meth:`~rulebus.functions.runtime.Functions.serve`, ``stop_polling``,
        ``wait_for_batches``, ``return_batches``)."""
        return self._functions

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop this broker's move-task threads and release the store (SQLite connections); the
        broker is unusable afterwards. Functions' batches already taken finish first."""
        self._functions.close()
        self._move_tasks.close()
        self._scheduler.close()
        for bus in self._buses.values():
            bus.close()
        self._store.close()

    # ------------------------------------------------------------------ queues

    def queue(self, name: str, **attributes: Any) -> Queue:
        """Open a queue; with attributes (snake_case keywords, Python or AWS string values), behave
        as CreateQueue: the existing queue when its attributes are equal, QueueNameExists when
        they differ. Without attributes, open the queue, creating it with defaults if absent.
        Creating a queue whose name was deleted less than 60 s ago (``queue_recreate_delay``)
        raises QueueDeletedRecently."""
        validate_queue_name(name)
        return self._create_queue(name, QueueAttributes.from_kwargs(name, **attributes), bool(attributes))

    def get_queue(self, name: str) -> Queue:
        """Open an existing queue, never creating one (what GetQueueUrl does): QueueDoesNotExist
        "The specified queue does not exist." when there is none by that name, so a mistyped
        name fails here instead of making a new empty queue as ``queue(name)`` would."""
        validation.text(name, "QueueName", validation.SQS)
        try:
            validate_queue_name(name)
        except AwsError:  # GetQueueUrl's answer for a name no queue can have
            raise queue_does_not_exist() from None
        if self._store.queues.get_queue(name) is None:
            raise queue_does_not_exist()
        return Queue(self.context, name)

    def create_queue(self, name: str, attributes: Mapping[str, str] | None = None) -> Queue:
        """CreateQueue as AWS's API takes it: AWS's string-valued attribute map, by AWS's rules (a
        ``.fifo`` name needs FifoQueue "true"; an unknown attribute is InvalidAttributeName). An
        existing queue is returned when no attributes are given or they equal its own;
        QueueNameExists otherwise."""
        validate_queue_name(name)
        validation.mapping(attributes, "Attributes", validation.SQS, required=False)
        for key, value in (attributes or {}).items():
            validation.text(key, "Attributes", validation.SQS)
            validation.text(value, key, validation.SQS)
        return self._create_queue(name, QueueAttributes.from_aws(name, attributes), bool(attributes))

    def _create_queue(self, name: str, wanted: QueueAttributes, given: bool) -> Queue:
        check_queue_attributes(self.context, wanted, name)
        now = self._clock()
        try:
            stored = self._store.queues.create_queue(
                QueueRecord(name, wanted, now, now), self.queue_recreate_delay
            )
        except RecentlyDeleted:
            raise queue_deleted_recently() from None
        if given and stored.attributes != wanted:
            raise sqs_error(
                QUEUE_NAME_EXISTS,
                "A queue already exists with the same name and a different value for attribute "
                f"{_first_difference(stored.attributes, wanted)}",
            )
        return Queue(self.context, name)

    def delete_queue(self, name: str) -> None:
        """DeleteQueue: the queue and its messages go at once (AWS takes up to 60 s); the name then
        cannot be re-created for ``queue_recreate_delay`` seconds (QueueDeletedRecently)."""
        validate_queue_name(name)
        try:
            self._store.queues.delete_queue(name, self._clock())
        except NotFound:
            raise queue_does_not_exist() from None
        self._store.tags.delete_tags(queue_arn(name, self.region, self.account))

    def queues(self) -> list[Queue]:
        """Every queue, sorted by name (not the functions' internal event queues)."""
        return [
            Queue(self.context, name)
            for name in self._store.queues.queue_names()
            if not is_internal_queue(name)
        ]

    # ------------------------------------------------------------------ message move tasks

    def start_message_move_task(
        self,
        source_arn: QueueRef,
        destination_arn: QueueRef | None = None,
        max_number_of_messages_per_second: int | None = None,
    ) -> str:
        """StartMessageMoveTask (SQS API Reference): move the dead-letter queue ``source_arn``'s messages,
        as new messages, to ``destination_arn`` or, without one, each back to the queue it was
        dead-lettered from; at most ``max_number_of_messages_per_second`` (1-500; absent: 500)
        per second of the broker's clock. Returns the TaskHandle. Queues or ARNs are accepted."""
        return self._move_tasks.start(source_arn, destination_arn, max_number_of_messages_per_second)

    def list_message_move_tasks(self, source_arn: QueueRef, max_results: int = 1) -> list[dict[str, Any]]:
        """ListMessageMoveTasks: the ``max_results`` (1-10) most recent tasks of ``source_arn``,
        as AWS's result entries (``Status``, ``ApproximateNumberOfMessagesMoved``, ...)."""
        return self._move_tasks.list_tasks(source_arn, max_results)

    def cancel_message_move_task(self, task_handle: str) -> int:
        """CancelMessageMoveTask: stop a RUNNING task (moved messages stay moved); returns its
        ApproximateNumberOfMessagesMoved."""
        return self._move_tasks.cancel(task_handle)

    def run_message_move_tasks(self) -> None:
        """Advance every active move task in the store by one step, by the broker's clock: what
        the background threads do, callable directly (tests with a fake clock, or tasks whose
        broker was closed)."""
        self._move_tasks.run()

    # ------------------------------------------------------------------ topics

    def topic(self, name: str, **attributes: Any) -> Topic:
        """Open an SNS standard topic, creating it if absent; with attributes (``display_name``,
        ``policy``, ``delivery_policy``, ``signature_version``, ``tracing_config``,
        ``kms_master_key_id``) behave as CreateTopic: the existing topic when the attributes are
        equal, InvalidParameter "Topic already exists with different attributes" otherwise.

        Topics and their subscriptions are kept in the store: with an SQLite file they survive
        restarts and are shared by every broker (and process) on it, except subscriptions to Python
        callables, which only the Topic object that made them has (see ``rulebus.sns.topic``).
        """
        validation.text(name, "Name", validation.SNS)
        validate_topic_name(name)
        wanted = topic_attributes_from_kwargs(attributes)
        for key, value in wanted.items():
            validation.text(value, key, validation.SNS)
        _check_topic_policy(wanted)
        stored = self._store.topics.get_topic(name)
        if stored is None:
            check_topic_attributes(name, wanted)
            stored = self._store.topics.create_topic(TopicRecord(name, wanted))
        if attributes and dict(stored.attributes) != wanted:
            raise AwsError(
                "InvalidParameter",
                "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
            )
        return self._topic_object(stored)

    def find_topic(self, name: str) -> Topic | None:
        """The topic of this name if it exists (None otherwise): what an API call naming a topic
        by its ARN looks up, where ``topic(name)`` would create it."""
        record = self._store.topics.get_topic(name)
        return None if record is None else self._topic_object(record)

    def get_topic(self, name: str) -> Topic:
        """Open an existing topic, never creating one: NotFound "Topic does not exist" (SNS's
        error for an operation naming a topic that is not there) when there is none."""
        validation.text(name, "Name", validation.SNS)
        topic = self.find_topic(name)
        if topic is None:
            raise topic_does_not_exist()
        return topic

    def _topic_object(self, record: TopicRecord) -> Topic:
        """This broker's Topic for a stored topic: the same object while the stored attributes are
        the same (a topic re-created with others, by any broker, gets a new one)."""
        attributes = dict(record.attributes)
        made = self._topics.get(record.name)
        if made is None or made[0] != attributes:
            made = self._topics[record.name] = (
                attributes,
                Topic(self.context, record.name, record.attributes),
            )
        return made[1]

    def set_topic_attributes(self, name: str, attribute_name: str, attribute_value: str) -> Topic:
        """SetTopicAttributes: one of CreateTopic's attributes (not FifoTopic, which a topic keeps
        from its creation) by AWS's name, checked as CreateTopic checks it; an empty value removes
        DeliveryPolicy, Policy or KmsMasterKeyId (back to SNS's default). NotFound "Topic does not
        exist" for a missing topic. Returns the topic as it now is."""
        validation.text(name, "Name", validation.SNS)
        validation.text(attribute_name, "AttributeName", validation.SNS)
        validation.text(attribute_value, "AttributeValue", validation.SNS, required=False)
        record = self._store.topics.get_topic(name)
        if record is None:
            raise topic_does_not_exist()
        if attribute_name not in SETTABLE_TOPIC_ATTRIBUTES:
            # SNS's text for an attribute it does not know (as other emulators record it).
            raise AwsError("InvalidParameter", "Invalid parameter: AttributeName")
        attributes = dict(record.attributes)
        if not attribute_value and attribute_name in ("DeliveryPolicy", "Policy", "KmsMasterKeyId"):
            attributes.pop(attribute_name, None)
        else:
            attributes[attribute_name] = attribute_value or ""
        _check_topic_policy(attributes)
        check_topic_attributes(name, attributes)
        if not self._store.topics.update_topic(TopicRecord(name, attributes)):
            raise topic_does_not_exist()
        return self._topic_object(TopicRecord(name, attributes))

    def delete_topic(self, name: str) -> None:
        """DeleteTopic: the topic and its subscriptions; deleting an absent topic is not an error."""
        validation.text(name, "Name", validation.SNS)
        validate_topic_name(name)
        self._store.topics.delete_topic(name)
        self._store.tags.delete_tags(topic_arn(name, self.region, self.account))
        self._topics.pop(name, None)

    def topics(self) -> list[Topic]:
        """Every topic, sorted by name."""
        topics = []
        for name in self._store.topics.topic_names():
            try:
                record = self._store.topics.get_topic(name)
            except StoreRowCorruptError:
                continue  # (its row is damaged: using it raises; the listing shows the rest)
            if record is not None:
                topics.append(self._topic_object(record))
        return topics

    # ------------------------------------------------------------------ event buses

    def event_bus(self, name: str = DEFAULT_BUS, description: str | None = None) -> EventBus:
        """Open an EventBridge event bus, creating it if absent (``"default"`` always exists).
        Its rules and targets live in the store: every broker on an SQLite file routes by them."""
        if name is not DEFAULT_BUS:  # (the name every PutEvents without EventBusName opens: valid)
            validate_bus_name(name)
        validation.text(description, "description", validation.EVENTS, required=False)
        if self._store.buses.get_event_bus(name) is None:
            self._store.buses.create_event_bus(EventBusRecord(name, self._clock(), description))
        return self._bus_object(name)

    def find_event_bus(self, name: str) -> EventBus | None:
        """The event bus of this name if it exists (None otherwise), where ``event_bus(name)``
        would create it."""
        if self._store.buses.get_event_bus(name) is None:
            return None
        return self._bus_object(name)

    def get_event_bus(self, name: str = DEFAULT_BUS) -> EventBus:
        """Open an existing event bus, never creating one: ResourceNotFoundException "Event bus
        NAME does not exist." when there is none (``"default"`` always exists)."""
        validate_bus_name(name)
        bus = self.find_event_bus(name)
        if bus is None:
            raise missing_bus(name)
        return bus

    def _bus_object(self, name: str) -> EventBus:
        """This broker's EventBus for ``name`` (one per name: it holds the bus's Python targets)."""
        bus = self._buses.get(name)
        if bus is None:
            bus = self._buses[name] = EventBus(self.context, name, self._archives)
        return bus

    def create_event_bus(self, name: str, description: str | None = None) -> EventBus:
        """CreateEventBus: ResourceAlreadyExistsException if the bus exists."""
        validate_bus_name(name)
        validation.text(description, "description", validation.EVENTS, required=False)
        if "/" in name or name == DEFAULT_BUS:
            # AWS's custom bus names may not contain "/" (those are partner buses) nor be "default".
            raise AwsError("ValidationException", f"Event bus name {name} is not valid.")  # our wording
        if not self._store.buses.create_event_bus(EventBusRecord(name, self._clock(), description)):
            raise AwsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
        return self.event_bus(name)

    def delete_event_bus(self, name: str) -> None:
        """DeleteEventBus: the bus with its rules and targets; the default bus cannot be deleted."""
        validate_bus_name(name)
        if name == DEFAULT_BUS:
            raise AwsError("ValidationException", "Cannot delete event bus default.")
        rules = self._store.buses.rules(name)[1] if self._store.buses.get_event_bus(name) else []
        self._store.buses.delete_event_bus(name)
        for resource in [bus_arn(name, self.region, self.account)] + [
            rule_arn(name, rule.name, self.region, self.account) for rule in rules
        ]:
            self._store.tags.delete_tags(resource)
        bus = self._buses.pop(name, None)
        if bus is not None:
            bus.close()

    def event_buses(self) -> list[EventBus]:
        """Every event bus, sorted by name."""
        buses = []
        for name in self._store.buses.event_bus_names():
            try:
                buses.append(self.event_bus(name))
            except StoreRowCorruptError:
                continue  # (its row is damaged: using it raises; the listing shows the rest)
        return buses

    # ------------------------------------------------------------------ streams

    def stream(self, name: str, shards: int | None = None) -> Stream:
        """Open a Kinesis stream, creating it (``shards`` shards, 1 if not given; 24 h retention)
        if absent; ``shards`` applies to creation only (see ``rulebus.kinesis.stream``). Its shards,
        records and consumers' checkpoints live in the store."""
        return open_stream(self.context, name, shards)

    def get_stream(self, name: str) -> Stream:
        """Open an existing stream, never creating one: ResourceNotFoundException "Stream NAME
        under account ACCOUNT not found." when there is none."""
        return get_stream(self.context, name)

    def delete_stream(self, name: str, enforce_consumer_deletion: bool = False) -> None:
        """DeleteStream: the stream with its records, checkpoints and registered consumers
        (ResourceNotFoundException if absent; ResourceInUseException if it has registered
        consumers, unless ``enforce_consumer_deletion``)."""
        delete_stream(self.context, name, enforce_consumer_deletion)

    def streams(self) -> list[Stream]:
        """Every stream, sorted by name."""
        return [Stream(self.context, name) for name in self._store.streams.stream_names()]

    # ------------------------------------------------------------------ tags

    def tags(self, arn: str) -> dict[str, str]:
        """The tags of the queue, topic, event bus, rule or stream with this ARN (ListQueueTags,
        ListTagsForResource, ListTagsForStream). NotFound when this broker has no such resource."""
        return self._store.tags.tags(self._tagged(arn))

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        """Add tags to a resource, replacing the values of keys it has (TagQueue, TagResource,
        AddTagsToStream); AWS's limits on tags are the wire layer's to check. NotFound when this
        broker has no such resource."""
        validation.mapping(tags, "Tags", validation.EVENTS)
        for key, value in tags.items():
            validation.text(key, "Tags", validation.EVENTS)
            validation.text(value, key, validation.EVENTS)
        self._store.tags.tag_resource(self._tagged(arn), dict(tags))

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        """Remove a resource's tags of these keys (UntagQueue, UntagResource, RemoveTagsFromStream)."""
        keys = validation.string_list(keys, "TagKeys", validation.EVENTS)
        self._store.tags.untag_resource(self._tagged(arn), list(keys))

    def _tagged(self, arn: str) -> str:
        """The ARN of a resource of this broker that tags may name; NotFound(kind, name) otherwise."""
        validation.text(arn, "ResourceArn", validation.EVENTS)
        parsed = Arn.parse(arn)
        if parsed is None or not parsed.is_in(self.region, self.account):
            raise NotFound("resource", arn)
        service, resource = parsed.service, parsed.resource
        kind, name, exists = "resource", arn, False
        if service == "sqs":
            kind, name = "queue", resource
            exists = self._store.queues.get_queue(resource) is not None
        elif service == "sns":
            kind, name = "topic", resource
            exists = self._store.topics.get_topic(resource) is not None
        elif service == "events" and resource.startswith("event-bus/"):
            kind, name = "bus", resource[len("event-bus/") :]
            exists = self._store.buses.get_event_bus(name) is not None
        elif service == "events" and resource.startswith("rule/"):
            bus, _, rule = resource[len("rule/") :].rpartition("/")
            kind, name = "rule", rule
            exists = self._store.buses.get_rule(bus or DEFAULT_BUS, rule) is not None
        elif service == "kinesis" and resource.startswith("stream/"):
            kind, name = "stream", resource[len("stream/") :]
            exists = self._store.streams.get_stream(name) is not None
        if not exists:
            raise NotFound(kind, name)
        return arn

    # ------------------------------------------------------------------ metrics

    def metrics(self) -> Metrics:
        """Every queue's, topic's, event bus's, stream's and function's metrics by CloudWatch's
        names, as this broker's process counted them since it started (docs/observability.md)::

            {"AWS/SQS": {"QueueName=orders": {"NumberOfMessagesSent": 3, ...}},
             "AWS/SNS": {"TopicName=alerts": {...}}, "AWS/Events": {"EventBusName=default": {...}},
             "AWS/Kinesis": {"StreamName=clicks": {...}},
             "AWS/Lambda": {"FunctionName=ship": {"Invocations": 2, "Errors": 0, ...}}}

        Counters count since the broker started; ``Approximate*`` and ``IteratorAge`` values are
        what they are now."""
        return metrics.collect(
            self.context,
            [made for _, made in self._topics.values()],
            self._buses.values(),
            self._functions.all(),
        )

    def metrics_text(self) -> str:
        """:meth:`metrics` in Prometheus's text exposition format (``rulebus.metrics.prometheus``)."""
        return metrics.prometheus(self.metrics())

    def _rules_changed(self, bus: str) -> None:
        """A bus's rules or targets changed through this broker: the scheduler looks again."""
        self._scheduler.refresh()

    # ------------------------------------------------------------------ functions

    @overload
    def function(
        self,
        name: str,
        handler: Handler,
        *,
        timeout: int = ...,
        memory_size: int = ...,
        reserved_concurrency: int | None = ...,
        maximum_retry_attempts: int = ...,
        maximum_event_age_in_seconds: int = ...,
        on_failure: Any = ...,
        dead_letter_config: Any = ...,
        description: str = ...,
    ) -> Function: ...
    @overload
    def function(
        self,
        name: str,
        handler: None = None,
        *,
        timeout: int = ...,
        memory_size: int = ...,
        reserved_concurrency: int | None = ...,
        maximum_retry_attempts: int = ...,
        maximum_event_age_in_seconds: int = ...,
        on_failure: Any = ...,
        dead_letter_config: Any = ...,
        description: str = ...,
    ) -> Callable[[Handler], Handler]: ...
    def function(
        self,
        name: str,
        handler: Handler | None = None,
        *,
        timeout: int = DEFAULT_TIMEOUT,
        memory_size: int = DEFAULT_MEMORY_SIZE,
        reserved_concurrency: int | None = None,
        maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        maximum_event_age_in_seconds: int = MAX_EVENT_AGE,
        on_failure: Any = None,
        dead_letter_config: Any = None,
        description: str = "",
    ) -> Function | Callable[[Handler], Handler]:
        """Register ``handler(event, context)`` as function ``name`` (CreateFunction), with
        Lambda's settings (see :class:`rulebus.functions.Function`); ResourceConflictException if
        the name is taken. Without a handler, a decorator: ``@broker.function("name")`` registers
        the decorated def and leaves it as it was. Functions live in this program, not the store."""

        def register(handler: Handler) -> Function:
            return self._functions.add(
                Function(
                    name,
                    handler,
                    region=self.region,
                    account=self.account,
                    timeout=timeout,
                    memory_size=memory_size,
                    reserved_concurrency=reserved_concurrency,
                    maximum_retry_attempts=maximum_retry_attempts,
                    maximum_event_age_in_seconds=maximum_event_age_in_seconds,
                    on_failure=on_failure,
                    dead_letter_config=dead_letter_config,
                    description=description,
                )
            )

        if handler is not None:
            return register(handler)

        def decorate(handler: Handler) -> Handler:
            register(handler)
            return handler

        return decorate

    def functions(self) -> list[Function]:
        """Every registered function, sorted by name."""
        return self._functions.all()

    def get_function(self, name: str) -> Function:
        """The function of this name or ARN (ResourceNotFoundException "Function not found: ...")."""
        return self._functions.get(name)

    def delete_function(self, name: str) -> None:
        """DeleteFunction. Its event source mappings stay, as on AWS, and wait for a function of
        that name."""
        self._functions.delete(name)

    def create_event_source_mapping(
        self,
        *,
        function_name: str | Function,
        event_source_arn: str | Queue | Stream,
        batch_size: int | None = None,
        maximum_batching_window_in_seconds: int = 0,
        enabled: bool = True,
        function_response_types: list[str] | None = None,
        filter_criteria: Mapping[str, Any] | None = None,
        scaling_config: Mapping[str, Any] | None = None,
        starting_position: str | None = None,
        starting_position_timestamp: float | None = None,
        parallelization_factor: int | None = None,
        bisect_batch_on_function_error: bool | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_record_age_in_seconds: int | None = None,
        destination_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """CreateEventSourceMapping for an SQS queue or a Kinesis stream (its ARN or the object):
        the function is invoked with batches of its messages or records as Lambda does
        (docs/functions.md). ``batch_size`` defaults to 10 for a queue, 100 for a stream; the
        stream settings (``starting_position``, required, and the rest) are refused for a queue.
        Returns Lambda's answer in snake case (``uuid``, ``state``, ``batch_size``, ...)."""
        return self._functions.create_mapping(
            _function_ref(function_name),
            _source_ref(event_source_arn),
            batch_size=batch_size,
            maximum_batching_window_in_seconds=maximum_batching_window_in_seconds,
            enabled=enabled,
            function_response_types=function_response_types,
            filter_criteria=filter_criteria,
            scaling_config=scaling_config,
            starting_position=starting_position,
            starting_position_timestamp=starting_position_timestamp,
            parallelization_factor=parallelization_factor,
            bisect_batch_on_function_error=bisect_batch_on_function_error,
            maximum_retry_attempts=maximum_retry_attempts,
            maximum_record_age_in_seconds=maximum_record_age_in_seconds,
            destination_config=destination_config,
        )

    def list_event_source_mappings(
        self,
        function_name: str | Function | None = None,
        event_source_arn: str | Queue | Stream | None = None,
    ) -> list[dict[str, Any]]:
        """ListEventSourceMappings, of one function and/or one source if given."""
        return self._functions.list_mappings(
            None if function_name is None else _function_ref(function_name),
            None if event_source_arn is None else _source_ref(event_source_arn),
        )

    def get_event_source_mapping(self, uuid: str) -> dict[str, Any]:
        """GetEventSourceMapping (ResourceNotFoundException for an unknown UUID)."""
        return self._functions.get_mapping(uuid)

    def update_event_source_mapping(
        self,
        uuid: str,
        *,
        function_name: str | Function | None = None,
        batch_size: int | None = None,
        maximum_batching_window_in_seconds: int | None = None,
        enabled: bool | None = None,
        function_response_types: list[str] | None = None,
        filter_criteria: Mapping[str, Any] | None = None,
        scaling_config: Mapping[str, Any] | None = None,
        parallelization_factor: int | None = None,
        bisect_batch_on_function_error: bool | None = None,
        maximum_retry_attempts: int | None = None,
        maximum_record_age_in_seconds: int | None = None,
        destination_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """UpdateEventSourceMapping: the settings given replace the mapping's; ``{}`` removes
        filter criteria or the scaling config, ``[]`` the response types."""
        return self._functions.update_mapping(
            uuid,
            None if function_name is None else _function_ref(function_name),
            batch_size=batch_size,
            maximum_batching_window_in_seconds=maximum_batching_window_in_seconds,
            enabled=enabled,
            function_response_types=function_response_types,
            filter_criteria=filter_criteria,
            scaling_config=scaling_config,
            parallelization_factor=parallelization_factor,
            bisect_batch_on_function_error=bisect_batch_on_function_error,
            maximum_retry_attempts=maximum_retry_attempts,
            maximum_record_age_in_seconds=maximum_record_age_in_seconds,
            destination_config=destination_config,
        )

    def delete_event_source_mapping(self, uuid: str) -> dict[str, Any]:
        """DeleteEventSourceMapping: the mapping's answer in state ``Deleting``."""
        return self._functions.delete_mapping(uuid)

    # ------------------------------------------------------------------ pipes

    def create_pipe(
        self,
        *,
        name: str,
        source: str | Queue | Stream,
        target: str | Function | Queue | Topic | EventBus | Stream,
        source_parameters: Mapping[str, Any] | None = None,
        enrichment: str | Function | None = None,
        enrichment_parameters: Mapping[str, Any] | None = None,
        target_parameters: Mapping[str, Any] | None = None,
        role_arn: str | None = None,
        description: str | None = None,
        desired_state: str = "RUNNING",
        tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """CreatePipe: ``source`` (a queue or stream, its ARN or the object) is polled as an event
        source mapping polls it, its records filtered by ``source_parameters["FilterCriteria"]``
        in the engine, enriched by the ``enrichment`` function if given and delivered to
        ``target`` (a function, queue, topic, bus or stream) as EventBridge Pipes does
        (docs/pipes.md). Returns Pipes' answer (``Arn``, ``Name``, ``CurrentState`` "CREATING",
        ``DesiredState``, ``CreationTime``, ``LastModifiedTime``)."""
        return self._pipes.create(
            name,
            _arn_of(source),
            _arn_of(target),
            source_parameters=source_parameters,
            enrichment=_arn_of(enrichment),
            enrichment_parameters=enrichment_parameters,
            target_parameters=target_parameters,
            role_arn=role_arn,
            description=description,
            desired_state=desired_state,
            tags=tags,
        )

    def describe_pipe(self, name: str) -> dict[str, Any]:
        """DescribePipe (NotFoundException for an unknown name)."""
        return self._pipes.describe(name)

    def list_pipes(
        self,
        *,
        name_prefix: str | None = None,
        desired_state: str | None = None,
        current_state: str | None = None,
        source_prefix: str | None = None,
        target_prefix: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """ListPipes: ``{"Pipes": [...], "NextToken"?}``, sorted by name."""
        return self._pipes.list_pipes(
            name_prefix=name_prefix,
            desired_state=desired_state,
            current_state=current_state,
            source_prefix=source_prefix,
            target_prefix=target_prefix,
            limit=limit,
            next_token=next_token,
        )

    def update_pipe(
        self,
        name: str,
        *,
        source_parameters: Mapping[str, Any] | None = None,
        enrichment: str | Function | None = None,
        enrichment_parameters: Mapping[str, Any] | None = None,
        target: str | Function | Queue | Topic | EventBus | Stream | None = None,
        target_parameters: Mapping[str, Any] | None = None,
        role_arn: str | None = None,
        description: str | None = None,
        desired_state: str | None = None,
    ) -> dict[str, Any]:
        """UpdatePipe: what is given replaces the pipe's (None: unchanged; ``enrichment=""``
        removes the enrichment); the source cannot change."""
        return self._pipes.update(
            name,
            source_parameters=source_parameters,
            enrichment=_arn_of(enrichment),
            enrichment_parameters=enrichment_parameters,
            target=_arn_of(target),
            target_parameters=target_parameters,
            role_arn=role_arn,
            description=description,
            desired_state=desired_state,
        )

    def delete_pipe(self, name: str) -> dict[str, Any]:
        """DeletePipe: the pipe stops polling (batches it took finish)."""
        return self._pipes.delete(name)

    def start_pipe(self, name: str) -> dict[str, Any]:
        """StartPipe: a stopped pipe polls its source again."""
        return self._pipes.start(name)

    def stop_pipe(self, name: str) -> dict[str, Any]:
        """StopPipe: the pipe stops polling; its source keeps its messages or records."""
        return self._pipes.stop(name)

    def run_functions(self) -> int:
        """Run the mappings' pending batches now, in this thread, until none has a batch to give
        (what the pool does; tests call it after moving a fake clock). Returns the batches taken."""
        return self._functions.run()

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Wait until no function has work left: no batch running and no enabled mapping's queue
        with visible messages. True then; False when ``timeout`` (real seconds) passes first.
        Without the pool (``background_functions=False``) the work is run in this thread."""
        return self._functions.wait_until_idle(timeout)

    def run_schedules(self) -> int:
        """Fire every scheduled rule that is due by the broker's clock, now, in this thread (what
        the scheduler's thread does on its own; see ``rulebus.events.scheduler``). Returns the fires
        made. Rules scheduled by another broker on the store are picked up here too."""
        self._scheduler.refresh()
        return self._scheduler.run_due()


def _function_ref(function: str | Function) -> str:
    """A FunctionName from a name, an ARN or a Function."""
    return function.name if isinstance(function, Function) else function


def _arn_of(resource: Any) -> Any:
    """An ARN from an ARN or a resource object (a Queue, Topic, EventBus, Stream or Function)."""
    arn = getattr(resource, "arn", None)
    return arn if isinstance(arn, str) else resource


def _source_ref(source: str | Queue | Stream) -> str:
    """An EventSourceArn from an ARN, a Queue or a Stream."""
    return source.arn if isinstance(source, (Queue, Stream)) else source


def _check_topic_policy(attributes: dict[str, str]) -> None:
    """A topic's Policy must be a JSON object (an IAM policy document), as SNS parses it."""
    policy = attributes.get("Policy")
    if policy is None:
        return
    try:
        parsed = jsontext.loads(policy)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        # The wording other emulators record for a policy SNS cannot parse (not verified on AWS).
        raise AwsError("InvalidParameter", "Invalid parameter: Policy Error: null")


def _first_difference(old: QueueAttributes, new: QueueAttributes) -> str:
    """The first attribute, in GetQueueAttributes order, whose value differs (named in the error)."""
    old_map, new_map = old.to_aws(), new.to_aws()
    for name in ATTRIBUTE_NAMES:
        if old_map.get(name) != new_map.get(name):
            return name
    return "DelaySeconds"  # pragma: no cover - unequal attributes always differ in to_aws()
