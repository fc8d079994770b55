"""Delivering a topic's publishes: one pipeline from routes to subscribers.

A publish is prepared (``rulebus.sns.publish``), its routes chosen (``rulebus.sns.routes``:
selected, or evaluated route by route) and each route delivered by its ``TargetKind``, here:

- plain queues: the store's plain puts, for all of a publish's plain queues at once. The usual
  fan-out (every route a plain queue, no raw delivery) of consecutive publishes is one call of
  the native fan-out (``Store.put_notifications``), which writes the envelope itself: that is
  the fast path of this same pipeline, not another one. What the store refuses takes the queue
  path, before any later publish is stored, so every queue keeps the publish order.
- other queues: SendMessage's checks (``Queue.prepare_message``), then one store call;
- HTTP/S endpoints: on the subscription's lane after Publish returns (``rulebus.delivery``),
  retried per the effective delivery policy; the one kind whose envelope gets a real signature
  (when the broker has a signer), as it is sent;
- streams and Python callables: before Publish returns.

A delivery that fails (after its retries; a Python callable that raises fails at once, and never
makes Publish fail) goes to the subscription's dead-letter queue as the endpoint would have got
it, else counts in ``failed_count`` (Amazon SNS Developer Guide, "Amazon SNS dead-letter queues
(DLQs)"); either way it is logged on the ``rulebus.sns`` logger.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from rulebus import tracing
from rulebus._core import FanOut
from rulebus._errors import AwsError, StoreRowCorruptError
from rulebus.arn import Arn, function_name
from rulebus.delivery import DeliveryLanes
from rulebus.functions.records import sns_event
from rulebus.sns.envelope import Envelope, TopicSigning
from rulebus.sns.policies import effective_delivery, retry_delays
from rulebus.sns.publish import Prepared
from rulebus.sns.routes import Route, Selection, TargetKind
from rulebus.sns.subscription import Subscription
from rulebus.sqs.errors import queue_does_not_exist
from rulebus.sqs.queue import Queue
from rulebus.stores.base import NotFound
from rulebus.stores.records import StoredMessage
from rulebus.transport import post_with_retries, redacted

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["Delivery", "FanOutBatch", "FanOutPublish", "Sent", "TopicDelivery"]

USER_AGENT = "Amazon Simple Notification Service Agent"

#: Every failed delivery is logged here (docs/observability.md).
_log = logging.getLogger("rulebus.sns")

_PLAIN_QUEUE = TargetKind.PLAIN_QUEUE
_QUEUE = TargetKind.QUEUE
_HTTP = TargetKind.HTTP
_CALLABLE = TargetKind.CALLABLE
_FUNCTION = TargetKind.FUNCTION
_STREAM = TargetKind.STREAM


class Delivery(NamedTuple):
    """One publish to one route: its envelope and the message it receives (with raw delivery,
    or MessageStructure's entry for its protocol)."""

    route: Route
    envelope: Envelope
    message: str

    @property
    def text(self) -> str:
        """The route's envelope."""
        return self.envelope.text(self.route.quoted_url)

    @property
    def payload(self) -> str:
        """What the route receives: the message with raw delivery, else the envelope."""
        return self.message if self.route.raw else self.envelope.text(self.route.quoted_url)


class Sent(NamedTuple):
    """What a publish sends besides its message: the message attributes (to raw deliveries) and
    MessageGroupId (to queues)."""

    attributes: dict[str, dict[str, Any]]
    group_id: str | None


#: One publish as the native fan-out (``Store.put_notifications``) takes it: ``(fan_out,
#: message_id, subject, message, tail)``. A plain tuple, not a NamedTuple: one is made per publish
#: on the hottest path, where a NamedTuple's constructor costs as much as the rest of the entry's
#: bookkeeping; it is unpacked by these names where it is read.
FanOutPublish = tuple[FanOut, str, str | None, str, str]


class FanOutBatch:
    """Consecutive publishes to their usual fan-out, for one native call, and what a refusal
    needs to send a publish's refused routes the queue way."""

    __slots__ = ("publishes", "selected")

    def __init__(self) -> None:
        self.publishes: list[FanOutPublish] = []
        self.selected: list[tuple[Selection, Prepared]] = []


class TopicDelivery:
    """A topic's deliveries: the pipeline's last step, by route kind (see the module's doc)."""

    def __init__(
        self,
        context: Context,
        topic_arn: Callable[[], str],
        topic_delivery_policy: Callable[[], str | None],
        lanes: DeliveryLanes,
        sleep: Callable[[float], Any],
    ) -> None:
        self._store = context.store
        self._signer = context.sns_signer
        self._region = context.region
        self._account = context.account
        self._targets = context.targets
        self._topic_arn = topic_arn
        self._topic_delivery_policy = topic_delivery_policy
        self._lanes = lanes
        self._sleep = sleep

    # ------------------------------------------------------------------ the native fan-out

    def put_fan_outs(self, batch: FanOutBatch, signing: TopicSigning, now: float, sent_at: str) -> None:
        """Store consecutive publishes to their usual fan-out in one store call. A route the
        store refuses takes the queue path (SendMessage's checks, dead-lettering) before any
        later publish is stored, so each queue receives them in order."""
        publishes = batch.publishes
        store, account = self._store, self._account
        start = 0
        while start < len(publishes):
            stored = publishes[start:] if start else publishes
            done, refused = store.queues.put_notifications(signing, stored, account, now, sent_at)
            start += done
            if refused:  # of the last publish stored
                selection, prepared = batch.selected[start - 1]
                _, message_id, subject, message, tail = publishes[start - 1]
                envelope = Envelope.notification(signing, message_id, subject, message, sent_at, tail)
                deliveries = [
                    Delivery(selection.routes[number], envelope, prepared.message) for number in refused
                ]
                self.to_queues(deliveries, Sent(prepared.attributes, None), now)

    # ------------------------------------------------------------------ by route kind

    def deliver(self, deliveries: Sequence[Delivery], sent: Sent, now: float) -> None:
        """One publish to its routes, in subscription order: HTTP/S handed to their lanes,
        streams and callables now, then the queues (plain ones in one ``put_plain_many``)."""
        attributes, group_id = sent
        plain: list[Delivery] = []
        queued: list[Delivery] = []
        for delivery in deliveries:
            route = delivery.route
            kind = route.kind
            if kind is _PLAIN_QUEUE and group_id is None and not (route.raw and attributes):
                plain.append(delivery)
            elif kind is _PLAIN_QUEUE or kind is _QUEUE:
                queued.append(delivery)
            elif kind is _HTTP:
                # After Publish has answered, on the subscription's own lane (see rulebus.delivery).
                self._lanes.submit(route.subscription.subscription_arn, partial(self.attempt, delivery, sent))
            else:
                self.attempt(delivery, sent)
        if plain:
            store = self._store
            texts = [(delivery.route.queue, delivery.payload) for delivery in plain]
            refused = set(store.queues.put_plain_many(texts, self._account, now))
            for number, delivery in enumerate(plain):
                if number in refused:  # the queue way, where it succeeds or fails as SendMessage would
                    queued.append(delivery)
                else:
                    delivery.route.counter.add(1)
            if refused:
                queued.sort(key=_route_index)
        if queued:
            self.to_queues(queued, sent, now)

    def to_queues(self, deliveries: Sequence[Delivery], sent: Sent, now: float) -> None:
        """Deliver to queues in one store call (one lock, or one SQLite transaction), each
        message through SendMessage's checks: a FIFO queue gets the publish's group and the SNS
        message id as deduplication id, so it keeps the topic's order per group. A message a
        queue refuses, or a queue gone, takes ``attempt``, which dead-letters it as SNS would."""
        attributes, group_id = sent
        batches: list[tuple[str, list[StoredMessage]]] = []
        stored: list[Delivery] = []
        for delivery in deliveries:
            route = delivery.route
            try:
                queue = route.target_queue
                if queue is None:
                    queue = route.target_queue = self.queue_for(route.subscription.target)
                fifo = queue.name.endswith(".fifo")
                message = queue.prepare_message(
                    delivery.payload,
                    message_attributes=(attributes or None) if route.raw else None,
                    message_group_id=group_id,
                    message_deduplication_id=delivery.envelope.message_id if fifo else None,
                    now=now,
                )
            except (AwsError, StoreRowCorruptError):  # (a queue whose row is damaged: as refused)
                self.attempt(delivery, sent)
                continue
            batches.append((queue.name, [message]))
            stored.append(delivery)
        if not batches:
            return
        try:
            self._store.queues.put_messages_many(batches)
        except (NotFound, StoreRowCorruptError):
            # A queue went away in between (or its row is damaged): one by one, so the others
            # still get theirs.
            for delivery in stored:
                self.attempt(delivery, sent)
            return
        for delivery in stored:
            delivery.route.counter.add(1)

    def attempt(self, delivery: Delivery, sent: Sent) -> None:
        """One delivery, its retries included; what the endpoint refuses goes to the
        subscription's dead-letter queue, else is dropped. Either way it is logged."""
        try:
            if not tracing.active():
                self._send(delivery, sent)
            else:
                subscription = delivery.route.subscription
                with tracing.consumer(
                    "aws_sns",
                    self._topic_arn(),
                    "Deliver",
                    subscription=subscription.subscription_arn,
                    endpoint=redacted(subscription.endpoint),
                    message_id=delivery.envelope.message_id,
                ):
                    self._send(delivery, sent)
        except (AwsError, StoreRowCorruptError) as error:  # a damaged queue fails its own deliveries only
            self._dead_letter(delivery, sent, error)
        else:
            delivery.route.counter.add(1)

    def _send(self, delivery: Delivery, sent: Sent) -> None:
        route = delivery.route
        subscription = route.subscription
        kind = route.kind
        message_id = delivery.envelope.message_id
        if kind is _CALLABLE:
            try:
                subscription.target(delivery.envelope.as_dict(route.quoted_url))
            except AwsError:
                raise
            except Exception as error:
                # SNS invokes a function asynchronously (Amazon SNS Developer Guide, 'Fanout to
                # Lambda functions'): the handler's failure is the delivery's, never Publish's.
                raise AwsError("HandlerFailed", f"{type(error).__name__}: {error}") from error
        elif kind is _HTTP:
            if not self.post(subscription, "Notification", message_id, delivery.payload, route.raw):
                # Our code for the failure; it only decides the dead-letter path, it is not raised.
                raise AwsError("EndpointUnreachable", f"delivery to {subscription.endpoint} failed")
        elif kind is _STREAM:
            self._to_stream(subscription, delivery.payload, message_id)
        elif kind is _FUNCTION:
            self._to_function(subscription, delivery)
        else:
            queue = self.queue_for(subscription.target)
            self._to_queue(
                queue, delivery.payload, sent.attributes if route.raw else {}, message_id, sent.group_id
            )

    def _to_function(self, subscription: Subscription, delivery: Delivery) -> None:
        """Hand the notification, in Lambda's SNS event, to the function: Lambda takes it
        asynchronously (AWS Lambda Developer Guide, 'Invoking Lambda functions with Amazon SNS
        notifications'). A function that no process registered on the broker's store fails the
        delivery."""
        arn = Arn.parse(subscription.endpoint)
        name = function_name(subscription.endpoint)
        notification = delivery.envelope.as_dict(delivery.route.quoted_url)
        notification["Message"] = delivery.message
        event = sns_event(notification, subscription.subscription_arn)
        if (
            arn is None
            or name is None
            or not arn.is_in(self._region, self._account)
            or not self._targets.invoke_function(name, event)
        ):
            # Our code for the failure; it only decides the dead-letter path, it is not raised.
            raise AwsError("ResourceNotFoundException", f"Function not found: {subscription.endpoint}")

    def _dead_letter(self, delivery: Delivery, sent: Sent, error: Exception) -> None:
        """A failed delivery (``error`` says why): to the RedrivePolicy's queue as the endpoint
        would have got it (the raw message, or the envelope), logged at WARNING; else, or when
        that queue refuses it too, dropped, counted in ``failed_count`` and logged at ERROR."""
        route = delivery.route
        subscription = route.subscription
        target = subscription.dead_letter_target_arn
        message_id = delivery.envelope.message_id
        if target is not None:
            try:
                queue = self.queue_for(target)
                attributes = sent.attributes if route.raw else {}
                self._to_queue(queue, delivery.payload, attributes, message_id, sent.group_id)
            except (AwsError, StoreRowCorruptError) as refused:
                subscription.dead_letter_failed_count += 1
                _log.error(
                    "SNS message %s to subscription %s (%s) failed: %s; its dead-letter queue %s "
                    "refused it too (%s): dropped",
                    message_id,
                    subscription.subscription_arn,
                    redacted(subscription.endpoint),
                    _reason(error),
                    target,
                    _reason(refused),
                )
            else:
                subscription.dead_lettered_count += 1
                _log.warning(
                    "SNS message %s to subscription %s (%s) failed: %s; sent to its dead-letter queue %s",
                    message_id,
                    subscription.subscription_arn,
                    redacted(subscription.endpoint),
                    _reason(error),
                    target,
                )
                return
        else:
            _log.error(
                "SNS message %s to subscription %s (%s) failed: %s; no dead-letter queue: dropped",
                message_id,
                subscription.subscription_arn,
                redacted(subscription.endpoint),
                _reason(error),
            )
        subscription.failed_count += 1

    # ------------------------------------------------------------------ the targets

    def post(
        self, subscription: Subscription, message_type: str, message_id: str, body: str, raw: bool = False
    ) -> bool:
        """POST with SNS's headers, retried per the effective delivery policy unless the endpoint
        answers with a client error; True once it got a 2xx. An envelope (not a raw message) is
        signed for real first when the broker has a signer (only here: see rulebus.sns.signing)."""
        if not raw and self._signer is not None:
            body = self._signer.signed_text(body)
        headers = {
            "x-amz-sns-message-type": message_type,
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": self._topic_arn(),
        }
        if message_type != "SubscriptionConfirmation":
            headers["x-amz-sns-subscription-arn"] = subscription.subscription_arn
        if raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        retry, content_type = effective_delivery(self._topic_delivery_policy(), subscription.delivery_policy)
        headers["Content-Type"] = content_type
        headers["User-Agent"] = USER_AGENT
        return post_with_retries(subscription.endpoint, body, headers, retry_delays(retry), self._sleep)

    def _to_stream(self, subscription: Subscription, data: str, message_id: str) -> None:
        """PutRecord to a subscribed stream, the SNS message id as partition key."""
        arn = Arn.parse(subscription.endpoint)
        name = arn.named("kinesis", "stream") if arn is not None else None
        stream = (
            self._targets.find_stream(name)
            if arn is not None and name is not None and arn.is_in(self._region, self._account)
            else None
        )
        if stream is None:
            raise AwsError("ResourceNotFoundException", f"Stream {name} does not exist.")
        stream.put_record(data, message_id)

    def _to_queue(
        self,
        queue: Queue,
        body: str,
        attributes: dict[str, dict[str, Any]],
        message_id: str,
        group_id: str | None,
    ) -> None:
        """SendMessage to a subscribed (or dead-letter) queue: a FIFO queue gets the message's group
        and the SNS message id as deduplication id; a standard queue gets the group id, if any,
        for fairness. SendMessage's checks and store step, not ``Queue.send``: the queue's
        NumberOfMessagesSent counts a subscription's deliveries from the subscription's own
        count (rulebus.metrics), and SNS's dead-letter moves not at all."""
        message = queue.prepare_message(
            body,
            message_attributes=attributes or None,
            message_group_id=group_id,
            message_deduplication_id=message_id if queue.name.endswith(".fifo") else None,
        )
        try:
            # The queue's own store: a Queue object subscribed may be another broker's.
            queue.context.store.queues.put_messages(queue.name, [message])
        except NotFound:
            raise queue_does_not_exist() from None

    def queue_for(self, target: Queue | str) -> Queue:
        """The queue a subscription (or its dead-letter queue) names: a Queue, or a queue ARN of
        this broker's region and account."""
        if isinstance(target, Queue):
            return target
        arn = Arn.parse(target)
        name = arn.named("sqs") if arn is not None else None
        if arn is None or name is None or not arn.is_in(self._region, self._account):
            raise AwsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
        return self._targets.queue(name)


def _reason(error: Exception) -> str:
    """An error as a log line names it: AWS's code and message, or the exception's."""
    if isinstance(error, AwsError):
        return f"{error.code}: {error.message}"
    return f"{type(error).__name__}: {error}"


def _route_index(delivery: Delivery) -> int:
    return delivery.route.index
