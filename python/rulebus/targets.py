"""Where deliveries go: an ARN (or a Python object) in, this broker's queue, topic, event bus or
stream out.

Topics deliver to subscribed queues and streams, buses to rule targets and other buses, replays
and schedules to buses, and both send to dead-letter queues; they all find what to deliver to
here, and deliver through its public methods (``Queue.send``, ``Topic.publish``,
``EventBus.ingest``, ``Stream.put_record``). An ARN names a resource of this broker only when its
region and account are the broker's; the ``find_*`` methods answer None for a resource that does
not exist, so each caller keeps AWS's own error for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union, cast

from rulebus._errors import StoreRowCorruptError
from rulebus.arn import Arn

if TYPE_CHECKING:
    from rulebus.events.bus import EventBus
    from rulebus.kinesis.stream import Stream
    from rulebus.sns.topic import Topic
    from rulebus.sqs.queue import Queue
    from rulebus.stores.base import Store
    from rulebus.stores.records import TopicRecord

__all__ = ["Destination", "Targets"]

#: What a delivery goes to: a service object, or a Python callable given the message.
Destination = Union["Queue", "Topic", "EventBus", "Stream", Callable[[Any], Any]]


class Targets:
    """One broker's resources by name or ARN (see the module docstring). The broker makes it
    with the functions that give its objects: a queue's view by name, the Topic of a stored
    topic, the EventBus and the Stream by name (each the broker's own, so a bus's Python
    targets and a topic's callable subscriptions are the ones deliveries reach)."""

    def __init__(
        self,
        store: Store,
        region: str,
        account: str,
        *,
        queue: Callable[[str], Queue],
        topic: Callable[[TopicRecord], Topic],
        event_bus: Callable[[str], EventBus],
        stream: Callable[[str], Stream],
        invoke_function: Callable[[str, Any], str] | None = None,
    ) -> None:
        self._store = store
        self.region = region
        self.account = account
        self._queue = queue
        self._topic = topic
        self._event_bus = event_bus
        self._stream = stream
        self._invoke_function = invoke_function

    def is_local(self, arn: Arn) -> bool:
        """Whether ``arn`` is in this broker's region and account."""
        return arn.is_in(self.region, self.account)

    def local_name(self, arn: str, service: str, resource_type: str = "") -> str | None:
        """The resource name ``arn`` gives when it is a ``service`` ARN of this broker's region
        and account (``resource_type`` as :meth:`rulebus.arn.Arn.named`), else None."""
        parsed = Arn.parse(arn)
        if parsed is None or not parsed.is_in(self.region, self.account):
            return None
        return parsed.named(service, resource_type)

    def queue(self, name: str) -> Queue:
        """The queue ``name`` whether or not it exists (its calls then raise QueueDoesNotExist)."""
        return self._queue(name)

    def find_queue(self, name: str) -> Queue | None:
        """The queue ``name``, None if it does not exist (or if its row in an SQLite file is
        damaged: a delivery to it fails as to a missing queue, and the others are made)."""
        try:
            return self._queue(name) if self._store.queues.get_queue(name) is not None else None
        except StoreRowCorruptError:
            return None

    def find_topic(self, name: str) -> Topic | None:
        """The topic ``name``, None if it does not exist."""
        record = self._store.topics.get_topic(name)
        return self._topic(record) if record is not None else None

    def find_event_bus(self, name: str) -> EventBus | None:
        """The event bus ``name``, None if it does not exist."""
        return self._event_bus(name) if self._store.buses.get_event_bus(name) is not None else None

    def find_stream(self, name: str) -> Stream | None:
        """The stream ``name``, None if it does not exist."""
        return self._stream(name) if self._store.streams.get_stream(name) is not None else None

    def invoke_function(self, name: str, event: Any) -> bool:
        """Invoke this broker's function ``name`` asynchronously (Lambda's Event invocation type:
        the event is queued and this returns at once); False when there is no such function."""
        if self._invoke_function is None:
            return False
        from rulebus._errors import AwsError

        try:
            self._invoke_function(name, event)
        except AwsError:
            return False
        return True

    def resolve(self, target: object) -> Destination | None:
        """What ``target`` delivers to: an SQS, SNS, EventBridge event-bus or Kinesis ARN of this
        broker gives the existing resource (None when it does not exist or is elsewhere); a
        Queue, Topic, EventBus, Stream or callable is its own destination; anything else is
        None."""
        if isinstance(target, str):
            parsed = Arn.parse(target)
            if parsed is None or not parsed.is_in(self.region, self.account):
                return None
            if (name := parsed.named("sqs")) is not None:
                return self.find_queue(name)
            if (name := parsed.named("sns")) is not None:
                return self.find_topic(name)
            if (name := parsed.named("events", "event-bus")) is not None:
                return self.find_event_bus(name)
            if (name := parsed.named("kinesis", "stream")) is not None:
                return self.find_stream(name)
            return None
        from rulebus.events.bus import EventBus
        from rulebus.kinesis.stream import Stream
        from rulebus.sns.topic import Topic
        from rulebus.sqs.queue import Queue

        if isinstance(target, (Queue, Topic, EventBus, Stream)):
            return target
        invocable = callable(target)  # kept apart so that type checkers do not narrow ``target``
        return cast("Callable[[Any], Any]", target) if invocable else None
